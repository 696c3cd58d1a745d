/**
 * GATHER: processors exchange JOINs until they agree on who forms the next
 * ring (TOTEM.md §3.3): the join rules grow the proc and failed sets, the
 * consensus set records who agrees with mine, and the lowest processor of an
 * agreed set creates the commit token (commit.ts).
 */
import { MessageType, ringIdEqual, type CommitToken, type Join, type Mcast, type Message } from '../wire/messages.ts';
import { createCommitToken } from './commit.ts';
import { GatherReason, gatherReasonText } from './gather-reason.ts';
import { setEqual, setHas, setMinus, setSubset, setUnion } from './node-set.ts';
import { toAll } from './ready.ts';
import { receiveMcast } from './receive.ts';
import type { ProcessorState } from './state.ts';
import { Timer } from './timers.ts';

export function enterGather(s: ProcessorState, reason: GatherReason): void {
  s.procList = setUnion(s.procList, [s.me]);
  s.become('gather', stepGather, onGatherTimeout);
  s.settling = false;
  s.deferred = [];
  s.originatedOrfToken = false;
  s.consensus = new Set([s.me]);
  s.timers.arm(Timer.Join, s.now + s.config.joinMs);
  s.timers.arm(Timer.Consensus, s.now + s.config.consensusMs + consensusBackoffMs(s));
  s.timers.cancel(Timer.TokenLoss);
  s.timers.cancel(Timer.TokenRetransmit);
  s.timers.cancel(Timer.MergeDetect);
  s.timers.cancel(Timer.TokenHold);
  s.stats.gatherEntered++;
  s.log(`entering GATHER state from ${gatherReasonText(reason)}.`);
  sendJoin(s);
  // DEVIATION (evs4j): my own JOIN is processed here, not when its loopback
  // copy arrives, so a lone processor forms its ring without the network.
  // At start-up it is processed one join period later instead, so that a
  // processor whose peers are running goes straight into their ring (their
  // joins answer mine within that period) rather than through a singleton.
  if (reason !== GatherReason.InterfaceChange) checkConsensus(s);
}

/**
 * DEVIATION (neither): the consensus timeout runs a random 0..consensus/4
 * longer at each GATHER entry. Processors that entered GATHER on the same
 * JOIN otherwise time out in the same millisecond, each declares failed
 * whoever it has not heard agree yet, and the round splits the same way
 * again (restart storms, docs/DEVIATIONS.md); with the back-off the first to
 * time out sends its new view before the others give up on theirs.
 */
function consensusBackoffMs(s: ProcessorState): number {
  return Math.floor(s.random() * (s.config.consensusMs / 4));
}

function stepGather(s: ProcessorState, message: Message): void {
  switch (message.type) {
    case MessageType.OrfToken: break; // orf_token_discard
    case MessageType.Mcast: onMcast(s, message); break;
    case MessageType.Join: joinProcess(s, message); break;
    case MessageType.CommitToken: onCommitToken(s, message); break;
    case MessageType.MergeDetect: foreignSender(s, message.sender, GatherReason.MergeDuringGather); break;
    case MessageType.TokenHoldCancel: break;
  }
}

function onGatherTimeout(s: ProcessorState, timer: Timer): void {
  switch (timer) {
    case Timer.TokenLoss:
      // consensus was agreed but no commit token came: start over.
      if (consensusTimeoutExpired(s)) s.enterGather(GatherReason.ConsensusTimeoutExpired);
      break;
    case Timer.TokenRetransmit: break;
    case Timer.TokenHold: break;
    case Timer.Join:
      sendJoin(s);
      s.timers.arm(Timer.Join, s.now + s.config.joinMs);
      checkConsensus(s);
      break;
    case Timer.Consensus: consensusTimeoutExpired(s); break;
    case Timer.MergeDetect: break;
  }
}

