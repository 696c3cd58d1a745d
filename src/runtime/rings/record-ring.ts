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
import { Doorbell } from './doorbell.ts';
import { MAX_CAPACITY, MIN_CAPACITY, RECORD_HEADER_BYTES, type RecordRingShared } from './ring-layout.ts';

export type { WakeReason } from './doorbell.ts';

export { RECORD_HEADER_BYTES, type RecordRingShared } from './ring-layout.ts';
export { RecordWriter, type RecordWriterOptions } from './record-writer.ts';
export { RecordReader, type RecordReaderOptions, type RingCopy } from './record-reader.ts';

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
