/**
 * The protocol worker's side of the deliver ring, with the backlog behind it.
 *
 * The main thread may be blocked by the application for seconds while the
 * token keeps rotating: records that find the ring full wait here, in order,
 * and go into the ring as it empties. The backlog is bounded
 * (rings.deliverBacklogBytes); past the bound `onOverflow` is called, and the
 * driver makes the node leave the ring (see ProtocolDriver).
 */
import type { RecordWriter } from '../rings/record-ring.ts';

interface BacklogRecord {
  readonly head: Uint8Array;
  readonly body: Uint8Array;
}

export class DeliverOutbox {
  readonly #ring: RecordWriter;
  readonly #backlogBytesMax: number;
  readonly #onOverflow: () => void;
  #backlog: BacklogRecord[] = [];
  #backlogHead = 0;
  #backlogBytes = 0;
  #peakBytes = 0;
  #dirty = false;

  constructor(ring: RecordWriter, backlogBytesMax: number, onOverflow: () => void) {
    this.#ring = ring;
    this.#backlogBytesMax = backlogBytesMax;
    this.#onOverflow = onOverflow;
  }

  get backlogRecords(): number {
    return this.#backlog.length - this.#backlogHead;
  }

  get backlogBytes(): number {
    return this.#backlogBytes;
  }

  get backlogPeakBytes(): number {
    return this.#peakBytes;
  }

  /**
   * One record: `head` (valid only during the call: copied if it has to wait)
   * then `body` (kept by reference while it waits: the caller must not reuse it).
   */
  write(head: Uint8Array, body: Uint8Array): void {
    if (this.#backlogBytes === 0 && this.#ring.tryWriteParts(head, body)) {
      this.#dirty = true;
      return;
    }
    this.#backlog.push({ head: head.slice(), body });
    this.#backlogBytes += head.length + body.length;
    this.#peakBytes = Math.max(this.#peakBytes, this.#backlogBytes);
    if (this.#backlogBytes > this.#backlogBytesMax) this.#onOverflow();
  }

  /** moves waiting records into the ring while they fit. */
  drain(): void {
    if (this.#backlogBytes === 0) return;
    const ring = this.#ring;
    while (this.#backlogHead < this.#backlog.length) {
      const r = this.#backlog[this.#backlogHead]!;
      if (!ring.tryWriteParts(r.head, r.body)) break;
      this.#dirty = true;
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

  /** end of a batch: wake the main thread once if anything went into the ring. */
  flush(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#ring.flush();
  }
}
