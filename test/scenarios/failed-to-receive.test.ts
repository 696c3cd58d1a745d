/**
 * TOTEM.md §3.7: a processor that can send but not receive multicast. Tokens
 * still reach it, so the ring keeps turning, but it never gets the others'
 * messages: its aru is stuck, it is the token's aru holder visit after visit,
 * and after failRecvConst (100 in simTimings) visits it logs FAILED TO RECEIVE,
 * puts itself in its failed list and forms a singleton. The others adopt that
 * failed list, exclude it and keep ordering their messages.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../sim/cluster.ts';
import { MessageType } from '../../src/wire/messages.ts';
import {
  App, confs, delivered, expectConverged, expectDeliveredEverywhere, expectLiveness, expectSafety, ringKey, view,
} from './helpers.ts';

describe('a processor that can send but not receive multicast (FAILED TO RECEIVE)', () => {
  const all = [1, 2, 3, 4, 5];
  const deaf = 3;
  const rest = [1, 2, 4, 5];
  const cluster = new Cluster({ nodeCount: 5, seed: 37, coreLogLines: 20_000 });
  const app = new App(cluster);
  expectConverged(cluster, all, 2000);
  app.traffic(200);

  // Every MCAST from another processor to node 3 is lost; tokens, JOINs and its own loopback get through.
  const faultAt = cluster.now;
  const filter = cluster.network.addFilter((p) => p.to === deaf && p.from !== deaf && p.message.type === MessageType.Mcast);
  app.traffic(1500, { everyMs: 20 });
  const faultEnd = cluster.now;
  const deliveredByRestDuringFault = rest.map((n) => delivered(cluster, n).filter((id) => {
    const a = app.accepted.find((x) => x.msgId === id);
    return a !== undefined && a.at > faultAt;
  }).length);

  cluster.network.removeFilter(filter);
  const healedAt = cluster.now;
  expectConverged(cluster, all, 3000);
  app.traffic(200);
  const quietAt = cluster.now;
  expectDeliveredEverywhere(cluster, all, app.accepted.filter((a) => a.at > healedAt).map((a) => a.msgId), 2000);
  cluster.runFor(600);

  const firstChange = (n: number) => confs(cluster, n, { after: faultAt }).slice(0, 2);
  const failedToReceiveAt = cluster.coreLines(deaf).find((l) => l.at > faultAt && l.line === 'FAILED TO RECEIVE')?.at ?? Infinity;

  it('the deaf processor detects that it is the one not receiving', () => {
    expect(failedToReceiveAt).toBeLessThan(faultEnd);
    for (const n of rest) expect(cluster.coreLines(n).some((l) => l.at > faultAt && l.line === 'FAILED TO RECEIVE')).toBe(false);
  });

  it('it leaves the ring and forms a singleton: TRANS {3} left {1,2,4,5}, REG {3}', () => {
    const [t, r] = firstChange(deaf);
    expect(t === undefined ? undefined : view(t)).toMatchObject({ type: 'transitional', members: [deaf], left: rest });
    expect(r === undefined ? undefined : view(r)).toMatchObject({ type: 'regular', members: [deaf], joined: [] });
    expect(r?.ringId.rep).toBe(deaf);
    expect(t?.at).toBeGreaterThanOrEqual(failedToReceiveAt);
  });

  it('the others exclude it: TRANS {1,2,4,5} left {3}, REG {1,2,4,5}', () => {
    const [t1] = firstChange(1);
    for (const n of rest) {
      const [t, r] = firstChange(n);
      expect([t, r].map((c) => (c === undefined ? undefined : view(c)))).toEqual([
        { type: 'transitional', ring: ringKey(t1?.ringId ?? { rep: 0, seq: 0 }), members: rest, left: [deaf], joined: [] },
        { type: 'regular', ring: ringKey(t1?.ringId ?? { rep: 0, seq: 0 }), members: rest, left: [], joined: [] },
      ]);
    }
  });

  // Once expelled, node 3 keeps sending (merge detects, joins), so the others
  // re-admit it and it expels itself again (corosync does the same; TOTEM.md
  // §10.10). A ring that contains the deaf node cannot make a safe message safe,
  // and a processor that does not install the next ring with the others (it
  // heard node 3's JOIN during RECOVERY) legitimately ends with another history:
  // EVS only binds processors that move together. So each processor must
  // deliver its own messages, and the others' messages in volume.
  it('the others keep delivering while node 3 is deaf, each its own messages included', () => {
    for (const count of deliveredByRestDuringFault) expect(count).toBeGreaterThan(200);
    for (const n of rest) {
      const have = new Set(delivered(cluster, n));
      expect(app.acceptedBy(n).filter((id) => !have.has(id))).toEqual([]);
    }
  });

  it('once it hears again, it merges back and everyone converges', () => {
    for (const n of all) expect(cluster.core(n).processor.members).toEqual(all);
  });

  it('every EVS invariant holds', () => {
    expectSafety(cluster);
    expectLiveness(cluster, { live: all, healedAt, boundMs: 2000, idleFrom: quietAt + 400, end: cluster.now });
  });
});
