/**
 * The Accelerated Ring (totem.ordering 'accelerated', token-visit.ts) in the
 * simulator: the wire shape of a visit, classic and accelerated on the same
 * seed, a holder that dies between its token and its held-back messages (all
 * of them lost, or some reaching only some survivors), a held-back message
 * lost on the way to one member, and a cluster of mixed orderings that must
 * never merge. Every scenario ends with the EVS checkers over the whole log;
 * every processor also checks the visit shape and the request limit after
 * every visit (invariants.ts, `verify` is on in the simulator).
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../sim/cluster.ts';
import type { PacketView } from '../sim/network.ts';
import { MessageType, ringIdEqual, type Mcast, type Message, type RingId } from '../../src/wire/messages.ts';
import type { TotemTimings } from '../../src/protocol/config.ts';
import {
  App, confs, deliveries, delivered, expectConverged, expectDeliveredEverywhere, expectSafety, ringOf, sorted,
} from './helpers.ts';

const accelerated: TotemTimings = { ordering: 'accelerated', maxMessages: 10, windowSize: 40, acceleratedWindow: 6 };

/** What each node put on the wire, in send order (one entry per datagram, not per copy). */
interface WireSend { readonly from: number; readonly at: number; readonly message: Message }

/** Record every datagram once (a multicast at its loopback copy, a unicast at its only copy); drops nothing. */
function recordSends(cluster: Cluster): WireSend[] {
  const sends: WireSend[] = [];
  cluster.network.addFilter((p: PacketView) => {
    if (!p.multicast || p.to === p.from) sends.push({ from: p.from, at: cluster.now, message: p.message });
    return false;
  });
  return sends;
}

/** new MCASTs a node sent after its token on the same visit (their seq is at most that token's seq). */
function postTokenMcasts(sends: readonly WireSend[]): Mcast[] {
  const lastToken = new Map<number, { at: number; seq: number }>();
  const out: Mcast[] = [];
  for (const s of sends) {
    if (s.message.type === MessageType.OrfToken) lastToken.set(s.from, { at: s.at, seq: s.message.seq });
    if (s.message.type !== MessageType.Mcast || s.message.inner !== null) continue;
    const token = lastToken.get(s.from);
    if (token !== undefined && token.at === s.at && s.message.seq <= token.seq && s.message.sender === s.from) out.push(s.message);
  }
  return out;
}

/** every `everyMs` for `ms`, each of `senders` submits `count` messages of 1400 B at once (each fills a datagram). */
function bursts(cluster: Cluster, app: App, ms: number, options: { senders: readonly number[]; count: number; everyMs?: number }): void {
  const end = cluster.now + ms;
  while (cluster.now < end) {
    for (const id of options.senders) for (let i = 0; i < options.count && cluster.isUp(id); i++) app.send(id, { size: 1400 });
    cluster.runFor(options.everyMs ?? 10);
  }
}

function run(timings: TotemTimings, seed: number): { cluster: Cluster; app: App; sends: WireSend[] } {
  const cluster = new Cluster({ nodeCount: 4, seed, timings });
  const sends = recordSends(cluster);
  const app = new App(cluster);
  expectConverged(cluster, [1, 2, 3, 4], 2000);
  bursts(cluster, app, 500, { senders: [1, 2, 3, 4], count: 12 });
  expectDeliveredEverywhere(cluster, [1, 2, 3, 4], app.accepted.map((a) => a.msgId), 3000);
  return { cluster, app, sends };
}

describe('accelerated and classic on the same seed', () => {
  const classic = run({ maxMessages: 10, windowSize: 40 }, 7001);
  const fast = run(accelerated, 7001);

  it('classic sends every new message before its token; accelerated sends some right after it', () => {
    expect(postTokenMcasts(classic.sends)).toEqual([]);
    const after = postTokenMcasts(fast.sends);
    expect(after.length).toBeGreaterThan(100);
    // never more than acceleratedWindow of one visit after its token, and all 6 when the visit sent that many
    const counts = postTokenCountsPerVisit(fast.sends);
    expect(Math.max(...counts)).toBe(6);
  });

  it('both deliver every accepted message everywhere, in one total order, with every invariant', () => {
    for (const { cluster, app } of [classic, fast]) {
      expect(app.accepted.length).toBeGreaterThan(500);
      const order = delivered(cluster, 1);
      for (const n of [2, 3, 4]) expect(delivered(cluster, n)).toEqual(order);
      expectSafety(cluster);
      for (const n of [1, 2, 3, 4]) expect(cluster.core(n).processor.stats.failedToReceive).toBe(0);
    }
  });
});

