import { describe, expect, it } from 'vitest';
import { toAll } from '../../../src/protocol/ready.ts';
import { Guarantee, MessageType, type Join, type Mcast, type Message, type OrfToken } from '../../../src/wire/messages.ts';
import { wireCodec } from '../../sim/cluster.ts';
import { Network, type Arrival, type NetworkOptions } from '../../sim/network.ts';
import { Prng } from '../../sim/prng.ts';

const join = (sender: number): Join => ({
  type: MessageType.Join, sender, leave: false, ringSeq: 4, procList: [1, 2, 3], failedList: [],
});
const token = (sender: number): OrfToken => ({
  type: MessageType.OrfToken, sender, ringId: { rep: 1, seq: 4 }, seq: 0, tokenSeq: 0, aru: 0, aruAddr: 0,
  backlog: 0, fcc: 0, retransFlag: false, rtrList: [],
});

const mcast = (sender: number, seq: number): Mcast => ({
  type: MessageType.Mcast, sender, ringId: { rep: 1, seq: 4 }, seq, guarantee: Guarantee.Agreed, payload: new Uint8Array(8), inner: null,
});

function network(options: Partial<NetworkOptions> = {}): Network {
  return new Network({ prng: new Prng(1), codec: wireCodec, nodes: [1, 2, 3], ...options });
}

function drain(n: Network): Arrival[] {
  const out: Arrival[] = [];
  for (let a = n.pop(); a !== null; a = n.pop()) out.push(a);
  return out;
}

