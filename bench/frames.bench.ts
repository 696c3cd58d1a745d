/**
 * Micro-benchmark for frames over packets (src/runtime/network/packets/):
 * AEAD once per frame against once per packet, one thread, µs per frame for
 * the whole round trip of the network side (seal, cut into packets,
 * reassemble, open), at netmtu 1500 and frame sizes from one packet to 64 KiB.
 *
 *   per frame:  sealParts(frame) → Packetizer → Reassembler → open(frame)
 *   per packet: Packetizer on the plaintext → sealParts(each packet) →
 *               open(each packet) → Reassembler
 *
 * Per packet lets a forged packet be dropped before it takes reassembly
 * memory; per frame pays AES-GCM's fixed cost (a cipher object, the tag)
 * once instead of once per packet. Each row: one warm-up run, then 5 runs;
 * median and min–max.
 *
 *   npx tsx bench/frames.bench.ts
 *
 * Measures, never asserts.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { AesGcmCipher } from '../src/runtime/crypto/ciphers.ts';
import { isOpenFailure } from '../src/runtime/crypto/datagram-cipher.ts';
import { isPacket } from '../src/runtime/network/packets/packet-header.ts';
import { Packetizer, type Datagram } from '../src/runtime/network/packets/packetizer.ts';
import { Reassembler } from '../src/runtime/network/packets/reassembler.ts';

const netmtu = 1500;
const runs = 5;
const bytesPerRun = 64 * 1024 * 1024;
const sizes = [1400, 10_000, 65_474];
const clusterKey = new Uint8Array(randomBytes(64));
const reassembly = { bytesMax: 4 << 20, framesPerSenderMax: 8, sendersMax: 64, reassemblyMs: 1000 };

/** a received datagram is one buffer (dgram hands one Buffer per datagram). */
function flat(d: Datagram): Uint8Array {
  return d instanceof Uint8Array ? d : Buffer.concat(d as Uint8Array[]);
}

function perFrame(frame: Uint8Array, frames: number): number {
  const sender = new AesGcmCipher(clusterKey);
  const receiver = new AesGcmCipher(clusterKey);
  const packetizer = new Packetizer(1, netmtu);
  const reassembler = new Reassembler(reassembly);
  let now = 0;
  const onPacket = (packet: Datagram): void => {
    const bytes = flat(packet);
    const whole = isPacket(bytes) ? reassembler.accept(bytes, 2, now) : bytes;
    if (whole === null) return;
    if (isOpenFailure(receiver.open(whole))) throw new Error('bench: open failed');
    if (whole !== bytes) reassembler.recycle(whole);
  };
  const start = performance.now();
  for (let i = 0; i < frames; i++, now++) packetizer.split(sender.sealParts(frame), onPacket);
  return ((performance.now() - start) * 1000) / frames;
}

function perPacket(frame: Uint8Array, frames: number): number {
  const sender = new AesGcmCipher(clusterKey);
  const receiver = new AesGcmCipher(clusterKey);
  // the AEAD overhead comes out of each packet's room
  const packetizer = new Packetizer(1, netmtu - sender.overheadBytes);
  const reassembler = new Reassembler(reassembly);
  let now = 0;
  const onPacket = (packet: Datagram): void => {
    const sealed = flat(sender.sealParts(flat(packet)));
    const plain = receiver.open(sealed);
    if (isOpenFailure(plain)) throw new Error('bench: open failed');
    const whole = isPacket(plain) ? reassembler.accept(plain, 2, now) : plain;
    if (whole !== null && whole !== plain) reassembler.recycle(whole);
  };
  const start = performance.now();
  for (let i = 0; i < frames; i++, now++) packetizer.split(frame, onPacket);
  return ((performance.now() - start) * 1000) / frames;
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} (${sorted[0]!.toFixed(1)}–${sorted.at(-1)!.toFixed(1)})`;
}

console.log(`frames bench: netmtu ${netmtu}, AES-256-GCM, µs per frame (seal, cut, reassemble, open), median of ${runs} runs (min–max), Node ${process.version}`);
console.log('| frame | packets | AEAD per frame | AEAD per packet | per packet / per frame |');
console.log('|---:|---:|---:|---:|---:|');
for (const size of sizes) {
  const frame = new Uint8Array(randomBytes(size));
  const frames = Math.max(200, Math.floor(bytesPerRun / size / 4));
  let packets = 0;
  new Packetizer(1, netmtu).split(new Uint8Array(size + 33), () => packets++);
  perFrame(frame, frames);
  perPacket(frame, frames);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < runs; r++) {
    a.push(perFrame(frame, frames));
    b.push(perPacket(frame, frames));
  }
  const ratio = b.map((x, i) => x / a[i]!);
  console.log(`| ${size} B | ${packets} | ${summary(a)} | ${summary(b)} | ${summary(ratio)} |`);
}
