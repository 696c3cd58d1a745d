/**
 * N EVS nodes as child processes on 127.0.0.1..N (udpu), each driven over IPC
 * (node-process.ts). Used by the multi-process tests, `evs cluster` and the
 * benchmarks. `kill(i)` is a real SIGKILL; `restart(i)` starts the same node
 * id again with the same stateDir.
 *
 * `addressOf` and `wrap` place nodes elsewhere, e.g. one per network
 * namespace: `wrap: (id) => ({ command: 'ip', args: ['netns', 'exec', ns(id)] })`
 * starts `ip netns exec <ns> node ... node-process` instead of forking. The
 * IPC channel survives the wrapper as long as it execs node with its file
 * descriptors and environment (NODE_CHANNEL_FD) intact, as `ip netns exec` does.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { EvsError } from '../errors.ts';
import type { EvsConfchg } from '../handle.ts';
import type { EvsNodeStartOptions } from '../node.ts';
import { resolveWorkerEntry } from '../runtime/workers/spawn.ts';
import { epochEnv, epochMs } from './epoch-clock.ts';
import type { Notice, Reply, Report, Request, StartReply, StatsReply } from './process-protocol.ts';

export interface ProcessClusterOptions {
  readonly count: number;
  readonly port: number;
  /** options every node gets on top of the defaults (totem timings, threads, crypto...). */
  readonly nodeOptions?: Partial<EvsNodeStartOptions>;
  /**
   * options for one node on top of `nodeOptions` (shallow: a key given here,
   * e.g. `rings` or `totem`, replaces the cluster-wide value).
   */
  readonly perNode?: Readonly<Record<number, Partial<EvsNodeStartOptions>>>;
  /** node ids listed as members; default 1..count. */
  readonly memberIds?: readonly number[];
  /** a node's bindAddr and its address in the member list; default 127.0.0.<nodeId>. */
  readonly addressOf?: (nodeId: number) => string;
  /**
   * start a node's process through a wrapper command (e.g. `ip netns exec <ns>`):
   * `command ...args <node> <execArgv> node-process`. The wrapper must exec
   * node keeping fd NODE_CHANNEL_FD and the environment. Default: fork.
   */
  readonly wrap?: (nodeId: number) => { readonly command: string; readonly args: readonly string[] };
}

export interface ErrorRecord {
  readonly nodeId: number;
  readonly error: { readonly code: string; readonly message: string };
}

export interface ConfchgRecord {
  readonly nodeId: number;
  readonly atMs: number;
  readonly change: EvsConfchg;
}

interface Child {
  readonly process: ChildProcess;
  readonly pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  readonly exited: Promise<number | null>;
}

const entry = resolveWorkerEntry(new URL('./node-process.ts', import.meta.url));

