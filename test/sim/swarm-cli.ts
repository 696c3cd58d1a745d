/**
 * Swarm CLI (`npm run sim -- ...`).
 *
 *   npm run sim -- --seeds 100                 100 runs from a random base seed
 *   npm run sim -- --seeds 100 --base 42       seeds 42..141
 *   npm run sim -- --seed 1234567              replay exactly one seed
 *   npm run sim -- --seeds 50 --nodes 3..5     pin the cluster size range (or --nodes 4)
 *   npm run sim -- --seed 7 --trace 200        on a violation print 200 log lines per node
 *   npm run sim -- --profile loss30 --seeds 50 a named profile (swarm-profiles.ts: loss30, storm)
 *   npm run sim -- --seeds 100 --ordering accelerated   every run accelerated (classic | accelerated |
 *                                              mixed; mixed, the default, draws it per seed)
 *   npm run sim -- --seed 7 --mix narrow       the random mix before 2026-12-02 (its regression seeds)
 *   npm run sim -- --seeds 1000 --jobs 1     one run at a time (default: one per core)
 *   npm run sim -- --help                      usage and the fault space (`helpText` below)
 *
 * One line per run with its seed and options; a violation prints the seed, the
 * options, the violations and the tail of the involved nodes' logs (simulator
 * records and core log lines). The line before the last counts the runs with
 * FAILED TO RECEIVE and the runs per minute of wall time; the last line is always
 *   sim: <runs> runs, <violations> violations, <delivered> messages delivered
 * and the exit code is 1 when any run had a violation.
 */
