/**
 * CryptoPool with real piscina threads (the .ts task entry under vitest, via
 * the tsx preload). The refusal tests are differential: the same batches go
 * to a pool and to an inline AesGcmCipher, and both must give the same answer
 * for every datagram and the same counts by reason.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { AesGcmCipher } from '../../../src/runtime/crypto/ciphers.ts';
import { type CryptoStats, type OpenFailure, isOpenFailure, openFailures } from '../../../src/runtime/crypto/datagram-cipher.ts';
import { aesGcmOverheadBytes, envelopeByte, envelopeHeaderBytes, saltBytes } from '../../../src/runtime/crypto/envelope.ts';
import { replayWindowCounters } from '../../../src/limits.ts';
import { CryptoPool } from '../../../src/runtime/crypto/crypto-pool.ts';
import { cryptoTaskEntry } from '../../../src/runtime/workers/crypto-task-entry.ts';
import { CryptoError } from '../../../src/errors.ts';

const key = new Uint8Array(randomBytes(64));
const entry = cryptoTaskEntry();
const openPools: CryptoPool[] = [];

afterEach(async () => {
  const pools = openPools.splice(0);
  await Promise.all(pools.map((pool) => pool.close()));
  for (const pool of pools) expect(pool.liveThreadCount).toBe(0);
});

async function createPool(threadCount: number, clusterKey: Uint8Array = key): Promise<CryptoPool> {
  const pool = await CryptoPool.create(clusterKey, threadCount, entry);
  openPools.push(pool);
  return pool;
}

function sealInline(cipher: AesGcmCipher, plain: Uint8Array): Uint8Array {
  const out = new Uint8Array(plain.length + cipher.overheadBytes);
  cipher.seal(plain, out, 0);
  return out;
}

function counterOf(datagram: Uint8Array): number {
  return Number(Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length).readBigUInt64LE(1 + saltBytes));
}

function saltOf(datagram: Uint8Array): string {
  return Buffer.from(datagram.subarray(1, 1 + saltBytes)).toString('hex');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

function expectOpened(results: readonly (Uint8Array | OpenFailure)[], plains: readonly Uint8Array[]): void {
  expect(results.length).toBe(plains.length);
  results.forEach((result, i) => {
    if (isOpenFailure(result)) expect.fail(`datagram ${i} refused: ${result}`);
    if (!sameBytes(result, plains[i]!)) expect.fail(`datagram ${i}: ${result.length} bytes opened differ from the ${plains[i]!.length} sealed`);
  });
}

/** batches of random plaintexts, sizes drawn from 1..1400 with both ends always present. */
function mixedBatches(batchCount: number): Uint8Array[][] {
  return Array.from({ length: batchCount }, (_, b) => {
    const sizes = [1, 1400, ...Array.from({ length: 5 + b * 7 }, () => 1 + Math.floor(Math.random() * 1400))];
    return sizes.map((n) => new Uint8Array(randomBytes(n)));
  });
}

function droppedOf(stats: CryptoStats): Record<OpenFailure, number> {
  return Object.fromEntries(openFailures.map((f) => [f, stats.dropped[f]])) as Record<OpenFailure, number>;
}

/** a result as a comparable string: the reason, or the plaintext's hex. */
function verdictOf(result: Uint8Array | OpenFailure): string {
  return isOpenFailure(result) ? result : `plain:${Buffer.from(result).toString('hex')}`;
}

