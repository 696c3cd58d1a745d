/**
 * AEAD datagram cipher: real node:crypto, no mocks. Property tests use fixed
 * seeds so CI is deterministic; change a seed locally to explore.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AesGcmCipher, NullCipher } from '../../../src/runtime/crypto/ciphers.ts';
import { type CryptoStats, type DatagramCipher, type OpenFailure, isOpenFailure, openFailures } from '../../../src/runtime/crypto/datagram-cipher.ts';
import { ReplayWindow } from '../../../src/runtime/crypto/replay-window.ts';
import { aesGcmOverheadBytes, authTagBytes, envelopeByte, envelopeHeaderBytes, saltBytes } from '../../../src/runtime/crypto/envelope.ts';
import { CryptoError } from '../../../src/errors.ts';
import { clusterKeyBytesMax, clusterKeyBytesMin, datagramBytesMax, replayWindowCounters } from '../../../src/limits.ts';
import { wireMagic } from '../../../src/wire/header.ts';

const key = new Uint8Array(randomBytes(64));

function sealed(cipher: DatagramCipher, plain: Uint8Array): Uint8Array {
  const out = new Uint8Array(plain.length + cipher.overheadBytes);
  const n = cipher.seal(plain, out, 0);
  expect(n).toBe(out.length);
  return out;
}

function bytesOf(result: Uint8Array | OpenFailure): Buffer {
  if (isOpenFailure(result)) throw new Error(`open failed: ${result}`);
  return Buffer.from(result.buffer, result.byteOffset, result.length);
}

/** Byte comparison without vitest's element-by-element deep equality (slow for 64 KiB). */
function expectOpened(result: Uint8Array | OpenFailure, plain: Uint8Array | readonly number[]): void {
  const expected = Buffer.from(plain);
  const actual = bytesOf(result);
  if (!actual.equals(expected)) expect.fail(`opened ${actual.length} bytes differ from the ${expected.length} sealed`);
}

function droppedTotal(stats: CryptoStats): number {
  return openFailures.reduce((sum, f) => sum + stats.dropped[f], 0);
}

function counterOf(datagram: Uint8Array): bigint {
  return Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length).readBigUInt64LE(1 + saltBytes);
}

function saltOf(datagram: Uint8Array): string {
  return Buffer.from(datagram.subarray(1, 1 + saltBytes)).toString('hex');
}

describe('layout', () => {
  it('overhead is envelope byte + salt + counter + tag = 33 bytes', () => {
    expect(aesGcmOverheadBytes).toBe(33);
    expect(envelopeHeaderBytes).toBe(17);
    expect(new AesGcmCipher(key).overheadBytes).toBe(33);
    expect(new NullCipher().overheadBytes).toBe(0);
  });

  it('the envelope byte differs from the first byte of a plain wire datagram', () => {
    expect(envelopeByte).not.toBe(wireMagic & 0xff);
  });

  it('writes envelope byte, the salt, counters 0, 1, 2 and a tag', () => {
    const cipher = new AesGcmCipher(key);
    const plain = new Uint8Array(10).fill(7);
    for (let i = 0; i < 3; i++) {
      const d = sealed(cipher, plain);
      expect(d[0]).toBe(envelopeByte);
      expect(saltOf(d)).toBe(cipher.saltHex);
      expect(counterOf(d)).toBe(BigInt(i));
      expect(d.length).toBe(envelopeHeaderBytes + plain.length + authTagBytes);
      expect(Buffer.from(d.subarray(envelopeHeaderBytes, envelopeHeaderBytes + 10)).equals(Buffer.from(plain))).toBe(false);
    }
    expect(cipher.stats.sealed).toBe(3);
  });

  it('seals at an offset without touching the bytes around', () => {
    const cipher = new AesGcmCipher(key);
    const plain = new Uint8Array([1, 2, 3]);
    const out = new Uint8Array(100).fill(0xee);
    const n = cipher.seal(plain, out, 40);
    expect(n).toBe(3 + 33);
    expect(out.subarray(0, 40).every((b) => b === 0xee)).toBe(true);
    expect(out.subarray(40 + n).every((b) => b === 0xee)).toBe(true);
    expectOpened(new AesGcmCipher(key).open(out.subarray(40, 40 + n)), plain);
  });

  it('seals in place (plain overlapping out)', () => {
    const cipher = new AesGcmCipher(key);
    const buffer = new Uint8Array(200);
    buffer.set([9, 8, 7, 6, 5]);
    const n = cipher.seal(buffer.subarray(0, 5), buffer, 0);
    expectOpened(new AesGcmCipher(key).open(buffer.subarray(0, n)), [9, 8, 7, 6, 5]);
  });

  it('refuses an output without room, a bad offset, a bad key size or a bad option, with stable codes', () => {
    const cipher = new AesGcmCipher(key);
    const codeOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (error) {
        expect(error).toBeInstanceOf(CryptoError);
        return (error as CryptoError).code;
      }
      return undefined;
    };
    expect(codeOf(() => cipher.seal(new Uint8Array(10), new Uint8Array(42), 0))).toBe('ERR_EVS_CRYPTO_OUTPUT_TOO_SMALL');
    expect(codeOf(() => cipher.seal(new Uint8Array(10), new Uint8Array(43), 1))).toBe('ERR_EVS_CRYPTO_OUTPUT_TOO_SMALL');
    expect(codeOf(() => cipher.seal(new Uint8Array(10), new Uint8Array(80), -1))).toBe('ERR_EVS_CRYPTO_OUTPUT_TOO_SMALL');
    expect(codeOf(() => new NullCipher().seal(new Uint8Array(10), new Uint8Array(9), 0))).toBe('ERR_EVS_CRYPTO_OUTPUT_TOO_SMALL');
    expect(cipher.stats.sealed).toBe(0);
    expect(codeOf(() => new AesGcmCipher(new Uint8Array(clusterKeyBytesMin - 1)))).toBe('ERR_EVS_KEY_SIZE');
    expect(codeOf(() => new AesGcmCipher(new Uint8Array(clusterKeyBytesMax + 1)))).toBe('ERR_EVS_KEY_SIZE');
    expect(codeOf(() => new AesGcmCipher(new Uint8Array(clusterKeyBytesMin)))).toBeUndefined();
    expect(codeOf(() => new AesGcmCipher(new Uint8Array(clusterKeyBytesMax)))).toBeUndefined();
    expect(codeOf(() => new AesGcmCipher(key, { saltsMax: 0 }))).toBe('ERR_EVS_CRYPTO_BAD_OPTION');
  });
});

