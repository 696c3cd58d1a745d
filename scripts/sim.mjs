// `npm run sim`: the simulator CLI (test/sim/swarm-cli.ts), bundled by esbuild
// and run as plain JavaScript.
//
// Why not tsx, as for the other scripts: tsx compiles with esbuild's keepNames,
// which wraps every function and class that is created in a `__name()` call,
// and the simulator creates closures per datagram. Bundled without it, a run
// takes about 16% less CPU (seeds 1000010..1000039 at --jobs 1: 19.6 s user
// under tsx, 16.4 s bundled; the run lines are identical), which matters for
// `--seeds 100000`. The bundle is rebuilt on every call (about 0.1 s) into a
// private temporary directory, so it never runs stale code and concurrent runs
// do not share files; it is removed at exit.
//
// swarm-cli.ts and its worker (swarm-worker.ts, for --jobs) are both entry
// points with shared code split into chunks beside them: spawnWorker
// (src/runtime/workers/spawn.ts) finds `swarm-worker.js` next to the chunk
// that calls it, as it does for built code.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const sim = fileURLToPath(new URL('../test/sim/', import.meta.url));
const outdir = mkdtempSync(join(tmpdir(), 'totem-evs-sim-'));
try {
  await build({
    entryPoints: [join(sim, 'swarm-cli.ts'), join(sim, 'swarm-worker.ts')],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  // stack traces of a failing run point into the TypeScript sources
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(join(outdir, 'swarm-cli.js')).href);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
