/**
 * The application blocks its main thread (a synchronous loop) for two
 * token timeouts while the others keep sending: the protocol runs in worker
 * threads, so the token keeps turning, deliveries pile up (deliver ring, then
 * the protocol worker's backlog) and are all handed over afterwards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ProcessCluster } from '../../../src/cli/process-cluster.ts';
import { describeConfchgs, epochMs, expectSameClean, loadEffective, loadTotem, newCluster, reports, sendBursts, startFull, waitDelivered } from './helpers.ts';

let cluster: ProcessCluster | null = null;

afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

describe('a blocked main thread', () => {
  it('loses nothing and changes no configuration', async () => {
    cluster = newCluster(18300, {
      // node 1's deliver ring is small (128 KiB) so that the block overflows it into the protocol worker's backlog
      perNode: { 1: { messageBytesMax: 4096, rings: { deliverBytes: 128 * 1024 } } },
    }, undefined, loadTotem);
    const c = cluster;
    await startFull(c);
    await Promise.all([1, 2, 3].map((id) => c.join(id, ['g'])));
    const confchgsBefore = c.confchgs.length;

    const n = 30_000;
    const sending = Promise.all([2, 3].map((id) => sendBursts(c, id, [{ count: n, sizeBytes: 100, guarantee: 'agreed' }])));
    await waitDelivered(c, 1, 1000); // traffic is flowing

    // two token timeouts: had the protocol run on the main thread, the token would surely be lost
    const blockMs = 2 * loadEffective.tokenMs;
    const t0 = epochMs();
    await c.request(1, { cmd: 'block', ms: blockMs });
    const blockedMs = epochMs() - t0;

    expect(await sending).toEqual([n, n]);
    await Promise.all([1, 2, 3].map((id) => waitDelivered(c, id, 2 * n)));
    const reps = await reports(c, [1, 2, 3]);
    for (const r of reps) {
      expect(r.delivered).toBe(2 * n);
      expect(r.lastCounter).toEqual({ 2: n, 3: n });
    }
    expectSameClean(reps);
    const changes = c.confchgs.slice(confchgsBefore);
    if (changes.length > 0) {
      const losses = await Promise.all([1, 2, 3].map(async (id) => (await c.stats(id)).protocol.totem.tokenLosses));
      console.log(`configuration changes at ${changes.map((r) => (r.atMs - t0).toFixed(0)).join(', ')} ms from the block's start `
        + `(block ${blockedMs.toFixed(0)} ms); token losses per node ${losses.join('/')}`);
    }
    expect(describeConfchgs(changes)).toEqual([]);

    const stats = await c.stats(1);
    console.log(`node 1 blocked ${blockedMs.toFixed(0)} ms (asked ${blockMs}); deliver backlog peak ${stats.protocol.deliverBacklogPeakBytes} B, `
      + `now ${stats.protocol.deliverBacklogBytes} B`);
    // deliveries piled up past the 128 KiB ring while the main thread was away (so the block happened
    // under traffic), and were all handed over
    expect(stats.protocol.deliverBacklogPeakBytes).toBeGreaterThan(0);
    expect(stats.protocol.deliverBacklogBytes).toBe(0);
  });
});
