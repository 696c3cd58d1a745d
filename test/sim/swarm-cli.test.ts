import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = new URL('./swarm-cli.ts', import.meta.url).pathname;
/** what `npm run sim` runs: the CLI bundled by esbuild, without tsx. */
const bundled = new URL('../../scripts/sim.mjs', import.meta.url).pathname;

/** the simulator's output minus the wall times, which differ from run to run. */
async function output(args: readonly string[]): Promise<string[]> {
  const { stdout } = await run(process.execPath, args, { encoding: 'utf8' });
  return stdout.trimEnd().split('\n').map((line) => line.replace(/ wall=\d+ms$/, '').replace(/[\d.]+ runs per minute/, 'N runs per minute'));
}
/** `npm run sim` as a user runs it. */
const sim = (...args: string[]): Promise<string[]> => output([bundled, ...args]);
/** the CLI from its TypeScript sources under tsx. */
const simSources = (...args: string[]): Promise<string[]> => output(['--import', 'tsx', cli, ...args]);

describe('npm run sim', () => {
  it('prints the same lines, in seed order, bundled with its runs spread over worker threads as from sources in one thread', async () => {
    const args = ['--seeds', '6', '--base', '424242', '--nodes', '2..4', '--safety', '1000..2000'];
    const [inline, workers] = await Promise.all([simSources(...args, '--jobs', '1'), sim(...args, '--jobs', '3')]);
    expect(inline).toHaveLength(8);
    expect(inline.slice(0, 6).map((line) => /^seed=(\d+) /.exec(line)?.[1])).toEqual(['424242', '424243', '424244', '424245', '424246', '424247']);
    expect(inline.at(-1)).toMatch(/^sim: 6 runs, 0 violations, \d+ messages delivered$/);
    expect(workers).toEqual(inline);
  });

  it('names a bad --jobs', async () => {
    await expect(sim('--seeds', '2', '--jobs', '0')).rejects.toThrow(/--jobs expects at least 1/);
    await expect(sim('--seeds', '2', '--jobs', 'two')).rejects.toThrow(/--jobs expects an integer/);
  });
});
