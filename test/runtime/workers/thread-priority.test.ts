/**
 * lowerThreadPriority changes the calling thread only: a worker thread that
 * lowers itself runs at the higher nice value, the main thread keeps its own.
 */
import { existsSync } from 'node:fs';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { lowerThreadPriority, threadId } from '../../../src/runtime/workers/thread-priority.ts';

const linux = existsSync('/proc/thread-self');
/** the worker loads the module under test from its TypeScript source (tsx's require hook). */
const load = `require('tsx/cjs'); const m = require(${JSON.stringify(new URL('../../../src/runtime/workers/thread-priority.ts', import.meta.url).pathname)});`;

describe.runIf(linux)('lowerThreadPriority (Linux)', () => {
  it('lowers a worker thread and leaves the main thread as it was', async () => {
    const mainTid = threadId();
    expect(mainTid).toBe(process.pid); // the main thread's id is the process id
    const mainNice = getPriority(process.pid);
    const code = `${load}
      const { getPriority } = require('node:os');
      const nice = m.lowerThreadPriority(5);
      require('node:worker_threads').parentPort.postMessage({ tid: m.threadId(), nice, read: getPriority(m.threadId()) });`;
    const worker = new Worker(code, { eval: true });
    const reply = await new Promise<{ tid: number; nice: number; read: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(reply.tid).not.toBe(process.pid);
    expect(reply.nice).toBe(Math.min(19, mainNice + 5));
    expect(reply.read).toBe(reply.nice);
    expect(getPriority(process.pid)).toBe(mainNice);
  });

  it('answers null for no change and clamps at 19', async () => {
    expect(lowerThreadPriority(0)).toBeNull();
    // run in a worker so the test process's main thread keeps its priority
    const code = `${load}
      require('node:worker_threads').parentPort.postMessage(m.lowerThreadPriority(100));`;
    const worker = new Worker(code, { eval: true });
    const nice = await new Promise<number | null>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(nice).toBe(19);
  });
});
