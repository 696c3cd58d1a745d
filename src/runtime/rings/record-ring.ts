/**
 * A single-producer / single-consumer ring of length-prefixed records over
 * SharedArrayBuffer, for the data plane between two threads (ARCHITECTURE.md
 * §2). Storage and indices are ringbuf.js's `RingBuffer` of Uint8Array; two
 * doorbells (doorbell.ts) let the consumer sleep while the ring is empty and
 * the producer sleep while it is full.
 *
 * Frame: u32 little-endian length, then that many bytes. The producer commits
 * a frame only when all of it fits (`availableWrite() >= 4 + length`) and
 * publishes it with ONE store of the write index, so the consumer never sees
 * part of a frame: if it sees the first byte of a frame, the whole frame is
 * there.
 *
 * Threads: create the shared memory anywhere (`RecordRing.create`), hand the
 * `RecordRingShared` object to both threads (workerData or postMessage: the
 * SharedArrayBuffers are shared, not copied), build exactly one
 * `RecordWriter` on the producing thread and one `RecordReader` on the
 * consuming thread.
 *
 * Batching (NODE-NOTES.md, "SharedArrayBuffer rings"): the writer notifies the
 * consumer once per batch (`flush()`), and only if it announced that it
 * sleeps; the reader moves bytes out of the ring in chunks (one read-index
 * publication per chunk, not per record) and wakes a producer that waits for
 * room only once the free space reaches what it asked for.
 */
import { RingBuffer } from 'ringbuf.js';
import { Doorbell, type WakeReason } from './doorbell.ts';

export type { WakeReason } from './doorbell.ts';

/** bytes of the length prefix of every frame. */
export const RECORD_HEADER_BYTES = 4;

/** what both threads need: structured-cloneable, all SharedArrayBuffers. */
export interface RecordRingShared {
  /** ringbuf.js storage: 8 bytes of indices, then capacity + 1 bytes. */
  readonly ring: SharedArrayBuffer;
  /** rung by the producer after a batch; the consumer sleeps on it. */
  readonly dataBell: SharedArrayBuffer;
  /** rung by the consumer after freeing room; the producer sleeps on it. */
  readonly spaceBell: SharedArrayBuffer;
}

const MIN_CAPACITY = RECORD_HEADER_BYTES + 1;
/** ringbuf.js keeps its indices in a Uint32Array; the doorbell's WANT is an Int32. */
const MAX_CAPACITY = 1 << 30;

export const RecordRing = {
  /**
   * Shared memory for a ring that holds `capacityBytes` bytes of frames (each
   * record takes 4 + its length). The largest record it can ever take is
   * `capacityBytes - 4`.
   */
  create(capacityBytes: number): RecordRingShared {
    if (!Number.isInteger(capacityBytes) || capacityBytes < MIN_CAPACITY || capacityBytes > MAX_CAPACITY) {
      throw new RangeError(`RecordRing.create: capacityBytes must be an integer in ${MIN_CAPACITY}..${MAX_CAPACITY} (got ${capacityBytes})`);
    }
    return {
      ring: RingBuffer.getStorageForCapacity(capacityBytes, Uint8Array),
      dataBell: Doorbell.create(),
      spaceBell: Doorbell.create(),
    };
  },

  /** the largest record a ring created with `capacityBytes` accepts. */
  maxRecordBytes(capacityBytes: number): number {
    return capacityBytes - RECORD_HEADER_BYTES;
  },
};

function openRing(shared: RecordRingShared, who: string): RingBuffer {
  if (shared === null || typeof shared !== 'object' || !(shared.ring instanceof SharedArrayBuffer)) {
    throw new TypeError(`${who}: expected the object returned by RecordRing.create()`);
  }
  if (shared.ring.byteLength < 8 + MIN_CAPACITY + 1) throw new RangeError(`${who}: ring storage too small`);
  return new RingBuffer(shared.ring, Uint8Array);
}

type OffsetWriter = Parameters<RingBuffer['writeCallbackWithOffset']>[1];

const EMPTY = new Uint8Array(0);

export interface RecordWriterOptions {
  /**
   * A producer that waits for room sleeps until at least this many bytes are
   * free (or the frame it needs, if larger), so that it is not woken for every
   * record the consumer takes out. Default: a quarter of the capacity.
   */
  readonly wakeFreeBytes?: number;
}

