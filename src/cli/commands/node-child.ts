/**
 * One `evs node` child process of `evs cluster`: its output comes back line by
 * line, prefixed with the node (`[n2] ...`), and it is stopped by its PID:
 * SIGTERM (a graceful stop: the node sends a LEAVE), then SIGKILL once the
 * grace period is over.
 *
 * Children run in their own process group (detached), so a Ctrl-C in the
 * terminal reaches only `evs cluster`, which stops them in order. They get
 * --exit-on-eof: if `evs cluster` itself is killed, their stdin (a pipe from
 * it) ends and they stop on their own instead of running on as orphans.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { resolveWorkerEntry } from '../../runtime/workers/spawn.ts';
import { epochEnv } from '../epoch-clock.ts';

/**
 * the `evs` entry: dist's evs.js when built, evs.ts through tsx from sources
 * (tsx resolved from here: `--import tsx` alone resolves from the cwd).
 */
const evsEntry = resolveWorkerEntry(new URL('../evs.ts', import.meta.url));
/** node arguments that run the `evs` command (chaos tests spawn it inside namespaces). */
export const evsArgs = [...(evsEntry.typescript ? ['--import', import.meta.resolve('tsx')] : []), fileURLToPath(evsEntry.file)];

export interface NodeChild {
  readonly nodeId: number;
  readonly pid: number;
  /** resolves with how it ended, e.g. 'code 0' or 'signal SIGKILL'. */
  readonly exited: Promise<string>;
  /** resolves once the node's handle joined its groups (its `bound … joined` status line); never if it exits first. */
  readonly joined: Promise<void>;
  readonly running: boolean;
  /** sends one line to the node's stdin (the node multicasts it). */
  send(line: string): void;
}

/** `evs node`'s status line once its handle joined its groups (node.ts). */
const joinedLine = /^evs node \d+: bound .* joined /;

export function spawnNodeChild(nodeId: number, args: readonly string[], print: (line: string, stream: 'out' | 'err') => void): NodeChild {
  const child: ChildProcess = spawn(process.execPath, [...evsArgs, 'node', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...epochEnv() }, // one clock for `--json`'s atMs
  });
  if (child.pid === undefined) throw new Error(`cannot start node ${nodeId}: ${process.execPath} ${evsArgs.join(' ')} did not start`);
  const prefix = `[n${nodeId}] `;
  let running = true;
  let onJoined: () => void = () => undefined;
  const joined = new Promise<void>((resolve) => {
    onJoined = resolve;
  });
  const outputDone = [child.stdout, child.stderr].map((stream, i) => new Promise<void>((resolve) => {
    if (stream === null) return resolve();
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (i === 1 && joinedLine.test(line)) onJoined();
      print(prefix + line, i === 0 ? 'out' : 'err');
    });
    lines.once('close', resolve);
  }));
  // The node's stdin may close first when it stops: a write after that is not an error of ours.
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      const how = signal !== null ? `signal ${signal}` : `code ${code}`;
      // Its last lines may still be in the pipe when 'exit' fires.
      void Promise.all(outputDone).then(() => resolve(how));
    });
  });
  return {
    nodeId,
    pid: child.pid,
    exited,
    joined,
    get running() {
      return running;
    },
    send(line: string) {
      if (running) child.stdin?.write(`${line}\n`);
    },
  };
}

/** SIGTERM to every running child, SIGKILL to those still running after `graceMs`; resolves when all exited. */
export async function stopChildren(children: readonly NodeChild[], graceMs: number): Promise<void> {
  const running = children.filter((c) => c.running);
  for (const c of running) signal(c.pid, 'SIGTERM');
  const killer = setTimeout(() => {
    for (const c of running) if (c.running) signal(c.pid, 'SIGKILL');
  }, graceMs);
  await Promise.all(running.map((c) => c.exited));
  clearTimeout(killer);
}

/** last resort on exit (synchronous): SIGKILL to whatever still runs. */
export function killChildren(children: readonly NodeChild[]): void {
  for (const c of children) if (c.running) signal(c.pid, 'SIGKILL');
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: it exited between the check and the signal.
  }
}
