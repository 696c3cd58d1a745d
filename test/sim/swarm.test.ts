/**
 * Swarm runs in CI: fixed seeds, small clusters, short safety phases, so the
 * whole file stays well under a minute on two cores. Tune with
 *   TOTEM_SWARM_SEEDS=<count>  (default 500)   TOTEM_SWARM_BASE=<first seed> (default 1)
 * A failure names the seed; replay it with `npm run sim -- --seed <seed> --nodes 2..8 --safety 1000..4000`.
 * The runs draw from the wide mix (swarm-draw.ts `wideOptions`: timers, delays up to
 * half the token timeout, loss to 50%, messages to 1 MiB…) with the cluster
 * size and the safety phase pinned small; 'swarm draws' checks the draws of
 * the unpinned mix against the fault space and the config rules.
 *
 * Regression seeds (`regressions` below): seeds of a full random mix (no
 * size or phase pins) that once failed, replayed with the mix and ordering
 * they failed in (`npm run sim -- --seed <seed> [--mix narrow] [--ordering <ordering>]`):
 *  - 3423963613985 classic: 9 nodes, a deaf node, restarts at the heal;
 *    converged 86 ms past the bound, which left out the consensus back-off
 *    (up to consensus/4 per round; checkers.ts `livenessBoundMs`).
 *  - 3423963614751 classic: 13 nodes, one member 1,244 messages behind when
 *    the ring broke: RECOVERY had every one of 10 members re-send all of them
 *    (415 rotations, 7.6 s) while 3 others waited to merge; 610 ms past the
 *    bound. Now each is re-sent once (recovery.ts `recoverySender`).
 *  - 228, 263, 336 (wide mix, ordering drawn): converged 0.1–8% past the
 *    bound; pass with the two changes above.
 *  - 198 (wide mix): 28 processors, 17.9 s to converge (bound 17.6 s); 267
 *    and 361 of the CI pins (they run in the chunks below): 6 processors
 *    formed pairs apart at each consensus timeout, 3.2 s and 15.5 s (bounds
 *    3.2 s and 9.9 s). A processor whose view was mine plus failures learned
 *    in another ring never agreed with me, because failure knowledge was
 *    adopted only from old ring-mates (corosync); adopting, from outside the
 *    old ring, the failures of processors that name me failed (gather.ts
 *    `adoptedFailures`), they converge in 5.0 s, 0.23 s and 2.0 s.
 *  - 2107, 2211 (wide mix): a message of ~960 KB (~750 fragments, 4 or 1 per
 *    visit) still being sent when the drain looked for progress in queued
 *    messages only: one message for many periods, so the drain stopped and
 *    the checkers saw it undelivered (13, 17). The harness, not the core:
 *    the drain now also counts datagrams sent (swarm.ts).
 *  - 2605 (wide mix): 64 processors, token 3.3 s, safety phase 2.2 s: 14
 *    nodes booted after the heal, outside the live set, and joined the final
 *    ring (invariant 16 saw a ring larger than the live set). The harness:
 *    boots left for the liveness phase now happen at the heal, in the live set.
 *  - 1009396 (wide mix): a pause of 1.5 × token drawn late in the safety phase
 *    outlasted it; the token sat in the paused node 1.1 s into the progress
 *    check (17). The harness: the liveness phase resumes every paused node.
 *  - 1013029 (wide mix): aborted by the step budget before its bound (too
 *    long to replay here; 'swarm draws' checks its budget).
 *  - 1018581 (wide mix): 19 processors on a perfect network after the heal
 *    took 42.9 s of a 44.0 s bound: consensus partners timed out one after
 *    the other, each leaving the agreement the next one waited for, until
 *    the round fell apart into singletons that merged a few at a time. With
 *    a partner's verdict adopted (gather.ts `adoptedFailures`) it converges
 *    in 4.2 s; the test holds it under a quarter of its bound.
 */
import { describe, expect, it } from 'vitest';
import { deriveTotemConfig, type TotemTimings } from '../../src/protocol/config.ts';
import { timeoutMsMin } from '../../src/limits.ts';
import { invariantNames } from './checkers.ts';
import { Cluster, simTimings } from './cluster.ts';
import { Prng } from './prng.ts';
import { clusterLargeNodes, slowDelayMaxMs, swarmOptions } from './swarm-draw.ts';
import type { SwarmOverrides } from './swarm-options.ts';
import { runLimits, runSwarm, stepsMaxFor } from './swarm.ts';

