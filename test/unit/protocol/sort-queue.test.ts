import { describe, expect, it } from 'vitest';
import { SortQueue } from '../../../src/protocol/sort-queue.ts';
import { seqAdd } from '../../../src/protocol/seq.ts';

describe('SortQueue', () => {
  it('holds any seq of its window across page boundaries and wraps around the slots', () => {
    const q = new SortQueue<string>(4096, 0);
    // three passes over all 4,096 slots (pages of 1,024), releasing as it goes
    for (let seq = 1; seq <= 3 * 4096; seq++) {
      q.add(seq, `m${seq}`);
      expect(q.get(seq)).toBe(`m${seq}`);
      if (seq % 1000 === 0) {
        expect(q.has(seq - 999)).toBe(true);
        q.release(seq - 500);
        expect(q.has(seq - 500)).toBe(false);
        expect(q.get(seq - 499)).toBe(`m${seq - 499}`);
        expect(q.releasedSeq).toBe(seq - 500);
      }
    }
    expect(q.inRange(q.releasedSeq + 4096)).toBe(true);
    expect(q.inRange(q.releasedSeq + 4097)).toBe(false);
  });

  it('reports a slot never written, or released, as missing; reinit empties it', () => {
    const q = new SortQueue<string>(16384, 100);
    expect(q.has(101)).toBe(false);
    expect(q.get(101 + 5000)).toBeUndefined();
    q.add(101 + 5000, 'far');
    expect(q.has(101 + 5000)).toBe(true);
    expect(q.bumpMissCount(101)).toBe(1);
    expect(q.bumpMissCount(101)).toBe(2);
    q.reinit(200);
    expect(q.has(101 + 5000)).toBe(false);
    expect(q.inRange(200)).toBe(false);
    expect(q.inRange(201)).toBe(true);
    expect(q.bumpMissCount(201)).toBe(1);
  });

  it('works across the u32 seq wrap and in windows smaller than a page', () => {
    const start = 0xffffffff - 10;
    const q = new SortQueue<number>(16, start);
    for (let i = 1; i <= 16; i++) q.add(seqAdd(start, i), i);
    expect(q.get(seqAdd(start, 16))).toBe(16);
    expect(q.inRange(seqAdd(start, 17))).toBe(false);
    q.release(seqAdd(start, 12));
    expect(q.has(seqAdd(start, 12))).toBe(false);
    expect(q.get(seqAdd(start, 13))).toBe(13);
    q.add(seqAdd(start, 20), 20);
    expect(q.get(seqAdd(start, 20))).toBe(20);
  });
});
