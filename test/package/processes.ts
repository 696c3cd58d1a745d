/**
 * Child processes for the package test: commands run to their end with their
 * output collected, long-running ones watched line by line, and every process
 * started here stopped by PID in afterAll (killAll). Children get the
 * environment without npm's `npm_*` variables and without NODE_OPTIONS, so
 * `npm test` running this file changes nothing about how npm and node behave
 * in the consumer project (no loader of ours leaks into it).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export const cleanEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'NODE_OPTIONS'),
);

export interface Ran {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

const running = new Set<ChildProcess>();

function start(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, { env: cleanEnv, stdio: ['pipe', 'pipe', 'pipe'], ...options });
  if (child.pid === undefined) throw new Error(`${command} did not start`);
  running.add(child);
  child.once('close', () => running.delete(child));
  return child;
}

/** runs `command args` to its end; fails the test if it takes longer than `timeoutMs` (then it is killed). */
export function run(command: string, args: readonly string[], options: SpawnOptions & { timeoutMs: number }): Promise<Ran> {
  const { timeoutMs, ...spawnOptions } = options;
  const child = start(command, args, spawnOptions);
  child.stdin?.end();
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: still running after ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? String(signal), stdout: stdout.trimEnd(), stderr: stderr.trimEnd() });
    });
  });
}

export interface Watched {
  readonly pid: number;
  readonly stdout: string[];
  readonly stderr: string[];
  readonly exited: Promise<number | string>;
  write(line: string): void;
  /** resolves once `test` holds for the lines of `stream` so far. */
  until(test: (lines: readonly string[]) => boolean, stream: 'stdout' | 'stderr', timeoutMs: number): Promise<void>;
}

/** starts a long-running command whose output is checked while it runs. */
export function watch(command: string, args: readonly string[], options: SpawnOptions): Watched {
  const child = start(command, args, options);
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  const waiters = new Set<() => void>();
  for (const name of ['stdout', 'stderr'] as const) {
    let rest = '';
    child[name]?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      lines[name].push(...parts);
      for (const w of waiters) w();
    });
  }
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<number | string>((resolve) => child.once('close', (code, signal) => resolve(code ?? String(signal))));
  return {
    pid: child.pid!,
    stdout: lines.stdout,
    stderr: lines.stderr,
    exited,
    write: (line) => void child.stdin?.write(`${line}\n`),
    until(test, stream, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!test(lines[stream])) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms\nstdout:\n${lines.stdout.join('\n')}\nstderr:\n${lines.stderr.join('\n')}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** SIGKILL to every child still running (afterAll): nothing outlives the test. */
export async function killAll(): Promise<void> {
  const left = [...running];
  for (const child of left) child.kill('SIGKILL');
  await Promise.all(left.map((child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('close', resolve)))));
}

export { alive } from '../cli/helpers.ts';
