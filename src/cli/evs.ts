#!/usr/bin/env node
/**
 * The `evs` command line: one commander program, one file per subcommand.
 * Installed, the bin is this file compiled (dist/src/cli/evs.js); from a
 * checkout run it with `npx tsx src/cli/evs.ts`.
 *
 * Exit codes: 0 done (also --help, --version and a stop by stdin's end),
 * 2 a usage or configuration mistake, 1 a failure while running
 * (commands/cli-error.ts), 130 stopped by SIGINT, 143 stopped by SIGTERM
 * (commands/stop-signal.ts). Status lines go to stderr, data to stdout.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { benchCommand } from './bench/command.ts';
import { exitOnCommanderError } from './commands/cli-error.ts';
import { clusterCommand } from './commands/cluster.ts';
import { wrapHelpToTerminal } from './commands/help-format.ts';
import { keygenCommand } from './commands/keygen.ts';
import { nodeCommand } from './commands/node.ts';

/** the version in the package's package.json: two folders up from src/cli, three from dist/src/cli. */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    let text: string;
    try {
      text = readFileSync(new URL(up, import.meta.url), 'utf8');
    } catch {
      continue;
    }
    const manifest = JSON.parse(text) as { name?: unknown; version?: unknown };
    if (manifest.name === 'totem-evs' && typeof manifest.version === 'string') return manifest.version;
  }
  throw new Error(`evs: no package.json of totem-evs above ${import.meta.url}`);
}

export function evsProgram(): Command {
  // addCommand passes no settings down: each subcommand sets its own exitOverride.
  const program = new Command('evs')
    .description('Extended Virtual Synchrony group messaging (Totem single ring) for Node.js')
    .version(packageVersion(), '-V, --version', 'print the version of totem-evs and exit')
    .showHelpAfterError()
    .exitOverride(exitOnCommanderError)
    .addCommand(keygenCommand())
    .addCommand(nodeCommand())
    .addCommand(clusterCommand())
    .addCommand(benchCommand());
  return wrapHelpToTerminal(program);
}

await evsProgram().parseAsync(process.argv);
