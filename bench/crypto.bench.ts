/**
 * Micro-benchmark of the datagram cipher (src/runtime/crypto/cipher.ts): µs
 * per datagram to seal one and open it again, one thread, at 100 B and 1400 B
 * of plaintext. AES-256-GCM creates a cipher object per call (NODE-NOTES:
 * about 2.5 µs of fixed cost); the split columns seal a batch first and then
 * open it with a receiver that already knows the sender's salt. NullCipher is
 * the copy-only floor. Each row: one warm-up run, then 5 runs; median and
 * min–max.
 *
 *   npx tsx bench/crypto.bench.ts
 *
 * Measures, never asserts.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { AesGcmCipher, type DatagramCipher, NullCipher, isOpenFailure } from '../src/runtime/crypto/cipher.ts';

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
