/**
 * Crashes: the representative dies under traffic (TOTEM.md §3.3: survivors
 * need token + consensus + a few ms), and a processor dies while the others
 * are in RECOVERY (§5.2: the next attempt starts from the saved old-ring state).
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../sim/cluster.ts';
import { MessageType } from '../../src/wire/messages.ts';
import {
  App, confs, delivered, deliveredInView, expectConverged, expectDeliveredEverywhere, expectLiveness, expectSafety,
  ringKey, ringOf, regularOf, sorted, transitionalAfter, view,
} from './helpers.ts';

describe('crash of the representative', () => {
  const all = [1, 2, 3, 4, 5];
  const survivors = [2, 3, 4, 5];
  const cluster = new Cluster({ nodeCount: 5, seed: 101 });
  const app = new App(cluster);
  expectConverged(cluster, all, 2000);
  const r1 = ringOf(cluster, 1);
  app.traffic(400);

  const crashAt = cluster.now;
  cluster.crash(1);
  // Survivors keep submitting while they detect the loss and re-form.
  let reformedAt = Infinity;
  cluster.runUntil(() => {
    if (reformedAt === Infinity && survivors.every((n) => confs(cluster, n, { after: crashAt }).some((c) => c.type === 'regular'))) {
      reformedAt = cluster.now;
    }
    return reformedAt !== Infinity;
  }, 2000);
  const r2 = ringOf(cluster, 2);
  app.traffic(300);
  const quietAt = cluster.now;
  cluster.runFor(800);
  const { tokenMs, consensusMs } = cluster.config(2);

  it('survivors report TRANS {2..5} left {1}, then REG {2..5}', () => {
    for (const n of survivors) {
      expect(confs(cluster, n, { after: crashAt }).map(view)).toEqual([
        { type: 'transitional', ring: ringKey(r2), members: survivors, left: [1], joined: [] },
        { type: 'regular', ring: ringKey(r2), members: survivors, left: [], joined: [] },
      ]);
    }
    expect(r2.rep).toBe(2);
    expect(r2.seq).toBe(r1.seq + 4);
  });

  it('the new regular configuration comes within token + consensus + 50 ms of the crash', () => {
    const elapsed = reformedAt - crashAt;
    expect(elapsed).toBeLessThanOrEqual(tokenMs + consensusMs + 50);
    // and not before the consensus timeout could have declared node 1 failed
    expect(elapsed).toBeGreaterThan(consensusMs);
  });

  it('survivors lose none of the messages they accepted', () => {
    const accepted = survivors.flatMap((n) => app.acceptedBy(n));
    expect(accepted.length).toBeGreaterThan(100);
    for (const n of survivors) {
      const have = new Set(delivered(cluster, n));
      expect(accepted.filter((id) => !have.has(id))).toEqual([]);
    }
  });

  it('survivors delivered identical sets in the old ring and in the transitional view', () => {
    const old2 = sorted(deliveredInView(cluster, regularOf(cluster, 2, r1)));
    const trans2 = sorted(deliveredInView(cluster, transitionalAfter(cluster, 2, r1)));
    for (const n of survivors) {
      expect(sorted(deliveredInView(cluster, regularOf(cluster, n, r1)))).toEqual(old2);
      expect(sorted(deliveredInView(cluster, transitionalAfter(cluster, n, r1)))).toEqual(trans2);
    }
  });

  it('every EVS invariant holds', () => {
    expectSafety(cluster);
    expectLiveness(cluster, { live: survivors, healedAt: crashAt, boundMs: tokenMs + consensusMs + 100, idleFrom: quietAt + 300, end: cluster.now });
  });
});

describe('crash of a processor while the others are in RECOVERY', () => {
  const all = [1, 2, 3, 4, 5];
  const cluster = new Cluster({ nodeCount: 5, seed: 52 });
  const app = new App(cluster);
  expectConverged(cluster, all, 2000);
  const r1 = ringOf(cluster, 1);
  app.traffic(300);

  // Node 4 misses a third of the multicasts from here on, so it has holes when
  // node 5 crashes and the recovery round has old-ring messages to re-send.
  const lossy = cluster.network.addFilter((p) => p.to === 4 && p.from !== 4 && p.message.type === MessageType.Mcast && cluster.prng.chance(0.3));
  app.traffic(40, { everyMs: 2 });
  // Node 5 crashes; the survivors go through GATHER and COMMIT into RECOVERY.
  // Step by step until node 3 has entered RECOVERY, then crash it in the middle of the round.
  cluster.crash(5);
  cluster.runUntil(() => cluster.core(3).processor.state === 'recovery', 2000);
  cluster.network.removeFilter(lossy);
  const states = [1, 2, 3, 4].map((id) => cluster.core(id).processor.state);
  const attempt = ringOf(cluster, 1);
  const crashAt = cluster.now;
  const recoveryLines = [1, 2, 3, 4].flatMap((id) => cluster.coreLines(id).filter((l) => l.line.startsWith('Originated')).map((l) => l.line));
  cluster.crash(3);
  const rest = [1, 2, 4];
  app.traffic(200);
  expectConverged(cluster, rest, 3000);
  const final = ringOf(cluster, 1);
  app.traffic(200);
  const quietAt = cluster.now;
  const late = rest.flatMap((id) => app.acceptedBy(id, crashAt));
  expectDeliveredEverywhere(cluster, rest, late, 2000);
  cluster.runFor(500);

  it('the crash really hit a recovery round that was re-sending old-ring messages', () => {
    expect(states[0]).toBe('recovery');
    expect(states[2]).toBe('recovery');
    expect(attempt.seq).toBe(r1.seq + 4);
    expect(recoveryLines.length).toBeGreaterThan(0);
  });

  it('the rest converge on {1,2,4}; the aborted ring is never installed', () => {
    expect(final.seq).toBeGreaterThan(attempt.seq);
    for (const id of rest) {
      const changes = confs(cluster, id, { after: crashAt - 1000 }).map(view);
      expect(changes.some((c) => c.ring === ringKey(attempt))).toBe(false);
      expect(changes.slice(-2)).toEqual([
        { type: 'transitional', ring: ringKey(final), members: rest, left: [3, 5], joined: [] },
        { type: 'regular', ring: ringKey(final), members: rest, left: [], joined: [] },
      ]);
    }
  });

  it('the rest delivered identical sets in the old ring and in the transitional view', () => {
    const old = sorted(deliveredInView(cluster, regularOf(cluster, 1, r1)));
    const trans = sorted(deliveredInView(cluster, transitionalAfter(cluster, 1, r1)));
    for (const id of rest) {
      expect(sorted(deliveredInView(cluster, regularOf(cluster, id, r1)))).toEqual(old);
      expect(sorted(deliveredInView(cluster, transitionalAfter(cluster, id, r1)))).toEqual(trans);
    }
  });

  it('every message the rest accepted is delivered by all of them', () => {
    const accepted = rest.flatMap((id) => app.acceptedBy(id));
    for (const id of rest) {
      const have = new Set(delivered(cluster, id));
      expect(accepted.filter((m) => !have.has(m))).toEqual([]);
    }
  });

  it('every EVS invariant holds', () => {
    expectSafety(cluster);
    expectLiveness(cluster, { live: rest, healedAt: crashAt, boundMs: 2000, idleFrom: quietAt + 800, end: cluster.now });
  });
});
