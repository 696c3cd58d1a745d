/**
 * COMMIT: the commit token makes two passes round the members of the new
 * ring (TOTEM.md §3.4). On the first each member writes its old ring, aru
 * and high delivered into its slot and enters COMMIT; on the second each
 * learns every slot and enters RECOVERY (recovery.ts). The old ring's aru and
 * high seq are saved on entry and restored if this attempt fails, so the
 * next attempt starts from the old ring's state.
 */
import { assert } from '../assert.ts';
import { MessageType, ringIdEqual, ringIdText, type CommitEntry, type CommitToken, type Join, type Message } from '../wire/messages.ts';
import { GatherReason } from './gather-reason.ts';
import { setEqual, setHas, setMinus } from './node-set.ts';
import { seqLt, seqMax } from './seq.ts';
import { noRing, type ProcessorState } from './state.ts';
import { Timer } from './timers.ts';

/** corosync raises the ring seq by 4 for each new ring (totemsrp.c `memb_state_commit_token_create`). */
const ringSeqStep = 4;

/** GATHER's lowest agreed processor starts the first pass. */
export function createCommitToken(s: ProcessorState): CommitToken {
  const members = setMinus(s.procList, s.failedList);
  assert(members[0] === s.me, 'only the lowest processor creates the commit token');
  s.log('Creating commit token because I am the rep.');
  return {
    type: MessageType.CommitToken, sender: s.me,
    ringId: { rep: s.me, seq: s.tokenRingIdSeq + ringSeqStep },
    tokenSeq: 0, memberIndex: members.length - 1, members,
    entries: members.map(() => ({ oldRingId: noRing, aru: 0, highDelivered: 0, received: false })),
  };
}

/** the first pass reaches me: fill my slot, adopt the new ring id, pass it on. */
export function enterCommit(s: ProcessorState, received: CommitToken): void {
  saveOldRingState(s);
  const n = received.members.length;
  const index = (received.memberIndex + 1) % n;
  assert(received.members[index] === s.me, 'commit token: my slot is next');
  const entries = received.entries.map((e) => ({ ...e }));
  entries[index] = {
    oldRingId: s.oldRingId, aru: s.oldRingStateAru, highDelivered: s.highDelivered,
    received: s.myAru === s.highSeqReceived,
  };
  markLaggingEntries(entries, index);
  const token: CommitToken = {
    ...received, sender: s.me, tokenSeq: (received.tokenSeq + 1) >>> 0, memberIndex: index, entries,
  };
  s.newMembers = [...received.members];
  s.myRingId = received.ringId;
  s.tokenRingIdSeq = received.ringId.seq;
  s.out.persistRingSeq = received.ringId.seq;
  s.trc = 0;
  s.pbl = 0;
  s.cbl = 0;
  s.window = s.config.windowSize;
  s.backoffSeq = s.config.seqStart;
  s.become('commit', stepCommit, onCommitTimeout);
  s.timers.cancel(Timer.Join);
  s.timers.cancel(Timer.Consensus);
  s.armTokenTimers();
  s.sendToken(token.members[(index + 1) % n] ?? s.me, token);
  s.stats.commitEntered++;
  s.log(`entering COMMIT state (ring ${ringIdText(s.myRingId)}).`);
}

function stepCommit(s: ProcessorState, message: Message): void {
  switch (message.type) {
    case MessageType.OrfToken: break; // orf_token_discard
    case MessageType.Mcast:
      // a message of another ring is ignored; one of mine cannot be ordered yet
      if (ringIdEqual(message.ringId, s.myRingId)) s.stats.mcastsDropped++;
      else s.stats.foreignDropped++;
      break;
    case MessageType.Join:
      if (!joinBreaksFormation(s, message) && !joinRejectsFormation(s, message)) break;
      s.enterGather(GatherReason.JoinDuringCommit);
      if (s.memb === 'gather') s.step(s, message);
      break;
    case MessageType.CommitToken: {
      // the second pass: every slot is filled
      const last = message.members.length - 1;
      if (ringIdEqual(message.ringId, s.myRingId) && message.memberIndex === last) s.enterRecovery(message);
      break;
    }
    case MessageType.MergeDetect: s.stats.foreignDropped++; break;
    case MessageType.TokenHoldCancel: break;
  }
}

