/**
 * SIGINT and SIGTERM ask for a graceful stop; a second one while stopping
 * gives up on it and exits at once (exit code 1), for a stop that hangs.
 */
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
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