export class ProcessCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'evs-cluster-'));
  readonly key = randomBytes(32);
  readonly confchgs: ConfchgRecord[] = [];
  /** the nodes' 'error' events (e.g. ERR_EVS_DELIVERY_OVERFLOW), in arrival order. */
  readonly errors: ErrorRecord[] = [];
  readonly #children = new Map<number, Child>();
  #nextId = 1;
  readonly #confchgListeners = new Set<(r: ConfchgRecord) => void>();
  readonly #errorListeners = new Set<(r: ErrorRecord) => void>();

  constructor(readonly options: ProcessClusterOptions) {}

  get memberIds(): readonly number[] {
    return this.options.memberIds ?? Array.from({ length: this.options.count }, (_, i) => i + 1);
  }

  addressOf(nodeId: number): string {
    return this.options.addressOf?.(nodeId) ?? `127.0.0.${nodeId}`;
  }

  optionsFor(nodeId: number): EvsNodeStartOptions {
    const port = this.options.port;
    return {
      nodeId,
      bindAddr: this.addressOf(nodeId),
      port,
      members: this.memberIds.map((id) => ({ nodeId: id, addr: this.addressOf(id), port })),
      key: this.key,
      stateDir: join(this.dir, `node${nodeId}`),
      ...this.options.nodeOptions,
      ...this.options.perNode?.[nodeId],
    };
  }

  /** starts nodes 1..count (all at once) and resolves when each is in a ring. */
  async start(): Promise<StartReply[]> {
    return Promise.all(Array.from({ length: this.options.count }, (_, i) => this.startNode(i + 1)));
  }

  async startNode(nodeId: number): Promise<StartReply> {
    if (this.#children.has(nodeId)) throw new EvsError('ERR_EVS_INVALID_ARGUMENT', `node ${nodeId} is running`);
    const child = this.#spawnChild(nodeId);
    const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
    const exited = new Promise<number | null>((resolve) => {
      const gone = (code: number | null, why: string): void => {
        for (const p of pending.values()) p.reject(new EvsError('ERR_EVS_CHILD_EXITED', `node ${nodeId} ${why}`));
        pending.clear();
        this.#children.delete(nodeId);
        resolve(code);
      };
      child.once('exit', (code) => gone(code, `exited (code ${code})`));
      // A wrapper command that cannot be started emits 'error' and never 'exit'; later errors (a send on a
      // closed channel) must not go unhandled either: the 'exit' that follows rejects what is pending.
      child.on('error', (error) => {
        if (child.pid === undefined) gone(null, `could not be started: ${error.message}`);
      });
    });
    child.on('message', (m: Reply | Notice) => {
      if ('ev' in m) {
        if (m.ev === 'confchg') {
          const record = { nodeId, atMs: m.atMs, change: m.change };
          this.confchgs.push(record);
          for (const l of this.#confchgListeners) l(record);
        } else {
          const record = { nodeId, error: m.error };
          this.errors.push(record);
          for (const l of this.#errorListeners) l(record);
        }
        return;
      }
      const p = pending.get(m.id);
      if (p === undefined) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(EvsError.fromWire(m.error));
    });
    this.#children.set(nodeId, { process: child, pending, exited });
    return this.request(nodeId, { cmd: 'start', options: this.optionsFor(nodeId) }) as Promise<StartReply>;
  }

  #spawnChild(nodeId: number): ChildProcess {
    const file = fileURLToPath(entry.file);
    const execArgv = [...(entry.typescript ? ['--import', 'tsx'] : []), ...process.execArgv.filter((flag) => flag.startsWith('--cpu-prof'))];
    const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
    // the children stamp confchgs with this process's clock offset, so a wall-clock step between starts splits nothing
    const env = { ...process.env, ...epochEnv() };
    const wrapper = this.options.wrap?.(nodeId);
    if (wrapper === undefined) return fork(file, [], { execArgv, serialization: 'advanced', stdio, env });
    // spawn sets NODE_CHANNEL_FD and NODE_CHANNEL_SERIALIZATION_MODE for the child, as fork does.
    return spawn(wrapper.command, [...wrapper.args, process.execPath, ...execArgv, file], { serialization: 'advanced', stdio, env });
  }

  /**
   * Resolves once every node in `nodeIds` has installed a regular
   * configuration whose members are exactly `nodeIds` (nodes started together
   * may first form partial rings and merge a moment later).
   */
  async waitRing(nodeIds: readonly number[], timeoutMs: number): Promise<void> {
    const want = [...nodeIds].sort((a, b) => a - b).join(',');
    const latest = (id: number): EvsConfchg | undefined => this.confchgs.filter((r) => r.nodeId === id && r.change.type === 'regular').at(-1)?.change;
    const formed = (): boolean => nodeIds.every((id) => latest(id)?.members.join(',') === want);
    if (formed()) return;
    await this.waitConfchg(() => formed(), timeoutMs);
  }

  running(): number[] {
    return [...this.#children.keys()].sort((a, b) => a - b);
  }

  request(nodeId: number, req: Request): Promise<unknown> {
    const child = this.#children.get(nodeId);
    if (child === undefined) return Promise.reject(new EvsError('ERR_EVS_INVALID_ARGUMENT', `node ${nodeId} is not running`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      child.pending.set(id, { resolve, reject });
      child.process.send({ id, ...req });
    });
  }

  join(nodeId: number, groups: string[]): Promise<unknown> {
    return this.request(nodeId, { cmd: 'join', groups });
  }

  report(nodeId: number): Promise<Report> {
    return this.request(nodeId, { cmd: 'report' }) as Promise<Report>;
  }

  stats(nodeId: number): Promise<StatsReply> {
    return this.request(nodeId, { cmd: 'stats' }) as Promise<StatsReply>;
  }

  /** resolves with the first configuration change matching `match` (already seen ones count). */
  waitConfchg(match: (r: ConfchgRecord) => boolean, timeoutMs: number): Promise<ConfchgRecord> {
    return waitRecord(this.confchgs, this.#confchgListeners, match, timeoutMs, 'configuration change');
  }

  /** resolves with the first error notice matching `match` (already seen ones count). */
  waitError(match: (r: ErrorRecord) => boolean, timeoutMs: number): Promise<ErrorRecord> {
    return waitRecord(this.errors, this.#errorListeners, match, timeoutMs, 'error notice');
  }

  /** SIGKILL: no LEAVE, no cleanup; resolves once the process is gone. Answers the kill time (epoch ms). */
  async kill(nodeId: number): Promise<number> {
    const child = this.#children.get(nodeId);
    if (child === undefined) throw new EvsError('ERR_EVS_INVALID_ARGUMENT', `node ${nodeId} is not running`);
    const atMs = epochMs();
    child.process.kill('SIGKILL');
    await child.exited;
    return atMs;
  }

  /** the OS process id of a running node (its wrapper's when started through one), or null. */
  pidOf(nodeId: number): number | null {
    return this.#children.get(nodeId)?.process.pid ?? null;
  }

  /** SIGSTOP / SIGCONT: the node's process stops being scheduled, or resumes. Answers the time it was sent (epoch ms). */
  signal(nodeId: number, signal: 'SIGSTOP' | 'SIGCONT'): number {
    const child = this.#children.get(nodeId);
    if (child === undefined) throw new EvsError('ERR_EVS_INVALID_ARGUMENT', `node ${nodeId} is not running`);
    const atMs = epochMs();
    child.process.kill(signal);
    return atMs;
  }

  /** graceful stop of one node (LEAVE). */
  async stopNode(nodeId: number): Promise<void> {
    const child = this.#children.get(nodeId);
    if (child === undefined) return;
    await this.request(nodeId, { cmd: 'stop' }).catch(() => undefined);
    const killer = setTimeout(() => child.process.kill('SIGKILL'), 5000);
    await child.exited;
    clearTimeout(killer);
  }

  /** stops every node and removes the temporary directory. */
  async stop(): Promise<void> {
    await Promise.all(this.running().map((id) => this.stopNode(id)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** the first record of `seen`, or of those announced to `listeners` later, that matches; rejects after timeoutMs. */
function waitRecord<R>(seen: readonly R[], listeners: Set<(r: R) => void>, match: (r: R) => boolean, timeoutMs: number, what: string): Promise<R> {
  const found = seen.find(match);
  if (found !== undefined) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      listeners.delete(listener);
      reject(new EvsError('ERR_EVS_TIMEOUT', `no matching ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (r: R): void => {
      if (!match(r)) return;
      clearTimeout(timer);
      listeners.delete(listener);
      resolve(r);
    };
    listeners.add(listener);
  });
}
