/**
 * Message -> bytes. Encoding an invalid message (zero id, unsorted list, too
 * many rtr entries, value out of range, datagram too big) is a programming bug
 * and throws AssertionError; every message is checked completely before the
 * first byte is written. Whatever encodeInto accepts, decode accepts back, and
 * the encoding is canonical: decode(b) ok implies encode(decode(b)) equals b.
 */
import { assert, unreachable } from '../assert.ts';
import { datagramBytesMax, processorsMax, ringSeqMax, rtrEntriesMax } from '../limits.ts';
import {
  commitEntryBytes,
  commitMemberBytes,
  commitTokenFixedBytes,
  joinFixedBytes,
  joinFlagLeave,
  joinIdBytes,
  mcastHeaderBytes,
  mergeDetectBytes,
  orfTokenFixedBytes,
  rtrItemBytes,
  tokenFlagRetrans,
  tokenHoldCancelBytes,
  u32Limit,
  wireMagic,
  versionByte,
} from './header.ts';
import {
  type CommitToken,
  type Join,
  type Mcast,
  type Message,
  MessageType,
  type OrfToken,
  type RingId,
} from './messages.ts';

/** Bytes `message` takes on the wire (no validation: see encodeInto). */
export function encodedSize(message: Message): number {
  switch (message.type) {
    case MessageType.OrfToken:
      return orfTokenFixedBytes + message.rtrList.length * rtrItemBytes;
    case MessageType.Mcast:
      return mcastHeaderBytes + (message.inner === null ? message.payload.length : encodedSize(message.inner));
    case MessageType.Join:
      return joinFixedBytes + (message.procList.length + message.failedList.length) * joinIdBytes;
    case MessageType.CommitToken:
      return commitTokenFixedBytes + message.members.length * (commitMemberBytes + commitEntryBytes);
    case MessageType.MergeDetect:
      return mergeDetectBytes;
    case MessageType.TokenHoldCancel:
      return tokenHoldCancelBytes;
    default:
      return unreachable(message, 'encodedSize: message type');
  }
}

/**
 * Writes `message` at `target[offset..]` and returns the number of bytes
 * written. `accelerated`: the sender runs the Accelerated Ring (header.ts).
 */
export function encodeInto(message: Message, target: Uint8Array, offset: number, accelerated = false): number {
  const size = encodedSize(message);
  assert(size <= datagramBytesMax, `encode: ${size} bytes exceed datagramBytesMax`);
  assert(Number.isInteger(offset), 'encode: offset is an integer');
  assert(offset >= 0, 'encode: offset is not negative');
  assert(offset + size <= target.length, 'encode: target has room for the message');
  const w = new Writer(target, offset, size, versionByte(accelerated));
  writeMessage(w, message);
  assert(w.pos === size, 'encode: wrote exactly encodedSize bytes');
  return size;
}

/** Encodes into a new Uint8Array of exactly encodedSize(message) bytes. */
export function encode(message: Message, accelerated = false): Uint8Array {
  const bytes = new Uint8Array(encodedSize(message));
  encodeInto(message, bytes, 0, accelerated);
  return bytes;
}

function writeMessage(w: Writer, message: Message): void {
  switch (message.type) {
    case MessageType.OrfToken:
      return encodeOrfToken(w, message);
    case MessageType.Mcast:
      return encodeMcast(w, message, false);
    case MessageType.Join:
      return encodeJoin(w, message);
    case MessageType.CommitToken:
      return encodeCommitToken(w, message);
    case MessageType.MergeDetect:
    case MessageType.TokenHoldCancel:
      assertNodeId(message.sender, 'sender');
      assertRingId(message.ringId, 'ringId');
      w.header(message.type, message.sender);
      w.ringId(message.ringId);
      return;
    default:
      return unreachable(message, 'encode: message type');
  }
}

function encodeOrfToken(w: Writer, m: OrfToken): void {
  assertNodeId(m.sender, 'token sender');
  assertRingId(m.ringId, 'token ringId');
  for (const [name, value] of [['seq', m.seq], ['tokenSeq', m.tokenSeq], ['aru', m.aru],
    ['aruAddr', m.aruAddr], ['backlog', m.backlog], ['fcc', m.fcc]] as const) {
    assertU32(value, `token ${name}`);
  }
  assert(typeof m.retransFlag === 'boolean', 'token retransFlag is a boolean');
  assert(m.rtrList.length <= rtrEntriesMax, `token rtrList has at most ${rtrEntriesMax} entries`);
  for (const item of m.rtrList) {
    assertRingId(item.ringId, 'rtr ringId');
    assertU32(item.seq, 'rtr seq');
  }
  w.header(m.type, m.sender);
  w.ringId(m.ringId);
  for (const value of [m.seq, m.tokenSeq, m.aru, m.aruAddr, m.backlog, m.fcc]) w.u32(value);
  w.u8(m.retransFlag ? tokenFlagRetrans : 0);
  w.u8(m.rtrList.length);
  for (const item of m.rtrList) {
    w.ringId(item.ringId);
    w.u32(item.seq);
  }
}

