/**
 * Records of the submit ring (main thread → protocol worker): one application
 * message each.
 *
 *   u8 guarantee (0 agreed, 1 safe) | group header (u8 count, (u8 len, name)*) | payload
 *
 * Everything after the guarantee byte is the message exactly as the group
 * layer sends it: the handle validates the names and encodes the header once,
 * here, and the protocol worker queues the record's tail without parsing it.
 * The head is the first part of the record and the payload the second, so the
 * payload is copied once, straight into the ring.
 */
import { groupHeaderBytes, writeGroupHeader } from '../../groups/format.ts';
import type { Guarantee } from '../../wire/messages.ts';

/** head of a submit record: guarantee byte and group header (names validated by the caller). */
export function encodeSubmitHead(guarantee: Guarantee, groups: readonly Uint8Array[]): Uint8Array {
  const head = new Uint8Array(1 + groupHeaderBytes(groups));
  head[0] = guarantee;
  writeGroupHeader(groups, head, 1);
  return head;
}

/**
 * The guarantee of a submit record, or null when the record is not framed as
 * one (a bug on the main side: counted, never thrown). The message is
 * `record.subarray(submitRecordMessageAt)`.
 */
export function submitRecordGuarantee(record: Uint8Array): Guarantee | null {
  const guarantee = record[0];
  if ((guarantee !== 0 && guarantee !== 1) || record.length <= submitRecordMessageAt) return null;
  return guarantee;
}

/** where the message (group header, payload) starts in a submit record. */
export const submitRecordMessageAt = 1;
