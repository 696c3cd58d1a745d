/**
 * EvsNode: one Totem processor in this process. `EvsNode.start` validates the
 * options once, starts the runtime (worker threads of the chosen layout,
 * sockets) and resolves once the node is in its first ring. The main thread
 * only validates, queues and emits: nothing of the protocol runs here, so a
 * busy main thread does not stop the token.
 */
import { EventEmitter } from 'node:events';
import type { Registry } from 'prom-client';
import { EvsError } from './errors.ts';
import { handlesPerNodeMax } from './limits.ts';
import { checkLogger, resolveOptions, type EvsLogger, type EvsNodeOptions, type ResolvedOptions } from './options.ts';
import { probeHost } from './runtime/network/interface-mtu.ts';
import { EvsHandle, type HandleHost } from './handle.ts';
import { NodeRuntime, type ObserveMessage, type RuntimeHooks, type RuntimeStats } from './runtime/node-runtime.ts';
import { publishObserved } from './runtime/observe/diagnostics.ts';
import { logLine, stderrLogger } from './runtime/observe/log.ts';
import { MembershipWatch, type WaitForMembersOptions } from './runtime/observe/membership-watch.ts';
import { createMetricsRegistry } from './runtime/observe/metrics.ts';
import type { EvsEvent, Membership } from './types.ts';

export type { WaitForMembersOptions } from './runtime/observe/membership-watch.ts';
export type { EvsLogger } from './options.ts';

export interface EvsNodeStartOptions extends EvsNodeOptions {
  /**
   * where the node's log lines go (pino fits; see EvsLogger). The workers
   * never write to stderr themselves.
   */
  readonly logger?: EvsLogger;
  /** shorthand for a logger that prints every line to stderr (`[evs <nodeId>] ...`); ignored when `logger` is given. */
  readonly debug?: boolean;
  /** gives up starting (ERR_EVS_ABORTED): threads and sockets are released. */
  readonly signal?: AbortSignal;
}

export interface EvsNodeStats extends RuntimeStats {
  readonly handles: number;
}

interface NodeEvents {
  error: [EvsError];
}

export class EvsNode extends EventEmitter<NodeEvents> {
  readonly nodeId: number;
  /**
   * The options as resolved (defaults filled in, Totem timings derived), the
   * cluster key left out: `key` is null whatever was given, so logging or
   * serialising a node never prints the secret.
   */
  readonly options: Readonly<Omit<ResolvedOptions, 'key'> & { readonly key: null }>;
  /** where the unicast socket is bound. */
  readonly address: { readonly address: string; readonly port: number };
  readonly #runtime: NodeRuntime;
  readonly #handles = new Map<number, EvsHandle>();
  readonly #host: HandleHost;
  readonly #members: MembershipWatch;
  #nextHandleId = 1;
  #stopping: Promise<void> | null = null;
  #registry: Promise<Registry> | null = null;

  private constructor(options: ResolvedOptions, runtime: NodeRuntime, members: MembershipWatch) {
    super();
    this.nodeId = options.nodeId;
    this.options = Object.freeze({ ...options, key: null });
    this.address = runtime.address;
    this.#runtime = runtime;
    this.#members = members;
    this.#host = this.#hostForHandles();
  }

  /** Validates `options`, starts the threads and resolves once the node is in its first ring. */
  static async start(options: EvsNodeStartOptions): Promise<EvsNode> {
    if (typeof options !== 'object' || options === null) {
      throw new EvsError('ERR_EVS_INVALID_OPTION',
        `EvsNode.start needs an options object with at least nodeId, bindAddr, stateDir and a key (got ${options === null ? 'null' : typeof options})`);
    }
    const { debug = false, logger: givenLogger, signal, ...rest } = options;
    const logger = checkLogger(givenLogger) ?? (debug === true ? stderrLogger() : undefined);
    const resolved = resolveOptions(rest, probeHost(rest));
    const nodeId = resolved.nodeId;
    const members = new MembershipWatch(nodeId);
    let node: EvsNode | null = null;
    const hooks: RuntimeHooks = {
      dispatch: (handles, event) => {
        if (node !== null) node.#dispatch(handles, event);
      },
      refused: (handles, error) => {
        if (node !== null) for (const id of handles) node.#handles.get(id)?.refused(error);
      },
      died: (error) => {
        if (node !== null) node.#die(error);
      },
      observe: (message) => observed(nodeId, logger, members, message),
    };
    const runtime = await NodeRuntime.start(resolved, hooks, { log: logger !== undefined, signal });
    node = new EvsNode(resolved, runtime, members);
    if (runtime.dead !== null) node.#die(runtime.dead);
    else {
      // the first configuration, whichever of this answer and the worker's report comes first (ring seqs order them)
      const m = await runtime.membership().catch(() => null);
      if (m !== null && m.members.length > 0) members.update(m.ringId, m.members);
    }
    return node;
  }

