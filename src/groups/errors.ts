/**
 * Errors of the group layer. Each carries a stable `code` (undici's pattern),
 * so callers branch on `code`, never on the message text. Structured clone
 * drops `code` from an Error on Node 20: across a worker boundary, send
 * `{ code, message }` and rebuild with `EvsError.fromWire` (src/errors.ts).
 *
 * Thrown only for caller mistakes (bad arguments, bad options), always before
 * any state changed. Bad *input from the network* is never thrown: it is
 * dropped and counted.
 */

import { EvsError } from '../errors.ts';

export type GroupErrorCode =
  /** payload longer than `messageBytesMax`. */
  | 'ERR_EVS_MESSAGE_TOO_LARGE'
  /** more than `groupCountMax` group names on one message. */
  | 'ERR_EVS_TOO_MANY_GROUPS'
  /** a group name longer than `groupNameBytesMax` bytes (UTF-8). */
  | 'ERR_EVS_GROUP_NAME_TOO_LONG'
  /** a group name of zero bytes. */
  | 'ERR_EVS_GROUP_NAME_EMPTY'
  /** guarantee is neither Guarantee.Agreed nor Guarantee.Safe. */
  | 'ERR_EVS_BAD_GUARANTEE'
  /** an option of GroupSender / GroupReceiver / EvsCore, or an argument of a sizing helper, is out of range. */
  | 'ERR_EVS_BAD_OPTION'
  /** submit after leave(): the processor is stopped. */
  | 'ERR_EVS_STOPPED';

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
