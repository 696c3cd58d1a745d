/**
 * EvsHandle: one application's view of the node, as an `evs_initialize`
 * handle was. It joins groups, multicasts, and receives the messages of the
 * groups it joined plus every configuration change, in one ordered stream —
 * as `deliver` / `confchg` events and through `events()`. Its first event is
 * the current configuration.
 *
 * Back-pressure: `pause()` and an `events()` iterator whose buffer reached its
 * `highWaterMark` stop the node reading its deliver ring. The ring is shared
 * by the node's handles, so this pauses every handle of the node (see
 * docs/RUNTIME.md, "Back-pressure on delivery").
 */
import { EventEmitter } from 'node:events';
import { EvsError } from './errors.ts';
import { encodeGroupNames, groupKey, GroupSet } from './groups/match.ts';
import { eventsHighWaterMarkDefault, groupCountMax } from './limits.ts';
import { Guarantee } from './wire/messages.ts';
import { encodeSubmitHead, EventQueue, type Release } from './runtime/node-runtime.ts';
import type { EvsConfchg, EvsDelivery, EvsEvent, EventsOptions, JoinOptions, McastOptions, Membership } from './types.ts';

export type { EvsConfchg, EvsDelivery, EvsEvent, EventsOptions, GuaranteeName, JoinOptions, McastOptions } from './types.ts';

/** @internal What a handle needs of its node (implemented by EvsNode). */
export interface HandleHost {
  readonly messageBytesMax: number;
  openHandle(id: number): Promise<void>;
  closeHandle(handle: EvsHandle): Promise<void>;
  join(id: number, groups: Uint8Array[]): Promise<void>;
  leave(id: number, groups: Uint8Array[]): Promise<void>;
  membership(): Promise<Membership>;
  submit(head: Uint8Array, payload: Uint8Array, signal?: AbortSignal): Promise<void>;
  trySubmit(head: Uint8Array, payload: Uint8Array): 'ok' | 'try-again';
  /** stops the node reading its deliver ring until released. */
  hold(): Release;
  /** an error of this handle that nobody listens for: the node reports it. */
  unhandled(error: EvsError): void;
}

interface HandleEvents {
  deliver: [EvsDelivery];
  confchg: [EvsConfchg];
  /** a message this handle sent, accepted, that the node could not send after all (stable `code`). */
  error: [EvsError];
}

type HeldItem = EvsEvent | EvsError;

