/**
 * Micro-benchmark of the datagram cipher (src/runtime/crypto/ciphers.ts): µs
 * per datagram to seal one and open it again, one thread, at 100 B and 1400 B
 * of plaintext. AES-256-GCM creates a cipher object per call (NODE-NOTES:
 * about 2.5 µs of fixed cost); the split columns seal a batch first and then
 * open it with a receiver that already knows the sender's salt. NullCipher is
 * the copy-only floor. Each row: one warm-up run, then 5 runs; median and
 * min–max.
 *
 * The second table puts the inline cipher beside CryptoPool (crypto-pool.ts,
 * `threads.cryptoThreads` 1 and 2) on batches of 64 datagrams: every batch of
 * a run is sealed (all seal() calls in flight at once, as the network driver
 * issues one per Ready without waiting), then all are opened again by the
 * same pool (a node opens its own multicast). Pool start-up is not timed.
 *
 *   npx tsx bench/crypto.bench.ts
 *
 * Measures, never asserts.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { AesGcmCipher, NullCipher } from '../src/runtime/crypto/ciphers.ts';
import { type DatagramCipher, isOpenFailure } from '../src/runtime/crypto/datagram-cipher.ts';
import { CryptoPool } from '../src/runtime/crypto/crypto-pool.ts';
import { cryptoTaskEntry } from '../src/runtime/workers/crypto-task-entry.ts';

const datagramsPerRun = 20_000;
const runs = 5;
const sizes = [100, 1400];
const clusterKey = new Uint8Array(randomBytes(64));

interface Sample {
  sealOpenUs: number;
  sealUs: number;
  openUs: number;
}

function runOnce(make: () => DatagramCipher, plainBytes: number): Sample {
  const sender = make();
  const receiver = make();
  const plain = new Uint8Array(randomBytes(plainBytes));
  const out = new Uint8Array(plainBytes + sender.overheadBytes);
  receiver.open(out.subarray(0, sender.seal(plain, out, 0))); // the receiver learns the salt outside the timing

  let start = performance.now();
  for (let i = 0; i < datagramsPerRun; i++) {
    const n = sender.seal(plain, out, 0);
    if (isOpenFailure(receiver.open(out.subarray(0, n)))) throw new Error('bench: open failed');
  }
  const sealOpenUs = ((performance.now() - start) * 1000) / datagramsPerRun;

  const batch = Array.from({ length: datagramsPerRun }, () => new Uint8Array(plainBytes + sender.overheadBytes));
  start = performance.now();
  for (const datagram of batch) sender.seal(plain, datagram, 0);
  const sealUs = ((performance.now() - start) * 1000) / datagramsPerRun;
  start = performance.now();
  for (const datagram of batch) if (isOpenFailure(receiver.open(datagram))) throw new Error('bench: open failed');
  const openUs = ((performance.now() - start) * 1000) / datagramsPerRun;
  return { sealOpenUs, sealUs, openUs };
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `${median.toFixed(2)} (${sorted[0]!.toFixed(2)}–${sorted[sorted.length - 1]!.toFixed(2)})`;
}

const ciphers: Array<[string, () => DatagramCipher]> = [
  ['aes-256-gcm', () => new AesGcmCipher(clusterKey)],
  ['none', () => new NullCipher()],
];

console.log(`crypto bench: ${datagramsPerRun} datagrams per run, median of ${runs} runs (min–max), µs per datagram, Node ${process.version}`);
console.log('| cipher | plaintext | seal + open | seal | open |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, make] of ciphers) {
  for (const size of sizes) {
    runOnce(make, size); // warm-up
    const samples = Array.from({ length: runs }, () => runOnce(make, size));
    console.log(
      `| ${name} | ${size} B | ${summary(samples.map((s) => s.sealOpenUs))} | ${summary(samples.map((s) => s.sealUs))} | ${summary(samples.map((s) => s.openUs))} |`,
    );
  }
}

const batchDatagrams = 64;
const batchesPerRun = 100;

interface BatchSample {
  sealUs: number;
  openUs: number;
}

function batchRunInline(cipher: AesGcmCipher, batches: readonly Uint8Array[][]): BatchSample {
  let start = performance.now();
  const sealed = batches.map((plains) =>
    plains.map((plain) => {
      const out = Buffer.allocUnsafe(plain.length + cipher.overheadBytes);
      cipher.seal(plain, out, 0);
      return out;
    }),
  );
  const sealUs = ((performance.now() - start) * 1000) / (batches.length * batchDatagrams);
  start = performance.now();
  for (const batch of sealed) for (const datagram of batch) if (isOpenFailure(cipher.open(datagram))) throw new Error('bench: open failed');
  const openUs = ((performance.now() - start) * 1000) / (batches.length * batchDatagrams);
  return { sealUs, openUs };
}

async function batchRunPool(pool: CryptoPool, batches: readonly Uint8Array[][]): Promise<BatchSample> {
  let start = performance.now();
  const sealed = await Promise.all(batches.map((plains) => pool.seal(plains)));
  const sealUs = ((performance.now() - start) * 1000) / (batches.length * batchDatagrams);
  start = performance.now();
  const opened = await Promise.all(sealed.map((batch) => pool.open(batch)));
  const openUs = ((performance.now() - start) * 1000) / (batches.length * batchDatagrams);
  if (opened.some((batch) => batch.some(isOpenFailure))) throw new Error('bench: open failed');
  return { sealUs, openUs };
}

async function batchRows(name: string, run: (batches: readonly Uint8Array[][]) => Promise<BatchSample> | BatchSample): Promise<void> {
  for (const size of sizes) {
    const batches = Array.from({ length: batchesPerRun }, () =>
      Array.from({ length: batchDatagrams }, () => new Uint8Array(randomBytes(size))),
    );
    await run(batches); // warm-up
    const samples: BatchSample[] = [];
    for (let r = 0; r < runs; r++) samples.push(await run(batches));
    console.log(
      `| ${name} | ${batchDatagrams} × ${size} B | ${summary(samples.map((s) => s.sealUs + s.openUs))} | ${summary(samples.map((s) => s.sealUs))} | ${summary(samples.map((s) => s.openUs))} |`,
    );
  }
}

console.log('');
console.log(`batches: ${batchesPerRun} batches of ${batchDatagrams} per run, all in flight at once; median of ${runs} runs (min–max), µs per datagram`);
console.log('| cipher | batch | seal + open | seal | open |');
console.log('|---|---:|---:|---:|---:|');
const inlineCipher = new AesGcmCipher(clusterKey);
await batchRows('inline aes-256-gcm', (batches) => batchRunInline(inlineCipher, batches));
for (const threadCount of [1, 2]) {
  const pool = await CryptoPool.create(clusterKey, threadCount, cryptoTaskEntry());
  try {
    await batchRows(`CryptoPool, ${threadCount} thread${threadCount > 1 ? 's' : ''}`, (batches) => batchRunPool(pool, batches));
  } finally {
    await pool.close();
  }
}
