/**
 * Every error of the library, and every code it may carry, in one place.
 *
 * An error carries a stable `code` (ERR_EVS_*) so callers branch on it, never
 * on the message, also after it crossed a thread: structured clone drops
 * `code` from an Error on Node 20 (measured: a custom `code` comes out
 * undefined), so `toWire` / `fromWire` turn an error into a plain object and
 * back. Thrown only for caller or configuration mistakes, always before any
 * state changed; bad input from the network is never thrown but dropped and
 * counted.
 *
 * Imports nothing: the protocol core (src/protocol, src/wire, src/groups) may
 * import this module, so it must never reach into the runtime.
 */

/** Every code, by name, with what it means. `EvsErrorCode` is the union of these names. */
export const evsErrorCodes = {
  // The public API (EvsNode, EvsHandle).
  ERR_EVS_INVALID_OPTION: 'an option of EvsNode.start broke a rule; the message names the option and the rule',
  ERR_EVS_INVALID_ARGUMENT: 'an argument of a call has the wrong type or value',
  ERR_EVS_MESSAGE_TOO_LARGE: 'payload longer than messageBytesMax',
  ERR_EVS_TOO_MANY_GROUPS: 'more than groupCountMax group names on one message, or joined by one handle in all',
  ERR_EVS_GROUP_NAME_TOO_LONG: 'a group name longer than groupNameBytesMax bytes (UTF-8)',
  ERR_EVS_GROUP_NAME_EMPTY: 'a group name of zero bytes',
  ERR_EVS_BAD_GUARANTEE: "a guarantee that is neither agreed ('agreed', 0) nor safe ('safe', 1)",
  ERR_EVS_NOT_JOINED: 'mcastJoined on a handle that joined no group',
  ERR_EVS_BAD_HANDLE: 'a handle that is closed, not open, or already open',
  ERR_EVS_TOO_MANY_HANDLES: 'more than handlesPerNodeMax handles open on one node (EvsNode.open throws it)',
  ERR_EVS_TRY_AGAIN: 'the send queue is full: try again later',
  ERR_EVS_ABORTED: "the caller's AbortSignal fired: before the message was queued, the node started, the join was confirmed, or during events() / waitForMembers",
  ERR_EVS_STOPPED: 'the node (or, in the core, the processor after leave) is stopped',
  ERR_EVS_DELIVERY_OVERFLOW: 'the main thread did not take deliveries past rings.deliverBacklogBytes: the node left the ring',
  ERR_EVS_WORKER_FAILED: 'a runtime worker thread failed or exited',
  ERR_EVS_BIND: 'the UDP socket could not bind (address in use, not local, or port not permitted)',
  ERR_EVS_INTERNAL: 'a bug: an error that is not an EvsError, or an unrecognised one from another thread',
  // The group layer (src/groups), beyond the API's codes above.
  ERR_EVS_BAD_OPTION: 'an option of GroupSender / GroupReceiver / EvsCore, or an argument of a sizing helper, is out of range',
  // Cluster keys and key files (src/runtime/crypto/keyfile.ts).
  ERR_EVS_KEY_SIZE: 'a cluster key outside clusterKeyBytesMin..clusterKeyBytesMax bytes',
  ERR_EVS_KEY_FILE_NOT_FOUND: 'readKeyFile: no file at that path',
  ERR_EVS_KEY_FILE_NOT_A_FILE: 'readKeyFile: the path is not a regular file (a directory, a device, ...)',
  ERR_EVS_KEY_FILE_PERMISSIONS: 'readKeyFile: group or others have some access to the file; the fix is `chmod 600 <path>`',
  ERR_EVS_KEY_FILE_SIZE: 'readKeyFile: the file is smaller or larger than a cluster key may be',
  ERR_EVS_KEY_FILE_EXISTS: 'writeKeyFile: the file exists and `{ overwrite: true }` was not given',
  ERR_EVS_KEY_FILE_IO: 'any other failure of the file system on a key file (`cause` holds the original)',
  // Sealing datagrams (src/runtime/crypto).
  ERR_EVS_CRYPTO_OUTPUT_TOO_SMALL: 'seal: the output has no room for the sealed datagram at that offset',
  ERR_EVS_CRYPTO_COUNTER_EXHAUSTED: "seal: the 2^53 counters of this process's salt are used up (restart the process: a new salt)",
  ERR_EVS_CRYPTO_BAD_OPTION: 'an option of a cipher or a crypto pool is out of range',
  // The ring-seq state file (src/runtime/state/ring-seq-file.ts).
  ERR_EVS_STATE_FILE_CORRUPT: 'the file exists but is not 12 bytes, fails its check, or holds a seq beyond 2^53 - 1',
  ERR_EVS_STATE_FILE_IO: 'the file system refused (`cause` holds the original error)',
  ERR_EVS_STATE_FILE_BAD_ARGUMENT: 'a node id that is not a non-zero u32, or a seq that is not an integer 0..ringSeqMax',
  // Process harness of the CLI and the benchmarks (src/cli).
  ERR_EVS_TIMEOUT: 'a wait ran out of time: EvsNode.waitForMembers (timeoutMs), or the process harness',
  ERR_EVS_CHILD_EXITED: 'a node process of the harness exited while a request to it was pending',
} as const satisfies Record<`ERR_EVS_${string}`, string>;