describe('round trip', () => {
  it('every size 0..1500 and then up to 65000, byte-identical', () => {
    const sender = new AesGcmCipher(key);
    const receiver = new AesGcmCipher(key);
    const sizes: number[] = [];
    for (let n = 0; n <= 1500; n++) sizes.push(n);
    for (let n = 1501; n < 65000; n += 997) sizes.push(n);
    sizes.push(65000, datagramBytesMax - aesGcmOverheadBytes);
    for (const n of sizes) {
      const plain = new Uint8Array(randomBytes(n));
      expectOpened(receiver.open(sealed(sender, plain)), plain);
    }
    expect(receiver.stats.opened).toBe(sizes.length);
    expect(droppedTotal(receiver.stats)).toBe(0);
    expect(receiver.stats.keysDerived).toBe(2); // its own sending key + the sender's salt, once
  });

  it('sealParts: the parts joined are a datagram like seal\'s (same layout, next counter), and the plain buffer may be reused at once', () => {
    for (const cipher of [new AesGcmCipher(key), new NullCipher()]) {
      const receiver = cipher instanceof NullCipher ? cipher : new AesGcmCipher(key);
      for (const n of [0, 1, 100, 1400, 65000]) {
        const plain = new Uint8Array(randomBytes(n));
        const expected = Buffer.from(plain);
        const parts = cipher.sealParts(plain);
        plain.fill(0); // the encode buffer is reused for the next datagram
        const joined = Buffer.concat(parts);
        expect(joined.length).toBe(n + cipher.overheadBytes);
        expectOpened(receiver.open(joined), expected);
      }
    }
    const aes = new AesGcmCipher(key);
    aes.seal(new Uint8Array(1), new Uint8Array(1 + aesGcmOverheadBytes), 0);
    const viaParts = Buffer.concat(aes.sealParts(new Uint8Array(1)));
    expect(counterOf(viaParts)).toBe(1n);
    expect(saltOf(viaParts)).toBe(aes.saltHex);
    expect(aes.stats.sealed).toBe(2);
  });

  it('a cipher refuses its own datagrams as replays (only a reflection carries its salt), intact or damaged', () => {
    const cipher = new AesGcmCipher(key);
    const own = sealed(cipher, new Uint8Array([42]));
    expect(cipher.open(own)).toBe('replay');
    const damaged = own.slice();
    damaged[damaged.length - 1]! ^= 1;
    expect(cipher.open(damaged)).toBe('replay');
    expect(cipher.stats.dropped.replay).toBe(2);
    // another cipher with the same key opens it: the salt, not the key, makes it its own
    expectOpened(new AesGcmCipher(key).open(own), [42]);
  });

  it('datagrams of many senders interleaved', () => {
    const receiver = new AesGcmCipher(key);
    const senders = Array.from({ length: 5 }, () => new AesGcmCipher(key));
    for (let i = 0; i < 200; i++) {
      const plain = new Uint8Array([i & 0xff, i >> 8]);
      expectOpened(receiver.open(sealed(senders[i % 5]!, plain)), plain);
    }
    expect(receiver.stats.opened).toBe(200);
    expect(receiver.stats.keysDerived).toBe(1 + 5);
  });

  it('NullCipher: zero overhead, bytes unchanged, never refuses', () => {
    const cipher = new NullCipher();
    for (const n of [0, 1, 100, 1400, 65000]) {
      const plain = new Uint8Array(randomBytes(n));
      const out = new Uint8Array(n + 4);
      expect(cipher.seal(plain, out, 4)).toBe(n);
      expect(Buffer.from(out.subarray(4)).equals(Buffer.from(plain))).toBe(true);
      expectOpened(cipher.open(out.subarray(4)), plain);
    }
    expect(cipher.stats.sealed).toBe(5);
    expect(cipher.stats.opened).toBe(5);
    expect(cipher.kind).toBe('none');
  });

  it('an AES receiver refuses a NullCipher datagram as bad-header', () => {
    const plain = new Uint8Array(60);
    plain[0] = wireMagic & 0xff;
    plain[1] = wireMagic >> 8;
    expect(new AesGcmCipher(key).open(sealed(new NullCipher(), plain))).toBe('bad-header');
  });
});

