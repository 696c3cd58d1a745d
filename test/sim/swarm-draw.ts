/**
 * Drawing a run's options from its seed: the wide mix (the fault space
 * below), the narrow mix of before 2026-12-02, and the one-line description
 * a run line starts with.
 */
import { timeoutMsMin } from '../../src/limits.ts';
import type { Ordering, TotemTimings } from '../../src/protocol/config.ts';
import type { TrafficOptions } from './app.ts';
import { simTimings } from './cluster.ts';
import type { LinkOptions } from './network.ts';
import type { Prng } from './prng.ts';
import { type FaultKind, faultKinds, qualityWide, type SwarmOptions, type SwarmOverrides } from './swarm-options.ts';
import { swarmProfiles } from './swarm-profiles.ts';

/**
 * The random mix's fault space (docs/ARCHITECTURE.md "The simulator"):
 *  - processors: 2..32, and 64 in `clusterLargeProbability` of the runs
 *    (unless the caller pins the range);
 *  - timers: base token timeout, token coefficient (per processor beyond
 *    two, corosync's token_coefficient) and consensus timeout drawn; join,
 *    merge and FAILED TO RECEIVE stay at simTimings;
 *  - links: loss up to 50%, duplication up to 20%, one-way delay up to half
 *    the token timeout; faults change the defaults, set one direction of one
 *    link (asymmetric loss), drop MCASTs only (FAILED TO RECEIVE), besides
 *    partitions, cuts, crashes, pauses…;
 *  - messages: up to 1 MiB (~750 fragments), within a per-run byte budget.
 */
export const clusterLargeProbability = 0.02;
export const clusterLargeNodes = 64;
/** base token timeouts drawn (ms); simTimings' 200 is drawn twice as often. */
export const tokenBaseMsChoices = [100, 200, 200, 300, 500, 1000] as const;
/** Bytes of large messages one run may submit in all (AppModel largeBytesMax). */
export const largeBytesPerRunMax = 4 * 1024 * 1024;
/**
 * The token's n hops may take at most this share of the token timeout. The
 * token timeout is the ring's failure detector for a whole rotation: in
 * COMMIT a processor that passed the commit token on declares the attempt
 * lost unless the token is back within tokenMs (corosync alike, and
 * corosync's token_coefficient exists to grow the timeout with the ring). A
 * network whose rotation alone takes the token timeout fails every commit
 * attempt (seen: 25 processors at 100 ms a hop with token 200, GATHER and
 * COMMIT alternating for 70 s): a misconfiguration no ring protocol with that
 * timeout survives, not a fault to ask it to survive. The remaining fifth
 * covers the hold on an idle ring (about token / 12.75).
 */
export const rotationShareMax = 0.8;

/** The largest one-way delay drawn for this token timeout and cluster size. */
export function slowDelayMaxMs(tokenMs: number, nodeCount: number): number {
  return Math.min(tokenMs / 2, (rotationShareMax * tokenMs) / nodeCount);
}

/** Offered load at most this many times what the window lets through per rotation (see `trafficIntervalMinMs`). */
const loadOverCapacityMax = 2;

/**
 * The least mean interval between two submissions of one node so that the
 * offered load stays within `loadOverCapacityMax` windows per rotation. A
 * rotation is at least `nodes` hops of the mean link delay; past capacity the
 * send queues fill and every further submission is refused, so a heavier load
 * only lengthens the drain (the run's cost) without adding a new case.
 */
function trafficIntervalMinMs(nodeCount: number, link: LinkOptions, windowSize: number): number {
  const rotationMs = nodeCount * (link.delayMinMs + link.delayJitterMs / 2);
  return (nodeCount * rotationMs) / (windowSize * loadOverCapacityMax);
}

/** Derive a run's options from its seed (and the caller's pins). */
export function swarmOptions(prng: Prng, overrides: SwarmOverrides = {}): SwarmOptions {
  if (overrides.profile !== undefined) return { ...swarmProfiles[overrides.profile](prng), ...overrides.options };
  return overrides.mix === 'narrow' ? narrowOptions(prng, overrides) : wideOptions(prng, overrides);
}

