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
import { deriveTotemConfig, type Ordering, type TotemConfig, type TotemTimings } from '../../src/protocol/config.ts';
import { fragmentRecordHeaderBytes } from '../../src/groups/format.ts';
import { timeoutMsMin } from '../../src/limits.ts';
import { MessageType } from '../../src/wire/messages.ts';
import { AppModel, type TrafficOptions } from './app.ts';
import {
  checkLiveness, checkSafety, checkSteadyProgress, drainRotationMs, livenessBoundMs, retryRotations, transmissionsPerDatagram,
  type FlowInput, type Violation,
} from './checkers.ts';
import { Cluster, NodeError, SimBudgetError, simGroup, simTimings } from './cluster.ts';
import type { LinkOptions } from './network.ts';
import { Prng } from './prng.ts';

export const faultKinds = [
  'partition', 'heal', 'crash', 'restart', 'leave', 'cut', 'isolate', 'deaf', 'tokenDrop', 'pause', 'quality',
  'linkLoss', 'mcastLoss',
] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface SwarmOptions {
  readonly nodeCount: number;
  /** Totem timings and knobs on top of simTimings. */
  readonly timings: TotemTimings;
  readonly link: LinkOptions;
  readonly safetyMs: number;
  /** mean time between two fault events in the safety phase. */
  readonly faultIntervalMeanMs: number;
  /** relative weights of the fault kinds. */
  readonly faultWeights: Readonly<Record<FaultKind, number>>;
  /** probability that a crashed node is restarted shortly after (before peers time out). */
  readonly quickRestartProbability: number;
  readonly traffic: TrafficOptions;
  /** liveness phase: restart every down node (else a random subset). */
  readonly restartAll: boolean;
  /** liveness phase: traffic continues while the cluster converges (else it pauses until then). */
  readonly trafficWhileConverging: boolean;
  /** traffic after convergence, before it stops for good. */
  readonly trafficAfterMs: number;
  /** delay of a quick restart after a crash: 1..this ms. */
  readonly quickRestartMaxMs?: number;
  /** what a `quality` fault sets the links' loss and duplication to (default `qualityNarrow`). */
  readonly quality?: QualityChoices;
  /**
   * Steady loss: the link quality kept for the whole run, the liveness phase
   * included (else the liveness phase runs on a perfect network), and the
   * least fraction of the safety phase (after the first bound) that every
   * running node must spend OPERATIONAL in one ring of all of them
   * (invariant 20).
   */
  readonly steady?: { readonly heldFractionMin: number };
}

export interface QualityChoices {
  readonly loss: readonly number[];
  readonly duplicate: readonly number[];
}
/** the `quality` fault of the narrow mix (the swarm before 2026-12-02). */
export const qualityNarrow: QualityChoices = { loss: [0, 0, 0.01, 0.05, 0.1, 0.3], duplicate: [0, 0, 0.02, 0.1] };
export const qualityWide: QualityChoices = { loss: [0, 0, 0.01, 0.05, 0.1, 0.3, 0.5], duplicate: [0, 0, 0.02, 0.1, 0.2] };

/**
 * 'wide' (the default): the fault space below (`wideOptions`). 'narrow': the
 * random mix as it was before 2026-12-02 (2..16 processors, token 200 ms,
 * loss to 20%, messages to 20 KB), kept so that a regression seed found in it
 * replays the same run (`npm run sim -- --mix narrow --seed S`).
 */
export type SwarmMix = 'wide' | 'narrow';

/** What a caller may pin; everything else derives from the seed. */
export interface SwarmOverrides {
  readonly nodesMin?: number;
  readonly nodesMax?: number;
  readonly safetyMsMin?: number;
  readonly safetyMsMax?: number;
  /** abort the run (invariant 0) after this many simulator steps (default 20 million). */
  readonly stepsMax?: number;
  /** core log lines kept per node for traces (default 200; Infinity keeps all). */
  readonly coreLogLines?: number;
  /** totem.ordering of every node; 'mixed' (the default) draws it per seed. */
  readonly ordering?: Ordering | 'mixed';
  readonly options?: Partial<SwarmOptions>;
  /** a named profile (`swarmProfiles`) instead of the random mix. */
  readonly profile?: SwarmProfileName;
  /** which random mix (default 'wide'). */
  readonly mix?: SwarmMix;
}

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

const noFaults: Record<FaultKind, number> = {
  partition: 0, heal: 0, crash: 0, restart: 0, leave: 0, cut: 0, isolate: 0, deaf: 0, tokenDrop: 0, pause: 0, quality: 0,
  linkLoss: 0, mcastLoss: 0,
};

