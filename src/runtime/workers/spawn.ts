/**
 * Starts a worker thread from a module next to the caller, whether the code
 * runs built (`node dist/...`: the worker is `x.js`) or from TypeScript
 * sources (vitest, tsx: the worker is `x.ts`).
 *
 *   const worker = spawnWorker(new URL('./protocol-worker.js', import.meta.url), data);
 *
 * Give the worker's URL with `.js` or `.ts` (either works in both modes; tsc
 * does not rewrite URLs, so built code sees whatever the source says).
 *
 * Running sources is detected from this module's own URL (spawn.ts vs
 * spawn.js). Then the `.ts` file is started with `--require tsx-preload.cjs`,
 * which registers tsx's ESM loader inside the worker: Node 20 ignores
 * `--import` in a worker's execArgv, `--require` works (NODE-NOTES.md, "Worker
 * threads from TypeScript sources"), and vitest does not transform code inside
 * worker threads. In that mode the parent's execArgv is not inherited (it may
 * carry tsx's or vitest's own loader flags); pass `options.execArgv` to add
 * flags. tsx is a devDependency: built code never needs it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** true when this module runs from its TypeScript source. */
export const runningSources: boolean = /\.[cm]?ts$/.test(new URL(import.meta.url).pathname);

const PRELOAD = new URL('./tsx-preload.cjs', import.meta.url);
const SCRIPT_EXT = /\.(?:[cm]?js|[cm]?ts)$/;

/** the file a worker URL resolves to in the current mode, and whether it needs tsx. */
export function resolveWorkerEntry(url: URL): { readonly file: URL; readonly typescript: boolean } {
  if (url.protocol !== 'file:') throw new TypeError(`spawnWorker: a file: URL is needed (got ${url.href})`);
  const path = url.pathname;
  const match = SCRIPT_EXT.exec(path);
  if (match === null) throw new TypeError(`spawnWorker: the worker URL must end in .js or .ts (got ${url.href})`);
  const stem = path.slice(0, path.length - match[0].length);
  const ext = match[0];
  const jsExt = ext.replace('ts', 'js');
  const tsExt = ext.replace('js', 'ts');
  const candidates = runningSources ? [tsExt, jsExt] : [jsExt];
  for (const candidate of candidates) {
    const file = new URL(url.href);
    file.pathname = stem + candidate;
    if (existsSync(fileURLToPath(file))) return { file, typescript: candidate !== jsExt };
  }
  throw new Error(`spawnWorker: no worker module ${candidates.map((c) => stem + c).join(' or ')} (running ${runningSources ? 'sources' : 'built code'})`);
}

/**
 * Starts the worker. `workerData` is structured-cloned (SharedArrayBuffers in
 * it are shared). The caller owns the Worker and must terminate it.
 */
export function spawnWorker(url: URL, workerData?: unknown, options: Omit<WorkerOptions, 'workerData' | 'eval'> = {}): Worker {
  const { file, typescript } = resolveWorkerEntry(url);
  if (!typescript) return new Worker(file, { ...options, workerData });
  return new Worker(file, {
    ...options,
    workerData,
    execArgv: [...(options.execArgv ?? []), ...profilerFlags(), '--require', fileURLToPath(PRELOAD)],
  });
}

/**
 * A module for a thread pool (piscina) in the current mode: its path, and
 * from sources the tsx preload in place of the parent's execArgv (which may
 * carry tsx's or vitest's own loader flags); built code inherits the parent's
 * flags as usual (no `execArgv`).
 */
export function poolThreadEntry(url: URL): { readonly filename: string; readonly execArgv?: readonly string[] } {
  const { file, typescript } = resolveWorkerEntry(url);
  const filename = fileURLToPath(file);
  return typescript ? { filename, execArgv: ['--require', fileURLToPath(PRELOAD)] } : { filename };
}

/** `--cpu-prof*` flags of this process, so that `node --cpu-prof` also profiles workers started from sources. */
function profilerFlags(): string[] {
  return process.execArgv.filter((flag) => flag.startsWith('--cpu-prof'));
}
