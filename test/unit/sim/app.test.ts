import { describe, expect, it } from 'vitest';
import { AppModel, makePayload, payloadHeaderBytes, readPayload } from '../../sim/app.ts';
import { Prng } from '../../sim/prng.ts';

describe('app payloads', () => {
  it('round-trip: header and filler verify', () => {
    for (const size of [12, 13, 15, 16, 17, 1000, 4097]) {
      const p = makePayload(7, 42, size);
      expect(p.length).toBe(size);
      expect(readPayload(p)).toEqual({ sender: 7, counter: 42, size, bytesOk: true });
    }
    expect(() => makePayload(1, 1, payloadHeaderBytes - 1)).toThrow(RangeError);
  });

  it('detects a flipped byte, truncation, and two messages glued together', () => {
    const p = makePayload(3, 9, 300);
    const flipped = p.slice();
    flipped[200]! ^= 1;
    expect(readPayload(flipped)?.bytesOk).toBe(false);
    expect(readPayload(p.subarray(0, 299))?.bytesOk).toBe(false);
    expect(readPayload(p.subarray(0, 5))).toBeNull();
    const other = makePayload(3, 10, 300);
    const glued = new Uint8Array(300);
    glued.set(p.subarray(0, 150));
    glued.set(other.subarray(150), 150);
    expect(readPayload(glued)?.bytesOk).toBe(false);
  });

  it('detects a flipped bit at any filler position, whole words and a partial last word alike', () => {
    for (const size of [13, 14, 15, 16, 17, 18, 19, 301]) {
      const p = makePayload(5, 77, size);
      for (let i = payloadHeaderBytes; i < size; i++) {
        for (const bit of [0x01, 0x80]) {
          const flipped = p.slice();
          flipped[i]! ^= bit;
          expect(readPayload(flipped)?.bytesOk, `size ${size}, byte ${i}, bit ${bit}`).toBe(false);
        }
      }
    }
  });

  it('filler differs between messages of one sender', () => {
    expect(makePayload(1, 1, 64).subarray(12)).not.toEqual(makePayload(1, 2, 64).subarray(12));
    expect(makePayload(1, 1, 64).subarray(12)).not.toEqual(makePayload(2, 1, 64).subarray(12));
  });

  it('AppModel: large messages stop at the run\'s byte budget', () => {
    const app = new AppModel(new Prng(3), {
      intervalMeanMs: 10, smallProbability: 0, largeProbability: 1, sizeMaxBytes: 100, sizeLargeMaxBytes: 1024 * 1024,
      largeBytesMax: 3 * 1024 * 1024, safeProbability: 0,
    });
    const sizes = Array.from({ length: 200 }, () => app.size());
    const large = sizes.filter((size) => size > 100);
    expect(large.length).toBeGreaterThan(2);
    expect(large.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3 * 1024 * 1024);
    expect(sizes.slice(-50).every((size) => size <= 100)).toBe(true);
  });

  it('AppModel: sizes within bounds, counters consumed only when accepted', () => {
    const app = new AppModel(new Prng(1), {
      intervalMeanMs: 10, smallProbability: 0.3, largeProbability: 0.1, sizeMaxBytes: 3000, sizeLargeMaxBytes: 9000, safeProbability: 0.5,
    });
    const sizes: number[] = [];
    for (let i = 0; i < 500; i++) sizes.push(app.size());
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(payloadHeaderBytes);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(9000);
    expect(sizes.some((s) => s > 3000)).toBe(true);
    const a = app.next(4);
    expect(app.next(4).counter).toBe(a.counter);
    app.accepted(4, a.counter);
    expect(app.next(4).counter).toBe(a.counter + 1);
    expect(() => app.accepted(4, a.counter + 5)).toThrow();
  });
});
