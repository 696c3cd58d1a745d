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
 * seq (write, fsync, rename), send, deliver, re-arm the deadline.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { EvsCore, type AppEvent } from '../../groups/evs-core.ts';
import { datagramPayloadBytes, groupHeaderBytesMax } from '../../groups/format.ts';
import { GroupSet, groupsMatch } from '../../groups/match.ts';
import type { ResolvedOptions } from '../../options.ts';
import type { ConfchgEvent } from '../../protocol/ready.ts';
import type { ProcessorStats } from '../../protocol/stats.ts';
import { decode, decodeErrors, type DecodeError } from '../../wire/decode.ts';
import { encodeInto } from '../../wire/encode.ts';
import { mcastHeaderBytes } from '../../wire/header.ts';
import type { RingId } from '../../wire/messages.ts';
import { datagramBytesMax } from '../../limits.ts';
import { aesGcmOverheadBytes } from '../crypto/cipher.ts';
import { datagramRecordNodeId, datagramRecordHeadBytes } from '../records/datagram-record.ts';
import { DeliverHeadEncoder, deliverHeadBytesMax, handlesPerNodeMax } from '../records/deliver-record.ts';
import { decodeSubmitRecord } from '../records/submit-record.ts';
import type { Doorbell } from '../rings/doorbell.ts';
import type { RecordReader, RecordWriter } from '../rings/record-ring.ts';
import { loadRingSeq, storeRingSeq } from '../state/ring-seq-file.ts';
import { EvsError } from '../../errors.ts';

/** Where the driver's datagrams go: the tx ring (split) or the network driver itself (single). */
export interface DatagramLink {
  /** `datagram` is valid only during the call: copy or seal it before returning. */
  send(to: number, datagram: Uint8Array): void;
  /** end of one Ready's sends: wake the consumer once. */
  endBatch(): void;
}

export interface Membership {
  readonly localNodeId: number;
  readonly ringId: RingId;
  readonly members: readonly number[];
}

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
  /** submit records that did not parse (a bug on the main side). */
  readonly submitMalformed: number;
  /** deliveries waiting because the deliver ring was full (main thread slow or blocked). */
  readonly deliverBacklogRecords: number;
  readonly deliverBacklogBytes: number;
  readonly deliverBacklogPeakBytes: number;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  /** the Totem processor's counters (tokens, retransmissions, membership rounds...). */
  readonly totem: Readonly<ProcessorStats>;
}

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
  readonly log?: (line: string) => void;
}

/** `status[0]` values. */
export const driverStatusRunning = 0;
export const driverStatusDeliverOverflow = 1;

interface BacklogRecord {
  readonly head: Uint8Array;
  readonly body: Uint8Array;
}

const EMPTY = new Uint8Array(0);
/** while deliveries wait for room in the deliver ring, look again this often. */
const backlogPollMs = 1;
/**
 * submit records taken into the core per pass of the loop (or per datagram
 * handed in by the network driver). A burst of small messages fills the
 * core's queue (queueBytesMax) with tens of thousands of them: taken in one
 * go, that pass kept the loop from the token for 200 ms and more, and a
 * 300 ms token timeout expired on a loaded machine.
 */
const submitBatchRecords = 256;

