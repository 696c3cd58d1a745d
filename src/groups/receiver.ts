/**
 * GroupReceiver: the receive side of the group layer (corosync totempg's
 * `totempg_deliver_fn`, TOTEM.md §6.3–6.4). Takes datagram deliveries in
 * total order and hands out whole application messages.
 *
 * Per sender it keeps one assembly buffer. Rules:
 * - A fragment that does not continue exactly what is being assembled for its
 *   sender (other message number, other index, no FIRST fragment seen) drops
 *   the partial message and puts the sender in throw-away mode until a record
 *   that starts a message (a FIRST fragment or a whole record).
 * - A FIRST fragment or a whole record while a message is being assembled
 *   drops the partial one (its tail was lost).
 * - Every REGULAR configuration change drops every partial assembly of every
 *   sender: senders send partly ordered messages again whole in the new ring
 *   (GroupSender.restart), so a message belongs to the ring that ordered its
 *   last fragment and members who joined in the new ring see the same set.
 * - A TRANSITIONAL change drops nothing: tail fragments of old-ring messages
 *   may still be delivered in the transitional configuration.
 * - Every length is checked against the datagram. A malformed datagram is
 *   dropped whole, counted in `stats.malformed`, and puts its sender in
 *   throw-away mode; so does a reassembled message that does not parse, is
 *   larger than `messageBytesMax`, or whose fragments disagree on the
 *   guarantee. Nothing here throws on input.
 *
 * Every message is handed out, whatever its groups (zero groups included);
 * filtering by joined groups is the handle's job (`groupsMatch`).
 * Payloads and group names of messages that arrived in one record are views
 * into the delivered datagram, which the core may still hold for
 * retransmission: treat them as read-only.
 */
import { messageBytesMaxDefault } from '../limits.ts';
import type { Guarantee, RingId } from '../wire/messages.ts';
import type { ConfchgEvent, DeliverEvent } from '../protocol/ready.ts';
import { GroupError } from '../errors.ts';
import { groupHeaderBytesMax, parseDatagram, parseMessage } from './format.ts';
import type { ParsedMessage } from './format.ts';

export interface AppMessage {
  /** originator node id. */
  readonly sender: number;
  /** views into `bytes`, parsed once here (for group matching). */
  readonly groups: Uint8Array[];
  readonly guarantee: Guarantee;
  /** the message as its sender encoded it (group header, then payload): passed on as is, never re-encoded. */
  readonly bytes: Uint8Array;
  /** the tail of `bytes` after the group header. */
  readonly payload: Uint8Array;
  /** ring that ordered the datagram that completed the message. */
  readonly ringId: RingId;
  /** seq of the datagram that completed the message. */
  readonly seq: number;
}

export interface GroupReceiverOptions {
  /** largest payload accepted; must be at least every sender's messageBytesMax. */
  readonly messageBytesMax?: number;
}

export interface GroupReceiverStats {
  /** messages handed out. */
  delivered: number;
  /** datagrams dropped because they do not parse, plus reassembled messages dropped as invalid. */
  malformed: number;
  /** fragment records dropped in throw-away mode (not continuing the assembly). */
  fragmentsDiscarded: number;
  /** partial messages dropped (broken continuation, restart by the sender, regular configuration change). */
  partialsDiscarded: number;
}

interface Assembling {
  readonly mode: 'assembling';
  readonly number: number;
  readonly guarantee: Guarantee;
  nextIndex: number;
  bytes: number;
  readonly chunks: Uint8Array[];
}

type Assembly = Assembling | { readonly mode: 'discarding' };

const discarding: Assembly = { mode: 'discarding' };

export class GroupReceiver {
  readonly messageBytesMax: number;
  readonly stats: GroupReceiverStats = { delivered: 0, malformed: 0, fragmentsDiscarded: 0, partialsDiscarded: 0 };
  /** per sender; no entry = idle (nothing partial). */
  readonly #assemblies = new Map<number, Assembly>();

