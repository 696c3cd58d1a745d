/**
 * EvsHandle: one application's view of the node, as an `evs_initialize`
 * handle was. It joins groups, multicasts, and receives the messages of the
 * groups it joined plus every configuration change, in one ordered stream —
 * as `deliver` / `confchg` events and through `events()`. Its first event is
 * the current configuration.
 */
import { EventEmitter } from 'node:events';
import { EvsError } from './errors.ts';
import { encodeGroupNames, GroupSet } from './groups/match.ts';
import { Guarantee } from './wire/messages.ts';
import { encodeSubmitHead } from './runtime/node-runtime.ts';
import type { EvsConfchg, EvsDelivery, EvsEvent, McastOptions, Membership } from './types.ts';

export type { EvsConfchg, EvsDelivery, EvsEvent, GuaranteeName, McastOptions } from './types.ts';

/** What a handle needs of its node (implemented by EvsNode). */
export interface HandleHost {
  readonly messageBytesMax: number;
  openHandle(id: number): Promise<void>;
  closeHandle(handle: EvsHandle): Promise<void>;
  join(id: number, groups: Uint8Array[]): Promise<void>;
  leave(id: number, groups: Uint8Array[]): Promise<void>;
  membership(): Promise<Membership>;
  submit(head: Uint8Array, payload: Uint8Array, signal?: AbortSignal): Promise<void>;
  trySubmit(head: Uint8Array, payload: Uint8Array): 'ok' | 'try-again';
}

interface HandleEvents {
  deliver: [EvsDelivery];
  confchg: [EvsConfchg];
}

export class EvsHandle extends EventEmitter<HandleEvents> {
  readonly id: number;
  readonly #host: HandleHost;
  readonly #registered: Promise<void>;
  readonly #joined = new GroupSet();
  /** submit heads of mcastJoined, per guarantee; rebuilt when the joined groups change. */
  #joinedHeads: [Uint8Array, Uint8Array] | null = null;
  readonly #iterators = new Set<EventQueue>();
  #closed = false;

