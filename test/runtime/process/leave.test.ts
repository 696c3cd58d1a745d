/**
 * A node process stopped gracefully: its LEAVE lets the others re-form at
 * once, without waiting for the token loss timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ProcessCluster } from '../../../src/cli/process-cluster.ts';
import { confchgsOf, describeConfchgs, effective, epochMs, newCluster, startFull } from './helpers.ts';

let cluster: ProcessCluster | null = null;

afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

describe('graceful stop of a node process', () => {
  it('the others install transitional + regular without it in less than the token timeout', async () => {
    cluster = newCluster(18200);
    const c = cluster;
    await startFull(c);

    const stopAt = epochMs();
    const gone = Promise.all([1, 3].map((id) => c.waitConfchg(
      (r) => r.nodeId === id && r.atMs > stopAt && r.change.type === 'regular' && !r.change.members.includes(2), 10_000)));
    await c.stopNode(2);
    expect(c.running()).toEqual([1, 3]);
    const regulars = await gone;

    const measured: number[] = [];
    for (const [i, id] of [1, 3].entries()) {
      const after = confchgsOf(c, id, stopAt);
      const transitional = after.findIndex((r) => r.change.type === 'transitional');
      expect(transitional, describeConfchgs(after).join('; ')).toBeGreaterThanOrEqual(0);
      expect(after[transitional]!.change.members).toEqual([1, 3]);
      expect(after[transitional]!.change.left).toEqual([2]);
      // the first regular configuration after the stop is the one without node 2, right after the transitional one
      expect(after.findIndex((r) => r.change.type === 'regular')).toBe(transitional + 1);
      expect(after[transitional + 1]).toBe(regulars[i]);
      expect(regulars[i]!.change.members).toEqual([1, 3]);
      measured.push(regulars[i]!.atMs - stopAt);
    }
    console.log(`graceful stop → regular configuration: ${measured.map((ms) => ms.toFixed(0)).join(' / ')} ms (token timeout ${effective.tokenMs} ms)`);
    for (const ms of measured) expect(ms).toBeLessThan(effective.tokenMs);
  });
});
