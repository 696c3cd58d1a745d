/**
 * The cluster key file, like corosync's authkey: the raw key bytes and nothing
 * else, 32..4096 bytes (corosync's 128-byte authkey is accepted as is), mode
 * 0600. Synchronous: it is read once at start and written by `keygen`.
 *
 * `readKeyFile` refuses a file that group or others can access in any way (the
 * check ssh makes on private keys: a group-writable key can be swapped, a
 * readable one stolen); the error names the path and the fix, `chmod 600`.
 * Permission and size are checked on the open descriptor (fstat), not on the
 * path, so the file cannot be swapped between the check and the read.
 */
import { randomBytes } from 'node:crypto';
import { type Stats, closeSync, fchmodSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { checkClusterKeySize } from './envelope.ts';
import { clusterKeyBytesMax, clusterKeyBytesMin } from '../../limits.ts';
import { CryptoError } from '../../errors.ts';

/**
 * What generateClusterKey and `evs keygen` make: 32 bytes. Every datagram key
 * is HKDF-SHA256(cluster key, ...) of 32 bytes (envelope.ts), and 32 random
 * bytes of input already carry AES-256's full 256 bits; a longer key adds
 * nothing. Keys of up to 4096 bytes are still accepted (corosync's authkey is 128).
 */
export const clusterKeyBytesDefault = 32;
export const keyFileMode = 0o600;

/** A fresh random cluster key of `bytes` bytes (32..4096). */
export function generateClusterKey(bytes: number = clusterKeyBytesDefault): Uint8Array {
  checkClusterKeySize(bytes, 'a cluster key');
  return new Uint8Array(randomBytes(bytes));
}

export interface WriteKeyFileOptions {
  /** Replace an existing file (atomically: a new 0600 file renamed over it). Default false. */
  overwrite?: boolean;
}

/**
 * Writes `key` to `path` with mode 0600, fsynced. Without `overwrite` the file
 * is created exclusively and an existing one is refused (ERR_EVS_KEY_FILE_EXISTS).
 */
export function writeKeyFile(path: string, key: Uint8Array, options: WriteKeyFileOptions = {}): void {
  checkClusterKeySize(key.length, 'the cluster key');
  if (options.overwrite !== true) {
    writeNewFile(path, key);
    return;
  }
  const temp = join(dirname(path), `.${basename(path)}.tmp`);
  rmSync(temp, { force: true });
  writeNewFile(temp, key);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw ioError(path, 'rename the new key file over', error);
  }
}

function writeNewFile(path: string, key: Uint8Array): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', keyFileMode);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') {
      throw new CryptoError(
        'ERR_EVS_KEY_FILE_EXISTS',
        `key file ${path} already exists; remove it or pass { overwrite: true } (the cluster's nodes must all share one key)`,
      );
    }
    throw ioError(path, 'create', error);
  }
  try {
    fchmodSync(fd, keyFileMode); // the umask may have removed bits from the mode given to open
    let written = 0;
    while (written < key.length) written += writeSync(fd, key, written, key.length - written);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw ioError(path, 'write', error);
  }
  closeSync(fd);
}

/** Reads and checks a key file; throws a CryptoError with an ERR_EVS_KEY_FILE_* code. */
export function readKeyFile(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      throw new CryptoError('ERR_EVS_KEY_FILE_NOT_FOUND', `key file ${path} does not exist (make one with keygen)`);
    }
    throw ioError(path, 'open', error);
  }
  try {
    return readOpenKeyFile(path, fd);
  } finally {
    closeSync(fd);
  }
}

function readOpenKeyFile(path: string, fd: number): Uint8Array {
  let stat: Stats;
  try {
    stat = fstatSync(fd);
  } catch (error) {
    throw ioError(path, 'stat', error);
  }
  if (!stat.isFile()) throw new CryptoError('ERR_EVS_KEY_FILE_NOT_A_FILE', `key file ${path} is not a regular file`);
  const mode = stat.mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new CryptoError(
      'ERR_EVS_KEY_FILE_PERMISSIONS',
      `key file ${path} has mode ${mode.toString(8).padStart(4, '0')}: group and others must have no access to a cluster key; run \`chmod 600 ${path}\``,
    );
  }
  if (stat.size < clusterKeyBytesMin || stat.size > clusterKeyBytesMax) {
    throw new CryptoError(
      'ERR_EVS_KEY_FILE_SIZE',
      `key file ${path} has ${stat.size} bytes; a cluster key has ${clusterKeyBytesMin}..${clusterKeyBytesMax}`,
    );
  }
  // One byte more than the size, so a file that grew since fstat is noticed.
  const key = new Uint8Array(stat.size + 1);
  let read = 0;
  try {
    for (;;) {
      const n = readSync(fd, key, read, key.length - read, null);
      if (n === 0) break;
      read += n;
      if (read === key.length) break;
    }
  } catch (error) {
    throw ioError(path, 'read', error);
  }
  if (read !== stat.size) {
    throw new CryptoError('ERR_EVS_KEY_FILE_SIZE', `key file ${path} changed size while it was read (${stat.size}, then ${read} bytes)`);
  }
  const exact = key.slice(0, read);
  key.fill(0);
  return exact;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function ioError(path: string, what: string, cause: unknown): CryptoError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new CryptoError('ERR_EVS_KEY_FILE_IO', `cannot ${what} key file ${path}: ${detail}`, { cause });
}
