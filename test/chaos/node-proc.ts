/**
 * One chaos node: the real `evs node --json --debug` CLI in its namespace
 * (`ip netns exec`, which execs node: the child's PID is the node's, so
 * signals reach it directly). Its stdout objects and the harness's own
 * records (start, send, crash, leave) go into the run's raw log; its debug
 * lines on stderr tell the harness the protocol states (e.g. "entering
 * RECOVERY"), which it uses to time faults, never as checker input (they come
 * through a worker's stderr, later and less ordered than stdout).
 *
 * The node runs with --exit-on-eof: should the harness die without cleaning
 * up, the pipes close and the nodes stop by themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { evsArgs } from '../../src/cli/commands/node-child.ts';
import { epochEnv, epochMs } from '../../src/cli/epoch-clock.ts';
import { payloadLine } from './payload.ts';
import { parseNodeLine, type GuaranteeName, type RawRecord } from './real-log.ts';

const blockHook = fileURLToPath(new URL('./block-main.mjs', import.meta.url));

/** the harness's clock: the one `evs node --json` stamps its lines with (epoch-clock.ts). */
export const nowMs = epochMs;

export interface NodeSpec {
  readonly id: number;
  readonly ns: string;
  readonly stateDir: string;
  /** flags after `evs node` (members, transport, key, totem...). */
  readonly args: readonly string[];
  readonly guarantee: GuaranteeName;
  /** when set, every stderr line of each incarnation is kept in `<stderrPrefix>.<incarnation>.log`, stamped with the harness clock. */
  readonly stderrPrefix?: string;
}

/** a protocol state line of --debug: "[evs 3] entering RECOVERY state (ring 1/8, trans 1 2)." */
export interface StateLine {
  readonly node: number;
  readonly at: number;
  readonly state: string;
  readonly text: string;
}

const stateLine = /^\[evs \d+\] entering (\w+) state/;

export class ChaosNode {
  incarnation = 0;
  /** the harness's counter for this node's payloads, over all incarnations. */
  counter = 0;
  #child: ChildProcess | null = null;
  #exited: Promise<string> = Promise.resolve('not started');
  #paused = false;
  /** the last stderr lines (debug and errors), for a failure report. */
  readonly tail: string[] = [];
  state = 'none';

  constructor(
    readonly spec: NodeSpec,
    private readonly log: RawRecord[],
    private readonly onState: (s: StateLine) => void,
  ) {}

  get id(): number {
    return this.spec.id;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** starts an incarnation; resolves once the node has joined its group (its status line on stderr). */
  start(timeoutMs: number): Promise<void> {
    if (this.#child !== null) throw new Error(`node ${this.id} is already running`);
    this.incarnation += 1;
    const incarnation = this.incarnation;
    const blockFile = `${this.spec.stateDir}.block-ms`;
    const child = spawn('ip', ['netns', 'exec', this.spec.ns, process.execPath, '--import', blockHook, ...evsArgs, 'node', '--json', '--debug',
      '--exit-on-eof', '--guarantee', this.spec.guarantee, ...this.spec.args], {
      stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...epochEnv(), CHAOS_BLOCK_FILE: blockFile },
    });
    this.#child = child;
    this.#paused = false;
    this.state = 'starting';
    this.log.push({ kind: 'start', node: this.id, incarnation, at: nowMs() });
    child.stdin?.on('error', () => undefined);
    const out = createInterface({ input: child.stdout as NodeJS.ReadableStream, crlfDelay: Infinity });
    out.on('line', (text) => {
      const line = parseNodeLine(text);
      if (line !== null) this.log.push({ kind: 'line', node: this.id, incarnation, at: line.atMs, line });
      else this.#keep(`stdout: ${text}`);
    });
    let joined: (() => void) | null = null;
    const ready = new Promise<void>((resolve) => {
      joined = resolve;
    });
    const err = createInterface({ input: child.stderr as NodeJS.ReadableStream, crlfDelay: Infinity });
    const file: WriteStream | null = this.spec.stderrPrefix === undefined ? null : createWriteStream(`${this.spec.stderrPrefix}.${incarnation}.log`);
    err.once('close', () => file?.end());
    err.on('line', (text) => {
      this.#keep(text);
      file?.write(`${nowMs().toFixed(1)} ${text}\n`);
      const s = stateLine.exec(text);
      if (s !== null) {
        this.state = (s[1] ?? '').toLowerCase();
        this.onState({ node: this.id, at: nowMs(), state: this.state, text });
      } else if (/^evs node \d+: bound .* joined /.test(text)) joined?.();
    });
    const closed = Promise.all([out, err].map((rl) => new Promise<void>((r) => rl.once('close', r))));
    this.#exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#child = null;
        this.state = 'down';
        void closed.then(() => resolve(signal !== null ? `signal ${signal}` : `code ${code}`));
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`node ${this.id} did not join its group within ${timeoutMs} ms; stderr: ${this.tail.slice(-5).join(' | ')}`)), timeoutMs);
    });
    const died = this.#exited.then((how) => {
      throw new Error(`node ${this.id} exited (${how}) before it joined; stderr: ${this.tail.slice(-5).join(' | ')}`);
    });
    return Promise.race([ready, timeout, died]).finally(() => clearTimeout(timer));
  }

  #keep(line: string): void {
    this.tail.push(line);
    if (this.tail.length > 200) this.tail.splice(0, this.tail.length - 200);
  }

  /** writes the next payload line to the node's stdin (one multicast); false when it is not running. */
  send(): boolean {
    const child = this.#child;
    if (child === null || child.stdin === null || child.stdin.destroyed) return false;
    this.counter += 1;
    const line = payloadLine(this.id, this.counter);
    this.log.push({ kind: 'send', node: this.id, incarnation: this.incarnation, at: nowMs(), counter: this.counter, size: Buffer.byteLength(line), guarantee: this.spec.guarantee });
    child.stdin.write(`${line}\n`);
    return true;
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, signal);
    } catch { /* it exited just now */ }
  }

  /** kill -9: the incarnation ends with a crash. */
  async kill(): Promise<string> {
    if (this.#child === null) return 'not running';
    this.#signal('SIGKILL');
    this.log.push({ kind: 'crash', node: this.id, incarnation: this.incarnation, at: nowMs() });
    this.#paused = false;
    return this.#exited;
  }

  /** a graceful stop (SIGTERM: the node sends a LEAVE); SIGKILL after graceMs. */
  async stop(graceMs: number): Promise<string> {
    if (this.#child === null) return 'not running';
    this.log.push({ kind: 'leave', node: this.id, incarnation: this.incarnation, at: nowMs() });
    if (this.#paused) this.resume();
    this.#signal('SIGTERM');
    const timer = setTimeout(() => {
      this.#signal('SIGKILL');
      this.log.push({ kind: 'crash', node: this.id, incarnation: this.incarnation, at: nowMs() });
    }, graceMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  pause(): void {
    this.#signal('SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    this.#signal('SIGCONT');
    this.#paused = false;
  }

  /** busy-waits the node's main thread for `ms` (block-main.mjs). */
  block(ms: number): void {
    writeFileSync(`${this.spec.stateDir}.block-ms`, String(Math.round(ms)));
    this.#signal('SIGUSR2');
  }

  /** last resort for cleanup: SIGKILL by PID, wait for the exit. */
  async forceKill(): Promise<void> {
    if (this.#child === null) return;
    this.#signal('SIGKILL');
    this.log.push({ kind: 'crash', node: this.id, incarnation: this.incarnation, at: nowMs() });
    await this.#exited;
  }
}
