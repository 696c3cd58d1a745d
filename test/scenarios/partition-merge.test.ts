/**
 * TOTEM.md §5.6: five processors split 3+2 under traffic, each side forms its
 * own ring with the same ring seq, then the partition heals and they merge.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../sim/cluster.ts';
import {
  App, confs, deliveredInView, expectConverged, expectLiveness, expectSafety, ringKey, ringOf, regularOf, sorted,
  transitionalAfter, view,
} from './helpers.ts';

const all = [1, 2, 3, 4, 5];
const sideA = [1, 2, 3];
const sideB = [4, 5];

describe('a 3+2 partition and its merge (TOTEM.md §5.6)', () => {
  const cluster = new Cluster({ nodeCount: 5, seed: 56 });
  const app = new App(cluster);
  expectConverged(cluster, all, 2000);
  const r1 = ringOf(cluster, 1);
  app.traffic(300);

  // Split while messages are in flight.
  const splitAt = cluster.now;
  cluster.network.partition([sideA, sideB]);
  app.traffic(800);
  const splitConverged = cluster.converged(sideA) && cluster.converged(sideB);
  const ringA = ringOf(cluster, 1);
  const ringB = ringOf(cluster, 4);
  app.traffic(200);

  // Heal and merge, still under traffic.
  const healAt = cluster.now;
  cluster.network.heal();
  app.traffic(600);
  const merged = ringOf(cluster, 1);
  const mergedConverged = cluster.converged(all);
  const idleFrom = cluster.now;
  cluster.runFor(1000);

  it('both sides form their own ring within token + consensus', () => {
    expect(splitConverged, cluster.describe().join('\n')).toBe(true);
  });

  it('the two rings have different representatives and the same seq (old seq + 4)', () => {
    expect(ringA.rep).toBe(1);
    expect(ringB.rep).toBe(4);
    expect(ringA.seq).toBe(ringB.seq);
    expect(ringA.seq).toBe(r1.seq + 4);
  });

  it('side A reports TRANS {1,2,3} left {4,5}, then REG {1,2,3}', () => {
    for (const n of sideA) {
      expect(confs(cluster, n, { after: splitAt }).slice(0, 2).map(view)).toEqual([
        { type: 'transitional', ring: ringKey(ringA), members: sideA, left: sideB, joined: [] },
        { type: 'regular', ring: ringKey(ringA), members: sideA, left: [], joined: [] },
      ]);
    }
  });

  it('side B reports TRANS {4,5} left {1,2,3}, then REG {4,5}', () => {
    for (const n of sideB) {
      expect(confs(cluster, n, { after: splitAt }).slice(0, 2).map(view)).toEqual([
        { type: 'transitional', ring: ringKey(ringB), members: sideB, left: sideA, joined: [] },
        { type: 'regular', ring: ringKey(ringB), members: sideB, left: [], joined: [] },
      ]);
    }
  });

  it('processors moving together delivered the same set in the old ring and in the transitional view', () => {
    for (const side of [sideA, sideB]) {
      const [first, ...rest] = side as [number, ...number[]];
      const oldSet = sorted(deliveredInView(cluster, regularOf(cluster, first, r1)));
      const transSet = sorted(deliveredInView(cluster, transitionalAfter(cluster, first, r1)));
      expect(oldSet.length).toBeGreaterThan(0);
      for (const n of rest) {
        expect(sorted(deliveredInView(cluster, regularOf(cluster, n, r1)))).toEqual(oldSet);
        expect(sorted(deliveredInView(cluster, transitionalAfter(cluster, n, r1)))).toEqual(transSet);
      }
    }
  });

  it('each side orders its own messages while split; the other side never sees them', () => {
    const inA = new Set(deliveredInView(cluster, regularOf(cluster, 1, ringA)));
    const inB = new Set(deliveredInView(cluster, regularOf(cluster, 4, ringB)));
    expect(inA.size).toBeGreaterThan(10);
    expect(inB.size).toBeGreaterThan(10);
    for (const id of inA) expect(inB.has(id)).toBe(false);
    for (const n of sideA) expect(sorted(deliveredInView(cluster, regularOf(cluster, n, ringA)))).toEqual(sorted(inA));
    for (const n of sideB) expect(sorted(deliveredInView(cluster, regularOf(cluster, n, ringB)))).toEqual(sorted(inB));
  });

  it('the merge forms one ring of all five, with a seq above both sides', () => {
    expect(mergedConverged, cluster.describe().join('\n')).toBe(true);
    expect(merged.rep).toBe(1);
    expect(merged.seq).toBeGreaterThan(ringA.seq);
  });

  it('on the merge side A sees TRANS {1,2,3} left {} then REG {1..5} joined {4,5}', () => {
    for (const n of sideA) {
      expect(confs(cluster, n, { after: healAt }).map(view)).toEqual([
        { type: 'transitional', ring: ringKey(merged), members: sideA, left: [], joined: [] },
        { type: 'regular', ring: ringKey(merged), members: all, left: [], joined: sideB },
      ]);
    }
  });

  it('and side B sees TRANS {4,5} left {} then REG {1..5} joined {1,2,3}', () => {
    for (const n of sideB) {
      expect(confs(cluster, n, { after: healAt }).map(view)).toEqual([
        { type: 'transitional', ring: ringKey(merged), members: sideB, left: [], joined: [] },
        { type: 'regular', ring: ringKey(merged), members: all, left: [], joined: sideA },
      ]);
    }
  });

  it('every EVS invariant holds over the whole run', () => {
    expectSafety(cluster);
    expectLiveness(cluster, { live: all, healedAt: healAt, boundMs: 1000, idleFrom: idleFrom + 300, end: cluster.now });
  });
});
