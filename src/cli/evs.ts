/**
 * The `evs` command line: one commander program, one file per subcommand.
 * Run from sources by src/cli/bin.mjs (tsx), or `npx tsx src/cli/evs.ts`.
 *
 * Exit codes: 0 done (also --help and a graceful stop by SIGINT/SIGTERM),
 * 2 a usage or configuration mistake, 1 a failure while running
 * (commands/cli-error.ts).
 */
import { Command } from 'commander';
import { benchCommand } from './bench/command.ts';
import { exitOnCommanderError } from './commands/cli-error.ts';
import { clusterCommand } from './commands/cluster.ts';
import { keygenCommand } from './commands/keygen.ts';
import { nodeCommand } from './commands/node.ts';

export function evsProgram(): Command {
  // addCommand passes no settings down: each subcommand sets its own exitOverride.
  return new Command('evs')
    .description('Extended Virtual Synchrony group messaging (Totem single ring) for Node.js')
    .showHelpAfterError()
    .exitOverride(exitOnCommanderError)
    .addCommand(keygenCommand())
    .addCommand(nodeCommand())
    .addCommand(clusterCommand())
    .addCommand(benchCommand());
}

await evsProgram().parseAsync(process.argv);
