/**
 * EvsNode: one Totem processor in this process. `EvsNode.start` validates the
 * options once, starts the runtime (worker threads of the chosen layout,
 * sockets) and resolves once the node is in its first ring. The main thread
 * only validates, queues and emits: nothing of the protocol runs here, so a
 * busy main thread does not stop the token.
 */
import { EventEmitter } from 'node:events';
import { EvsError } from './errors.ts';
import { resolveOptions, type EvsNodeOptions, type ResolvedOptions } from './options.ts';
import { probeHost } from './runtime/network/interface-mtu.ts';
import { EvsHandle, type HandleHost } from './handle.ts';
import { NodeRuntime, type RuntimeHooks, type RuntimeStats } from './runtime/node-runtime.ts';
import type { EvsEvent, Membership } from './types.ts';

export interface EvsNodeStartOptions extends EvsNodeOptions {
  /** print the protocol core's log lines to stderr. */
  readonly debug?: boolean;
}

export interface EvsNodeStats extends RuntimeStats {
  readonly handles: number;
}

interface NodeEvents {
  error: [EvsError];
}

export class EvsNode extends EventEmitter<NodeEvents> {
  readonly nodeId: number;
  readonly options: ResolvedOptions;
  /** where the unicast socket is bound. */
  readonly address: { readonly address: string; readonly port: number };
  readonly #runtime: NodeRuntime;
  readonly #handles = new Map<number, EvsHandle>();
  readonly #host: HandleHost;
  #nextHandleId = 1;
  #stopping: Promise<void> | null = null;

  private constructor(options: ResolvedOptions, runtime: NodeRuntime) {
    super();
    this.nodeId = options.nodeId;
    this.options = options;
    this.address = runtime.address;
    this.#runtime = runtime;
    this.#host = this.#hostForHandles();
  }

  /** Validates `options`, starts the threads and resolves once the node is in its first ring. */
  static async start(options: EvsNodeStartOptions): Promise<EvsNode> {
    const { debug = false, ...rest } = options;
    const resolved = resolveOptions(rest, probeHost(rest));
    let node: EvsNode | null = null;
    const hooks: RuntimeHooks = {
      dispatch: (handles, event) => {
        if (node !== null) node.#dispatch(handles, event);
      },
      died: (error) => {
        if (node !== null) node.#die(error);
      },
    };
    const runtime = await NodeRuntime.start(resolved, debug, hooks);
    node = new EvsNode(resolved, runtime);
    if (runtime.dead !== null) node.#die(runtime.dead);
    return node;
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
    return this.#runtime.membership();
  }

  async stats(): Promise<EvsNodeStats> {
    return { ...(await this.#runtime.stats()), handles: this.#handles.size };
  }

  /**
   * Graceful stop: a LEAVE goes out (the others re-form without waiting for a
   * token timeout), then every thread, socket, timer and file is released.
   * Messages still queued are not sent.
   */
  stop(): Promise<void> {
    if (this.#stopping === null) {
      this.#stopping = this.#runtime.stop(); // refuses new messages at once, before the handles close
      this.#closeHandles();
    }
    return this.#stopping;
  }

  #closeHandles(): void {
    for (const h of this.#handles.values()) h.markClosed();
    this.#handles.clear();
  }

  #die(error: EvsError): void {
    this.#closeHandles();
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
    if (this.#stopping !== null) throw new EvsError('ERR_EVS_STOPPED', 'the node is stopped');
    if (this.#runtime.dead !== null) throw this.#runtime.dead;
  }

  #hostForHandles(): HandleHost {
    const runtime = this.#runtime;
    return {
      messageBytesMax: this.options.messageBytesMax,
      openHandle: (id) => runtime.openHandle(id),
      closeHandle: async (handle) => {
        handle.markClosed();
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
    };
  }
}
