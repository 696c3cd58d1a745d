/**
 * What the core hands to its driver. The core never does I/O: inputs go in
 * through `handle*` methods, outputs accumulate here and are taken with
 * `Processor.ready()`.
 *
 * The driver must act on a Ready in this order (etcd raft's rule):
 *   1. persist `persistRingSeq` (write, fsync, rename) when it is not null;
 *   2. send `sends` (each is encoded and put on the wire);
 *   3. hand `events` to the layer above, in order;
 *   4. arm one timer for `Processor.nextDeadline()`.
 * Persisting first is what guarantees a restarted processor never reuses a ring id.
 */
import type { Guarantee, Message, RingId } from '../wire/messages.ts';

/** Multicast target in `Send.to`: every processor. */
export const toAll = 0;

export interface Send {
  /** node id to unicast to, or `toAll` (0) to multicast. */
  readonly to: number;
  readonly message: Message;
}

/** One datagram-level delivery, in agreed (or safe) order. */
export interface DeliverEvent {
  readonly kind: 'deliver';
  /** originator. */
  readonly sender: number;
  /** the ring that ordered it, and its position there. */
  readonly ringId: RingId;
  readonly seq: number;
  readonly guarantee: Guarantee;
  readonly payload: Uint8Array;
}

export type ConfigurationType = 'transitional' | 'regular';

export interface ConfchgEvent {
  readonly kind: 'confchg';
  readonly type: ConfigurationType;
  /** the new ring (both for transitional and regular, as corosync does). */
  readonly ringId: RingId;
  /** the ring this processor comes from (the last regular configuration it installed). */
  readonly fromRingId: RingId;
  /** ascending node ids. */
  readonly members: readonly number[];
  readonly left: readonly number[];
  readonly joined: readonly number[];
}

export type CoreEvent = DeliverEvent | ConfchgEvent;

export interface Ready {
  sends: Send[];
  events: CoreEvent[];
  /** ring seq to persist before any of `sends` goes out, or null. */
  persistRingSeq: number | null;
}

/** One datagram the layer above wants ordered. */
export interface Outgoing {
  readonly payload: Uint8Array;
  readonly guarantee: Guarantee;
}

/**
 * Where the core takes new datagrams from while it holds the token. The group
 * layer implements it: it packs small application messages and cuts large ones
 * lazily, at token time, so a visit sends as few datagrams as possible.
 */
export interface DatagramSource {
  /** datagrams the source would produce now: this processor's backlog for flow control. */
  backlog(): number;
  /** the next datagram to order, or null. Called only while holding the token in OPERATIONAL. */
  next(): Outgoing | null;
  /**
   * A regular configuration was just installed. A message only part of whose
   * fragments were ordered in the old ring must be sent again whole: a message
   * belongs to the ring that ordered its last fragment.
   */
  restart(): void;
}
