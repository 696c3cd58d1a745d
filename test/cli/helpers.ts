/**
 * The `evs` command from its sources (`node --import tsx src/cli/evs.ts`; the
 * built bin is tested by test/package) as a real child process: its output collected line by line,
 * waits on what it prints, and a registry so every test stops every process
 * it started (stopAll in afterEach), by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const evsEntry = fileURLToPath(new URL('../../src/cli/evs.ts', import.meta.url));
/** tsx's loader by its full URL: `--import tsx` would resolve it from the child's cwd (a temporary directory in some tests). */
const tsxLoader = import.meta.resolve('tsx');

/** fast Totem timings as flags (tokenCoefficientMs 0: the token timeout stays 300 ms with 3 nodes). */
export const fastTotemFlags = ['--token-ms', '300', '--token-coefficient-ms', '0', '--consensus-ms', '400', '--join-ms', '50'] as const;

export interface Evs {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly stdout: string[];
  readonly stderr: string[];
  /** the exit code, or the signal's name if a signal ended it. */
  readonly exited: Promise<number | string>;
  /** resolves once a line of `stream` (default stdout) matches, waiting up to timeoutMs. */
  waitLine(match: RegExp | ((lines: readonly string[]) => boolean), timeoutMs?: number, stream?: 'stdout' | 'stderr'): Promise<void>;
  write(line: string): void;
}

const started = new Set<Evs>();

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'evs-cli-test-'));
}

export function evs(args: readonly string[], cwd?: string): Evs {
  const child = spawn(process.execPath, ['--import', tsxLoader, evsEntry, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...(cwd !== undefined ? { cwd } : {}) });
  if (child.pid === undefined) throw new Error('evs did not start');
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (stream: NodeJS.ReadableStream | null, into: string[]): void => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      into.push(...parts);
      for (const w of waiters) w();
    });
    stream?.on('end', () => {
      if (rest !== '') into.push(rest);
    });
  };
  collect(child.stdout, stdout);
  collect(child.stderr, stderr);
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<number | string>((resolve) => {
    child.once('close', (code, signal) => resolve(code ?? String(signal)));
  });
  const handle: Evs = {
    process: child,
    pid: child.pid,
    stdout,
    stderr,
    exited,
    waitLine(match, timeoutMs = 20_000, stream = 'stdout') {
      const test = typeof match === 'function' ? match : (lines: readonly string[]) => lines.some((l) => match.test(l));
      const lines = stream === 'stdout' ? stdout : stderr;
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!test(lines)) return;
          finish();
          resolve();
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(match)} on ${stream}\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    write(line) {
      child.stdin?.write(`${line}\n`);
    },
  };
  started.add(handle);
  void exited.then(() => started.delete(handle));
  return handle;
}

/** runs `evs args` to its end. */
export async function evsRun(args: readonly string[], cwd?: string): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const e = evs(args, cwd);
  e.process.stdin?.end();
  const code = await e.exited;
  return { code, stdout: e.stdout.join('\n'), stderr: e.stderr.join('\n') };
}

/** SIGTERM to every process still running, SIGKILL after `graceMs`; for afterEach. */
export async function stopAll(graceMs = 5000): Promise<void> {
  const running = [...started];
  for (const e of running) signal(e.pid, 'SIGTERM');
  const killer = setTimeout(() => {
    for (const e of running) signal(e.pid, 'SIGKILL');
  }, graceMs);
  await Promise.all(running.map((e) => e.exited));
  clearTimeout(killer);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** the lines of one configuration-change block that is `type` and lists exactly `members`. */
export function hasConfiguration(lines: readonly string[], type: 'regular' | 'transitional', members: readonly number[], prefix = ''): boolean {
  const mine = prefix === '' ? lines : lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  return mine.some((l, i) => l.startsWith(`CONFIGURATION CHANGE (${type}`) && mine[i + 2] === `New configuration: ${members.join(' ')}`);
}
