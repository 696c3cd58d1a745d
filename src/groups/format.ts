/**
 * The group layer's datagram payload format: what the Totem core orders as one
 * MCAST payload. Application *messages* are packed into and cut across these
 * *datagram payloads* (totempg's job in corosync, TOTEM.md §6). Little-endian.
 *
 * A datagram payload is one or more records, back to back, nothing after the
 * last one. A record holds a whole message or one fragment of a message:
 *
 * ```
 *  whole record (flags = FIRST|LAST = 0x03): 3 bytes + message
 *  ┌───────┬──────────┬──────────────────────────┐
 *  │ flags │ len u16  │ message bytes [len]      │
 *  │  u8   │          │ (len >= 1)               │
 *  └───────┴──────────┴──────────────────────────┘
 *
 *  fragment record (flags = FIRST 0x01 | middle 0x00 | LAST 0x02): 9 bytes + chunk
 *  ┌───────┬────────────┬───────────┬──────────┬──────────────────────┐
 *  │ flags │ number u32 │ index u16 │ len u16  │ chunk bytes [len]    │
 *  │  u8   │            │           │          │ (len >= 1)           │
 *  └───────┴────────────┴───────────┴──────────┴──────────────────────┘
 *    number: per-sender message number (wraps at 2^32), same on every
 *            fragment of one message; only fragmented messages use one
 *    index:  0 on the FIRST fragment, +1 on each following one
 * ```
 *
 * The *message* (what a whole record carries, or what the fragments of one
 * message concatenate to) is the group header followed by the payload:
 *
 * ```
 *  ┌──────────────┬─────────────┬──────────────┬─────┬─────────────────────┐
 *  │ groupCount u8│ nameLen u8  │ name bytes   │ ... │ payload (the rest)  │
 *  │ (0..50)      │ (1..128)    │ [nameLen]    │     │ (0..messageBytesMax)│
 *  └──────────────┴─────────────┴──────────────┴─────┴─────────────────────┘
 * ```
 *
 * Overhead of a small packed message sent to one group named with n bytes:
 * 3 (record) + 1 (groupCount) + 1 (nameLen) + n = 5 + n bytes besides the
 * payload (corosync: 2 + 2 + 2 + n, plus an 8-byte datagram header). There is
 * no datagram header: every datagram of one sender comes from the same
 * GroupSender, and the Totem MCAST already says who sent it and at which seq.
 *
 * Rules a sender keeps and a receiver checks (a datagram breaking any of them
 * is malformed, dropped whole and counted):
 * - flags use only bits 0x01 and 0x02; len >= 1; no record runs past the end;
 * - a FIRST fragment has index 0, a middle or LAST fragment index >= 1;
 * - a whole record's message parses (group header inside len, names 1..128 bytes,
 *   at most 50 of them).
 * A datagram never mixes guarantees (the guarantee is per datagram in the core).
 */
import { datagramPayloadBytesMin, groupCountMax, groupNameBytesMax } from '../limits.ts';
import { GroupError } from '../errors.ts';

/** Record flag: this record holds the first byte of its message. */
export const flagFirst = 0x01;
/** Record flag: this record holds the last byte of its message. */
export const flagLast = 0x02;
/** FIRST|LAST: a whole message in one record. */
export const flagsWhole = flagFirst | flagLast;

/** flags u8 + len u16. */
export const wholeRecordHeaderBytes = 3;
/** flags u8 + number u32 + index u16 + len u16. */
export const fragmentRecordHeaderBytes = 9;
/** Largest record length (u16). */
export const recordLenMax = 0xffff;
/** Fragments of one message: index is a u16. */
export const fragmentsMax = 0x10000;
/** Largest group header: groupCount u8 + groupCountMax × (nameLen u8 + groupNameBytesMax). */
export const groupHeaderBytesMax = 1 + groupCountMax * (1 + groupNameBytesMax);

/** IPv4 (20) + UDP (8) header bytes the transport spends per datagram. */
export const ipv4UdpHeaderBytes = 28;

/**
 * Bytes one datagram payload of this layer may hold:
 * `netmtuBytes − 28 (IPv4 + UDP) − cryptoOverheadBytes − 2 × mcastHeaderBytes`.
 *
 * Twice the MCAST header because in RECOVERY a member re-sends old-ring
 * messages encapsulated in a new-ring MCAST (TOTEM.md §5.2): the inner message
 * keeps its header and the outer one adds another, and the result must still
 * fit the MTU. Corosync does the same (netmtu 1500 → "Maximum network MTU 1410",
 * TOTEM.md §6.1). Use 48 instead of 28 for IPv6 by passing 20 more in
 * `cryptoOverheadBytes` or a smaller netmtu. The result is capped at 65535
 * (record lengths are u16) and must be at least `datagramPayloadBytesMin`.
 *
 * @param netmtuBytes         link MTU (corosync `netmtu`, default 1500)
 * @param cryptoOverheadBytes bytes the sealing adds (salt/nonce + tag + framing), 0 without crypto
 * @param mcastHeaderBytes    encoded size of one MCAST header without payload
 */
