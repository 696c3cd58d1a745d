/**
 * Producer side of a record ring (record-ring.ts has the frame format and the
 * threads' contract): copies whole frames into the ring and rings the data
 * doorbell once per batch.
 */
import type { RingBuffer } from 'ringbuf.js';
import type { WakeReason } from './doorbell.ts';
import { RECORD_HEADER_BYTES, RecordRingEnd, type RecordRingShared } from './ring-layout.ts';

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
 * once after a batch of writes to wake a sleeping consumer. `maxRecordBytes`
 * is the largest record `tryWrite` accepts (header + body for `tryWriteParts`).
 */
export class RecordWriter extends RecordRingEnd {
  private readonly wakeFreeBytes: number;

  // The frame being written, read by `fill` (a bound method, not a closure per write).
  private partA: Uint8Array = EMPTY;
  private partB: Uint8Array = EMPTY;
  private frameBytes = 0;
  private readonly fill: OffsetWriter;

  constructor(shared: RecordRingShared, options: RecordWriterOptions = {}) {
    super(shared, 'RecordWriter');
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
