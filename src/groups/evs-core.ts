/**
 * EvsCore: the Totem Processor with the group layer on top, still sans-IO.
 *
 * The Processor orders datagrams; the GroupSender is its DatagramSource
 * (packing and fragmenting application messages at token time) and the
 * GroupReceiver turns delivered datagrams back into application messages.
 * The driver uses EvsCore exactly like a Processor (see ready.ts for the order
 * in which to act on a batch):
 *
 *   inputs   start(now), handleMessage(now, msg), handleTimeout(now),
 *            submit(now, groups, payload, guarantee) or submitMessage(now, bytes, guarantee),
 *            leave(now)
 *   outputs  ready() → { sends, persistRingSeq, events }, nextDeadline()
 *
 * `events` keep the core's order: application messages (`kind: 'deliver'`)
 * and configuration changes (`kind: 'confchg'`) appear exactly where the core
 * delivered the datagram or the change, so EVS's "configuration changes in the
 * message stream" holds for messages too. A message made of several datagrams
 * appears where its last datagram was delivered.
 */
import { Processor } from '../protocol/processor.ts';
import type { ProcessorOptions } from '../protocol/processor.ts';
import type { TotemConfig } from '../protocol/config.ts';
import type { ConfchgEvent, Send } from '../protocol/ready.ts';
import type { Guarantee, Message } from '../wire/messages.ts';
import { GroupError } from '../errors.ts';
import { GroupReceiver } from './receiver.ts';
import type { AppMessage, GroupReceiverStats } from './receiver.ts';
import { GroupSender } from './sender.ts';
import type { GroupSenderStats, SubmitResult } from './sender.ts';

/** What EvsCore needs of a Processor (the real one, or a stand-in in tests). */
export type ProcessorPort = Pick<
  Processor,
  'start' | 'handleMessage' | 'handleTimeout' | 'paused' | 'notifyPending' | 'leave' | 'nextDeadline' | 'ready' | 'state' | 'ringId' | 'members' | 'stopped' | 'stats'
>;

export interface EvsCoreOptions {
  readonly config: TotemConfig;
  /** ring seq read back from stable storage at start (0 when there is none). */
  readonly ringSeqLoaded: number;
  /** bytes of one datagram payload; see `datagramPayloadBytes()` in format.ts. */
  readonly datagramPayloadBytes: number;
  /** largest application payload; must be the same on every node. */
  readonly messageBytesMax: number;
  /** send-queue budget in bytes, at least messageBytesMax. */
  readonly queueBytesMax: number;
  readonly log?: (line: string) => void;
  /** randomness in [0, 1) for the core's consensus back-off (ProcessorOptions.random). */
  readonly random?: () => number;
  /** builds the processor; defaults to `new Processor(options)`. For tests. */
  readonly createProcessor?: (options: ProcessorOptions) => ProcessorPort;
}

export interface AppDeliverEvent extends AppMessage {
  readonly kind: 'deliver';
}

export type AppEvent = AppDeliverEvent | ConfchgEvent;

export interface EvsReady {
  sends: Send[];
  /** ring seq to persist before any of `sends` goes out, or null. */
  persistRingSeq: number | null;
  events: AppEvent[];
}

export interface EvsStats {
  readonly sender: Readonly<GroupSenderStats>;
  readonly receiver: Readonly<GroupReceiverStats>;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
}

export class EvsCore {
  readonly #sender: GroupSender;
  readonly #receiver: GroupReceiver;
  readonly #processor: ProcessorPort;
  /** the list `ready()` is filling; one callback made once, not a closure per call (ready runs per datagram). */
  #readyEvents: AppEvent[] = [];
  readonly #deliverOut = (m: AppMessage): void => {
    this.#readyEvents.push({ kind: 'deliver', ...m });
  };

  constructor(options: EvsCoreOptions) {
    this.#sender = new GroupSender({
      datagramPayloadBytes: options.datagramPayloadBytes,
      messageBytesMax: options.messageBytesMax,
      queueBytesMax: options.queueBytesMax,
    });
    this.#receiver = new GroupReceiver({ messageBytesMax: options.messageBytesMax });
    const processorOptions: ProcessorOptions = {
      config: options.config,
      source: this.#sender,
      ringSeqLoaded: options.ringSeqLoaded,
      ...(options.log !== undefined ? { log: options.log } : {}),
      ...(options.random !== undefined ? { random: options.random } : {}),
    };
    this.#processor = options.createProcessor !== undefined ? options.createProcessor(processorOptions) : new Processor(processorOptions);
  }

  /** the protocol core, for its state and members; drive it only through EvsCore. */
  get processor(): ProcessorPort {
    return this.#processor;
  }

  get stats(): EvsStats {
    return {
      sender: { ...this.#sender.stats },
      receiver: { ...this.#receiver.stats },
      queuedMessages: this.#sender.queuedMessages,
      queuedBytes: this.#sender.queuedBytes,
    };
  }

  /** send-queue budget left; see GroupSender.freeBytes. */
  freeBytes(): number {
    return this.#sender.freeBytes();
  }

  start(now: number): void {
    this.#processor.start(now);
  }

  handleMessage(now: number, message: Message): void {
    this.#processor.handleMessage(now, message);
  }

  handleTimeout(now: number): void {
    this.#processor.handleTimeout(now);
  }

  /** the driver noticed a process pause (protocol/pause-guard.ts): see Processor.paused. */
  paused(now: number, pausedMs: number): void {
    this.#processor.paused(now, pausedMs);
  }

  /**
   * Queue one application message (see GroupSender.submit): throws GroupError
   * for invalid input, returns 'try-again' when the queue is full. On 'ok' the
   * processor is told there is something to send (cancels a token hold).
   */
  submit(now: number, groups: readonly Uint8Array[], payload: Uint8Array, guarantee: Guarantee): SubmitResult {
    if (this.#processor.stopped) throw new GroupError('ERR_EVS_STOPPED', 'submit after leave: the processor is stopped');
    const result = this.#sender.submit(groups, payload, guarantee);
    if (result === 'ok') this.#processor.notifyPending(now);
    return result;
  }

  /**
   * `submit` for a message already encoded (group header, then payload; see
   * GroupSender.submitMessage): the runtime's path, where the sending handle
   * encoded and validated the header.
   */
  submitMessage(now: number, message: Uint8Array, guarantee: Guarantee): SubmitResult {
    if (this.#processor.stopped) throw new GroupError('ERR_EVS_STOPPED', 'submit after leave: the processor is stopped');
    const result = this.#sender.submitMessage(message, guarantee);
    if (result === 'ok') this.#processor.notifyPending(now);
    return result;
  }

  /** graceful stop: the processor multicasts LEAVE and stops. */
  leave(now: number): void {
    this.#processor.leave(now);
  }

  nextDeadline(): number {
    return this.#processor.nextDeadline();
  }

  /** take the outputs since the last call, datagram deliveries turned into application messages. */
  ready(): EvsReady {
    const core = this.#processor.ready();
    const events: AppEvent[] = [];
    this.#readyEvents = events;
    for (const ev of core.events) {
      if (ev.kind === 'deliver') {
        this.#receiver.onDeliver(ev, this.#deliverOut);
      } else {
        this.#receiver.onConfchg(ev);
        events.push(ev);
      }
    }
    return { sends: core.sends, persistRingSeq: core.persistRingSeq, events };
  }
}