export function datagramPayloadBytes(netmtuBytes: number, cryptoOverheadBytes: number, mcastHeaderBytes: number): number {
  checkCount(netmtuBytes, 'netmtuBytes');
  checkCount(cryptoOverheadBytes, 'cryptoOverheadBytes');
  checkCount(mcastHeaderBytes, 'mcastHeaderBytes');
  const bytes = netmtuBytes - ipv4UdpHeaderBytes - cryptoOverheadBytes - 2 * mcastHeaderBytes;
  if (bytes < datagramPayloadBytesMin) {
    throw new GroupError('ERR_EVS_BAD_OPTION', `netmtuBytes ${netmtuBytes} leaves ${bytes} payload bytes per datagram; at least ${datagramPayloadBytesMin} are needed`);
  }
  return Math.min(bytes, recordLenMax);
}

function checkCount(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new GroupError('ERR_EVS_BAD_OPTION', `${name} must be a non-negative integer, got ${value}`);
  }
}

/** Bytes of the group header for these names (no validation). */
export function groupHeaderBytes(groups: readonly Uint8Array[]): number {
  let bytes = 1;
  for (const g of groups) bytes += 1 + g.length;
  return bytes;
}

/**
 * Writes the group header into `target` at `at` (room for `groupHeaderBytes`
 * needed); the caller validated the names. Returns where the header ends.
 * The one encoder of the header: a message's header is written once, by the
 * sending handle (runtime) or by `GroupSender.submit` (sans-IO callers).
 */
export function writeGroupHeader(groups: readonly Uint8Array[], target: Uint8Array, at: number): number {
  target[at++] = groups.length;
  for (const g of groups) {
    target[at] = g.length;
    target.set(g, at + 1);
    at += 1 + g.length;
  }
  return at;
}

/** The group header in a buffer of its own; the caller validated the names. */
export function encodeGroupHeader(groups: readonly Uint8Array[]): Uint8Array {
  const header = new Uint8Array(groupHeaderBytes(groups));
  writeGroupHeader(groups, header, 0);
  return header;
}

export interface ParsedMessage {
  /** the whole message as it was parsed (group header, then payload). */
  readonly bytes: Uint8Array;
  /** views into the message bytes. */
  readonly groups: Uint8Array[];
  /** view into the message bytes: their tail, after the group header. */
  readonly payload: Uint8Array;
}

/** Parse a message (group header + payload); null when the header is malformed. */
export function parseMessage(bytes: Uint8Array): ParsedMessage | null {
  if (bytes.length < 1) return null;
  const count = bytes[0]!;
  if (count > groupCountMax) return null;
  const groups: Uint8Array[] = [];
  let at = 1;
  for (let i = 0; i < count; i++) {
    if (at >= bytes.length) return null;
    const len = bytes[at]!;
    if (len === 0 || len > groupNameBytesMax) return null;
    if (at + 1 + len > bytes.length) return null;
    groups.push(bytes.subarray(at + 1, at + 1 + len));
    at += 1 + len;
  }
  return { bytes, groups, payload: bytes.subarray(at) };
}

export type ParsedRecord =
  | { readonly kind: 'whole'; readonly message: ParsedMessage }
  | {
      readonly kind: 'fragment';
      readonly first: boolean;
      readonly last: boolean;
      readonly number: number;
      readonly index: number;
      /** view into the datagram payload. */
      readonly chunk: Uint8Array;
    };

export type ParseResult = { readonly ok: true; readonly records: ParsedRecord[] } | { readonly ok: false; readonly reason: string };

/**
 * Split a datagram payload into records, checking every length against the
 * datagram. Never throws; the whole datagram is rejected on the first fault.
 */
export function parseDatagram(payload: Uint8Array): ParseResult {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const records: ParsedRecord[] = [];
  let at = 0;
  if (payload.length === 0) return { ok: false, reason: 'empty datagram' };
  while (at < payload.length) {
    const flags = payload[at]!;
    if ((flags & ~flagsWhole) !== 0) return { ok: false, reason: `unknown flags 0x${flags.toString(16)} at ${at}` };
    if (flags === flagsWhole) {
      if (at + wholeRecordHeaderBytes > payload.length) return { ok: false, reason: `truncated whole header at ${at}` };
      const len = view.getUint16(at + 1, true);
      const start = at + wholeRecordHeaderBytes;
      if (len === 0) return { ok: false, reason: `empty whole record at ${at}` };
      if (start + len > payload.length) return { ok: false, reason: `whole record at ${at} runs past the end` };
      const message = parseMessage(payload.subarray(start, start + len));
      if (message === null) return { ok: false, reason: `bad group header in whole record at ${at}` };
      records.push({ kind: 'whole', message });
      at = start + len;
      continue;
    }
    if (at + fragmentRecordHeaderBytes > payload.length) return { ok: false, reason: `truncated fragment header at ${at}` };
    const number = view.getUint32(at + 1, true);
    const index = view.getUint16(at + 5, true);
    const len = view.getUint16(at + 7, true);
    const start = at + fragmentRecordHeaderBytes;
    const first = (flags & flagFirst) !== 0;
    if (len === 0) return { ok: false, reason: `empty fragment at ${at}` };
    if (start + len > payload.length) return { ok: false, reason: `fragment at ${at} runs past the end` };
    if (first !== (index === 0)) return { ok: false, reason: `fragment index ${index} does not match flags 0x${flags.toString(16)} at ${at}` };
    records.push({ kind: 'fragment', first, last: (flags & flagLast) !== 0, number, index, chunk: payload.subarray(start, start + len) });
    at = start + len;
  }
  return { ok: true, records };
}
