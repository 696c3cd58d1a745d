/**
 * What runs inside each runtime worker: the drivers, wired to the rings of
 * `RuntimeWorkerData` and exposed to the main thread with comlink. The files
 * in `workers/` only call one of these.
 *
 *   split:   protocol worker = hostProtocol (rx/tx rings to the network worker)
 *            network worker  = hostNetwork
 *   single:  one worker       = hostSingle (the drivers call each other directly)
 */
import { performance } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import { expose } from 'comlink';
import { outcome, type NetworkControl, type ProtocolControl, type RuntimeWorkerData, type SingleControl } from '../control.ts';
import type { BatchCipher } from '../crypto/datagram-cipher.ts';
import { NetworkDriver, type PlainHandler } from '../network/network-driver.ts';
import { ProtocolDriver, type DatagramLink } from '../protocol/protocol-driver.ts';
import { DatagramRecordHead, datagramRecordHeadBytes, datagramRecordNodeId } from '../records/datagram-record.ts';
import { TokenStamps } from '../protocol/token-timing.ts';
import { Doorbell } from '../rings/doorbell.ts';
import { RecordReader, RecordWriter } from '../rings/record-ring.ts';
import { nodeEndpoint } from './comlink-endpoint.ts';
import { cryptoTaskEntry } from './crypto-task-entry.ts';
import { CounterDiff, coreLineLevel, observeIntervalMs, type Observe, type ObserveThread } from '../observe/observe-messages.ts';
import { lowerThreadPriority } from './thread-priority.ts';

const clock = (): number => performance.now();

/** how long the protocol loop may block for room in the tx ring before trying again. */
const txRoomWaitMs = 50;

/** posts one message on this worker's observe channel (never stderr: the main thread's logger decides). */
function observer(data: RuntimeWorkerData): Observe {
  return (message) => data.observe.postMessage(message);
}

/** the core's log lines onto the observe channel, when a logger is configured. */
function log(data: RuntimeWorkerData, thread: ObserveThread): ((line: string) => void) | undefined {
  if (!data.log) return undefined;
  const observe = observer(data);
  return (line: string) => observe({ t: 'log', thread, level: coreLineLevel(line), message: line });
}

/**
 * Datagrams the network driver refused (crypto: forged, replayed, too old...;
 * transport: unknown source; the rx ring full), compared every
 * `observeIntervalMs` and reported when they moved. The timer does not keep
 * the worker alive; `stop` clears it.
 */
function watchNetworkDrops(driver: NetworkDriver, observe: Observe): () => void {
  const diff = new CounterDiff();
  const look = (): void => {
    const s = driver.stats();
    const counters: Record<string, number> = { ...s.crypto.dropped, 'unknown-source': s.transport.rxUnknownSource, 'rx-ring-full': s.rxRingFull };
    diff.diff(counters, (reason, count, total) => {
      const layer = reason in s.crypto.dropped ? 'crypto' : 'transport';
      observe({ t: 'datagram-dropped', layer, reason, count, total });
    });
  };
  const timer = setInterval(look, observeIntervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    look();
  };
}

function createProtocol(data: RuntimeWorkerData, link: DatagramLink): ProtocolDriver {
  const logLine = log(data, 'protocol');
  return new ProtocolDriver({
    observe: observer(data),
    options: data.options,
    link,
    submit: new RecordReader(data.submit),
    deliver: new RecordWriter(data.deliver),
    rx: data.rx === null ? null : new RecordReader(data.rx),
    bell: new Doorbell(data.submit.dataBell),
    status: new Int32Array(data.status),
    clock,
    tokenStamps: new TokenStamps(data.tokenStamps),
    ...(logLine !== undefined ? { log: logLine } : {}),
  });
}

function protocolControl(driver: ProtocolDriver): ProtocolControl {
  return {
    start: () => outcome(async () => {
      await driver.start();
      return driver.membership();
    }),
    openHandle: (id) => outcome(() => driver.openHandle(id)),
    closeHandle: (id) => outcome(() => driver.closeHandle(id)),
    join: (id, groups) => outcome(() => driver.join(id, groups)),
    leave: (id, groups) => outcome(() => driver.leave(id, groups)),
    membership: () => outcome(() => driver.membership()),
    stats: () => outcome(() => driver.stats()),
    stop: () => outcome(() => driver.stop()),
  };
}

async function createPool(data: RuntimeWorkerData): Promise<BatchCipher | null> {
  const threads = data.options.threads.cryptoThreads;
  if (threads === 0 || data.key === null) return null;
  const { CryptoPool } = await import('../crypto/crypto-pool.ts');
  return CryptoPool.create(data.key, threads, cryptoTaskEntry());
}

