/**
 * The buffer behind one `EvsHandle.events()` iterator, with back-pressure:
 * at `highWaterMark` buffered events it holds the node's dispatcher (no more
 * records are read from the deliver ring) and lets go once the consumer has
 * read it below the mark. Memory on the main thread is then bounded by the
 * mark; what the application does not read waits in the deliver ring and
 * the protocol worker's backlog, up to rings.deliverBacklogBytes.
 *
 * Errors are part of the stream: `fail(error)` makes `next()` reject with it
 * once the events before it were read, and the iterator ends (as
 * `events.on(emitter, name)` does for 'error'). An AbortSignal ends it too,
 * with ERR_EVS_ABORTED.
 */
import { EvsError } from '../../errors.ts';
import type { EvsEvent } from '../../types.ts';
import type { Release } from './deliver-dispatcher.ts';

type Item = EvsEvent | { readonly kind: 'error'; readonly error: EvsError };

interface Waiter {
  readonly resolve: (result: IteratorResult<EvsEvent>) => void;
  readonly reject: (error: EvsError) => void;
}

export class EventQueue implements AsyncIterableIterator<EvsEvent> {
  #items: Item[] = [];
  #head = 0;
  #waiter: Waiter | null = null;
  /** no more items are added (the end or an error was added, or the consumer returned). */
  #inputClosed = false;
  #release: Release | null = null;
  readonly #highWaterMark: number;
  readonly #hold: () => Release;
  readonly #onEnd: () => void;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.fail(new EvsError('ERR_EVS_ABORTED', 'events() was aborted', { cause: this.#signal?.reason }), true);

  /** `hold` stops the node's dispatcher; `onEnd` is called once, when no more events are wanted (the handle forgets it). */
  constructor(highWaterMark: number, hold: () => Release, onEnd: () => void, signal?: AbortSignal) {
    this.#highWaterMark = highWaterMark;
    this.#hold = hold;
    this.#onEnd = onEnd;
    this.#signal = signal;
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** events buffered and not read yet. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  push(event: EvsEvent): void {
    this.#add(event);
  }

  /** the stream ends normally (the handle closed, the node stopped): buffered events are still read. */
  end(): void {
    this.#add(null);
  }

  /** the stream ends with `error` after the buffered events (`dropBuffered`: at once, as for an abort). */
  fail(error: EvsError, dropBuffered = false): void {
    if (this.#inputClosed) return;
    if (dropBuffered) {
      this.#items = [];
      this.#head = 0;
    }
    this.#add({ kind: 'error', error });
  }

  next(): Promise<IteratorResult<EvsEvent>> {
    if (this.#head < this.#items.length) {
      const item = this.#items[this.#head++]!;
      if (this.#head === this.#items.length) {
        this.#items = [];
        this.#head = 0;
      }
      if (this.#release !== null && this.size < this.#highWaterMark) this.#letGo();
      if (item.kind === 'error') {
        this.#items = [];
        this.#head = 0;
        return Promise.reject(item.error);
      }
      return Promise.resolve({ value: item, done: false });
    }
    if (this.#inputClosed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<EvsEvent>> {
    this.#items = [];
    this.#head = 0;
    this.#closeInput();
    const w = this.#waiter;
    this.#waiter = null;
    w?.resolve({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<EvsEvent> {
    return this;
  }

  /** an event, the end (null) or an error, into the stream. */
  #add(item: Item | null): void {
    if (this.#inputClosed) return;
    if (item === null || item.kind === 'error') this.#closeInput();
    const w = this.#waiter;
    if (w !== null && this.size === 0) {
      this.#waiter = null;
      if (item === null) w.resolve({ value: undefined, done: true });
      else if (item.kind === 'error') w.reject(item.error);
      else w.resolve({ value: item, done: false });
      return;
    }
    if (item === null) return;
    this.#items.push(item);
    if (item.kind !== 'error' && this.#release === null && this.size >= this.#highWaterMark) this.#release = this.#hold();
  }

  /** nothing more is added; what is buffered is still read. */
  #closeInput(): void {
    if (this.#inputClosed) return;
    this.#inputClosed = true;
    this.#letGo();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#onEnd();
  }

  #letGo(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
  }
}
