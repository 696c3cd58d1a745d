/**
 * The process-pause guard (TOTEM.md §3.8) with a real pause: one node's whole
 * process is stopped with SIGSTOP for 0.8 × the configured token timeout,
 * then continued. The guard notices the gap (more than token/2 between its
 * timestamps), drops the stale JOINs of its receive backlog and restarts its
 * own token-loss timer instead of firing it: nobody changes configuration.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProcessCluster } from '../../../src/cli/process-cluster.ts';
import { pauseDetectMs } from '../../../src/protocol/pause-guard.ts';
import { describeConfchgs, effective, expectSameClean, newCluster, reports, sendBursts, startFull, waitDelivered } from './helpers.ts';

let cluster: ProcessCluster | null = null;

afterEach(async () => {
  const c = cluster;
  cluster = null;
  if (c === null) return;
  for (const id of c.running()) c.signal(id, 'SIGCONT'); // never leave a stopped child behind
  await c.stop();
});

describe('a node process stopped (SIGSTOP) for 0.8 × token', () => {
  it('is noticed as a pause and changes no configuration', async () => {
    cluster = newCluster(18500);
    const c = cluster;
    await startFull(c);
    await Promise.all([1, 2, 3].map((id) => c.join(id, ['g'])));
    const confchgsBefore = c.confchgs.length;
    const before = await Promise.all([1, 2, 3].map(async (id) => (await c.stats(id)).protocol));

    const pauseMs = 0.8 * effective.tokenMs;
    expect(pauseMs).toBeGreaterThan(pauseDetectMs(effective.tokenMs)); // long enough for the guard to notice
    const n = 500;
    const sending = Promise.all([1, 3].map((id) => sendBursts(c, id, [{ count: n, sizeBytes: 100, guarantee: 'agreed' }])));
    c.signal(2, 'SIGSTOP');
    await sleep(pauseMs);
    c.signal(2, 'SIGCONT');

    expect(await sending).toEqual([n, n]);
    await Promise.all([1, 2, 3].map((id) => waitDelivered(c, id, 2 * n)));
    // long enough for a token loss and a membership round to show: token + consensus, twice
    await sleep(2 * (effective.tokenMs + effective.consensusMs));

    const after = await Promise.all([1, 2, 3].map(async (id) => (await c.stats(id)).protocol));
    console.log(`SIGSTOP ${pauseMs} ms (token ${effective.tokenMs} ms): node 2 saw ${after[1]!.pausesDetected} pause(s), `
      + `dropped ${after[1]!.joinsDroppedAfterPause} stale JOIN(s); token losses ${after.map((s, i) => s.totem.tokenLosses - before[i]!.totem.tokenLosses).join('/')}`);
    expect(after[1]!.pausesDetected).toBeGreaterThan(before[1]!.pausesDetected);
    expect(describeConfchgs(c.confchgs.slice(confchgsBefore))).toEqual([]);
    for (const [i, s] of after.entries()) expect(s.totem.gatherEntered).toBe(before[i]!.totem.gatherEntered);
    expectSameClean(await reports(c, [1, 2, 3]));
  });
});
