/**
 * The persisted ring seq on the real file system, in a fresh temporary
 * directory per test.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EvsError, RingSeqFileError, type RingSeqFileErrorCode } from '../../../src/errors.ts';
import { ringSeqMax } from '../../../src/limits.ts';
import {
  decodeRingSeqFile,
  encodeRingSeqFile,
  loadRingSeq,
  ringSeqFileBytes,
  ringSeqFileMagic,
  ringSeqFilePath,
  storeRingSeq,
} from '../../../src/runtime/state/ring-seq-file.ts';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'evs-state-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function thrown(f: () => unknown): RingSeqFileError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(RingSeqFileError);
    return error as RingSeqFileError;
  }
  throw new Error('expected a RingSeqFileError');
}

function codeOf(f: () => unknown): RingSeqFileErrorCode {
  return thrown(f).code;
}

describe('store / load', () => {
  it('missing file ⇒ 0 (also when the state directory does not exist yet)', () => {
    expect(loadRingSeq(dir, 1)).toBe(0);
    expect(loadRingSeq(join(dir, 'not', 'yet'), 1)).toBe(0);
  });

  it('round trip, including u32 and 2^53 boundaries; each node has its own file', () => {
    for (const seq of [0, 1, 4, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, ringSeqMax]) {
      storeRingSeq(dir, 7, seq);
      expect(loadRingSeq(dir, 7)).toBe(seq);
    }
    storeRingSeq(dir, 8, 12);
    expect(loadRingSeq(dir, 7)).toBe(ringSeqMax);
    expect(loadRingSeq(dir, 8)).toBe(12);
    expect(readdirSync(dir).sort()).toEqual(['ringid_7', 'ringid_8']); // no temp file left behind
  });

  it('the file is ringid_<nodeId>: 12 bytes, seq u64 little-endian first', () => {
    storeRingSeq(dir, 3, 0x0102030405);
    expect(ringSeqFilePath(dir, 3)).toBe(join(dir, 'ringid_3'));
    const bytes = readFileSync(join(dir, 'ringid_3'));
    expect(bytes.length).toBe(ringSeqFileBytes);
    expect(bytes.readBigUInt64LE(0)).toBe(0x0102030405n);
  });

  it('creates the state directory and its parents', () => {
    const stateDir = join(dir, 'a', 'b', 'state');
    storeRingSeq(stateDir, 1, 99);
    expect(loadRingSeq(stateDir, 1)).toBe(99);
    expect(readdirSync(stateDir)).toEqual(['ringid_1']);
  });

  it('a stale temp file from a crash is ignored by load and replaced by the next store', () => {
    storeRingSeq(dir, 2, 10);
    writeFileSync(join(dir, 'ringid_2.tmp'), 'torn');
    expect(loadRingSeq(dir, 2)).toBe(10);
    storeRingSeq(dir, 2, 14);
    expect(loadRingSeq(dir, 2)).toBe(14);
    expect(readdirSync(dir)).toEqual(['ringid_2']);
  });

  it('property: any seq 0..2^53-1 round-trips through the file', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (seq) => {
        storeRingSeq(dir, 5, seq);
        expect(loadRingSeq(dir, 5)).toBe(seq);
      }),
      { seed: 77, numRuns: 200 },
    );
    expect(readdirSync(dir)).toEqual(['ringid_5']);
  });
});

describe('corrupt files are errors, never a silent 0', () => {
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['short (corosync 8-byte format)', new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0])],
    ['long', new Uint8Array(13)],
    ['all zeros', new Uint8Array(12)],
  ];
  for (const [name, bytes] of cases) {
    it(`${name} ⇒ ERR_EVS_STATE_FILE_CORRUPT naming the path`, () => {
      writeFileSync(join(dir, 'ringid_1'), bytes);
      const error = thrown(() => loadRingSeq(dir, 1));
      expect(error.code).toBe('ERR_EVS_STATE_FILE_CORRUPT');
      expect(error.message).toContain(join(dir, 'ringid_1'));
    });
  }

  it('every single-bit flip of a valid file is detected', () => {
    const valid = encodeRingSeqFile(123456789);
    for (let bit = 0; bit < valid.length * 8; bit++) {
      const flipped = valid.slice();
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      expect(decodeRingSeqFile(flipped).ok).toBe(false);
    }
    writeFileSync(join(dir, 'ringid_9'), Buffer.from(valid).fill(0xff, 3, 4));
    expect(codeOf(() => loadRingSeq(dir, 9))).toBe('ERR_EVS_STATE_FILE_CORRUPT');
  });

  it('a seq beyond 2^53 - 1 with a valid check is refused', () => {
    const bytes = encodeRingSeqFile(ringSeqMax);
    expect(decodeRingSeqFile(bytes)).toEqual({ ok: true, seq: ringSeqMax });
    const big = Buffer.alloc(12);
    big.writeBigUInt64LE(2n ** 53n, 0);
    big.writeUInt32LE((crc32(big.subarray(0, 8)) ^ ringSeqFileMagic) >>> 0, 8); // a valid check word
    expect(decodeRingSeqFile(big).ok).toBe(false);
  });
});

describe('bad arguments and file system errors', () => {
  it('refuses bad node ids and seqs before touching the disk', () => {
    for (const nodeId of [0, -1, 1.5, 2 ** 32]) expect(codeOf(() => storeRingSeq(dir, nodeId, 1))).toBe('ERR_EVS_STATE_FILE_BAD_ARGUMENT');
    for (const seq of [-1, 0.5, ringSeqMax + 1, Number.NaN]) expect(codeOf(() => storeRingSeq(dir, 1, seq))).toBe('ERR_EVS_STATE_FILE_BAD_ARGUMENT');
    expect(codeOf(() => loadRingSeq(dir, 0))).toBe('ERR_EVS_STATE_FILE_BAD_ARGUMENT');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a state directory that is a file, or a ringid path that is a directory ⇒ ERR_EVS_STATE_FILE_IO', () => {
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    const error = thrown(() => storeRingSeq(notADir, 1, 5));
    expect(error.code).toBe('ERR_EVS_STATE_FILE_IO');
    expect(error.message).toContain(notADir);

    mkdirSync(join(dir, 'ringid_4'));
    expect(codeOf(() => loadRingSeq(dir, 4))).toBe('ERR_EVS_STATE_FILE_IO');
    expect(codeOf(() => storeRingSeq(dir, 4, 5))).toBe('ERR_EVS_STATE_FILE_IO');
    expect(readdirSync(dir).sort()).toEqual(['file', 'ringid_4']); // the temp file was removed
  });

  it('errors cross a thread as toWire() and come back with their code through EvsError.fromWire', () => {
    writeFileSync(join(dir, 'ringid_1'), new Uint8Array(3));
    const error = thrown(() => loadRingSeq(dir, 1));
    const back = EvsError.fromWire(structuredClone(error.toWire()));
    expect(back.code).toBe('ERR_EVS_STATE_FILE_CORRUPT');
    expect(back.message).toBe(error.message);
  });
});
