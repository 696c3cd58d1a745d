/**
 * Records of the submit ring (main thread → protocol worker): one application
 * message each.
 *
 *   u8 guarantee (0 agreed, 1 safe) | group header (u8 count, (u8 len, name)*) | payload
 *
 * The main thread validated everything before writing; the head is the first
 * part of the record and the payload the second, so the payload is copied
 * once, straight into the ring.
 */
import { encodeGroupHeader, parseMessage } from '../../groups/format.ts';
import type { Guarantee } from '../../wire/messages.ts';

/** head of a submit record: guarantee byte and group header. */
export function encodeSubmitHead(guarantee: Guarantee, groups: readonly Uint8Array[]): Uint8Array {
  const header = encodeGroupHeader(groups);
  const head = new Uint8Array(1 + header.length);
  head[0] = guarantee;
  head.set(header, 1);
  return head;
}

export interface SubmitRecord {
  readonly guarantee: Guarantee;
  /** views into the record. */
  readonly groups: Uint8Array[];
  readonly payload: Uint8Array;
}

/** null for a malformed record (a bug on the main side: counted, never thrown). */
export function decodeSubmitRecord(record: Uint8Array): SubmitRecord | null {
  const guarantee = record[0];
  if (guarantee !== 0 && guarantee !== 1) return null;
  const parsed = parseMessage(record.subarray(1));
  if (parsed === null) return null;
  return { guarantee, groups: parsed.groups, payload: parsed.payload };
}