/** The random mix before 2026-12-02, draw for draw (see `SwarmMix`). */
function narrowOptions(prng: Prng, overrides: SwarmOverrides): SwarmOptions {
  const nodeCount = prng.int(overrides.nodesMin ?? 2, overrides.nodesMax ?? 16);
  const windowSize = prng.pick([10, 20, 50, 50, 80]);
  const wrap = prng.chance(0.2);
  const timings: TotemTimings = {
    windowSize,
    maxMessages: prng.int(1, Math.min(windowSize, 20)),
    missCountConst: prng.int(1, 5),
    seqStart: wrap ? 0xffff_ffff - prng.int(0, 300) : 0,
  };
  const lossy = prng.chance(0.7);
  const link: LinkOptions = {
    delayMinMs: prng.real(0.05, 1),
    delayJitterMs: prng.pick([0.1, 1, 2, 5]),
    lossProbability: lossy ? prng.pick([0.001, 0.01, 0.05, 0.1, 0.2]) : 0,
    duplicateProbability: prng.chance(0.3) ? prng.pick([0.01, 0.05]) : 0,
  };
  const w = (p: number, hi: number): number => (prng.chance(p) ? prng.int(1, hi) : 0);
  const faultWeights: Record<FaultKind, number> = {
    partition: w(0.6, 4), heal: 3, crash: w(0.6, 3), restart: 3, leave: w(0.3, 2), cut: w(0.4, 3),
    isolate: w(0.4, 2), deaf: w(0.2, 1), tokenDrop: w(0.4, 2), pause: w(0.3, 2), quality: w(0.5, 2),
    linkLoss: 0, mcastLoss: 0,
  };
  const sizeMaxBytes = prng.pick([64, 1400, 4200]);
  const traffic: TrafficOptions = {
    intervalMeanMs: prng.pick([10, 30, 100, 300]) * Math.max(1, nodeCount / 4),
    smallProbability: prng.real(0, 0.6),
    largeProbability: prng.pick([0, 0.02, 0.1]),
    sizeMaxBytes,
    sizeLargeMaxBytes: Math.max(sizeMaxBytes, prng.pick([8000, 20000])),
    safeProbability: prng.pick([0, 0.2, 0.5, 1]),
  };
  const drawnOrdering: Ordering = prng.pick(['classic', 'accelerated'] as const);
  const maxMessages = timings.maxMessages ?? 1;
  const ordering = overrides.ordering === undefined || overrides.ordering === 'mixed' ? drawnOrdering : overrides.ordering;
  const acceleratedWindow = prng.pick([0, 1, Math.floor(maxMessages / 2), maxMessages]);
  return {
    nodeCount,
    timings: { ...timings, ordering, acceleratedWindow },
    link,
    safetyMs: prng.int(overrides.safetyMsMin ?? 2000, overrides.safetyMsMax ?? 8000),
    faultIntervalMeanMs: prng.pick([50, 150, 400, 1000]),
    faultWeights,
    quickRestartProbability: prng.real(0, 0.5),
    traffic,
    restartAll: prng.chance(0.7),
    trafficWhileConverging: prng.chance(0.5),
    trafficAfterMs: prng.int(200, 600),
    ...overrides.options,
  };
}

