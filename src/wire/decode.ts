/**
 * Bytes -> Message. decode never throws: every length is checked before it is
 * read and every value is validated, so a datagram from the network is either a
 * valid message (one that encode accepts and re-encodes to the same bytes) or
 * one reason in `decodeErrors`.
 *
 * Reasons:
 * - 'short':   the datagram ends before a field it must hold (header, fixed
 *              part, counted list, or an encapsulated message's header);
 * - 'magic', 'version', 'type': the common header does not match;
 * - 'ordering': the sender runs the other ordering (classic vs accelerated,
 *              the version byte's top bit, header.ts): never mixed in a ring;
 * - 'length':  bytes left over after a fixed-size message, or a datagram
 *              bigger than datagramBytesMax;
 * - 'value':   a field out of range (zero id, bad flag bits, unsorted list,
 *              count over its limit, ring seq >= 2^53, nested encapsulation...).
 * An encapsulated Mcast's inner message reports its own reason.
 *
 * ZERO COPY: a decoded Mcast's `payload` is a `subarray` view of the input
 * bytes. A caller that reuses or overwrites its receive buffer must copy the
 * payload (`payload.slice()`) before it does.
 */
import { datagramBytesMax, processorsMax, rtrEntriesMax } from '../limits.ts';
import {
  commitEntryBytes,
  commitMemberBytes,
  commitTokenFixedBytes,
  headerBytes,
  joinFixedBytes,
  joinFlagLeave,
  joinIdBytes,
  mcastHeaderBytes,
  mergeDetectBytes,
  orfTokenFixedBytes,
  ringSeqHiLimit,
  rtrItemBytes,
  tokenFlagRetrans,
  tokenHoldCancelBytes,
  u32Limit,
  versionByte,
  versionFlagAccelerated,
  wireMagic,
  wireVersion,
} from './header.ts';
import {
  type CommitEntry,
  type CommitToken,
  type Guarantee,
  type Join,
  type Mcast,
  type Message,
  MessageType,
  type OrfToken,
  type RingId,
  type RtrItem,
} from './messages.ts';

/** Every reason decode can give, for per-reason counters. */
export const decodeErrors = ['short', 'magic', 'version', 'ordering', 'type', 'length', 'value'] as const;
export type DecodeError = (typeof decodeErrors)[number];
export type DecodeResult = { ok: true; message: Message } | { ok: false; reason: DecodeError };

/** Internal result: a decoded value or the reason it could not be decoded. */
type Decoded<T> = T | DecodeError;

function failed<T>(value: Decoded<T>): value is DecodeError {
  return typeof value === 'string';
}

/** `accelerated`: this node runs the Accelerated Ring and accepts only datagrams of nodes that do. */
export function decode(bytes: Uint8Array, accelerated = false): DecodeResult {
  try {
    const message = decodeMessage(bytes, false, versionByte(accelerated));
    return failed(message) ? { ok: false, reason: message } : { ok: true, message };
  } catch {
    // Defensive only: every read above is length-checked first.
    return { ok: false, reason: 'value' };
  }
}

/** `nested`: `bytes` is the inner message of an encapsulated Mcast. */
function decodeMessage(bytes: Uint8Array, nested: boolean, version: number): Decoded<Message> {
  if (bytes.length > datagramBytesMax) return 'length';
  if (bytes.length < headerBytes) return 'short';
  const r = new Reader(bytes);
  if (r.u16() !== wireMagic) return 'magic';
  const versionRead = r.u8();
  if ((versionRead & ~versionFlagAccelerated) !== wireVersion) return 'version';
  if (versionRead !== version) return 'ordering';
  const type = r.u8();
  const sender = r.u32();
  if (type > MessageType.TokenHoldCancel) return 'type';
  if (sender === 0) return 'value';
  if (nested && type !== MessageType.Mcast) return 'value';
  switch (type) {
    case MessageType.OrfToken:
      return decodeOrfToken(r, sender);
    case MessageType.Mcast:
      return decodeMcast(r, sender, nested, version);
    case MessageType.Join:
      return decodeJoin(r, sender);
    case MessageType.CommitToken:
      return decodeCommitToken(r, sender);
    case MessageType.MergeDetect:
      return decodeRingOnly(r, MessageType.MergeDetect, sender, mergeDetectBytes);
    default:
      return decodeRingOnly(r, MessageType.TokenHoldCancel, sender, tokenHoldCancelBytes);
  }
}

function decodeOrfToken(r: Reader, sender: number): Decoded<OrfToken> {
  if (r.bytes.length < orfTokenFixedBytes) return 'short';
  const ringId = r.ringId();
  if (failed(ringId)) return ringId;
  const seq = r.u32();
  const tokenSeq = r.u32();
  const aru = r.u32();
  const aruAddr = r.u32();
  const backlog = r.u32();
  const fcc = r.u32();
  const flags = r.u8();
  const rtrCount = r.u8();
  if ((flags & ~tokenFlagRetrans) !== 0) return 'value';
  if (rtrCount > rtrEntriesMax) return 'value';
  const expected = orfTokenFixedBytes + rtrCount * rtrItemBytes;
  if (r.bytes.length < expected) return 'short';
  if (r.bytes.length > expected) return 'length';
  const rtrList: RtrItem[] = [];
  for (let i = 0; i < rtrCount; i += 1) {
    const itemRingId = r.ringId();
    if (failed(itemRingId)) return itemRingId;
    rtrList.push({ ringId: itemRingId, seq: r.u32() });
  }
  const retransFlag = (flags & tokenFlagRetrans) !== 0;
  return { type: MessageType.OrfToken, sender, ringId, seq, tokenSeq, aru, aruAddr, backlog, fcc, retransFlag, rtrList };
}

