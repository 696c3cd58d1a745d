import { Command } from 'commander';

/** Placeholder until the `evs keygen` command lands (issue 4, in progress this session). */
export function keygenCommand(): Command {
  return new Command('keygen').description('(being built)').action(() => {
    throw new Error('evs keygen is not built yet');
  });
}