/** The wide mix (the default; the fault space above). */
function wideOptions(prng: Prng, overrides: SwarmOverrides): SwarmOptions {
  const nodesPinned = overrides.nodesMin !== undefined || overrides.nodesMax !== undefined;
  const large = prng.chance(clusterLargeProbability);
  const nodesDrawn = prng.int(overrides.nodesMin ?? 2, overrides.nodesMax ?? 32);
  const nodeCount = large && !nodesPinned ? clusterLargeNodes : nodesDrawn;
  const windowSize = prng.pick([10, 20, 50, 50, 80]);
  const wrap = prng.chance(0.2);
  const tokenBaseMs = prng.pick(tokenBaseMsChoices);
  const tokenCoefficientMs = prng.chance(0.3) ? prng.pick([5, 10, 20, 50]) : 0;
  // the token timeout of this cluster size (config.ts deriveTotemConfig)
  const tokenMs = nodeCount >= 3 ? tokenBaseMs + (nodeCount - 2) * tokenCoefficientMs : tokenBaseMs;
  const lossy = prng.chance(0.7);
  const slow = prng.chance(0.15);
  let delayMinMs = prng.real(0.05, 1);
  let delayJitterMs: number = prng.pick([0.1, 1, 2, 5]);
  if (slow) {
    // a slow network: a one-way delay of up to half the token timeout, and
    // at most `rotationShareMax` of it for the n hops of a rotation
    const delayMaxMs = slowDelayMaxMs(tokenMs, nodeCount) * prng.pick([0.1, 0.25, 0.5, 1]);
    delayMinMs = delayMaxMs * prng.real(0, 0.9);
    delayJitterMs = delayMaxMs - delayMinMs;
  } else if (delayMinMs + delayJitterMs > slowDelayMaxMs(tokenMs, nodeCount)) {
    // a fast network too can be too slow for a short token and many hops (100 ms, 29 × 6 ms)
    const scale = slowDelayMaxMs(tokenMs, nodeCount) / (delayMinMs + delayJitterMs);
    delayMinMs *= scale;
    delayJitterMs *= scale;
  }
  const link: LinkOptions = {
    delayMinMs,
    delayJitterMs,
    lossProbability: lossy ? prng.pick([0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5]) : 0,
    duplicateProbability: prng.chance(0.3) ? prng.pick([0.01, 0.05, 0.1, 0.2]) : 0,
  };
  // consensus: corosync's 1.2 × token, or drawn from half a token to three,
  // but never below the join timeout (config.ts) nor below a JOIN round trip
  // (a JOIN period plus the delay there and back): a consensus timeout shorter
  // than that declares live processors failed in every round, and no protocol
  // converges with peers it cannot hear from in time.
  const consensusFactor = prng.pick([0, 0, 0.5, 1, 2, 3]);
  const joinRoundMs = (simTimings.joinMs ?? 0) + 2 * (link.delayMinMs + link.delayJitterMs);
  const consensusMs = consensusFactor === 0 ? undefined : Math.max(timeoutMsMin, Math.ceil(joinRoundMs), Math.round(consensusFactor * tokenMs));
  const timings: TotemTimings = {
    tokenMs: tokenBaseMs,
    tokenCoefficientMs,
    ...(consensusMs !== undefined ? { consensusMs } : {}),
    windowSize,
    maxMessages: prng.int(1, Math.min(windowSize, 20)),
    missCountConst: prng.int(1, 5),
    // near the u32 end so seqs wrap inside a ring (corosync SEQNO_START_MSG)
    seqStart: wrap ? 0xffff_ffff - prng.int(0, 300) : 0,
  };
  const w = (p: number, hi: number): number => (prng.chance(p) ? prng.int(1, hi) : 0);
  const faultWeights: Record<FaultKind, number> = {
    partition: w(0.6, 4), heal: 3, crash: w(0.6, 3), restart: 3, leave: w(0.3, 2), cut: w(0.4, 3),
    isolate: w(0.4, 2), deaf: w(0.2, 1), tokenDrop: w(0.4, 2), pause: w(0.3, 2), quality: w(0.5, 2),
    linkLoss: w(0.4, 2), mcastLoss: w(0.3, 2),
  };
  const sizeMaxBytes = prng.pick([64, 1400, 4200]);
  const huge = prng.chance(0.15);
  const sizeLargeMaxBytes = huge ? prng.pick([64 * 1024, 256 * 1024, 1024 * 1024]) : Math.max(sizeMaxBytes, prng.pick([8000, 20000]));
  const intervalDrawnMs = prng.pick([10, 30, 100, 300]) * Math.max(1, nodeCount / 4);
  const traffic: TrafficOptions = {
    intervalMeanMs: Math.max(intervalDrawnMs, trafficIntervalMinMs(nodeCount, link, windowSize)),
    smallProbability: prng.real(0, 0.6),
    largeProbability: prng.pick([0, 0.02, 0.1]),
    sizeMaxBytes,
    sizeLargeMaxBytes,
    largeBytesMax: largeBytesPerRunMax,
    safeProbability: prng.pick([0, 0.2, 0.5, 1]),
  };
  // drawn last, from this fork only: pinning the ordering keeps the rest of the run the same
  const drawnOrdering: Ordering = prng.pick(['classic', 'accelerated'] as const);
  const maxMessages = timings.maxMessages ?? 1;
  const ordering = overrides.ordering === undefined || overrides.ordering === 'mixed' ? drawnOrdering : overrides.ordering;
  const acceleratedWindow = prng.pick([0, 1, Math.floor(maxMessages / 2), maxMessages]);
  const safetyMs = prng.int(overrides.safetyMsMin ?? 2000, overrides.safetyMsMax ?? 8000);
  const faultIntervalMeanMs = prng.pick([50, 150, 400, 1000]);
  const quickRestartProbability = prng.real(0, 0.5);
  const restartAll = prng.chance(0.7);
  const trafficWhileConverging = prng.chance(0.5);
  const trafficAfterMs = prng.int(200, 600);
  // drawn after everything else, so adding it changed no earlier draw: the congestion back-off's floor
  // below its default (maxMessages) in a third of the runs, down to evs4j's 1
  const windowSizeMin = prng.chance(1 / 3) ? prng.int(1, maxMessages) : undefined;
  return {
    nodeCount,
    timings: { ...timings, ordering, acceleratedWindow, ...(windowSizeMin === undefined ? {} : { windowSizeMin }) },
    link,
    safetyMs,
    faultIntervalMeanMs,
    faultWeights,
    quickRestartProbability,
    traffic,
    restartAll,
    trafficWhileConverging,
    trafficAfterMs,
    quality: qualityWide,
    ...overrides.options,
  };
}

