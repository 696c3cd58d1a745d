/**
 * Consumer side of a record ring (record-ring.ts has the frame format and the
 * threads' contract): moves bytes out in chunks and hands out whole records.
 */
import type { WakeReason } from './doorbell.ts';
import { readU32LE } from '../../bytes.ts';
import { RECORD_HEADER_BYTES, RecordRingEnd, type RecordRingShared } from './ring-layout.ts';

/**
 * How the reader moves bytes out of the ring: `'ringbuf'` = ringbuf.js's own
 * `pop` (it copies with a JavaScript byte loop); `'set'` (the default) = the
 * same ring layout and index protocol as `pop`, copying with TypedArray.set.
 *
 * Why `'set'` is the default: bench/ring.bench.ts (worker → main, 1 MiB ring)
 * shows ringbuf.js's pop is the limit for big records. At 1400 B the producer
 * found the ring full 1,300–2,000 times per 400,000 records while the
 * consumer almost never slept (4–51 times), and `'set'` moved 1.6–2.4× more
 * records/s (e.g. 0.87 M → 2.08 M); at 100 B the two are within the machine's
 * noise (2.5–7.6 M records/s either way). The writer side is ringbuf.js's own
 * `writeCallbackWithOffset` (it hands out its storage, we copy with set).
 */
export type RingCopy = 'ringbuf' | 'set';

export interface RecordReaderOptions {
  /**
   * Most bytes moved out of the ring per chunk: the read index is published
   * (and the producer can be woken) once per chunk. Default 64 KiB.
   */
  readonly chunkBytes?: number;
  /** see RingCopy; default 'set'. */
  readonly copy?: RingCopy;
}

/**
 * Consumer side. Bytes move from the ring into a private scratch buffer (the
 * size of the ring) a chunk at a time; records are handed out from there.
 *
 * Ownership: the Uint8Array that `drain` passes to its callback, and the one
 * `read()` returns when given `out`, are views of memory that is reused: the
 * callback's view is valid only during the callback (copy it, e.g. with
 * `slice()`, to keep it), `read(out)`'s result until `out` is reused.
 * `read()` without `out` returns a fresh copy the caller owns. Do not call
 * `read`/`drain` from inside a `drain` callback.
 */
export class RecordReader extends RecordRingEnd {
  private readonly chunkBytes: number;
  private readonly pop: (into: Uint8Array, count: number, offset: number) => number;
  private readonly scratch: Uint8Array;
  /** scratch[pos, end): bytes taken out of the ring and not yet handed out. */
  private pos = 0;
  private end = 0;
  /** set by `next()`: where the next record's bytes start in scratch. */
  private start = 0;

