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
import { epochMs, readProbe, writeProbe } from './probe-payload.ts';
import type { Notice, Reply, Report, Request } from './process-protocol.ts';

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
      for (let i = 0; i < req.count; i++) {
        const payload = new Uint8Array(req.sizeBytes);
        writeProbe(payload, id, ++sendCounter, epochMs());
        await h.mcastJoined(payload, { guarantee: req.guarantee });
      }
      return { counter: sendCounter };
    }
    case 'latency': {
      const h = need(handle, 'latency');
      const id = need(node, 'latency').nodeId;
      const latenciesMs: number[] = [];
      for (let i = 0; i < req.count; i++) {
        const payload = new Uint8Array(Math.max(req.sizeBytes, 16));
        const sentAt = epochMs();
        writeProbe(payload, id, ++sendCounter, sentAt);
        const delivered = new Promise<number>((resolve) => {
          selfWaiter = { counter: sendCounter, resolve };
        });
        await h.mcastJoined(payload, { guarantee: req.guarantee });
        latenciesMs.push((await delivered) - sentAt);
      }
      return latenciesMs;
    }
    case 'waitDelivered':
      if (report.delivered >= req.total) return null;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new EvsError('ERR_EVS_TIMEOUT', `delivered ${report.delivered} of ${req.total} after ${req.timeoutMs} ms`)), req.timeoutMs);
        deliveredWaiters.push({ total: req.total, resolve: () => { clearTimeout(timer); resolve(); } });
      });
      return null;
    case 'block': {
      const until = performance.now() + req.ms;
      while (performance.now() < until) { /* the application hogs its main thread */ }
      return null;
    }
    case 'report':
      return { ...report, lastCounter: { ...report.lastCounter } } satisfies Report;
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
