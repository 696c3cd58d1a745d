import { Command } from 'commander';

/** Placeholder until the `evs cluster` command lands (issue 4, in progress this session). */
export function clusterCommand(): Command {
  return new Command('cluster').description('(being built)').action(() => {
    throw new Error('evs cluster is not built yet');
  });
}
