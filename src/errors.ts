/**
 * Errors of the public API. Every error carries a stable `code` (ERR_EVS_*)
 * so callers can branch on it, also after it crossed a thread: structured
 * clone drops `code` from an Error on Node 20, so `toWire` / `fromWire` turn
 * an error into a plain object and back.
 */
/**
 * Stable error codes. The ones the API raises itself are listed; subsystems
 * (key files, state files, crypto) add finer ERR_EVS_* codes of their own.
 */
export type EvsErrorCode =
  | 'ERR_EVS_INVALID_OPTION'
  | 'ERR_EVS_MESSAGE_TOO_LARGE'
  | 'ERR_EVS_TOO_MANY_GROUPS'
  | 'ERR_EVS_GROUP_NAME_TOO_LONG'
  | 'ERR_EVS_GROUP_NAME_EMPTY'
  | 'ERR_EVS_BAD_GUARANTEE'
  | 'ERR_EVS_TRY_AGAIN'
  | 'ERR_EVS_ABORTED'
  | 'ERR_EVS_STOPPED'
  | 'ERR_EVS_BAD_HANDLE'
  | 'ERR_EVS_NOT_JOINED'
  | 'ERR_EVS_INTERNAL'
  | `ERR_EVS_${string}`;

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
      if (typeof code === 'string' && code.startsWith('ERR_EVS_') && typeof message === 'string') {
        return new EvsError(code as EvsErrorCode, message);
      }
    }
    return new EvsError('ERR_EVS_INTERNAL', `unrecognised error from another thread: ${String(value)}`);
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
