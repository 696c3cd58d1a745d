/**
 * TOTEM.md §6.4: a large message is cut into many datagrams; when a partition
 * strikes while they are being ordered, some fragments belong to the old ring
 * and the rest would follow in the new one. Nobody may deliver a partial or
 * glued message; processors moving together deliver the same set; the sender
 * delivers its message exactly once (a message belongs to the ring that
 * ordered its last fragment, so it may appear in the next ring).
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../sim/cluster.ts';
import { Guarantee, MessageType, type Mcast } from '../../src/wire/messages.ts';
import {
  App, deliveries, deliveredInView, expectConverged, expectLiveness, expectSafety, ringKey, ringOf, regularOf, sorted,
  transitionalAfter,
} from './helpers.ts';

const bigBytes = 40 * 1024;

describe('a fragmented message straddling a partition', () => {
  const all = [1, 2, 3, 4, 5];
  const sideA = [1, 2, 3];
  const sideB = [4, 5];
  const cluster = new Cluster({ nodeCount: 5, seed: 64, messageBytesMax: 64 * 1024, queueBytesMax: 256 * 1024 });
  const app = new App(cluster, 100);
  expectConverged(cluster, all, 2000);
  const r1 = ringOf(cluster, 1);
  app.traffic(100);

  // Count the large datagrams nodes 1 and 4 put on the wire (their loopback copies).
  const fragmentsSent = new Map<number, number>([[1, 0], [4, 0]]);
  cluster.network.addFilter((p) => {
    const m = p.message;
    if (m.type === MessageType.Mcast && p.to === p.from && (m as Mcast).inner === null && (m as Mcast).payload.length > 1000) {
      fragmentsSent.set(p.from, (fragmentsSent.get(p.from) ?? 0) + 1);
    }
    return false;
  });

  // Both sides' senders submit a 40 KB message (about 30 datagrams each) amid small traffic.
  const big1 = app.send(1, { size: bigBytes, guarantee: Guarantee.Agreed });
  const big4 = app.send(4, { size: bigBytes, guarantee: Guarantee.Agreed });
  let tick = 0;
  cluster.runUntil(() => {
    if (++tick % 50 === 0) for (const n of all) app.send(n);
    return (fragmentsSent.get(1) ?? 0) >= 8;
  }, 1000);
  const atSplit = new Map(fragmentsSent);
  const splitAt = cluster.now;
  cluster.network.partition([sideA, sideB]);
  app.traffic(800, { everyMs: 20 });
  const ringA = ringOf(cluster, 1);
  const ringB = ringOf(cluster, 4);
  const splitConverged = cluster.converged(sideA) && cluster.converged(sideB);

  const healAt = cluster.now;
  cluster.network.heal();
  app.traffic(600, { everyMs: 20 });
  expectConverged(cluster, all, 2000);
  const quietAt = cluster.now;
  cluster.runFor(800);

  const bigDeliveries = (n: number, id: string | null) => deliveries(cluster, n).filter((d) => d.msgId === id);

  it('the partition really cut the message: some of its datagrams went out before, the rest after', () => {
    expect(big1).not.toBeNull();
    expect(big4).not.toBeNull();
    expect(atSplit.get(1)).toBeGreaterThanOrEqual(8);
    expect(atSplit.get(1)).toBeLessThan(30);
    expect(splitConverged, cluster.describe().join('\n')).toBe(true);
    expect(ringA.seq).toBeGreaterThan(r1.seq);
  });

  it('each sender delivers its own large message exactly once, whole', () => {
    for (const [sender, id] of [[1, big1], [4, big4]] as const) {
      const got = bigDeliveries(sender, id);
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ size: bigBytes, bytesOk: true });
    }
  });

  it('no processor delivers a partial or glued message', () => {
    for (const n of all) {
      for (const d of deliveries(cluster, n)) {
        expect(d.bytesOk, `n${n} ${d.msgId ?? '?'} ${d.size} B`).toBe(true);
        if (d.msgId === big1 || d.msgId === big4) expect(d.size).toBe(bigBytes);
      }
    }
  });

  it('processors moving together deliver the same set in the old ring, the transitional view and their side\'s ring', () => {
    for (const [side, r] of [[sideA, ringA], [sideB, ringB]] as const) {
      const ref = side[0] as number;
      const old = sorted(deliveredInView(cluster, regularOf(cluster, ref, r1)));
      const trans = sorted(deliveredInView(cluster, transitionalAfter(cluster, ref, r1)));
      const own = sorted(deliveredInView(cluster, regularOf(cluster, ref, r)));
      for (const n of side) {
        expect(sorted(deliveredInView(cluster, regularOf(cluster, n, r1)))).toEqual(old);
        expect(sorted(deliveredInView(cluster, transitionalAfter(cluster, n, r1)))).toEqual(trans);
        expect(sorted(deliveredInView(cluster, regularOf(cluster, n, r)))).toEqual(own);
      }
    }
  });

  it('each large message is delivered on its sender\'s side, in one ring, by every processor there', () => {
    for (const [id, side] of [[big1, sideA], [big4, sideB]] as const) {
      const rings = new Set(side.flatMap((n) => bigDeliveries(n, id).map((d) => ringKey(d.ringId))));
      expect(rings.size).toBe(1);
      for (const n of side) expect(bigDeliveries(n, id)).toHaveLength(1);
    }
    // a side delivers the other side's large message only if all of it was ordered in the old ring
    for (const [id, other] of [[big1, sideB], [big4, sideA]] as const) {
      const counts = other.map((n) => bigDeliveries(n, id).length);
      expect(new Set(counts).size).toBe(1);
      for (const n of other) for (const d of bigDeliveries(n, id)) expect(ringKey(d.ringId)).toBe(ringKey(r1));
    }
  });

  it('every EVS invariant holds', () => {
    expectSafety(cluster);
    expectLiveness(cluster, { live: all, healedAt: healAt, boundMs: 1500, idleFrom: quietAt + 300, end: cluster.now });
    expect(splitAt).toBeLessThan(healAt);
  });
});
