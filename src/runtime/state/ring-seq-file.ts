/**
 * The persisted ring seq (TOTEM.md §7): `<stateDir>/ringid_<nodeId>`, written
 * before a new ring is used (`Ready.persistRingSeq`) and read once at start, so
 * that a restarted processor never reuses a ring id.
 *
 * ## File format (12 bytes, little-endian)
 *
 * | offset | bytes | field                                                   |
 * |-------:|------:|---------------------------------------------------------|
 * | 0      | 8     | ring seq, u64 (<= 2^53 - 1, `ringSeqMax`)                |
 * | 8      | 4     | check: zlib.crc32(bytes 0..7) XOR `ringSeqFileMagic`     |
 *
 * Unlike corosync (8 bytes in host order; a missing *or short* file reads as
 * 0), only a missing file means 0. A file of any other length, a failed check
 * or a seq beyond 2^53 - 1 is an error (ERR_EVS_STATE_FILE_CORRUPT):
 * silently starting again from 0 could reuse a ring id. corosync's own 8-byte
 * files are therefore refused too.
 *
 * ## Writing
 *
 * Write the 12 bytes to `ringid_<nodeId>.tmp`, fsync it, rename it over
 * `ringid_<nodeId>`, fsync the directory: after a crash the file holds either
 * the old or the new seq, never a mix. One writer per (stateDir, nodeId): the
 * protocol worker of that node. A `.tmp` left by a crash is truncated by the
 * next store and never read.
 *
 * Synchronous on purpose: it runs rarely (on COMMIT entry) in the protocol
 * worker, and the new ring must not be used before the write is durable.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ringSeqMax } from '../../limits.ts';
import { RingSeqFileError } from '../../errors.ts';

/** "TERS" as a little-endian u32 (bytes 0x54 0x45 0x52 0x53). */
export const ringSeqFileMagic = 0x53524554;
export const ringSeqFileBytes = 12;

const u32Range = 2 ** 32;

export function ringSeqFilePath(stateDir: string, nodeId: number): string {
  checkNodeId(nodeId);
  return join(stateDir, `ringid_${nodeId}`);
}

/** The file's 12 bytes for `seq`. */
export function encodeRingSeqFile(seq: number): Uint8Array {
  checkSeq(seq);
  const bytes = new Uint8Array(ringSeqFileBytes);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, seq >>> 0, true);
  view.setUint32(4, Math.floor(seq / u32Range), true);
  view.setUint32(8, (crc32(bytes.subarray(0, 8)) ^ ringSeqFileMagic) >>> 0, true);
  return bytes;
}

/** The seq in a file's bytes, or why they are not a valid ring-seq file. */
export function decodeRingSeqFile(bytes: Uint8Array): { ok: true; seq: number } | { ok: false; reason: string } {
  if (bytes.length !== ringSeqFileBytes) return { ok: false, reason: `${bytes.length} bytes, expected ${ringSeqFileBytes}` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const check = (crc32(bytes.subarray(0, 8)) ^ ringSeqFileMagic) >>> 0;
  if (view.getUint32(8, true) !== check) return { ok: false, reason: 'check word mismatch (torn or damaged write)' };
  const seq = view.getUint32(4, true) * u32Range + view.getUint32(0, true);
  if (seq > ringSeqMax) return { ok: false, reason: `seq ${seq} beyond ${ringSeqMax}` };
  return { ok: true, seq };
}

/**
 * The last stored ring seq of `nodeId`, or 0 when there is no file (first
 * start). Throws ERR_EVS_STATE_FILE_CORRUPT for a damaged file and
 * ERR_EVS_STATE_FILE_IO when it cannot be read.
 */
export function loadRingSeq(stateDir: string, nodeId: number): number {
  const path = ringSeqFilePath(stateDir, nodeId);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 0;
    throw ioError(path, 'read', error);
  }
  const decoded = decodeRingSeqFile(bytes);
  if (!decoded.ok) {
    throw new RingSeqFileError(
      'ERR_EVS_STATE_FILE_CORRUPT',
      `ring seq file ${path} is corrupt: ${decoded.reason}. Restore it, or delete it to start from ring seq 0 ` +
        'accepting that this node may reuse a ring id its peers still remember (TOTEM.md §7)',
    );
  }
  return decoded.seq;
}

/** Persists `seq` durably (temp file, fsync, rename, fsync of the directory); creates `stateDir` if missing. */
export function storeRingSeq(stateDir: string, nodeId: number, seq: number): void {
  const path = ringSeqFilePath(stateDir, nodeId);
  const bytes = encodeRingSeqFile(seq);
  ensureStateDir(stateDir);
  const temp = `${path}.tmp`;
  try {
    writeFileDurably(temp, bytes);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw ioError(path, 'write', error);
  }
  try {
    fsyncDirectory(stateDir);
  } catch (error) {
    throw ioError(stateDir, 'fsync the directory of', error);
  }
}

/** Creates `stateDir` (and its parents) if missing; ERR_EVS_STATE_FILE_IO if that fails or it is not a directory. */
export function ensureStateDir(stateDir: string): void {
  try {
    mkdirSync(stateDir, { recursive: true });
  } catch (error) {
    throw ioError(stateDir, 'create the state directory', error);
  }
}

function writeFileDurably(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'w', 0o644);
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDirectory(dir: string): void {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function checkNodeId(nodeId: number): void {
  if (!Number.isInteger(nodeId) || nodeId < 1 || nodeId >= u32Range) {
    throw new RingSeqFileError('ERR_EVS_STATE_FILE_BAD_ARGUMENT', `nodeId must be an integer 1..${u32Range - 1}, got ${nodeId}`);
  }
}

function checkSeq(seq: number): void {
  if (!Number.isInteger(seq) || seq < 0 || seq > ringSeqMax) {
    throw new RingSeqFileError('ERR_EVS_STATE_FILE_BAD_ARGUMENT', `ring seq must be an integer 0..${ringSeqMax}, got ${seq}`);
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function ioError(path: string, what: string, cause: unknown): RingSeqFileError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new RingSeqFileError('ERR_EVS_STATE_FILE_IO', `cannot ${what} ${path}: ${detail}`, { cause });
}
