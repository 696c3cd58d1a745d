import { Command } from 'commander';

/** Placeholder until the \`evs bench\` command lands (issue 4, in progress this session). */
export function benchCommand(): Command {
  return new Command('bench').description('(being built)').action(() => {
    throw new Error('evs bench is not built yet');
  });
}