/**
 * The network control: `start` binds (so EADDRINUSE and friends reach
 * EvsNode.start as errors), `stop` closes after the queued sends went out.
 */
function networkControl(observe: Observe, open: () => Promise<NetworkDriver>, beforeClose: () => Promise<void> = async () => undefined): NetworkControl {
  let driver: NetworkDriver | null = null;
  let unwatch = (): void => undefined;
  return {
    start: () => outcome(async () => {
      driver = await open();
      unwatch = watchNetworkDrops(driver, observe);
      return driver.address();
    }),
    stats: () => outcome(() => {
      if (driver === null) throw new Error('network driver not started');
      return driver.stats();
    }),
    stop: () => outcome(async () => {
      unwatch();
      await beforeClose();
      await driver?.close();
    }),
  };
}

/** split layout, protocol side: sends go to the tx ring; received datagrams come from the rx ring. */
export function hostProtocol(data: RuntimeWorkerData, port: MessagePort): void {
  lowerThreadPriority(data.options.threads.workerNice); // below the main thread's priority when set
  if (data.tx === null) throw new Error('hostProtocol: the split layout needs a tx ring');
  const tx = new RecordWriter(data.tx);
  const head = new DatagramRecordHead();
  const link: DatagramLink = {
    send(to, datagram) {
      const h = head.set(to);
      // The network worker never waits for us, so blocking here briefly cannot deadlock.
      while (!tx.tryWriteParts(h, datagram)) tx.waitForSpaceSync(h.length + datagram.length, txRoomWaitMs);
    },
    endBatch() {
      tx.flush();
    },
  };
  expose(protocolControl(createProtocol(data, link)), nodeEndpoint(port));
}

/** split layout, network side: received plaintext to the rx ring; the tx ring drained onto the sockets. */
export function hostNetwork(data: RuntimeWorkerData, port: MessagePort): void {
  lowerThreadPriority(data.options.threads.workerNice); // below the main thread's priority when set
  if (data.rx === null || data.tx === null) throw new Error('hostNetwork: the split layout needs rx and tx rings');
  const rx = new RecordWriter(data.rx);
  const tx = new RecordReader(data.tx);
  const head = new DatagramRecordHead();
  let driver: NetworkDriver | null = null;
  let stopping = false;
  const onDatagram: PlainHandler = (plain, from) => {
    if (rx.tryWriteParts(head.set(from), plain)) rx.flush();
    else if (driver !== null) driver.rxRingFull++; // the protocol worker is behind: Totem retransmits
  };
  const pump = async (net: NetworkDriver): Promise<void> => {
    for (;;) {
      net.beginDrain();
      tx.drain((record) => net.send(datagramRecordNodeId(record), record.subarray(datagramRecordHeadBytes)));
      net.endBatch();
      if (stopping) return;
      await tx.waitAsync(Number.POSITIVE_INFINITY);
    }
  };
  let pumping: Promise<void> = Promise.resolve();
  const control = networkControl(observer(data), async () => {
    driver = await NetworkDriver.open({
      options: data.options, key: data.key, onDatagram, pool: await createPool(data), tokenStamps: new TokenStamps(data.tokenStamps),
    });
    pumping = pump(driver);
    return driver;
  }, async () => {
    // the LEAVE the protocol worker wrote last must be on the wire before the sockets close
    stopping = true;
    tx.interruptWait();
    await pumping;
  });
  expose(control, nodeEndpoint(port));
}

/** single layout: both drivers in this thread, calling each other. */
export function hostSingle(data: RuntimeWorkerData, port: MessagePort): void {
  lowerThreadPriority(data.options.threads.workerNice); // below the main thread's priority when set
  let net: NetworkDriver | null = null;
  const link: DatagramLink = {
    send: (to, datagram) => net?.send(to, datagram),
    endBatch: () => net?.endBatch(),
  };
  const protocol = createProtocol({ ...data, rx: null, tx: null }, link);
  const network = networkControl(observer(data), async () => {
    net = await NetworkDriver.open({
      options: data.options,
      key: data.key,
      onDatagram: (plain) => protocol.handleDatagram(plain),
      pool: await createPool(data),
      tokenStamps: new TokenStamps(data.tokenStamps),
    });
    return net;
  });
  expose({ network, protocol: protocolControl(protocol) } satisfies SingleControl, nodeEndpoint(port));
}
