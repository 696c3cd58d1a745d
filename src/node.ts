/**
 * EvsNode: one Totem processor in this process. `EvsNode.start` validates the
 * options once, reads the cluster key, starts the worker threads of the chosen
 * layout, binds the sockets and resolves once the node is in its first ring.
 * The main thread only validates, queues and dispatches: nothing of the
 * protocol runs here, so a busy main thread does not stop the token.
 */
import { EventEmitter } from 'node:events';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { EvsError } from './errors.ts';
import { resolveOptions, type EvsNodeOptions, type ResolvedOptions } from './options.ts';
import { probeHost } from './runtime/network/interface-mtu.ts';
import { EvsHandle, type EvsConfchg, type EvsDelivery, type HandleHost } from './handle.ts';
import { unwrap, type Outcome } from './runtime/control.ts';
import { readKeyFile } from './runtime/crypto/keyfile.ts';
import type { NetworkDriverStats } from './runtime/network/network-driver.ts';
import { driverStatusDeliverOverflow, type Membership, type ProtocolDriverStats } from './runtime/protocol/protocol-driver.ts';
import { decodeDeliverRecord, MessageRecordReader, type DecodedConfchg } from './runtime/records/deliver-record.ts';
import { PayloadSlab } from './runtime/records/payload-slab.ts';
import { loadRingSeq } from './runtime/state/ring-seq-file.ts';
import { SubmitQueue } from './runtime/submit-queue.ts';
import { startThreads, type RuntimeThreads } from './runtime/threads.ts';

export interface EvsNodeStartOptions extends EvsNodeOptions {
  /** print the protocol core's log lines to stderr. */
  readonly debug?: boolean;
}

export interface EvsNodeStats {
  readonly protocol: ProtocolDriverStats;
  readonly network: NetworkDriverStats;
  /** messages waiting on the main thread for room in the submit ring. */
  readonly submitWaiting: number;
  readonly handles: number;
}

interface NodeEvents {
  error: [EvsError];
}

/** records dispatched per event-loop turn before yielding, so a flood of deliveries does not starve other work. */
const dispatchBatchRecords = 1024;

export class EvsNode extends EventEmitter<NodeEvents> {
  readonly nodeId: number;
  readonly options: ResolvedOptions;
  /** where the unicast socket is bound. */
  readonly address: { readonly address: string; readonly port: number };
  readonly #threads: RuntimeThreads;
  readonly #submit: SubmitQueue;
  readonly #handles = new Map<number, EvsHandle>();
  readonly #host: HandleHost;
  #nextHandleId = 1;
  #dispatching: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | null = null;
  #dead: EvsError | null = null;
  readonly #deadListeners = new Set<(error: EvsError) => void>();
  #watch: WorkerWatch | null = null;
  readonly #messageReader = new MessageRecordReader();
  readonly #payloads = new PayloadSlab();

  private constructor(options: ResolvedOptions, threads: RuntimeThreads, address: { address: string; port: number }) {
    super();
    this.nodeId = options.nodeId;
    this.options = options;
    this.address = address;
    this.#threads = threads;
    this.#submit = new SubmitQueue(threads.submit);
    this.#host = this.#hostForHandles();
  }

  /** Validates `options`, starts the threads and resolves once the node is in its first ring. */
  static async start(options: EvsNodeStartOptions): Promise<EvsNode> {
    const { debug = false, ...rest } = options;
    const resolved = resolveOptions(rest, probeHost(rest));
    const key = resolved.crypto === 'none' ? null : resolved.key ?? readKeyFile(resolved.keyFile as string);
    if (resolved.crypto === 'none') {
      process.emitWarning(`totem-evs node ${resolved.nodeId}: crypto 'none': datagrams are neither encrypted nor authenticated`, { code: 'EVS_CRYPTO_NONE' });
    }
    loadRingSeq(resolved.stateDir, resolved.nodeId); // a torn or foreign ring-seq file fails here, on the caller's stack
    const threads = startThreads(resolved, key, debug);
    const exited = watchWorkers(threads);
    try {
      const address = unwrap(await Promise.race([threads.network.start(), exited.promise]));
      const node = new EvsNode(resolved, threads, address);
      exited.onDeath = (error) => node.#die(error);
      node.#watch = exited;
      node.#dispatching = node.#dispatchLoop();
      await node.#call(() => threads.protocol.start());
      return node;
    } catch (error) {
      await threads.terminate();
      throw error;
    }
  }