function decodeMcast(r: Reader, sender: number, nested: boolean, version: number): Decoded<Mcast> {
  if (r.bytes.length < mcastHeaderBytes) return 'short';
  const ringId = r.ringId();
  if (failed(ringId)) return ringId;
  const seq = r.u32();
  const guarantee = r.u8();
  const encapsulated = r.u8();
  if (guarantee > 1 || encapsulated > 1) return 'value';
  const rest = r.bytes.subarray(r.pos);
  let payload = rest; // zero-copy view of the input: see the file comment.
  let inner: Mcast | null = null;
  if (encapsulated === 1) {
    if (nested) return 'value';
    const decoded = decodeMessage(rest, true, version);
    if (failed(decoded)) return decoded;
    if (decoded.type !== MessageType.Mcast) return 'value';
    inner = decoded;
    payload = new Uint8Array(0);
  }
  return { type: MessageType.Mcast, sender, ringId, seq, guarantee: guarantee as Guarantee, payload, inner };
}

function decodeJoin(r: Reader, sender: number): Decoded<Join> {
  if (r.bytes.length < joinFixedBytes) return 'short';
  const flags = r.u8();
  const ringSeq = r.u64();
  const procCount = r.u16();
  const failedCount = r.u16();
  if ((flags & ~joinFlagLeave) !== 0) return 'value';
  if (failed(ringSeq)) return ringSeq;
  if (procCount > processorsMax || failedCount > processorsMax) return 'value';
  const expected = joinFixedBytes + (procCount + failedCount) * joinIdBytes;
  if (r.bytes.length < expected) return 'short';
  if (r.bytes.length > expected) return 'length';
  const procList = r.idList(procCount);
  if (failed(procList)) return procList;
  const failedList = r.idList(failedCount);
  if (failed(failedList)) return failedList;
  const leave = (flags & joinFlagLeave) !== 0;
  return { type: MessageType.Join, sender, leave, ringSeq, procList, failedList };
}

function decodeCommitToken(r: Reader, sender: number): Decoded<CommitToken> {
  if (r.bytes.length < commitTokenFixedBytes) return 'short';
  const ringId = r.ringId();
  if (failed(ringId)) return ringId;
  const tokenSeq = r.u32();
  const memberIndex = r.u16();
  const memberCount = r.u16();
  if (memberCount < 1 || memberCount > processorsMax) return 'value';
  if (memberIndex >= memberCount) return 'value';
  const expected = commitTokenFixedBytes + memberCount * (commitMemberBytes + commitEntryBytes);
  if (r.bytes.length < expected) return 'short';
  if (r.bytes.length > expected) return 'length';
  const members = r.idList(memberCount);
  if (failed(members)) return members;
  const entries: CommitEntry[] = [];
  for (let i = 0; i < memberCount; i += 1) {
    const entry = readCommitEntry(r);
    if (failed(entry)) return entry;
    entries.push(entry);
  }
  return { type: MessageType.CommitToken, sender, ringId, tokenSeq, memberIndex, members, entries };
}

/** The caller has checked that commitEntryBytes are there. */
function readCommitEntry(r: Reader): Decoded<CommitEntry> {
  const oldRingId = r.ringId(true);
  if (failed(oldRingId)) return oldRingId;
  const aru = r.u32();
  const highDelivered = r.u32();
  const received = r.u8();
  if (received > 1) return 'value';
  return { oldRingId, aru, highDelivered, received: received === 1 };
}

function decodeRingOnly<T extends typeof MessageType.MergeDetect | typeof MessageType.TokenHoldCancel>(
  r: Reader,
  type: T,
  sender: number,
  size: number,
): Decoded<{ type: T; sender: number; ringId: RingId }> {
  if (r.bytes.length < size) return 'short';
  if (r.bytes.length > size) return 'length';
  const ringId = r.ringId();
  if (failed(ringId)) return ringId;
  return { type, sender, ringId };
}

/**
 * A little-endian cursor. Its callers check lengths before reading; the
 * DataView would throw past the end, which decode() reports as 'value'.
 */
class Reader {
  private readonly view: DataView;
  pos = 0;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(): number {
    const value = this.view.getUint8(this.pos);
    this.pos += 1;
    return value;
  }

  u16(): number {
    const value = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return value;
  }

  u32(): number {
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  /** lo u32 + hi u32; 'value' when it is not below 2^53. */
  u64(): Decoded<number> {
    const lo = this.u32();
    const hi = this.u32();
    if (hi >= ringSeqHiLimit) return 'value';
    return hi * u32Limit + lo;
  }

  /** rep 0 is accepted only as the unfilled commit entry ring id {0, 0}. */
  ringId(unfilledAllowed = false): Decoded<RingId> {
    const rep = this.u32();
    const seq = this.u64();
    if (failed(seq)) return seq;
    if (rep === 0 && !(unfilledAllowed && seq === 0)) return 'value';
    return { rep, seq };
  }

  /** `count` non-zero, strictly ascending u32 ids. */
  idList(count: number): Decoded<number[]> {
    const ids: number[] = [];
    let previous = 0;
    for (let i = 0; i < count; i += 1) {
      const id = this.u32();
      if (id <= previous) return 'value';
      ids.push(id);
      previous = id;
    }
    return ids;
  }
}
