/**
 * How the `evs` commands fail: one line on stderr that says what to fix, no
 * stack trace, and an exit code a script can branch on.
 *
 *   2  the command line, the config file, the key file or the state directory
 *      is wrong (nothing was started)
 *   1  the node failed while running (bind refused, a worker died, ...)
 */
import type { CommanderError } from 'commander';
import { EvsError } from '../../errors.ts';

export const exitUsage = 2;
export const exitFailure = 1;

/** a mistake of the user's: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** error codes that mean the configuration is wrong, not that running failed. */
const configurationCodes = /^ERR_EVS_(INVALID_OPTION|KEY_FILE_|KEY_SIZE|STATE_FILE_)/;

/** for commander's exitOverride: a bad flag exits 2 (commander's own is 1), --help 0. */
export function exitOnCommanderError(error: CommanderError): never {
  process.exit(error.exitCode === 0 ? 0 : exitUsage);
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return exitUsage;
  if (error instanceof EvsError && configurationCodes.test(error.code)) return exitUsage;
  return exitFailure;
}

/** prints `<command>: <message>` and exits; `explain` rewrites library messages in the command's terms. */
export function failAndExit(command: string, error: unknown, explain: (error: unknown) => string = messageOf): never {
  process.stderr.write(`${command}: ${explain(error)}\n`);
  process.exit(exitCodeFor(error));
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
