/**
 * The protocol driver: EvsCore (Totem + the group layer, sans-IO) run against
 * a clock, the submit ring, the deliver ring and a datagram link.
 *
 * One loop, event-loop friendly: it sleeps in Atomics.waitAsync on the
 * driver's inbound doorbell (rung by the submit ring's producer and, in the
 * split layout, by the rx ring's) with the core's next deadline as timeout.
 * Sleeping asynchronously instead of in Atomics.wait keeps the worker's event
 * loop free for the comlink control plane and, in the single layout, for the
 * UDP sockets of the network driver living in the same thread.
 *
 * Each step acts on the core's Ready in etcd raft's order: persist the ring
 * seq (write, fsync, rename), send, deliver, re-arm the deadline. Deliveries
 * to handles (registry, group matching, the backlog behind the deliver ring)
 * live in handle-delivery.ts.
 */
import { randomInt } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { EvsCore } from '../../groups/evs-core.ts';
import { datagramPayloadBytes } from '../../groups/format.ts';
import type { ResolvedOptions } from '../../options.ts';
import { isStaleAfterPause, PauseDetector } from '../../protocol/pause-guard.ts';
import type { ProcessorStats } from '../../protocol/stats.ts';
import type { Membership } from '../../types.ts';
import { decode, decodeErrors, type DecodeError } from '../../wire/decode.ts';
import { encodeInto } from '../../wire/encode.ts';
import { mcastHeaderBytes } from '../../wire/header.ts';
import { MessageType, type RingId } from '../../wire/messages.ts';
import { datagramBytesMax, submitRecordsPerPassMax } from '../../limits.ts';
import { aesGcmOverheadBytes } from '../crypto/envelope.ts';
import { datagramRecordHeadBytes } from '../records/datagram-record.ts';
import { submitRecordGuarantee, submitRecordHandle, submitRecordMessageAt } from '../records/submit-record.ts';
import type { Observe } from '../observe/observe-messages.ts';
import { CoreObserver } from './core-observer.ts';
import { EvsError } from '../../errors.ts';
import type { Doorbell } from '../rings/doorbell.ts';
import type { RecordReader, RecordWriter } from '../rings/record-ring.ts';
import { loadRingSeq, storeRingSeq } from '../state/ring-seq-file.ts';
import { driverStatusDeliverOverflow } from './driver-status.ts';
import { HandleDelivery } from './handle-delivery.ts';
import { TokenStamps, TokenTiming, tokenStampsBytes, type TokenTimingStats } from './token-timing.ts';

/** Where the driver's datagrams go: the tx ring (split) or the network driver itself (single). */
export interface DatagramLink {
  /** `datagram` is valid only during the call: copy or seal it before returning. */
  send(to: number, datagram: Uint8Array): void;
  /** end of one Ready's sends: wake the consumer once. */
  endBatch(): void;
}

import type { ProtocolDriverStats } from './protocol-driver-stats.ts';

export type { ProtocolDriverStats } from './protocol-driver-stats.ts';

export interface ProtocolDriverParts {
  readonly options: ResolvedOptions;
  readonly link: DatagramLink;
  readonly submit: RecordReader;
  readonly deliver: RecordWriter;
  /** split layout: the rx ring, drained by the loop. null when datagrams come through `handleDatagram`. */
  readonly rx: RecordReader | null;
  /** the inbound doorbell: the submit ring's data bell (shared with the rx ring's in the split layout). */
  readonly bell: Doorbell;
  /** set to 1 when the driver gives up (deliver backlog overflow); read by the main thread. */
  readonly status: Int32Array;
  readonly clock: () => number;
  /** the token's stamps, written by the network side too (absent: nobody stamps the network side). */
  readonly tokenStamps?: TokenStamps;
  readonly log?: (line: string) => void;
  /** configuration changes and counters that moved, for the main thread's diagnostics (observe-messages.ts). */
  readonly observe?: Observe;
}

/** uniform in [0, 1) from the OS's randomness: the core's consensus back-off must not be in step across nodes. */
function cryptoRandom(): number {
  return randomInt(0x1_0000_0000) / 0x1_0000_0000;
}

/** while deliveries wait for room in the deliver ring, look again this often. */
const backlogPollMs = 1;

