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
   * the message bytes; shared by every handle of this node that receives it.
   * Up to 16 KiB it is a view into a 256 KiB slab shared with other
   * deliveries (like Node's Buffer pool): mind `byteOffset`, and copy it if
   * you keep a few small payloads for long.
   */
  readonly payload: Uint8Array;
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

/** The current regular configuration as the node sees it. */
export interface Membership {
  readonly localNodeId: number;
  readonly ringId: RingId;
  readonly members: readonly number[];
}