describe('restarts: nonces never repeat', () => {
  it('two ciphers with the same key (a restart) use different salts, so no (salt, counter) repeats', () => {
    const seen = new Set<string>();
    const salts = new Set<string>();
    for (let run = 0; run < 50; run++) {
      const cipher = new AesGcmCipher(key); // a process start
      salts.add(cipher.saltHex);
      for (let i = 0; i < 20; i++) {
        const d = sealed(cipher, new Uint8Array(1));
        const id = `${saltOf(d)}:${counterOf(d)}`;
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
    }
    expect(salts.size).toBe(50);
    expect(seen.size).toBe(50 * 20);
  });

  it('the same plaintext sealed by a restarted sender at the same counter gives different bytes', () => {
    const a = sealed(new AesGcmCipher(key), new Uint8Array(32));
    const b = sealed(new AesGcmCipher(key), new Uint8Array(32));
    expect(counterOf(a)).toBe(counterOf(b));
    expect(saltOf(a)).not.toBe(saltOf(b));
    expect(Buffer.from(a.subarray(envelopeHeaderBytes)).equals(Buffer.from(b.subarray(envelopeHeaderBytes)))).toBe(false);
  });

  it('a receiver accepts counter 0 again from a restarted sender (new salt)', () => {
    const receiver = new AesGcmCipher(key);
    const first = sealed(new AesGcmCipher(key), new Uint8Array([1]));
    const afterRestart = sealed(new AesGcmCipher(key), new Uint8Array([2]));
    expectOpened(receiver.open(first), [1]);
    expectOpened(receiver.open(afterRestart), [2]);
  });
});

describe('refused datagrams are classified and counted, never thrown', () => {
  it('wrong cluster key ⇒ auth', () => {
    const other = new AesGcmCipher(new Uint8Array(randomBytes(64)));
    const receiver = new AesGcmCipher(key);
    for (const n of [0, 1, 100, 1400]) expect(receiver.open(sealed(other, new Uint8Array(n)))).toBe('auth');
    expect(receiver.stats.dropped.auth).toBe(4);
    expect(receiver.stats.opened).toBe(0);
  });

  it('every single-bit flip of a sealed datagram is refused and counted', () => {
    const sender = new AesGcmCipher(key);
    const original = sealed(sender, new Uint8Array(randomBytes(100)));
    const receiver = new AesGcmCipher(key); // never saw the original: every flip reaches the tag check
    const byReason = new Map<string, number>();
    for (let bit = 0; bit < original.length * 8; bit++) {
      const flipped = original.slice();
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      const before = droppedTotal(receiver.stats);
      const result = receiver.open(flipped);
      expect(isOpenFailure(result)).toBe(true);
      expect(droppedTotal(receiver.stats)).toBe(before + 1);
      byReason.set(String(result), (byReason.get(String(result)) ?? 0) + 1);
    }
    // The envelope byte: bad-header; the top bits of the counter: beyond 2^53, bad-header; the rest: auth.
    expect(byReason.get('bad-header')).toBe(8 + 11);
    expect(byReason.get('auth')).toBe(original.length * 8 - 19);
    expect(receiver.stats.opened).toBe(0);
    // The untouched original still opens (no flip moved the window or cached the salt wrongly).
    expect(isOpenFailure(receiver.open(original))).toBe(false);
  });

  it('bit flips of an already accepted datagram are refused too', () => {
    const sender = new AesGcmCipher(key);
    const receiver = new AesGcmCipher(key);
    for (let i = 0; i < 5; i++) receiver.open(sealed(sender, new Uint8Array(10)));
    const original = sealed(sender, new Uint8Array(10));
    expect(isOpenFailure(receiver.open(original))).toBe(false);
    for (let bit = 0; bit < original.length * 8; bit++) {
      const flipped = original.slice();
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      expect(isOpenFailure(receiver.open(flipped))).toBe(true);
    }
    expect(droppedTotal(receiver.stats)).toBe(original.length * 8);
  });

  it('every truncation ⇒ short below 33 bytes, auth from 33 on', () => {
    const sender = new AesGcmCipher(key);
    const original = sealed(sender, new Uint8Array(randomBytes(200)));
    const receiver = new AesGcmCipher(key);
    for (let length = 0; length < original.length; length++) {
      const expected = length < aesGcmOverheadBytes ? 'short' : 'auth';
      expect(receiver.open(original.subarray(0, length))).toBe(expected);
      expect(receiver.open(original.slice(original.length - length))).toSatisfy(isOpenFailure);
    }
    expect(receiver.stats.dropped.short).toBe(aesGcmOverheadBytes * 2);
    expect(receiver.stats.opened).toBe(0);
  });

  it('replayed datagram ⇒ replay, also out of order within the window', () => {
    const sender = new AesGcmCipher(key);
    const receiver = new AesGcmCipher(key);
    const datagrams = Array.from({ length: 20 }, (_, i) => sealed(sender, new Uint8Array([i])));
    expect(isOpenFailure(receiver.open(datagrams[10]!))).toBe(false);
    expect(receiver.open(datagrams[10]!)).toBe('replay');
    expectOpened(receiver.open(datagrams[3]!), [3]); // late but fresh
    expect(receiver.open(datagrams[3]!)).toBe('replay');
    expectOpened(receiver.open(datagrams[19]!), [19]);
    expect(receiver.open(datagrams[10]!)).toBe('replay');
    expect(receiver.stats.dropped.replay).toBe(3);
    expect(receiver.stats.opened).toBe(3);
  });

  it('counters far behind ⇒ too-old; the window edge is exact', () => {
    const sender = new AesGcmCipher(key);
    const receiver = new AesGcmCipher(key);
    const total = replayWindowCounters + 100;
    const datagrams = Array.from({ length: total }, () => sealed(sender, new Uint8Array(4)));
    const newest = total - 1;
    expect(isOpenFailure(receiver.open(datagrams[newest]!))).toBe(false);
    expect(receiver.open(datagrams[0]!)).toBe('too-old');
    expect(receiver.open(datagrams[newest - replayWindowCounters]!)).toBe('too-old');
    expect(isOpenFailure(receiver.open(datagrams[newest - replayWindowCounters + 1]!))).toBe(false);
    expect(receiver.stats.dropped['too-old']).toBe(2);
  });

  it('the window moves only for authenticated datagrams', () => {
    const sender = new AesGcmCipher(key);
    const receiver = new AesGcmCipher(key);
    const first = sealed(sender, new Uint8Array(4));
    const second = sealed(sender, new Uint8Array(4));
    expect(isOpenFailure(receiver.open(first))).toBe(false);
    // A forgery under the same salt with a counter far ahead: refused, and it must not push `second` out.
    const forged = second.slice();
    forged.set([0, 0, 0, 0, 1, 0, 0, 0], 1 + saltBytes); // counter 2^32
    expect(receiver.open(forged)).toBe('auth');
    expect(isOpenFailure(receiver.open(second))).toBe(false);
  });

  it('random garbage never throws and never opens', () => {
    const receiver = new AesGcmCipher(key);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (bytes, withEnvelope) => {
        if (withEnvelope && bytes.length > 0) bytes[0] = envelopeByte;
        const before = droppedTotal(receiver.stats);
        const result = receiver.open(bytes);
        expect(isOpenFailure(result)).toBe(true);
        expect(droppedTotal(receiver.stats)).toBe(before + 1);
      }),
      { seed: 20261123, numRuns: 3000 },
    );
    expect(receiver.stats.opened).toBe(0);
  });

  it('random mutations of a genuine datagram never throw and never open', () => {
    const sender = new AesGcmCipher(key);
    const original = sealed(sender, new Uint8Array(randomBytes(64)));
    const receiver = new AesGcmCipher(key);
    const edit = fc.record({ index: fc.nat({ max: original.length - 1 }), value: fc.integer({ min: 0, max: 255 }) });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 8 }), fc.nat({ max: original.length }), (edits, keep) => {
        const mutated = original.slice();
        for (const e of edits) mutated[e.index] = e.value;
        if (Buffer.from(mutated).equals(Buffer.from(original))) return; // the edits wrote the same bytes back
        expect(isOpenFailure(receiver.open(mutated.subarray(0, keep)))).toBe(true);
        expect(isOpenFailure(receiver.open(mutated))).toBe(true);
      }),
      { seed: 4242, numRuns: 2000 },
    );
    expect(receiver.stats.opened).toBe(0);
  });
});

