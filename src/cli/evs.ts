/**
 * The `evs` command line: one commander program, one file per subcommand.
 * Run from sources by src/cli/bin.mjs (tsx), or `npx tsx src/cli/evs.ts`.
 *
 * Exit codes: 0 done (also --help and a graceful stop by SIGINT/SIGTERM),
 * 2 a usage or configuration mistake, 1 a failure while running
 * (commands/cli-error.ts).
 */
import { Command, type CommanderError } from 'commander';
import { benchCommand } from './bench/command.ts';
import { exitUsage } from './commands/cli-error.ts';
import { clusterCommand } from './commands/cluster.ts';
import { keygenCommand } from './commands/keygen.ts';
import { nodeCommand } from './commands/node.ts';

/** commander exits 1 on a bad flag; a usage mistake is 2 here, as for our own checks. */
function exitOnCommanderError(error: CommanderError): never {
  process.exit(error.exitCode === 0 ? 0 : exitUsage);
}

export function evsProgram(): Command {
  const program = new Command('evs')
    .description('Extended Virtual Synchrony group messaging (Totem single ring) for Node.js')
    .showHelpAfterError()
    .addCommand(keygenCommand())
    .addCommand(nodeCommand())
    .addCommand(clusterCommand())
    .addCommand(benchCommand());
  // addCommand does not pass settings down: each subcommand gets the exit-code rule itself.
  for (const command of [program, ...program.commands]) command.exitOverride(exitOnCommanderError);
  return program;
}

await evsProgram().parseAsync(process.argv);
