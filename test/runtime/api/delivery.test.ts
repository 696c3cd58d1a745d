/**
 * Three nodes in one process over real threads, real loopback sockets and
 * real AES-GCM: agreed and safe order, FIFO per sender, self delivery, the
 * first event of a new handle, and payload sizes up to messageBytesMax.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvsEvent, EvsNode, GuaranteeName } from '../../../src/index.ts';
import { bytes, layoutCases, LocalCluster, Recorder, text, waitFor } from './local-cluster.ts';

const portBase = 17110;

describe.each(layoutCases.map((c, i) => ({ ...c, port: portBase + i })))('delivery, layout $name', ({ layout, cryptoThreads, port }) => {
  let cluster: LocalCluster;
  let nodes: EvsNode[];

  beforeAll(async () => {
    cluster = new LocalCluster({ count: 3, port, layout, cryptoThreads });
    nodes = await cluster.startRing();
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('every node delivers every message in one order, FIFO per sender, its own included; safe ones with guarantee safe', async () => {
    const perSender = 150;
    const handles = nodes.map((n) => n.open());
    const recorders = handles.map((h) => new Recorder(h));
    await Promise.all(handles.map((h) => h.join(['order'])));
    // Each sender interleaves agreed and safe messages; all three send at once.
    const guaranteeOf = (i: number): GuaranteeName => (i % 3 === 2 ? 'safe' : 'agreed');
    await Promise.all(handles.map(async (h, n) => {
      const sends: Promise<void>[] = [];
      for (let i = 0; i < perSender; i++) sends.push(h.mcastJoined(bytes(`${n + 1}:${i}:${guaranteeOf(i)}`), { guarantee: guaranteeOf(i) }));
      await Promise.all(sends);
    }));
    const total = perSender * nodes.length;
    await waitFor(() => recorders.every((r) => r.deliveries().length >= total), `${total} deliveries on every node`);

    const reference = recorders[0]!.deliveries().map((d) => `${d.sender}|${d.guarantee}|${text(d.payload)}`);
    expect(reference).toHaveLength(total);
    for (const r of recorders) {
      // Same messages, same order on every node, nothing extra.
      expect(r.deliveries().map((d) => `${d.sender}|${d.guarantee}|${text(d.payload)}`)).toEqual(reference);
    }
    for (const d of recorders[0]!.deliveries()) {
      const [sender, , guarantee] = text(d.payload).split(':');
      expect(d.sender).toBe(Number(sender));
      expect(d.guarantee).toBe(guarantee);
      expect(d.groups).toEqual(['order']);
    }
    for (let n = 1; n <= nodes.length; n++) {
      // FIFO per sender: sender n's messages come in the order it sent them (0..perSender-1), none missing.
      const fromN = recorders[0]!.deliveries().filter((d) => d.sender === n).map((d) => Number(text(d.payload).split(':')[1]));
      expect(fromN).toEqual(Array.from({ length: perSender }, (_, i) => i));
    }
    // Self delivery: each node got its own messages (implied above, asserted directly too).
    recorders.forEach((r, n) => expect(r.deliveries().filter((d) => d.sender === n + 1)).toHaveLength(perSender));
    const safeCount = recorders[0]!.deliveries().filter((d) => d.guarantee === 'safe').length;
    expect(safeCount).toBe(nodes.length * (perSender / 3));
    await Promise.all(handles.map((h) => h.close()));
  });

  it("a new handle's first event is the current regular configuration (listener and events())", async () => {
    const membership = await nodes[1]!.membership();
    expect(membership.members).toEqual([1, 2, 3]);
    // Traffic on a group the new handle joins at once: the configuration must still come first.
    const sender = nodes[0]!.open();
    await sender.join(['first']);
    let sending = true;
    const pump = (async () => {
      for (let i = 0; sending; i++) await sender.mcastJoined(bytes(`noise ${i}`)).then(() => new Promise((r) => setImmediate(r)));
    })();

    const handle = nodes[1]!.open();
    const seen: EvsEvent[] = [];
    handle.on('deliver', (e) => seen.push(e));
    handle.on('confchg', (e) => seen.push(e));
    const iterator = handle.events();
    await handle.join(['first']);
    const first = await iterator.next();
    await waitFor(() => seen.some((e) => e.kind === 'deliver'), 'a delivery after the first configuration');
    sending = false;
    await pump;

    expect(first.done).toBe(false);
    for (const event of [first.value as EvsEvent, seen[0]!]) {
      expect(event).toMatchObject({ kind: 'confchg', type: 'regular', members: [1, 2, 3], left: [], joined: [], ringId: membership.ringId });
    }
    // The iterator yields the same stream as the listeners, in the same order.
    const fromIterator: EvsEvent[] = [first.value as EvsEvent];
    while (fromIterator.length < seen.length) fromIterator.push((await iterator.next()).value as EvsEvent);
    expect(fromIterator).toEqual(seen);
    expect(seen.filter((e) => e.kind === 'confchg')).toHaveLength(1);

    // Closing the handle ends its iterator.
    await handle.close();
    let rest = await iterator.next();
    while (rest.done !== true) rest = await iterator.next();
    expect(rest.done).toBe(true);
    await sender.close();
  });

  it("node.options are the resolved options without the cluster key: serialising a node never prints it", () => {
    const options = nodes[0]!.options;
    expect(options.key).toBeNull();
    expect(options.crypto).toBe('aes-256-gcm');
    const text = JSON.stringify(options);
    const key = Buffer.from(cluster.key);
    for (const form of [key.toString('hex'), key.toString('base64'), JSON.stringify(Array.from(key))]) expect(text).not.toContain(form);
    expect(Object.isFrozen(options)).toBe(true);
  });

  it('payloads of 1 B, 100 B, 1400 B, 64 KiB and 1 MiB (messageBytesMax) arrive byte-identical on every node', async () => {
    expect(nodes[0]!.options.messageBytesMax).toBe(1024 * 1024);
    const sizes = [1, 100, 1400, 64 * 1024, 1024 * 1024];
    const handles = nodes.map((n) => n.open());
    const recorders = handles.map((h) => new Recorder(h));
    await Promise.all(handles.map((h) => h.join(['sizes'])));
    const sent = sizes.map((size) => randomBytes(size));
    const hash = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
    // Spread over the senders so that large messages from several nodes interleave on the ring.
    await Promise.all(sent.map((payload, i) => handles[i % handles.length]!.mcastGroups(['sizes'], payload)));
    await waitFor(() => recorders.every((r) => r.deliveries().length >= sizes.length), 'every size on every node');

    const want = sent.map((payload, i) => `${(i % handles.length) + 1}:${payload.length}:${hash(payload)}`).sort();
    for (const r of recorders) {
      expect(r.deliveries().map((d) => `${d.sender}:${d.payload.length}:${hash(d.payload)}`).sort()).toEqual(want);
    }
    await Promise.all(handles.map((h) => h.close()));
  });
});