function onMcast(s: ProcessorState, message: Mcast): void {
  if (!ringIdEqual(message.ringId, s.myRingId)) {
    foreignSender(s, message.sender, GatherReason.ForeignMessageGather);
    return;
  }
  // DEVIATION (robustness): only originals of my (old) ring belong to GATHER;
  // a recovery copy is dropped.
  if (message.inner !== null) {
    s.stats.mcastsDropped++;
    return;
  }
  receiveMcast(s, s.regular, message);
}

/** A message of another ring proves that ring exists: merge a sender I did not know. */
function foreignSender(s: ProcessorState, sender: number, reason: GatherReason): void {
  if (setHas(s.procList, sender)) {
    s.stats.foreignDropped++;
    return;
  }
  s.procList = setUnion(s.procList, [sender]);
  s.enterGather(reason);
}

function onCommitToken(s: ProcessorState, token: CommitToken): void {
  const candidates = setMinus(s.procList, s.failedList);
  if (!setEqual(token.members, candidates) || token.ringId.seq <= s.myRingId.seq) return;
  // DEVIATION (robustness): accept only when it is my turn on the first pass.
  const myIndex = token.members.indexOf(s.me);
  if ((token.memberIndex + 1) % token.members.length !== myIndex) return;
  s.enterCommit(token);
}

function sendJoin(s: ProcessorState): void {
  const join: Join = {
    type: MessageType.Join, sender: s.me, leave: false, ringSeq: s.myRingId.seq,
    procList: s.procList, failedList: s.failedList,
  };
  s.send(toAll, join);
}

function consensusAgreed(s: ProcessorState): boolean {
  const candidates = setMinus(s.procList, s.failedList);
  return candidates.every((id) => s.consensus.has(id));
}

function lowestInConfig(s: ProcessorState): boolean {
  const candidates = setMinus(s.procList, s.failedList);
  return candidates[0] === s.me;
}

/** join rule 1's second half: agreed and I am the lowest → create the commit token. */
function checkConsensus(s: ProcessorState): void {
  if (s.memb !== 'gather' || !consensusAgreed(s)) return;
  if (s.failedToRecv) {
    formSingletonAfterFailedToReceive(s);
    return;
  }
  if (lowestInConfig(s)) s.enterCommit(createCommitToken(s));
}

/** corosync: the processor that could not receive forms a ring of its own. */
function formSingletonAfterFailedToReceive(s: ProcessorState): void {
  s.failedToRecv = false;
  s.procList = [s.me];
  s.failedList = [];
  s.enterCommit(createCommitToken(s));
}

/**
 * corosync `memb_state_consensus_timeout_expired`. Returns true when
 * consensus had been agreed (the caller decides whether to re-gather).
 */
function consensusTimeoutExpired(s: ProcessorState): boolean {
  if (consensusAgreed(s)) {
    if (s.failedToRecv) {
      formSingletonAfterFailedToReceive(s);
      return false;
    }
    s.consensus = new Set([s.me]);
    s.timers.arm(Timer.TokenLoss, s.now + s.config.tokenMs);
    return true;
  }
  const silent = s.procList.filter((id) => !s.consensus.has(id));
  s.failedList = setUnion(s.failedList, silent);
  s.log(`consensus timeout: proc=[${s.procList.join(',')}] agreed=[${[...s.consensus].sort((a, b) => a - b).join(',')}] failed=[${s.failedList.join(',')}]`);
  s.enterGather(GatherReason.ConsensusTimeout);
  return false;
}

/**
 * A rule for every state: a JOIN that names me failed but carries a ring seq
 * below my ring's, or below one its sender has already shown me, is dropped.
 *
 * DEVIATION (extends corosync's OPERATIONAL filter to GATHER): such a JOIN
 * was sent before its sender saw my latest ring: a delayed verdict from an
 * earlier round. Acting on it (mutual exclusion) poisons the round in
 * progress; the swarm found processors excluding each other this way round
 * after round. If the sender still thinks me failed, its fresh JOINs say so,
 * and my consensus timeout settles it. Every JOIN, dropped or not, updates
 * whether its sender currently names me failed (`excludedBy`).
 */