export class EvsHandle extends EventEmitter<HandleEvents> {
  readonly id: number;
  readonly #host: HandleHost;
  readonly #registered: Promise<void>;
  readonly #joined = new GroupSet();
  /** submit heads of mcastJoined, per guarantee; rebuilt when the joined groups change. */
  #joinedHeads: [Uint8Array, Uint8Array] | null = null;
  readonly #iterators = new Set<EventQueue>();
  /** why the handle is closed (what its methods throw), or null while open. */
  #closedBy: EvsError | null = null;
  #pauseRelease: Release | null = null;
  /** events of the record being dispatched when pause() was called, given on resume(). */
  #held: HeldItem[] = [];

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
    return this.#closedBy !== null;
  }

  /** the groups this handle joined. */
  groups(): string[] {
    const decoder = new TextDecoder();
    return this.#joined.names().map((b) => decoder.decode(b));
  }

  /**
   * Joins `groups`. The total of the handle's groups is checked first: past
   * groupCountMax (50) it rejects with ERR_EVS_TOO_MANY_GROUPS and nothing is
   * joined. An abort before the node confirmed undoes the join (ERR_EVS_ABORTED).
   * It resolves once the node's protocol worker has the join: the messages
   * of these groups it delivers from then on reach this handle, those it
   * delivered before do not (as corosync's evs_join), even in the same
   * configuration: a sender that must reach this handle waits until it joined.
   */
  async join(groups: readonly string[], options: JoinOptions = {}): Promise<void> {
    const bytes = this.#checkGroups(groups);
    const { signal } = options;
    if (signal?.aborted === true) throw joinAborted(signal);
    const added = new Map<string, Uint8Array>();
    for (const g of bytes) if (!this.#joined.has(g)) added.set(groupKey(g), g);
    if (this.#joined.size + added.size > groupCountMax) {
      throw new EvsError('ERR_EVS_TOO_MANY_GROUPS',
        `handle ${this.id} has ${this.#joined.size} groups; joining ${added.size} more would pass groupCountMax (${groupCountMax}): mcastJoined carries every joined group`);
    }
    for (const g of added.values()) this.#joined.add(g);
    this.#joinedHeads = null;
    // the join goes to the worker only if not aborted by then; an abort after it was sent is undone by a leave after it
    const call = this.#registered.then(() => {
      if (signal?.aborted === true) throw joinAborted(signal);
      return this.#host.join(this.id, bytes);
    });
    try {
      await abortable(call, signal);
    } catch (error) {
      for (const g of added.values()) this.#joined.delete(g);
      this.#joinedHeads = null;
      if ((error as EvsError).code === 'ERR_EVS_ABORTED' && added.size > 0) {
        call.then(() => this.#closedBy === null ? this.#host.leave(this.id, [...added.values()]) : undefined).catch(() => undefined);
      }
      throw error;
    }
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
      const head = encodeSubmitHead(guaranteeOf(options), this.id, this.#checkGroups(groups, 1));
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
    const head = encodeSubmitHead(guaranteeOf(options), this.id, this.#checkGroups(groups, 1));
    return this.#host.trySubmit(head, this.#checkPayload(payload));
  }

  /** the node's current regular configuration. */
  membership(): Promise<Membership> {
    this.#checkOpen();
    return this.#registered.then(() => this.#host.membership());
  }

  /**
   * Stops the node reading its deliver ring: no `deliver` / `confchg` for
   * this handle until `resume()`. The ring is the node's: every handle of
   * this node waits too. What arrives meanwhile waits in the deliver ring
   * and the protocol worker's backlog, up to rings.deliverBacklogBytes; past
   * it the node leaves the ring (ERR_EVS_DELIVERY_OVERFLOW).
   */
  pause(): this {
    if (this.#pauseRelease === null && this.#closedBy === null) this.#pauseRelease = this.#host.hold();
    return this;
  }

  /** undoes `pause()`: events held meanwhile are emitted first, in order. */
  resume(): this {
    const release = this.#pauseRelease;
    if (release === null) return this;
    this.#pauseRelease = null;
    while (this.#held.length > 0 && this.#pauseRelease === null) this.#emitItem(this.#held.shift()!);
    release();
    return this;
  }

  isPaused(): boolean {
    return this.#pauseRelease !== null;
  }

  /**
   * Every event of this handle from now on, in order. Ends when the handle is
   * closed or the node stops; throws the node's error when it fails (a
   * worker died, ERR_EVS_DELIVERY_OVERFLOW) and a refused message's error.
   * At `highWaterMark` unread events (default 1024) it pauses the node's
   * delivery until it is read below the mark; `signal` ends it with
   * ERR_EVS_ABORTED.
   */
  events(options: EventsOptions = {}): AsyncIterableIterator<EvsEvent> {
    const highWaterMark = options.highWaterMark ?? eventsHighWaterMarkDefault;
    if (!Number.isInteger(highWaterMark) || highWaterMark < 1) {
      throw new EvsError('ERR_EVS_INVALID_ARGUMENT', `highWaterMark must be an integer >= 1 (got ${String(highWaterMark)})`);
    }
    const queue: EventQueue = new EventQueue(highWaterMark, () => this.#host.hold(), () => this.#iterators.delete(queue), options.signal);
    if (options.signal?.aborted === true) queue.fail(new EvsError('ERR_EVS_ABORTED', 'events() was aborted', { cause: options.signal.reason }), true);
    else if (this.#closedBy !== null) queue.end();
    else this.#iterators.add(queue);
    return queue;
  }

  /** stops receiving; the handle's groups are left. */
  async close(): Promise<void> {
    if (this.#closedBy !== null) return;
    await this.#registered.catch(() => undefined);
    await this.#host.closeHandle(this);
  }

  /** `await using handle = node.open()` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal called by the node's dispatcher. */
  dispatch(event: EvsEvent): void {
    if (this.#closedBy !== null) return;
    if (this.#pauseRelease !== null) this.#held.push(event); // the rest of the record being read when pause() was called
    else this.#emitItem(event);
  }

  /** @internal a message of this handle that the protocol worker could not take after it was accepted. */
  refused(error: EvsError): void {
    if (this.#closedBy !== null) return;
    if (this.#pauseRelease !== null) this.#held.push(error);
    else this.#emitItem(error);
  }

  /**
   * @internal the node closed this handle: `reason` is what its methods throw
   * from now on; `failure` (a worker died, the backlog overflowed) is thrown by
   * its iterators after their buffered events, which otherwise just end.
   */
  markClosed(reason: EvsError, failure: EvsError | null = null): void {
    if (this.#closedBy !== null) return;
    this.#closedBy = reason;
    const release = this.#pauseRelease;
    this.#pauseRelease = null;
    this.#held = [];
    release?.();
    for (const q of [...this.#iterators]) {
      if (failure !== null) q.fail(failure);
      else q.end();
    }
    this.#iterators.clear();
  }

  #emitItem(item: HeldItem): void {
    if (item instanceof EvsError) {
      const iterators = this.#iterators.size;
      for (const q of [...this.#iterators]) q.fail(item);
      if (this.listenerCount('error') > 0) this.emit('error', item);
      else if (iterators === 0) this.#host.unhandled(item);
      return;
    }
    for (const q of this.#iterators) q.push(item);
    if (item.kind === 'deliver') this.emit('deliver', item);
    else this.emit('confchg', item);
  }

  #joinedHead(options: McastOptions): Uint8Array {
    this.#checkOpen();
    if (this.#joined.size === 0) throw new EvsError('ERR_EVS_NOT_JOINED', 'mcastJoined on a handle that joined no group: join() first, or use mcastGroups()');
    this.#joinedHeads ??= [encodeSubmitHead(Guarantee.Agreed, this.id, this.#joined.names()), encodeSubmitHead(Guarantee.Safe, this.id, this.#joined.names())];
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
    if (this.#closedBy !== null) throw this.#closedBy;
  }
}

function guaranteeOf(options: McastOptions): Guarantee {
  const g = options.guarantee ?? 'agreed';
  if (g === 'agreed') return Guarantee.Agreed;
  if (g === 'safe') return Guarantee.Safe;
  throw new EvsError('ERR_EVS_BAD_GUARANTEE', `guarantee must be 'agreed' or 'safe' (got ${String(g)})`);
}

function joinAborted(signal: AbortSignal): EvsError {
  return new EvsError('ERR_EVS_ABORTED', 'join was aborted before the node confirmed it', { cause: signal.reason });
}

/** `promise`, or ERR_EVS_ABORTED as soon as `signal` fires. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(joinAborted(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
