/**
 * Three EVS nodes in three child processes (udpu on 127.0.0.1..3, AEAD on):
 * every node sends at once, every node delivers everything in one order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ProcessCluster } from '../../../src/cli/process-cluster.ts';
import { describeConfchgs, expectSameClean, layouts, loadTotem, newCluster, reports, sendBursts, startFull, waitDelivered, type Burst } from './helpers.ts';

const ids = [1, 2, 3];
let cluster: ProcessCluster | null = null;

afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

describe.each(layouts)('three node processes under load (layout $layout, cryptoThreads $cryptoThreads)', (threads) => {
  it('deliver every message of every sender, in one order, intact', async () => {
    cluster = newCluster(18000 + threads.portOffset, {}, threads, loadTotem);
    const c = cluster;
    await startFull(c);
    const confchgsBefore = c.confchgs.length;
    await Promise.all(ids.map((id) => c.join(id, ['g'])));

    const bursts: Burst[] = [
      { count: 2000, sizeBytes: 100, guarantee: 'agreed' },
      { count: 300, sizeBytes: 1300, guarantee: 'agreed' },
      { count: 200, sizeBytes: 300, guarantee: 'safe' },
      // larger than a datagram: fragmented and reassembled
      { count: 50, sizeBytes: 5000, guarantee: 'safe' },
    ];
    const perNode = bursts.reduce((n, b) => n + b.count, 0);
    const bytesPerNode = bursts.reduce((n, b) => n + b.count * b.sizeBytes, 0);

    const counters = await Promise.all(ids.map((id) => sendBursts(c, id, bursts)));
    expect(counters).toEqual([perNode, perNode, perNode]);
    await Promise.all(ids.map((id) => waitDelivered(c, id, 3 * perNode)));

    const reps = await reports(c, ids);
    for (const r of reps) {
      expect(r.delivered).toBe(3 * perNode);
      expect(r.bytesDelivered).toBe(3 * bytesPerNode);
      expect(r.lastCounter).toEqual({ 1: perNode, 2: perNode, 3: perNode });
    }
    expectSameClean(reps);
    // no configuration change under load (and if there was one, say why)
    const changes = c.confchgs.slice(confchgsBefore);
    if (changes.length > 0) {
      const totems = await Promise.all(ids.map(async (id) => (await c.stats(id)).protocol.totem));
      console.log(`token losses per node ${totems.map((t) => t.tokenLosses).join('/')}, failed to receive ${totems.map((t) => t.failedToReceive).join('/')}`);
    }
    expect(describeConfchgs(changes)).toEqual([]);
  });
});
