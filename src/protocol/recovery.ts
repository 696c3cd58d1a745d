/**
 * RECOVERY (TOTEM.md §5): the new ring runs its token, but what it orders
 * are encapsulated copies of the old rings' messages that some member of my
 * transitional set is missing. When every member holds every copy (the
 * install condition, checked on each token visit) the ring is installed
 * (install.ts).
 */
import { assert } from '../assert.ts';
import { MessageType, ringIdEqual, ringIdText, type CommitToken, type Mcast, type Message, type OrfToken } from '../wire/messages.ts';
import { joinBreaksFormation, restoreOldRingState } from './commit.ts';
import { GatherReason } from './gather-reason.ts';
import { setHas } from './node-set.ts';
import { receiveMcast } from './receive.ts';
import { seqAdd, seqDiff, seqLt, seqLte, seqMax, seqMin } from './seq.ts';
import { noRing, tokenSeqNone, type ProcessorState } from './state.ts';
import { Timer } from './timers.ts';
import { isNewToken, onTokenHoldCancel, visitToken, type VisitHooks } from './token-visit.ts';

/** the second pass of the commit token reaches me: every member's old ring is known. */
export function enterRecovery(s: ProcessorState, token: CommitToken): void {
  s.commitEntries = token.entries.map((e) => ({ ...e }));
  s.transMembers = token.members.filter((id, i) =>
    setHas(s.memberList, id) && ringIdEqual(token.entries[i]?.oldRingId ?? noRing, s.oldRingId));
  // DEVIATION (clarity): the deliver set is always the transitional set
  // (corosync refreshes it only when some member needed repair, §5.5).
  s.deliverMembers = s.transMembers;
  originateRecoveryMessages(s, token);
  const start = s.config.seqStart;
  s.recovery.reinit(start);
  s.myAru = start;
  s.highSeqReceived = start;
  s.installSeq = start;
  s.lastAru = start;
  s.aruCount = 0;
  s.seqUnchanged = 0;
  s.myTokenSeq = tokenSeqNone;
  s.olderVisitSeq = null;
  s.retransFlagCount = 0;
  s.rotationCounter = 0;
  s.setRetransFlag = false;
  s.originatedOrfToken = false;
  s.become('recovery', stepRecovery, onRecoveryTimeout);
  const forwarded: CommitToken = { ...token, sender: s.me, tokenSeq: (token.tokenSeq + 1) >>> 0 };
  s.commitTokenSeqSent = forwarded.tokenSeq;
  s.sendToken(s.nextMember(), forwarded);
  s.armTokenTimers();
  s.log(`entering RECOVERY state (ring ${ringIdText(s.myRingId)}, trans ${s.transMembers.join(' ')}).`);
}

function stepRecovery(s: ProcessorState, message: Message): void {
  switch (message.type) {
    case MessageType.OrfToken:
      if (isNewToken(s, message)) visitToken(s, message, recoveryVisit);
      break;
    case MessageType.Mcast: onMcast(s, message); break;
    case MessageType.Join:
      if (!joinBreaksFormation(s, message)) break;
      restoreOldRingState(s);
      s.enterGather(GatherReason.JoinDuringRecovery);
      if (s.memb === 'gather') s.step(s, message);
      break;
    case MessageType.CommitToken: onCommitToken(s, message); break;
    case MessageType.MergeDetect: s.stats.foreignDropped++; break;
    case MessageType.TokenHoldCancel: onTokenHoldCancel(s); break;
  }
}

function onRecoveryTimeout(s: ProcessorState, timer: Timer): void {
  switch (timer) {
    case Timer.TokenLoss:
      restoreOldRingState(s);
      s.enterGather(GatherReason.TokenLostRecovery);
      break;
    case Timer.TokenRetransmit: s.onTokenRetransmitTimeout(); break;
    case Timer.TokenHold: s.retransmitToken(); break;
    case Timer.Join: break;
    case Timer.Consensus: break;
    case Timer.MergeDetect: break;
  }
}

/** What the token visit does in RECOVERY: it orders the recovery copies. */
export const recoveryVisit: VisitHooks = {
  queue: (s) => s.recovery,
  pendingCancelsHold: () => false,
  release: () => {},
  backlog: (s) => s.retransQueue.length,
  next: nextRecoveryCopy,
  beforeForward: checkInstallCondition,
  // Spread's EVS state: recovery runs the classic visit
  acceleratedWindow: () => null,
};

function onMcast(s: ProcessorState, message: Mcast): void {
  if (!ringIdEqual(message.ringId, s.myRingId)) {
    s.stats.foreignDropped++;
    return;
  }
  // DEVIATION (robustness): only recovery copies belong to RECOVERY; a
  // new-ring original is dropped.
  if (message.inner === null) {
    s.stats.mcastsDropped++;
    return;
  }
  receiveMcast(s, s.recovery, message);
}

