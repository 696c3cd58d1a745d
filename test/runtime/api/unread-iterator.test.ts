/**
 * Bounded delivery buffering (issue 11): an `events()` iterator nobody reads
 * must not buffer without bound. Its buffer stops at `highWaterMark`, the
 * node stops draining its deliver ring, the protocol worker's backlog grows to
 * `rings.deliverBacklogBytes`, and past it the node leaves the ring with
 * ERR_EVS_DELIVERY_OVERFLOW — which the iterator throws once its buffered
 * events are read. Before the fix 100k × 1 KB took rss from 80 to 315 MiB
 * while the backlog stayed 0.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { EvsError, type EvsEvent, type EvsNode } from '../../../src/index.ts';
import { LocalCluster, waitFor } from './local-cluster.ts';

const port = 17720;
const mib = 1024 * 1024;
const messages = 100_000;
const payloadBytes = 1024;
const backlogBytes = 8 * mib;
const deliverRingBytes = 1 * mib;

/** a full garbage collection of the main thread's heap (the flag set at run time, as vitest starts us without it). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** memory the main thread holds live: its JS heap and the ArrayBuffers outside it (payload slabs). */
function mainThreadBytes(): number {
  collectGarbage();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('an unread events() iterator', () => {
  const cluster = new LocalCluster({
    count: 2, port, layout: 'single', crypto: 'none',
    extra: { rings: { deliverBacklogBytes: backlogBytes, deliverBytes: deliverRingBytes + 1 * mib } },
  });
  afterAll(async () => {
    cluster.errors.length = 0; // node 2's overflow is the expected outcome, checked below
    await cluster.stop();
  });

  it(`keeps rss bounded under ${messages} × ${payloadBytes} B and ends in ERR_EVS_DELIVERY_OVERFLOW`, async () => {
    const [sender, slow] = (await cluster.startRing()) as [EvsNode, EvsNode];
    const unread = slow.open();
    await unread.join(['flood']);
    const iterator = unread.events()[Symbol.asyncIterator]();
    const nodeErrors: EvsError[] = [];
    slow.on('error', (e) => nodeErrors.push(e));

    const heldBefore = mainThreadBytes();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const payload = new Uint8Array(payloadBytes).fill(7);
    const out = sender.open();
    for (let i = 0; i < messages; i++) {
      await out.mcastGroups(['flood'], payload);
      if (i % 1000 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }
    // the overflow happens while the sender is still sending; give the last deliveries a moment
    await waitFor(() => nodeErrors.length > 0, 'the slow node to give up', 10_000).catch(() => undefined);
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    const grownMiB = (rssPeak - rssBefore) / mib;
    const heldMiB = (mainThreadBytes() - heldBefore) / mib;
    const rssAfterMiB = (process.memoryUsage().rss - rssBefore) / mib;
    console.log(`rss before ${(rssBefore / mib).toFixed(0)} MiB, peak +${grownMiB.toFixed(0)} MiB, after gc +${rssAfterMiB.toFixed(0)} MiB; `
      + `main thread holds +${heldMiB.toFixed(1)} MiB; node errors: ${nodeErrors.map((e) => e.code).join(', ') || 'none'}`);

    // What the unread iterator holds: at most highWaterMark (1024) events of 1 KiB, far below the 100 MiB sent.
    expect(heldMiB).toBeLessThan(16);
    // rss: the backlog (8 MiB), the rings and the iterator's buffer on top of what moving 100 MiB through
    // the threads costs anyway (about 100 MiB of transient heap, measured with nobody joined); before: +266 MiB.
    expect(grownMiB).toBeLessThan(200);
    expect(nodeErrors.map((e) => e.code)).toEqual(['ERR_EVS_DELIVERY_OVERFLOW']);

    // the iterator gives what it buffered, in order, then throws the node's error
    let read = 0;
    const thrown = await (async () => {
      for (;;) {
        const r: IteratorResult<EvsEvent> = await iterator.next();
        if (r.done === true) return null;
        if (r.value.kind === 'deliver') read++;
      }
    })().catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(EvsError);
    expect((thrown as EvsError).code).toBe('ERR_EVS_DELIVERY_OVERFLOW');
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(messages);
  }, 240_000);
});