function onCommitTimeout(s: ProcessorState, timer: Timer): void {
  switch (timer) {
    case Timer.TokenLoss: s.enterGather(GatherReason.TokenLostCommit); break;
    case Timer.TokenRetransmit: s.onTokenRetransmitTimeout(); break;
    case Timer.TokenHold: break;
    case Timer.Join: break;
    case Timer.Consensus: break;
    case Timer.MergeDetect: break;
  }
}

/**
 * COMMIT and RECOVERY: a JOIN from a member of the ring being formed, for a
 * ring at least as new, means that member has given up on it. DEVIATION
 * (order): corosync runs the join rules first and then re-enters GATHER; we
 * re-enter first so the rules run in GATHER (the caller steps the JOIN again).
 */
export function joinBreaksFormation(s: ProcessorState, join: Join): boolean {
  return setHas(s.newMembers, join.sender) && join.ringSeq >= s.myRingId.seq;
}

/**
 * COMMIT: a JOIN from a member of the ring being formed that has not taken
 * the commit token yet (its ring seq is below the new ring's) and whose
 * candidate set is not the ring's members will refuse the commit token when
 * it comes (gather.ts accepts only a token naming exactly its candidates):
 * this attempt cannot succeed.
 *
 * DEVIATION (neither): corosync ignores such a JOIN and waits out the token
 * timeout in COMMIT, silent; meanwhile the processors in GATHER time out on
 * consensus and declare the silent ones failed. Giving up at once is the
 * same outcome a token timeout earlier (restart storms: processors that
 * excluded each other round after round; docs/DEVIATIONS.md).
 */
export function joinRejectsFormation(s: ProcessorState, join: Join): boolean {
  if (join.leave || !setHas(s.newMembers, join.sender) || join.ringSeq >= s.myRingId.seq) return false;
  return !setEqual(setMinus(join.procList, join.failedList), s.newMembers);
}

function saveOldRingState(s: ProcessorState): void {
  if (s.oldRingStateSaved) return;
  s.oldRingStateSaved = true;
  s.oldRingStateAru = s.myAru;
  s.oldRingStateHighSeqReceived = s.highSeqReceived;
}

/** a failed recovery attempt: the next attempt starts from the old ring's state. */
export function restoreOldRingState(s: ProcessorState): void {
  if (!s.oldRingStateSaved) return;
  s.myRingId = { rep: 0, seq: s.myRingId.seq };
  s.myAru = s.oldRingStateAru;
  s.highSeqReceived = s.oldRingStateHighSeqReceived;
  s.log(`Restoring aru ${s.myAru} high seq received ${s.highSeqReceived}`);
}

/**
 * corosync's received-flag rule on the commit token: an entry whose aru is
 * below that of an earlier-or-equal entry from the same old ring needs repair.
 */
function markLaggingEntries(entries: CommitEntry[], index: number): void {
  const mine = entries[index];
  assert(mine !== undefined, 'commit entry exists');
  let highAru = mine.aru;
  for (let i = 0; i <= index; i++) {
    const entry = entries[i];
    if (entry !== undefined && ringIdEqual(entry.oldRingId, mine.oldRingId)) highAru = seqMax(highAru, entry.aru);
  }
  for (let i = 0; i <= index; i++) {
    const entry = entries[i];
    if (entry !== undefined && ringIdEqual(entry.oldRingId, mine.oldRingId) && seqLt(entry.aru, highAru)) {
      entries[i] = { ...entry, received: false };
    }
  }
}
