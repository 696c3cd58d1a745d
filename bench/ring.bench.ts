/**
 * RecordRing throughput, one worker producing, the main thread consuming
 * (drain + Atomics.waitAsync, as the deliver ring will run): records/s at
 * 100 B and 1400 B through a 1 MiB ring.
 *
 * This file is also the producer: run from the main thread it spawns itself
 * as a worker (spawnWorker: .ts through tsx from sources, .js when built).
 * For each record size one worker is started; each run the main thread sets
 * a start flag, the worker writes `count` records (one reused buffer,
 * `tryWrite`, flush every 64 records, sleeping in Atomics.wait on a full
 * ring), and the main thread times from the flag to the last record
 * consumed. One warm-up run, then 5 timed runs: median and min–max. Also
 * shown: how often the producer found the ring full (the consumer was the
 * limit) and how often the consumer slept (the producer was the limit).
 *
 *   npx tsx bench/ring.bench.ts            [--copy ringbuf|set|both] [--runs 5]
 *
 * `--copy` picks how the reader moves bytes out of the ring: `ringbuf` is
 * ringbuf.js's own `pop` (a JS byte loop), `set` reads the same ring layout
 * with TypedArray.set copies (RecordReaderOptions.copy). Default: both.
 *
 * Measures, never asserts.
 */
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import { RecordReader, RecordRing, RecordWriter, type RecordRingShared, type RingCopy } from '../src/runtime/rings/record-ring.ts';
import { spawnWorker } from '../src/runtime/workers/spawn.ts';

interface ProducerData {
  readonly ring: RecordRingShared;
  /** [0] run number to start (main → worker), [1] runs finished (worker → main). */
  readonly control: SharedArrayBuffer;
  readonly recordBytes: number;
  readonly count: number;
}

interface RunResult {
  readonly recordsPerSecond: number;
  readonly fulls: number;
  readonly consumerSleeps: number;
}

const RING_BYTES = 1 << 20;
const BATCH = 64;

function producer(data: ProducerData): void {
  const control = new Int32Array(data.control);
  const writer = new RecordWriter(data.ring);
  const record = new Uint8Array(data.recordBytes).map((_, i) => i);
  const fullsCell = new Int32Array(data.control, 8, 1);
  for (let run = 1; ; run++) {
    while (Atomics.load(control, 0) < run) Atomics.wait(control, 0, run - 1);
    if (Atomics.load(control, 0) < 0) return; // stop
    let fulls = 0;
    for (let i = 1; i <= data.count; i++) {
      while (!writer.tryWrite(record)) {
        fulls++;
        writer.waitForSpaceSync(record.length, 10_000);
      }
      if (i % BATCH === 0) writer.flush();
    }
    writer.flush();
    Atomics.store(fullsCell, 0, fulls);
    Atomics.store(control, 1, run);
  }
}

async function consume(reader: RecordReader, count: number): Promise<number> {
  let received = 0;
  let sleeps = 0;
  let checksum = 0;
  const onRecord = (r: Uint8Array): void => {
    checksum = (checksum + r.length + (r[r.length - 1] as number)) | 0;
  };
  while (received < count) {
    received += reader.drain(onRecord);
    if (received < count && (await reader.waitAsync(10_000)) !== 'ready') sleeps++;
  }
  if (checksum === 42.5) console.log('unreachable'); // keep the callback's work observable
  return sleeps;
}

async function measure(recordBytes: number, count: number, copy: RingCopy, runs: number): Promise<RunResult[]> {
  const ring = RecordRing.create(RING_BYTES);
  const controlSab = new SharedArrayBuffer(12);
  const control = new Int32Array(controlSab, 0, 2);
  const fullsCell = new Int32Array(controlSab, 8, 1);
  const data: ProducerData = { ring, control: controlSab, recordBytes, count };
  const worker: Worker = spawnWorker(new URL(import.meta.url), data);
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  failed.catch(() => {});
  const reader = new RecordReader(ring, { copy });
  const results: RunResult[] = [];
  try {
    for (let run = 1; run <= runs + 1; run++) {
      const t0 = performance.now();
      Atomics.store(control, 0, run);
      Atomics.notify(control, 0);
      const consumerSleeps = await Promise.race([consume(reader, count), failed]);
      const seconds = (performance.now() - t0) / 1000;
      while (Atomics.load(control, 1) < run) await new Promise((r) => setTimeout(r, 1));
      if (run > 1) results.push({ recordsPerSecond: count / seconds, fulls: Atomics.load(fullsCell, 0), consumerSleeps });
    }
  } finally {
    Atomics.store(control, 0, -1);
    Atomics.notify(control, 0);
    await worker.terminate();
  }
  return results;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const copyArg = arg('--copy') ?? 'both';
  const copies: RingCopy[] = copyArg === 'both' ? ['ringbuf', 'set'] : [copyArg as RingCopy];
  const runs = Number(arg('--runs') ?? 5);
  const sizes: Array<[number, number]> = [
    [100, 2_000_000],
    [1400, 400_000],
  ];
  console.log(`RecordRing worker → main, ${RING_BYTES / 1024} KiB ring, flush every ${BATCH} records, median of ${runs} (min–max)`);
  console.log('| reader copy | record | records/s | MB/s | producer found ring full | consumer slept |');
  console.log('|---|---|---|---|---|---|');
  for (const copy of copies) {
    for (const [bytes, count] of sizes) {
      const r = await measure(bytes, count, copy, runs);
      const rates = r.map((x) => x.recordsPerSecond);
      const med = median(rates);
      console.log(
        `| ${copy} | ${bytes} B | ${fmt(med)} (${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}) | ${fmt((med * bytes) / 1e6)} | ` +
          `${fmt(median(r.map((x) => x.fulls)))} | ${fmt(median(r.map((x) => x.consumerSleeps)))} |`,
      );
    }
  }
}

if (isMainThread) {
  await main();
} else {
  producer(workerData as ProducerData);
  parentPort?.close();
}
