/**
 * Main-thread side of the submit ring: application messages in call order.
 *
 * A message is accepted when its record is in the ring (the node's queue).
 * While the ring is full, `submit` waits in line — later messages queue
 * behind it even if they would fit, or FIFO per sender would break — and an
 * AbortSignal takes a waiting message out of the line. `trySubmit` never
 * waits: 'try-again' when the ring is full or others are waiting.
 */
import { EvsError } from '../errors.ts';
import type { RecordWriter } from './rings/record-ring.ts';

interface Waiting {
  readonly head: Uint8Array;
  readonly payload: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (error: EvsError) => void;
  settled: boolean;
}

/** a waiting writer re-checks this often (stop and abort are noticed sooner through `settled`). */
const roomWaitMs = 100;

export class SubmitQueue {
  readonly #ring: RecordWriter;
  readonly #waiting: Waiting[] = [];
  #pumping = false;
  #closed: EvsError | null = null;

  constructor(ring: RecordWriter) {
    this.#ring = ring;
  }

  /** number of messages waiting for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  trySubmit(head: Uint8Array, payload: Uint8Array): 'ok' | 'try-again' {
    if (this.#closed !== null) throw this.#closed;
    if (this.#waiting.length > 0 || !this.#ring.tryWriteParts(head, payload)) return 'try-again';
    this.#ring.flush();
    return 'ok';
  }

  submit(head: Uint8Array, payload: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (this.#closed !== null) return Promise.reject(this.#closed);
    if (signal?.aborted === true) return Promise.reject(aborted(signal));
    if (this.trySubmit(head, payload) === 'ok') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => settle(entry, aborted(signal as AbortSignal));
      const cleanup = (): void => signal?.removeEventListener('abort', onAbort);
      const entry: Waiting = {
        head,
        payload,
        settled: false,
        resolve: () => {
          cleanup();
          resolve();
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(entry);
      void this.#pump();
    });
  }

  /** refuse everything from now on; waiting messages are rejected with `error`. */
  close(error: EvsError): void {
    this.#closed = error;
    for (const entry of this.#waiting) settle(entry, error);
    this.#waiting.length = 0;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#waiting.length > 0) {
        const entry = this.#waiting[0]!;
        if (entry.settled) {
          this.#waiting.shift();
          continue;
        }
        if (this.#ring.tryWriteParts(entry.head, entry.payload)) {
          this.#ring.flush();
          this.#waiting.shift();
          entry.settled = true;
          entry.resolve();
          continue;
        }
        await this.#ring.waitForSpaceAsync(entry.head.length + entry.payload.length, roomWaitMs);
      }
    } finally {
      this.#pumping = false;
    }
  }
}

function settle(entry: Waiting, error: EvsError): void {
  if (entry.settled) return;
  entry.settled = true;
  entry.reject(error);
}

function aborted(signal: AbortSignal): EvsError {
  return new EvsError('ERR_EVS_ABORTED', 'the send was aborted before the message was queued', { cause: signal.reason });
}
