/**
 * A `npm run sim -- --jobs N` worker: runs the seeds its parent hands it, one
 * at a time, and answers each with the run's report (swarm-report.ts).
 */
import { parentPort } from 'node:worker_threads';
import { runReported, type RunRequest } from './swarm-report.ts';

if (parentPort === null) throw new Error('swarm-worker: run it as a worker thread of swarm-cli.ts');
const port = parentPort;
port.on('message', (request: RunRequest) => port.postMessage(runReported(request)));