  /** a new EVS handle; its first event is the current configuration. */
  open(): EvsHandle {
    this.#checkRunning();
    if (this.#handles.size >= handlesPerNodeMax) {
      throw new EvsError('ERR_EVS_TOO_MANY_HANDLES', `node ${this.nodeId} has ${this.#handles.size} handles open; at most ${handlesPerNodeMax} (close one first)`);
    }
    const handle = new EvsHandle(this.#host, this.#nextHandleId++);
    this.#handles.set(handle.id, handle);
    return handle;
  }

  /** the current regular configuration. */
  membership(): Promise<Membership> {
    return this.#runtime.membership();
  }

  /**
   * Resolves with the regular configuration once it contains every id in
   * `ids` (this node's own id need not be listed). Driven by the
   * configuration changes the protocol worker reports, no polling. Rejects
   * with ERR_EVS_TIMEOUT after `timeoutMs`, ERR_EVS_ABORTED on `signal`, and
   * ERR_EVS_STOPPED (or the node's error) when the node stops first.
   */
  waitForMembers(ids: readonly number[], options: WaitForMembersOptions = {}): Promise<Membership> {
    return this.#members.wait(ids, options);
  }

  async stats(): Promise<EvsNodeStats> {
    return { ...(await this.#runtime.stats()), handles: this.#handles.size };
  }

  /**
   * The node's metrics as a prom-client Registry (labelled `node_id`), to
   * merge into an application's registry (`Registry.merge`) or serve.
   * prom-client is loaded on the first call.
   */
  metricsRegistry(): Promise<Registry> {
    this.#registry ??= createMetricsRegistry({
      nodeId: this.nodeId,
      stats: () => this.stats(),
      members: () => this.#members.current?.members.length ?? 0,
    });
    return this.#registry;
  }

  /** the node's metrics in Prometheus' text format. */
  async metrics(): Promise<string> {
    return (await this.metricsRegistry()).metrics();
  }

  /**
   * Graceful stop: a LEAVE goes out (the others re-form without waiting for a
   * token timeout), then every thread, socket, timer and file is released.
   * Messages still queued are not sent.
   */
  stop(): Promise<void> {
    if (this.#stopping === null) {
      this.#stopping = this.#runtime.stop(); // refuses new messages at once, before the handles close
      const stopped = new EvsError('ERR_EVS_STOPPED', `node ${this.nodeId} is stopped`);
      this.#closeHandles(stopped, null);
      this.#members.close(stopped);
    }
    return this.#stopping;
  }

  /** `await using node = await EvsNode.start(...)` stops it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #closeHandles(reason: EvsError, failure: EvsError | null): void {
    for (const h of this.#handles.values()) h.markClosed(reason, failure);
    this.#handles.clear();
  }

  #die(error: EvsError): void {
    this.#closeHandles(error, error);
    this.#members.close(error);
    this.#report(error);
  }

  /** an error nobody else takes: the node's `error` event, or a process warning if nobody listens. */
  #report(error: EvsError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error.message, { code: error.code });
  }

  #dispatch(handles: readonly number[], event: EvsEvent): void {
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
    if (this.#stopping !== null) throw new EvsError('ERR_EVS_STOPPED', `node ${this.nodeId} is stopped`);
    if (this.#runtime.dead !== null) throw this.#runtime.dead;
  }

  #hostForHandles(): HandleHost {
    const runtime = this.#runtime;
    return {
      messageBytesMax: this.options.messageBytesMax,
      openHandle: (id) => runtime.openHandle(id),
      closeHandle: async (handle) => {
        handle.markClosed(new EvsError('ERR_EVS_BAD_HANDLE', `handle ${handle.id} is closed`));
        this.#handles.delete(handle.id);
        if (this.#stopping === null && runtime.dead === null) await runtime.closeHandle(handle.id);
      },
      join: (id, groups) => runtime.join(id, groups),
      leave: (id, groups) => runtime.leave(id, groups),
      membership: () => runtime.membership(),
      submit: (head, payload, signal) => runtime.submit(head, payload, signal),
      trySubmit: (head, payload) => {
        this.#checkRunning();
        return runtime.trySubmit(head, payload);
      },
      hold: () => runtime.hold(),
      unhandled: (error) => this.#report(error),
    };
  }
}

/** one report of a worker: a log line to the logger, the rest to the diagnostics channels and the membership watch. */
function observed(nodeId: number, logger: EvsLogger | undefined, members: MembershipWatch, message: ObserveMessage): void {
  if (message.t === 'log') {
    if (logger !== undefined) logLine(logger, message.level, { nodeId, thread: message.thread }, message.message);
    return;
  }
  if (message.t === 'confchg' && message.type === 'regular') members.update(message.ringId, message.members);
  publishObserved(nodeId, message);
}