export function describeOptions(o: SwarmOptions): string {
  const weights = faultKinds.filter((k) => o.faultWeights[k] > 0).map((k) => `${k}:${o.faultWeights[k]}`).join(',');
  const t = o.timings;
  const timers = t.tokenMs === undefined ? '' : ` token=${t.tokenMs}${t.tokenCoefficientMs ? `+${t.tokenCoefficientMs}/node` : ''}` +
    `${t.consensusMs !== undefined ? ` consensus=${t.consensusMs}` : ''}`;
  return `nodes=${o.nodeCount} safety=${o.safetyMs}ms${timers} window=${t.windowSize ?? '-'}/${t.maxMessages ?? '-'}${t.windowSizeMin === undefined ? '' : `/min ${t.windowSizeMin}`} miss=${t.missCountConst ?? '-'}` +
    ` ordering=${t.ordering ?? 'classic'}${t.ordering === 'accelerated' ? `/${t.acceleratedWindow ?? '-'}` : ''}` +
    `${t.seqStart !== undefined && t.seqStart !== 0 ? ` seqStart=0x${t.seqStart.toString(16)}` : ''}` +
    ` delay=${o.link.delayMinMs.toFixed(2)}+${o.link.delayJitterMs} loss=${o.link.lossProbability} dup=${o.link.duplicateProbability}` +
    ` faults=every~${o.faultIntervalMeanMs}ms{${weights}} quickRestart=${o.quickRestartProbability.toFixed(2)}` +
    ` traffic=every~${Math.round(o.traffic.intervalMeanMs)}ms size<=${o.traffic.sizeMaxBytes}/${o.traffic.sizeLargeMaxBytes}${o.traffic.largeProbability > 0 ? `@${o.traffic.largeProbability}` : ''} safe=${o.traffic.safeProbability}` +
    ` restartAll=${o.restartAll} trafficWhileConverging=${o.trafficWhileConverging}`;
}
