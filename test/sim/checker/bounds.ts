/**
 * The time bounds of the liveness checks (16–18): token rotations, the
 * re-sends loss costs, the drain of a backlog, the convergence bound.
 */

export interface LivenessTimings {
  readonly tokenMs: number;
  readonly consensusMs: number;
  readonly joinMs: number;
  readonly mergeMs: number;
  readonly holdMs: number;
  readonly tokenRetransmitMs: number;
}

/**
 * One token rotation, worst case on a loss-free network: per hop the link
 * delay plus a quarter of the retransmit interval as it was calibrated, with
 * corosync's 4 retransmits (token / 4.2) — the odd token re-send a duplicate
 * or a late copy can cause. The default of 10 retransmits
 * (docs/DEVIATIONS.md) shortens the interval but does not slow a hop, so the
 * allowance does not shrink with it.
 */
export function tokenRotationMs(t: LivenessTimings, nodeCount: number, delayMaxMs: number): number {
  const retransmitMs = Math.max(t.tokenRetransmitMs, t.tokenMs / 4.2);
  return nodeCount * (delayMaxMs + retransmitMs / 4);
}

/**
 * One token rotation while a backlog drains (invariants 17 and 18). The
 * simulator charges no time for a visit's work, so on a loss-free network a
 * hop costs at most the link's delay: nodes × delayMaxMs, plus one token
 * retransmit period per rotation, spare. Under steady loss p on every link a
 * hop also waits for the token's re-sends: p / (1 − p) of them on average,
 * one every tokenRetransmitMs; we allow three times the mean. The mean alone
 * is exceeded about half the time; three times it, summed over the ≥ 4
 * rotations of any drain (`drainRotations`), is more than 6 standard
 * deviations above the mean at p = 0.3 with 8 processors (32 hops: mean
 * 13.7 re-sends, sd 4.4, allowance 41).
 *
 *   rotationMs = nodes × (delayMaxMs + 3 × p / (1 − p) × tokenRetransmitMs) + tokenRetransmitMs
 */
export function drainRotationMs(t: LivenessTimings, nodeCount: number, delayMaxMs: number, lossProbability = 0): number {
  const resendsPerHop = lossProbability / (1 - lossProbability);
  return nodeCount * (delayMaxMs + 3 * resendsPerHop * t.tokenRetransmitMs) + t.tokenRetransmitMs;
}

/**
 * Multicasts of one datagram, on average, until each of `receivers` holds it
 * when every copy is lost independently with probability p:
 * Σ_{k≥0} P(some receiver lacks it after k copies) = Σ_{k≥0} (1 − (1 − p^k)^receivers).
 * 1 on a loss-free network; 2.7 at p = 0.3 with 7 receivers. Re-sends take
 * the same window and maxMessages as new datagrams (token-visit.ts).
 */
export function transmissionsPerDatagram(lossProbability: number, receivers: number): number {
  let sum = 0;
  for (let k = 0; k < 1000; k++) {
    const missing = 1 - (1 - lossProbability ** k) ** receivers;
    sum += missing;
    if (missing < 1e-12) break;
  }
  return sum;
}

/**
 * Re-sends after which a datagram still lacks a receiver with probability
 * below 10⁻⁶ (the smallest r with receivers × p^r < 10⁻⁶); each costs a
 * rotation (the request stays on the token until a holder re-sends). 0 on a
 * loss-free network.
 */
export function retryRotations(lossProbability: number, receivers: number): number {
  if (lossProbability <= 0 || receivers <= 0) return 0;
  return Math.max(0, Math.ceil(Math.log(1e-6 / receivers) / Math.log(lossProbability)));
}

/** What turns pending traffic into token rotations (invariants 17 and 18). */
export interface FlowTimings {
  /** one token rotation while a backlog drains (`drainRotationMs`). */
  readonly rotationMs: number;
  readonly holdMs: number;
  /** datagrams one member may multicast per token visit (≤ windowSize). */
  readonly maxMessages: number;
  readonly missCountConst: number;
  /** `transmissionsPerDatagram` (1 without loss). */
  readonly transmissionsPerDatagram: number;
  /** `retryRotations` (0 without loss). */
  readonly retryRotations: number;
}

