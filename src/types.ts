/**
 * The public types of totem-evs in one place: what a handle emits and what
 * the node answers. Lower layers keep their own shapes where they need more
 * (the core's ConfchgEvent also names the ring it came from); the public
 * configuration change is derived from that one shape, not written again.
 */
import type { ConfchgEvent } from './protocol/ready.ts';
import type { RingId } from './wire/messages.ts';

export type { RingId } from './wire/messages.ts';

export type GuaranteeName = 'agreed' | 'safe';

export interface EvsDelivery {
  readonly kind: 'deliver';
  /** node id of the originator. */
  readonly sender: number;
  /** the group names the message was sent to. */
  readonly groups: readonly string[];
  readonly guarantee: GuaranteeName;
  /**
   * the message bytes, as a Buffer; the same object for every handle of this
   * node that receives it. Like a Buffer from `Buffer.allocUnsafe()`, a
   * payload of up to 16 KiB is a slice of a larger, shared ArrayBuffer (a
   * 256 KiB slab holding other deliveries of this node): `payload.buffer` is
   * the slab and `payload.byteOffset` may be non-zero, so use
   * `payload.byteOffset`/`length` when viewing it as another typed array,
   * and copy (`Buffer.from(payload)`) the few small payloads you keep for
   * long, since one of them keeps its whole slab alive. The bytes are never
   * written again by totem-evs.
   */
  readonly payload: Buffer;
}

/**
 * A configuration change, in its place in the delivery stream: the core's
 * ConfchgEvent (protocol/ready.ts) without the ring it came from.
 * `type`: 'transitional' | 'regular'; `members`, `left`, `joined`: ascending node ids.
 */
export type EvsConfchg = Omit<ConfchgEvent, 'fromRingId'>;

export type EvsEvent = EvsDelivery | EvsConfchg;

export interface McastOptions {
  /** 'agreed' (default) or 'safe'. */
  readonly guarantee?: GuaranteeName;
  /** gives up waiting for room in the node's queue (ERR_EVS_ABORTED). */
  readonly signal?: AbortSignal;
}

export interface JoinOptions {
  /** gives up before the node confirmed the join (ERR_EVS_ABORTED); the groups are not joined. */
  readonly signal?: AbortSignal;
}

export interface EventsOptions {
  /**
   * unread events the iterator buffers before it pauses the node's delivery
   * (default 1024). The node's handles share one deliver ring: while one
   * iterator is full, no handle of the node gets events.
   */
  readonly highWaterMark?: number;
  /** ends the iterator: `next()` rejects with ERR_EVS_ABORTED. */
  readonly signal?: AbortSignal;
}

/** The current regular configuration as the node sees it. */
export interface Membership {
  readonly localNodeId: number;
  readonly ringId: RingId;
  readonly members: readonly number[];
}