describe.each([1, 2])('CryptoPool with %i thread(s)', (threadCount) => {
  it('round trip: batches of mixed sizes 1..1400 B, in-order counters under one salt', async () => {
    const sender = await createPool(threadCount);
    const receiver = await createPool(threadCount);
    expect(sender.liveThreadCount).toBe(threadCount);
    const batches = mixedBatches(6);
    let counterNext = 0;
    for (const plains of batches) {
      const sealed = await sender.seal(plains);
      expect(sealed.length).toBe(plains.length);
      sealed.forEach((datagram, i) => {
        expect(datagram.length).toBe(plains[i]!.length + aesGcmOverheadBytes);
        expect(datagram[0]).toBe(envelopeByte);
        expect(saltOf(datagram)).toBe(sender.saltHex);
        expect(counterOf(datagram)).toBe(counterNext++);
        // encrypted: a short ciphertext can equal its plaintext by chance (1 in 256 for 1 byte), so compare 8 bytes and up
        if (plains[i]!.length >= 8) expect(sameBytes(datagram.subarray(envelopeHeaderBytes, envelopeHeaderBytes + plains[i]!.length), plains[i]!)).toBe(false);
      });
      expectOpened(await receiver.open(sealed), plains);
    }
    const total = batches.reduce((sum, plains) => sum + plains.length, 0);
    expect(sender.stats().sealed).toBe(total);
    expect(receiver.stats().opened).toBe(total);
    expect(Object.values(droppedOf(receiver.stats())).every((n) => n === 0)).toBe(true);
    // One HKDF per thread that met the salt, never one per batch.
    expect(sender.stats().keysDerived).toBeGreaterThanOrEqual(1);
    expect(sender.stats().keysDerived).toBeLessThanOrEqual(threadCount);
    expect(receiver.stats().keysDerived).toBeLessThanOrEqual(threadCount);
  });

  it('interoperates with AesGcmCipher both ways, and refuses its own datagrams as replays (reflections)', async () => {
    const pool = await createPool(threadCount);
    const inline = new AesGcmCipher(key);
    for (const plains of mixedBatches(3)) {
      const pooled = await pool.seal(plains);
      pooled.forEach((datagram, i) => {
        const opened = inline.open(datagram);
        if (isOpenFailure(opened) || !sameBytes(opened, plains[i]!)) expect.fail(`inline could not open pooled datagram ${i}: ${verdictOf(opened)}`);
      });
      expectOpened(await pool.open(plains.map((plain) => sealInline(inline, plain))), plains);
      expect(await pool.open(pooled)).toEqual(pooled.map(() => 'replay')); // only a reflection carries the pool's salt
    }
  });

  it('refuses forged, truncated, corrupted, wrong-key, replayed and too-old datagrams exactly as AesGcmCipher does', async () => {
    const pool = await createPool(threadCount);
    const reference = new AesGcmCipher(key);
    const sender = new AesGcmCipher(key);
    const stranger = new AesGcmCipher(new Uint8Array(randomBytes(64)));
    const genuine = Array.from({ length: replayWindowCounters + 40 }, (_, i) => sealInline(sender, new Uint8Array(randomBytes(1 + (i % 300)))));
    const newest = genuine.length - 1;
    const flip = (datagram: Uint8Array, index: number): Uint8Array => {
      const copy = datagram.slice();
      copy[index]! ^= 0x10;
      return copy;
    };
    const forged = new Uint8Array(randomBytes(80));
    forged[0] = envelopeByte;
    forged.fill(0, 1 + saltBytes + 2, envelopeHeaderBytes); // a small counter: only the tag can refuse it
    const badCounter = genuine[2]!.slice();
    badCounter.fill(0xff, 1 + saltBytes, envelopeHeaderBytes); // beyond 2^53
    const batches: Uint8Array[][] = [
      [genuine[0]!, genuine[1]!, genuine[0]!], // a replay inside one batch
      [genuine[1]!, forged, genuine[2]!.subarray(0, 20), genuine[2]!.subarray(0, genuine[2]!.length - 1)], // replay across batches, forged, short, truncated
      [flip(genuine[2]!, 0), badCounter, flip(genuine[2]!, 3), flip(genuine[2]!, 20), flip(genuine[2]!, genuine[2]!.length - 1), genuine[2]!],
      [sealInline(stranger, new Uint8Array(50)), sealInline(stranger, new Uint8Array(1400)), new Uint8Array(0)],
      [genuine[newest]!, genuine[3]!, genuine[newest - replayWindowCounters + 1]!, genuine[newest]!], // too-old, fresh at the edge, replay
      [flip(genuine[newest]!, 30)], // corrupting an accepted datagram is still 'replay' (known salt, seen counter), as inline
      [genuine[5]!, genuine[6]!, genuine[6]!, genuine[5]!],
    ];
    for (const batch of batches) {
      const expected = batch.map((datagram) => verdictOf(reference.open(datagram)));
      const actual = (await pool.open(batch)).map(verdictOf);
      expect(actual).toEqual(expected);
    }
    const stats = pool.stats();
    expect(droppedOf(stats)).toEqual(droppedOf(reference.stats));
    expect(stats.opened).toBe(reference.stats.opened);
    // Every reason occurred, so the comparison above says something about each.
    for (const failure of openFailures) expect(stats.dropped[failure], failure).toBeGreaterThan(0);
    expect(stats.dropped.replay).toBeGreaterThanOrEqual(4);
  });

  it('applies concurrent open() calls in call order: the second copy is the replay', async () => {
    const pool = await createPool(threadCount);
    const sender = new AesGcmCipher(key);
    const datagrams = Array.from({ length: 8 }, (_, i) => sealInline(sender, new Uint8Array([i])));
    // Neither call can know of the other when called: only applying in call order gets this right.
    const first = pool.open(datagrams);
    const second = pool.open([...datagrams].reverse());
    const third = pool.open([datagrams[0]!]);
    expectOpened(await first, datagrams.map((_, i) => new Uint8Array([i])));
    expect(await second).toEqual(datagrams.map(() => 'replay'));
    expect(await third).toEqual(['replay']);
    expect(pool.stats().dropped.replay).toBe(9);
  });

  it('never repeats a counter across batches sealed concurrently', async () => {
    const pool = await createPool(threadCount);
    const batchCount = 8;
    const perBatch = 25;
    const calls = Array.from({ length: batchCount }, (_, b) =>
      pool.seal(Array.from({ length: perBatch }, (_, i) => new Uint8Array(randomBytes(100 + ((b * perBatch + i) % 1300))))),
    );
    const sealed = await Promise.all(calls);
    const counters = new Set<number>();
    sealed.forEach((batch, b) => {
      // counters are taken when seal() is called: call b holds b*25 .. b*25+24, in order
      expect(batch.map(counterOf)).toEqual(Array.from({ length: perBatch }, (_, i) => b * perBatch + i));
      for (const datagram of batch) counters.add(counterOf(datagram));
    });
    expect(counters.size).toBe(batchCount * perBatch);
    const inline = new AesGcmCipher(key);
    for (const datagram of sealed.flat()) expect(isOpenFailure(inline.open(datagram))).toBe(false);
    expect(inline.stats.opened).toBe(batchCount * perBatch);
  });

  it('close() waits for batches in flight, then leaves no thread; later calls reject', async () => {
    const pool = await CryptoPool.create(key, threadCount, entry); // closed here, not by afterEach
    const inFlight = pool.seal(mixedBatches(1)[0]!);
    const closing = pool.close();
    expect((await inFlight).length).toBeGreaterThan(0);
    await closing;
    expect(pool.liveThreadCount).toBe(0);
    await expect(pool.seal([new Uint8Array(1)])).rejects.toThrow(/closed/);
    await expect(pool.open([new Uint8Array(40)])).rejects.toThrow(/closed/);
    await pool.close(); // idempotent
  });
});