/** A stable error code: a union of literals, so `switch (error.code)` narrows. */
export type EvsErrorCode = keyof typeof evsErrorCodes;

export function isEvsErrorCode(value: unknown): value is EvsErrorCode {
  return typeof value === 'string' && Object.hasOwn(evsErrorCodes, value);
}

/** The codes the group layer throws (GroupError). */
export type GroupErrorCode =
  | 'ERR_EVS_MESSAGE_TOO_LARGE'
  | 'ERR_EVS_TOO_MANY_GROUPS'
  | 'ERR_EVS_GROUP_NAME_TOO_LONG'
  | 'ERR_EVS_GROUP_NAME_EMPTY'
  | 'ERR_EVS_BAD_GUARANTEE'
  | 'ERR_EVS_BAD_OPTION'
  | 'ERR_EVS_STOPPED';

/** The codes of cluster keys, key files and sealing (CryptoError). */
export type CryptoErrorCode =
  | 'ERR_EVS_KEY_SIZE'
  | 'ERR_EVS_KEY_FILE_NOT_FOUND'
  | 'ERR_EVS_KEY_FILE_NOT_A_FILE'
  | 'ERR_EVS_KEY_FILE_PERMISSIONS'
  | 'ERR_EVS_KEY_FILE_SIZE'
  | 'ERR_EVS_KEY_FILE_EXISTS'
  | 'ERR_EVS_KEY_FILE_IO'
  | 'ERR_EVS_CRYPTO_OUTPUT_TOO_SMALL'
  | 'ERR_EVS_CRYPTO_COUNTER_EXHAUSTED'
  | 'ERR_EVS_CRYPTO_BAD_OPTION';

/** The codes of the ring-seq state file (RingSeqFileError). */
export type RingSeqFileErrorCode = 'ERR_EVS_STATE_FILE_CORRUPT' | 'ERR_EVS_STATE_FILE_IO' | 'ERR_EVS_STATE_FILE_BAD_ARGUMENT';

export class EvsError extends Error {
  override readonly name: string = 'EvsError';
  constructor(readonly code: EvsErrorCode, message: string, options?: { cause: unknown }) {
    super(message, options);
  }

  toWire(): { code: EvsErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }

  static fromWire(value: unknown): EvsError {
    if (typeof value === 'object' && value !== null && 'code' in value && 'message' in value) {
      const { code, message } = value as { code: unknown; message: unknown };
      if (isEvsErrorCode(code) && typeof message === 'string') return new EvsError(code, message);
    }
    return new EvsError('ERR_EVS_INTERNAL', `unrecognised error from another thread: ${String(value)}`);
  }
}

/** An EvsError raised by the group layer, so the public API has one error hierarchy. */
export class GroupError extends EvsError {
  override readonly name = 'GroupError';
  constructor(
    override readonly code: GroupErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

/** An EvsError of the crypto layer: a key of the wrong size, a key file with loose permissions, no room to seal. */
export class CryptoError extends EvsError {
  override readonly name: string = 'CryptoError';
  declare readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options?: { cause: unknown }) {
    super(code, message, options);
  }
}

/** An EvsError of the ring-seq state file. */
export class RingSeqFileError extends EvsError {
  override readonly name: string = 'RingSeqFileError';
  declare readonly code: RingSeqFileErrorCode;
  constructor(code: RingSeqFileErrorCode, message: string, options?: { cause: unknown }) {
    super(code, message, options);
  }
}

/** An option broke a rule: the message names the option and the rule. */
export function invalidOption(path: string, rule: string, got: unknown): EvsError {
  let shown: string;
  try {
    shown = typeof got === 'string' ? `'${got}'` : JSON.stringify(got) ?? String(got);
  } catch {
    shown = String(got);
  }
  return new EvsError('ERR_EVS_INVALID_OPTION', `options.${path} ${rule} (got ${shown})`);
}
