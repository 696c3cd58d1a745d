/**
 * RecordRing between real worker threads and the main thread: the worker is
 * test/runtime/rings/ring-worker.ts, started from its TypeScript source by
 * spawnWorker. The main thread only ever waits with Atomics.waitAsync. Every
 * worker started here is terminated after each test.
 */
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { Doorbell } from '../../../src/runtime/rings/doorbell.ts';
import { RecordReader, RecordRing, RecordWriter, type RecordRingShared, type RingCopy } from '../../../src/runtime/rings/record-ring.ts';
import { resolveWorkerEntry, runningSources, spawnWorker } from '../../../src/runtime/workers/spawn.ts';
import { RecordSource, checkRecord } from './records.ts';
import type { RingWorkerReport, RingWorkerTask } from './ring-worker.ts';
import { waitFor } from '../../wait-for.ts';

const WORKER = new URL('./ring-worker.js', import.meta.url);
const started = new Set<Worker>();

function start(task: RingWorkerTask): { worker: Worker; report: Promise<RingWorkerReport> } {
  const worker = spawnWorker(WORKER, task);
  started.add(worker);
  const report = new Promise<RingWorkerReport>((resolve, reject) => {
    worker.on('message', (m: RingWorkerReport) => (m.error === undefined ? resolve(m) : reject(new Error(`worker: ${m.error}`))));
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`worker exited (${code}) before reporting`)));
  });
  report.catch(() => {}); // observed by the test; avoid an unhandled rejection if it never awaits
  return { worker, report };
}

afterEach(async () => {
  await Promise.all([...started].map((w) => w.terminate()));
  started.clear();
});

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** polls `condition` every millisecond (never blocking the event loop) for up to 10 s. */
const until = (condition: () => boolean, what: string): Promise<void> => waitFor(condition, what, 10_000, 1);

/** consumes `count` seeded records on the main thread, waiting only with waitAsync. */
async function consumeOnMain(
  ring: RecordRingShared,
  count: number,
  seed: number,
  minBody: number,
  maxBody: number,
  opts: { maxPerDrain?: number; pauseMs?: number; copy?: RingCopy } = {},
): Promise<{ received: number; errors: string[]; wakes: number }> {
  const reader = new RecordReader(ring, opts.copy === undefined ? {} : { copy: opts.copy });
  const expected = new RecordSource(seed, minBody, maxBody);
  const errors: string[] = [];
  let received = 0;
  let wakes = 0;
  while (received < count && errors.length === 0) {
    received += reader.drain((record) => {
      const e = checkRecord(expected, record);
      if (e !== null) errors.push(e);
    }, opts.maxPerDrain);
    if (received >= count) break;
    if (opts.pauseMs !== undefined) {
      await delay(opts.pauseMs);
      continue;
    }
    const why = await reader.waitAsync(10_000);
    if (why === 'timed-out') errors.push(`timed out after ${received} records`);
    if (why === 'woken') wakes++;
  }
  return { received, errors, wakes };
}

