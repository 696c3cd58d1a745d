/**
 * Cluster key files on the real file system, in a fresh temporary directory
 * per test. (Run as root, mode checks still apply: they look at the mode bits,
 * not at whether the reader could open the file.)
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AesGcmCipher } from '../../../src/runtime/crypto/ciphers.ts';
import { clusterKeyBytesMax, clusterKeyBytesMin } from '../../../src/limits.ts';
import { isOpenFailure } from '../../../src/runtime/crypto/datagram-cipher.ts';
import { EvsError } from '../../../src/errors.ts';
import { CryptoError, type CryptoErrorCode } from '../../../src/errors.ts';
import { clusterKeyBytesDefault, generateClusterKey, readKeyFile, writeKeyFile } from '../../../src/runtime/crypto/keyfile.ts';

const posix = process.platform !== 'win32';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'evs-keyfile-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function thrown(f: () => unknown): CryptoError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return error as CryptoError;
  }
  throw new Error('expected a CryptoError');
}

function codeOf(f: () => unknown): CryptoErrorCode {
  return thrown(f).code;
}

describe('generateClusterKey', () => {
  it('makes random keys of 32 bytes by default (what evs keygen writes), or of the size asked', () => {
    const a = generateClusterKey();
    const b = generateClusterKey();
    expect(a.length).toBe(clusterKeyBytesDefault);
    expect(clusterKeyBytesDefault).toBe(32);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(generateClusterKey(clusterKeyBytesMin).length).toBe(clusterKeyBytesMin);
    expect(generateClusterKey(clusterKeyBytesMax).length).toBe(clusterKeyBytesMax);
  });

  it('refuses sizes outside 32..4096', () => {
    for (const bytes of [0, 16, 31, 4097, 1.5, Number.NaN]) expect(codeOf(() => generateClusterKey(bytes))).toBe('ERR_EVS_KEY_SIZE');
  });
});

describe('writeKeyFile / readKeyFile', () => {
  it('round trip; the file holds exactly the key with mode 0600', () => {
    const path = join(dir, 'evs.key');
    const key = generateClusterKey();
    writeKeyFile(path, key);
    if (posix) expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path).equals(Buffer.from(key))).toBe(true);
    expect(Buffer.from(readKeyFile(path)).equals(Buffer.from(key))).toBe(true);
  });

  it('a key read back works as a cluster key on both ends', () => {
    const path = join(dir, 'evs.key');
    writeKeyFile(path, generateClusterKey());
    const sender = new AesGcmCipher(readKeyFile(path));
    const receiver = new AesGcmCipher(readKeyFile(path));
    const out = new Uint8Array(5 + sender.overheadBytes);
    sender.seal(new Uint8Array([1, 2, 3, 4, 5]), out, 0);
    expect(isOpenFailure(receiver.open(out))).toBe(false);
  });

  it('overwrite replaces an existing 0644 file by a new 0600 one, atomically', () => {
    const path = join(dir, 'evs.key');
    writeFileSync(path, Buffer.alloc(64, 1), { mode: 0o644 });
    chmodSync(path, 0o644);
    const key = generateClusterKey();
    writeKeyFile(path, key, { overwrite: true });
    if (posix) expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readKeyFile(path)).equals(Buffer.from(key))).toBe(true);
    expect(readdirSync(dir)).toEqual(['evs.key']); // no temp file left
  });

  it('refuses to overwrite an existing file without { overwrite: true }, and leaves it alone', () => {
    const path = join(dir, 'evs.key');
    const first = generateClusterKey();
    writeKeyFile(path, first);
    const error = thrown(() => writeKeyFile(path, generateClusterKey()));
    expect(error.code).toBe('ERR_EVS_KEY_FILE_EXISTS');
    expect(error.message).toContain(path);
    expect(error.message).toContain('overwrite');
    expect(Buffer.from(readKeyFile(path)).equals(Buffer.from(first))).toBe(true);
  });

  it('refuses to write a key of a bad size, creating nothing', () => {
    const path = join(dir, 'evs.key');
    expect(codeOf(() => writeKeyFile(path, new Uint8Array(31)))).toBe('ERR_EVS_KEY_SIZE');
    expect(readdirSync(dir)).toEqual([]);
  });

  it.skipIf(!posix)('refuses a 0644 file, naming the path and the fix', () => {
    const path = join(dir, 'evs.key');
    writeKeyFile(path, generateClusterKey());
    chmodSync(path, 0o644);
    const error = thrown(() => readKeyFile(path));
    expect(error.code).toBe('ERR_EVS_KEY_FILE_PERMISSIONS');
    expect(error.message).toContain(path);
    expect(error.message).toContain(`chmod 600 ${path}`);
    expect(error.message).toContain('0644');
    chmodSync(path, 0o600);
    expect(readKeyFile(path).length).toBe(clusterKeyBytesDefault);
  });

  it.skipIf(!posix)('refuses any group or other access: 0640, 0604, 0620, 0601; accepts 0400', () => {
    const path = join(dir, 'evs.key');
    writeKeyFile(path, generateClusterKey());
    for (const mode of [0o640, 0o604, 0o620, 0o601, 0o660, 0o666]) {
      chmodSync(path, mode);
      expect(codeOf(() => readKeyFile(path))).toBe('ERR_EVS_KEY_FILE_PERMISSIONS');
    }
    chmodSync(path, 0o400);
    expect(readKeyFile(path).length).toBe(clusterKeyBytesDefault);
  });

  it('refuses files too short or too long', () => {
    for (const bytes of [0, 1, clusterKeyBytesMin - 1, clusterKeyBytesMax + 1]) {
      const path = join(dir, `k${bytes}`);
      writeFileSync(path, Buffer.alloc(bytes, 7), { mode: 0o600 });
      const error = thrown(() => readKeyFile(path));
      expect(error.code).toBe('ERR_EVS_KEY_FILE_SIZE');
      expect(error.message).toContain(path);
    }
    const path = join(dir, 'corosync-authkey');
    writeFileSync(path, Buffer.alloc(128, 3), { mode: 0o600 }); // corosync's authkey size
    expect(readKeyFile(path).length).toBe(128);
  });

  it('missing file, a directory, and a missing parent directory: typed errors naming the path', () => {
    const missing = join(dir, 'nope.key');
    const error = thrown(() => readKeyFile(missing));
    expect(error.code).toBe('ERR_EVS_KEY_FILE_NOT_FOUND');
    expect(error.message).toContain(missing);

    const sub = join(dir, 'sub');
    mkdirSync(sub, { mode: 0o700 });
    expect(codeOf(() => readKeyFile(sub))).toBe('ERR_EVS_KEY_FILE_NOT_A_FILE');

    const orphan = join(dir, 'no-such-dir', 'evs.key');
    const io = thrown(() => writeKeyFile(orphan, generateClusterKey()));
    expect(io.code).toBe('ERR_EVS_KEY_FILE_IO');
    expect(io.message).toContain(orphan);
    expect(io.cause).toBeDefined();
  });

  it('errors cross a thread as toWire() and come back with their code through EvsError.fromWire', () => {
    const error = thrown(() => readKeyFile(join(dir, 'nope.key')));
    const back = EvsError.fromWire(structuredClone(error.toWire()));
    expect(back.code).toBe('ERR_EVS_KEY_FILE_NOT_FOUND');
    expect(back.message).toBe(error.message);
  });
});
