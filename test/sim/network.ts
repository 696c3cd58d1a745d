/**
 * Packet simulator (TigerBeetle's packet_simulator, etcd raft's test network).
 *
 * Every datagram is encoded with the codec when it is sent and decoded, from
 * its own copy of the bytes, by each recipient when it arrives: the core never
 * sees an object another processor produced. A datagram that fails to decode is
 * a codec bug and throws.
 *
 * Multicast (`to === toAll`) reaches every node, the sender included (loopback:
 * a processor handles its own JOINs and MCASTs). Each copy gets its own fate:
 * loss, duplication and a delay of `delayMinMs + uniform(0, delayJitterMs)`;
 * reordering falls out of the jitter. Faults are decided at send time: a link
 * cut, a partition, a receiver that cannot receive, or a drop filter. Packets
 * already in flight are not recalled.
 *
 * Delivery order is by arrival time, ties broken by send order, so a run is a
 * pure function of the PRNG seed.
 */
import { toAll, type Send } from '../../src/protocol/ready.ts';
import { typeOffset } from '../../src/wire/header.ts';
import { MessageType, type Message } from '../../src/wire/messages.ts';
import type { Prng } from './prng.ts';
import { EventHeap } from './heap.ts';

export interface SimCodec {
  /** `from`: the sending node (its ordering goes into the header). */
  encode(message: Message, from: number): Uint8Array;
  /**
   * `to`: the receiving node. Returns null for a datagram the receiver's
   * runtime would drop and count before the core (the other totem.ordering);
   * throws on bytes it cannot decode otherwise.
   */
  decode(bytes: Uint8Array, to: number): Message | null;
}

export interface LinkOptions {
  readonly delayMinMs: number;
  readonly delayJitterMs: number;
  readonly lossProbability: number;
  readonly duplicateProbability: number;
  /**
   * Loss of MCAST copies only, on top of `lossProbability` (default 0): tokens
   * and membership messages get through, so the ring keeps turning while the
   * receiver's aru falls behind (FAILED TO RECEIVE). A link setting like loss,
   * so `heal()` keeps it and `clearLinkOverrides()` ends it.
   */
  readonly mcastLossProbability?: number;
}

export const linkDefaults: LinkOptions = { delayMinMs: 0.2, delayJitterMs: 0.6, lossProbability: 0, duplicateProbability: 0 };
export const loopbackDefaults: LinkOptions = { delayMinMs: 0.01, delayJitterMs: 0.02, lossProbability: 0, duplicateProbability: 0 };

/** What a drop filter sees; return true to drop this copy. */
export interface PacketView {
  readonly from: number;
  readonly to: number;
  readonly multicast: boolean;
  readonly message: Message;
}
export type DropFilter = (packet: PacketView) => boolean;

export interface Arrival {
  readonly at: number;
  readonly from: number;
  readonly to: number;
  readonly multicast: boolean;
  readonly message: Message;
}

interface Packet {
  readonly at: number;
  readonly order: number;
  readonly from: number;
  readonly to: number;
  readonly multicast: boolean;
  readonly bytes: Uint8Array;
}

export interface NetworkStats {
  sends: number;
  copies: number;
  arrivals: number;
  lost: number;
  cut: number;
  filtered: number;
  notReceived: number;
  duplicated: number;
  bytes: number;
  /** arrivals per message type (index = MessageType). */
  arrivalsByType: number[];
  /** datagrams the receiver dropped before its core: the sender runs the other ordering. */
  orderingDropped: number;
}

/** Binary min-heap on (at, order). */
function linkKey(from: number, to: number): string {
  return `${from}>${to}`;
}

export interface NetworkOptions {
  readonly prng: Prng;
  readonly codec: SimCodec;
  readonly nodes: readonly number[];
  readonly link?: Partial<LinkOptions>;
  readonly loopback?: Partial<LinkOptions>;
}

export class Network {
  readonly nodes: readonly number[];
  readonly stats: NetworkStats = {
    sends: 0, copies: 0, arrivals: 0, lost: 0, cut: 0, filtered: 0, notReceived: 0, duplicated: 0, bytes: 0,
    arrivalsByType: [0, 0, 0, 0, 0, 0], orderingDropped: 0,
  };

