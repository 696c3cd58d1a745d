/**
 * The ORF token visit (TOTEM.md §4.2), shared by OPERATIONAL and RECOVERY:
 * idle-ring bookkeeping and the hold decision, flow control, the retransmit
 * list, multicasting new messages, the aru rule and fail-to-receive, then
 * forwarding. Where the two states differ, the visit calls a hook of
 * `VisitHooks` (operational.ts `operationalVisit`, recovery.ts
 * `recoveryVisit`); everything else here is the same for both.
 *
 * Accelerated Ring (Spread 4.4; `config.ordering === 'accelerated'`, in
 * OPERATIONAL only, see `VisitHooks.acceleratedWindow`): every new message is
 * numbered and stored as in the classic visit, but the last
 * `acceleratedWindow` of them go on the wire right after the token instead
 * of before it, and the seqs I request stop at the seq of the token I
 * forwarded on my previous visit (later ones may still be on their way from
 * a holder that sent them after its token). Retransmissions are never held
 * back. docs/DEVIATIONS.md says what this changes for safe delivery and
 * recovery.
 *
 * This is the hot path: it allocates nothing per visit beyond the retransmit
 * list it forwards and the `lastToken` record.
 */
import { rtrEntriesMax } from '../limits.ts';
import { ringIdEqual, type Mcast, type OrfToken, type RtrItem } from '../wire/messages.ts';
import { GatherReason } from './gather-reason.ts';
import { setUnion } from './node-set.ts';
import { toAll } from './ready.ts';
import { seqAdd, seqDiff, seqLt, seqLte, seqMin } from './seq.ts';
import type { SortQueue } from './sort-queue.ts';
import { updateAru } from './receive.ts';
import type { ProcessorState } from './state.ts';
import { Timer } from './timers.ts';
import { checkRtrList, checkVisitSends } from './invariants.ts';
import { tokenSeqNone } from './state.ts';

/** What OPERATIONAL and RECOVERY do differently on a token visit. */
export interface VisitHooks {
  /** the sort queue this state orders into: the regular one, or the recovery one. */
  queue(s: ProcessorState): SortQueue<Mcast>;
  /** whether pending data keeps the token moving (OPERATIONAL: the source's backlog). */
  pendingCancelsHold(s: ProcessorState): boolean;
  /** free the seqs every member holds (OPERATIONAL; old-ring messages wait for the install). */
  release(s: ProcessorState, tokenAru: number): void;
  /** my backlog for flow control. */
  backlog(s: ProcessorState): number;
  /** the next message to order, its seq taken from the token; null when none. */
  next(s: ProcessorState, token: OrfToken): Mcast | null;
  /**
   * after the aru rule, before the token leaves: deliver (OPERATIONAL) or
   * check the install condition (RECOVERY). Delivering before the send is
   * the same as after it: sends and events are separate lists of the Ready.
   */
  beforeForward(s: ProcessorState, token: OrfToken): void;
  /**
   * Accelerated Ring: how many of the visit's new messages wait until right
   * after the token; null runs the classic visit (RECOVERY always does).
   */
  acceleratedWindow(s: ProcessorState): number | null;
}

/**
 * A token of my ring that is newer than my last visit. An older one is a
 * retransmission: my predecessor is alive, so the token-loss timer restarts.
 */
export function isNewToken(s: ProcessorState, token: OrfToken): boolean {
  if (!ringIdEqual(token.ringId, s.myRingId)) return false;
  if (seqLte(token.tokenSeq, s.myTokenSeq)) {
    s.stats.tokenDuplicates++;
    s.timers.arm(Timer.TokenLoss, s.now + s.config.tokenMs);
    return false;
  }
  return true;
}

/**
 * One visit, in order: idle bookkeeping (hold or forward), release, the safe
 * point, flow control's allowance, serve and extend the retransmit list,
 * multicast new messages, update the token's flow-control fields, the aru
 * rule (or FAILED TO RECEIVE), then the state's hook and the token goes on.
 */
