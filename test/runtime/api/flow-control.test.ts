/**
 * Back-pressure on delivery: pause()/resume() and events({ highWaterMark,
 * signal }) stop and restart the node's reading of its deliver ring. The
 * ring is shared by the node's handles: while one holds it, no handle of the
 * node gets events; nothing is lost or reordered, and what waits does so in
 * the ring and the protocol worker's backlog (deliverBacklogBytes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvsError, type EvsEvent, type EvsHandle, type EvsNode } from '../../../src/index.ts';
import { bytes, LocalCluster, Recorder, sleep, text, waitFor } from './local-cluster.ts';

const port = 17740;
/** long enough for the node to have dispatched anything it was going to (deliveries take ~1 ms on loopback) */
const settleMs = 200;

describe('flow control of delivery', () => {
  let cluster: LocalCluster;
  let sender: EvsHandle;
  let node: EvsNode;

  beforeAll(async () => {
    cluster = new LocalCluster({ count: 2, port, layout: 'split' });
    const [n1, n2] = (await cluster.startRing()) as [EvsNode, EvsNode];
    sender = n1.open();
    node = n2;
  });
  afterAll(async () => {
    await cluster.stop();
  });

  async function send(group: string, from: number, count: number): Promise<void> {
    for (let i = from; i < from + count; i++) await sender.mcastGroups([group], bytes(`${group}-${i}`));
  }

  it('pause() stops every handle of the node; resume() delivers all of it, in order, from where it waited', async () => {
    const a = node.open();
    const b = node.open();
    await Promise.all([a.join(['p']), b.join(['p'])]);
    const gotA = new Recorder(a);
    const gotB = new Recorder(b);
    a.pause();
    expect(a.isPaused()).toBe(true);
    await send('p', 0, 200);
    await sleep(settleMs);
    expect(gotA.deliveries()).toEqual([]);
    expect(gotB.deliveries()).toEqual([]); // b shares the ring: it waits too (the documented choice)
    const stats = await node.stats();
    expect(stats.protocol.messagesDelivered).toBeGreaterThanOrEqual(200); // the worker delivered them: into the ring
    a.resume();
    const want = Array.from({ length: 200 }, (_, i) => `p-${i}`);
    await waitFor(() => gotA.deliveries().length === 200 && gotB.deliveries().length === 200, 'all 200 after resume');
    expect(gotA.texts()).toEqual(want);
    expect(gotB.texts()).toEqual(want);
    await Promise.all([a.close(), b.close()]);
  });

  it('events({ highWaterMark }) holds the node at the mark until read below it, and loses nothing', async () => {
    const h = node.open();
    const other = node.open();
    await Promise.all([h.join(['w']), other.join(['w'])]);
    const seen = new Recorder(other);
    const highWaterMark = 8;
    const iterator = h.events({ highWaterMark })[Symbol.asyncIterator]();
    await send('w', 0, 100);
    await sleep(settleMs);
    // the iterator holds at most its mark (plus the rest of the record that filled it): the other handle stopped with it
    expect(seen.deliveries().length).toBeLessThanOrEqual(highWaterMark);
    const read: EvsEvent[] = [];
    while (read.filter((e) => e.kind === 'deliver').length < 100) {
      const r = await iterator.next();
      if (r.done === true) break;
      read.push(r.value);
      if (read.length % 10 === 0) await sleep(1); // a slow reader
    }
    const texts = read.filter((e) => e.kind === 'deliver').map((e) => text(e.payload));
    expect(texts).toEqual(Array.from({ length: 100 }, (_, i) => `w-${i}`));
    await waitFor(() => seen.deliveries().length === 100, 'the other handle gets all 100 too');
    await iterator.return?.();
    await Promise.all([h.close(), other.close()]);
  });

  it('events({ signal }): an abort rejects next() with ERR_EVS_ABORTED and lets the node deliver again', async () => {
    const h = node.open();
    const other = node.open();
    await Promise.all([h.join(['s']), other.join(['s'])]);
    const seen = new Recorder(other);
    const controller = new AbortController();
    const iterator = h.events({ highWaterMark: 2, signal: controller.signal })[Symbol.asyncIterator]();
    await send('s', 0, 20);
    await sleep(settleMs);
    expect(seen.deliveries().length).toBeLessThan(20);
    controller.abort();
    await expect(iterator.next()).rejects.toMatchObject({ code: 'ERR_EVS_ABORTED' });
    expect((await iterator.next()).done).toBe(true);
    await waitFor(() => seen.deliveries().length === 20, 'the rest after the abort');
    await Promise.all([h.close(), other.close()]);
  });

  it('an iterator ends when its handle closes, after what it buffered', async () => {
    const h = node.open();
    await h.join(['c']);
    const iterator = h.events()[Symbol.asyncIterator]();
    await send('c', 0, 3);
    const got = new Recorder(h);
    await waitFor(() => got.deliveries().length === 3, 'three');
    await h.close();
    const rest: string[] = [];
    for (let r = await iterator.next(); r.done !== true; r = await iterator.next()) if (r.value.kind === 'deliver') rest.push(text(r.value.payload));
    expect(rest).toEqual(['c-0', 'c-1', 'c-2']);
  });

  it('a refused message reaches the handle: its error listener, its iterators (which then end), else the node', async () => {
    const h = node.open();
    const refusal = new EvsError('ERR_EVS_INTERNAL', 'refused by the protocol worker');
    const nodeErrors: EvsError[] = [];
    node.on('error', (e) => nodeErrors.push(e));
    h.refused(refusal); // what the dispatcher calls for an error record of this handle (refused-submit.test.ts)
    expect(nodeErrors).toEqual([refusal]); // nobody listens on the handle: the node reports it
    const iterator = h.events()[Symbol.asyncIterator]();
    const onHandle: EvsError[] = [];
    h.on('error', (e) => onHandle.push(e));
    h.refused(refusal);
    expect(onHandle).toEqual([refusal]);
    await expect(iterator.next()).rejects.toBe(refusal);
    expect((await iterator.next()).done).toBe(true);
    expect(nodeErrors).toHaveLength(1);
    expect(cluster.errors).toHaveLength(1);
    cluster.errors.length = 0; // the one expected here, not a failure of the node
    await h.close();
  });
});