/** `nested`: this is the inner message of an encapsulated copy (one level only). */
function encodeMcast(w: Writer, m: Mcast, nested: boolean): void {
  assertNodeId(m.sender, 'mcast sender');
  assertRingId(m.ringId, 'mcast ringId');
  assertU32(m.seq, 'mcast seq');
  assert(m.guarantee === 0 || m.guarantee === 1, 'mcast guarantee is 0 or 1');
  assert(m.payload instanceof Uint8Array, 'mcast payload is a Uint8Array');
  if (m.inner !== null) {
    assert(!nested, 'mcast: encapsulation is one level only');
    assert(m.inner.type === MessageType.Mcast, 'mcast: inner is an Mcast');
    assert(m.payload.length === 0, 'mcast: an encapsulated copy has an empty payload');
  }
  w.header(m.type, m.sender);
  w.ringId(m.ringId);
  w.u32(m.seq);
  w.u8(m.guarantee);
  w.u8(m.inner === null ? 0 : 1);
  if (m.inner === null) w.bytes(m.payload);
  else encodeMcast(w, m.inner, true);
}

function encodeJoin(w: Writer, m: Join): void {
  assertNodeId(m.sender, 'join sender');
  assert(typeof m.leave === 'boolean', 'join leave is a boolean');
  assertRingSeq(m.ringSeq, 'join ringSeq');
  assertIdList(m.procList, 'join procList');
  assertIdList(m.failedList, 'join failedList');
  w.header(m.type, m.sender);
  w.u8(m.leave ? joinFlagLeave : 0);
  w.u64(m.ringSeq);
  w.u16(m.procList.length);
  w.u16(m.failedList.length);
  for (const id of m.procList) w.u32(id);
  for (const id of m.failedList) w.u32(id);
}

function encodeCommitToken(w: Writer, m: CommitToken): void {
  assertNodeId(m.sender, 'commit sender');
  assertRingId(m.ringId, 'commit ringId');
  assertU32(m.tokenSeq, 'commit tokenSeq');
  assertIdList(m.members, 'commit members');
  assert(m.members.length >= 1, 'commit token has at least one member');
  assert(m.entries.length === m.members.length, 'commit token has one entry per member');
  assert(Number.isInteger(m.memberIndex), 'commit memberIndex is an integer');
  assert(m.memberIndex >= 0, 'commit memberIndex is not negative');
  assert(m.memberIndex < m.members.length, 'commit memberIndex is below memberCount');
  for (const entry of m.entries) {
    assertCommitRingId(entry.oldRingId);
    assertU32(entry.aru, 'commit entry aru');
    assertU32(entry.highDelivered, 'commit entry highDelivered');
    assert(typeof entry.received === 'boolean', 'commit entry received is a boolean');
  }
  w.header(m.type, m.sender);
  w.ringId(m.ringId);
  w.u32(m.tokenSeq);
  w.u16(m.memberIndex);
  w.u16(m.members.length);
  for (const id of m.members) w.u32(id);
  for (const entry of m.entries) {
    w.ringId(entry.oldRingId);
    w.u32(entry.aru);
    w.u32(entry.highDelivered);
    w.u8(entry.received ? 1 : 0);
  }
}

function assertU32(value: number, what: string): void {
  assert(Number.isInteger(value), `${what} is an integer`);
  assert(value >= 0, `${what} is not negative`);
  assert(value < u32Limit, `${what} fits a u32`);
}

function assertNodeId(value: number, what: string): void {
  assertU32(value, what);
  assert(value !== 0, `${what} is not 0`);
}

function assertRingSeq(value: number, what: string): void {
  assert(Number.isInteger(value), `${what} is an integer`);
  assert(value >= 0, `${what} is not negative`);
  assert(value <= ringSeqMax, `${what} is at most 2^53 - 1`);
}

function assertRingId(ringId: RingId, what: string): void {
  assertNodeId(ringId.rep, `${what}.rep`);
  assertRingSeq(ringId.seq, `${what}.seq`);
}

/** A commit entry's old ring id is a real ring id, or {rep 0, seq 0} while unfilled. */
function assertCommitRingId(ringId: RingId): void {
  if (ringId.rep === 0) assert(ringId.seq === 0, 'unfilled commit entry has oldRingId seq 0');
  else assertRingId(ringId, 'commit entry oldRingId');
}

/** Non-zero u32 ids, strictly ascending, at most processorsMax of them. */
function assertIdList(ids: readonly number[], what: string): void {
  assert(ids.length <= processorsMax, `${what} has at most ${processorsMax} ids`);
  let previous = 0;
  for (const id of ids) {
    assertNodeId(id, `${what} id`);
    assert(id > previous, `${what} is strictly ascending`);
    previous = id;
  }
}

/** A bounds-checked little-endian cursor over target[offset, offset + size). */
class Writer {
  private readonly view: DataView;
  pos = 0;

  constructor(
    private readonly target: Uint8Array,
    private readonly offset: number,
    private readonly size: number,
    private readonly version: number,
  ) {
    this.view = new DataView(target.buffer, target.byteOffset + offset, size);
  }

  private take(n: number): number {
    assert(this.pos + n <= this.size, 'encode: write within encodedSize');
    const at = this.pos;
    this.pos += n;
    return at;
  }

  header(type: MessageType, sender: number): void {
    this.u16(wireMagic);
    this.u8(this.version);
    this.u8(type);
    this.u32(sender);
  }

  ringId(ringId: RingId): void {
    this.u32(ringId.rep);
    this.u64(ringId.seq);
  }

  u8(value: number): void {
    this.view.setUint8(this.take(1), value);
  }

  u16(value: number): void {
    this.view.setUint16(this.take(2), value, true);
  }

  u32(value: number): void {
    this.view.setUint32(this.take(4), value, true);
  }

  /** An integer below 2^53 as lo u32 + hi u32. */
  u64(value: number): void {
    this.u32(value % u32Limit);
    this.u32(Math.floor(value / u32Limit));
  }

  bytes(data: Uint8Array): void {
    const at = this.take(data.length);
    this.target.set(data, this.offset + at);
  }
}
