// Preloaded with `--require` into worker threads started from TypeScript
// sources (see spawn.ts): Node 20 ignores `--import` in a worker's execArgv,
// `--require` works, and this registers tsx's ESM loader inside the worker.
require('node:module').register('tsx/esm', require('node:url').pathToFileURL(__filename), { data: {} });
