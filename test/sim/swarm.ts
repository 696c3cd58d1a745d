/**
 * Seeded swarm testing (TigerBeetle's VOPR): one seed decides everything —
 * cluster size, Totem knobs, network quality, which faults happen when, the
 * traffic — so a failing seed replays exactly.
 *
 * A run has two phases.
 *  - Safety phase (`safetyMs`): traffic flows while faults come and go at
 *    random: loss/duplication changes, partitions, heals, one-way cuts,
 *    isolation, a node that cannot receive, token loss bursts, crashes,
 *    quick restarts, graceful leaves.
 *  - Liveness phase: everything heals at once, loss and duplication stop,
 *    crashed nodes are restarted (all of them, or a random subset); traffic
 *    continues or pauses until convergence, then runs a little more, then
 *    stops; the ring then has to stay put while idle.
 * Afterwards the checkers run: invariants 1–15 over the whole log, 16–19
 * over the liveness phase (17 and 18 with time bounds from the backlog, the
 * Totem knobs and the link: `flowInput`). A core that throws is reported as
 * invariant 0.
 */
import { fragmentRecordHeaderBytes } from '../../src/groups/format.ts';
import { deriveTotemConfig, type TotemConfig } from '../../src/protocol/config.ts';
import { MessageType } from '../../src/wire/messages.ts';
import { AppModel } from './app.ts';
import {
  checkLiveness, checkSafety, checkSteadyProgress, drainRotationMs, livenessBoundMs, retryRotations, transmissionsPerDatagram,
  type FlowInput, type Violation,
} from './checkers.ts';
import { Cluster, NodeError, SimBudgetError, simGroup, simTimings } from './cluster.ts';
import { Prng } from './prng.ts';
import { swarmOptions } from './swarm-draw.ts';
import { Faults } from './swarm-faults.ts';
import { faultKinds, type SwarmOptions, type SwarmOverrides } from './swarm-options.ts';
import { Traffic } from './swarm-traffic.ts';

export interface SwarmResult {
  readonly seed: number;
  readonly options: SwarmOptions;
  readonly violations: Violation[];
  readonly sent: number;
  readonly delivered: number;
  /** virtual time the live set converged after the heal, or null. */
  readonly convergedAfterMs: number | null;
  readonly boundMs: number;
  readonly live: readonly number[];
  readonly virtualMs: number;
  readonly steps: number;
  /** SHA-256 of the whole log (equal digests = identical runs); computed when read, as only tests compare it. */
  readonly digest: string;
  readonly cluster: Cluster;
  /** virtual ms of the safety phase (after the first bound) every running node was in one ring of all of them. */
  readonly heldMs: number;
  /** virtual ms of the safety phase that counted for heldMs. */
  readonly judgedMs: number;
  /** FAILED TO RECEIVE events, all nodes and incarnations. */
  readonly failedToReceive: number;
}

/** After traffic stops: up to this many token timeouts for the send queues to empty… */
const drainTokensMax = 25;
/** drain periods of drainTokensMax tokens each, while the backlog keeps shrinking (an overloaded run may need several). */
const drainPeriodsMax = 40;
/** …then this many more for the last deliveries. */
const drainTokens = 2;
/** Then the idle period (invariant 19): this many token timeouts without any membership change. */
const idleTokens = 5;

/**
 * The liveness phase's flow parameters (invariants 17 and 18): on a
 * loss-free network, or under the steady loss the liveness phase keeps.
 */
function flowInput(cluster: Cluster, options: SwarmOptions, trafficStoppedAt: number): FlowInput {
  const config = cluster.config(1);
  const delayMaxMs = options.link.delayMinMs + options.link.delayJitterMs;
  const loss = options.steady === undefined ? 0 : options.link.lossProbability;
  const receivers = options.nodeCount - 1;
  // a message: group header (count, name length, name) + its bytes, cut into fragments each with a record header
  const groupHeaderBytes = 2 + simGroup.length;
  const fragmentBytes = cluster.datagramPayloadBytes - fragmentRecordHeaderBytes;
  return {
    rotationMs: drainRotationMs(config, options.nodeCount, delayMaxMs, loss),
    holdMs: config.holdMs,
    // what two rotations carry at least: maxMessages, or less when the congestion back-off's floor is lower
    maxMessages: Math.min(config.maxMessages, config.windowSizeMin),
    missCountConst: config.missCountConst,
    transmissionsPerDatagram: transmissionsPerDatagram(loss, receivers),
    retryRotations: retryRotations(loss, receivers),
    trafficStoppedAt,
    datagramsOf: (size) => Math.max(1, Math.ceil((size + groupHeaderBytes) / fragmentBytes)),
  };
}

/** The simulator's message and send-queue limits (Cluster's defaults), raised when a run's messages are larger. */
const messageBytesMaxSim = 64 * 1024;
const queueBytesMaxSim = 256 * 1024;