  constructor(options: GroupReceiverOptions = {}) {
    const messageBytesMax = options.messageBytesMax ?? messageBytesMaxDefault;
    if (!Number.isSafeInteger(messageBytesMax) || messageBytesMax < 0) {
      throw new GroupError('ERR_EVS_BAD_OPTION', `options.messageBytesMax must be a non-negative integer, got ${messageBytesMax}`);
    }
    this.messageBytesMax = messageBytesMax;
  }

  /** senders with a partial message being assembled (for tests and stats). */
  get partialCount(): number {
    let count = 0;
    for (const a of this.#assemblies.values()) if (a.mode === 'assembling') count += 1;
    return count;
  }

  /** One datagram in total order; calls `out` for every message it completes, in order. */
  onDeliver(ev: DeliverEvent, out: (m: AppMessage) => void): void {
    const parsed = parseDatagram(ev.payload);
    if (!parsed.ok) {
      this.stats.malformed += 1;
      this.#discard(ev.sender);
      return;
    }
    for (const record of parsed.records) {
      if (record.kind === 'whole') {
        this.#dropPartial(ev.sender);
        this.#assemblies.delete(ev.sender);
        this.#emit(ev, record.message, out);
        continue;
      }
      if (record.first) {
        this.#dropPartial(ev.sender);
        this.#assemblies.set(ev.sender, { mode: 'assembling', number: record.number, guarantee: ev.guarantee, nextIndex: 0, bytes: 0, chunks: [] });
      }
      const a = this.#assemblies.get(ev.sender);
      if (a === undefined || a.mode === 'discarding' || a.number !== record.number || a.nextIndex !== record.index) {
        this.stats.fragmentsDiscarded += 1;
        this.#discard(ev.sender);
        continue;
      }
      if (a.guarantee !== ev.guarantee || a.bytes + record.chunk.length > this.messageBytesMax + groupHeaderBytesMax) {
        this.stats.malformed += 1;
        this.#discard(ev.sender);
        continue;
      }
      a.chunks.push(record.chunk);
      a.bytes += record.chunk.length;
      a.nextIndex += 1;
      if (!record.last) continue;
      this.#assemblies.delete(ev.sender);
      const message = parseMessage(concat(a.chunks, a.bytes));
      if (message === null) {
        this.stats.malformed += 1;
        continue;
      }
      this.#emit(ev, message, out);
    }
  }

  /** A configuration change, in its place in the delivery stream. */
  onConfchg(ev: ConfchgEvent): void {
    if (ev.type !== 'regular') return;
    for (const a of this.#assemblies.values()) {
      if (a.mode === 'assembling') this.stats.partialsDiscarded += 1;
    }
    this.#assemblies.clear();
  }

  #emit(ev: DeliverEvent, message: ParsedMessage, out: (m: AppMessage) => void): void {
    if (message.payload.length > this.messageBytesMax) {
      this.stats.malformed += 1;
      return;
    }
    this.stats.delivered += 1;
    out({ sender: ev.sender, groups: message.groups, guarantee: ev.guarantee, bytes: message.bytes, payload: message.payload, ringId: ev.ringId, seq: ev.seq });
  }

  /** count a partial message of `sender` as lost (the entry itself is left to the caller). */
  #dropPartial(sender: number): void {
    if (this.#assemblies.get(sender)?.mode === 'assembling') this.stats.partialsDiscarded += 1;
  }

  /** drop what `sender` had and throw away its fragments until a message starts. */
  #discard(sender: number): void {
    this.#dropPartial(sender);
    this.#assemblies.set(sender, discarding);
  }
}

function concat(chunks: readonly Uint8Array[], bytes: number): Uint8Array {
  const whole = new Uint8Array(bytes);
  let at = 0;
  for (const c of chunks) {
    whole.set(c, at);
    at += c.length;
  }
  return whole;
}