/** how many new MCASTs each visit sent after its token. */
function postTokenCountsPerVisit(sends: readonly WireSend[]): number[] {
  const counts: number[] = [];
  let current: { from: number; at: number; seq: number; n: number } | null = null;
  for (const s of sends) {
    if (s.message.type === MessageType.OrfToken) {
      if (current !== null) counts.push(current.n);
      current = { from: s.from, at: s.at, seq: s.message.seq, n: 0 };
    } else if (current !== null && s.message.type === MessageType.Mcast && s.from === current.from && s.at === current.at &&
      s.message.seq <= current.seq && s.message.sender === s.from) {
      current.n += 1;
    }
  }
  if (current !== null) counts.push(current.n);
  return counts;
}

/** deliveries of ring `r` by `node` whose seq is one of `seqs`. */
function deliveredSeqs(cluster: Cluster, node: number, r: RingId, seqs: ReadonlySet<number>): number[] {
  return deliveries(cluster, node).filter((d) => ringIdEqual(d.ringId, r) && seqs.has(d.seq)).map((d) => d.seq);
}

describe('the holder dies between its token and its held-back messages', () => {
  const cluster = new Cluster({ nodeCount: 4, seed: 7002, timings: { ...accelerated, acceleratedWindow: 10 } });
  const app = new App(cluster);
  expectConverged(cluster, [1, 2, 3, 4], 2000);
  const r1 = ringOf(cluster, 1);
  app.traffic(200, { everyMs: 2 });
  cluster.crashAfterToken(1);
  bursts(cluster, app, 100, { senders: [1], count: 20 });
  const crash = cluster.crashedAfterToken[0];
  expectConverged(cluster, [2, 3, 4], 3000);
  app.traffic(200, { everyMs: 5, senders: () => [2, 3, 4] });
  expectDeliveredEverywhere(cluster, [2, 3, 4], [2, 3, 4].flatMap((n) => app.acceptedBy(n)), 3000);

  it('node 1 crashed right after a token send, losing new messages the token had numbered', () => {
    expect(crash).toBeDefined();
    expect(crash!.lost.length).toBeGreaterThan(0);
    for (const m of crash!.lost) expect(m.type === MessageType.Mcast && m.sender === 1).toBe(true);
  });

  it('no survivor delivers the lost seqs, nor anything of node 1 numbered after them; all deliver the same', () => {
    const lost = new Set(crash!.lost.map((m) => (m as Mcast).seq));
    const firstLost = Math.min(...lost);
    const old = (n: number): string[] => deliveries(cluster, n).filter((d) => ringIdEqual(d.ringId, r1)).map((d) => `${d.sender}/${d.seq}`);
    for (const n of [2, 3, 4]) {
      expect(deliveredSeqs(cluster, n, r1, lost)).toEqual([]);
      expect(deliveries(cluster, n).filter((d) => ringIdEqual(d.ringId, r1) && d.sender === 1 && d.seq > firstLost)).toEqual([]);
      expect(old(n)).toEqual(old(2));
      expect(confs(cluster, n, { after: crash!.at }).some((c) => c.type === 'transitional' && c.left.includes(1))).toBe(true);
    }
    expectSafety(cluster);
  });
});

describe('the holder dies after part of its held-back messages reached part of the survivors', () => {
  const cluster = new Cluster({ nodeCount: 4, seed: 7003, timings: { ...accelerated, acceleratedWindow: 10 } });
  const app = new App(cluster);
  expectConverged(cluster, [1, 2, 3, 4], 2000);
  const r1 = ringOf(cluster, 1);
  app.traffic(200, { everyMs: 2 });
  // node 4 hears nothing of node 1 from now on; nodes 2 and 3 get 3 of the held-back messages
  const deafTo1 = cluster.network.addFilter((p) => p.from === 1 && p.to === 4 && p.message.type === MessageType.Mcast);
  cluster.crashAfterToken(1, 3);
  bursts(cluster, app, 100, { senders: [1], count: 20 });
  cluster.network.removeFilter(deafTo1);
  const crash = cluster.crashedAfterToken[0];
  expectConverged(cluster, [2, 3, 4], 3000);
  cluster.runFor(500);

  it('some held-back messages went out, the rest were lost', () => {
    expect(crash).toBeDefined();
    expect(crash!.sent.length).toBe(3);
    expect(crash!.lost.length).toBeGreaterThan(0);
  });

  it('recovery makes every transitional member deliver the same set of the old ring (invariant 11)', () => {
    const sent = new Set(crash!.sent.map((m) => (m as Mcast).seq));
    const lost = new Set(crash!.lost.map((m) => (m as Mcast).seq));
    const old = (n: number): string[] => sorted(deliveries(cluster, n).filter((d) => ringIdEqual(d.ringId, r1)).map((d) => `${d.sender}/${d.seq}`));
    for (const n of [3, 4]) expect(old(n)).toEqual(old(2));
    // the ones 2 and 3 received are recovered for 4 and delivered by all three; the lost ones by none
    for (const n of [2, 3, 4]) {
      expect(sorted(deliveredSeqs(cluster, n, r1, sent).map(String))).toEqual(sorted([...sent].map(String)));
      expect(deliveredSeqs(cluster, n, r1, lost)).toEqual([]);
    }
    expectSafety(cluster);
  });
});