/**
 * Packets in flight beyond which a run is a message storm (invariant 0). A
 * GATHER is the legitimate peak. Within one link delay a processor multicasts
 * its periodic JOINs (delay / joinMs + 1 of them) and answers JOINs that
 * grow its sets: its proc and failed sets grow at most n times each, and a
 * JOIN without news is not answered (docs/DEVIATIONS.md, join rule 4 without
 * news). Each multicast is n copies, each copy duplicated at most once:
 *   2 × n² × (2n + delay / joinMs + 1)
 * (seen legitimately: 36,445 in flight with 64 processors in GATHER, ~4.4
 * JOINs each). The 20 000 below that covers a window of MCASTs and their
 * retransmissions on a fast network, as before; more than the sum is a storm.
 */
function inFlightMaxFor(nodeCount: number, delayMaxMs: number, joinMs: number): number {
  return 20_000 + 2 * nodeCount * nodeCount * (2 * nodeCount + Math.ceil(delayMaxMs / joinMs) + 1);
}

/**
 * Steps (arrivals and timer firings) beyond which a run is aborted as
 * runaway (invariant 0): the CPU guard, as the storm and livelock guards
 * catch the faster failures. The legitimate peak rate is a GATHER of every
 * processor, each multicasting a JOIN to all n every joinMs (n² / joinMs
 * arrivals per ms), and a run may spend its safety phase and its whole
 * convergence bound there; at least 20 million. Seed 1013029 (64
 * processors, token 3.6 s, consensus 10.8 s, one-way delays up to 45 ms)
 * converged 169 s after the heal, within its 451 s bound, in 26.9 million
 * steps: past the fixed 20 million every run had before.
 */
export function stepsMaxFor(nodeCount: number, joinMs: number, safetyMs: number, boundMs: number): number {
  return Math.max(20_000_000, Math.ceil((nodeCount * nodeCount) / joinMs * (safetyMs + boundMs)));
}

/** A drawn run's Totem config (node 1's; all nodes share the timings), convergence bound and step budget. */
export function runLimits(options: SwarmOptions): { readonly config: TotemConfig; readonly boundMs: number; readonly stepsMax: number } {
  const delayMaxMs = options.link.delayMinMs + options.link.delayJitterMs;
  const config = deriveTotemConfig(1, options.nodeCount, { ...simTimings, ...options.timings });
  const boundMs = livenessBoundMs(config, options.nodeCount, delayMaxMs);
  return { config, boundMs, stepsMax: stepsMaxFor(options.nodeCount, config.joinMs, options.safetyMs, boundMs) };
}

