/**
 * The runtime as the public API sees it: one object per EvsNode that owns the
 * worker threads, the control plane, the submit queue and the dispatch of
 * deliveries. `src/node.ts` talks to the runtime only through this file (and
 * `handle.ts` through the submit record's head), so the facade knows nothing
 * of rings, record formats or status words.
 *
 * Death: a worker that exits or throws before the node stopped it, or a
 * protocol worker that gave up on a slow main thread, kills the runtime
 * once. Pending control calls reject, queued messages are refused, and the
 * `died` hook tells the node.
 */
import { EvsError } from '../errors.ts';
import type { ResolvedOptions } from '../options.ts';
import type { Membership } from '../types.ts';
import { unwrap, type Outcome } from './control.ts';
import { readKeyFile } from './crypto/keyfile.ts';
import { DeliverDispatcher, type EventSink, type Release } from './dispatch/deliver-dispatcher.ts';
import type { ObserveMessage } from './observe/observe-messages.ts';
import type { NetworkDriverStats } from './network/network-driver.ts';
import type { ProtocolDriverStats } from './protocol/protocol-driver.ts';
import { loadRingSeq } from './state/ring-seq-file.ts';
import { SubmitQueue } from './submit-queue.ts';
import { startThreads, type RuntimeThreads } from './threads.ts';

export type { NetworkDriverStats } from './network/network-driver.ts';
export type { ProtocolDriverStats } from './protocol/protocol-driver.ts';
export { encodeSubmitHead } from './records/submit-record.ts';
export { EventQueue } from './dispatch/event-queue.ts';

export type { Release } from './dispatch/deliver-dispatcher.ts';
export type { ObserveMessage, LogLevel } from './observe/observe-messages.ts';

export interface RuntimeHooks extends EventSink {
  /** the runtime died (see above); not called for a stop the node asked for. */
  died(error: EvsError): void;
  /** what the workers report outside the delivery stream (log lines, configuration changes, counters that moved). */
  observe(message: ObserveMessage): void;
}

export interface RuntimeStats {
  readonly protocol: ProtocolDriverStats;
  readonly network: NetworkDriverStats;
  /** messages waiting on the main thread for room in the submit ring. */
  readonly submitWaiting: number;
}

export class NodeRuntime {
  /** where the unicast socket is bound. */
  readonly address: { readonly address: string; readonly port: number };
  readonly #nodeId: number;
  readonly #threads: RuntimeThreads;
  readonly #submit: SubmitQueue;
  readonly #dispatcher: DeliverDispatcher;
  readonly #hooks: RuntimeHooks;
  readonly #watch: WorkerWatch;
  readonly #deadListeners = new Set<(error: EvsError) => void>();
  #dispatching: Promise<void> = Promise.resolve();
  #dead: EvsError | null = null;
  #stopping: Promise<void> | null = null;

  private constructor(nodeId: number, threads: RuntimeThreads, watch: WorkerWatch, address: { address: string; port: number }, hooks: RuntimeHooks) {
    this.#nodeId = nodeId;
    this.#threads = threads;
    this.#watch = watch;
    this.address = address;
    this.#hooks = hooks;
    this.#submit = new SubmitQueue(threads.submit);
    this.#dispatcher = new DeliverDispatcher(threads.deliver, threads.status, hooks);
  }

