/**
 * totem.ordering 'accelerated' over real workers, real loopback sockets and
 * real AES-GCM, inline and in the crypto pool: one total order with agreed
 * and safe messages, FIFO per sender. And a cluster whose nodes disagree on
 * the ordering: each half keeps its own ring, the other half's datagrams are
 * dropped before the core and counted (decodeDropped.ordering).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvsNode, EvsNodeStartOptions, GuaranteeName } from '../../../src/index.ts';
import { bytes, fastTotem, layoutCases, LocalCluster, Recorder, sleep, text, waitFor } from './local-cluster.ts';

const portBase = 17710;
const accelerated = { ...fastTotem, ordering: 'accelerated', maxMessages: 12, windowSize: 48, acceleratedWindow: 8 } as const;

describe.each(layoutCases.map((c, i) => ({ ...c, port: portBase + i })))('accelerated ordering, layout $name', ({ layout, cryptoThreads, port }) => {
  let cluster: LocalCluster;
  let nodes: EvsNode[];

  beforeAll(async () => {
    cluster = new LocalCluster({ count: 3, port, layout, cryptoThreads, extra: { totem: accelerated } });
    nodes = await cluster.startRing();
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('every node delivers every message in one order, FIFO per sender, agreed and safe', async () => {
    const perSender = 400;
    const handles = nodes.map((n) => n.open());
    const recorders = handles.map((h) => new Recorder(h));
    await Promise.all(handles.map((h) => h.join(['acc'])));
    const guaranteeOf = (i: number): GuaranteeName => (i % 4 === 3 ? 'safe' : 'agreed');
    // 1000-byte payloads: one or two per datagram, so visits send many datagrams and hold some back
    const pad = 'x'.repeat(1000);
    await Promise.all(handles.map(async (h, n) => {
      const sends: Promise<void>[] = [];
      for (let i = 0; i < perSender; i++) sends.push(h.mcastJoined(bytes(`${n + 1}:${i}:${guaranteeOf(i)}:${pad}`), { guarantee: guaranteeOf(i) }));
      await Promise.all(sends);
    }));
    const total = perSender * nodes.length;
    await waitFor(() => recorders.every((r) => r.deliveries().length >= total), `${total} deliveries on every node`, 30_000);
    const reference = recorders[0]!.deliveries().map((d) => `${d.sender}|${d.guarantee}|${text(d.payload).split(':').slice(0, 3).join(':')}`);
    expect(reference).toHaveLength(total);
    for (const r of recorders) {
      expect(r.deliveries().map((d) => `${d.sender}|${d.guarantee}|${text(d.payload).split(':').slice(0, 3).join(':')}`)).toEqual(reference);
    }
    for (let n = 1; n <= nodes.length; n++) {
      const fromN = recorders[0]!.deliveries().filter((d) => d.sender === n).map((d) => Number(text(d.payload).split(':')[1]));
      expect(fromN).toEqual(Array.from({ length: perSender }, (_, i) => i));
    }
    for (const node of nodes) {
      const stats = await node.stats();
      expect(stats.protocol.decodeDropped.ordering).toBe(0);
      expect((await node.membership()).members).toEqual([1, 2, 3]);
    }
    await Promise.all(handles.map((h) => h.close()));
  });
});

/** nodes 1 and 2 classic, 3 and 4 accelerated (the runtime's default), one member list and one key. */
class MixedCluster extends LocalCluster {
  override nodeOptions(nodeId: number): EvsNodeStartOptions {
    const base = super.nodeOptions(nodeId);
    return nodeId <= 2 ? { ...base, totem: { ...fastTotem, ordering: 'classic' } } : base;
  }
}

describe('a cluster of mixed orderings', () => {
  let cluster: MixedCluster;

  beforeAll(async () => {
    cluster = new MixedCluster({ count: 4, port: portBase + 5 });
    await cluster.start();
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('never merges: classic {1,2} and accelerated {3,4} keep their rings; the other ordering is dropped and counted', async () => {
    await cluster.waitForRing([1, 2]);
    await cluster.waitForRing([3, 4]);
    const handles = [1, 2, 3, 4].map((id) => cluster.node(id).open());
    const recorders = handles.map((h) => new Recorder(h));
    await Promise.all(handles.map((h) => h.join(['mixed'])));
    await Promise.all(handles.map((h, i) => h.mcastJoined(bytes(`from ${i + 1}`))));
    // several token-loss and consensus periods: long enough for a merge, were one possible
    await sleep(3 * (fastTotem.tokenMs + fastTotem.consensusMs));
    await waitFor(() => recorders.every((r) => r.deliveries().length >= 2), 'each half delivers its own two messages');
    expect(recorders.map((r) => r.texts().sort())).toEqual([
      ['from 1', 'from 2'], ['from 1', 'from 2'], ['from 3', 'from 4'], ['from 3', 'from 4'],
    ]);
    expect((await cluster.node(1).membership()).members).toEqual([1, 2]);
    expect((await cluster.node(4).membership()).members).toEqual([3, 4]);
    for (const r of recorders) expect(r.confchgs().filter((c) => c.type === 'regular').every((c) => c.members.length === 2)).toBe(true);
    for (const id of [1, 2, 3, 4]) expect((await cluster.node(id).stats()).protocol.decodeDropped.ordering).toBeGreaterThan(0);
    await Promise.all(handles.map((h) => h.close()));
  });
});
