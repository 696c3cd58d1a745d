/**
 * Records of the submit ring (main thread → protocol worker): one application
 * message each.
 *
 *   u8 guarantee (0 agreed, 1 safe) | u32 handle id (LE) | group header (u8 count, (u8 len, name)*) | payload
 *
 * Everything after the handle id is the message exactly as the group layer
 * sends it: the handle validates the names and encodes the header once, here,
 * and the protocol worker queues the record's tail without parsing it. The
 * handle id is there so that a record the protocol worker cannot take, after
 * the main thread accepted it, is reported to the handle that sent it instead
 * of being dropped silently. The head is the first part of the record and the
 * payload the second, so the payload is copied once, straight into the ring.
 */
import { readU32LE, writeU32LE } from '../../bytes.ts';
import { groupHeaderBytes, writeGroupHeader } from '../../groups/format.ts';
import type { Guarantee } from '../../wire/messages.ts';

/** where the message (group header, payload) starts in a submit record. */
export const submitRecordMessageAt = 5;

/** head of a submit record: guarantee byte, handle id and group header (names validated by the caller). */
export function encodeSubmitHead(guarantee: Guarantee, handleId: number, groups: readonly Uint8Array[]): Uint8Array {
  const head = new Uint8Array(submitRecordMessageAt + groupHeaderBytes(groups));
  head[0] = guarantee;
  writeU32LE(head, 1, handleId);
  writeGroupHeader(groups, head, submitRecordMessageAt);
  return head;
}

/**
 * The guarantee of a submit record, or null when the record is not framed as
 * one (a bug on the main side: counted and reported to the handle, never
 * thrown). The message is `record.subarray(submitRecordMessageAt)`.
 */
export function submitRecordGuarantee(record: Uint8Array): Guarantee | null {
  const guarantee = record[0];
  if ((guarantee !== 0 && guarantee !== 1) || record.length <= submitRecordMessageAt) return null;
  return guarantee;
}

/** the handle that sent the record, or 0 when the record is too short to name one. */
export function submitRecordHandle(record: Uint8Array): number {
  return record.length >= submitRecordMessageAt ? readU32LE(record, 1) : 0;
}