/**
 * Producer side. `tryWrite*` never block and never allocate; call `flush()`
 * once after a batch of writes to wake a sleeping consumer.
 */
export class RecordWriter {
  /** bytes of frames the ring holds. */
  readonly capacity: number;
  /** the largest record `tryWrite` accepts (header + body for `tryWriteParts`). */
  readonly maxRecordBytes: number;

  private readonly rb: RingBuffer;
  private readonly dataBell: Doorbell;
  private readonly spaceBell: Doorbell;
  private readonly wakeFreeBytes: number;

  // The frame being written, read by `fill` (a bound method, not a closure per write).
  private partA: Uint8Array = EMPTY;
  private partB: Uint8Array = EMPTY;
  private frameBytes = 0;
  private readonly fill: OffsetWriter;

  constructor(shared: RecordRingShared, options: RecordWriterOptions = {}) {
    this.rb = openRing(shared, 'RecordWriter');
    this.dataBell = new Doorbell(shared.dataBell);
    this.spaceBell = new Doorbell(shared.spaceBell);
    this.capacity = this.rb.capacity();
    this.maxRecordBytes = this.capacity - RECORD_HEADER_BYTES;
    const wake = options.wakeFreeBytes ?? Math.floor(this.capacity / 4);
    if (!Number.isInteger(wake) || wake < 1) throw new RangeError(`RecordWriter: wakeFreeBytes must be a positive integer (got ${wake})`);
    this.wakeFreeBytes = Math.min(wake, this.capacity);
    this.fill = (storage, offset, count, offsetB, countB) => this.fillFrame(storage as Uint8Array, offset, count, offsetB, countB);
  }

  /** bytes free right now (may be late: the consumer may have freed more). */
  availableWrite(): number {
    return this.rb.availableWrite();
  }

  /**
   * Writes one record if its frame (4 + length bytes) fits now. False when the
   * ring is too full (try again after `waitForSpace*`); throws a RangeError for
   * a record that could never fit. The record's bytes are copied: the caller
   * may reuse `record` as soon as this returns.
   */
  tryWrite(record: Uint8Array): boolean {
    return this.tryWriteParts(EMPTY, record);
  }

  /**
   * Writes `header` and `body` as ONE record (header bytes first), copying
   * each straight into the ring: no concatenation buffer.
   */
  tryWriteParts(header: Uint8Array, body: Uint8Array): boolean {
    const recordBytes = header.length + body.length;
    if (recordBytes > this.maxRecordBytes) {
      throw new RangeError(
        `RecordWriter: a record of ${recordBytes} bytes never fits in this ring (capacity ${this.capacity} bytes, ` +
          `largest record ${this.maxRecordBytes} bytes = capacity - ${RECORD_HEADER_BYTES}-byte length prefix)`,
      );
    }
    const frameBytes = RECORD_HEADER_BYTES + recordBytes;
    if (this.rb.availableWrite() < frameBytes) return false;
    this.partA = header;
    this.partB = body;
    this.frameBytes = frameBytes;
    // ringbuf.js's callback variant of push: it hands us its storage and the
    // (one or two) regions to fill, then publishes the write index once.
    const written = this.rb.writeCallbackWithOffset(frameBytes, this.fill);
    this.partA = EMPTY;
    this.partB = EMPTY;
    if (written !== frameBytes) throw new Error(`RecordWriter: ring wrote ${written} of ${frameBytes} bytes (two producers on one ring?)`);
    return true;
  }

  /**
   * Ends a batch: wakes the consumer if it announced that it sleeps (one
   * atomic load otherwise). Returns true when it notified.
   */
  flush(): boolean {
    return this.dataBell.ring();
  }

  /**
   * Worker only (Atomics.wait): flushes, then sleeps until a record of
   * `recordBytes` fits or `timeoutMs` passes. Re-try the write afterwards
   * whatever the reason.
   */
  waitForSpaceSync(recordBytes: number, timeoutMs: number): WakeReason {
    const frame = this.frameFor(recordBytes);
    this.flush();
    return this.spaceBell.waitSync(() => this.rb.availableWrite() >= frame, timeoutMs, Math.max(frame, this.wakeFreeBytes));
  }

