/**
 * Seeded test records shared by the ring tests and their worker: record i is
 * an 8-byte header [u32 i, u32 FNV-1a of the body] (little-endian) and a body
 * of seeded random size and bytes. Both threads regenerate the same sequence
 * from the seed, so the consumer checks order, checksum and every byte.
 */
import { Prng } from '../../sim/prng.ts';

export const HEADER_BYTES = 8;

export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class RecordSource {
  private readonly prng: Prng;
  private readonly buffer: Uint8Array;
  private readonly header = new Uint8Array(HEADER_BYTES);
  private readonly headerView = new DataView(this.header.buffer);
  index = 0;

  constructor(seed: number, private readonly minBody: number, private readonly maxBody: number) {
    this.prng = new Prng(seed);
    this.buffer = new Uint8Array(maxBody);
  }

  /** the next record's header and body (views reused by the following call). */
  next(): { header: Uint8Array; body: Uint8Array } {
    const size = this.prng.int(this.minBody, this.maxBody);
    const body = this.buffer.subarray(0, size);
    for (let i = 0; i < size; i += 4) {
      const r = this.prng.next();
      body[i] = r;
      if (i + 1 < size) body[i + 1] = r >>> 8;
      if (i + 2 < size) body[i + 2] = r >>> 16;
      if (i + 3 < size) body[i + 3] = r >>> 24;
    }
    this.headerView.setUint32(0, this.index, true);
    this.headerView.setUint32(4, fnv1a(body), true);
    this.index++;
    return { header: this.header, body };
  }
}

/** checks one received record against the source's next one; returns an error text or null. */
export function checkRecord(expected: RecordSource, record: Uint8Array): string | null {
  const want = expected.next();
  const i = expected.index - 1;
  if (record.length !== HEADER_BYTES + want.body.length) return `record ${i}: ${record.length} bytes, expected ${HEADER_BYTES + want.body.length}`;
  const view = new DataView(record.buffer, record.byteOffset, record.length);
  const index = view.getUint32(0, true);
  if (index !== i) return `record ${i}: carries index ${index} (order broken)`;
  const body = record.subarray(HEADER_BYTES);
  if (view.getUint32(4, true) !== fnv1a(body)) return `record ${i}: checksum mismatch`;
  for (let k = 0; k < body.length; k++) if (body[k] !== want.body[k]) return `record ${i}: byte ${k} differs`;
  return null;
}