describe('a held-back message lost on the way to one member, nobody failing', () => {
  const cluster = new Cluster({ nodeCount: 3, seed: 7004, timings: { ...accelerated, missCountConst: 1 } });
  const sends = recordSends(cluster);
  const app = new App(cluster);
  expectConverged(cluster, [1, 2, 3], 2000);
  let dropped: { seq: number; at: number } | null = null;
  const lastTokenOf1 = { at: -1, seq: -1 };
  // drop the first post-token MCAST of node 1 on its way to node 3
  cluster.network.addFilter((p) => {
    if (p.from === 1 && p.message.type === MessageType.OrfToken) Object.assign(lastTokenOf1, { at: cluster.now, seq: p.message.seq });
    if (dropped !== null || p.from !== 1 || p.to !== 3 || p.message.type !== MessageType.Mcast || p.message.sender !== 1) return false;
    if (lastTokenOf1.at !== cluster.now || p.message.seq > lastTokenOf1.seq) return false;
    dropped = { seq: p.message.seq, at: cluster.now };
    return true;
  });
  app.traffic(300, { everyMs: 2, senders: () => [1] });
  expectDeliveredEverywhere(cluster, [1, 2, 3], app.accepted.map((a) => a.msgId), 2000);

  it('node 3 asks for it only on a later visit (after its own token carried that seq), gets it, delivers in order', () => {
    expect(dropped).not.toBeNull();
    const { seq, at } = dropped!;
    const request = cluster.coreLines(3).find((l) => l.at >= at && l.line.startsWith('Retransmit List:') && l.line.split(' ').includes(seq.toString(16)));
    expect(request, `node 3 requested ${seq.toString(16)}`).toBeDefined();
    // node 3 forwarded a token whose seq covered the dropped message before it asked for it
    const coveringToken = sends.find((s) => s.from === 3 && s.at >= at && s.message.type === MessageType.OrfToken && s.message.seq >= seq);
    expect(coveringToken).toBeDefined();
    expect(request!.at).toBeGreaterThan(coveringToken!.at);
    expect(delivered(cluster, 3)).toEqual(delivered(cluster, 1));
    for (const n of [1, 2, 3]) expect(cluster.core(n).processor.stats.failedToReceive).toBe(0);
    expect(confs(cluster, 3).filter((c) => c.type === 'regular')).toHaveLength(1);
    expectSafety(cluster);
  });
});

describe('a cluster of mixed orderings never merges', () => {
  const cluster = new Cluster({
    nodeCount: 4, seed: 7005, timings: { maxMessages: 10, windowSize: 40 },
    nodeTimings: (id) => (id >= 3 ? { ordering: 'accelerated', acceleratedWindow: 5 } : {}),
  });
  const app = new App(cluster);
  expectConverged(cluster, [1, 2], 2000);
  expectConverged(cluster, [3, 4], 2000);
  app.traffic(1000, { everyMs: 5 });
  cluster.runFor(1000);

  it('classic {1,2} and accelerated {3,4} each keep their own ring; the other\'s datagrams are dropped and counted', () => {
    expect(cluster.converged([1, 2])).toBe(true);
    expect(cluster.converged([3, 4])).toBe(true);
    for (const n of [1, 2, 3, 4]) expect(confs(cluster, n).filter((c) => c.type === 'regular')).toHaveLength(1);
    expect(cluster.network.stats.orderingDropped).toBeGreaterThan(100);
    const mine = (n: number): Set<string> => new Set(delivered(cluster, n).map((id) => id.split(':')[0] ?? ''));
    expect(mine(1)).toEqual(new Set(['1', '2']));
    expect(mine(3)).toEqual(new Set(['3', '4']));
    expectSafety(cluster);
  });
});