  /** @internal use EvsNode.open(). */
  constructor(host: HandleHost, id: number) {
    super();
    this.id = id;
    this.#host = host;
    this.#registered = host.openHandle(id);
    // An unhandled rejection here would crash the process before anyone awaited: methods re-raise it.
    this.#registered.catch(() => undefined);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** the groups this handle joined. */
  groups(): string[] {
    const decoder = new TextDecoder();
    return this.#joined.names().map((b) => decoder.decode(b));
  }

  async join(groups: readonly string[]): Promise<void> {
    const bytes = this.#checkGroups(groups);
    for (const g of bytes) this.#joined.add(g);
    this.#joinedHeads = null;
    await this.#registered;
    await this.#host.join(this.id, bytes);
  }

  async leave(groups: readonly string[]): Promise<void> {
    const bytes = this.#checkGroups(groups);
    for (const g of bytes) this.#joined.delete(g);
    this.#joinedHeads = null;
    await this.#registered;
    await this.#host.leave(this.id, bytes);
  }

  /** multicast to the groups this handle joined; resolves once the message is in the node's queue. */
  mcastJoined(payload: Uint8Array, options: McastOptions = {}): Promise<void> {
    try {
      const head = this.#joinedHead(options);
      return this.#host.submit(head, this.#checkPayload(payload), options.signal);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** multicast to named groups (joined or not); resolves once the message is in the node's queue. */
  mcastGroups(groups: readonly string[], payload: Uint8Array, options: McastOptions = {}): Promise<void> {
    try {
      const head = encodeSubmitHead(guaranteeOf(options), this.#checkGroups(groups, 1));
      return this.#host.submit(head, this.#checkPayload(payload), options.signal);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** `mcastJoined` that never waits: 'try-again' while the node's queue is full. */
  tryMcastJoined(payload: Uint8Array, options: Omit<McastOptions, 'signal'> = {}): 'ok' | 'try-again' {
    return this.#host.trySubmit(this.#joinedHead(options), this.#checkPayload(payload));
  }

  /** `mcastGroups` that never waits: 'try-again' while the node's queue is full. */
  tryMcastGroups(groups: readonly string[], payload: Uint8Array, options: Omit<McastOptions, 'signal'> = {}): 'ok' | 'try-again' {
    const head = encodeSubmitHead(guaranteeOf(options), this.#checkGroups(groups, 1));
    return this.#host.trySubmit(head, this.#checkPayload(payload));
  }

  /** the node's current regular configuration. */
  membership(): Promise<Membership> {
    this.#checkOpen();
    return this.#host.membership();
  }

  /**
   * Every event of this handle from now on, in order, until the handle is
   * closed or the node stops. Events are queued for a slow iterator (in
   * main-thread memory).
   */
  events(): AsyncIterableIterator<EvsEvent> {
    const queue = new EventQueue(() => this.#iterators.delete(queue));
    if (this.#closed) queue.end();
    else this.#iterators.add(queue);
    return queue;
  }

  /** stops receiving; the handle's groups are left. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#registered.catch(() => undefined);
    await this.#host.closeHandle(this);
  }

  /** @internal called by the node's dispatcher. */
  dispatch(event: EvsEvent): void {
    if (this.#closed) return;
    for (const q of this.#iterators) q.push(event);
    if (event.kind === 'deliver') this.emit('deliver', event);
    else this.emit('confchg', event);
  }

  /** @internal the node closed this handle (close() or stop()). */
  markClosed(): void {
    this.#closed = true;
    for (const q of this.#iterators) q.end();
    this.#iterators.clear();
  }

  #joinedHead(options: McastOptions): Uint8Array {
    this.#checkOpen();
    if (this.#joined.size === 0) throw new EvsError('ERR_EVS_NOT_JOINED', 'mcastJoined on a handle that joined no group: join() first, or use mcastGroups()');
    this.#joinedHeads ??= [encodeSubmitHead(Guarantee.Agreed, this.#joined.names()), encodeSubmitHead(Guarantee.Safe, this.#joined.names())];
    return this.#joinedHeads[guaranteeOf(options)];
  }

  #checkGroups(groups: readonly string[], min = 0): Uint8Array[] {
    this.#checkOpen();
    if (!Array.isArray(groups) || groups.some((g) => typeof g !== 'string')) {
      throw new EvsError('ERR_EVS_INVALID_ARGUMENT', 'groups must be an array of strings');
    }
    if (groups.length < min) throw new EvsError('ERR_EVS_INVALID_ARGUMENT', `at least ${min} group name is needed`);
    return encodeGroupNames(groups);
  }

  #checkPayload(payload: Uint8Array): Uint8Array {
    if (!(payload instanceof Uint8Array)) throw new EvsError('ERR_EVS_INVALID_ARGUMENT', 'payload must be a Uint8Array (a Buffer is one)');
    if (payload.length > this.#host.messageBytesMax) {
      throw new EvsError('ERR_EVS_MESSAGE_TOO_LARGE', `payload of ${payload.length} bytes; at most ${this.#host.messageBytesMax} (option messageBytesMax)`);
    }
    return payload;
  }

  #checkOpen(): void {
    if (this.#closed) throw new EvsError('ERR_EVS_BAD_HANDLE', `handle ${this.id} is closed`);
  }
}

function guaranteeOf(options: McastOptions): Guarantee {
  const g = options.guarantee ?? 'agreed';
  if (g === 'agreed') return Guarantee.Agreed;
  if (g === 'safe') return Guarantee.Safe;
  throw new EvsError('ERR_EVS_BAD_GUARANTEE', `guarantee must be 'agreed' or 'safe' (got ${String(g)})`);
}

/** An async iterator over pushed events. */
class EventQueue implements AsyncIterableIterator<EvsEvent> {
  readonly #items: EvsEvent[] = [];
  #head = 0;
  #waiter: ((result: IteratorResult<EvsEvent>) => void) | null = null;
  #done = false;

  constructor(private readonly onReturn: () => void) {}

  push(event: EvsEvent): void {
    if (this.#done) return;
    if (this.#waiter !== null) {
      const w = this.#waiter;
      this.#waiter = null;
      w({ value: event, done: false });
      return;
    }
    this.#items.push(event);
  }

  end(): void {
    this.#done = true;
    if (this.#waiter !== null) {
      const w = this.#waiter;
      this.#waiter = null;
      w({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<EvsEvent>> {
    if (this.#head < this.#items.length) {
      const value = this.#items[this.#head++]!;
      if (this.#head === this.#items.length) {
        this.#items.length = 0;
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<EvsEvent>> {
    this.#items.length = 0;
    this.end();
    this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<EvsEvent> {
    return this;
  }
}