describe('Network', () => {
  it('MCAST-only loss on the links towards one node: its MCASTs go, the rest and the loopback arrive; a heal keeps it', () => {
    const n = network();
    for (const from of [1, 2]) n.setLink(from, 3, { mcastLossProbability: 1 });
    n.heal();
    for (let seq = 1; seq <= 20; seq++) n.send(0, 1, { to: toAll, message: mcast(1, seq) });
    n.send(0, 2, { to: toAll, message: join(2) });
    n.send(0, 3, { to: toAll, message: mcast(3, 1) });
    const arrivals = drain(n);
    expect(arrivals.filter((a) => a.to === 3 && a.message.type === MessageType.Mcast).map((a) => a.from)).toEqual([3]);
    expect(arrivals.filter((a) => a.to === 3 && a.message.type === MessageType.Join)).toHaveLength(1);
    expect(arrivals.filter((a) => a.to === 2 && a.message.type === MessageType.Mcast)).toHaveLength(21);
    n.clearLink(1, 3);
    n.send(1, 1, { to: 3, message: mcast(1, 21) });
    expect(drain(n)).toHaveLength(1);
  });


  it('multicast reaches every node including the sender; unicast one node', () => {
    const n = network();
    n.send(0, 1, { to: toAll, message: join(1) });
    n.send(0, 2, { to: 3, message: token(2) });
    const arrivals = drain(n);
    expect(arrivals.filter((a) => a.multicast).map((a) => a.to).sort()).toEqual([1, 2, 3]);
    expect(arrivals.filter((a) => !a.multicast).map((a) => [a.from, a.to])).toEqual([[2, 3]]);
  });

  it('encodes at send and decodes a private copy at each arrival', () => {
    const n = network();
    const message = join(1);
    n.send(0, 1, { to: toAll, message });
    message.procList.push(9); // mutating after send must not leak into the wire copy
    const arrivals = drain(n);
    expect(arrivals).toHaveLength(3);
    for (const a of arrivals) expect(a.message).toEqual(join(1));
    expect(arrivals[0]!.message).not.toBe(arrivals[1]!.message);
  });

  it('throws when a datagram does not decode (a codec bug, not a network event)', () => {
    const broken = { encode: () => new Uint8Array([1, 2, 3]), decode: wireCodec.decode };
    const n = network({ codec: broken });
    n.send(0, 1, { to: 2, message: token(1) });
    expect(() => n.pop()).toThrow(/does not decode/);
  });

  it('delivers in arrival-time order with a stable tie-break, delays within min..min+jitter', () => {
    const n = network({ link: { delayMinMs: 2, delayJitterMs: 3 } });
    for (let i = 0; i < 50; i++) n.send(i * 0.1, 1, { to: 2, message: token(1) });
    const arrivals = drain(n);
    for (let i = 1; i < arrivals.length; i++) expect(arrivals[i]!.at).toBeGreaterThanOrEqual(arrivals[i - 1]!.at);
    for (const a of arrivals) expect(a.at).toBeGreaterThanOrEqual(2);
    expect(Math.max(...arrivals.map((a) => a.at))).toBeLessThan(4.9 + 5);
    const tie = network({ link: { delayMinMs: 1, delayJitterMs: 0 } });
    tie.send(0, 1, { to: 2, message: token(1) });
    tie.send(0, 3, { to: 2, message: token(3) });
    expect(drain(tie).map((a) => a.from)).toEqual([1, 3]);
  });

  it('jitter reorders', () => {
    const n = network({ link: { delayMinMs: 0, delayJitterMs: 10 } });
    for (let i = 0; i < 20; i++) n.send(i * 0.01, 1, { to: 2, message: { ...token(1), seq: i } });
    const seqs = drain(n).map((a) => (a.message as OrfToken).seq);
    expect(seqs).not.toEqual([...seqs].sort((a, b) => a - b));
  });

  it('loss and duplication follow their probabilities; the loopback has its own', () => {
    const n = network({ link: { lossProbability: 0.5, duplicateProbability: 0 } });
    for (let i = 0; i < 1000; i++) n.send(0, 1, { to: 2, message: token(1) });
    const got = drain(n).length;
    expect(got).toBeGreaterThan(400);
    expect(got).toBeLessThan(600);
    expect(n.stats.lost).toBe(1000 - got);
    n.send(0, 1, { to: 1, message: token(1) });
    expect(drain(n)).toHaveLength(1); // loopback is lossless by default
    const d = network({ link: { duplicateProbability: 1 } });
    d.send(0, 1, { to: 2, message: token(1) });
    expect(drain(d)).toHaveLength(2);
    expect(d.stats.duplicated).toBe(1);
  });

  it('cut is one-way; partition, isolate and heal', () => {
    const n = network();
    n.cut(1, 2);
    n.send(0, 1, { to: 2, message: token(1) });
    n.send(0, 2, { to: 1, message: token(2) });
    expect(drain(n).map((a) => [a.from, a.to])).toEqual([[2, 1]]);
    n.heal();
    n.partition([[1], [2, 3]]);
    n.send(0, 2, { to: toAll, message: join(2) });
    expect(drain(n).map((a) => a.to).sort()).toEqual([2, 3]);
    n.heal();
    n.isolate(3);
    n.send(0, 3, { to: toAll, message: join(3) });
    n.send(0, 1, { to: 3, message: token(1) });
    expect(drain(n).map((a) => [a.from, a.to])).toEqual([[3, 3]]);
    n.heal();
    n.send(0, 1, { to: toAll, message: join(1) });
    expect(drain(n)).toHaveLength(3);
  });

  it('a node that cannot receive still sends, and hears its own loopback only if asked', () => {
    const n = network();
    n.setCannotReceive(2, true);
    n.send(0, 2, { to: toAll, message: join(2) });
    n.send(0, 1, { to: toAll, message: join(1) });
    const got = drain(n).map((a) => [a.from, a.to]);
    expect(got).toContainEqual([2, 1]);
    expect(got).toContainEqual([2, 2]);
    expect(got).not.toContainEqual([1, 2]);
    n.setCannotReceive(2, false);
    n.send(0, 2, { to: toAll, message: join(2) });
    expect(drain(n).map((a) => a.to).sort()).toEqual([1, 3]);
    n.clearCannotReceive(2);
    n.send(0, 1, { to: 2, message: token(1) });
    expect(drain(n)).toHaveLength(1);
  });

  it('drop filters by message type (e.g. only tokens), removable', () => {
    const n = network();
    const id = n.dropTypes([MessageType.OrfToken], 1);
    n.send(0, 1, { to: 2, message: token(1) });
    n.send(0, 1, { to: 2, message: join(1) as Message });
    expect(drain(n).map((a) => a.message.type)).toEqual([MessageType.Join]);
    expect(n.stats.filtered).toBe(1);
    n.removeFilter(id);
    n.send(0, 1, { to: 2, message: token(1) });
    expect(drain(n)).toHaveLength(1);
  });

  it('the same seed gives the same arrivals', () => {
    const run = (): string => {
      const n = network({ prng: new Prng(99), link: { delayJitterMs: 5, lossProbability: 0.2, duplicateProbability: 0.2 } });
      for (let i = 0; i < 100; i++) n.send(i, (i % 3) + 1, { to: toAll, message: join((i % 3) + 1) });
      return drain(n).map((a) => `${a.at.toFixed(6)}:${a.from}>${a.to}`).join(',');
    };
    expect(run()).toBe(run());
  });
});
