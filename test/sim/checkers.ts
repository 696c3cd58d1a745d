/**
 * EVS invariant checkers over per-node logs (TOTEM.md §11).
 *
 * `checkSafety` checks invariants 1–15 over a whole log; `checkLiveness`
 * checks 16–19 for the liveness phase of a run (stable, fully connected
 * network, or under a steady bounded loss where the profile keeps it): 16
 * convergence within `livenessBoundMs`, 17 progress within `drainBoundMs`
 * of the backlog left when traffic stopped, 18 back-pressure clearing within
 * `drainBoundMs` of the work ahead, 19 idleness. Invariant 20 (one ring held
 * under steady loss) is measured by the swarm. Each violation names its invariant number; invariant 0
 * is reserved for an aborted run — the core threw, or the simulator saw a
 * livelock or a message storm (reported by the swarm, not here).
 *
 * Vocabulary. A node's log is split into incarnations (log.ts). Within one, a
 * *regular view* is the interval after a REGULAR record, a *transitional view*
 * the interval after a TRANSITIONAL record up to the next REGULAR. Deliveries
 * are attributed to the view they happened in.
 *
 * The checkers are independent of the simulator: they read only records, so
 * every check can be shown to fail on a small hand-written log
 * (test/unit/sim/checkers-safety.test.ts, checkers-liveness.test.ts).
 *
 * This file is the checker's face; the checks live in test/sim/checker/, one
 * file per group of invariants: views.ts (the log's structure), report.ts,
 * configurations.ts (1–6), messages.ts (7–9, 15), order.ts (10, 11),
 * guarantees.ts (12–14), safety.ts, bounds.ts (the liveness time bounds) and
 * liveness.ts (16–20).
 */
export { drainBoundMs, drainRotationMs, drainRotations, livenessBoundMs, retryRotations, tokenRotationMs, transmissionsPerDatagram } from './checker/bounds.ts';
export type { FlowTimings, LivenessTimings } from './checker/bounds.ts';
export { checkLiveness, checkSteadyProgress } from './checker/liveness.ts';
export type { FlowInput, LivenessInput, SteadyProgressInput } from './checker/liveness.ts';
export { hasCycle } from './checker/order.ts';
export { invariantNames } from './checker/report.ts';
export type { Violation } from './checker/report.ts';
export { checkSafety } from './checker/safety.ts';
export type { SafetyOptions } from './checker/safety.ts';