/**
 * Named profiles (`npm run sim -- --profile loss30 --seeds 50`): a scenario
 * the random mix rarely draws, with the default Totem knobs (simTimings only);
 * the seed still decides the traffic, the delays and when faults happen.
 *  - loss30: 8 processors, 30% loss and 5% duplication on every link for the
 *    whole run; the ring must form and hold (invariant 20) and the checkers
 *    judge liveness under that loss: convergence, progress and back-pressure
 *    in time (17, 18 with the lossy rotation and re-sends of `flowInput`).
 *  - storm: 7 processors crashing every ~30 ms (each restarting within 30
 *    ms) while partitions come and go, then healed; they must
 *    converge within the bound.
 */
export const swarmProfiles = {
  loss30: (prng: Prng): SwarmOptions => ({
    nodeCount: 8,
    timings: {},
    link: { delayMinMs: prng.real(0.1, 0.5), delayJitterMs: prng.pick([0.5, 1, 2]), lossProbability: 0.3, duplicateProbability: 0.05 },
    safetyMs: prng.int(15000, 20000),
    faultIntervalMeanMs: 1000,
    faultWeights: noFaults,
    quickRestartProbability: 0,
    traffic: {
      intervalMeanMs: prng.pick([50, 100, 200]), smallProbability: 0.3, largeProbability: 0.02,
      sizeMaxBytes: 1400, sizeLargeMaxBytes: 8000, safeProbability: 0.2,
    },
    restartAll: true,
    trafficWhileConverging: true,
    trafficAfterMs: 400,
    steady: { heldFractionMin: 0.9 },
  }),
  storm: (prng: Prng): SwarmOptions => ({
    nodeCount: 7,
    timings: {},
    link: { delayMinMs: prng.real(0.1, 1), delayJitterMs: prng.pick([0.5, 1, 2]), lossProbability: 0, duplicateProbability: 0 },
    safetyMs: prng.int(1500, 3000),
    faultIntervalMeanMs: 30,
    faultWeights: { ...noFaults, crash: 6, partition: 1, heal: 1 },
    quickRestartProbability: 1,
    quickRestartMaxMs: 30,
    traffic: {
      intervalMeanMs: prng.pick([30, 100]), smallProbability: 0.3, largeProbability: 0,
      sizeMaxBytes: 1400, sizeLargeMaxBytes: 1400, safeProbability: 0.2,
    },
    restartAll: true,
    trafficWhileConverging: prng.chance(0.5),
    trafficAfterMs: 300,
  }),
} as const;
export type SwarmProfileName = keyof typeof swarmProfiles;

export function isSwarmProfile(name: string): name is SwarmProfileName {
  return Object.hasOwn(swarmProfiles, name);
}

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

/** Random groups (2 or 3 of them) over `ids`, each non-empty. */
function randomGroups(prng: Prng, ids: readonly number[]): number[][] {
  const count = Math.min(ids.length, prng.int(2, 3));
  const shuffled = prng.shuffle([...ids]);
  const groups: number[][] = Array.from({ length: count }, () => []);
  shuffled.forEach((id, i) => {
    const g = i < count ? i : prng.int(0, count - 1);
    (groups[g] as number[]).push(id);
  });
  return groups;
}

class Faults {
  private readonly filters: number[] = [];
  private stopped = false;

  constructor(private readonly cluster: Cluster, private readonly prng: Prng, private readonly options: SwarmOptions) {}

  private tokenDrop(): void {
    const id = this.cluster.network.dropTypes([MessageType.OrfToken], this.prng.real(0.3, 1));
    this.filters.push(id);
    this.cluster.after(this.prng.int(20, 600), () => this.cluster.network.removeFilter(id));
  }

  private quality(): void {
    const choices = this.options.quality ?? qualityNarrow;
    this.cluster.network.setLinkDefaults({
      lossProbability: this.prng.pick(choices.loss),
      duplicateProbability: this.prng.pick(choices.duplicate),
    });
  }

  private crash(): void {
    const up = this.cluster.up();
    if (up.length === 0) return;
    const id = this.prng.pick(up);
    this.cluster.crash(id);
    if (this.prng.chance(this.options.quickRestartProbability)) {
      this.cluster.after(this.prng.int(1, this.options.quickRestartMaxMs ?? 150), () => {
        // after stop() the liveness phase owns who runs: a late quick restart would change the live set
        if (!this.stopped && !this.cluster.isUp(id)) this.cluster.start(id);
      });
    }
  }

