/**
 * GroupSender: the send side of the group layer (corosync totempg's
 * `mcast_msg`, TOTEM.md §6.2), as the core's DatagramSource.
 *
 * Applications submit *messages*; the core pulls *datagrams* with `next()`
 * while it holds the token. Datagrams are made lazily, one per `next()` call,
 * from the FIFO queue: as many whole small messages as fit are packed into one
 * datagram, a large message is cut into fragments, and the first fragment of a
 * message that does not fit whole fills the rest of a partly used datagram.
 * Nothing is made at submit time, so everything submitted between two token
 * visits shares as few datagrams as possible.
 *
 * Rules:
 * - One datagram never mixes guarantees: the core judges safety per datagram.
 * - FIFO: messages leave in submit order, whatever their guarantee (one queue,
 *   unlike corosync's two; TOTEM.md §5.5).
 * - `restart()` (new regular configuration): the message whose fragments were
 *   partly handed out is sent again whole, from its first fragment, under a
 *   new message number. A message belongs to the ring that ordered its last
 *   fragment; receivers drop partial assemblies at every regular change.
 * - The payload is copied once, into the datagram buffer. `submit` takes
 *   ownership of `payload`: the caller must not modify it afterwards.
 * - Zero groups is allowed and such a message is sent (corosync quirk:
 *   `evs_mcast_joined` on a handle that joined nothing); nobody receives it,
 *   because it matches no group.
 *
 * Back-pressure: a queued message costs its group header + payload bytes.
 * `submit` returns 'try-again' when the cost exceeds `freeBytes()` and the
 * queue is not empty. An empty queue accepts any valid message, so a message of
 * `messageBytesMax` with a large group header is never refused forever; the
 * queue therefore holds at most `queueBytesMax + groupHeaderBytesMax` bytes.
 */
import { assert } from '../assert.ts';
import { datagramBytesMax, datagramPayloadBytesMin, groupCountMax } from '../limits.ts';
import { Guarantee } from '../wire/messages.ts';
import type { DatagramSource, Outgoing } from '../protocol/ready.ts';
import { GroupError } from '../errors.ts';
import {
  encodeGroupHeader,
  flagFirst,
  flagLast,
  flagsWhole,
  fragmentRecordHeaderBytes,
  fragmentsMax,
  groupHeaderBytesMax,
  recordLenMax,
  wholeRecordHeaderBytes,
} from './format.ts';
import { checkGroupName } from './match.ts';

export type SubmitResult = 'ok' | 'try-again';

export interface GroupSenderOptions {
  /** bytes one datagram payload may hold; see `datagramPayloadBytes()` in format.ts. */
  readonly datagramPayloadBytes: number;
  /** largest application payload accepted by `submit`. */
  readonly messageBytesMax: number;
  /** queue budget in bytes (group headers + payloads); at least `messageBytesMax`. */
  readonly queueBytesMax: number;
}

/**
 * A fragment is started in the rest of a partly used datagram only when it
 * carries at least this many bytes (or the whole rest of its message): fewer
 * would spend a 9-byte header on almost nothing.
 */
export const fragmentChunkBytesMin = 64;

const EMPTY = new Uint8Array(0);

export interface GroupSenderStats {
  /** datagrams returned by next(). */
  datagrams: number;
  /** messages whose last byte left in a datagram. */
  messagesSent: number;
  /** partly sent messages rewound by restart(). */
  messagesRestarted: number;
}

/**
 * A queued message's bytes in two parts, sent back to back: `submit` queues
 * the header it encoded and the caller's payload (the payload is not copied
 * to join them); `submitMessage` queues the encoded message whole as `rest`.
 */
interface Queued {
  /** the group header, or empty when `rest` is the whole message. */
  readonly head: Uint8Array;
  readonly rest: Uint8Array;
  readonly guarantee: Guarantee;
  /** head.length + rest.length. */
  readonly bytes: number;
  /** message bytes already handed out in fragments; 0 when untouched. */
  sentBytes: number;
  /** index of the next fragment. */
  fragmentIndex: number;
  /** message number, set when the first fragment leaves. */
  number: number;
}

/** One record of the datagram being planned. */
interface Planned {
  readonly message: Queued;
  readonly whole: boolean;
  /** message bytes this record carries. */
  readonly chunk: number;
}

export class GroupSender implements DatagramSource {
  readonly datagramPayloadBytes: number;
  readonly messageBytesMax: number;
  readonly queueBytesMax: number;
  readonly stats: GroupSenderStats = { datagrams: 0, messagesSent: 0, messagesRestarted: 0 };

  /** FIFO: live entries are #queue[#head..]. */
  #queue: Queued[] = [];
  #head = 0;
  #queuedBytes = 0;
  #numberNext = 0;
  readonly #plan: Planned[] = [];