describe('RecordRing across worker threads', () => {
  it('starts the worker from its .ts source under vitest', () => {
    expect(runningSources).toBe(true);
    const entry = resolveWorkerEntry(WORKER);
    expect(entry.typescript).toBe(true);
    expect(entry.file.pathname.endsWith('/ring-worker.ts')).toBe(true);
    expect(() => resolveWorkerEntry(new URL('./no-such-worker.js', import.meta.url))).toThrow(/no worker module/);
  });

  it.each<RingCopy>(['set', 'ringbuf'])('worker → main: 20,000 seeded records of 1..2000 B arrive in order, byte for byte (reader copy %s)', async (copy) => {
    const count = 20_000;
    const ring = RecordRing.create(64 * 1024);
    const { report } = start({ mode: 'produce', ring, seed: 1234, count, minBody: 1, maxBody: 2000, batch: 32 });
    const got = await consumeOnMain(ring, count, 1234, 1, 2000, { copy });
    expect(got.errors).toEqual([]);
    expect(got.received).toBe(count);
    const r = await report;
    expect(r.records).toBe(count);
    expect(new RecordReader(ring).hasData()).toBe(false);
  });

  it('a full ring holds the producer back until there is room, and nothing is lost', async () => {
    const count = 3000;
    const ring = RecordRing.create(4096); // two of the largest records at most
    const { report } = start({ mode: 'produce', ring, seed: 77, count, minBody: 1, maxBody: 2000, batch: 8 });
    // the producer fills the ring and goes to sleep in Atomics.wait
    await until(() => new Doorbell(ring.spaceBell).sleeping, 'the producer asleep on the space bell');
    expect(new RecordReader(ring).availableRead()).toBeGreaterThan(4096 - 2012); // less than the largest frame free
    // a slow consumer: a few records per event-loop turn, pausing between
    const got = await consumeOnMain(ring, count, 77, 1, 2000, { maxPerDrain: 5, pauseMs: 0 });
    expect(got.errors).toEqual([]);
    expect(got.received).toBe(count);
    const r = await report;
    expect(r.records).toBe(count);
    expect(r.fulls).toBeGreaterThan(100);
    expect(r.wokenWaits).toBeGreaterThan(0); // slept in Atomics.wait and was rung by the consumer
  });

  it('main → worker with back-pressure: the main thread waits for room with waitAsync, the worker sleeps in Atomics.wait', async () => {
    const count = 5000;
    const ring = RecordRing.create(8192);
    const { report } = start({ mode: 'consume', ring, seed: 5, count, minBody: 1, maxBody: 2000, pauseEvery: 500, pauseMs: 20 });
    const writer = new RecordWriter(ring);
    const source = new RecordSource(5, 1, 2000);
    let fulls = 0;
    for (let i = 0; i < count; i++) {
      const { header, body } = source.next();
      while (!writer.tryWriteParts(header, body)) {
        fulls++;
        expect(await writer.waitForSpaceAsync(header.length + body.length, 10_000)).not.toBe('timed-out');
      }
      if (i % 16 === 15) writer.flush();
    }
    writer.flush();
    const r = await report;
    expect(r.records).toBe(count);
    expect(fulls).toBeGreaterThan(0);
  });

  it('wake-ups work both ways: main → sleeping worker (Atomics.wait) and worker → waiting main (waitAsync)', async () => {
    const toWorker = RecordRing.create(4096);
    const toMain = RecordRing.create(4096);
    const { report } = start({ mode: 'echo', input: toWorker, output: toMain });
    const writer = new RecordWriter(toWorker);
    const reader = new RecordReader(toMain);
    const workerBell = new Doorbell(toWorker.dataBell);
    let mainNotified = 0;
    for (let round = 1; round <= 20; round++) {
      // wait (without blocking) until the worker announced it sleeps
      await until(() => workerBell.sleeping, 'the worker asleep on its bell');
      const record = new Uint8Array(round * 50).fill(round);
      expect(writer.tryWrite(record)).toBe(true);
      if (writer.flush()) mainNotified++;
      let echo: Uint8Array | null = null;
      while ((echo = reader.read()) === null) expect(await reader.waitAsync(10_000)).not.toBe('timed-out');
      expect(echo).toEqual(record);
    }
    expect(writer.tryWrite(new Uint8Array(0))).toBe(true); // stop
    writer.flush();
    const r = await report;
    expect(r.records).toBe(20);
    expect(mainNotified).toBe(20); // every round woke a worker asleep in Atomics.wait
    expect(r.wokenWaits).toBeGreaterThanOrEqual(19);
    // (whether an echo found the main thread already in waitAsync is a race:
    // the next test wakes a waiting main thread deterministically)
  });

  it('the main thread stays responsive while it waits for the ring', async () => {
    const ring = RecordRing.create(4096);
    const reader = new RecordReader(ring);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      // nothing comes: a timed-out wait, and the event loop kept running
      const t0 = performance.now();
      expect(await reader.waitAsync(100)).toBe('timed-out');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
      expect(ticks).toBeGreaterThanOrEqual(5);
      // a record 300 ms later from a worker
      ticks = 0;
      const { report } = start({ mode: 'produce', ring, seed: 9, count: 1, minBody: 10, maxBody: 10, batch: 1, startDelayMs: 300 });
      const t1 = performance.now();
      expect(await reader.waitAsync(10_000)).toBe('woken');
      const waited = performance.now() - t1;
      expect(waited).toBeGreaterThanOrEqual(250);
      expect(ticks).toBeGreaterThanOrEqual(20);
      const got = reader.read();
      expect(got?.length).toBe(18);
      expect((await report).notifies).toBe(1);
    } finally {
      clearInterval(timer);
    }
  });
});