  /** one random fault event. */
  inject(): void {
    const c = this.cluster;
    const kind = faultKinds[this.prng.weighted(faultKinds.map((k) => this.options.faultWeights[k]))] as FaultKind;
    const any = (): number => this.prng.pick(c.ids);
    switch (kind) {
      case 'partition':
        c.network.clearCuts();
        c.network.partition(randomGroups(this.prng, c.ids));
        return;
      case 'heal':
        c.network.heal();
        return;
      case 'crash':
        return this.crash();
      case 'restart': {
        const down = c.down();
        if (down.length > 0) c.start(this.prng.pick(down));
        return;
      }
      case 'leave': {
        const up = c.up().filter((id) => !c.isPaused(id)); // a process that is not scheduled cannot leave
        if (up.length > 0) c.leave(this.prng.pick(up));
        return;
      }
      case 'cut': {
        const from = any();
        const to = any();
        c.network.cut(from, to);
        if (this.prng.chance(0.5)) c.after(this.prng.int(50, 1000), () => c.network.uncut(from, to));
        return;
      }
      case 'isolate':
        c.network.isolate(any());
        return;
      case 'deaf': {
        const id = any();
        c.network.setCannotReceive(id, this.prng.chance(0.8));
        c.after(this.prng.int(200, 3000), () => c.network.clearCannotReceive(id));
        return;
      }
      case 'tokenDrop':
        return this.tokenDrop();
      case 'pause': {
        // a process that is not scheduled: from a blip to past the token timeout
        const up = c.up().filter((id) => !c.isPaused(id));
        if (up.length > 0) c.pause(this.prng.pick(up), this.prng.pick([0.1, 0.3, 0.6, 0.8, 1.5]) * c.config(1).tokenMs);
        return;
      }
      case 'quality':
        return this.quality();
      case 'linkLoss': {
        // one direction of one link (asymmetric): the way back keeps the defaults
        const from = any();
        const to = any();
        if (from === to) return;
        c.network.setLink(from, to, {
          lossProbability: this.prng.pick([0.1, 0.3, 0.5, 0.9]),
          duplicateProbability: this.prng.pick([0, 0, 0.1, 0.2]),
        });
        if (this.prng.chance(0.5)) c.after(this.prng.int(50, 2000), () => c.network.clearLink(from, to));
        return;
      }
      case 'mcastLoss': {
        // MCASTs only, towards one processor (tokens and membership still get
        // through): its aru falls behind while the ring goes on, the case
        // FAILED TO RECEIVE is for. It takes failRecvConst (100) visits with
        // the aru stuck — all of them lost, since a retransmission that gets
        // through moves the aru — so mostly total loss, for long enough for
        // 100 rotations (held tokens on a quiet ring rotate every hold).
        // A link setting, not a drop filter: a heal (connectivity) leaves it.
        const to = any();
        const mcastLossProbability = this.prng.pick([0.5, 1, 1, 1]);
        for (const from of c.ids) if (from !== to) c.network.setLink(from, to, { mcastLossProbability });
        c.after(this.prng.int(500, 5000), () => {
          for (const from of c.ids) if (from !== to) c.network.setLink(from, to, { mcastLossProbability: 0 });
        });
        return;
      }
    }
  }

  /** Liveness phase: a fully connected network, loss-free unless the loss is steady. */
  stop(): void {
    this.stopped = true;
    // a pause drawn late in the safety phase would outlast it (1.5 × token):
    // the liveness phase starts with every process scheduled (seed 1009396:
    // the token sat in a node paused 1.1 s into the progress check)
    for (const id of this.cluster.ids) this.cluster.resumeNow(id);
    const n = this.cluster.network;
    n.heal();
    n.clearLinkOverrides();
    if (this.options.steady === undefined) n.setLinkDefaults({ lossProbability: 0, duplicateProbability: 0 });
  }
}

class Traffic {
  on = true;

  constructor(private readonly cluster: Cluster, private readonly app: AppModel) {}

  /** every node submits at Poisson intervals, whenever traffic is on and it is up. */
  start(): void {
    for (const id of this.cluster.ids) this.cluster.after(this.app.interval(), () => this.tick(id));
  }

  private tick(id: number): void {
    if (this.on && this.cluster.isUp(id)) {
      const submission = this.app.next(id);
      const result = this.cluster.submit(id, submission.payload, submission.guarantee);
      if (result === 'ok') this.app.accepted(id, submission.counter);
    }
    this.cluster.after(this.app.interval(), () => this.tick(id));
  }
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