  private readonly prng: Prng;
  private readonly codec: SimCodec;
  private readonly queue = new EventHeap<Packet>();
  private order = 0;
  private link: LinkOptions;
  private loopback: LinkOptions;
  private readonly linkOverrides = new Map<string, Partial<LinkOptions>>();
  /** one-way cuts "from>to". */
  private readonly cuts = new Set<string>();
  /** node → whether its own loopback still arrives. */
  private readonly deaf = new Map<number, boolean>();
  private readonly filters = new Map<number, DropFilter>();
  private filterIdNext = 1;

  constructor(options: NetworkOptions) {
    this.prng = options.prng;
    this.codec = options.codec;
    this.nodes = [...options.nodes].sort((a, b) => a - b);
    this.link = { ...linkDefaults, ...options.link };
    this.loopback = { ...loopbackDefaults, ...options.loopback };
  }

  // ---- traffic ---------------------------------------------------------

  /** `from` sends one message; a multicast fans out to every node including `from`. */
  send(now: number, from: number, send: Send): void {
    const bytes = this.codec.encode(send.message, from);
    this.stats.sends += 1;
    this.stats.bytes += bytes.length;
    if (send.to === toAll) {
      for (const to of this.nodes) this.sendCopy(now, from, to, true, send.message, bytes);
    } else {
      this.sendCopy(now, from, send.to, false, send.message, bytes);
    }
  }

  private sendCopy(now: number, from: number, to: number, multicast: boolean, message: Message, bytes: Uint8Array): void {
    this.stats.copies += 1;
    if (this.cuts.has(linkKey(from, to))) {
      this.stats.cut += 1;
      return;
    }
    const deafLoopback = this.deaf.get(to);
    if (deafLoopback !== undefined && !(deafLoopback && from === to)) {
      this.stats.notReceived += 1;
      return;
    }
    for (const filter of this.filters.values()) {
      if (filter({ from, to, multicast, message })) {
        this.stats.filtered += 1;
        return;
      }
    }
    const link = this.linkOptions(from, to);
    if (this.prng.chance(link.lossProbability)) {
      this.stats.lost += 1;
      return;
    }
    // drawn only where set, so runs without it keep their random streams
    const mcastLoss = link.mcastLossProbability ?? 0;
    if (mcastLoss > 0 && message.type === MessageType.Mcast && this.prng.chance(mcastLoss)) {
      this.stats.lost += 1;
      return;
    }
    this.enqueue(now, from, to, multicast, bytes, link);
    if (this.prng.chance(link.duplicateProbability)) {
      this.stats.duplicated += 1;
      this.enqueue(now, from, to, multicast, bytes, link);
    }
  }

  private enqueue(now: number, from: number, to: number, multicast: boolean, bytes: Uint8Array, link: LinkOptions): void {
    const at = now + link.delayMinMs + this.prng.float() * link.delayJitterMs;
    this.queue.push({ at, order: this.order++, from, to, multicast, bytes });
  }

  /** arrival time of the next packet, Infinity when none is in flight. */
  nextArrival(): number {
    return this.queue.peek()?.at ?? Infinity;
  }

  get inFlight(): number {
    return this.queue.size;
  }

  /**
   * Take the next packet and decode it (an Mcast from a private copy of the bytes).
   * null: none in flight, or the receiver dropped it (`orderingDropped`).
   */
  pop(): Arrival | null {
    const packet = this.queue.pop();
    if (packet === undefined) return null;
    // an Mcast's payload is a view of the bytes it was decoded from (decode.ts ZERO COPY), so
    // each receiver decodes its own copy; other messages hold no view and skip the copy
    const bytes = packet.bytes[typeOffset] === MessageType.Mcast ? packet.bytes.slice() : packet.bytes;
    const message = this.codec.decode(bytes, packet.to);
    if (message === null) {
      this.stats.orderingDropped += 1;
      return null;
    }
    this.stats.arrivals += 1;
    this.stats.arrivalsByType[message.type] = (this.stats.arrivalsByType[message.type] ?? 0) + 1;
    return { at: packet.at, from: packet.from, to: packet.to, multicast: packet.multicast, message };
  }

  /** Drop everything in flight (not normally needed: crashes drop at the receiver). */
  clearInFlight(): void {
    this.queue.clear();
  }

  // ---- link quality ----------------------------------------------------

  linkOptions(from: number, to: number): LinkOptions {
    const base = from === to ? this.loopback : this.link;
    const override = this.linkOverrides.get(linkKey(from, to));
    return override === undefined ? base : { ...base, ...override };
  }

