/**
 * Records of the deliver ring (protocol worker → main thread).
 *
 * The protocol worker filters by group: a record names the handles that get
 * it, so the main thread only dispatches. A message that several handles
 * receive crosses the ring once.
 *
 *   u8  kind            1 = message, 2 = configuration change
 *   u16 handleCount     then handleCount × u32 handle ids
 *   message:  u8 guarantee | u32 sender | group header (u8 count, (u8 len, name)*) | payload
 *   confchg:  u8 type (0 transitional, 1 regular) | u32 rep | f64 seq | u32 fromRep | f64 fromSeq
 *             | u16 members | u16 left | u16 joined | u32 ids (members, left, joined)
 *
 * Little-endian like the wire. Ring seqs are JS numbers up to 2^53, hence f64.
 */
import type { ConfchgEvent } from '../../protocol/ready.ts';
import type { RingId } from '../../wire/messages.ts';
import { handlesPerNodeMax } from '../../limits.ts';

export const recordKindMessage = 1;
export const recordKindConfchg = 2;

/** bytes of a deliver-record head before the group header, with every handle listed. */
export const deliverHeadBytesMax = 1 + 2 + 4 * handlesPerNodeMax + 1 + 4;

/** Writes record heads into one reusable buffer (no allocation per record). */
export class DeliverHeadEncoder {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  constructor(bytesMax: number) {
    this.#bytes = new Uint8Array(bytesMax);
    this.#view = new DataView(this.#bytes.buffer);
  }

  /** head of a message record; the payload follows as the record's second part. */
  message(handles: readonly number[], guarantee: number, sender: number, groups: readonly Uint8Array[]): Uint8Array {
    let at = this.#handles(recordKindMessage, handles);
    this.#view.setUint8(at, guarantee);
    this.#view.setUint32(at + 1, sender, true);
    this.#view.setUint8(at + 5, groups.length);
    at += 6;
    // the group header written in place: no header buffer per delivered message
    for (const g of groups) {
      this.#bytes[at] = g.length;
      this.#bytes.set(g, at + 1);
      at += 1 + g.length;
    }
    return this.#bytes.subarray(0, at);
  }

  /** a whole configuration-change record. */
  confchg(handles: readonly number[], ev: ConfchgEvent): Uint8Array {
    let at = this.#handles(recordKindConfchg, handles);
    const v = this.#view;
    v.setUint8(at, ev.type === 'transitional' ? 0 : 1);
    v.setUint32(at + 1, ev.ringId.rep, true);
    v.setFloat64(at + 5, ev.ringId.seq, true);
    v.setUint32(at + 13, ev.fromRingId.rep, true);
    v.setFloat64(at + 17, ev.fromRingId.seq, true);
    v.setUint16(at + 25, ev.members.length, true);
    v.setUint16(at + 27, ev.left.length, true);
    v.setUint16(at + 29, ev.joined.length, true);
    at += 31;
    for (const list of [ev.members, ev.left, ev.joined]) {
      for (const id of list) {
        v.setUint32(at, id, true);
        at += 4;
      }
    }
    return this.#bytes.subarray(0, at);
  }

  #handles(kind: number, handles: readonly number[]): number {
    this.#view.setUint8(0, kind);
    this.#view.setUint16(1, handles.length, true);
    let at = 3;
    for (const h of handles) {
      this.#view.setUint32(at, h, true);
      at += 4;
    }
    return at;
  }
}

export interface DecodedMessage {
  readonly kind: typeof recordKindMessage;
  readonly handles: number[];
  readonly guarantee: number;
  readonly sender: number;
  /** views into the record. */
  readonly groups: Uint8Array[];
  readonly payload: Uint8Array;
}

export interface DecodedConfchg {
  readonly kind: typeof recordKindConfchg;
  readonly handles: number[];
  readonly type: 'transitional' | 'regular';
  readonly ringId: RingId;
  readonly fromRingId: RingId;
  readonly members: number[];
  readonly left: number[];
  readonly joined: number[];
}