  /**
   * Reads the cluster key, checks the ring-seq file, starts the threads and
   * binds the sockets; resolves once the node is in its first ring.
   */
  static async start(options: ResolvedOptions, hooks: RuntimeHooks, startOptions: { readonly log: boolean; readonly signal?: AbortSignal | undefined }): Promise<NodeRuntime> {
    const { log, signal } = startOptions;
    if (signal?.aborted === true) throw startAborted(signal);
    const key = options.crypto === 'none' ? null : options.key ?? readKeyFile(options.keyFile as string);
    if (options.crypto === 'none') {
      process.emitWarning(`totem-evs node ${options.nodeId}: crypto 'none': datagrams are neither encrypted nor authenticated`, { code: 'EVS_CRYPTO_NONE' });
    }
    loadRingSeq(options.stateDir, options.nodeId); // a torn or foreign ring-seq file fails here, on the caller's stack
    const threads = startThreads(options, key, log, (message) => hooks.observe(message));
    const watch = watchWorkers(threads);
    // an abort rejects the start at once; the threads are terminated below, whatever step they were at
    let onAbort = (): void => undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(startAborted(signal as AbortSignal));
    });
    aborted.catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    let runtime: NodeRuntime | null = null;
    try {
      const address = unwrap(await Promise.race([threads.network.start(), watch.promise, aborted]));
      runtime = new NodeRuntime(options.nodeId, threads, watch, address, hooks);
      const r = runtime;
      watch.onDeath = (error) => r.#die(error);
      runtime.#dispatching = runtime.#dispatch();
      await Promise.race([runtime.#call(() => threads.protocol.start()), aborted]);
      return runtime;
    } catch (error) {
      if (runtime !== null) {
        runtime.#dead ??= error instanceof EvsError ? error : new EvsError('ERR_EVS_INTERNAL', String(error));
        runtime.#dispatcher.stop();
        await runtime.#dispatching;
        watch.onDeath = null;
      }
      await threads.terminate();
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** why the runtime is dead (a failure, or the stop), or null while it runs. */
  get dead(): EvsError | null {
    return this.#dead;
  }

  openHandle(id: number): Promise<void> {
    return this.#call(() => this.#threads.protocol.openHandle(id));
  }

  closeHandle(id: number): Promise<void> {
    return this.#call(() => this.#threads.protocol.closeHandle(id));
  }

  join(id: number, groups: Uint8Array[]): Promise<void> {
    return this.#call(() => this.#threads.protocol.join(id, groups));
  }

  leave(id: number, groups: Uint8Array[]): Promise<void> {
    return this.#call(() => this.#threads.protocol.leave(id, groups));
  }

  membership(): Promise<Membership> {
    return this.#call(() => this.#threads.protocol.membership());
  }

  async stats(): Promise<RuntimeStats> {
    const [protocol, network] = await Promise.all([
      this.#call(() => this.#threads.protocol.stats()),
      this.#call(() => this.#threads.network.stats()),
    ]);
    return { protocol, network, submitWaiting: this.#submit.waiting };
  }

  /** one message (submit-record head, payload) into the node's queue; waits in line while it is full. */
  submit(head: Uint8Array, payload: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.#submit.submit(head, payload, signal);
  }

  /** stops reading the deliver ring until released (see DeliverDispatcher: one hold stops every handle of the node). */
  hold(): Release {
    return this.#dispatcher.hold();
  }

  /** `submit` that never waits. */
  trySubmit(head: Uint8Array, payload: Uint8Array): 'ok' | 'try-again' {
    return this.#submit.trySubmit(head, payload);
  }

  /** graceful stop: LEAVE out, then every thread, socket, timer and file released. Queued messages are not sent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#submit.close(new EvsError('ERR_EVS_STOPPED', 'the node is stopping'));
    if (this.#dead === null) {
      await this.#call(() => this.#threads.protocol.stop()).catch(() => undefined);
      await this.#call(() => this.#threads.network.stop()).catch(() => undefined);
    }
    this.#dead ??= new EvsError('ERR_EVS_STOPPED', 'the node is stopped');
    this.#dispatcher.stop();
    await this.#dispatching;
    this.#watch.onDeath = null; // the exits that follow are ours
    await this.#threads.terminate();
  }

  async #dispatch(): Promise<void> {
    if ((await this.#dispatcher.run()) === 'overflow') {
      this.#die(new EvsError('ERR_EVS_DELIVERY_OVERFLOW',
        `node ${this.#nodeId} left the ring: the main thread took deliveries too slowly and the backlog passed rings.deliverBacklogBytes`));
    }
  }

  /** one control call; fails at once if a worker died. */
  #call<T>(call: () => Promise<Outcome<T>>): Promise<T> {
    if (this.#dead !== null) return Promise.reject(this.#dead);
    return new Promise<T>((resolve, reject) => {
      const onDeath = (error: EvsError): void => reject(error);
      this.#deadListeners.add(onDeath);
      call().then((result) => resolve(unwrap(result)), (error: unknown) => reject(error as Error))
        .finally(() => this.#deadListeners.delete(onDeath));
    });
  }

  #die(error: EvsError): void {
    if (this.#dead !== null) return;
    this.#dead = error;
    this.#submit.close(error);
    for (const l of this.#deadListeners) l(error);
    this.#dispatcher.stop();
    this.#hooks.died(error);
  }
}

function startAborted(signal: AbortSignal): EvsError {
  return new EvsError('ERR_EVS_ABORTED', 'EvsNode.start was aborted before the node was in its first ring', { cause: signal.reason });
}

/** rejects/calls back when a worker exits or throws before the node stopped it. */
interface WorkerWatch {
  promise: Promise<never>;
  onDeath: ((error: EvsError) => void) | null;
}

function watchWorkers(threads: RuntimeThreads): WorkerWatch {
  const watch: WorkerWatch = { promise: Promise.resolve() as unknown as Promise<never>, onDeath: null };
  watch.promise = new Promise<never>((_resolve, reject) => {
    const fail = (error: EvsError): void => {
      reject(error);
      watch.onDeath?.(error);
    };
    for (const w of threads.workers) {
      w.on('error', (e) => fail(new EvsError('ERR_EVS_WORKER_FAILED', `a runtime worker failed: ${e.message}`, { cause: e })));
      w.on('exit', (code) => fail(new EvsError('ERR_EVS_WORKER_FAILED', `a runtime worker exited (code ${code})`)));
    }
  });
  watch.promise.catch(() => undefined);
  return watch;
}
