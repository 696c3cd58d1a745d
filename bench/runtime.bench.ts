/**
 * The runtime end to end, now a thin wrapper over `evs bench`
 * (src/cli/bench, docs/BENCH.md), kept so `npm run bench:runtime` still
 * measures throughput, latency and failover in one command:
 *
 *   npx tsx bench/runtime.bench.ts [--layout split|single] [--crypto-threads n] [--quick]
 *
 * throughput  100 B and 1300 B, one sender and all three    (evs bench --sizes 100,1300 --senders one|all)
 * latency     100 B self delivery, one in flight            (evs bench latency)
 * failover    kill -9 at a 300 ms token and at the defaults (evs bench failover)
 *
 * Results go to bench/results/runtime-<layout>-<cryptoThreads>/<mode>.json and .svg.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    layout: { type: 'string', default: 'split' },
    'crypto-threads': { type: 'string', default: '0' },
    quick: { type: 'boolean', default: false },
  },
});
const runs = args.quick ? '1' : '3';
const out = fileURLToPath(new URL(`./results/runtime-${args.layout}-${args['crypto-threads']}/`, import.meta.url));
const common = ['--layout', args.layout, '--crypto-threads', args['crypto-threads'], '--runs', runs];
const shortTotem = ['--token-ms', '300', '--token-coefficient-ms', '0', '--consensus-ms', '400'];
const evs = fileURLToPath(new URL('../src/cli/evs.ts', import.meta.url));

const steps: [string, string[]][] = [
  ['throughput-one', ['bench', '--sizes', '100,1300', '--senders', 'one', '--out', `${out}one`]],
  ['throughput-all', ['bench', '--sizes', '100,1300', '--senders', 'all', '--out', `${out}all`]],
  ['latency', ['bench', 'latency', '--samples', args.quick ? '500' : '2000', '--out', out]],
  ['failover, short timers', ['bench', 'failover', ...shortTotem, '--out', `${out}failover-short`]],
  ['failover, defaults', ['bench', 'failover', '--out', `${out}failover-default`]],
];
for (const [name, argv] of steps) {
  process.stdout.write(`\n## ${name}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', evs, ...argv, ...common], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
