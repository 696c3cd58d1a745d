/**
 * The simulated application: what each live node submits, and how a delivered
 * payload is verified byte for byte.
 *
 * Payload = 12-byte header (sender u32, counter u32, size u32; little-endian)
 * followed by filler that is a pure function of (sender, counter). The checker
 * can therefore tell from the bytes alone which message a delivery is, whether
 * it is complete, and whether it was glued together from two messages.
 */
import { Guarantee } from '../../src/wire/messages.ts';
import type { Prng } from './prng.ts';

export const payloadHeaderBytes = 12;

function fillerSeed(sender: number, counter: number): number {
  let h = Math.imul(sender ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(counter + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 15;
  return h === 0 ? 0x6d2b79f5 : h | 0;
}

function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  return x ^ (x << 5);
}

/** Writes the filler for (sender, counter) into bytes[from..]; xorshift32, 4 bytes per step. */
function fill(bytes: Uint8Array, from: number, sender: number, counter: number): void {
  let x = fillerSeed(sender, counter);
  for (let i = from; i < bytes.length; i += 4) {
    x = xorshift32(x);
    bytes[i] = x & 0xff;
    if (i + 1 < bytes.length) bytes[i + 1] = (x >>> 8) & 0xff;
    if (i + 2 < bytes.length) bytes[i + 2] = (x >>> 16) & 0xff;
    if (i + 3 < bytes.length) bytes[i + 3] = (x >>> 24) & 0xff;
  }
}

export function makePayload(sender: number, counter: number, size: number): Uint8Array {
  if (!Number.isInteger(size) || size < payloadHeaderBytes) throw new RangeError(`payload size must be >= ${payloadHeaderBytes} (got ${size})`);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, sender, true);
  view.setUint32(4, counter, true);
  view.setUint32(8, size, true);
  fill(bytes, payloadHeaderBytes, sender, counter);
  return bytes;
}

export interface PayloadInfo {
  readonly sender: number;
  readonly counter: number;
  /** size the header claims. */
  readonly size: number;
  /** the length equals the header's size and every filler byte is as generated. */
  readonly bytesOk: boolean;
}

/** Reads and verifies a delivered payload; null when not even the header is there. */
export function readPayload(bytes: Uint8Array): PayloadInfo | null {
  if (bytes.length < payloadHeaderBytes) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sender = view.getUint32(0, true);
  const counter = view.getUint32(4, true);
  const size = view.getUint32(8, true);
  if (size !== bytes.length) return { sender, counter, size, bytesOk: false };
  return { sender, counter, size, bytesOk: fillerMatches(bytes, payloadHeaderBytes, sender, counter) };
}

/**
 * Whether bytes[from..] is the filler `fill` writes for (sender, counter).
 * Compared as generated, not against a filled copy: every node reads every
 * payload, and the copies were a twentieth of a 32-processor run's time.
 */
function fillerMatches(bytes: Uint8Array, from: number, sender: number, counter: number): boolean {
  let x = fillerSeed(sender, counter);
  for (let i = from; i < bytes.length; i += 4) {
    x = xorshift32(x);
    const end = Math.min(i + 4, bytes.length);
    for (let k = i; k < end; k++) if (bytes[k] !== ((x >>> (8 * (k - i))) & 0xff)) return false;
  }
  return true;
}

export interface TrafficOptions {
  /** mean time between two submissions of one node, ms (Poisson arrivals). */
  readonly intervalMeanMs: number;
  /** probability that a message is tiny (header .. 64 B): exercises packing. */
  readonly smallProbability: number;
  /** probability that a message is large (up to `sizeLargeMaxBytes`): long fragment chains. */
  readonly largeProbability: number;
  /** the usual maximum (e.g. 3 datagrams). */
  readonly sizeMaxBytes: number;
  readonly sizeLargeMaxBytes: number;
  /**
   * Bytes of large messages the whole run may draw (default: no limit): a
   * message of up to 1 MiB is ~750 datagrams multicast to every node, so a
   * run's cost is bounded by this budget, not by how many large ones the
   * Poisson arrivals happen to draw. Past it a large draw is a usual one.
   */
  readonly largeBytesMax?: number;
  /** share of messages sent with the safe guarantee. */
  readonly safeProbability: number;
}

export interface Submission {
  readonly counter: number;
  readonly payload: Uint8Array;
  readonly guarantee: Guarantee;
}

/**
 * Chooses what a node submits next. Counters are per sender and survive the
 * node's crashes (they live in the test, not in the node), so msgIds never
 * repeat; a counter is consumed only when the submission was accepted.
 */
export class AppModel {
  private readonly counters = new Map<number, number>();
  private largeBytesLeft: number;

  constructor(private readonly prng: Prng, readonly options: TrafficOptions) {
    if (options.sizeMaxBytes < payloadHeaderBytes || options.sizeLargeMaxBytes < options.sizeMaxBytes) {
      throw new RangeError('traffic sizes: need header <= sizeMaxBytes <= sizeLargeMaxBytes');
    }
    this.largeBytesLeft = options.largeBytesMax ?? Infinity;
  }

  size(): number {
    const { smallProbability, largeProbability, sizeMaxBytes, sizeLargeMaxBytes } = this.options;
    const roll = this.prng.float();
    if (roll < smallProbability) return this.prng.int(payloadHeaderBytes, Math.min(64, sizeMaxBytes));
    if (roll < smallProbability + largeProbability) {
      const size = this.prng.int(sizeMaxBytes, sizeLargeMaxBytes);
      if (size <= this.largeBytesLeft) {
        this.largeBytesLeft -= size;
        return size;
      }
    }
    return this.prng.int(payloadHeaderBytes, sizeMaxBytes);
  }

  /** The next message `sender` would submit (does not consume the counter). */
  next(sender: number): Submission {
    const counter = (this.counters.get(sender) ?? 0) + 1;
    const guarantee = this.prng.chance(this.options.safeProbability) ? Guarantee.Safe : Guarantee.Agreed;
    return { counter, payload: makePayload(sender, counter, this.size()), guarantee };
  }

  /** The submission of `counter` was accepted. */
  accepted(sender: number, counter: number): void {
    const previous = this.counters.get(sender) ?? 0;
    if (counter !== previous + 1) throw new Error(`app: sender ${sender} accepted counter ${counter} after ${previous}`);
    this.counters.set(sender, counter);
  }

  /** time until `sender`'s next submission attempt. */
  interval(): number {
    return this.prng.exponential(this.options.intervalMeanMs);
  }
}
