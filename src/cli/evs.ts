/**
 * The `evs` command line: one commander program, one file per subcommand.
 * Run from sources by src/cli/bin.mjs (tsx), or `npx tsx src/cli/evs.ts`.
 */
import { Command } from 'commander';
import { benchCommand } from './bench/command.ts';
import { clusterCommand } from './commands/cluster.ts';
import { keygenCommand } from './commands/keygen.ts';
import { nodeCommand } from './commands/node.ts';

export function evsProgram(): Command {
  return new Command('evs')
    .description('Extended Virtual Synchrony group messaging (Totem single ring) for Node.js')
    .showHelpAfterError()
    .addCommand(keygenCommand())
    .addCommand(nodeCommand())
    .addCommand(clusterCommand())
    .addCommand(benchCommand());
}

await evsProgram().parseAsync(process.argv);
