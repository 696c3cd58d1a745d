import { Command } from 'commander';

/** Placeholder until the `evs node` command lands (issue 4, in progress this session). */
export function nodeCommand(): Command {
  return new Command('node').description('(being built)').action(() => {
    throw new Error('evs node is not built yet');
  });
}
