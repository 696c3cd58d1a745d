/**
 * Swarm runs in CI: fixed seeds, small clusters, short safety phases, so the
 * whole file stays well under a minute on two cores. Tune with
 *   TOTEM_SWARM_SEEDS=<count>  (default 500)   TOTEM_SWARM_BASE=<first seed> (default 1)
 * A failure names the seed; replay it with `npm run sim -- --seed <seed> --nodes 2..8 --safety 1000..4000`.
 */
import { describe, expect, it } from 'vitest';
import { invariantNames } from './checkers.ts';
import { runSwarm, type SwarmOverrides } from './swarm.ts';

const seedCount = Number(process.env['TOTEM_SWARM_SEEDS'] ?? 500);
const seedBase = Number(process.env['TOTEM_SWARM_BASE'] ?? 1);
const chunk = 25;
const overrides: SwarmOverrides = { nodesMin: 2, nodesMax: 8, safetyMsMin: 1000, safetyMsMax: 4000, stepsMax: 2_000_000 };

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