const seedCount = Number(process.env['TOTEM_SWARM_SEEDS'] ?? 500);
const seedBase = Number(process.env['TOTEM_SWARM_BASE'] ?? 1);
const chunk = 25;
const overrides: SwarmOverrides = { nodesMin: 2, nodesMax: 8, safetyMsMin: 1000, safetyMsMax: 4000, stepsMax: 2_000_000 };

/** seed, the mix and ordering it failed in (unset: the wide mix, ordering drawn); what each caught is in the header comment. */
const regressions: readonly {
  readonly seed: number; readonly mix?: 'narrow'; readonly ordering?: 'classic' | 'accelerated';
  /** converged within this fraction of the liveness bound (default: within the bound) */
  readonly boundFraction?: number;
}[] = [
  { seed: 3423963613985, mix: 'narrow', ordering: 'classic' },
  { seed: 3423963614751, mix: 'narrow', ordering: 'classic' },
  { seed: 228 },
  { seed: 263 },
  { seed: 336 },
  { seed: 198 },
  { seed: 2107 },
  { seed: 2211 },
  { seed: 2605 },
  { seed: 1009396 },
  { seed: 1018581, boundFraction: 0.25 },
];

describe('swarm regressions', () => {
  for (const { seed, mix, ordering, boundFraction } of regressions) {
    const flags = `${mix === undefined ? '' : ` --mix ${mix}`}${ordering === undefined ? '' : ` --ordering ${ordering}`}`;
    it(`seed ${seed}${flags}: no violation, converged`, () => {
      const result = runSwarm(seed, { ...(mix === undefined ? {} : { mix }), ...(ordering === undefined ? {} : { ordering }) });
      const failures = result.violations.slice(0, 5)
        .map((v) => `invariant ${v.invariant} (${invariantNames[v.invariant] ?? '?'}) n${v.node}: ${v.detail.split('\n')[0]}`);
      expect(failures, `replay: npm run sim -- --seed ${seed}${flags}`).toEqual([]);
      expect(result.convergedAfterMs).not.toBeNull();
      if (boundFraction !== undefined) expect(result.convergedAfterMs).toBeLessThan(boundFraction * result.boundMs);
      expect(result.delivered).toBeGreaterThan(0);
    }, 60_000);
  }
});