export class ProtocolDriver {
  readonly #p: ProtocolDriverParts;
  readonly #core: EvsCore;
  readonly #nodeId: number;
  readonly #delivery: HandleDelivery;
  readonly #token: TokenTiming;
  readonly #encodeBuffer = new Uint8Array(datagramBytesMax);
  #pendingSubmit: Uint8Array | null = null;
  #firstRegular: (() => void) | null = null;
  readonly #started: Promise<void>;
  #loop: Promise<void> | null = null;
  #stopped = false;
  /** submit records the current pass may still take (submitRecordsPerPassMax per pass). */
  #submitBudget = 0;
  /** the budget ran out with records left in the submit ring. */
  #submitMore = false;
  /** this node runs the Accelerated Ring: its datagrams say so, and it accepts only those that do. */
  readonly #accelerated: boolean;
  /** a datagram of the other ordering was logged already (the count is in decodeDropped.ordering). */
  #orderingLogged = false;
  readonly #stats = {
    decodeDropped: Object.fromEntries(decodeErrors.map((r) => [r, 0])) as Record<DecodeError, number>,
    datagramsIn: 0, datagramsOut: 0, messagesSubmitted: 0, ringSeqWrites: 0, submitMalformed: 0, submitRefused: 0,
    pausesDetected: 0, joinsDroppedAfterPause: 0,
  };
  /** what the main thread's diagnostics hear (null without an observe channel). */
  readonly #observer: CoreObserver | null;
  /** the pause guard's timestamps (created at start). */
  #pause: PauseDetector | null = null;
  /** after a pause, JOINs received before this time are the stale backlog's and are dropped. */
  #flushJoinsUntil = -Infinity;

  constructor(parts: ProtocolDriverParts) {
    this.#p = parts;
    const o = parts.options;
    this.#nodeId = o.nodeId;
    this.#accelerated = o.totem.ordering === 'accelerated';
    const overhead = o.crypto === 'none' ? 0 : aesGcmOverheadBytes;
    this.#core = new EvsCore({
      config: o.totem,
      ringSeqLoaded: loadRingSeq(o.stateDir, o.nodeId),
      datagramPayloadBytes: datagramPayloadBytes(o.frameBytesMax, overhead, mcastHeaderBytes),
      messageBytesMax: o.messageBytesMax,
      queueBytesMax: o.queueBytesMax,
      log: (line) => this.#coreLog(line),
      random: cryptoRandom,
    });
    this.#observer = parts.observe === undefined ? null : new CoreObserver(parts.observe, this.#core, () => this.#stats.decodeDropped, parts.clock, o.totem.tokenMs);
    this.#token = new TokenTiming(parts.tokenStamps ?? new TokenStamps(new ArrayBuffer(tokenStampsBytes)));
    this.#delivery = new HandleDelivery(parts.deliver, o.rings.deliverBacklogBytes, () => this.#overflow());
    this.#started = new Promise((resolve) => {
      this.#firstRegular = resolve;
    });
  }

  /** starts the core and the loop; resolves once the first regular configuration is installed. */
  start(): Promise<void> {
    if (this.#loop === null) {
      this.#pause = new PauseDetector(this.#p.options.totem.tokenMs, this.#p.clock());
      this.#core.start(this.#p.clock());
      this.#afterInput();
      this.#loop = this.#run();
    }
    return this.#started;
  }

  /** a received datagram (single layout: called by the network driver, one event-loop task each). */
  handleDatagram(datagram: Uint8Array): void {
    this.#submitBudget = submitRecordsPerPassMax;
    if (this.#stopped || this.#loop === null) return;
    this.#checkPause(this.#p.clock());
    this.#receive(datagram);
  }

  /**
   * The pause guard (TOTEM.md §3.8): every pass records a timestamp, and the
   * loop wakes at least every token/5 to take one. A gap above token/2 means
   * the process was not scheduled (SIGSTOP, swap, a VM pause): what is in the
   * receive backlog (the rx ring, the socket's queue) arrived before or
   * during the pause. Its JOINs are stale and dropped for one join period
   * (peers re-send theirs every joinMs), and the core restarts its
   * token-loss and consensus timers instead of declaring the others failed
   * for its own silence. Tokens and multicasts in the backlog are kept: the
   * token may be there, and dropping it would cost a retransmission period
   * the others' token timers may not have left.
   */
  #checkPause(now: number): void {
    const pause = this.#pause;
    if (pause === null) return;
    const pausedMs = pause.tick(now);
    if (pausedMs === 0) return;
    this.#stats.pausesDetected++;
    this.#flushJoinsUntil = now + this.#p.options.totem.joinMs;
    this.#core.paused(now, pausedMs);
    this.#afterInput();
  }

  /** split layout: called by the loop for each record of the rx ring. */
  #receive(datagram: Uint8Array): void {
    // Single layout: the socket is bound (network start) before the core starts; what arrives in between is
    // dropped as if the socket were not bound yet (the core asserts it was started before any input).
    if (this.#stopped || this.#loop === null) return;
    this.#stats.datagramsIn++;
    const result = decode(datagram, this.#accelerated);
    if (!result.ok) {
      this.#stats.decodeDropped[result.reason]++;
      if (result.reason === 'ordering' && !this.#orderingLogged) {
        this.#orderingLogged = true;
        this.#p.log?.(`dropping datagrams of nodes with the other totem.ordering (this node: ${this.#p.options.totem.ordering}); counted in decodeDropped.ordering`);
      }
      return;
    }
    const now = this.#p.clock();
    if (now < this.#flushJoinsUntil && isStaleAfterPause(result.message)) {
      this.#stats.joinsDroppedAfterPause++;
      return;
    }
    if (result.message.type === MessageType.OrfToken) this.#token.tokenIn();
    this.#core.handleMessage(now, result.message);
    this.#afterInput();
  }

  #coreLog(line: string): void {
    this.#observer?.coreLog(line);
    this.#p.log?.(line);
  }

  openHandle(id: number): void {
    this.#delivery.openHandle(id);
  }

  closeHandle(id: number): void {
    this.#delivery.closeHandle(id);
  }

  join(id: number, groups: readonly Uint8Array[]): void {
    this.#delivery.join(id, groups);
  }

  leave(id: number, groups: readonly Uint8Array[]): void {
    this.#delivery.leave(id, groups);
  }

  membership(): Membership {
    const r = this.#delivery.lastRegular;
    return { localNodeId: this.#nodeId, ringId: r?.ringId ?? this.#core.processor.ringId, members: r?.members ?? [] };
  }

  stats(): ProtocolDriverStats {
    const core = this.#core.stats;
    const outbox = this.#delivery.outbox;
    return {
      ...this.#stats,
      ...this.#delivery.stats,
      decodeDropped: { ...this.#stats.decodeDropped },
      state: this.#core.processor.state,
      ringId: this.#core.processor.ringId,
      deliverBacklogRecords: outbox.backlogRecords,
      deliverBacklogBytes: outbox.backlogBytes,
      deliverBacklogPeakBytes: outbox.backlogPeakBytes,
      queuedMessages: core.queuedMessages,
      queuedBytes: core.queuedBytes,
      totem: { ...this.#core.processor.stats },
      token: this.#token.stats(),
    };
  }

  /** graceful stop: LEAVE goes out through the link, then the loop ends. */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      if (!this.#core.processor.stopped) {
        this.#core.leave(this.#p.clock());
        this.#afterInput();
      }
      this.#stopped = true;
      this.#p.bell.wakeNow();
    }
    await this.#loop;
  }

  async #run(): Promise<void> {
    const hasInput = (): boolean => (this.#pendingSubmit === null && this.#p.submit.hasData()) || (this.#p.rx?.hasData() ?? false);
    while (!this.#stopped) {
      this.#step();
      if (this.#stopped) break;
      if (this.#submitMore) {
        // more to take: let received datagrams (single layout: socket callbacks) and control calls in first
        await yieldToLoop();
        continue;
      }
      const now = this.#p.clock();
      // wake at least once per pause-guard tick to take its timestamp
      let waitMs = Math.max(0, Math.min(this.#core.nextDeadline(), this.#pause?.nextTickAt() ?? Infinity) - now);
      if (this.#delivery.outbox.backlogBytes > 0) waitMs = Math.min(waitMs, backlogPollMs);
      await this.#p.bell.waitAsync(hasInput, waitMs);
    }
  }

  /** one pass: received datagrams, due timers, submitted messages, then the Ready. */
  #step(): void {
    this.#submitBudget = submitRecordsPerPassMax;
    this.#checkPause(this.#p.clock());
    const rx = this.#p.rx;
    if (rx !== null) {
      // A fresh copy per datagram: the core keeps MCAST payloads (zero-copy views) in its sort queue.
      for (let record = rx.read(); record !== null && !this.#stopped; record = rx.read()) {
        this.#receive(record.subarray(datagramRecordHeadBytes));
      }
    }
    const now = this.#p.clock();
    if (now >= this.#core.nextDeadline()) this.#core.handleTimeout(now);
    this.#afterInput();
  }

  /** after any input: take submitted messages while the core's queue has room, then act on the Ready. */
  #afterInput(): void {
    this.#pumpSubmit();
    this.#delivery.outbox.drain();
    const ready = this.#core.ready();
    if (ready.persistRingSeq !== null) {
      storeRingSeq(this.#p.options.stateDir, this.#nodeId, ready.persistRingSeq);
      this.#stats.ringSeqWrites++;
    }
    if (ready.sends.length > 0) {
      const last = ready.sends.length - 1;
      for (let i = 0; i <= last; i++) {
        const send = ready.sends[i]!;
        if (send.message.type === MessageType.OrfToken) this.#token.tokenOut();
        const bytes = encodeInto(send.message, this.#encodeBuffer, 0, this.#accelerated);
        this.#p.link.send(send.to, this.#encodeBuffer.subarray(0, bytes));
        // Accelerated Ring: the token leaves before the visit's held-back messages are even encoded
        if (send.message.type === MessageType.OrfToken && i < last) this.#p.link.endBatch();
      }
      this.#stats.datagramsOut += ready.sends.length;
      this.#p.link.endBatch();
    }
    if (ready.events.length > 0) {
      this.#delivery.deliver(ready.events);
      this.#observer?.confchgs(ready.events);
      if (this.#firstRegular !== null && this.#delivery.lastRegular !== null) {
        this.#firstRegular();
        this.#firstRegular = null;
      }
    }
    this.#delivery.outbox.flush();
    this.#observer?.tick();
  }

  #pumpSubmit(): void {
    this.#submitMore = false;
    if (this.#core.processor.stopped) return;
    const submit = this.#p.submit;
    for (;;) {
      if (this.#submitBudget === 0) {
        this.#submitMore = this.#pendingSubmit === null && submit.hasData();
        return;
      }
      const record = this.#pendingSubmit ?? submit.read();
      if (record === null) return;
      this.#submitBudget--;
      const guarantee = submitRecordGuarantee(record);
      this.#pendingSubmit = null;
      if (guarantee === null) {
        this.#stats.submitMalformed++;
        this.#refuse(record, new EvsError('ERR_EVS_INTERNAL', `a submit record of ${record.length} bytes is not framed as one (a bug): the message was not sent`));
        continue;
      }
      let result: 'ok' | 'try-again';
      try {
        // the message goes into the core's queue as the handle encoded it: no parse, no second encode
        result = this.#core.submitMessage(this.#p.clock(), record.subarray(submitRecordMessageAt), guarantee);
      } catch (error) {
        // the group layer refused what the handle accepted (its checks and the core's disagree: a bug)
        this.#refuse(record, error instanceof EvsError ? error : new EvsError('ERR_EVS_INTERNAL', String(error)));
        continue;
      }
      if (result === 'try-again') {
        this.#pendingSubmit = record; // the core's queue is full: keep it until a token visit makes room
        return;
      }
      this.#stats.messagesSubmitted++;
    }
  }

  /** a record accepted on the main thread that the worker cannot send: counted, and told to the handle that sent it. */
  #refuse(record: Uint8Array, error: EvsError): void {
    this.#stats.submitRefused++;
    this.#p.log?.(`refused a submitted message of handle ${submitRecordHandle(record)}: ${error.code}: ${error.message}`);
    this.#delivery.refuse(submitRecordHandle(record), error);
  }

  /**
   * The application did not take its deliveries and the backlog passed its
   * bound. Holding the ring back for one slow member would stall everyone,
   * and dropping messages would break virtual synchrony: the node leaves the
   * ring (the others see a configuration change without it) and tells the
   * main thread, which reports ERR_EVS_DELIVERY_OVERFLOW.
   */
  #overflow(): void {
    if (this.#core.processor.stopped) return;
    this.#p.log?.(`deliver backlog above rings.deliverBacklogBytes (${this.#p.options.rings.deliverBacklogBytes}): leaving the ring`);
    Atomics.store(this.#p.status, 0, driverStatusDeliverOverflow);
    Atomics.notify(this.#p.status, 0); // a main thread that holds its dispatcher waits on this word
    this.#core.leave(this.#p.clock());
    this.#p.deliver.wakeConsumer();
  }
}
