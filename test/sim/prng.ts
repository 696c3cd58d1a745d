/**
 * The simulator's only source of randomness: sfc32 (Chris Doty-Humphrey's
 * small fast counting generator, 128-bit state, passes PractRand) seeded
 * through splitmix32. Every random choice of a simulation run derives from one
 * seed, so the same seed replays the same run exactly.
 *
 * Seeds are non-negative integers below 2^53 (what a JS number holds exactly),
 * so a seed printed by the CLI can be pasted back verbatim.
 */

const twoPow32 = 0x1_0000_0000;

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be an integer in 0..2^53-1 (got ${seed})`);
    const low = seed >>> 0;
    const high = Math.floor(seed / twoPow32) >>> 0;
    const state = { s: low ^ Math.imul(high, 0x27d4eb2f) };
    this.a = splitmix32(state);
    this.b = splitmix32(state);
    this.c = splitmix32(state) ^ high;
    this.d = 1;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** uniform uint32. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** uniform in [0, 1). */
  float(): number {
    return this.next() / twoPow32;
  }

  /** uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) throw new RangeError(`int(${lo}, ${hi}): need integers with lo <= hi`);
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** uniform real in [lo, hi). */
  real(lo: number, hi: number): number {
    return lo + this.float() * (hi - lo);
  }

  /** true with probability p. */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** index chosen with probability proportional to its weight. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += Math.max(0, w);
    if (total <= 0) throw new RangeError('weighted: every weight is zero');
    let x = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= Math.max(0, weights[i] ?? 0);
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** exponentially distributed with the given mean (for Poisson arrivals). */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Fisher–Yates, in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = items[i] as T;
      items[i] = items[j] as T;
      items[j] = t;
    }
    return items;
  }

  /** An independent generator derived from this one (consumes two draws). */
  fork(): Prng {
    const high = this.next() >>> 11; // 21 bits
    const low = this.next();
    return new Prng(high * twoPow32 + low);
  }
}