/** One complete run: safety phase, liveness phase, checkers. */
export function runSwarm(seed: number, overrides: SwarmOverrides = {}): SwarmResult {
  const root = new Prng(seed);
  const options = swarmOptions(root.fork(), overrides);
  const delayMaxMs = options.link.delayMinMs + options.link.delayJitterMs;
  const { config, boundMs, stepsMax } = runLimits(options);
  const cluster = new Cluster({
    nodeCount: options.nodeCount,
    prng: root.fork(),
    timings: { ...simTimings, ...options.timings },
    link: options.link,
    startAll: false,
    messageBytesMax: Math.max(messageBytesMaxSim, options.traffic.sizeLargeMaxBytes),
    // room for two of the largest messages, as for the usual ones before
    queueBytesMax: Math.max(queueBytesMaxSim, 2 * options.traffic.sizeLargeMaxBytes),
    inFlightMax: inFlightMaxFor(options.nodeCount, delayMaxMs, simTimings.joinMs ?? 1),
    stepsMax: overrides.stepsMax ?? stepsMax,
    ...(overrides.coreLogLines !== undefined ? { coreLogLines: overrides.coreLogLines } : {}),
  });
  const faultPrng = root.fork();
  const faults = new Faults(cluster, faultPrng, options);
  const traffic = new Traffic(cluster, new AppModel(root.fork(), options.traffic));
  const violations: Violation[] = [];
  let convergedAfterMs: number | null = null;
  let live: number[] = [];
  let heldMs = 0;
  let judgedMs = 0;
  const held: [number, number][] = [];
  try {
    // Nodes boot within the first token timeout, in random order.
    const booted = new Set<number>();
    const boot = (id: number): void => {
      if (booted.has(id)) return;
      booted.add(id);
      if (!cluster.isUp(id)) cluster.start(id); // a restart fault may have started it first
    };
    for (const id of cluster.ids) cluster.schedule(faultPrng.real(0, config.tokenMs), () => boot(id));
    traffic.start();
    const anyFault = faultKinds.some((k) => options.faultWeights[k] > 0);
    const scheduleFault = (): void => {
      if (!anyFault) return;
      const at = cluster.now + faultPrng.exponential(options.faultIntervalMeanMs);
      if (at < options.safetyMs) cluster.schedule(at, () => { faults.inject(); scheduleFault(); });
    };
    scheduleFault();
    // invariant 20's measure: sample every sampleMs whether every running node is in one ring of all of them
    const sampleMs = 10;
    const judgeFrom = boundMs;
    const sample = (): void => {
      if (cluster.now >= judgeFrom) {
        judgedMs += sampleMs;
        if (cluster.converged(cluster.up())) {
          heldMs += sampleMs;
          // consecutive samples that held make one interval (invariant 20's progress half)
          const last = held.at(-1);
          if (last !== undefined && cluster.now - last[1] <= sampleMs + 1e-6) last[1] = cluster.now;
          else held.push([cluster.now, cluster.now]);
        }
      }
      if (cluster.now + sampleMs < options.safetyMs) cluster.after(sampleMs, sample);
    };
    if (options.steady !== undefined) cluster.after(sampleMs, sample);
    cluster.runUntilTime(options.safetyMs);

    // ---- liveness phase ----
    faults.stop();
    traffic.on = options.trafficWhileConverging;
    // a token timeout longer than the safety phase (64 processors at 50 ms
    // each: 3.3 s) leaves boots for after it; they belong to the live set
    // (seed 2605 booted 14 nodes after the heal, outside it)
    for (const id of cluster.ids) boot(id);
    const down = cluster.down();
    const restart = options.restartAll ? down : down.filter(() => faultPrng.chance(0.5));
    if (cluster.up().length === 0 && restart.length === 0 && down.length > 0) restart.push(faultPrng.pick(down));
    for (const id of restart) cluster.start(id);
    live = cluster.up();
    const healedAt = cluster.now;
    const converged = cluster.runUntil(() => cluster.converged(live), boundMs);
    if (converged) convergedAfterMs = cluster.now - healedAt;
    traffic.on = true;
    cluster.runFor(options.trafficAfterMs);
    traffic.on = false;
    const trafficStoppedAt = cluster.now;
    // drain: every live node's send queue empties, then a few rotations for the last safe deliveries
    // An overloaded run (traffic above what the window lets through per
    // rotation) ends with long queues; draining them is progress, not a fault.
    // Keep going while every period shrinks the total backlog or sends more
    // of it (a message of ~750 fragments stays one queued message for many
    // periods: seed 2107); a period without either ends the drain and the
    // checkers report what is missing.
    const sum = (of: (id: number) => number): number => live.reduce((total, id) => total + (cluster.isUp(id) ? of(id) : 0), 0);
    const queued = (): number => sum((id) => cluster.core(id).stats.queuedMessages);
    const datagramsSent = (): number => sum((id) => cluster.core(id).stats.sender.datagrams);
    for (let period = 0; period < drainPeriodsMax && queued() > 0; period++) {
      const before = queued();
      const sentBefore = datagramsSent();
      if (cluster.runUntil(() => queued() === 0, drainTokensMax * config.tokenMs)) break;
      if (queued() >= before && datagramsSent() === sentBefore) break;
    }
    cluster.runFor(drainTokens * config.tokenMs);
    const idleFrom = cluster.now;
    const tokensBefore = cluster.network.stats.arrivalsByType[MessageType.OrfToken] ?? 0;
    cluster.runFor(idleTokens * config.tokenMs);
    const tokensDuringIdle = (cluster.network.stats.arrivalsByType[MessageType.OrfToken] ?? 0) - tokensBefore;
    violations.push(...checkSafety(cluster.log.records));
    const flow = flowInput(cluster, options, trafficStoppedAt);
    violations.push(...checkLiveness(cluster.log.records, { live, healedAt, boundMs, idleFrom, end: cluster.now, tokensDuringIdle, flow }));
    if (options.steady !== undefined) violations.push(...checkSteadyProgress(cluster.log.records, { held, flow }));
    if (options.steady !== undefined && judgedMs > 0 && heldMs < options.steady.heldFractionMin * judgedMs) {
      violations.push({
        invariant: 20, node: 0,
        detail: `one ring held ${heldMs} of ${judgedMs} ms under steady loss (at least ${options.steady.heldFractionMin * 100}% required)`,
      });
    }
  } catch (error) {
    if (error instanceof NodeError) {
      violations.push({ invariant: 0, node: error.node, detail: `${error.message}\n${error.cause.stack ?? ''}` });
    } else if (error instanceof SimBudgetError) {
      violations.push({ invariant: 0, node: 0, detail: `${error.message}\n${cluster.describe().join('\n')}` });
    } else {
      throw error;
    }
  }
  return {
    seed,
    options,
    violations,
    sent: cluster.log.count('send'),
    delivered: cluster.log.count('deliver'),
    convergedAfterMs,
    boundMs,
    live,
    virtualMs: cluster.now,
    steps: cluster.steps,
    get digest() {
      return cluster.log.digest();
    },
    cluster,
    heldMs,
    judgedMs,
    failedToReceive: cluster.failedToReceive,
  };
}
