/**
 * Swarm CLI (`npm run sim -- ...`).
 *
 *   npm run sim -- --seeds 100                 100 runs from a random base seed
 *   npm run sim -- --seeds 100 --base 42       seeds 42..141
 *   npm run sim -- --seed 1234567              replay exactly one seed
 *   npm run sim -- --seeds 50 --nodes 3..5     pin the cluster size range (or --nodes 4)
 *   npm run sim -- --seed 7 --trace 200        on a violation print 200 log lines per node
 *   npm run sim -- --profile loss30 --seeds 50 a named profile (swarm.ts `swarmProfiles`: loss30, storm)
 *   npm run sim -- --seeds 100 --ordering accelerated   every run accelerated (classic | accelerated |
 *                                              mixed; mixed, the default, draws it per seed)
 *
 * One line per run with its seed and options; a violation prints the seed, the
 * options, the violations and the tail of the involved nodes' logs (simulator
 * records and core log lines). The last line is always
 *   sim: <runs> runs, <violations> violations, <delivered> messages delivered
 * and the exit code is 1 when any run had a violation.
 */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { invariantNames } from './checkers.ts';
import { formatRecord } from './log.ts';
import { describeOptions, isSwarmProfile, runSwarm, swarmProfiles, type SwarmOverrides, type SwarmResult } from './swarm.ts';

function parseRange(text: string | undefined, name: string): [number, number] | null {
  if (text === undefined) return null;
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(text);
  if (m === null) throw new Error(`--${name} expects N or A..B (got ${text})`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi < lo) throw new Error(`--${name}: ${lo}..${hi} is empty`);
  return [lo, hi];
}

function parseSeed(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} expects an integer in 0..2^53-1 (got ${text})`);
  return n;
}

/** Trace of a failed run: the involved nodes' last records and core log lines, merged by time. */
function trace(result: SwarmResult, lines: number): string[] {
  const out: string[] = [];
  const nodes = [...new Set(result.violations.map((v) => v.node))].filter((n) => result.cluster.ids.includes(n)).slice(0, 4);
  for (const node of nodes) {
    out.push(`--- n${node}: last ${lines} lines (records and core log) ---`);
    const records = result.cluster.log.nodeRecords(node).map((r) => ({ at: r.at, order: 0, text: formatRecord(r) }));
    const core = result.cluster.coreLines(node).map((l) => ({ at: l.at, order: 1, text: `${l.at.toFixed(3).padStart(10)} n${node}#${l.incarnation} | ${l.line}` }));
    const merged = [...records, ...core].sort((a, b) => a.at - b.at || a.order - b.order);
    for (const m of merged.slice(-lines)) out.push(m.text);
  }
  out.push('--- cluster at the end ---', ...result.cluster.describe());
  return out;
}

function main(): number {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      seed: { type: 'string' },
      base: { type: 'string' },
      nodes: { type: 'string' },
      safety: { type: 'string' },
      trace: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      profile: { type: 'string' },
      ordering: { type: 'string', default: 'mixed' },
    },
    strict: true,
  });
  const nodes = parseRange(values.nodes, 'nodes');
  const safety = parseRange(values.safety, 'safety');
  const profile = values.profile;
  if (profile !== undefined && !isSwarmProfile(profile)) {
    throw new Error(`--profile expects one of ${Object.keys(swarmProfiles).join(', ')} (got ${profile})`);
  }
  const ordering = values.ordering;
  if (ordering !== 'classic' && ordering !== 'accelerated' && ordering !== 'mixed') {
    throw new Error(`--ordering expects classic, accelerated or mixed (got ${ordering})`);
  }
  const overrides: SwarmOverrides = {
    ordering,
    ...(profile !== undefined ? { profile } : {}),
    ...(nodes !== null ? { nodesMin: nodes[0], nodesMax: nodes[1] } : {}),
    ...(safety !== null ? { safetyMsMin: safety[0], safetyMsMax: safety[1] } : {}),
  };
  const traceLines = values.trace === undefined ? 50 : parseSeed(values.trace, 'trace');
  let seeds: number[];
  if (values.seed !== undefined) {
    seeds = [parseSeed(values.seed, 'seed')];
  } else {
    const count = values.seeds === undefined ? 1 : parseSeed(values.seeds, 'seeds');
    const base = values.base === undefined ? randomInt(2 ** 47) : parseSeed(values.base, 'base');
    seeds = Array.from({ length: count }, (_, i) => base + i);
  }
  let violations = 0;
  let delivered = 0;
  for (const seed of seeds) {
    const started = performance.now();
    const result = runSwarm(seed, overrides);
    const wallMs = performance.now() - started;
    delivered += result.delivered;
    violations += result.violations.length;
    const converged = result.convergedAfterMs === null ? 'no' : `${Math.round(result.convergedAfterMs)}ms/${result.boundMs}ms`;
    const status = result.violations.length === 0 ? 'ok' : `FAIL ${result.violations.length} violation(s)`;
    if (!values.quiet || result.violations.length > 0) {
      console.log(`seed=${seed} ${describeOptions(result.options)} | ${status} sent=${result.sent} delivered=${result.delivered}` +
        ` converged=${converged}${result.judgedMs > 0 ? ` held=${result.heldMs}/${result.judgedMs}ms` : ''} live=[${result.live.join(',')}] virtual=${Math.round(result.virtualMs)}ms steps=${result.steps} wall=${Math.round(wallMs)}ms`);
    }
    if (result.violations.length > 0) {
      console.log(`  replay: npm run sim -- --seed ${seed}${profile !== undefined ? ` --profile ${profile}` : ''} --ordering ${ordering}${values.nodes !== undefined ? ` --nodes ${values.nodes}` : ''}${values.safety !== undefined ? ` --safety ${values.safety}` : ''}`);
      for (const v of result.violations) console.log(`  invariant ${v.invariant} (${invariantNames[v.invariant] ?? '?'}) n${v.node}: ${v.detail}`);
      if (traceLines > 0) for (const line of trace(result, traceLines)) console.log(`  ${line}`);
    }
  }
  console.log(`sim: ${seeds.length} runs, ${violations} violations, ${delivered} messages delivered`);
  return violations > 0 ? 1 : 0;
}

process.exitCode = main();