export function visitToken(s: ProcessorState, token: OrfToken, hooks: VisitHooks): void {
  const queue = hooks.queue(s);
  const accelerated = hooks.acceleratedWindow(s);
  const firstSend = s.out.sends.length;
  const receivedSeq = token.seq;
  const forward = idleBookkeeping(s, token, hooks);
  hooks.release(s, token.aru);
  const previousAru = s.lastAru;
  s.lastAru = token.aru;
  s.safePoint = seqMin(token.aru, previousAru);
  adaptWindow(s, token);
  let allowed = fccCalculate(s, token, hooks);
  const sentRetransmits = serveAndExtendRtrList(s, token, queue, allowed, requestLimit(s, token, accelerated));
  allowed = fccRtrLimit(s, token, queue, allowed - sentRetransmits);
  const sentNew = multicastPending(s, token, queue, hooks, allowed);
  fccTokenUpdate(s, token, sentRetransmits + sentNew);
  maintainAru(s, token, previousAru);
  if (s.aruCount > s.config.failRecvConst && token.aruAddr === s.me) {
    // the visit's new messages are all still in out.sends: they go, as in the classic visit
    failedToReceive(s);
    return;
  }
  s.olderVisitSeq = s.myTokenSeq === tokenSeqNone ? null : s.myVisitSeq;
  s.myTokenSeq = token.tokenSeq;
  s.myVisitSeq = token.seq;
  token.tokenSeq = (token.tokenSeq + 1) >>> 0;
  hooks.beforeForward(s, token);
  token.sender = s.me;
  s.lastToken = { to: s.nextMember(), message: token };
  // Accelerated: the token goes in before the last `held` new messages; the
  // representative that holds an idle token still sends them now.
  const held = accelerated === null ? 0 : Math.min(sentNew, accelerated);
  if (forward) s.out.sends.splice(s.out.sends.length - held, 0, { to: s.lastToken.to, message: token });
  if (s.verify) {
    checkVisitSends(s, s.out.sends, firstSend, {
      receivedSeq, retransmits: sentRetransmits, newMessages: sentNew, held, token: forward ? token : null,
    });
  }
  s.armTokenTimers();
  if (!forward) s.timers.arm(Timer.TokenHold, s.now + s.config.holdMs);
}

/**
 * The highest seq I may ask for. Classic: the token's seq. Accelerated: also
 * at most the seq of the token I forwarded on my previous visit of this ring
 * (seqStart before my first one): a seq above it was numbered since, and its
 * holder may have sent it after its token, so it may still be on its way.
 */
function requestLimit(s: ProcessorState, token: OrfToken, accelerated: number | null): number {
  if (accelerated === null) return token.seq;
  const previous = s.myTokenSeq === tokenSeqNone ? s.config.seqStart : s.myVisitSeq;
  return seqMin(token.seq, previous);
}

/** merge detection and hold decisions on an idle ring (§3.6); returns whether to forward. */
function idleBookkeeping(s: ProcessorState, token: OrfToken, hooks: VisitHooks): boolean {
  if (token.seq === s.lastSeq) {
    s.seqUnchanged++;
    s.timers.armIfIdle(Timer.MergeDetect, s.now + s.config.mergeMs);
  } else {
    s.seqUnchanged = 0;
    s.timers.cancel(Timer.MergeDetect);
    s.timers.cancel(Timer.TokenHold);
  }
  s.lastSeq = token.seq;
  const constant = s.config.seqnoUnchangedConst;
  s.tokenHeld = s.isRep() ? s.seqUnchanged > constant : s.seqUnchanged >= constant;
  if (hooks.pendingCancelsHold(s)) s.tokenHeld = false;
  return !(s.isRep() && s.tokenHeld);
}

/** a TOKEN_HOLD_CANCEL of my ring: the representative stops holding and sends the token on. */
export function onTokenHoldCancel(s: ProcessorState): void {
  if (!s.isRep()) return;
  s.timers.cancel(Timer.TokenHold);
  s.retransmitToken();
  s.timers.arm(Timer.TokenRetransmit, s.now + s.config.tokenRetransmitMs);
}

// ---- flow control (§4.5) ----

/**
 * Congestion back-off, as evs4j's WindowController does it after Jacobson
 * (DEVIATION from Totem, whose window is fixed). The token's aru was last
 * written by a member at its visit during the last rotation. Every seq up to
 * the one I forwarded two visits ago was numbered a whole rotation before
 * any such visit, sent right after at the latest (an accelerated holder's
 * held-back messages), so a member that still missed one at its visit lost
 * it (a full socket buffer, a dropped packet of a frame) or cannot keep up.
 * The yardstick is two visits back, not one: a message numbered just before
 * my last visit may still be on its way behind the token (tokens are read
 * first, data and token travel different sockets), which is no loss.
 * Then my window halves, once per loss (seqs at or below the one that
 * triggered the last back-off are the same loss still being repaired), down to
 * windowSizeMin; while a loss is repaired it holds, and a clean visit grows
 * it by one, back to windowSize. Every member sees the same token, so all of
 * them back off together. Local to each processor, nothing on the wire changes.
 */
function adaptWindow(s: ProcessorState, token: OrfToken): void {
  if (s.olderVisitSeq === null) return;
  const { windowSize, windowSizeMin } = s.config;
  if (seqLt(token.aru, s.olderVisitSeq)) {
    // the first hole is token.aru + 1; it is a new loss when above what the last back-off covered
    if (!seqLt(token.aru, s.backoffSeq) && s.window > windowSizeMin) {
      s.window = Math.max(windowSizeMin, Math.floor(s.window / 2));
      s.backoffSeq = token.seq;
      s.stats.congestionBackoffs++;
    }
    return;
  }
  if (s.window < windowSize) s.window++;
}

function fccCalculate(s: ProcessorState, token: OrfToken, hooks: VisitHooks): number {
  const { maxMessages } = s.config;
  const windowSize = s.window;
  s.stats.window = windowSize;
  let allowed = Math.max(0, Math.min(maxMessages, windowSize - token.fcc));
  s.cbl = hooks.backlog(s);
  const denominator = token.backlog + s.cbl - s.pbl;
  if (denominator > 0) {
    const share = Math.floor((windowSize * s.pbl) / denominator);
    if (share > 0) allowed = Math.min(allowed, share);
  }
  return allowed;
}

