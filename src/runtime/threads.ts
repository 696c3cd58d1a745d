/**
 * Starts the runtime's worker threads for a layout and wires rings and the
 * comlink control plane between them and the main thread.
 *
 *   split:  main ─submit→ protocol ─tx→ network      main ←deliver─ protocol ←rx─ network
 *   single: main ─submit→ [protocol + network] ─deliver→ main
 *
 * The rx ring and the submit ring share one data doorbell: the protocol
 * loop sleeps on a single Atomics.waitAsync and either producer wakes it.
 */
import type { Worker } from 'node:worker_threads';
import { wrap, releaseProxy, type Remote } from 'comlink';
import type { ResolvedOptions } from '../options.ts';
import type { NetworkControl, ProtocolControl, RuntimeWorkerData, SingleControl } from './control.ts';
import { tokenStampsBytes } from './protocol/token-timing.ts';
import { RecordReader, RecordRing, RecordWriter } from './rings/record-ring.ts';
import { nodeEndpoint } from './workers/comlink-endpoint.ts';
import { spawnWorker } from './workers/spawn.ts';

export interface RuntimeThreads {
  readonly protocol: Remote<ProtocolControl>;
  readonly network: Remote<NetworkControl>;
  /** main → protocol worker: application messages. */
  readonly submit: RecordWriter;
  /** protocol worker → main: deliveries and configuration changes. */
  readonly deliver: RecordReader;
  /** the protocol driver's status word (protocol/driver-status.ts). */
  readonly status: Int32Array;
  readonly workers: readonly Worker[];
  /** releases the comlink proxies and terminates every worker. */
  terminate(): Promise<void>;
}

const workersDir = new URL('../../workers/', import.meta.url);

export function startThreads(options: ResolvedOptions, key: Uint8Array | null, debug: boolean): RuntimeThreads {
  const submit = RecordRing.create(options.rings.submitBytes);
  const deliver = RecordRing.create(options.rings.deliverBytes);
  const status = new SharedArrayBuffer(4);
  const split = options.threads.layout === 'split';
  const rx = split ? { ...RecordRing.create(options.rings.rxBytes), dataBell: submit.dataBell } : null;
  const tx = split ? RecordRing.create(options.rings.txBytes) : null;
  const tokenStamps = new SharedArrayBuffer(tokenStampsBytes);
  const data: RuntimeWorkerData = { options, key, submit, deliver, rx, tx, status, tokenStamps, debug };
  const name = (what: string): string => `evs-${what}-${options.nodeId}`;

  let workers: Worker[];
  let protocol: Remote<ProtocolControl>;
  let network: Remote<NetworkControl>;
  let remotes: { [releaseProxy](): void }[];
  if (split) {
    const p = spawnWorker(new URL('protocol-worker.ts', workersDir), data, { name: name('protocol') });
    const n = spawnWorker(new URL('network-worker.ts', workersDir), data, { name: name('network') });
    workers = [p, n];
    protocol = wrap<ProtocolControl>(nodeEndpoint(p));
    network = wrap<NetworkControl>(nodeEndpoint(n));
    remotes = [protocol, network];
  } else {
    const w = spawnWorker(new URL('single-worker.ts', workersDir), data, { name: name('runtime') });
    workers = [w];
    const both = wrap<SingleControl>(nodeEndpoint(w));
    protocol = both.protocol as unknown as Remote<ProtocolControl>;
    network = both.network as unknown as Remote<NetworkControl>;
    remotes = [both];
  }
  return {
    protocol,
    network,
    submit: new RecordWriter(submit),
    deliver: new RecordReader(deliver),
    status: new Int32Array(status),
    workers,
    async terminate() {
      for (const r of remotes) r[releaseProxy]();
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
