/**
 * Membership changes without message loss: the representative restarts before
 * the others notice it was gone (TOTEM.md §7), and a processor leaves
 * gracefully (a LEAVE is a JOIN that names the sender failed, §2.4).
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../sim/cluster.ts';
import {
  App, confs, delivered, expectConverged, formatRecord, expectDeliveredEverywhere, expectLiveness, expectSafety, ringKey, ringOf, view,
} from './helpers.ts';

describe('restart of the representative before the others time out (TOTEM.md §7)', () => {
  const all = [1, 2, 3, 4, 5];
  const peers = [2, 3, 4, 5];
  const cluster = new Cluster({ nodeCount: 5, seed: 7 });
  const app = new App(cluster);
  expectConverged(cluster, all, 2000);
  app.traffic(300);
  const before = ringOf(cluster, 2);
  const storedSeq = cluster.disk.get(1);

  const crashAt = cluster.now;
  cluster.crash(1);
  cluster.runFor(30); // well below the 200 ms token timeout
  const restartAt = cluster.now;
  cluster.restart(1);
  expectConverged(cluster, all, 2000);
  const after = ringOf(cluster, 1);
  app.traffic(300);
  const quietAt = cluster.now;
  expectDeliveredEverywhere(cluster, all, app.accepted.filter((a) => a.at > quietAt - 300).map((a) => a.msgId), 1000);
  cluster.runFor(600);

  it('no peer timed out the token before the restarted node showed up', () => {
    for (const n of peers) {
      const lines = cluster.coreLines(n).filter((l) => l.at > crashAt && l.at < restartAt + 1);
      expect(lines.some((l) => l.line.includes('token timed out'))).toBe(false);
    }
  });

  it('the restarted node starts from the stored ring seq + 1, unique to it', () => {
    const start = cluster.log.nodeRecords(1).find((r) => r.kind === 'start' && r.incarnation === 2);
    expect(start).toMatchObject({ ringSeqLoaded: storedSeq });
    expect(storedSeq).toBe(before.seq);
  });

  it('the peers see TRANS {peers} left {1}, then REG {all} joined {1}', () => {
    for (const n of peers) {
      expect(confs(cluster, n, { after: crashAt }).map(view)).toEqual([
        { type: 'transitional', ring: ringKey(after), members: peers, left: [1], joined: [] },
        { type: 'regular', ring: ringKey(after), members: all, left: [], joined: [1] },
      ]);
    }
  });

  it('the restarted node sees TRANS {} then REG {all} joined {everyone}', () => {
    const seen = confs(cluster, 1, { incarnation: 2 }).map((c) => formatRecord(c)).join('\n');
    const lines = cluster.coreLines(1).filter((l) => l.incarnation === 2).slice(0, 20).map((l) => `${l.at.toFixed(3)} ${l.line}`).join('\n');
    expect(confs(cluster, 1, { incarnation: 2 }).slice(0, 2).map(view), `n1#2 configurations:\n${seen}\nn1#2 core log:\n${lines}`).toEqual([
      { type: 'transitional', ring: ringKey(after), members: [], left: [], joined: [] },
      { type: 'regular', ring: ringKey(after), members: all, left: [], joined: all },
    ]);
  });

  it('the new ring seq is higher than before', () => {
    expect(after.seq).toBeGreaterThan(before.seq);
    expect(after.rep).toBe(1);
  });

  it('the restarted node delivers the new ring\'s messages like everyone else', () => {
    const late = app.accepted.filter((a) => a.at > quietAt - 300).map((a) => a.msgId);
    expect(late.length).toBeGreaterThan(50);
    const have = new Set(delivered(cluster, 1, 2));
    expect(late.filter((id) => !have.has(id))).toEqual([]);
  });

  it('every EVS invariant holds', () => {
    expectSafety(cluster);
    expectLiveness(cluster, { live: all, healedAt: restartAt, boundMs: 1000, idleFrom: quietAt + 300, end: cluster.now });
  });
});

describe('graceful leave', () => {
  const all = [1, 2, 3, 4, 5];
  const rest = [1, 2, 3, 5];
  const cluster = new Cluster({ nodeCount: 5, seed: 8 });
  const app = new App(cluster);
  expectConverged(cluster, all, 2000);
  app.traffic(300);
  const before = ringOf(cluster, 1);
  const leaveAt = cluster.now;
  cluster.leave(4);
  const elapsed = expectConverged(cluster, rest, 2000);
  const after = ringOf(cluster, 1);
  app.traffic(300);
  const quietAt = cluster.now;
  cluster.runFor(600);
  const { tokenMs, joinMs } = cluster.config(1);

  it('the others re-form well before the token timeout would fire', () => {
    expect(elapsed).toBeLessThan(tokenMs / 2);
    for (const n of rest) expect(cluster.coreLines(n).some((l) => l.at > leaveAt && l.line.includes('token timed out'))).toBe(false);
    expect(rest.some((n) => cluster.coreLines(n).some((l) => l.at > leaveAt && l.line === 'Received LEAVE message from 4'))).toBe(true);
    expect(elapsed).toBeLessThan(tokenMs);
    expect(elapsed).toBeLessThan(5 * joinMs);
  });

  it('they report TRANS {1,2,3,5} left {4}, then REG {1,2,3,5}', () => {
    for (const n of rest) {
      expect(confs(cluster, n, { after: leaveAt }).map(view)).toEqual([
        { type: 'transitional', ring: ringKey(after), members: rest, left: [4], joined: [] },
        { type: 'regular', ring: ringKey(after), members: rest, left: [], joined: [] },
      ]);
    }
    expect(after.seq).toBe(before.seq + 4);
  });

  it('messages the others accepted are all delivered', () => {
    const sent = rest.flatMap((n) => app.acceptedBy(n));
    for (const n of rest) {
      const have = new Set(delivered(cluster, n));
      expect(sent.filter((id) => !have.has(id))).toEqual([]);
    }
  });

  it('every EVS invariant holds', () => {
    expectSafety(cluster);
    expectLiveness(cluster, { live: rest, healedAt: leaveAt, boundMs: tokenMs, idleFrom: quietAt + 300, end: cluster.now });
  });
});
