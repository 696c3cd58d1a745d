/**
 * One EVS node in its own process, driven by a parent over IPC
 * (process-protocol.ts): the building block of multi-process tests, of
 * `evs cluster` and of the benchmarks. One handle; deliveries are checked
 * (FIFO per sender, integrity) and folded into a digest instead of being sent
 * to the parent one by one.
 */
import { EvsNode } from '../node.ts';
import type { EvsHandle } from '../handle.ts';
import { EvsError } from '../errors.ts';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { epochMs, probeHeadBytes, readProbe, writeProbe } from './probe-payload.ts';
import { measureEventLoop } from './bench/event-loop-probe.ts';
import type { Notice, Reply, Report, Request, SendReply, WindowReply } from './process-protocol.ts';

let node: EvsNode | null = null;
let handle: EvsHandle | null = null;
let sendCounter = 0;
const report = {
  delivered: 0, bytesDelivered: 0, digest: 0x811c9dc5, lastCounter: {} as Record<number, number>,
  fifoViolations: 0, corrupt: 0, firstDeliveryMs: 0, lastDeliveryMs: 0, confchgs: 0,
};
let deliveredWaiters: { total: number; resolve: () => void }[] = [];
let selfWaiter: { counter: number; resolve: (atMs: number) => void } | null = null;

function send(message: Reply | Notice): void {
  process.send?.(message);
}

function fnv(hash: number, value: number): number {
  let h = hash;
  for (let i = 0; i < 4; i++) {
    h ^= (value >>> (i * 8)) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function onDeliver(payload: Uint8Array): void {
  const now = epochMs();
  report.delivered++;
  report.bytesDelivered += payload.length;
  if (report.firstDeliveryMs === 0) report.firstDeliveryMs = now;
  report.lastDeliveryMs = now;
  const probe = readProbe(payload);
  if (probe !== null) {
    const last = report.lastCounter[probe.sender] ?? 0;
    if (probe.counter !== last + 1) report.fifoViolations++;
    report.lastCounter[probe.sender] = probe.counter;
    if (!probe.intact) report.corrupt++;
    report.digest = fnv(fnv(report.digest, probe.sender), probe.counter);
    if (selfWaiter !== null && probe.sender === node?.nodeId && probe.counter === selfWaiter.counter) {
      const w = selfWaiter;
      selfWaiter = null;
      w.resolve(now);
    }
  }
  if (deliveredWaiters.length > 0) {
    const due = deliveredWaiters.filter((w) => report.delivered >= w.total);
    deliveredWaiters = deliveredWaiters.filter((w) => report.delivered < w.total);
    for (const w of due) w.resolve();
  }
}

/** a payload buffer reused by every message of one send command: mcast copies it into the submit ring before resolving. */
function probeBuffer(sizeBytes: number): Uint8Array {
  return new Uint8Array(sizeBytes);
}

/**
 * a send loop that never waits on its own gives the event loop a turn this
 * often (deliveries, IPC), so the bench's own load generator adds little to
 * the event-loop delay that `evs bench eventloop` measures on the sender.
 */
const sendYieldMs = 2;

/** probes as fast as back-pressure allows: tryMcast, and only when the queue is full an awaited mcast. */
async function sendFor(h: EvsHandle, sender: number, durationMs: number, sizeBytes: number, guarantee: 'agreed' | 'safe'): Promise<SendReply> {
  const payload = probeBuffer(sizeBytes);
  const options = { guarantee };
  const endMs = performance.now() + durationMs;
  let sent = 0;
  let yieldAtMs = performance.now() + sendYieldMs;
  for (let now = performance.now(); now < endMs; now = performance.now()) {
    writeProbe(payload, sender, ++sendCounter, epochMs());
    if (h.tryMcastJoined(payload, options) !== 'ok') {
      await h.mcastJoined(payload, options);
      yieldAtMs = performance.now() + sendYieldMs;
    } else if (now >= yieldAtMs) {
      await yieldToLoop();
      yieldAtMs = performance.now() + sendYieldMs;
    }
    sent++;
  }
  return { sent, counter: sendCounter };
}

/** one probe sent and waited for until this node delivers it: the time between, in ms. */
async function selfDeliveryMs(h: EvsHandle, id: number, payload: Uint8Array, options: { guarantee: 'agreed' | 'safe' }): Promise<number> {
  const sentAt = epochMs();
  writeProbe(payload, id, ++sendCounter, sentAt);
  const delivered = new Promise<number>((resolve) => {
    selfWaiter = { counter: sendCounter, resolve };
  });
  await h.mcastJoined(payload, options);
  return (await delivered) - sentAt;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function measureWindow(delayMs: number, durationMs: number): Promise<WindowReply> {
  await sleep(delayMs);
  const t0 = performance.now();
  const [d0, b0] = [report.delivered, report.bytesDelivered];
  await sleep(durationMs);
  // count and time are read in the same turn, here in the receiving process: no IPC delay in the rate
  const seconds = (performance.now() - t0) / 1000;
  return { delivered: report.delivered - d0, bytesDelivered: report.bytesDelivered - b0, seconds };
}

async function measureCount(count: number, timeoutMs: number): Promise<WindowReply> {
  const t0 = performance.now();
  const [d0, b0] = [report.delivered, report.bytesDelivered];
  await waitDelivered(d0 + count, timeoutMs);
  return { delivered: report.delivered - d0, bytesDelivered: report.bytesDelivered - b0, seconds: (performance.now() - t0) / 1000 };
}

function waitDelivered(total: number, timeoutMs: number): Promise<void> {
  if (report.delivered >= total) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new EvsError('ERR_EVS_TIMEOUT', `delivered ${report.delivered} of ${total} after ${timeoutMs} ms`)), timeoutMs);
    deliveredWaiters.push({ total, resolve: () => { clearTimeout(timer); resolve(); } });
  });
}