  /** the same with Atomics.waitAsync, for a producer on the main thread. */
  waitForSpaceAsync(recordBytes: number, timeoutMs: number): Promise<WakeReason> {
    const frame = this.frameFor(recordBytes);
    this.flush();
    return this.spaceBell.waitAsync(() => this.rb.availableWrite() >= frame, timeoutMs, Math.max(frame, this.wakeFreeBytes));
  }

  /**
   * Worker only: writes one record, sleeping while the ring is full, and
   * flushes. False if `timeoutMs` (for the whole call) passed first.
   */
  writeSync(record: Uint8Array, timeoutMs = Number.POSITIVE_INFINITY): boolean {
    const deadline = performance.now() + timeoutMs;
    while (!this.tryWrite(record)) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      this.waitForSpaceSync(record.length, left);
    }
    this.flush();
    return true;
  }

  /** wakes the consumer whatever it waits for (shutdown). */
  wakeConsumer(): void {
    this.dataBell.wakeNow();
  }

  private frameFor(recordBytes: number): number {
    if (!Number.isInteger(recordBytes) || recordBytes < 0 || recordBytes > this.maxRecordBytes) {
      throw new RangeError(`RecordWriter: cannot wait for room for a record of ${recordBytes} bytes (largest ${this.maxRecordBytes})`);
    }
    return RECORD_HEADER_BYTES + recordBytes;
  }

  private fillFrame(storage: Uint8Array, offset: number, count: number, _offsetB: number, countB: number): number {
    const frame = this.frameBytes;
    if (count + countB !== frame) return 0; // cannot happen: room was checked and only we write
    const size = storage.length;
    const len = frame - RECORD_HEADER_BYTES;
    let at = offset;
    storage[at] = len & 0xff;
    at = at + 1 === size ? 0 : at + 1;
    storage[at] = (len >>> 8) & 0xff;
    at = at + 1 === size ? 0 : at + 1;
    storage[at] = (len >>> 16) & 0xff;
    at = at + 1 === size ? 0 : at + 1;
    storage[at] = len >>> 24;
    at = at + 1 === size ? 0 : at + 1;
    at = put(storage, at, this.partA);
    put(storage, at, this.partB);
    return frame;
  }
}

/** copies `src` into the ring storage at `at`, wrapping at its end; returns the next index. */
function put(storage: Uint8Array, at: number, src: Uint8Array): number {
  const n = src.length;
  const size = storage.length;
  if (at + n < size) {
    storage.set(src, at);
    return at + n;
  }
  if (at + n === size) {
    storage.set(src, at);
    return 0;
  }
  // Straddles the end of the storage: once per lap of the ring. A byte loop
  // here keeps the write side free of allocation (no subarray views).
  const first = size - at;
  for (let i = 0; i < first; i++) storage[at + i] = src[i] as number;
  for (let i = first; i < n; i++) storage[i - first] = src[i] as number;
  return n - first;
}

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
export class RecordReader {
  readonly capacity: number;
  readonly maxRecordBytes: number;

  private readonly rb: RingBuffer;
  private readonly dataBell: Doorbell;
  private readonly spaceBell: Doorbell;
  private readonly chunkBytes: number;
  private readonly pop: (into: Uint8Array, count: number, offset: number) => number;
  private readonly scratch: Uint8Array;
  /** scratch[pos, end): bytes taken out of the ring and not yet handed out. */
  private pos = 0;
  private end = 0;
  /** set by `next()`: where the next record's bytes start in scratch. */
  private start = 0;

  constructor(shared: RecordRingShared, options: RecordReaderOptions = {}) {
    this.rb = openRing(shared, 'RecordReader');
    this.dataBell = new Doorbell(shared.dataBell);
    this.spaceBell = new Doorbell(shared.spaceBell);
    this.capacity = this.rb.capacity();
    this.maxRecordBytes = this.capacity - RECORD_HEADER_BYTES;
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
        const len = ((s[pos] as number) | ((s[pos + 1] as number) << 8) | ((s[pos + 2] as number) << 16) | ((s[pos + 3] as number) << 24)) >>> 0;
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