describe('CryptoPool edges', () => {
  it('empty batches need no thread', async () => {
    const pool = await createPool(1);
    expect(await pool.seal([])).toEqual([]);
    expect(await pool.open([])).toEqual([]);
    // a batch with nothing worth decrypting is answered on the owner thread
    expect(await pool.open([new Uint8Array(3), new Uint8Array(40)])).toEqual(['short', 'bad-header']);
  });

  it('a zero-byte plaintext seals and opens', async () => {
    const pool = await createPool(1);
    const [datagram] = await pool.seal([new Uint8Array(0)]);
    expect(datagram!.length).toBe(aesGcmOverheadBytes);
    expectOpened([new AesGcmCipher(key).open(datagram!)], [new Uint8Array(0)]);
  });

  it('refuses a bad thread count or key size before starting threads, with stable codes', async () => {
    const codeOf = async (create: () => Promise<CryptoPool>): Promise<string> => {
      try {
        const pool = await create();
        openPools.push(pool);
      } catch (error) {
        expect(error).toBeInstanceOf(CryptoError);
        return (error as CryptoError).code;
      }
      return 'created';
    };
    expect(await codeOf(() => CryptoPool.create(key, 0, entry))).toBe('ERR_EVS_CRYPTO_BAD_OPTION');
    expect(await codeOf(() => CryptoPool.create(key, 1.5, entry))).toBe('ERR_EVS_CRYPTO_BAD_OPTION');
    expect(await codeOf(() => CryptoPool.create(new Uint8Array(16), 1, entry))).toBe('ERR_EVS_KEY_SIZE');
    expect(await codeOf(() => CryptoPool.create(key, 1, entry, { saltsMax: 0 }))).toBe('ERR_EVS_CRYPTO_BAD_OPTION');
  });
});
