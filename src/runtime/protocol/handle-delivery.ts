/**
 * From the core's application events to deliver records: each message goes
 * to the handles that joined one of its groups, each configuration change to
 * every handle, in the core's order, as one record naming those handles. The
 * message's bytes (group header, payload) go on as they arrived: the header
 * was parsed once by the group layer, for matching, and is not encoded again.
 */
import type { EvsError } from '../../errors.ts';
import type { AppEvent } from '../../groups/evs-core.ts';
import type { ConfchgEvent } from '../../protocol/ready.ts';
import { DeliverHeadEncoder } from '../records/deliver-record.ts';
import type { RecordWriter } from '../rings/record-ring.ts';
import { DeliverOutbox } from './deliver-outbox.ts';
import { HandleRegistry } from './handle-registry.ts';

const EMPTY = new Uint8Array(0);

export interface HandleDeliveryStats {
  messagesDelivered: number;
  /** messages no handle of this node joined a group of. */
  messagesFiltered: number;
  configurationChanges: number;
}

export class HandleDelivery {
  readonly stats: HandleDeliveryStats = { messagesDelivered: 0, messagesFiltered: 0, configurationChanges: 0 };
  readonly #handles = new HandleRegistry();
  readonly #heads = new DeliverHeadEncoder();
  readonly #outbox: DeliverOutbox;
  #lastRegular: ConfchgEvent | null = null;

  /** `onOverflow`: see DeliverOutbox. */
  constructor(ring: RecordWriter, backlogBytesMax: number, onOverflow: () => void) {
    this.#outbox = new DeliverOutbox(ring, backlogBytesMax, onOverflow);
  }

  /** the last regular configuration delivered, or null before the first. */
  get lastRegular(): ConfchgEvent | null {
    return this.#lastRegular;
  }

  /** the ring and its backlog. */
  get outbox(): DeliverOutbox {
    return this.#outbox;
  }

  openHandle(id: number): void {
    this.#handles.open(id);
    // The new handle's first event is the current configuration (evs_initialize did the same).
    const current = this.#lastRegular;
    if (current !== null) {
      this.#outbox.write(this.#heads.confchg([id], { ...current, left: [], joined: [] }), EMPTY);
      this.#outbox.flush();
    }
  }

  closeHandle(id: number): void {
    this.#handles.close(id);
  }

  join(id: number, groups: readonly Uint8Array[]): void {
    this.#handles.join(id, groups);
  }

  leave(id: number, groups: readonly Uint8Array[]): void {
    this.#handles.leave(id, groups);
  }

  /** a submitted message of handle `id` that will not be sent: an error record for that handle (dropped if it closed since). */
  refuse(id: number, error: EvsError): void {
    if (!this.#handles.has(id)) return;
    this.#outbox.write(this.#heads.error([id], error.code, error.message), EMPTY);
  }

  /** one Ready's application events; the caller flushes the outbox after. */
  deliver(events: readonly AppEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'confchg') {
        this.stats.configurationChanges++;
        if (ev.type === 'regular') this.#lastRegular = ev;
        if (this.#handles.size > 0) this.#outbox.write(this.#heads.confchg(this.#handles.ids(), ev), EMPTY);
        continue;
      }
      const handles = this.#handles.matching(ev.groups);
      if (handles.length === 0) {
        this.stats.messagesFiltered++;
        continue;
      }
      this.stats.messagesDelivered++;
      this.#outbox.write(this.#heads.message(handles, ev.guarantee, ev.sender, ev.bytes.length - ev.payload.length), ev.bytes);
    }
  }
}
