/**
 * The deliver backlog bound (rings.deliverBacklogBytes): a node whose main
 * thread stays away too long while the others send leaves the ring and
 * reports ERR_EVS_DELIVERY_OVERFLOW; the others re-form without it and go on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ProcessCluster } from '../../../src/cli/process-cluster.ts';
import {
  confchgsOf, describeConfchgs, effective, epochMs, expectSameClean, newCluster, reports, sameMembers, sendBursts, startFull, waitDelivered,
} from './helpers.ts';

let cluster: ProcessCluster | null = null;

afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

const backlogBytes = 100_000;

describe('deliver backlog overflow', () => {
  it('the blocked node leaves with ERR_EVS_DELIVERY_OVERFLOW, the others re-form and keep delivering', async () => {
    cluster = newCluster(18400, {
      // the smallest deliver ring allowed (messageBytesMax + 64 KiB) and a small backlog on node 1 only
      perNode: { 1: { messageBytesMax: 4096, rings: { deliverBytes: 70_000, deliverBacklogBytes: backlogBytes } } },
    });
    const c = cluster;
    await startFull(c);
    await Promise.all([1, 2, 3].map((id) => c.join(id, ['g'])));

    const n = 10_000;
    const sending = Promise.all([2, 3].map((id) => sendBursts(c, id, [{ count: n, sizeBytes: 100, guarantee: 'agreed' }])));
    await waitDelivered(c, 1, 500); // traffic is flowing

    // Block node 1 far longer than the ~2000 deliveries (≈ 270 KB) the ring and the backlog can take.
    const blockAt = epochMs();
    const blocked = c.request(1, { cmd: 'block', ms: 2500 });
    const regulars = await Promise.all([2, 3].map((id) => c.waitConfchg(
      (r) => r.nodeId === id && r.atMs > blockAt && r.change.type === 'regular' && sameMembers(r, [2, 3]), 10_000)));
    const reformedMs = regulars.map((r) => r.atMs - blockAt);
    await blocked;
    const blockedMs = epochMs() - blockAt;
    // the others re-formed while node 1 was still blocked: it left, nobody waited for it to wake up
    for (const ms of reformedMs) expect(ms).toBeLessThan(blockedMs);

    const error = await c.waitError((r) => r.nodeId === 1, 10_000);
    expect(error.error.code).toBe('ERR_EVS_DELIVERY_OVERFLOW');
    expect(c.errors.filter((r) => r.nodeId !== 1)).toEqual([]);

    for (const id of [2, 3]) {
      // A re-formation with all three before node 1 left (a token lost on a starved machine: seen at load
      // average 30) is not what this test is about; the changes that leave node 1 out are.
      const after = confchgsOf(c, id, blockAt).filter((r) => !r.change.members.includes(1));
      const shapes = after.map((r) => `${r.change.type} [${r.change.members.join(',')}]`);
      expect(shapes, describeConfchgs(after).join('; ')).toEqual(['transitional [2,3]', 'regular [2,3]']);
      expect(after[0]?.change.left).toEqual([1]);
    }
    // Reported, not asserted: 0 means the LEAVE did it. Re-forming while node 1's protocol worker ran on already
    // shows that node 1 left; a LEAVE is one datagram, and on a very loaded machine a token loss may come first.
    const survivorStats = await Promise.all([2, 3].map((id) => c.stats(id)));
    const tokenLosses = survivorStats.map((s) => s.protocol.totem.tokenLosses);

    // node 1 stops where it left; what it did deliver was in order and intact
    const rep1 = await c.report(1);
    expect(rep1.fifoViolations).toBe(0);
    expect(rep1.corrupt).toBe(0);
    expect(rep1.delivered).toBeLessThan(2 * n);

    // the others deliver everything, and go on delivering in the new ring
    expect(await sending).toEqual([n, n]);
    const more = 500;
    expect(await Promise.all([2, 3].map((id) => sendBursts(c, id, [{ count: more, sizeBytes: 100, guarantee: 'safe' }])))).toEqual([n + more, n + more]);
    await Promise.all([2, 3].map((id) => waitDelivered(c, id, 2 * (n + more))));
    const reps = await reports(c, [2, 3]);
    for (const r of reps) {
      expect(r.delivered).toBe(2 * (n + more));
      expect(r.lastCounter).toEqual({ 2: n + more, 3: n + more });
    }
    expectSameClean(reps);

    console.log(`overflow: node 1 blocked ${blockedMs.toFixed(0)} ms, delivered ${rep1.delivered} before leaving; `
      + `nodes 2/3 in ring [2,3] ${reformedMs.map((ms) => ms.toFixed(0)).join(' / ')} ms after the block began `
      + `(token timeout ${effective.tokenMs} ms), token losses ${tokenLosses.join('/')}`);
  });
});
