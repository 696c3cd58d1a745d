/**
 * OPERATIONAL: the ring is installed. Multicasts of my ring are delivered in
 * agreed (or safe) order; a message, MERGE_DETECT or JOIN from outside the
 * ring starts a membership round; the token visit (token-visit.ts) sends from
 * the application's source. Right after installation, triggers from outside
 * wait for my next token visit ("settling").
 */
import { Guarantee, MessageType, ringIdEqual, type Join, type Mcast, type MergeDetect, type Message, type OrfToken, type RingId } from '../wire/messages.ts';
import { deferredMessagesMax } from '../limits.ts';
import { GatherReason } from './gather-reason.ts';
import { joinProcess } from './gather.ts';
import { setHas, setUnion } from './node-set.ts';
import { toAll } from './ready.ts';
import { receiveMcast } from './receive.ts';
import { seqAdd, seqLt, seqMin } from './seq.ts';
import { tokenSeqNone, type ProcessorState } from './state.ts';
import { Timer } from './timers.ts';
import { isNewToken, onTokenHoldCancel, visitToken, type VisitHooks } from './token-visit.ts';

export function stepOperational(s: ProcessorState, message: Message): void {
  switch (message.type) {
    case MessageType.OrfToken:
      if (isNewToken(s, message) && !endSettling(s)) visitToken(s, message, operationalVisit);
      break;
    case MessageType.Mcast: onMcast(s, message); break;
    case MessageType.Join: onJoin(s, message); break;
    case MessageType.CommitToken: break;
    case MessageType.MergeDetect: onMergeDetect(s, message); break;
    case MessageType.TokenHoldCancel: onTokenHoldCancel(s); break;
  }
}

export function onOperationalTimeout(s: ProcessorState, timer: Timer): void {
  switch (timer) {
    case Timer.TokenLoss:
      s.log(`A processor failed, forming new configuration: token timed out (${s.config.tokenMs}ms).`);
      s.enterGather(GatherReason.TokenLostOperational);
      break;
    case Timer.TokenRetransmit: s.onTokenRetransmitTimeout(); break;
    case Timer.TokenHold: s.retransmitToken(); break;
    case Timer.Join: break;
    case Timer.Consensus: break;
    case Timer.MergeDetect: {
      if (!s.isRep()) break;
      const merge: MergeDetect = { type: MessageType.MergeDetect, sender: s.me, ringId: s.myRingId };
      s.send(toAll, merge);
      break;
    }
  }
}

/** What the token visit does in OPERATIONAL. */
export const operationalVisit: VisitHooks = {
  queue: (s) => s.regular,
  pendingCancelsHold: (s) => s.source.backlog() > 0,
  release: releaseMessages,
  backlog: (s) => s.source.backlog(),
  next: nextFromSource,
  beforeForward: (s) => deliverOperational(s),
  acceleratedWindow: (s) => (s.config.ordering === 'accelerated' ? s.config.acceleratedWindow : null),
};

function onMcast(s: ProcessorState, message: Mcast): void {
  if (!ringIdEqual(message.ringId, s.myRingId)) {
    if (isStaleForeign(s, message.sender, message.ringId) || deferWhileSettling(s, message)) return;
    s.procList = setUnion(s.procList, [message.sender]);
    s.enterGather(GatherReason.ForeignMessageOperational);
    return;
  }
  // DEVIATION (robustness): a recovery copy (it encapsulates an old-ring
  // message) belongs to RECOVERY; here it is dropped.
  if (message.inner !== null) {
    s.stats.mcastsDropped++;
    return;
  }
  const tokenAlive = numberedSinceMyVisit(s, message);
  if (receiveMcast(s, s.regular, message)) {
    if (tokenAlive) s.timers.arm(Timer.TokenLoss, s.now + s.config.tokenMs);
    deliverOperational(s);
  }
}

/**
 * DEVIATION (neither): a message numbered after my last visit, and above
 * every seq I had seen, restarts my token-loss timer. Only the token's holder
 * numbers messages, so it proves the token went past me and is alive; a lost
 * token numbers nothing more, so detection is late by at most the time since
 * the last new message. corosync restarts the timer only on the token: at
 * 30% loss a rotation with its token retransmissions took 140 ms of the
 * 200 ms timeout, and five lost copies on the last hop (0.3^5, common over
 * thousands of hops) lost the ring (swarm profile loss30 seed 4: 83% of the
 * time in one ring, 100% with this rule).
 */
