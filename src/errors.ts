/**
 * Errors of the public API. Every error carries a stable `code` (ERR_EVS_*)
 * so callers can branch on it, also after it crossed a thread: `toWire` /
 * `fromWire` turn an error into a plain object and back.
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
  | 'ERR_EVS_KEY_FILE'
  | 'ERR_EVS_STATE_FILE'
  | 'ERR_EVS_INTERNAL';

export class EvsError extends Error {
  override readonly name = 'EvsError';
  constructor(readonly code: EvsErrorCode, message: string) {
    super(message);
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
