import { describe, expect, it } from 'vitest';
import { setAnd, setEqual, setHas, setMinus, setOf, setSubset, setUnion } from '../../../src/protocol/node-set.ts';
import { Prng } from '../../sim/prng.ts';

/** The plain definitions the merge walks must agree with, on any input. */
const plain = {
  setOf: (ids: readonly number[]) => [...new Set(ids)].sort((a, b) => a - b),
  setSubset: (sub: readonly number[], full: readonly number[]) => sub.every((id) => full.includes(id)),
  setUnion: (a: readonly number[], b: readonly number[]) => [...new Set([...a, ...b])].sort((x, y) => x - y),
  setMinus: (a: readonly number[], b: readonly number[]) => a.filter((id) => !b.includes(id)),
  setAnd: (a: readonly number[], b: readonly number[]) => a.filter((id) => b.includes(id)),
};

function draw(prng: Prng, sorted: boolean): number[] {
  const ids = Array.from({ length: prng.int(0, 12) }, () => prng.int(1, 16));
  return sorted ? plain.setOf(ids) : ids;
}

describe('node sets', () => {
  it('agree with the plain definitions on ascending lists and on any other list', () => {
    const prng = new Prng(20261202);
    let ascendingPairs = 0;
    for (let i = 0; i < 20_000; i++) {
      const a = draw(prng, prng.chance(0.8));
      const b = draw(prng, prng.chance(0.8));
      expect(setOf(a)).toEqual(plain.setOf(a));
      expect(setSubset(a, b)).toBe(plain.setSubset(a, b));
      expect(setUnion(a, b)).toEqual(plain.setUnion(a, b));
      expect(setMinus(a, b)).toEqual(plain.setMinus(a, b));
      expect(setAnd(a, b)).toEqual(plain.setAnd(a, b));
      if (setEqual(a, plain.setOf(a)) && setEqual(b, plain.setOf(b))) ascendingPairs++;
    }
    // both kinds of input were drawn often
    expect(ascendingPairs).toBeGreaterThan(10_000);
    expect(ascendingPairs).toBeLessThan(19_000);
  });

  it('return new arrays, never an input', () => {
    const a = [1, 3, 5];
    const b: number[] = [];
    expect(setOf(a)).not.toBe(a);
    expect(setUnion(a, b)).not.toBe(a);
    expect(setMinus(a, b)).not.toBe(a);
    expect(setHas(a, 3)).toBe(true);
    expect(setSubset([1, 5], a)).toBe(true);
    expect(setSubset([1, 4], a)).toBe(false);
    expect(setSubset([5, 1], a)).toBe(true);
  });
});