describe('swarm draws', () => {
  // the options only (no run): cheap enough for thousands of seeds
  const drawn = Array.from({ length: 2000 }, (_, seed) => swarmOptions(new Prng(seed + 1).fork()));

  it('stay inside the fault space and the config rules', () => {
    for (const o of drawn) {
      expect(o.nodeCount === clusterLargeNodes || (o.nodeCount >= 2 && o.nodeCount <= 32)).toBe(true);
      const t: TotemTimings = { ...simTimings, ...o.timings };
      const config = deriveTotemConfig(1, o.nodeCount, t);
      expect(config.tokenMs).toBeGreaterThanOrEqual(timeoutMsMin);
      expect(config.consensusMs).toBeGreaterThanOrEqual(Math.max(timeoutMsMin, config.joinMs));
      expect(config.tokenRetransmitMs).toBeLessThan(config.tokenMs);
      expect(t.tokenCoefficientMs).toBeGreaterThanOrEqual(0);
      expect(o.link.lossProbability).toBeLessThanOrEqual(0.5);
      expect(o.link.duplicateProbability).toBeLessThanOrEqual(0.2);
      expect(o.link.delayMinMs + o.link.delayJitterMs).toBeLessThanOrEqual(slowDelayMaxMs(config.tokenMs, o.nodeCount) + 1e-9);
      expect(slowDelayMaxMs(config.tokenMs, o.nodeCount)).toBeLessThanOrEqual(config.tokenMs / 2);
      expect(o.traffic.sizeLargeMaxBytes).toBeLessThanOrEqual(1024 * 1024);
    }
  });

  it('reach its edges', () => {
    const some = (p: (o: (typeof drawn)[number]) => boolean): number => drawn.filter(p).length;
    const tokenOf = (o: (typeof drawn)[number]): number => deriveTotemConfig(1, o.nodeCount, { ...simTimings, ...o.timings }).tokenMs;
    expect(some((o) => o.nodeCount === clusterLargeNodes)).toBeGreaterThan(0);
    expect(some((o) => o.nodeCount === 32)).toBeGreaterThan(0);
    expect(some((o) => o.link.lossProbability === 0.5)).toBeGreaterThan(0);
    expect(some((o) => o.link.duplicateProbability === 0.2)).toBeGreaterThan(0);
    // float: delayMin + (delayMax − delayMin) may round off delayMax by an ulp
    const atCap = (o: (typeof drawn)[number]): boolean =>
      Math.abs(o.link.delayMinMs + o.link.delayJitterMs - slowDelayMaxMs(tokenOf(o), o.nodeCount)) < 1e-9;
    expect(some((o) => o.nodeCount === 2 && atCap(o))).toBeGreaterThan(0);
    expect(some((o) => o.nodeCount > 10 && atCap(o))).toBeGreaterThan(0);
    expect(some((o) => o.traffic.sizeLargeMaxBytes === 1024 * 1024 && o.traffic.largeProbability > 0)).toBeGreaterThan(0);
    expect(some((o) => o.faultWeights.linkLoss > 0)).toBeGreaterThan(0);
    expect(some((o) => o.faultWeights.mcastLoss > 0)).toBeGreaterThan(0);
    expect(new Set(drawn.map((o) => o.timings.tokenMs)).size).toBeGreaterThan(3);
    expect(some((o) => (o.timings.tokenCoefficientMs ?? 0) > 0)).toBeGreaterThan(0);
    expect(some((o) => o.timings.consensusMs !== undefined)).toBeGreaterThan(0);
  });

  // seeds 1050222 and 1050272 (token 1000 and 1240 ms): the simulator's fixed 240 ms
  // overrode the derivation, and the two groups of a heal excluded each other round after round
  it('leave the consensus timeout, when not drawn, to corosync\'s derivation from the token the cluster runs with', () => {
    for (const seed of [1050222, 1050272]) {
      const options = swarmOptions(new Prng(seed).fork());
      expect(options.timings.consensusMs).toBeUndefined();
      const cluster = new Cluster({ nodeCount: options.nodeCount, seed, timings: options.timings, startAll: false });
      const config = cluster.config(1);
      expect(config.tokenMs).toBeGreaterThanOrEqual(1000);
      expect(config.consensusMs).toBe(Math.floor(1.2 * config.tokenMs));
    }
  });

  // seed 1013029 (64 processors, token 3.6 s, consensus 10.8 s, delays to 45 ms) converged
  // 169 s after the heal, within its 451 s bound, in 26,931,767 steps (measured without a
  // budget, 255 s of CPU: too long for this suite); the fixed 20 million aborted it at 112 s
  it('give a run steps for a GATHER of every processor over its safety phase and convergence bound', () => {
    const options = swarmOptions(new Prng(1013029).fork());
    const { config, boundMs, stepsMax } = runLimits(options);
    expect([options.nodeCount, config.tokenMs, config.consensusMs]).toEqual([64, 3600, 10_800]);
    expect(boundMs).toBeGreaterThan(169_000);
    expect(stepsMax).toBe(Math.ceil((64 * 64) / config.joinMs * (options.safetyMs + boundMs)));
    expect(stepsMax).toBeGreaterThan(26_931_767);
    expect(stepsMaxFor(4, config.joinMs, 2000, 10_000)).toBe(20_000_000);
  });
});

describe('swarm', () => {
  it('replays a seed exactly (same digest of every log record)', () => {
    const a = runSwarm(424242, overrides);
    const b = runSwarm(424242, overrides);
    expect(a.sent).toBeGreaterThan(0);
    expect(b.digest).toBe(a.digest);
    expect(b.steps).toBe(a.steps);
    expect(runSwarm(424243, overrides).digest).not.toBe(a.digest);
  });

  for (let from = seedBase; from < seedBase + seedCount; from += chunk) {
    const to = Math.min(from + chunk, seedBase + seedCount);
    it(`seeds ${from}..${to - 1}: no violation, messages delivered`, () => {
      const failures: string[] = [];
      let sent = 0;
      let sentDelivered = 0;
      let delivered = 0;
      for (let seed = from; seed < to; seed++) {
        const result = runSwarm(seed, overrides);
        delivered += result.delivered;
        const deliveredIds = new Set<string>();
        for (const r of result.cluster.log.records) if (r.kind === 'deliver' && r.msgId !== null) deliveredIds.add(r.msgId);
        for (const r of result.cluster.log.records) {
          if (r.kind !== 'send') continue;
          sent += 1;
          if (deliveredIds.has(r.msgId)) sentDelivered += 1;
        }
        for (const v of result.violations.slice(0, 3)) {
          failures.push(`seed ${seed}: invariant ${v.invariant} (${invariantNames[v.invariant] ?? '?'}) n${v.node}: ${v.detail.split('\n')[0]}`);
        }
      }
      expect(failures).toEqual([]);
      expect(delivered).toBeGreaterThan(0);
      // crashes lose queued submissions; everything else must get through
      expect(sentDelivered / sent).toBeGreaterThan(0.8);
    });
  }
});
