/**
 * `npm run chaos -- --minutes N`: soaks five real nodes in network namespaces
 * with random faults (every scenario of scenarios.ts plus random loss and
 * random partitions), judging each with the simulator's EVS checker.
 *
 * The options: `usage` below (`--help` prints it).
 *
 * One line per fault, one per healed scenario, the violations, and a last
 * line: runs, faults, deliveries, violations. Exit 1 on a violation, 2 when
 * the machine cannot run it (the reason is printed) or an option is wrong.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Prng } from '../sim/prng.ts';
import { ChaosCluster, type Transport } from './cluster.ts';
import { chaosUnavailable, sweepStale } from './netns.ts';
import { nowMs } from './node-proc.ts';
import { ScenarioRunner } from './run-scenario.ts';
import { randomScenarios, scenarios, type Scenario } from './scenarios.ts';

function numberFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`chaos: --${name} must be a non-negative number (got '${value}')`);
    process.exit(2);
  }
  return n;
}

const usage = `usage: npm run chaos -- [options]
  --minutes <n>        how long (default 1)
  --seed <n>           fault sequence seed (default: random, printed)
  --token-ms <ms>      token timeout (default 500)
  --transport <t>      udpu, udp or both (default both: runs alternate)
  --run-minutes <n>    a fresh cluster (network, processes, state) after this long (default 5)
  --log-dir <dir>      where a run with a violation leaves its raw log (default: the temp dir)
  --scenario <name>    only this scenario (a name of scenarios.ts), e.g. to repeat one that failed; given
                       several times, they are played in that order, over and over (no random draw), so
                       e.g. '--transport udp --seed 2' and the udp list of scenarios.test.ts replay its faults
  --node-args=<flags>  more 'evs node' flags for every node, space-separated (e.g. --node-args='--layout split')
  --node-logs          keep every node's stderr (its --debug protocol log) under --log-dir/run-<n>-<transport>/
  --help               this text`;

const flags = {
  minutes: { type: 'string' }, seed: { type: 'string' }, 'token-ms': { type: 'string' }, transport: { type: 'string' },
  'run-minutes': { type: 'string' }, 'log-dir': { type: 'string' }, scenario: { type: 'string', multiple: true }, 'node-logs': { type: 'boolean' }, 'node-args': { type: 'string' },
  help: { type: 'boolean' },
} as const;

function parseFlags(): ReturnType<typeof parseArgs<{ options: typeof flags }>> {
  try {
    return parseArgs({ options: flags });
  } catch (error) {
    // parseArgs names the option; a stack trace would bury it
    console.error(`chaos: ${error instanceof Error ? error.message : String(error)}\n${usage}`);
    process.exit(2);
  }
}
const { values } = parseFlags();
if (values.help === true) {
  console.log(usage);
  process.exit(0);
}
const minutes = numberFlag(values.minutes, 'minutes', 1);
const seed = numberFlag(values.seed, 'seed', Math.floor(Math.random() * 2 ** 32));
const tokenMs = numberFlag(values['token-ms'], 'token-ms', 500);
const runMinutes = numberFlag(values['run-minutes'], 'run-minutes', 5);
const transportFlag = values.transport ?? 'both';
if (!['udpu', 'udp', 'both'].includes(transportFlag)) {
  console.error(`chaos: --transport must be udpu, udp or both (got '${transportFlag}')`);
  process.exit(2);
}
const logDir = values['log-dir'] ?? join(tmpdir(), 'evs-chaos-logs');

const unavailable = chaosUnavailable();
if (unavailable !== null) {
  console.error(`chaos: cannot run here: ${unavailable}`);
  process.exit(2);
}
const swept = sweepStale();
if (swept.length > 0) console.log(`chaos: removed namespaces left by dead runs: ${swept.join(' ')}`);

const rng = new Prng(seed);
const all = [...scenarios, ...randomScenarios];
const chosen = values.scenario ?? [];
for (const name of chosen) {
  if (all.some((s) => s.name === name)) continue;
  console.error(`chaos: no scenario '${name}'; the names: ${all.map((s) => `'${s.name}'`).join(', ')}`);
  process.exit(2);
}
/** the scenarios given by name, in their order (cycled); else a random draw from all of them. */
const sequence = chosen.map((name) => all.find((s) => s.name === name) as Scenario);
let played = 0;
const next = (): Scenario => (sequence.length > 0 ? sequence[played++ % sequence.length] as Scenario : rng.pick(all));
const t0 = nowMs();
const endAt = t0 + minutes * 60_000;
const clock = (): string => `${((nowMs() - t0) / 1000).toFixed(1).padStart(7)}s`;
let runs = 0;
let faults = 0;
let deliveries = 0;
let violations = 0;
console.log(`chaos: ${minutes} min, seed ${seed}, token ${tokenMs} ms, transport ${transportFlag}${chosen.length === 0 ? '' : `, only ${chosen.map((n) => `'${n}'`).join(' then ')}`}`);

while (nowMs() < endAt) {
  runs++;
  played = 0;
  const transport: Transport = transportFlag === 'both' ? (runs % 2 === 1 ? 'udpu' : 'udp') : (transportFlag as Transport);
  const label = `${clock()} run ${runs} ${transport} `;
  const nodeLogDir = values['node-logs'] === true ? join(logDir, `run-${runs}-${transport}-seed${seed}`) : undefined;
  if (nodeLogDir !== undefined) mkdirSync(nodeLogDir, { recursive: true });
  const nodeArgs = (values['node-args'] ?? '').split(' ').filter((a) => a.length > 0);
  const c = new ChaosCluster({ transport, tokenMs, nodeArgs, ...(nodeLogDir !== undefined ? { nodeLogDir } : {}) });
  const runner = new ScenarioRunner(c, rng, (line) => {
    if (!line.includes('] fault: ') && !line.includes('] healed: ') && !line.includes('] VIOLATION ')) return;
    console.log(`${clock()} run ${runs} ${transport} ${line}`);
  });
  let runViolations = 0;
  try {
    await c.start();
    const ms = await c.waitRing(c.ids, c.ids, c.boundMs);
    if (ms === null) throw new Error(`no ring of all five within ${c.boundMs} ms of the start: ${c.describeViews()}`);
    console.log(`${label}started: one ring of all five (liveness bound ${c.boundMs} ms)`);
    const runEnd = Math.min(endAt, nowMs() + runMinutes * 60_000);
    while (nowMs() < runEnd) {
      const result = await runner.run(next());
      runViolations += result.violations.length;
    }
  } catch (error) {
    runViolations++;
    console.log(`${label}VIOLATION the run broke off: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    faults += runner.faults;
    deliveries += c.deliveries();
    violations += runViolations;
    if (runViolations > 0) {
      mkdirSync(logDir, { recursive: true });
      const file = join(logDir, `run-${runs}-${transport}-seed${seed}.jsonl`);
      writeFileSync(file, c.raw.map((r) => JSON.stringify(r)).join('\n') + '\n');
      console.log(`${label}raw log: ${file}`);
    }
    const left = await c.teardown();
    if (left.length > 0) console.log(`${label}namespaces left behind: ${left.join(' ')}`);
  }
}
console.log(`chaos: runs ${runs}, faults ${faults}, deliveries ${deliveries}, violations ${violations} (${((nowMs() - t0) / 60_000).toFixed(1)} min, seed ${seed})`);
process.exit(violations > 0 ? 1 : 0);
