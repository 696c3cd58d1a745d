/**
 * Errors of the crypto layer (cluster key, key file, sealing). Each carries a
 * stable `code` (undici's pattern, as GroupError); callers branch on `code`,
 * never on the text. Note: on Node 20 structured clone of an Error keeps only
 * name, message, stack and cause (measured: a custom `code` comes out
 * undefined), so whatever carries these errors across a thread sends
 * `toWire()` and rebuilds with `EvsError.fromWire` (src/errors.ts), which keeps
 * any ERR_EVS_* code.
 *
 * Thrown only for caller or configuration mistakes (a key of the wrong size, a
 * key file with loose permissions, an output buffer too small). A bad datagram
 * from the network is never thrown: `DatagramCipher.open` classifies and counts
 * it (see cipher.ts).
 */
import { EvsError } from '../../errors.ts';

export type CryptoErrorCode =
  /** a cluster key (bytes, or the `bytes` argument of generateClusterKey) outside clusterKeyBytesMin..clusterKeyBytesMax. */
  | 'ERR_EVS_KEY_SIZE'
  /** readKeyFile: no file at that path. */
  | 'ERR_EVS_KEY_FILE_NOT_FOUND'
  /** readKeyFile: the path is not a regular file (a directory, a device, ...). */
  | 'ERR_EVS_KEY_FILE_NOT_A_FILE'
  /** readKeyFile: group or others have some access to the file; the fix is `chmod 600 <path>`. */
  | 'ERR_EVS_KEY_FILE_PERMISSIONS'
  /** readKeyFile: the file is smaller or larger than a cluster key may be. */
  | 'ERR_EVS_KEY_FILE_SIZE'
  /** writeKeyFile: the file exists and `{ overwrite: true }` was not given. */
  | 'ERR_EVS_KEY_FILE_EXISTS'
  /** any other failure of the file system while reading or writing a key file (`cause` holds the original). */
  | 'ERR_EVS_KEY_FILE_IO'
  /** seal: `out` has no room for `plain.length + overheadBytes` bytes at `offset`. */
  | 'ERR_EVS_CRYPTO_OUTPUT_TOO_SMALL'
  /** seal: the 2^53 counters of this process's salt are used up (restart the process: a new salt). */
  | 'ERR_EVS_CRYPTO_COUNTER_EXHAUSTED'
  /** an option of a cipher is out of range. */
  | 'ERR_EVS_CRYPTO_BAD_OPTION';

export class CryptoError extends EvsError {
  override readonly name: string = 'CryptoError';
  declare readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options?: { cause: unknown }) {
    super(code, message, options);
  }
}