describe('sender salt cache', () => {
  it('is a bounded LRU: the least recently used salt is evicted and counted', () => {
    const receiver = new AesGcmCipher(key, { saltsMax: 3 });
    const senders = Array.from({ length: 4 }, () => new AesGcmCipher(key));
    for (const s of senders.slice(0, 3)) expect(isOpenFailure(receiver.open(sealed(s, new Uint8Array(1))))).toBe(false);
    expect(isOpenFailure(receiver.open(sealed(senders[0]!, new Uint8Array(1))))).toBe(false); // 0 is now the most recent
    const derivedBefore = receiver.stats.keysDerived;
    expect(isOpenFailure(receiver.open(sealed(senders[3]!, new Uint8Array(1))))).toBe(false); // evicts 1
    expect(receiver.stats.saltsEvicted).toBe(1);
    expect(isOpenFailure(receiver.open(sealed(senders[0]!, new Uint8Array(1))))).toBe(false); // still cached
    expect(isOpenFailure(receiver.open(sealed(senders[2]!, new Uint8Array(1))))).toBe(false); // still cached
    expect(receiver.stats.keysDerived).toBe(derivedBefore + 1);
    expect(isOpenFailure(receiver.open(sealed(senders[1]!, new Uint8Array(1))))).toBe(false); // derived again
    expect(receiver.stats.keysDerived).toBe(derivedBefore + 2);
    expect(receiver.stats.saltsEvicted).toBe(2);
  });

  it('forged datagrams with fresh salts never enter the cache nor evict a genuine sender', () => {
    const receiver = new AesGcmCipher(key, { saltsMax: 2 });
    const sender = new AesGcmCipher(key);
    const replayable = sealed(sender, new Uint8Array([1]));
    expect(isOpenFailure(receiver.open(replayable))).toBe(false);
    for (let i = 0; i < 100; i++) {
      const forged = new Uint8Array(randomBytes(60));
      forged[0] = envelopeByte;
      forged.fill(0, 1 + saltBytes + 2, envelopeHeaderBytes); // keep the counter small
      expect(receiver.open(forged)).toBe('auth');
    }
    expect(receiver.stats.saltsEvicted).toBe(0);
    expect(receiver.open(replayable)).toBe('replay'); // the genuine salt's window survived
  });
});

