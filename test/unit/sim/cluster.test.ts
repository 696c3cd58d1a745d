import { describe, expect, it } from 'vitest';
import { Guarantee } from '../../../src/wire/messages.ts';
import { makePayload } from '../../sim/app.ts';
import { checkSafety } from '../../sim/checkers.ts';
import { Cluster } from '../../sim/cluster.ts';

describe('Cluster', () => {
  it('forms one ring of every node, delivers a message everywhere', () => {
    const c = new Cluster({ nodeCount: 3, seed: 1 });
    expect(c.runUntil(() => c.converged(), 2000)).toBe(true);
    expect(c.submit(2, makePayload(2, 1, 5000), Guarantee.Agreed)).toBe('ok');
    c.runFor(500);
    for (const id of c.ids) {
      expect(c.log.nodeRecords(id).some((r) => r.kind === 'deliver' && r.msgId === '2:1' && r.bytesOk)).toBe(true);
    }
    expect(checkSafety(c.log.records)).toEqual([]);
  });

  it('crash keeps the disk; restart loads it; leave stops the node', () => {
    const c = new Cluster({ nodeCount: 3, seed: 2 });
    c.runUntil(() => c.converged(), 2000);
    const seq = c.disk.get(3);
    expect(seq).toBeGreaterThan(0);
    c.crash(3);
    expect(c.isUp(3)).toBe(false);
    expect(c.submit(3, makePayload(3, 1, 20), Guarantee.Agreed)).toBe('down');
    expect(c.runUntil(() => c.converged([1, 2]), 3000)).toBe(true);
    c.restart(3);
    const start = c.log.nodeRecords(3).filter((r) => r.kind === 'start').at(-1);
    expect(start?.kind === 'start' && start.ringSeqLoaded).toBe(seq);
    expect(c.incarnation(3)).toBe(2);
    expect(c.runUntil(() => c.converged([1, 2, 3]), 3000)).toBe(true);
    c.leave(1);
    expect(c.isUp(1)).toBe(false);
    expect(c.runUntil(() => c.converged([2, 3]), 3000)).toBe(true);
    expect(checkSafety(c.log.records)).toEqual([]);
  });

  it('resumeNow ends a pause early; the pause\'s own resume, when due, does not end a later one', () => {
    const c = new Cluster({ nodeCount: 3, seed: 4 });
    expect(c.runUntil(() => c.converged(), 2000)).toBe(true);
    c.pause(2, 10_000);
    c.runFor(50);
    expect(c.isPaused(2)).toBe(true);
    c.resumeNow(2);
    expect(c.isPaused(2)).toBe(false);
    c.resumeNow(2); // not paused: nothing to do
    c.runFor(50);
    c.pause(2, 20_000);
    c.runFor(10_000); // the first pause's resume falls due here
    expect(c.isPaused(2)).toBe(true);
    c.runFor(10_100);
    expect(c.isPaused(2)).toBe(false);
    expect(checkSafety(c.log.records)).toEqual([]);
  });

  it('schedule runs actions at their time; runFor advances the clock exactly', () => {
    const c = new Cluster({ nodeCount: 1, seed: 3, startAll: false });
    const seen: number[] = [];
    c.schedule(30, () => seen.push(c.now));
    c.after(10, () => seen.push(c.now));
    c.runFor(50);
    expect(seen).toEqual([10, 30]);
    expect(c.now).toBe(50);
  });

  it('the same seed replays the same run', () => {
    const run = (): string => {
      const c = new Cluster({ nodeCount: 4, seed: 9, link: { delayJitterMs: 3, lossProbability: 0.05 } });
      c.runFor(300);
      for (let i = 1; i <= 20; i++) c.submit((i % 4) + 1, makePayload((i % 4) + 1, Math.ceil(i / 4), 100 * i), Guarantee.Agreed);
      c.runFor(1000);
      return c.log.digest();
    };
    expect(run()).toBe(run());
  });
});