/**
 * Main-thread reader of message records without allocation beyond what the
 * application gets: the handle list is a reused array, and the group names of
 * a record that lists the same groups as the one before it (the common case:
 * one application, one set of groups) are the same frozen array of strings,
 * decoded once. `read` returns false for a record that is not a message.
 */
export class MessageRecordReader {
  readonly handles: number[] = [];
  guarantee = 0;
  sender = 0;
  groups: readonly string[] = Object.freeze([]);
  /** a view into the record: valid while the record is. */
  payload: Uint8Array = new Uint8Array(0);
  #groupBytes = new Uint8Array(0);
  readonly #utf8 = new TextDecoder();

  read(record: Uint8Array): boolean {
    if (record[0] !== recordKindMessage) return false;
    const count = record[1]! | (record[2]! << 8);
    const handles = this.handles;
    handles.length = count;
    let at = 3;
    for (let i = 0; i < count; i++, at += 4) handles[i] = u32(record, at);
    this.guarantee = record[at]!;
    this.sender = u32(record, at + 1);
    at += 5;
    const groupsAt = at;
    const groupCount = record[at++]!;
    for (let i = 0; i < groupCount; i++) at += 1 + record[at]!;
    if (at > record.length) throw new Error('deliver ring: truncated message record');
    if (!sameBytes(this.#groupBytes, record, groupsAt, at)) this.#decodeGroups(record, groupsAt, at);
    this.payload = record.subarray(at);
    return true;
  }

  #decodeGroups(record: Uint8Array, from: number, to: number): void {
    const names: string[] = [];
    for (let at = from + 1; at < to; at += 1 + record[at]!) names.push(this.#utf8.decode(record.subarray(at + 1, at + 1 + record[at]!)));
    this.groups = Object.freeze(names);
    this.#groupBytes = record.slice(from, to);
  }
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

function sameBytes(cached: Uint8Array, record: Uint8Array, from: number, to: number): boolean {
  if (cached.length !== to - from) return false;
  for (let i = 0; i < cached.length; i++) if (cached[i] !== record[from + i]) return false;
  return true;
}

/**
 * Decodes one record. The ring is written only by our own protocol worker, so
 * a malformed record is a bug, not input: it throws.
 */
export function decodeDeliverRecord(record: Uint8Array): DecodedMessage | DecodedConfchg {
  const v = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const kind = v.getUint8(0);
  const count = v.getUint16(1, true);
  const handles: number[] = new Array<number>(count);
  let at = 3;
  for (let i = 0; i < count; i++, at += 4) handles[i] = v.getUint32(at, true);
  if (kind === recordKindMessage) {
    const guarantee = v.getUint8(at);
    const sender = v.getUint32(at + 1, true);
    at += 5;
    const groupCount = v.getUint8(at++);
    const groups: Uint8Array[] = [];
    for (let i = 0; i < groupCount; i++) {
      const len = v.getUint8(at);
      groups.push(record.subarray(at + 1, at + 1 + len));
      at += 1 + len;
    }
    if (at > record.length) throw new Error('deliver ring: truncated message record');
    return { kind, handles, guarantee, sender, groups, payload: record.subarray(at) };
  }
  if (kind === recordKindConfchg) {
    const type = v.getUint8(at) === 0 ? 'transitional' : 'regular';
    const ringId = { rep: v.getUint32(at + 1, true), seq: v.getFloat64(at + 5, true) };
    const fromRingId = { rep: v.getUint32(at + 13, true), seq: v.getFloat64(at + 17, true) };
    const lengths = [v.getUint16(at + 25, true), v.getUint16(at + 27, true), v.getUint16(at + 29, true)];
    at += 31;
    const [members, left, joined] = lengths.map((n) => {
      const ids: number[] = new Array<number>(n);
      for (let i = 0; i < n; i++, at += 4) ids[i] = v.getUint32(at, true);
      return ids;
    }) as [number[], number[], number[]];
    return { kind, handles, type, ringId, fromRingId, members, left, joined };
  }
  throw new Error(`deliver ring: unknown record kind ${kind}`);
}