function need<T>(value: T | null, what: string): T {
  if (value === null) throw new EvsError('ERR_EVS_INVALID_ARGUMENT', `${what}: send 'start' first`);
  return value;
}

async function handleRequest(req: Request): Promise<unknown> {
  switch (req.cmd) {
    case 'start': {
      node = await EvsNode.start(req.options);
      node.on('error', (e) => send({ ev: 'error', error: { code: e.code, message: e.message } }));
      handle = node.open();
      handle.on('deliver', (m) => onDeliver(m.payload));
      handle.on('confchg', (change) => {
        report.confchgs++;
        send({ ev: 'confchg', atMs: epochMs(), change });
      });
      return { membership: await node.membership(), address: node.address };
    }
    case 'join':
      await need(handle, 'join').join(req.groups);
      return null;
    case 'send': {
      const h = need(handle, 'send');
      const id = need(node, 'send').nodeId;
      const payload = probeBuffer(req.sizeBytes);
      const options = { guarantee: req.guarantee };
      for (let i = 0; i < req.count; i++) {
        writeProbe(payload, id, ++sendCounter, epochMs());
        await h.mcastJoined(payload, options);
      }
      return { sent: req.count, counter: sendCounter } satisfies SendReply;
    }
    case 'sendFor':
      return sendFor(need(handle, 'sendFor'), need(node, 'sendFor').nodeId, req.durationMs, req.sizeBytes, req.guarantee);
    case 'measureWindow':
      return measureWindow(req.delayMs, req.durationMs);
    case 'measureCount':
      return measureCount(req.count, req.timeoutMs);
    case 'eventLoop': {
      const [d0, c0] = [report.delivered, report.confchgs];
      const delay = await measureEventLoop(req.durationMs, req.burstMs, req.periodMs);
      return { ...delay, delivered: report.delivered - d0, confchgs: report.confchgs - c0 };
    }
    case 'latency': {
      const h = need(handle, 'latency');
      const id = need(node, 'latency').nodeId;
      const payload = probeBuffer(Math.max(req.sizeBytes, probeHeadBytes));
      const options = { guarantee: req.guarantee };
      const warmEndMs = performance.now() + (req.warmupMs ?? 0);
      while (performance.now() < warmEndMs) await selfDeliveryMs(h, id, payload, options);
      const latenciesMs: number[] = [];
      for (let i = 0; i < req.count; i++) latenciesMs.push(await selfDeliveryMs(h, id, payload, options));
      return latenciesMs;
    }
    case 'waitDelivered':
      await waitDelivered(req.total, req.timeoutMs);
      return null;
    case 'block': {
      const until = performance.now() + req.ms;
      while (performance.now() < until) { /* the application hogs its main thread */ }
      return null;
    }
    case 'report':
      return { ...report, sent: sendCounter, lastCounter: { ...report.lastCounter }, memory: process.memoryUsage() } satisfies Report;
    case 'stats':
      return need(node, 'stats').stats();
    case 'stop':
      await node?.stop();
      setImmediate(() => process.disconnect());
      return null;
  }
}

process.on('message', (message: { id: number } & Request) => {
  handleRequest(message).then(
    (value) => send({ id: message.id, ok: true, value }),
    (error: unknown) => {
      const e = error instanceof EvsError ? error.toWire() : { code: 'ERR_EVS_INTERNAL', message: String(error) };
      send({ id: message.id, ok: false, error: e });
    },
  );
});
// The parent went away (or said stop): leave cleanly.
process.on('disconnect', () => {
  void (node?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
});