export class ProtocolDriver {
  readonly #p: ProtocolDriverParts;
  readonly #core: EvsCore;
  readonly #nodeId: number;
  readonly #handles = new Map<number, GroupSet>();
  readonly #encodeBuffer = new Uint8Array(datagramBytesMax);
  readonly #heads = new DeliverHeadEncoder(deliverHeadBytesMax + groupHeaderBytesMax + 64 * 1024);
  readonly #matched: number[] = [];
  #pendingSubmit: Uint8Array | null = null;
  #backlog: BacklogRecord[] = [];
  #backlogHead = 0;
  #backlogBytes = 0;
  #lastRegular: ConfchgEvent | null = null;
  #firstRegular: (() => void) | null = null;
  readonly #started: Promise<void>;
  #loop: Promise<void> | null = null;
  #stopped = false;
  #deliverDirty = false;
  /** submit records the current pass may still take (submitBatchRecords per pass). */
  #submitBudget = 0;
  /** the budget ran out with records left in the submit ring. */
  #submitMore = false;
  readonly #stats = {
    decodeDropped: Object.fromEntries(decodeErrors.map((r) => [r, 0])) as Record<DecodeError, number>,
    datagramsIn: 0, datagramsOut: 0, messagesSubmitted: 0, messagesDelivered: 0, messagesFiltered: 0,
    configurationChanges: 0, ringSeqWrites: 0, deliverBacklogPeakBytes: 0, submitMalformed: 0,
  };

  constructor(parts: ProtocolDriverParts) {
    this.#p = parts;
    const o = parts.options;
    this.#nodeId = o.nodeId;
    const overhead = o.crypto === 'none' ? 0 : aesGcmOverheadBytes;
    this.#core = new EvsCore({
      config: o.totem,
      ringSeqLoaded: loadRingSeq(o.stateDir, o.nodeId),
      datagramPayloadBytes: datagramPayloadBytes(o.frameBytesMax, overhead, mcastHeaderBytes),
      messageBytesMax: o.messageBytesMax,
      queueBytesMax: o.queueBytesMax,
      ...(parts.log !== undefined ? { log: parts.log } : {}),
    });
    this.#started = new Promise((resolve) => {
      this.#firstRegular = resolve;
    });
  }

  /** starts the core and the loop; resolves once the first regular configuration is installed. */
  start(): Promise<void> {
    if (this.#loop === null) {
      this.#core.start(this.#p.clock());
      this.#afterInput();
      this.#loop = this.#run();
    }
    return this.#started;
  }

  /** a received datagram (single layout: called by the network driver, one event-loop task each). */
  handleDatagram(datagram: Uint8Array): void {
    this.#submitBudget = submitBatchRecords;
    this.#receive(datagram);
  }

  /** split layout: called by the loop for each record of the rx ring. */
  #receive(datagram: Uint8Array): void {
    // Single layout: the socket is bound (network start) before the core starts; what arrives in between is
    // dropped as if the socket were not bound yet (the core asserts it was started before any input).
    if (this.#stopped || this.#loop === null) return;
    this.#stats.datagramsIn++;
    const result = decode(datagram);
    if (!result.ok) {
      this.#stats.decodeDropped[result.reason]++;
      return;
    }
    this.#core.handleMessage(this.#p.clock(), result.message);
    this.#afterInput();
  }

  openHandle(id: number): void {
    if (this.#handles.has(id)) throw new EvsError('ERR_EVS_BAD_HANDLE', `handle ${id} is already open`);
    if (this.#handles.size >= handlesPerNodeMax) throw new EvsError('ERR_EVS_TOO_MANY_HANDLES', `at most ${handlesPerNodeMax} handles per node`);
    this.#handles.set(id, new GroupSet());
    // The new handle's first event is the current configuration (evs_initialize did the same).
    const current = this.#lastRegular;
    if (current !== null) {
      this.#write(this.#heads.confchg([id], { ...current, left: [], joined: [] }), EMPTY);
      this.#flushDeliver();
    }
  }

  closeHandle(id: number): void {
    this.#handles.delete(id);
  }

  join(id: number, groups: readonly Uint8Array[]): void {
    const set = this.#handle(id);
    for (const g of groups) set.add(g);
  }

  leave(id: number, groups: readonly Uint8Array[]): void {
    const set = this.#handle(id);
    for (const g of groups) set.delete(g);
  }

  membership(): Membership {
    const r = this.#lastRegular;
    return { localNodeId: this.#nodeId, ringId: r?.ringId ?? this.#core.processor.ringId, members: r?.members ?? [] };
  }

  stats(): ProtocolDriverStats {
    const core = this.#core.stats;
    return {
      ...this.#stats,
      decodeDropped: { ...this.#stats.decodeDropped },
      state: this.#core.processor.state,
      ringId: this.#core.processor.ringId,
      deliverBacklogRecords: this.#backlog.length - this.#backlogHead,
      deliverBacklogBytes: this.#backlogBytes,
      queuedMessages: core.queuedMessages,
      queuedBytes: core.queuedBytes,
      totem: { ...this.#core.processor.stats },
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
      let waitMs = Math.max(0, this.#core.nextDeadline() - now);
      if (this.#backlogBytes > 0) waitMs = Math.min(waitMs, backlogPollMs);
      await this.#p.bell.waitAsync(hasInput, waitMs);
    }
  }

  /** one pass: received datagrams, due timers, submitted messages, then the Ready. */
  #step(): void {
    this.#submitBudget = submitBatchRecords;
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
    this.#drainBacklog();
    const ready = this.#core.ready();
    if (ready.persistRingSeq !== null) {
      storeRingSeq(this.#p.options.stateDir, this.#nodeId, ready.persistRingSeq);
      this.#stats.ringSeqWrites++;
    }
    if (ready.sends.length > 0) {
      for (const send of ready.sends) {
        const bytes = encodeInto(send.message, this.#encodeBuffer, 0);
        this.#p.link.send(send.to, this.#encodeBuffer.subarray(0, bytes));
      }
      this.#stats.datagramsOut += ready.sends.length;
      this.#p.link.endBatch();
    }
    if (ready.events.length > 0) this.#emit(ready.events);
    this.#flushDeliver();
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
      const message = decodeSubmitRecord(record);
      if (message === null) {
        this.#stats.submitMalformed++;
        this.#pendingSubmit = null;
        continue;
      }
      if (this.#core.submit(this.#p.clock(), message.groups, message.payload, message.guarantee) === 'try-again') {
        this.#pendingSubmit = record; // the core's queue is full: keep it until a token visit makes room
        return;
      }
      this.#pendingSubmit = null;
      this.#stats.messagesSubmitted++;
    }
  }

  #emit(events: readonly AppEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'confchg') {
        this.#stats.configurationChanges++;
        if (ev.type === 'regular') {
          this.#lastRegular = ev;
          this.#firstRegular?.();
          this.#firstRegular = null;
        }
        if (this.#handles.size > 0) this.#write(this.#heads.confchg([...this.#handles.keys()], ev), EMPTY);
        continue;
      }
      const matched = this.#matched;
      matched.length = 0;
      for (const [id, joined] of this.#handles) if (groupsMatch(ev.groups, joined)) matched.push(id);
      if (matched.length === 0) {
        this.#stats.messagesFiltered++;
        continue;
      }
      this.#stats.messagesDelivered++;
      this.#write(this.#heads.message(matched, ev.guarantee, ev.sender, ev.groups), ev.payload);
    }
  }

  /** one deliver record, through the ring or, while it is full, the backlog (order kept). */
  #write(head: Uint8Array, body: Uint8Array): void {
    if (this.#backlogBytes === 0 && this.#p.deliver.tryWriteParts(head, body)) {
      this.#deliverDirty = true;
      return;
    }
    this.#backlog.push({ head: head.slice(), body });
    this.#backlogBytes += head.length + body.length;
    this.#stats.deliverBacklogPeakBytes = Math.max(this.#stats.deliverBacklogPeakBytes, this.#backlogBytes);
    if (this.#backlogBytes > this.#p.options.rings.deliverBacklogBytes) this.#overflow();
  }

  #drainBacklog(): void {
    if (this.#backlogBytes === 0) return;
    const deliver = this.#p.deliver;
    while (this.#backlogHead < this.#backlog.length) {
      const r = this.#backlog[this.#backlogHead]!;
      if (!deliver.tryWriteParts(r.head, r.body)) break;
      this.#deliverDirty = true;
      this.#backlogBytes -= r.head.length + r.body.length;
      this.#backlogHead++;
    }
    if (this.#backlogHead === this.#backlog.length) {
      this.#backlog = [];
      this.#backlogHead = 0;
      this.#backlogBytes = 0;
    } else if (this.#backlogHead > 1024) {
      this.#backlog = this.#backlog.slice(this.#backlogHead);
      this.#backlogHead = 0;
    }
  }

  #flushDeliver(): void {
    if (!this.#deliverDirty) return;
    this.#deliverDirty = false;
    this.#p.deliver.flush();
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
    this.#core.leave(this.#p.clock());
    this.#p.deliver.wakeConsumer();
  }

  #handle(id: number): GroupSet {
    const set = this.#handles.get(id);
    if (set === undefined) throw new EvsError('ERR_EVS_BAD_HANDLE', `handle ${id} is not open`);
    return set;
  }
}
