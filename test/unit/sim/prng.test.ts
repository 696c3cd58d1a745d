import { describe, expect, it } from 'vitest';
import { Prng } from '../../sim/prng.ts';

describe('Prng', () => {
  it('is a pure function of its seed', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const xs = Array.from({ length: 100 }, () => a.next());
    const ys = Array.from({ length: 100 }, () => b.next());
    expect(xs).toEqual(ys);
    expect(new Prng(43).next()).not.toBe(xs[0]);
  });

  it('takes any seed up to 2^53 − 1 and rejects others', () => {
    expect(new Prng(0).next()).not.toBe(new Prng(1).next());
    expect(new Prng(2 ** 40).next()).not.toBe(new Prng(0).next());
    expect(new Prng(Number.MAX_SAFE_INTEGER).next()).toBeGreaterThanOrEqual(0);
    expect(() => new Prng(-1)).toThrow(RangeError);
    expect(() => new Prng(1.5)).toThrow(RangeError);
  });

  it('int stays in range and hits both ends', () => {
    const p = new Prng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = p.int(3, 9);
      expect(x).toBeGreaterThanOrEqual(3);
      expect(x).toBeLessThanOrEqual(9);
      seen.add(x);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(() => p.int(2, 1)).toThrow(RangeError);
  });

  it('chance, float and weighted behave like their probabilities', () => {
    const p = new Prng(11);
    let hits = 0;
    for (let i = 0; i < 10_000; i++) if (p.chance(0.3)) hits++;
    expect(hits).toBeGreaterThan(2700);
    expect(hits).toBeLessThan(3300);
    expect(p.chance(0)).toBe(false);
    expect(p.chance(1)).toBe(true);
    const counts = [0, 0, 0];
    for (let i = 0; i < 10_000; i++) counts[p.weighted([1, 0, 3])]! += 1;
    expect(counts[1]).toBe(0);
    expect(counts[2]! / counts[0]!).toBeGreaterThan(2.5);
    for (let i = 0; i < 1000; i++) {
      const f = p.float();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
  });

  it('fork gives an independent but reproducible stream', () => {
    const a = new Prng(5);
    const b = new Prng(5);
    const fa = a.fork();
    const fb = b.fork();
    expect(fa.next()).toBe(fb.next());
    expect(a.next()).toBe(b.next());
    expect(new Prng(5).fork().seed).not.toBe(5);
  });

  it('shuffle permutes and pick chooses members', () => {
    const p = new Prng(3);
    const xs = [1, 2, 3, 4, 5, 6];
    expect(p.shuffle([...xs]).sort()).toEqual(xs);
    for (let i = 0; i < 50; i++) expect(xs).toContain(p.pick(xs));
    expect(() => p.pick([])).toThrow(RangeError);
  });
});