/** don't run more than the sort-queue window ahead of the release point. */
function fccRtrLimit(s: ProcessorState, token: OrfToken, queue: SortQueue<Mcast>, allowed: number): number {
  const limit = seqAdd(queue.releasedSeq, queue.size - allowed - s.config.windowSize);
  return seqLt(limit, token.seq) ? 0 : Math.max(0, allowed);
}

function fccTokenUpdate(s: ProcessorState, token: OrfToken, sent: number): void {
  token.fcc = Math.max(0, token.fcc + sent - s.trc);
  token.backlog = Math.max(0, token.backlog + s.cbl - s.pbl);
  s.trc = sent;
  s.pbl = s.cbl;
}

// ---- the retransmit list (§4.4) ----

/** re-multicast what others asked for, then ask for what I miss. */
function serveAndExtendRtrList(s: ProcessorState, token: OrfToken, queue: SortQueue<Mcast>, allowed: number, limit: number): number {
  let sent = 0;
  const remaining: RtrItem[] = [];
  for (const item of token.rtrList) {
    const held = sent < allowed && ringIdEqual(item.ringId, s.myRingId) ? queue.get(item.seq) : undefined;
    if (held === undefined) {
      remaining.push(item);
      continue;
    }
    s.send(toAll, held);
    sent++;
  }
  s.stats.retransmitsSent += sent;
  const kept = remaining.length;
  const range = seqDiff(limit, s.myAru);
  for (let i = 1; i <= range && remaining.length < rtrEntriesMax; i++) {
    const seq = seqAdd(s.myAru, i);
    if (!queue.inRange(seq)) break;
    if (queue.has(seq)) continue;
    if (queue.bumpMissCount(seq) < s.config.missCountConst && !surelyLost(s, seq)) continue;
    if (remaining.some((item) => item.seq === seq && ringIdEqual(item.ringId, s.myRingId))) continue;
    remaining.push({ ringId: s.myRingId, seq });
  }
  const requested = remaining.length - kept;
  if (requested > 0) {
    s.stats.retransmitsRequested += requested;
    s.log(`Retransmit List: ${remaining.slice(kept).map((item) => item.seq.toString(16)).join(' ')}`);
  }
  if (s.verify) checkRtrList(s, queue, limit, remaining, kept, sent < allowed);
  token.rtrList = remaining;
  return sent;
}

/**
 * DEVIATION (neither): a seq at or below the one I forwarded two visits ago
 * is requested at once, not only once it has been missing at
 * `missCountConst` visits. It was numbered a whole rotation before my last
 * visit and sent right after it at the latest (an accelerated holder's
 * held-back messages), so if I still miss it, it was lost (the yardstick of
 * `adaptWindow`); the count is for seqs that may still be on their way. At
 * 30% loss on 8 processors most multicasts miss someone, and each repair
 * waited 5 rotations: RECOVERY after a lost token took 3.1 s (swarm profile
 * `loss30` seed 72: one ring 87.7% of the judged time; 100% now). A request
 * for a message that was only late costs one retransmission.
 */
function surelyLost(s: ProcessorState, seq: number): boolean {
  return s.olderVisitSeq !== null && seqLte(seq, s.olderVisitSeq);
}

// ---- sending new messages (§4.3) ----

/**
 * assign seqs to pending messages (RECOVERY: to old-ring copies), store and
 * send each; visitToken puts the token among them when the ring is accelerated.
 */
function multicastPending(s: ProcessorState, token: OrfToken, queue: SortQueue<Mcast>, hooks: VisitHooks, allowed: number): number {
  let sent = 0;
  while (sent < allowed) {
    const message = hooks.next(s, token);
    if (message === null) break;
    queue.add(message.seq, message);
    s.send(toAll, message);
    sent++;
  }
  if (sent > 0) {
    s.highSeqReceived = token.seq;
    updateAru(s, queue);
    s.stats.mcastsSent += sent;
  }
  return sent;
}

// ---- the aru rule and fail-to-receive (§4.2, §3.7) ----

function maintainAru(s: ProcessorState, token: OrfToken, previousAru: number): void {
  if (seqLt(s.myAru, token.aru) || token.aruAddr === s.me || token.aruAddr === 0) {
    token.aru = s.myAru;
    token.aruAddr = token.aru === token.seq ? 0 : s.me;
  }
  s.aruCount = token.aru === previousAru && token.aruAddr !== 0 ? s.aruCount + 1 : 0;
}

/**
 * DEVIATION (corosync, not the paper): the processor that sees itself stuck
 * as the token's aru holder for failRecvConst visits expels itself; only it
 * knows for sure that it is the one not receiving.
 */
function failedToReceive(s: ProcessorState): void {
  s.log('FAILED TO RECEIVE');
  s.stats.failedToReceive++;
  s.failedToRecv = true;
  s.failedList = setUnion(s.failedList, [s.me]);
  s.enterGather(GatherReason.FailedToReceive);
}
