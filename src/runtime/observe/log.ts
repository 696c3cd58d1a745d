/**
 * Log lines of the workers, handed to the application's logger on the main
 * thread. `debug: true` (the old switch) is a console logger that prints
 * every line to stderr as it did before, `[evs <nodeId>] <line>`.
 */
import type { EvsLogger } from '../../options.ts';
import type { LogLevel } from './observe-messages.ts';

/** the logger `debug: true` stands for: every level to stderr, one line each. */
export function stderrLogger(): EvsLogger {
  const write = (fields: object, message: string): void => {
    const nodeId = (fields as { nodeId?: unknown }).nodeId;
    process.stderr.write(`[evs ${String(nodeId)}] ${message}\n`);
  };
  return { debug: write, info: write, warn: write, error: write };
}

/** one line to `logger`; a logger that throws does not take the node down with it. */
export function logLine(logger: EvsLogger, level: LogLevel, fields: { readonly nodeId: number; readonly thread: string }, message: string): void {
  try {
    logger[level](fields, message);
  } catch {
    // a broken logger must not break delivery; nothing better to do with its error here
  }
}
