// Entry of the single worker: everything it does is in src/runtime/workers/hosts.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { hostSingle } from '../src/runtime/workers/hosts.ts';
import type { RuntimeWorkerData } from '../src/runtime/control.ts';

if (parentPort === null) throw new Error('workers/single-worker is a worker thread entry');
hostSingle(workerData as RuntimeWorkerData, parentPort);