function numberedSinceMyVisit(s: ProcessorState, message: Mcast): boolean {
  return s.myTokenSeq !== tokenSeqNone && seqLt(s.myVisitSeq, message.seq) && seqLt(s.highSeqReceived, message.seq);
}

function onJoin(s: ProcessorState, join: Join): void {
  if (ignoreJoinUnderOperational(s, join) || deferWhileSettling(s, join)) return;
  if (!joinProcess(s, join)) s.enterGather(GatherReason.JoinDuringOperational);
}

function onMergeDetect(s: ProcessorState, merge: MergeDetect): void {
  if (isStaleForeign(s, merge.sender, merge.ringId) || deferWhileSettling(s, merge)) return;
  s.procList = setUnion(s.procList, [merge.sender]);
  s.enterGather(GatherReason.MergeDuringOperational);
}

/** the paper's stale-join filter (corosync commit cfbb021e). */
function ignoreJoinUnderOperational(s: ProcessorState, join: Join): boolean {
  if (setHas(join.failedList, s.me)) return true;
  return setHas(s.memberList, join.sender) && join.ringSeq < s.myRingId.seq;
}

/**
 * DEVIATION (paper, TOTEM.md §3.5): a message of an older ring from a
 * processor that is a member of my current ring is a late datagram, not a
 * partition to merge; corosync starts a membership round for it.
 */
function isStaleForeign(s: ProcessorState, sender: number, ringId: RingId): boolean {
  if (!setHas(s.memberList, sender)) return false;
  if (ringId.seq >= s.myRingId.seq) return false;
  s.stats.staleDropped++;
  return true;
}

/**
 * DEVIATION (neither): installation is not atomic: I install on my token
 * visit, members after me on theirs. A JOIN or foreign message that sends me
 * back to GATHER before the token has gone round again reaches the members
 * still in RECOVERY, which then abandon the ring the rest of us installed;
 * with busy neighbouring partitions this repeats round after round (the
 * swarm found 15 processors needing > 10 s to merge). So in OPERATIONAL,
 * until my next token visit, such triggers from outside the ring are kept
 * and replayed at that visit, when every member has installed. A JOIN from
 * a member, or a lost token, ends the wait.
 */
function deferWhileSettling(s: ProcessorState, message: Join | MergeDetect | Mcast): boolean {
  if (!s.settling) return false;
  // a member of my ring that gathers has broken the ring already: no use waiting
  if (message.type === MessageType.Join && setHas(s.memberList, message.sender)) return false;
  if (s.deferred.length < deferredMessagesMax) s.deferred.push(message);
  return true;
}

/** at my first token visit after installing: replay what waited; true if it left OPERATIONAL. */
function endSettling(s: ProcessorState): boolean {
  if (!s.settling) return false;
  s.settling = false;
  const deferred = s.deferred;
  s.deferred = [];
  for (const message of deferred) {
    s.replay(message);
    if (s.memb !== 'operational') return true;
  }
  return false;
}

/** agreed order: in seq order, stop at a hole; a safe message also waits for the safe point. */
export function deliverOperational(s: ProcessorState): void {
  while (seqLt(s.highDelivered, s.highSeqReceived)) {
    const seq = seqAdd(s.highDelivered, 1);
    const message = s.regular.get(seq);
    if (message === undefined) return;
    if (message.guarantee === Guarantee.Safe && seqLt(s.safePoint, seq)) return;
    s.highDelivered = seq;
    s.deliver(message);
  }
}

/** free every seq that two successive visits show all members hold (§4.6). */
function releaseMessages(s: ProcessorState, tokenAru: number): void {
  const releaseTo = seqMin(seqMin(tokenAru, s.lastAru), s.highDelivered);
  if (seqLt(s.regular.releasedSeq, releaseTo)) s.regular.release(releaseTo);
}

function nextFromSource(s: ProcessorState, token: OrfToken): Mcast | null {
  const outgoing = s.source.next();
  if (outgoing === null) return null;
  token.seq = seqAdd(token.seq, 1);
  return {
    type: MessageType.Mcast, sender: s.me, ringId: s.myRingId, seq: token.seq,
    guarantee: outgoing.guarantee, payload: outgoing.payload, inner: null,
  };
}