  constructor(shared: RecordRingShared, options: RecordReaderOptions = {}) {
    super(shared, 'RecordReader');
    const chunk = options.chunkBytes ?? 64 * 1024;
    if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`RecordReader: chunkBytes must be a positive integer (got ${chunk})`);
    this.chunkBytes = chunk;
    const copy = options.copy ?? 'set';
    if (copy === 'ringbuf') this.pop = (into, count, offset) => this.rb.pop(into, count, offset);
    else if (copy === 'set') this.pop = setCopyPop(shared.ring);
    else throw new RangeError(`RecordReader: copy must be 'ringbuf' or 'set' (got ${String(copy)})`);
    // A whole frame always fits: a partial frame is moved to the front before
    // the rest of it is taken out of the ring.
    this.scratch = new Uint8Array(this.capacity);
  }

  /** true if a record can be read now (scratch or ring). */
  hasData(): boolean {
    return this.end > this.pos || !this.rb.empty();
  }

  /** bytes waiting (frames, prefixes included), in scratch and in the ring. */
  availableRead(): number {
    return this.end - this.pos + this.rb.availableRead();
  }

  /**
   * The next record, or null if there is none. With `out` (large enough, else
   * a RangeError and the record stays) the bytes are copied into it and a view
   * `out.subarray(0, length)` is returned; without, a fresh copy.
   */
  read(out?: Uint8Array): Uint8Array | null {
    const len = this.next();
    if (len < 0) return null;
    const start = this.start;
    if (out === undefined) {
      this.pos = start + len;
      return this.scratch.slice(start, start + len);
    }
    if (out.length < len) throw new RangeError(`RecordReader.read: the next record has ${len} bytes, out has room for ${out.length}`);
    out.set(this.scratch.subarray(start, start + len));
    this.pos = start + len;
    return out.subarray(0, len);
  }

  /**
   * Hands up to `max` records, in order, to `callback` (see the class comment
   * for how long its view lives). A record counts as consumed before its
   * callback runs: if the callback throws, the error propagates and the next
   * call continues with the following record. Returns how many were handed out.
   */
  drain(callback: (record: Uint8Array) => void, max = Number.POSITIVE_INFINITY): number {
    let count = 0;
    while (count < max) {
      const len = this.next();
      if (len < 0) break;
      const start = this.start;
      this.pos = start + len;
      count++;
      callback(this.scratch.subarray(start, start + len));
    }
    return count;
  }

  /**
   * Worker only: sleeps in Atomics.wait until a record is there or
   * `timeoutMs` passes (returns at once, 'ready', if one already is).
   */
  waitSync(timeoutMs: number): WakeReason {
    return this.dataBell.waitSync(() => this.hasData(), timeoutMs);
  }

  /**
   * main thread: the same with Atomics.waitAsync; the event loop keeps
   * running (and is not kept alive by the wait itself: see Doorbell.waitAsync).
   */
  waitAsync(timeoutMs: number): Promise<WakeReason> {
    return this.dataBell.waitAsync(() => this.hasData(), timeoutMs);
  }

  /** ends this reader's own pending wait, from the consumer's thread (shutdown). */
  interruptWait(): void {
    this.dataBell.wakeNow();
  }

  /** wakes the producer whatever it waits for (shutdown). */
  wakeProducer(): void {
    this.spaceBell.wakeNow();
  }

  /** length of the next complete record (start in `this.start`), or -1. */
  private next(): number {
    for (;;) {
      const pos = this.pos;
      const have = this.end - pos;
      if (have >= RECORD_HEADER_BYTES) {
        const s = this.scratch;
        const len = readU32LE(s, pos);
        if (len > this.maxRecordBytes) throw new Error(`RecordReader: corrupt ring (record length ${len} > ${this.maxRecordBytes})`);
        if (have >= RECORD_HEADER_BYTES + len) {
          this.start = pos + RECORD_HEADER_BYTES;
          return len;
        }
      }
      if (!this.refill()) {
        if (have > 0) throw new Error('RecordReader: corrupt ring (a partial frame and nothing more to read)');
        return -1;
      }
    }
  }

  /** moves the next chunk of the ring into scratch; false if the ring is empty. */
  private refill(): boolean {
    const inRing = this.rb.availableRead();
    if (inRing === 0) return false;
    if (this.pos === this.end) {
      this.pos = 0;
      this.end = 0;
    } else if (this.pos > 0) {
      this.scratch.copyWithin(0, this.pos, this.end);
      this.end -= this.pos;
      this.pos = 0;
    }
    const room = this.scratch.length - this.end;
    const moved = this.pop(this.scratch, Math.min(inRing, room, this.chunkBytes), this.end);
    this.end += moved;
    // Room was made: wake the producer if it sleeps and this is as much as it asked for.
    this.spaceBell.ring(this.rb.availableWrite());
    return moved > 0;
  }
}

/**
 * ringbuf.js's `pop` over the same memory (write index at byte 0, read index
 * at byte 4, storage from byte 8), the same Atomics, but copying with
 * TypedArray.set instead of a byte loop.
 */
function setCopyPop(sab: SharedArrayBuffer): (into: Uint8Array, count: number, offset: number) => number {
  const writeIndex = new Uint32Array(sab, 0, 1);
  const readIndex = new Uint32Array(sab, 4, 1);
  const storage = new Uint8Array(sab, 8, sab.byteLength - 8);
  const size = storage.length;
  return (into, count, offset) => {
    const rd = Atomics.load(readIndex, 0);
    const wr = Atomics.load(writeIndex, 0);
    const n = Math.min((wr + size - rd) % size, count);
    if (n === 0) return 0;
    const first = Math.min(size - rd, n);
    into.set(storage.subarray(rd, rd + first), offset);
    if (n > first) into.set(storage.subarray(0, n - first), offset + first);
    Atomics.store(readIndex, 0, (rd + n) % size);
    return n;
  };
}
