/**
 * A worker that dies under a waiting `events()` iterator: the iterator throws
 * the node's error (ERR_EVS_WORKER_FAILED) instead of ending as if the stream
 * were over (it ended silently before issue 11). The worker is terminated from
 * outside, as a crash would end it: spawnWorker is wrapped to keep a handle.
 */
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { EvsNode } from '../../../src/index.ts';
import { fastTotem, LocalCluster } from './local-cluster.ts';

const spawned: Worker[] = [];
vi.mock('../../../src/runtime/workers/spawn.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/runtime/workers/spawn.ts')>();
  return {
    ...original,
    spawnWorker: (...args: Parameters<typeof original.spawnWorker>) => {
      const worker = original.spawnWorker(...args);
      spawned.push(worker);
      return worker;
    },
  };
});

const port = 17798;

describe('a worker dies under an events() iterator', () => {
  const cluster = new LocalCluster({ count: 1, port, layout: 'single' });
  afterAll(async () => {
    cluster.errors.length = 0;
    await cluster.stop().catch(() => undefined);
  });

  it('the iterator throws ERR_EVS_WORKER_FAILED', async () => {
    const [node] = (await cluster.startRing()) as [EvsNode];
    const errors: string[] = [];
    node.on('error', (e) => errors.push(e.code));
    const handle = node.open();
    await handle.join(['g']);
    const iterator = handle.events()[Symbol.asyncIterator]();
    const outcome = (async () => {
      for (;;) if ((await iterator.next()).done === true) return 'ended without error';
    })().catch((e: unknown) => `threw ${(e as { code?: string }).code ?? String(e)}`);
    expect(spawned.length).toBeGreaterThan(0);
    await Promise.all(spawned.map((w) => w.terminate()));
    // the node learns of the exit from the worker's exit event, which needs no timer; ten token periods leave room for a loaded machine
    const timeout = new Promise((r) => setTimeout(() => r('still waiting'), 10 * fastTotem.tokenMs));
    expect(await Promise.race([outcome, timeout])).toBe('threw ERR_EVS_WORKER_FAILED');
    expect(errors).toContain('ERR_EVS_WORKER_FAILED');
  }, 60_000);
});
