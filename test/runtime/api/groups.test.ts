/**
 * Group semantics over three real nodes: several handles per node with their
 * own groups, mcastJoined / mcastGroups reach exactly the handles that joined
 * one of the message's groups (the sender's node included), a handle that
 * joined nothing gets configuration changes only, and leave() stops delivery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvsError, type EvsHandle, type EvsNode } from '../../../src/index.ts';
import { bytes, layoutCases, LocalCluster, Recorder, thrownCode, waitFor } from './local-cluster.ts';

const portBase = 17210;

/** per node: A joins a, B joins b, C joins a and c, D joins nothing, S joins the sentinel group only. */
interface NodeHandles {
  readonly node: EvsNode;
  readonly a: EvsHandle;
  readonly b: EvsHandle;
  readonly c: EvsHandle;
  readonly d: EvsHandle;
  readonly s: EvsHandle;
  readonly rec: Record<'a' | 'b' | 'c' | 'd' | 's', Recorder>;
}

describe.each(layoutCases.map((c, i) => ({ ...c, port: portBase + i })))('groups, layout $name', ({ layout, cryptoThreads, port }) => {
  let cluster: LocalCluster;
  let all: NodeHandles[];
  let sentinels = 0;

  beforeAll(async () => {
    cluster = new LocalCluster({ count: 3, port, layout, cryptoThreads });
    const nodes = await cluster.startRing();
    all = await Promise.all(nodes.map(async (node) => {
      const [a, b, c, d, s] = [node.open(), node.open(), node.open(), node.open(), node.open()] as const;
      const rec = { a: new Recorder(a), b: new Recorder(b), c: new Recorder(c), d: new Recorder(d), s: new Recorder(s) };
      await Promise.all([a.join(['a']), b.join(['b']), c.join(['a', 'c']), s.join(['sentinel'])]);
      return { node, a, b, c, d, s, rec };
    }));
  });
  afterAll(async () => {
    await cluster.stop();
  });

  /**
   * Sends one message to the sentinel group from every node and waits until
   * every node delivered all of them. A resolved mcast is only queued, so one
   * sentinel would not do: another node's earlier message may be ordered after
   * it. With FIFO per sender, once a node delivered every sender's sentinel it
   * has dispatched everything those senders sent before, to every handle.
   */
  async function barrier(): Promise<void> {
    const round = ++sentinels;
    const tags = all.map((n) => `sentinel ${round} from ${n.node.nodeId}`);
    await Promise.all(all.map((n, i) => n.s.mcastJoined(bytes(tags[i]!))));
    await waitFor(() => all.every((n) => tags.every((t) => n.rec.s.texts().includes(t))), `sentinels of round ${round}`);
  }

  const texts = (r: Recorder): string[] => r.texts();

  it('mcastJoined and mcastGroups reach the handles that joined one of the groups, on every node', async () => {
    await all[0]!.a.mcastJoined(bytes('1a: to a'));                    // A and C everywhere, sender node's too
    await all[1]!.b.mcastGroups(['c'], bytes('2b: to c'));              // B did not join c: C everywhere, not B
    await all[2]!.c.mcastJoined(bytes('3c: to a,c'));                   // A and C (once each) everywhere
    await all[0]!.d.mcastGroups(['b', 'nobody'], bytes('1d: to b,nobody'), { guarantee: 'safe' }); // B only
    await all[1]!.a.mcastGroups(['nobody'], bytes('2a: to nobody'));    // no handle anywhere
    await barrier();

    // Messages of different senders are in the agreed order, which need not be the order the calls resolved
    // (a resolved mcast is queued, not yet ordered): compare sets per handle, and the order across nodes.
    const sorted = (r: Recorder): string[] => texts(r).sort();
    for (const n of all) {
      expect(sorted(n.rec.a)).toEqual(['1a: to a', '3c: to a,c']);
      expect(sorted(n.rec.b)).toEqual(['1d: to b,nobody']);
      expect(sorted(n.rec.c)).toEqual(['1a: to a', '2b: to c', '3c: to a,c']);
      expect(n.rec.d.deliveries()).toEqual([]);
      expect(n.rec.c.deliveries().map((d) => `${d.sender}:${d.groups.join(',')}`).sort()).toEqual(['1:a', '2:c', '3:a,c']);
      expect(n.rec.b.deliveries()[0]).toMatchObject({ sender: 1, guarantee: 'safe', groups: ['b', 'nobody'] });
      for (const handle of ['a', 'b', 'c'] as const) expect(texts(n.rec[handle])).toEqual(texts(all[0]!.rec[handle]));
    }
    // The message to a group nobody joined was ordered but filtered on every node.
    for (const n of all) expect((await n.node.stats()).protocol.messagesFiltered).toBeGreaterThanOrEqual(1);
    // The token went round: every node timed whole visits, its network side's stamps included (token-timing.ts).
    for (const n of all) {
      const token = (await n.node.stats()).protocol.token;
      expect(token.rotations).toBeGreaterThanOrEqual(1);
      expect(token.hold.count).toBe(token.rotations);
      expect(token.send.count).toBe(token.rotations);
      expect(token.rotation.sumUs).toBeGreaterThanOrEqual(token.hold.sumUs);
    }
  });

  it('mcastJoined on a handle that joined nothing rejects with ERR_EVS_NOT_JOINED', async () => {
    const d = all[0]!.d;
    await expect(d.mcastJoined(bytes('nothing'))).rejects.toMatchObject({ code: 'ERR_EVS_NOT_JOINED' });
    expect(() => d.tryMcastJoined(bytes('nothing'))).toThrow(EvsError);
    expect(thrownCode(() => d.tryMcastJoined(bytes('nothing')))).toBe('ERR_EVS_NOT_JOINED');
  });

  it('leave() stops delivery of that group to that handle only', async () => {
    const before = all.map((n) => texts(n.rec.c).length);
    await all[1]!.c.leave(['a']); // node 2's C keeps c
    expect(all[1]!.c.groups()).toEqual(['c']);
    await all[0]!.a.mcastJoined(bytes('after leave: to a'));
    await all[0]!.a.mcastGroups(['c'], bytes('after leave: to c'));
    await barrier();
    expect(texts(all[0]!.rec.c).slice(before[0])).toEqual(['after leave: to a', 'after leave: to c']);
    expect(texts(all[1]!.rec.c).slice(before[1])).toEqual(['after leave: to c']);
    expect(texts(all[2]!.rec.c).slice(before[2])).toEqual(['after leave: to a', 'after leave: to c']);
    // mcastJoined now goes to the groups node 2's C still has.
    await all[1]!.c.mcastJoined(bytes('2c: to c only'));
    await barrier();
    for (const n of all) expect(n.rec.c.deliveries().at(-1)).toMatchObject({ sender: 2, groups: ['c'] });
    for (const n of all) expect(texts(n.rec.a)).not.toContain('2c: to c only');
  });

  it('a handle that joined nothing gets configuration changes: first the current one, then a node leaving', async () => {
    for (const n of all) {
      expect(n.rec.d.confchgs()).toHaveLength(1);
      expect(n.rec.d.events[0]).toMatchObject({ kind: 'confchg', type: 'regular', members: [1, 2, 3] });
    }
    await all[2]!.node.stop();
    const survivors = all.slice(0, 2);
    await waitFor(() => survivors.every((n) => n.rec.d.confchgs().some((c) => c.type === 'regular' && c.members.length === 2)), 'node 3 gone');
    for (const n of survivors) {
      const changes = n.rec.d.confchgs().slice(1).map((c) => ({ type: c.type, members: c.members }));
      expect(changes).toEqual([{ type: 'transitional', members: [1, 2] }, { type: 'regular', members: [1, 2] }]);
      expect(n.rec.d.deliveries()).toEqual([]);
      // Every handle of the node saw the same change, in its stream.
      expect(n.rec.a.confchgs().map((c) => c.type)).toEqual(['regular', 'transitional', 'regular']);
    }
  });
});
