/**
 * Records of the deliver ring (protocol worker → main thread).
 *
 * The protocol worker filters by group: a record names the handles that get
 * it, so the main thread only dispatches. A message that several handles
 * receive crosses the ring once.
 *
 *   u8  kind            1 = message, 2 = configuration change, 3 = error
 *   u16 handleCount     then handleCount × u32 handle ids
 *   message:  u8 guarantee | u32 sender | u16 groupHeaderBytes
 *             | the message as its sender's handle encoded it: group header (u8 count, (u8 len, name)*), payload
 *   confchg:  u8 type (0 transitional, 1 regular) | u32 rep | f64 seq
 *             | u16 members | u16 left | u16 joined | u32 ids (members, left, joined)
 *   error:    u8 code length | code (ASCII, an EvsErrorCode) | message (UTF-8, the rest)
 *             — a message the protocol worker could not take after the main
 *             thread accepted it, reported to the handle that sent it.
 *
 * The group header's length is in the head so that the main thread finds the
 * payload without walking the names, and compares the header bytes with the
 * previous record's to reuse the names it decoded then.
 *
 * Little-endian like the wire. Ring seqs are JS numbers up to 2^53, hence f64.
 * The ring is written only by our own protocol worker, so a malformed record
 * is a bug, not input: the reader throws.
 */
import { readU16LE, readU32LE } from '../../bytes.ts';
import { handlesPerNodeMax, processorsMax } from '../../limits.ts';
import type { ConfchgEvent } from '../../protocol/ready.ts';
import type { EvsConfchg } from '../../types.ts';
import { EvsError, isEvsErrorCode } from '../../errors.ts';

export const recordKindMessage = 1;
export const recordKindConfchg = 2;
export const recordKindError = 3;

const handleListBytesMax = 1 + 2 + 4 * handlesPerNodeMax;
const messageFieldsBytes = 1 + 4 + 2;
const confchgFieldsBytes = 1 + 4 + 8 + 3 * 2;
/** bytes of the largest record head: a configuration change of a full ring, with every handle listed. */
export const deliverHeadBytesMax = handleListBytesMax + confchgFieldsBytes + 3 * 4 * processorsMax;

const utf8Encoder = new TextEncoder();

/** Writes record heads into one reusable buffer (no allocation per record). */
export class DeliverHeadEncoder {
  readonly #bytes = new Uint8Array(deliverHeadBytesMax);
  readonly #view = new DataView(this.#bytes.buffer);

  /** head of a message record; the message (`groupHeaderBytes` of header, then payload) follows as the record's second part. */
  message(handles: readonly number[], guarantee: number, sender: number, groupHeaderBytes: number): Uint8Array {
    const at = this.#handles(recordKindMessage, handles);
    this.#view.setUint8(at, guarantee);
    this.#view.setUint32(at + 1, sender, true);
    this.#view.setUint16(at + 5, groupHeaderBytes, true);
    return this.#bytes.subarray(0, at + messageFieldsBytes);
  }

  /** a whole configuration-change record. */
  confchg(handles: readonly number[], ev: ConfchgEvent): Uint8Array {
    let at = this.#handles(recordKindConfchg, handles);
    const v = this.#view;
    v.setUint8(at, ev.type === 'transitional' ? 0 : 1);
    v.setUint32(at + 1, ev.ringId.rep, true);
    v.setFloat64(at + 5, ev.ringId.seq, true);
    v.setUint16(at + 13, ev.members.length, true);
    v.setUint16(at + 15, ev.left.length, true);
    v.setUint16(at + 17, ev.joined.length, true);
    at += confchgFieldsBytes;
    for (const list of [ev.members, ev.left, ev.joined]) {
      for (const id of list) {
        v.setUint32(at, id, true);
        at += 4;
      }
    }
    return this.#bytes.subarray(0, at);
  }

