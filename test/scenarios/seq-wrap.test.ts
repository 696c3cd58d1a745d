/**
 * Message seqs are uint32 and wrap (src/protocol/seq.ts). With corosync's test
 * hook `seqStart` at 0xFFFFFF00, every ring's first seq is 0xFFFFFF01 and the
 * 2^32 wrap comes after 255 datagrams: thousands of messages cross it, in
 * every ring, including the rings of a partition and of the merge after it.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../sim/cluster.ts';
import { seqLt } from '../../src/protocol/seq.ts';
import {
  App, deliveries, delivered, deliveredInView, expectConverged, expectDeliveredEverywhere, expectLiveness, expectSafety,
  ringKey, ringOf, regularOf,
} from './helpers.ts';

const seqStart = 0xffffff00;

describe('sequence numbers starting near the 2^32 wrap', () => {
  const all = [1, 2, 3, 4, 5];
  const sideA = [1, 2, 3];
  const sideB = [4, 5];
  const cluster = new Cluster({ nodeCount: 5, seed: 32, timings: { seqStart } });
  // 1000-byte messages: about one datagram each, so seqs advance about once per message.
  const app = new App(cluster, 1000);
  expectConverged(cluster, all, 2000);
  const r1 = ringOf(cluster, 1);
  app.traffic(300, { everyMs: 1 });

  const splitAt = cluster.now;
  cluster.network.partition([sideA, sideB]);
  app.traffic(800, { everyMs: 2 });
  const ringA = ringOf(cluster, 1);
  const ringB = ringOf(cluster, 4);
  const split = cluster.converged(sideA) && cluster.converged(sideB);

  const healAt = cluster.now;
  cluster.network.heal();
  app.traffic(300, { everyMs: 2 });
  expectConverged(cluster, all, 2000);
  const merged = ringOf(cluster, 1);
  app.traffic(300, { everyMs: 1 });
  const quietAt = cluster.now;
  expectDeliveredEverywhere(cluster, all, app.accepted.filter((a) => a.at > quietAt - 300).map((a) => a.msgId), 2000);
  cluster.runFor(600);

  /** the seqs `node` delivered for messages of ring `r`, in delivery order. */
  const seqsIn = (node: number, r: { rep: number; seq: number }): number[] =>
    deliveries(cluster, node).filter((d) => ringKey(d.ringId) === ringKey(r)).map((d) => d.seq);

  it('thousands of messages are delivered', () => {
    expect(app.accepted.length).toBeGreaterThan(3000);
    for (const n of all) expect(delivered(cluster, n).length).toBeGreaterThan(2000);
  });

  it('the rings are the ones of a 3+2 split and a merge', () => {
    expect(split, cluster.describe().join('\n')).toBe(true);
    expect(ringA.seq).toBe(ringB.seq);
    expect(ringA.seq).toBeGreaterThan(r1.seq);
    expect(merged.seq).toBeGreaterThan(ringA.seq);
    expect(splitAt).toBeLessThan(healAt);
  });

  it('in every ring the seqs run from 0xFFFFFF01 across the wrap to small numbers', () => {
    const cases: [number, { rep: number; seq: number }][] = [
      [1, r1], [4, r1], [1, ringA], [4, ringB], [1, merged], [5, merged],
    ];
    for (const [node, r] of cases) {
      const seqs = seqsIn(node, r);
      expect(seqs.length, `n${node} ring ${ringKey(r)}`).toBeGreaterThan(300);
      expect(seqs.some((s) => s > seqStart), `n${node} ring ${ringKey(r)} has seqs above seqStart`).toBe(true);
      expect(seqs.some((s) => s < 0x1000), `n${node} ring ${ringKey(r)} wrapped past 2^32`).toBe(true);
    }
  });

  it('each processor delivers every ring\'s messages in seq order, across the wrap', () => {
    for (const n of all) {
      for (const r of [r1, ringA, ringB, merged]) {
        const seqs = seqsIn(n, r);
        const bad = seqs.findIndex((s, i) => i > 0 && seqLt(s, seqs[i - 1] as number));
        expect(bad, `n${n} ring ${ringKey(r)}: seq ${seqs[bad]?.toString(16)} after ${seqs[bad - 1]?.toString(16)}`).toBe(-1);
      }
    }
  });

  it('processors of one ring deliver the identical sequence of messages', () => {
    for (const [r, members] of [[r1, all], [ringA, sideA], [ringB, sideB], [merged, all]] as const) {
      const ref = deliveredInView(cluster, regularOf(cluster, members[0] as number, r));
      for (const n of members) {
        const mine = deliveredInView(cluster, regularOf(cluster, n, r));
        const common = Math.min(ref.length, mine.length);
        expect(mine.slice(0, common)).toEqual(ref.slice(0, common));
      }
    }
  });

  it('every EVS invariant holds', () => {
    expectSafety(cluster);
    expectLiveness(cluster, { live: all, healedAt: healAt, boundMs: 1500, idleFrom: quietAt + 300, end: cluster.now });
  });
});
