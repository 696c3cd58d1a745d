/**
 * Typed Totem messages: what the codec turns bytes into and back.
 *
 * One word, one meaning: a *datagram* is bytes on the wire, a *message* is one
 * of these decoded values, a *payload* is application data.
 *
 * Node ids are uint32 and never 0 (0 is reserved). Message seqs are uint32 and
 * compared with serial arithmetic (see src/protocol/seq.ts). Ring seqs are
 * unsigned integers below 2^53 (u64 on the wire, a JS number in memory).
 */

export const MessageType = {
  OrfToken: 0,
  Mcast: 1,
  MergeDetect: 2,
  Join: 3,
  CommitToken: 4,
  TokenHoldCancel: 5,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** A ring is named by its representative (lowest node id) and a sequence. */
export interface RingId {
  readonly rep: number;
  readonly seq: number;
}

/** Delivery guarantee of a regular message (datagram-level). */
export const Guarantee = {
  Agreed: 0,
  Safe: 1,
} as const;
export type Guarantee = (typeof Guarantee)[keyof typeof Guarantee];

/** One retransmission request carried on the ORF token. */
export interface RtrItem {
  readonly ringId: RingId;
  readonly seq: number;
}

/** ORF token: Ordering, Reliability, Flow control. Unicast to the next member. */
export interface OrfToken {
  readonly type: typeof MessageType.OrfToken;
  /** node that sent this copy (header). */
  sender: number;
  ringId: RingId;
  /** highest seq assigned in this ring. */
  seq: number;
  /** hop counter used to drop duplicate (retransmitted) tokens. */
  tokenSeq: number;
  /** all-received-up-to low-water mark. */
  aru: number;
  /** node that last lowered aru below seq; 0 when nobody is behind. */
  aruAddr: number;
  /** sum of every member's last reported send-queue length. */
  backlog: number;
  /** flow-control count: messages multicast ring-wide during the last rotation. */
  fcc: number;
  /** RECOVERY only: some member still has old-ring messages to re-send. */
  retransFlag: boolean;
  rtrList: RtrItem[];
}

/**
 * Regular message. `sender` is the originator (corosync's system_from). For an
 * encapsulated RECOVERY copy, `sender` is the node re-sending it, `ringId` and
 * `seq` belong to the new ring and `inner` is the complete old-ring message.
 */
export interface Mcast {
  readonly type: typeof MessageType.Mcast;
  sender: number;
  ringId: RingId;
  seq: number;
  guarantee: Guarantee;
  /** the payload of a normal message; empty when `inner` is set. */
  payload: Uint8Array;
  /** the old-ring message this RECOVERY copy carries, or null. */
  inner: Mcast | null;
}

/** JOIN (and LEAVE when `leave` is set): multicast during GATHER. */
export interface Join {
  readonly type: typeof MessageType.Join;
  sender: number;
  /** true for the one-shot LEAVE a processor sends at graceful shutdown. */
  leave: boolean;
  /** seq of the sender's current ring. */
  ringSeq: number;
  /** ascending, no duplicates. */
  procList: number[];
  /** ascending, no duplicates. */
  failedList: number[];
}

/** What one member writes into the commit token on its first pass. */
export interface CommitEntry {
  oldRingId: RingId;
  aru: number;
  highDelivered: number;
  received: boolean;
}

/** Commit token: unicast twice around the proposed ring. */
export interface CommitToken {
  readonly type: typeof MessageType.CommitToken;
  sender: number;
  /** the NEW ring. */
  ringId: RingId;
  tokenSeq: number;
  /** index of the member that last filled its entry. */
  memberIndex: number;
  /** ascending node ids: also the ORF token order. */
  members: number[];
  /** one per member, same order as `members`. */
  entries: CommitEntry[];
}

export interface MergeDetect {
  readonly type: typeof MessageType.MergeDetect;
  sender: number;
  ringId: RingId;
}

export interface TokenHoldCancel {
  readonly type: typeof MessageType.TokenHoldCancel;
  sender: number;
  ringId: RingId;
}

export type Message = OrfToken | Mcast | Join | CommitToken | MergeDetect | TokenHoldCancel;

export function ringIdEqual(a: RingId, b: RingId): boolean {
  return a.rep === b.rep && a.seq === b.seq;
}

export function ringIdText(r: RingId): string {
  return `${r.rep}.${r.seq.toString(16)}`;
}
