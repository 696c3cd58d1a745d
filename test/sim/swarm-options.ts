/**
 * What one swarm run is made of (`SwarmOptions`: cluster, knobs, links,
 * faults, traffic) and what a caller may pin (`SwarmOverrides`).
 */
import type { Ordering, TotemTimings } from '../../src/protocol/config.ts';
import type { TrafficOptions } from './app.ts';
import type { LinkOptions } from './network.ts';
import type { SwarmProfileName } from './swarm-profiles.ts';

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