/**
 * Token rotations that carry `pendingDatagrams` of backlog to every member
 * and deliver it (invariants 17 and 18):
 *
 *   rotations = 2 × ⌈pending × transmissions / maxMessages⌉ + missCountConst + retries + 3
 *
 *  - 2 × ⌈pending × transmissions / maxMessages⌉: every datagram is
 *    multicast `transmissionsPerDatagram` times on average (1 without loss),
 *    and while any member has a backlog, two
 *    successive rotations multicast at least maxMessages datagrams between
 *    them. The token's fcc is the count multicast in the last rotation, and
 *    the first member with a backlog may send min(maxMessages, windowSize −
 *    fcc) (token-visit.ts `fccCalculate`): if a rotation carried x, the next
 *    carries at least min(maxMessages, windowSize − x), so the two carry at
 *    least min(maxMessages + x, windowSize) ≥ maxMessages (maxMessages ≤
 *    windowSize). The backlog share only trims a member holding less than its
 *    share of the ring's backlog while those holding more send theirs. With
 *    the congestion back-off a member's window is anywhere in windowSizeMin..
 *    windowSize, so the caller passes min(maxMessages, windowSizeMin) as
 *    `maxMessages` (swarm.ts `flowInput`).
 *  - missCountConst + 1 + retries: a datagram some member lacks is asked for
 *    after it was seen missing on missCountConst visits and re-sent on the
 *    next; under loss a re-send can be lost again (`retryRotations`).
 *  - 2: a safe datagram waits until two successive visits' token arus cover
 *    it (the safe point), the last member delivers on its next visit.
 */
export function drainRotations(f: FlowTimings, pendingDatagrams: number): number {
  return 2 * Math.ceil((pendingDatagrams * f.transmissionsPerDatagram) / f.maxMessages) + f.missCountConst + f.retryRotations + 3;
}

/** `drainRotations` in ms, plus one token hold (an idle ring's token waits holdMs at its representative). */
export function drainBoundMs(f: FlowTimings, pendingDatagrams: number): number {
  return Math.ceil(f.holdMs + f.rotationMs * drainRotations(f, pendingDatagrams));
}

/**
 * The longest a GATHER round waits before it declares the silent failed: the
 * consensus timer is armed at consensusMs plus a random back-off below
 * consensusMs / 4 (gather.ts `consensusBackoffMs`, docs/DEVIATIONS.md).
 */
export function consensusTimeoutMaxMs(consensusMs: number): number {
  return consensusMs + Math.floor(consensusMs / 4);
}

/**
 * How long after the network is healed (all faults stopped, restarts done)
 * every live node must have installed the final configuration (invariant 16).
 *
 * Worst case walked through (TOTEM.md §3.3, §3.6, §5.2):
 *  1. A ring broken by the safety phase is noticed at the latest one token
 *     timeout after the heal (tokenMs), or at once by a foreign message.
 *  2. A GATHER round ends within one consensus timeout: either everyone
 *     agrees (JOINs every joinMs) or the silent ones are declared failed —
 *     which can leave survivors of the safety phase in separate rings with
 *     mutually exclusive failed lists. The consensus timer is armed at
 *     consensusMs plus a random back-off of up to consensusMs / 4 at every
 *     GATHER entry (gather.ts `consensusBackoffMs`, docs/DEVIATIONS.md), so the
 *     round's worst case is consensusMs × 5/4, not consensusMs (the bound was
 *     written before the back-off existed; seed 3423963613985 of the classic
 *     swarm converged 86 ms past the old bound, inside this one).
 *  3. Those rings find each other through a foreign MCAST or, when idle,
 *     through MERGE_DETECT: up to hold (the rep holds the token), plus the merge
 *     timer (mergeMs), per attempt.
 *  4. Each successful round costs the commit token's two rotations plus the
 *     recovery rotations before install (≤ 8 rotations at most, one rotation ≤
 *     nodes × (delay max + a retransmission)).
 * We allow three full rounds (1–4), because a node restarted or a late JOIN
 * can restart a round that was underway:
 *   bound = 3 × (tokenMs + consensusMaxMs + holdMs + 2 × mergeMs + 8 × rotationMs) + 10 × joinMs
 * with consensusMaxMs = consensusMs + ⌊consensusMs / 4⌋ (the longest back-off),
 * and rotationMs = `tokenRotationMs` = nodes × (delayMaxMs + tokenRetransmitMs / 4).
 */
export function livenessBoundMs(t: LivenessTimings, nodeCount: number, delayMaxMs: number): number {
  const rotationMs = tokenRotationMs(t, nodeCount, delayMaxMs);
  const consensusMaxMs = consensusTimeoutMaxMs(t.consensusMs);
  const roundMs = t.tokenMs + consensusMaxMs + t.holdMs + 2 * t.mergeMs + 8 * rotationMs;
  return Math.ceil(3 * roundMs + 10 * t.joinMs);
}
