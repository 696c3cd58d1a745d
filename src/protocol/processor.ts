/**
 * Processor: the Totem single-ring protocol as a pure state machine (WORK IN PROGRESS: API frozen, body being written).
 */
import type { Message, RingId } from '../wire/messages.ts';
import type { TotemConfig } from './config.ts';
import type { DatagramSource, Ready } from './ready.ts';

export type MembState = 'operational' | 'gather' | 'commit' | 'recovery';

export interface ProcessorOptions {
  readonly config: TotemConfig;
  readonly source: DatagramSource;
  /** ring seq read back from stable storage at start (0 when there is none). */
  readonly ringSeqLoaded: number;
  /** optional log sink for corosync-style lines. */
  readonly log?: (line: string) => void;
}

export class Processor {
  constructor(readonly options: ProcessorOptions) {}
  /** interface up: enter GATHER. */
  start(now: number): void { void now; throw new Error('todo'); }
  handleMessage(now: number, message: Message): void { void now; void message; throw new Error('todo'); }
  handleTimeout(now: number): void { void now; throw new Error('todo'); }
  /** the source got new data: cancel a token hold if one is in force. */
  notifyPending(now: number): void { void now; throw new Error('todo'); }
  /** graceful stop: multicast LEAVE; the processor is stopped afterwards. */
  leave(now: number): void { void now; throw new Error('todo'); }
  /** earliest armed timer deadline, Infinity when none. */
  nextDeadline(): number { throw new Error('todo'); }
  /** take the outputs accumulated since the last call. */
  ready(): Ready { throw new Error('todo'); }
  get state(): MembState { throw new Error('todo'); }
  get ringId(): RingId { throw new Error('todo'); }
  /** members of the installed (regular) configuration. */
  get members(): readonly number[] { throw new Error('todo'); }
  get stopped(): boolean { throw new Error('todo'); }
}