import { randomInt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { spawnWorker } from '../../src/runtime/workers/spawn.ts';
import { runReported, type RunReport, type RunRequest } from './swarm-report.ts';
import { clusterLargeProbability, largeBytesPerRunMax, rotationShareMax } from './swarm-draw.ts';
import type { SwarmOverrides } from './swarm-options.ts';
import { isSwarmProfile, swarmProfiles } from './swarm-profiles.ts';

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

const helpText = `usage: npm run sim -- [options]

  --seeds N          N runs from a random base seed (default 1)
  --base S           the first seed of --seeds (seeds S..S+N-1)
  --seed S           replay exactly one seed
  --nodes A..B | N   pin the cluster size (default: drawn, see below)
  --safety A..B      the safety phase's length in ms (default 2000..8000)
  --ordering O       classic | accelerated | mixed (default mixed: drawn per seed)
  --profile P        a named scenario instead of the random mix: ${Object.keys(swarmProfiles).join(', ')}
  --mix M            wide (default: the fault space below) | narrow (the random mix before 2026-12-02:
                     2..16 processors, token 200 ms, loss to 20%, messages to 20 KB; its seeds replay)
  --trace N          log lines per involved node printed on a violation (default 50)
  --jobs N           runs at once, each in a worker thread (default: the cores, ${availableParallelism()} here;
                     1 runs in this thread); the output is the same for any N, in seed order
  --quiet            print only the failing runs and the summary
  --help             this text

Each seed draws one run (test/sim/swarm-draw.ts swarmOptions):
  processors    2..32; 64 in ${clusterLargeProbability * 100}% of the runs (when --nodes is not given)
  timers        base token 100..1000 ms (200 most often), token coefficient 0 or 5..50 ms per
                processor beyond two, consensus 1.2 x token or 0.5..3 x token (at least a JOIN
                round trip); join 20, merge 50, FAILED TO RECEIVE after 100 visits
  links         loss 0..50%, duplication 0..20%, one-way delay up to half the token timeout and
                at most ${rotationShareMax * 100}% of it for a rotation's n hops (a slower ring loses every commit token)
  faults        partitions, heals, one-way cuts, isolation, a node that cannot receive, token
                drops, crashes, quick restarts, graceful leaves, pauses, link quality changes
                (loss up to 50%, duplication up to 20%), loss on one direction of one link, and
                MCAST-only loss towards one node (FAILED TO RECEIVE)
  messages      up to 4200 B usually, large ones up to 1 MiB (fragmented into ~750 datagrams),
                at most ${largeBytesPerRunMax / 1024 / 1024} MiB of large ones per run
Then the liveness phase: faults stop, the network heals, and the live nodes must converge
within a bound derived from the drawn timers, delay and size (test/sim/checkers.ts).

The line before the last counts the runs with FAILED TO RECEIVE and the runs per minute;
the last line is 'sim: <runs> runs, <violations> violations, <delivered> messages delivered'
and the exit code is 1 on any violation.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      help: { type: 'boolean', default: false },
      seeds: { type: 'string' },
      seed: { type: 'string' },
      base: { type: 'string' },
      nodes: { type: 'string' },
      safety: { type: 'string' },
      trace: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      jobs: { type: 'string' },
      profile: { type: 'string' },
      ordering: { type: 'string', default: 'mixed' },
      mix: { type: 'string', default: 'wide' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(helpText);
    return 0;
  }
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
  const mix = values.mix;
  if (mix !== 'wide' && mix !== 'narrow') throw new Error(`--mix expects wide or narrow (got ${mix})`);
  const overrides: SwarmOverrides = {
    ordering,
    mix,
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
  const jobs = Math.min(seeds.length, values.jobs === undefined ? availableParallelism() : parseSeed(values.jobs, 'jobs'));
  if (jobs < 1) throw new Error(`--jobs expects at least 1 (got ${values.jobs})`);
  const replay = {
    ordering, mix,
    ...(profile !== undefined ? { profile } : {}),
    ...(values.nodes !== undefined ? { nodes: values.nodes } : {}),
    ...(values.safety !== undefined ? { safety: values.safety } : {}),
  };
  const requests: RunRequest[] = seeds.map((seed) => ({ seed, overrides, replay, traceLines, quiet: values.quiet }));
  let violations = 0;
  let delivered = 0;
  let runsFailedToReceive = 0;
  const started = performance.now();
  const print = (report: RunReport): void => {
    delivered += report.delivered;
    violations += report.violations;
    if (report.failedToReceive) runsFailedToReceive += 1;
    for (const line of report.lines) console.log(line);
  };
  if (jobs === 1) {
    for (const request of requests) print(runReported(request));
  } else {
    await runInWorkers(requests, jobs, print);
  }
  const minutes = (performance.now() - started) / 60_000;
  console.log(`sim: FAILED TO RECEIVE in ${runsFailedToReceive} of ${seeds.length} runs; ${(seeds.length / minutes).toFixed(1)} runs per minute of wall time`);
  console.log(`sim: ${seeds.length} runs, ${violations} violations, ${delivered} messages delivered`);
  return violations > 0 ? 1 : 0;
}

/**
 * The runs spread over `jobs` worker threads, each handed its next seed when it
 * answers; reports are printed in seed order, so the output matches --jobs 1.
 */
async function runInWorkers(requests: readonly RunRequest[], jobs: number, print: (report: RunReport) => void): Promise<void> {
  const reports = new Map<number, RunReport>();
  let nextToSend = 0;
  let nextToPrint = 0;
  const workers = Array.from({ length: jobs }, () => spawnWorker(new URL('./swarm-worker.ts', import.meta.url)));
  try {
    await Promise.all(workers.map((worker) => new Promise<void>((resolve, reject) => {
      const sendNext = (): void => {
        const request = requests[nextToSend++];
        if (request === undefined) resolve();
        else worker.postMessage(request);
      };
      worker.on('message', (report: RunReport) => {
        reports.set(report.seed, report);
        for (let r = requests[nextToPrint]; r !== undefined && reports.has(r.seed); r = requests[nextToPrint]) {
          print(reports.get(r.seed) as RunReport);
          reports.delete(r.seed);
          nextToPrint++;
        }
        sendNext();
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`swarm worker exited with code ${code} before its runs were done`)));
      sendNext();
    })));
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

process.exitCode = await main();
