/**
 * Cleanup that runs however the harness ends: each cluster registers a
 * synchronous teardown (SIGKILL its nodes by PID, delete its namespaces and
 * directory), run on process 'exit' and on SIGINT/SIGTERM (then the process
 * exits 130/143). A normal end unregisters after its own async teardown.
 */
const cleanups = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const c of [...cleanups]) {
    cleanups.delete(c);
    try {
      c();
    } catch (error) {
      process.stderr.write(`chaos cleanup failed: ${String(error)}\n`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    // `on`, not `once`: a second signal while cleaning up (a terminal's Ctrl-C reaches tsx,
    // which forwards it) must not find the default action back and kill us half-way
    process.on(signal, () => {
      if (cleanups.size > 0) process.stderr.write(`chaos: ${signal}, removing namespaces and nodes\n`);
      runAll();
      process.exit(code);
    });
  }
}

/** registers a synchronous cleanup; returns its unregistration. */
export function registerCleanup(cleanup: () => void): () => void {
  install();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}