describe('ReplayWindow', () => {
  it('accepts each counter once, in any order inside the window', () => {
    const window = new ReplayWindow();
    const order = Array.from({ length: 3000 }, (_, i) => i);
    // A deterministic shuffle that keeps every counter within 500 of its place.
    for (let i = 0; i + 500 < order.length; i += 250) order.splice(i, 250, ...order.slice(i, i + 250).reverse());
    for (const c of order) {
      expect(window.check(c)).toBeNull();
      window.accept(c);
      expect(window.check(c)).toBe('replay');
    }
  });

  it('too-old exactly at 1024 behind the highest; slots are reused correctly after a jump', () => {
    const window = new ReplayWindow();
    window.accept(5000);
    expect(window.check(5000 - replayWindowCounters)).toBe('too-old');
    expect(window.check(5001 - replayWindowCounters)).toBeNull();
    window.accept(4000);
    window.accept(5000 + 500); // clears the slots of 5001..5500: 4000's slot among them, as 4000 leaves the window
    expect(window.check(4000)).toBe('too-old'); // 5500 - 4000 = 1500 >= 1024
    window.accept(5500 + 1);
    expect(window.check(5000)).toBe('replay');
    expect(window.check(4999)).toBeNull();
    expect(window.check(5500)).toBe('replay');
    window.accept(2 ** 40); // a jump beyond the window clears everything
    expect(window.check(2 ** 40 - 1)).toBeNull();
    expect(window.check(5500)).toBe('too-old');
  });
});