  constructor(options: GroupSenderOptions) {
    const { datagramPayloadBytes, messageBytesMax, queueBytesMax } = options;
    checkOption(datagramPayloadBytes, 'datagramPayloadBytes', datagramPayloadBytesMin, Math.min(recordLenMax, datagramBytesMax));
    checkOption(messageBytesMax, 'messageBytesMax', 0, Number.MAX_SAFE_INTEGER);
    checkOption(queueBytesMax, 'queueBytesMax', messageBytesMax, Number.MAX_SAFE_INTEGER);
    const fragmentsNeeded = 1 + Math.ceil((messageBytesMax + groupHeaderBytesMax) / (datagramPayloadBytes - fragmentRecordHeaderBytes));
    if (fragmentsNeeded > fragmentsMax) {
      throw new GroupError('ERR_EVS_BAD_OPTION', `options.messageBytesMax ${messageBytesMax} needs ${fragmentsNeeded} fragments of ${datagramPayloadBytes} bytes; at most ${fragmentsMax}`);
    }
    this.datagramPayloadBytes = datagramPayloadBytes;
    this.messageBytesMax = messageBytesMax;
    this.queueBytesMax = queueBytesMax;
  }

  get queuedMessages(): number {
    return this.#queue.length - this.#head;
  }

  /** group header + payload bytes of every queued message, partly sent ones in full. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** budget left: a message costing more is refused with 'try-again' unless the queue is empty. */
  freeBytes(): number {
    return Math.max(0, this.queueBytesMax - this.#queuedBytes);
  }

  /**
   * Queue one message. Throws GroupError for invalid input before anything is
   * queued; returns 'try-again' when the queue budget cannot hold it now.
   */
  submit(groups: readonly Uint8Array[], payload: Uint8Array, guarantee: Guarantee): SubmitResult {
    checkGuarantee(guarantee);
    if (groups.length > groupCountMax) {
      throw new GroupError('ERR_EVS_TOO_MANY_GROUPS', `${groups.length} groups; at most ${groupCountMax}`);
    }
    for (const g of groups) checkGroupName(g);
    if (payload.length > this.messageBytesMax) {
      throw new GroupError('ERR_EVS_MESSAGE_TOO_LARGE', `payload of ${payload.length} bytes; at most ${this.messageBytesMax}`);
    }
    return this.#enqueue(encodeGroupHeader(groups), payload, guarantee);
  }

  /**
   * Queue one message already encoded (group header, then payload), as the
   * runtime's handles write it into the submit ring: its names were validated
   * there and are neither parsed nor encoded again here. Throws GroupError for
   * a bad guarantee or a message above `messageBytesMax + groupHeaderBytesMax`.
   * Takes ownership of `message`.
   */
  submitMessage(message: Uint8Array, guarantee: Guarantee): SubmitResult {
    checkGuarantee(guarantee);
    if (message.length < 1 || message.length > this.messageBytesMax + groupHeaderBytesMax) {
      throw new GroupError('ERR_EVS_MESSAGE_TOO_LARGE', `encoded message of ${message.length} bytes; 1 to ${this.messageBytesMax + groupHeaderBytesMax} expected`);
    }
    return this.#enqueue(EMPTY, message, guarantee);
  }

  #enqueue(head: Uint8Array, rest: Uint8Array, guarantee: Guarantee): SubmitResult {
    const bytes = head.length + rest.length;
    if (this.queuedMessages > 0 && bytes > this.freeBytes()) return 'try-again';
    this.#queue.push({ head, rest, guarantee, bytes, sentBytes: 0, fragmentIndex: 0, number: 0 });
    this.#queuedBytes += bytes;
    return 'ok';
  }

  /** datagrams the queue would produce now (estimate); > 0 iff something is queued. */
  backlog(): number {
    const count = this.queuedMessages;
    if (count === 0) return 0;
    const headSent = this.#queue[this.#head]!.sentBytes;
    const bytes = this.#queuedBytes - headSent + count * wholeRecordHeaderBytes;
    return Math.max(1, Math.ceil(bytes / this.datagramPayloadBytes));
  }

  /** the next datagram to order, or null when nothing is queued. */
  next(): Outgoing | null {
    if (this.queuedMessages === 0) return null;
    const bytes = this.#planDatagram();
    const buffer = new Uint8Array(bytes);
    const view = new DataView(buffer.buffer);
    const guarantee = this.#plan[0]!.message.guarantee;
    let at = 0;
    for (const record of this.#plan) {
      at = record.whole ? this.#writeWhole(record, buffer, view, at) : this.#writeFragment(record, buffer, view, at);
    }
    assert(at === bytes, 'datagram filled exactly as planned');
    this.#plan.length = 0;
    this.stats.datagrams += 1;
    this.#compact();
    return { payload: buffer, guarantee };
  }