/** the end of the second pass comes back to the representative: start the ring's token. */
function onCommitToken(s: ProcessorState, token: CommitToken): void {
  if (!s.isRep() || s.originatedOrfToken || !ringIdEqual(token.ringId, s.myRingId)) return;
  // DEVIATION (robustness): a retransmitted end of the FIRST pass carries a
  // lower token seq than the one I forwarded; only the second pass may start the ring.
  if (seqLt(token.tokenSeq, s.commitTokenSeqSent)) return;
  s.originatedOrfToken = true;
  s.log('Sending initial ORF token');
  const initial: OrfToken = {
    type: MessageType.OrfToken, sender: s.me, ringId: s.myRingId,
    seq: s.config.seqStart, tokenSeq: 0, aru: seqAdd(s.config.seqStart, -1), aruAddr: s.me,
    backlog: 0, fcc: 0, retransFlag: true, rtrList: [],
  };
  s.setRetransFlag = true;
  s.sendToken(s.nextMember(), initial);
  s.armTokenTimers();
}

/**
 * queue encapsulated copies of the old messages above the lowest trans aru
 * that fall to me (`recoverySender`).
 */
function originateRecoveryMessages(s: ProcessorState, token: CommitToken): void {
  s.retransQueue = [];
  let low = s.oldRingStateHighSeqReceived;
  let highDelivered = s.config.seqStart;
  let needRepair = false;
  // the transitional members' arus in commit-token order: the same list at every one of them
  const arus: { id: number; aru: number }[] = [];
  token.members.forEach((id, i) => {
    const entry = token.entries[i];
    if (entry === undefined || !setHas(s.transMembers, id)) return;
    if (!entry.received) needRepair = true;
    low = seqMin(low, entry.aru);
    highDelivered = seqMax(highDelivered, entry.highDelivered);
    arus.push({ id, aru: entry.aru });
  });
  s.highRingDelivered = highDelivered;
  if (!needRepair) {
    s.log('Did not need to originate any messages in recovery.');
    return;
  }
  let held = 0;
  for (let seq = seqAdd(low, 1); seqLte(seq, s.oldRingStateHighSeqReceived); seq = seqAdd(seq, 1)) {
    const old = s.regular.get(seq);
    const sender = recoverySender(arus, low, seq);
    assert(old !== undefined || sender !== s.me, 'recovery: the member whose aru covers a seq holds it');
    if (old === undefined) continue;
    held++;
    if (sender !== null && sender !== s.me) continue;
    s.retransQueue.push({
      type: MessageType.Mcast, sender: s.me, ringId: s.myRingId, seq: 0,
      guarantee: old.guarantee, payload: new Uint8Array(0), inner: old,
    });
  }
  s.log(`Originated ${s.retransQueue.length} messages in RECOVERY (from ${seqAdd(low, 1)} to ${s.oldRingStateHighSeqReceived}, holding ${held}).`);
}

/**
 * Who re-sends old seq `seq` in RECOVERY: one of the transitional members
 * whose commit-token aru covers it, taken in turn (round robin by the seq's
 * distance from the lowest aru); null when it is above every member's aru
 * (then each member that holds it re-sends it: nobody knows who does).
 *
 * DEVIATION (neither): the paper and corosync have every member re-send
 * every message above the lowest aru that it holds. With one member far
 * behind that is n copies of each, through a RECOVERY ring whose members may
 * each send `maxMessages` per visit: the swarm saw 10 members re-send 1,244
 * messages 10 times over, 415 rotations, 7.6 s, while the rest of the cluster
 * waited to merge. A member whose aru is at or above `seq` holds it (a seq
 * above the lowest trans aru was never released: release needs every old-ring
 * member's aru past it), every member computes the same list from the same
 * commit token, and a copy lost in RECOVERY is a new-ring seq that the
 * retransmit list repairs; so one copy each suffices, and spreading them in
 * turn keeps every member's share of the visits.
 */
export function recoverySender(arus: readonly { id: number; aru: number }[], low: number, seq: number): number | null {
  const holders = arus.filter((a) => seqLte(seq, a.aru));
  if (holders.length === 0) return null;
  return (holders[(seqDiff(seq, low) - 1) % holders.length] as { id: number }).id;
}

function nextRecoveryCopy(s: ProcessorState, token: OrfToken): Mcast | null {
  const copy = s.retransQueue.shift();
  if (copy === undefined) return null;
  token.seq = seqAdd(token.seq, 1);
  return { ...copy, seq: token.seq, ringId: s.myRingId };
}

/**
 * corosync's install condition, on every RECOVERY token visit (TOTEM.md
 * §5.2): the retrans flag stays clear for a rotation, then two more
 * rotations show every member's aru at or past the install seq.
 */
function checkInstallCondition(s: ProcessorState, token: OrfToken): void {
  if (s.retransQueue.length > 0) {
    if (!token.retransFlag) {
      token.retransFlag = true;
      s.setRetransFlag = true;
    }
  } else if (token.retransFlag && s.setRetransFlag) {
    token.retransFlag = false;
    s.setRetransFlag = false;
  }
  s.retransFlagCount = token.retransFlag ? 0 : s.retransFlagCount + 1;
  if (s.retransFlagCount === 2) s.installSeq = token.seq;
  const allHold = s.retransFlagCount >= 3 && seqLte(s.installSeq, token.aru);
  s.rotationCounter = allHold ? s.rotationCounter + 1 : 0;
  // after installation the visit's delivery step has nothing left: the
  // install delivered up to my aru, which is my highest seq received
  if (s.rotationCounter === 2) s.enterOperational();
}
