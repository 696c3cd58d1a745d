// Entry of the network worker: everything it does is in src/runtime/workers/hosts.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { hostNetwork } from '../src/runtime/workers/hosts.ts';
import type { RuntimeWorkerData } from '../src/runtime/control.ts';

if (parentPort === null) throw new Error('workers/network-worker is a worker thread entry');
hostNetwork(workerData as RuntimeWorkerData, parentPort);
