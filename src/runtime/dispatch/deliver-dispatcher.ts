/**
 * The main thread's reading of the deliver ring: records become events
 * (`deliver` with a payload copied out of the ring, `confchg`) handed to the
 * handles each record names. It sleeps in Atomics.waitAsync, so the event
 * loop is never blocked, and yields after a batch so a flood of deliveries
 * does not starve other work.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { EvsDelivery, EvsEvent } from '../../types.ts';
import { driverStatusDeliverOverflow } from '../protocol/driver-status.ts';
import { DeliverRecordReader, recordKindMessage } from '../records/deliver-record.ts';
import type { RecordReader } from '../rings/record-ring.ts';
import { PayloadSlab } from './payload-slab.ts';

/** records dispatched per event-loop turn before yielding. */
const dispatchBatchRecords = 1024;

/** Where events go: the node's handles. */
export interface EventSink {
  /** one event for each of `handles` (ids; some may be closed by now). */
  dispatch(handles: readonly number[], event: EvsEvent): void;
}

export class DeliverDispatcher {
  readonly #ring: RecordReader;
  readonly #status: Int32Array;
  readonly #sink: EventSink;
  readonly #reader = new DeliverRecordReader();
  readonly #payloads = new PayloadSlab();
  readonly #onRecord = (record: Uint8Array): void => this.#dispatch(record);
  #stopped = false;

  constructor(ring: RecordReader, status: Int32Array, sink: EventSink) {
    this.#ring = ring;
    this.#status = status;
    this.#sink = sink;
  }

  /**
   * Dispatches until `stop()`; resolves 'overflow' when the protocol worker
   * gave up on this node (deliveries taken too slowly) and the ring is empty.
   */
  async run(): Promise<'stopped' | 'overflow'> {
    const ring = this.#ring;
    while (!this.#stopped) {
      const count = ring.drain(this.#onRecord, dispatchBatchRecords);
      if (Atomics.load(this.#status, 0) === driverStatusDeliverOverflow && !ring.hasData()) return 'overflow';
      if (count === dispatchBatchRecords) await yieldToLoop();
      else await ring.waitAsync(Number.POSITIVE_INFINITY);
    }
    return 'stopped';
  }

  /** ends `run()` (it may be asleep on the ring). */
  stop(): void {
    this.#stopped = true;
    this.#ring.interruptWait();
  }

  #dispatch(record: Uint8Array): void {
    const r = this.#reader;
    let event: EvsEvent;
    if (r.read(record) === recordKindMessage) {
      const delivery: EvsDelivery = {
        kind: 'deliver',
        sender: r.sender,
        groups: r.groups,
        guarantee: r.guarantee === 1 ? 'safe' : 'agreed',
        payload: this.#payloads.copy(r.payload), // the record is a view into the ring reader's scratch
      };
      event = delivery;
    } else {
      event = r.confchg!;
    }
    this.#sink.dispatch(r.handles, event);
  }
}
