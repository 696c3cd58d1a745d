/**
 * The memory layout both sides of a record ring share (record-ring.ts says how
 * the threads use it): the frame header and the ringbuf.js storage.
 */
import { RingBuffer } from 'ringbuf.js';
import { Doorbell } from './doorbell.ts';

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

export const MIN_CAPACITY = RECORD_HEADER_BYTES + 1;
/** ringbuf.js keeps its indices in a Uint32Array; the doorbell's WANT is an Int32. */
export const MAX_CAPACITY = 1 << 30;

export function openRing(shared: RecordRingShared, who: string): RingBuffer {
  if (shared === null || typeof shared !== 'object' || !(shared.ring instanceof SharedArrayBuffer)) {
    throw new TypeError(`${who}: expected the object returned by RecordRing.create()`);
  }
  if (shared.ring.byteLength < 8 + MIN_CAPACITY + 1) throw new RangeError(`${who}: ring storage too small`);
  return new RingBuffer(shared.ring, Uint8Array);
}

/** What each end of a record ring opens: the ring, both doorbells and its limits. */
export abstract class RecordRingEnd {
  /** bytes of frames the ring holds. */
  readonly capacity: number;
  /** the largest record the ring takes (its frame header excluded). */
  readonly maxRecordBytes: number;
  protected readonly rb: RingBuffer;
  protected readonly dataBell: Doorbell;
  protected readonly spaceBell: Doorbell;

  protected constructor(shared: RecordRingShared, who: string) {
    this.rb = openRing(shared, who);
    this.dataBell = new Doorbell(shared.dataBell);
    this.spaceBell = new Doorbell(shared.spaceBell);
    this.capacity = this.rb.capacity();
    this.maxRecordBytes = this.capacity - RECORD_HEADER_BYTES;
  }
}
