// Entry of the protocol worker: everything it does is in src/runtime/workers/hosts.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { hostProtocol } from '../src/runtime/workers/hosts.ts';
import type { RuntimeWorkerData } from '../src/runtime/control.ts';

if (parentPort === null) throw new Error('workers/protocol-worker is a worker thread entry');
hostProtocol(workerData as RuntimeWorkerData, parentPort);
