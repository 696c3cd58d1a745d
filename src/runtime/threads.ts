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
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { wrap, releaseProxy, type Remote } from 'comlink';
import type { ResolvedOptions } from '../options.ts';
import type { NetworkControl, ProtocolControl, RuntimeWorkerData, SingleControl } from './control.ts';
import type { ObserveMessage } from './observe/observe-messages.ts';
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

/** how long `terminate` waits for the network side to close its sockets (a worker that died or hangs never answers). */
const socketCloseWaitMs = 1000;

/**
 * `observe` receives what the workers report outside the delivery stream
 * (log lines when `log` is true, configuration changes, counters that moved).
 */
export function startThreads(options: ResolvedOptions, key: Uint8Array | null, log: boolean, observe: (message: ObserveMessage) => void): RuntimeThreads {
  const submit = RecordRing.create(options.rings.submitBytes);
  const deliver = RecordRing.create(options.rings.deliverBytes);
  const status = new SharedArrayBuffer(4);
  const split = options.threads.layout === 'split';
  const rx = split ? { ...RecordRing.create(options.rings.rxBytes), dataBell: submit.dataBell } : null;
  const tx = split ? RecordRing.create(options.rings.txBytes) : null;
  const tokenStamps = new SharedArrayBuffer(tokenStampsBytes);
  const ports: MessagePort[] = [];
  /** workerData for one worker, with its own observe channel (the worker's end is transferred). */
  const dataFor = (): { data: RuntimeWorkerData; transferList: MessagePort[] } => {
    const channel = new MessageChannel();
    channel.port1.on('message', observe);
    channel.port1.unref(); // the workers keep the process alive while they run, not this port
    ports.push(channel.port1);
    return { data: { options, key, submit, deliver, rx, tx, status, tokenStamps, observe: channel.port2, log }, transferList: [channel.port2] };
  };
  const name = (what: string): string => `evs-${what}-${options.nodeId}`;

  let workers: Worker[];
  /** the worker that owns the sockets */
  let networkWorker: Worker;
  let protocol: Remote<ProtocolControl>;
  let network: Remote<NetworkControl>;
  let remotes: { [releaseProxy](): void }[];
  if (split) {
    const pd = dataFor();
    const nd = dataFor();
    const p = spawnWorker(new URL('protocol-worker.ts', workersDir), pd.data, { name: name('protocol'), transferList: pd.transferList });
    const n = spawnWorker(new URL('network-worker.ts', workersDir), nd.data, { name: name('network'), transferList: nd.transferList });
    workers = [p, n];
    networkWorker = n;
    protocol = wrap<ProtocolControl>(nodeEndpoint(p));
    network = wrap<NetworkControl>(nodeEndpoint(n));
    remotes = [protocol, network];
  } else {
    const d = dataFor();
    const w = spawnWorker(new URL('single-worker.ts', workersDir), d.data, { name: name('runtime'), transferList: d.transferList });
    workers = [w];
    networkWorker = w;
    const both = wrap<SingleControl>(nodeEndpoint(w));
    protocol = both.protocol as unknown as Remote<ProtocolControl>;
    network = both.network as unknown as Remote<NetworkControl>;
    remotes = [both];
  }
  let networkExited = false;
  networkWorker.once('exit', () => { networkExited = true; });
  return {
    protocol,
    network,
    submit: new RecordWriter(submit),
    deliver: new RecordReader(deliver),
    status: new Int32Array(status),
    workers,
    async terminate() {
      if (!networkExited) await closeSocketsFirst(network, networkWorker);
      for (const r of remotes) r[releaseProxy]();
      await Promise.all(workers.map((w) => w.terminate()));
      for (const port of ports) port.close();
    },
  };
}

/**
 * Node aborts the whole process ("FATAL ERROR: v8::FromJust Maybe value is
 * Nothing" in UDPWrap::OnRecv → AddressToJS) when a worker is terminated
 * while its UDP socket hands it a datagram. It happened when a node that had
 * died (ERR_EVS_DELIVERY_OVERFLOW skips the graceful stop) was stopped while
 * its peer still sent to it: 1 run in 8 of
 * test/runtime/api/unread-iterator.test.ts, and once in CI. So the sockets
 * close before any worker is terminated (`network.stop` closes once; a
 * graceful stop has called it already), unless the network worker exits or
 * does not answer within socketCloseWaitMs.
 */
async function closeSocketsFirst(network: Remote<NetworkControl>, worker: Worker): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onExit = (): void => undefined;
  const exited = new Promise<void>((resolve) => { onExit = resolve; worker.once('exit', onExit); });
  const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, socketCloseWaitMs); });
  try {
    await Promise.race([network.stop().then(() => undefined, () => undefined), exited, late]);
  } finally {
    clearTimeout(timer);
    worker.off('exit', onExit);
  }
}