  /** a new regular configuration: a partly sent message goes again whole. */
  restart(): void {
    const head = this.#queue[this.#head];
    if (head === undefined || head.sentBytes === 0) return;
    assert(head.fragmentIndex > 0, 'a partly sent message has sent a fragment');
    head.sentBytes = 0;
    head.fragmentIndex = 0;
    this.stats.messagesRestarted += 1;
  }

  /** Fill #plan with the records of the next datagram; returns its byte count. */
  #planDatagram(): number {
    const plan = this.#plan;
    assert(plan.length === 0, 'plan is empty before planning');
    const guarantee = this.#queue[this.#head]!.guarantee;
    let space = this.datagramPayloadBytes;
    for (let i = this.#head; i < this.#queue.length; i++) {
      const message = this.#queue[i]!;
      if (message.guarantee !== guarantee) break;
      const remaining = message.bytes - message.sentBytes;
      if (message.sentBytes === 0 && wholeRecordHeaderBytes + remaining <= space) {
        plan.push({ message, whole: true, chunk: remaining });
        space -= wholeRecordHeaderBytes + remaining;
        continue;
      }
      const room = space - fragmentRecordHeaderBytes;
      if (plan.length > 0 && room < Math.min(fragmentChunkBytesMin, remaining)) break;
      assert(room > 0, 'an empty datagram has room for a fragment');
      const chunk = Math.min(room, remaining);
      plan.push({ message, whole: false, chunk });
      space -= fragmentRecordHeaderBytes + chunk;
      if (chunk < remaining) break;
    }
    assert(plan.length > 0, 'a datagram carries at least one record');
    assert(space >= 0, 'the plan fits the datagram');
    return this.datagramPayloadBytes - space;
  }

  #writeWhole(record: Planned, buffer: Uint8Array, view: DataView, at: number): number {
    const m = record.message;
    assert(m.sentBytes === 0 && record.chunk === m.bytes, 'a whole record carries an untouched message');
    buffer[at] = flagsWhole;
    view.setUint16(at + 1, m.bytes, true);
    copyMessageRange(m, 0, m.bytes, buffer, at + wholeRecordHeaderBytes);
    this.#complete(m);
    return at + wholeRecordHeaderBytes + m.bytes;
  }

  #writeFragment(record: Planned, buffer: Uint8Array, view: DataView, at: number): number {
    const m = record.message;
    const first = m.sentBytes === 0;
    const last = m.sentBytes + record.chunk === m.bytes;
    assert(!(first && last), 'a fragment is not the whole message');
    assert(m.fragmentIndex < fragmentsMax, 'fragment index fits a u16');
    if (first) {
      m.number = this.#numberNext;
      this.#numberNext = (this.#numberNext + 1) >>> 0;
    }
    buffer[at] = (first ? flagFirst : 0) | (last ? flagLast : 0);
    view.setUint32(at + 1, m.number, true);
    view.setUint16(at + 5, m.fragmentIndex, true);
    view.setUint16(at + 7, record.chunk, true);
    copyMessageRange(m, m.sentBytes, m.sentBytes + record.chunk, buffer, at + fragmentRecordHeaderBytes);
    m.sentBytes += record.chunk;
    m.fragmentIndex += 1;
    if (last) this.#complete(m);
    return at + fragmentRecordHeaderBytes + record.chunk;
  }

  /** the head message left completely: drop it. */
  #complete(m: Queued): void {
    assert(this.#queue[this.#head] === m, 'messages complete in FIFO order');
    this.#head += 1;
    this.#queuedBytes -= m.bytes;
    assert(this.#queuedBytes >= 0, 'queued bytes stay non-negative');
    this.stats.messagesSent += 1;
  }

  /** drop consumed slots once they are the larger part of the array. */
  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** Copy message bytes [from, to) — `head` first, then `rest` — to `target` at `at`. */
function copyMessageRange(m: Queued, from: number, to: number, target: Uint8Array, at: number): void {
  const h = m.head.length;
  if (from < h) {
    const end = Math.min(to, h);
    target.set(m.head.subarray(from, end), at);
    at += end - from;
  }
  if (to > h) {
    target.set(m.rest.subarray(Math.max(from, h) - h, to - h), at);
  }
}

function checkGuarantee(guarantee: Guarantee): void {
  if (guarantee !== Guarantee.Agreed && guarantee !== Guarantee.Safe) {
    throw new GroupError('ERR_EVS_BAD_GUARANTEE', `guarantee ${String(guarantee)} is neither agreed (0) nor safe (1)`);
  }
}

function checkOption(value: number, name: string, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new GroupError('ERR_EVS_BAD_OPTION', `options.${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}