  /** a whole error record: `code` and a message, for `handles`. */
  error(handles: readonly number[], code: string, message: string): Uint8Array {
    const at = this.#handles(recordKindError, handles);
    const codeBytes = utf8Encoder.encode(code);
    const text = utf8Encoder.encode(message).subarray(0, this.#bytes.length - at - 1 - codeBytes.length);
    this.#bytes[at] = codeBytes.length;
    this.#bytes.set(codeBytes, at + 1);
    this.#bytes.set(text, at + 1 + codeBytes.length);
    return this.#bytes.subarray(0, at + 1 + codeBytes.length + text.length);
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

/**
 * Main-thread reader of deliver records, without allocation beyond what the
 * application gets: the handle list is a reused array, and the group names of
 * a message that lists the same groups as the one before it (the common case:
 * one application, one set of groups) are the same frozen array of strings,
 * decoded once.
 */
export class DeliverRecordReader {
  /** the handles that get the record just read (reused). */
  readonly handles: number[] = [];
  guarantee = 0;
  sender = 0;
  groups: readonly string[] = Object.freeze([]);
  /** a view into the record: valid while the record is. */
  payload: Uint8Array = new Uint8Array(0);
  /** the configuration change just read (a new object per record: the application keeps it). */
  confchg: EvsConfchg | null = null;
  /** the error just read (a new object per record). */
  error: EvsError | null = null;
  #groupHeader = new Uint8Array(0);
  readonly #utf8 = new TextDecoder();

  /** reads one record; answers its kind: message fields or `confchg` are set accordingly. */
  read(record: Uint8Array): typeof recordKindMessage | typeof recordKindConfchg | typeof recordKindError {
    const kind = record[0];
    const count = readU16LE(record, 1);
    const handles = this.handles;
    handles.length = count;
    let at = 3;
    for (let i = 0; i < count; i++, at += 4) handles[i] = readU32LE(record, at);
    if (kind === recordKindMessage) {
      this.guarantee = record[at]!;
      this.sender = readU32LE(record, at + 1);
      const headerAt = at + messageFieldsBytes;
      const payloadAt = headerAt + readU16LE(record, at + 5);
      if (payloadAt > record.length) throw new Error('deliver ring: truncated message record');
      if (!sameBytes(this.#groupHeader, record, headerAt, payloadAt)) this.#decodeGroups(record, headerAt, payloadAt);
      this.payload = record.subarray(payloadAt);
      return recordKindMessage;
    }
    if (kind === recordKindConfchg) {
      this.confchg = readConfchg(record, at);
      return recordKindConfchg;
    }
    if (kind === recordKindError) {
      const codeEnd = at + 1 + record[at]!;
      const code = this.#utf8.decode(record.subarray(at + 1, codeEnd));
      const message = this.#utf8.decode(record.subarray(codeEnd));
      this.error = new EvsError(isEvsErrorCode(code) ? code : 'ERR_EVS_INTERNAL', message);
      return recordKindError;
    }
    throw new Error(`deliver ring: unknown record kind ${kind}`);
  }

  #decodeGroups(record: Uint8Array, from: number, to: number): void {
    const names: string[] = [];
    for (let at = from + 1; at < to; at += 1 + record[at]!) names.push(this.#utf8.decode(record.subarray(at + 1, at + 1 + record[at]!)));
    this.groups = Object.freeze(names);
    this.#groupHeader = record.slice(from, to);
  }
}

function readConfchg(record: Uint8Array, at: number): EvsConfchg {
  const v = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const type = record[at] === 0 ? 'transitional' : 'regular';
  const ringId = { rep: readU32LE(record, at + 1), seq: v.getFloat64(at + 5, true) };
  const counts = [readU16LE(record, at + 13), readU16LE(record, at + 15), readU16LE(record, at + 17)];
  at += confchgFieldsBytes;
  if (at + 4 * (counts[0]! + counts[1]! + counts[2]!) > record.length) throw new Error('deliver ring: truncated configuration-change record');
  const [members, left, joined] = counts.map((n) => {
    const ids: number[] = new Array<number>(n);
    for (let i = 0; i < n; i++, at += 4) ids[i] = readU32LE(record, at);
    return ids;
  }) as [number[], number[], number[]];
  return { kind: 'confchg', type, ringId, members, left, joined };
}

function sameBytes(cached: Uint8Array, record: Uint8Array, from: number, to: number): boolean {
  if (cached.length !== to - from) return false;
  for (let i = 0; i < cached.length; i++) if (cached[i] !== record[from + i]) return false;
  return true;
}
