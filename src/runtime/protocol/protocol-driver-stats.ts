/** What `ProtocolDriver.stats()` reports: the driver's own counters and the core's. */
import type { ProcessorStats } from '../../protocol/stats.ts';
import type { DecodeError } from '../../wire/decode.ts';
import type { RingId } from '../../wire/messages.ts';
import type { TokenTimingStats } from './token-timing.ts';

export interface ProtocolDriverStats {
  readonly state: string;
  readonly ringId: RingId;
  /** received datagrams the codec refused, by reason. */
  readonly decodeDropped: Record<DecodeError, number>;
  readonly datagramsIn: number;
  readonly datagramsOut: number;
  readonly messagesSubmitted: number;
  readonly messagesDelivered: number;
  /** messages no handle of this node joined a group of. */
  readonly messagesFiltered: number;
  readonly configurationChanges: number;
  readonly ringSeqWrites: number;
  /** process pauses noticed (the loop's timestamps more than token/2 apart; TOTEM.md §3.8). */
  readonly pausesDetected: number;
  /** JOINs dropped right after a pause: the stale receive backlog's membership messages. */
  readonly joinsDroppedAfterPause: number;
  /** submit records not framed as one (a bug on the main side). */
  readonly submitMalformed: number;
  /**
   * submit records the worker could not take after the main thread accepted
   * them (malformed ones included); each was reported to its handle as an
   * `error` event.
   */
  readonly submitRefused: number;
  /** deliveries waiting because the deliver ring was full (main thread slow or blocked). */
  readonly deliverBacklogRecords: number;
  readonly deliverBacklogBytes: number;
  readonly deliverBacklogPeakBytes: number;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  /** the Totem processor's counters (tokens, retransmissions, membership rounds...). */
  readonly totem: Readonly<ProcessorStats>;
  /** token rotations and where their time goes at this node (token-timing.ts). */
  readonly token: TokenTimingStats;
}