export function isStaleExclusion(s: ProcessorState, join: Join): boolean {
  const seen = s.ringSeqSeen.get(join.sender) ?? 0;
  s.noteRingSeq(join.sender, join.ringSeq);
  if (!setHas(join.failedList, s.me)) {
    s.excludedBy.delete(join.sender);
    return false;
  }
  s.excludedBy.add(join.sender);
  if (join.ringSeq >= Math.max(s.myRingId.seq, seen)) return false;
  s.stats.staleDropped++;
  return true;
}

/**
 * The failures a JOIN's sender knows that I take over (join rule 4): all of
 * them from an old ring-mate (corosync); from a processor that agreed with my
 * view in this round, those of processors that have not agreed with me; and
 * from anyone else those of processors whose latest JOIN names me failed.
 *
 * DEVIATION (corosync adopts only from old ring-mates): without the third
 * part, a processor whose view is mine plus failures learned in another ring
 * never agrees with me: its JOIN is a superset I do not take, mine a subset
 * it waits for me to outgrow. After a heal under loss, groups with staggered
 * consensus timeouts then formed apart round after round (swarm seed 361:
 * three pairs, 15.5 s to converge; 267: 3.2 s; 198: 28 processors, 17.9 s).
 * The third part adopts only what I could not contradict: a processor that
 * names me failed cannot agree with me this round anyway. Adopting every
 * failure (the paper's rule) converged those seeds too, but spread one
 * processor's feud with four others to the whole cluster (seed 263: 26
 * processors at 50% loss split along that line, round after round).
 *
 * DEVIATION (neither; the second part): a consensus partner's new failures
 * are the verdict of its consensus timeout on processors that kept me from
 * agreement too, the verdict my own timeout would reach. Without it the
 * partners, whose timeouts the back-off and their different GATHER entries
 * spread over more than a second, each waited for the others' timeouts, and
 * meanwhile the first to time out left their agreement, so the next one
 * failed it as well: the round fell apart into singletons that merged again
 * a few at a time (swarm seed 1018581: 19 processors on a perfect network,
 * 42.9 s to converge; now 4.2 s). A failure of a processor that has agreed
 * with me is not taken (a feud between two of my partners stays theirs).
 */
function adoptedFailures(s: ProcessorState, join: Join): readonly number[] {
  if (setHas(s.memberList, join.sender)) return join.failedList;
  const partner = s.consensus.has(join.sender);
  return join.failedList.filter((id) => s.excludedBy.has(id) || (partner && !s.consensus.has(id)));
}

/**
 * corosync `memb_join_process`: the join rules of TOTEM.md §3.3. Returns
 * whether it entered GATHER (OPERATIONAL enters it in any case).
 */
export function joinProcess(s: ProcessorState, join: Join): boolean {
  const sender = join.sender;
  if (setEqual(join.procList, s.procList) && setEqual(join.failedList, s.failedList)) {
    if (!join.leave) s.consensus.add(sender);
    checkConsensus(s);
    return false;
  }
  // the sender is behind; it will catch up from my joins
  if (setSubset(join.procList, s.procList) && setSubset(join.failedList, s.failedList)) return false;
  // a processor I consider failed does not change my view
  if (setHas(s.failedList, sender)) return false;
  const procList = setUnion(s.procList, join.procList);
  let failedList = s.failedList;
  if (setHas(join.failedList, s.me)) {
    // it thinks I am dead: I treat it as dead (mutual exclusion)
    failedList = setUnion(failedList, [sender]);
  } else {
    failedList = setUnion(failedList, adoptedFailures(s, join));
  }
  if (join.leave) failedList = setUnion(failedList, [sender]);
  if (join.leave) s.log(`Received LEAVE message from ${sender}`);
  // DEVIATION (paper): re-gather only when my sets grew. corosync re-enters
  // GATHER (and multicasts a JOIN) even when nothing changed, so two
  // processors whose failed lists differ and who do not adopt each
  // other's answer every join with a join: a storm without progress.
  if (setEqual(procList, s.procList) && setEqual(failedList, s.failedList)) return false;
  s.procList = procList;
  s.failedList = failedList;
  s.enterGather(GatherReason.MergeDuringJoin);
  return true;
}