  /** a new EVS handle; its first event is the current configuration. */
  open(): EvsHandle {
    this.#checkRunning();
    const handle = new EvsHandle(this.#host, this.#nextHandleId++);
    this.#handles.set(handle.id, handle);
    return handle;
  }

  /** the current regular configuration. */
  membership(): Promise<Membership> {
    return this.#call(() => this.#threads.protocol.membership());
  }

  async stats(): Promise<EvsNodeStats> {
    const [protocol, network] = await Promise.all([
      this.#call(() => this.#threads.protocol.stats()),
      this.#call(() => this.#threads.network.stats()),
    ]);
    return { protocol, network, submitWaiting: this.#submit.waiting, handles: this.#handles.size };
  }

  /**
   * Graceful stop: a LEAVE goes out (the others re-form without waiting for a
   * token timeout), then every thread, socket, timer and file is released.
   * Messages still queued are not sent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#submit.close(new EvsError('ERR_EVS_STOPPED', 'the node is stopping'));
    for (const h of this.#handles.values()) h.markClosed();
    this.#handles.clear();
    if (this.#dead === null) {
      await this.#call(() => this.#threads.protocol.stop()).catch(() => undefined);
      await this.#call(() => this.#threads.network.stop()).catch(() => undefined);
    }
    this.#dead ??= new EvsError('ERR_EVS_STOPPED', 'the node is stopped');
    this.#threads.deliver.interruptWait();
    await this.#dispatching;
    if (this.#watch !== null) this.#watch.onDeath = null; // the exits that follow are ours
    await this.#threads.terminate();
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
    this.#threads.deliver.interruptWait();
    for (const h of this.#handles.values()) h.markClosed();
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error.message, { code: error.code });
  }

  async #dispatchLoop(): Promise<void> {
    const deliver = this.#threads.deliver;
    const onRecord = (record: Uint8Array): void => this.#dispatch(record);
    while (this.#dead === null) {
      const count = deliver.drain(onRecord, dispatchBatchRecords);
      if (Atomics.load(this.#threads.status, 0) === driverStatusDeliverOverflow && !deliver.hasData()) {
        this.#die(new EvsError('ERR_EVS_DELIVERY_OVERFLOW',
          `node ${this.nodeId} left the ring: the main thread took deliveries too slowly and the backlog passed rings.deliverBacklogBytes`));
        break;
      }
      if (count === dispatchBatchRecords) await yieldToLoop();
      else await deliver.waitAsync(Number.POSITIVE_INFINITY);
    }
  }

  #dispatch(record: Uint8Array): void {
    const m = this.#messageReader;
    let event: EvsDelivery | EvsConfchg;
    let handles: readonly number[];
    if (m.read(record)) {
      event = {
        kind: 'deliver',
        sender: m.sender,
        groups: m.groups,
        guarantee: m.guarantee === 1 ? 'safe' : 'agreed',
        payload: this.#payloads.copy(m.payload), // the record is a view into the ring reader's scratch
      };
      handles = m.handles;
    } else {
      const r = decodeDeliverRecord(record) as DecodedConfchg;
      event = { kind: 'confchg', type: r.type, ringId: r.ringId, members: r.members, left: r.left, joined: r.joined };
      handles = r.handles;
    }
    for (const id of handles) {
      const handle = this.#handles.get(id);
      if (handle === undefined) continue;
      try {
        handle.dispatch(event);
      } catch (error) {
        // A listener threw: surface it as Node does for I/O callbacks, without losing the rest of the batch.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  #checkRunning(): void {
    if (this.#stopping !== null) throw new EvsError('ERR_EVS_STOPPED', 'the node is stopped');
    if (this.#dead !== null) throw this.#dead;
  }

  #hostForHandles(): HandleHost {
    const protocol = this.#threads.protocol;
    return {
      messageBytesMax: this.options.messageBytesMax,
      openHandle: (id) => this.#call(() => protocol.openHandle(id)),
      closeHandle: async (handle) => {
        handle.markClosed();
        this.#handles.delete(handle.id);
        if (this.#stopping === null && this.#dead === null) await this.#call(() => protocol.closeHandle(handle.id));
      },
      join: (id, groups) => this.#call(() => protocol.join(id, groups)),
      leave: (id, groups) => this.#call(() => protocol.leave(id, groups)),
      membership: () => this.membership(),
      submit: (head, payload, signal) => this.#submit.submit(head, payload, signal),
      trySubmit: (head, payload) => {
        this.#checkRunning();
        return this.#submit.trySubmit(head, payload);
      },
    };
  }
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
