/** A worker for token-timing.test.ts: answers each message with its own stampNow(). */
import { parentPort } from 'node:worker_threads';
import { stampNow } from '../../../src/runtime/protocol/token-timing.ts';

parentPort!.on('message', () => parentPort!.postMessage(stampNow()));
parentPort!.postMessage('ready');
