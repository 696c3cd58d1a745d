/**
 * SIGINT and SIGTERM ask for a graceful stop; a second one while stopping
 * gives up on it and exits at once (exit code 1), for a stop that hangs.
 *
 * A command stopped by a signal exits 128 + the signal's number, as shells
 * report a process the signal killed: 130 for SIGINT (Ctrl-C), 143 for
 * SIGTERM, so a script can tell an interrupted run from a finished one.
 */
import { constants } from 'node:os';

export const stopSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** the exit code of a graceful stop asked for by `signal`: 130 for SIGINT, 143 for SIGTERM. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

export function onStopSignal(stop: (signal: NodeJS.Signals) => void): void {
  let asked = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (asked) {
      process.stderr.write(`${signal} again: exiting without a graceful stop\n`);
      process.exit(1);
    }
    asked = true;
    stop(signal);
  };
  for (const signal of stopSignals) process.on(signal, onSignal);
}
