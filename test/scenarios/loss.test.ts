/**
 * Lossy networks: every link drops datagrams at random (tokens included, so
 * the token is lost now and then and the ring re-forms). Whatever membership
 * churn that causes, the EVS invariants hold, and once the loss stops the
 * cluster converges and every accepted message reaches every node.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../sim/cluster.ts';
import { MessageType } from '../../src/wire/messages.ts';
import {
  App, confs, delivered, expectConverged, expectDeliveredEverywhere, expectLiveness, expectSafety, lastRegular, ringKey,
} from './helpers.ts';

describe('token loss under 30% datagram loss on every link, with traffic', () => {
  const all = [1, 2, 3, 4, 5];
  // corosync's 4 token retransmits per token timeout: with the default of 10
  // the ring rides out 30% loss (the swarm's loss30 profile), and this
  // scenario is about what happens when the token IS lost.
  const cluster = new Cluster({ nodeCount: 5, seed: 30, timings: { tokenRetransmitsBeforeLossConst: 4 } });
  const app = new App(cluster);
  expectConverged(cluster, all, 2000);
  const tokensBefore = cluster.network.stats.arrivalsByType[MessageType.OrfToken] ?? 0;

  const lossFrom = cluster.now;
  cluster.network.setLinkDefaults({ lossProbability: 0.3 });
  // Keep the traffic going until the token has been lost at least twice (a hop
  // loses the token only when the token and its four retransmissions all drop).
  const tokenLostCount = (): number =>
    cluster.log.records.filter((r) => r.kind === 'state' && r.state === 'gather' && r.at > lossFrom).length;
  while (cluster.now - lossFrom < 3000 || (tokenLostCount() < 2 && cluster.now - lossFrom < 30_000)) app.traffic(500, { everyMs: 20 });
  const tokenLosses = tokenLostCount();
  const tokenLossLines = all.flatMap((n) => cluster.coreLines(n).filter((l) => l.at > lossFrom && l.line.includes('token timed out')));
  const deliveredDuringLoss = delivered(cluster, 1).length;
  const sentDuringLoss = app.accepted.length;

  const healedAt = cluster.now;
  cluster.network.setLinkDefaults({ lossProbability: 0 });
  expectConverged(cluster, all, 3000);
  app.traffic(300);
  const quietAt = cluster.now;
  // Every message accepted by a node that stayed up reaches at least that node;
  // every message accepted after the loss stopped reaches everyone.
  expectDeliveredEverywhere(cluster, all, app.accepted.filter((a) => a.at > healedAt).map((a) => a.msgId), 2000);
  cluster.runFor(800);

  it('the loss really broke the ring: the token was lost and processors gathered', () => {
    expect(tokenLosses).toBeGreaterThan(0);
    expect(tokenLossLines.length).toBeGreaterThan(0);
    expect(cluster.network.stats.lost).toBeGreaterThan(1000);
    expect(cluster.network.stats.arrivalsByType[MessageType.OrfToken] ?? 0).toBeGreaterThan(tokensBefore);
  });

  it('messages were still ordered and delivered while the loss lasted', () => {
    expect(sentDuringLoss).toBeGreaterThan(300);
    expect(deliveredDuringLoss).toBeGreaterThan(100);
  });

  it('once the loss stops, all five converge on one ring', () => {
    const final = lastRegular(cluster, 1);
    for (const n of all) {
      const mine = lastRegular(cluster, n);
      expect(ringKey(mine.ringId)).toBe(ringKey(final.ringId));
      expect(mine.members).toEqual(all);
    }
    expect(confs(cluster, 1, { after: quietAt })).toEqual([]);
  });

  it('every node delivered every message it accepted itself', () => {
    for (const n of all) {
      const have = new Set(delivered(cluster, n));
      expect(app.acceptedBy(n).filter((id) => !have.has(id))).toEqual([]);
    }
  });

  it('every EVS invariant holds', () => {
    expectSafety(cluster);
    expectLiveness(cluster, { live: all, healedAt, boundMs: 2000, idleFrom: quietAt + 400, end: cluster.now });
  });
});

describe('16 processors with 20% loss', () => {
  const all = Array.from({ length: 16 }, (_, i) => i + 1);
  // At 20% loss a 16-hop rotation loses ~3 token hops. With corosync's default
  // of ~4 token retransmits per token timeout a processor regularly waited
  // longer than `token` and the commit/recovery attempt was abandoned; the
  // default is 10 now (docs/DEVIATIONS.md), with which the ring forms in < 1 s.
  const cluster = new Cluster({ nodeCount: 16, seed: 16, link: { lossProbability: 0.2 } });
  const app = new App(cluster);
  // They start together on a lossy network and still agree on one ring.
  const convergedUnderLoss = cluster.runUntil(() => cluster.converged(all), 5000);
  const formedAt = cluster.now;
  app.traffic(6000, { everyMs: 100 });
  const deliveredUnderLoss = Math.min(...all.map((n) => delivered(cluster, n).length));

  const healedAt = cluster.now;
  cluster.network.setLinkDefaults({ lossProbability: 0 });
  expectConverged(cluster, all, 3000);
  app.traffic(200, { everyMs: 40 });
  const quietAt = cluster.now;
  expectDeliveredEverywhere(cluster, all, app.accepted.filter((a) => a.at > healedAt).map((a) => a.msgId), 2000);
  cluster.runFor(500);

  it('all sixteen form one ring despite the loss', () => {
    expect(convergedUnderLoss, cluster.describe().join('\n')).toBe(true);
    expect(formedAt).toBeLessThan(5000);
  });

  it('every node delivers messages while the loss lasts', () => {
    expect(deliveredUnderLoss).toBeGreaterThan(100);
  });

  it('every node delivered every message it accepted, and all end in one ring of sixteen', () => {
    for (const n of all) {
      const have = new Set(delivered(cluster, n));
      expect(app.acceptedBy(n).filter((id) => !have.has(id))).toEqual([]);
      expect(lastRegular(cluster, n).members).toEqual(all);
    }
  });

  it('every EVS invariant holds', () => {
    expectSafety(cluster);
    expectLiveness(cluster, { live: all, healedAt, boundMs: 3000, idleFrom: quietAt + 400, end: cluster.now });
  });
});
