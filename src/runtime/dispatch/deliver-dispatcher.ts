/**
 * The main thread's reading of the deliver ring: records become events
 * (`deliver` with a payload copied out of the ring, `confchg`) handed to the
 * handles each record names. It sleeps in Atomics.waitAsync, so the event
 * loop is never blocked, and yields after a batch so a flood of deliveries
 * does not starve other work.
 *
 * Flow control: while anything holds the dispatcher (`hold()`: a paused
 * handle, an `events()` iterator whose buffer is full) it reads no record,
 * so the deliver ring fills and the protocol worker's backlog takes the
 * deliveries, up to rings.deliverBacklogBytes (past it the node leaves the
 * ring: ERR_EVS_DELIVERY_OVERFLOW). The ring is the node's, shared by its
 * handles, and records are read in order: one holder stops every handle of
 * the node, so no handle ever sees its events reordered or dropped, and the
 * memory held on the main thread stays bounded by the holders' own buffers.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { EvsError } from '../../errors.ts';
import type { EvsDelivery, EvsEvent } from '../../types.ts';
import { driverStatusDeliverOverflow } from '../protocol/driver-status.ts';
import { DeliverRecordReader, recordKindConfchg, recordKindMessage } from '../records/deliver-record.ts';
import type { RecordReader } from '../rings/record-ring.ts';
import { PayloadSlab } from './payload-slab.ts';

/** records dispatched per event-loop turn before yielding. */
const dispatchBatchRecords = 1024;

/** Where events go: the node's handles. */
export interface EventSink {
  /** one event for each of `handles` (ids; some may be closed by now). */
  dispatch(handles: readonly number[], event: EvsEvent): void;
  /** a message of `handles` (one) that the protocol worker could not take after it was accepted. */
  refused(handles: readonly number[], error: EvsError): void;
}

/** What `hold()` returns: let go once (later calls do nothing). */
export type Release = () => void;

export class DeliverDispatcher {
  readonly #ring: RecordReader;
  readonly #status: Int32Array;
  readonly #sink: EventSink;
  readonly #reader = new DeliverRecordReader();
  readonly #payloads = new PayloadSlab();
  readonly #onRecord = (record: Uint8Array): void => this.#dispatch(record);
  #stopped = false;
  #holds = 0;
  #resume: (() => void) | null = null;

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
      if (this.#holds > 0) {
        // held: nothing is read, but an overflow of the protocol worker must still be noticed (it notifies the status word)
        if (Atomics.load(this.#status, 0) === driverStatusDeliverOverflow) return 'overflow';
        const resumed = new Promise<void>((resolve) => {
          this.#resume = resolve;
        });
        const statusChange = Atomics.waitAsync(this.#status, 0, 0);
        await (statusChange.async ? Promise.race([resumed, statusChange.value]) : resumed);
        continue;
      }
      let count = 0;
      // one record at a time so that a hold taken by a listener stops at the next record, not the next batch
      while (count < dispatchBatchRecords && this.#holds === 0 && ring.drain(this.#onRecord, 1) === 1) count++;
      if (this.#holds > 0) continue;
      if (Atomics.load(this.#status, 0) === driverStatusDeliverOverflow && !ring.hasData()) return 'overflow';
      if (count === dispatchBatchRecords) await yieldToLoop();
      else await ring.waitAsync(Number.POSITIVE_INFINITY);
    }
    return 'stopped';
  }

  /** ends `run()` (it may be asleep on the ring, or held). */
  stop(): void {
    this.#stopped = true;
    this.#ring.interruptWait();
    this.#wake();
  }

  /** true while something holds the dispatcher. */
  get held(): boolean {
    return this.#holds > 0;
  }

  /** stops reading records until the returned release is called (holds nest: every one must let go). */
  hold(): Release {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      if (this.#holds === 0) this.#wake();
    };
  }

  #wake(): void {
    const resume = this.#resume;
    this.#resume = null;
    resume?.();
    Atomics.notify(this.#status, 0); // ends our own wait on the status word, so waits do not pile up
  }

  #dispatch(record: Uint8Array): void {
    const r = this.#reader;
    let event: EvsEvent;
    const kind = r.read(record);
    if (kind === recordKindMessage) {
      const delivery: EvsDelivery = {
        kind: 'deliver',
        sender: r.sender,
        groups: r.groups,
        guarantee: r.guarantee === 1 ? 'safe' : 'agreed',
        payload: this.#payloads.copy(r.payload), // the record is a view into the ring reader's scratch
      };
      event = delivery;
    } else if (kind === recordKindConfchg) {
      event = r.confchg!;
    } else {
      this.#sink.refused(r.handles, r.error!);
      return;
    }
    this.#sink.dispatch(r.handles, event);
  }
}