  /** change the defaults for every link between two different nodes. */
  setLinkDefaults(options: Partial<LinkOptions>): void {
    this.link = { ...this.link, ...options };
  }

  setLoopback(options: Partial<LinkOptions>): void {
    this.loopback = { ...this.loopback, ...options };
  }

  get linkDefaults(): LinkOptions {
    return this.link;
  }

  /** one-way override for the link from → to. */
  setLink(from: number, to: number, options: Partial<LinkOptions>): void {
    this.linkOverrides.set(linkKey(from, to), { ...this.linkOverrides.get(linkKey(from, to)), ...options });
  }

  /** undo `setLink(from, to, …)`: the link follows the defaults again. */
  clearLink(from: number, to: number): void {
    this.linkOverrides.delete(linkKey(from, to));
  }

  clearLinkOverrides(): void {
    this.linkOverrides.clear();
  }

  // ---- connectivity faults ---------------------------------------------

  /** one-way: nothing from `from` reaches `to`. */
  cut(from: number, to: number): void {
    if (from !== to) this.cuts.add(linkKey(from, to));
  }

  /** undo `cut(from, to)`. */
  uncut(from: number, to: number): void {
    this.cuts.delete(linkKey(from, to));
  }

  isCut(from: number, to: number): boolean {
    return this.cuts.has(linkKey(from, to));
  }

  /**
   * Only nodes of the same group hear each other (both directions cut between
   * groups). A node listed in no group is cut off from everyone.
   */
  partition(groups: readonly (readonly number[])[]): void {
    const groupOf = new Map<number, number>();
    groups.forEach((g, i) => {
      for (const node of g) {
        if (groupOf.has(node)) throw new Error(`partition: node ${node} is in two groups`);
        groupOf.set(node, i);
      }
    });
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a === b) continue;
        const ga = groupOf.get(a);
        if (ga === undefined || ga !== groupOf.get(b)) this.cut(a, b);
      }
    }
  }

  /** cut `node` off in both directions. */
  isolate(node: number): void {
    for (const other of this.nodes) {
      this.cut(node, other);
      this.cut(other, node);
    }
  }

  /**
   * `node` can send but receives nothing (TOTEM.md §3.7), except its own
   * multicasts when `loopback` is true.
   */
  setCannotReceive(node: number, loopback = true): void {
    this.deaf.set(node, loopback);
  }

  clearCannotReceive(node: number): void {
    this.deaf.delete(node);
  }

  /** Install a drop filter; returns its id for `removeFilter`. */
  addFilter(filter: DropFilter): number {
    const id = this.filterIdNext++;
    this.filters.set(id, filter);
    return id;
  }

  removeFilter(id: number): void {
    this.filters.delete(id);
  }

  /**
   * Drop copies of the given message types with probability p (optionally
   * only on some senders' links, and only towards some receivers; a node's
   * copy to itself, its loopback, is never dropped when receivers are given).
   */
  dropTypes(types: readonly MessageType[], probability: number, senders?: readonly number[], receivers?: readonly number[]): number {
    const typeSet = new Set<number>(types);
    const senderSet = senders === undefined ? null : new Set(senders);
    const receiverSet = receivers === undefined ? null : new Set(receivers);
    return this.addFilter((p) => typeSet.has(p.message.type) && (senderSet === null || senderSet.has(p.from)) &&
      (receiverSet === null || (receiverSet.has(p.to) && p.from !== p.to)) && this.prng.chance(probability));
  }

  /** remove every cut (partitions, isolations, one-way cuts). */
  clearCuts(): void {
    this.cuts.clear();
  }

  /** Full connectivity again: no cuts, no deaf nodes, no filters (loss and delay settings stay). */
  heal(): void {
    this.cuts.clear();
    this.deaf.clear();
    this.filters.clear();
  }

  /** a short description of the active faults (for traces). */
  describeFaults(): string {
    const parts: string[] = [];
    if (this.cuts.size > 0) parts.push(`cuts=${[...this.cuts].sort().join(' ')}`);
    if (this.deaf.size > 0) parts.push(`deaf=${[...this.deaf.keys()].join(',')}`);
    if (this.filters.size > 0) parts.push(`filters=${this.filters.size}`);
    if (this.linkOverrides.size > 0) parts.push(`links=${[...this.linkOverrides.keys()].sort().join(' ')}`);
    parts.push(`loss=${this.link.lossProbability} dup=${this.link.duplicateProbability}`);
    return parts.join(' ');
  }
}

