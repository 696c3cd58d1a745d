/**
 * Bounded resources under load with faults (issue 12, item 6): three node
 * processes on 127.0.0.1..3 (ProcessCluster, as `evs bench`), every node
 * sending as fast as the library takes it, sizes cycling 100 B .. 100 KB,
 * while nodes 2 and 3 suffer a fault every cycle: kill -9 and a restart with
 * the same stateDir, SIGSTOP for half a token timeout, a graceful stop and
 * start. Node 1 is never faulted: its process is sampled every `--sample-s`
 * seconds (rss and threads from /proc/<pid>/status, the main thread's heap
 * and external memory from process.memoryUsage(), open descriptors from
 * /proc/<pid>/fd, the node's handles, send queue and deliver backlog from
 * stats()). The last lines compare the minute after the warm-up with the
 * last minute and fit a line through every sample after the warm-up: a leak
 * shows as a last-minute median well above the earlier one and as a slope that
 * does not vanish. The warm-up (default 120 s) is skipped because the first
 * round of message sizes grows the heap and the queues to their working size
 * (measured: rss 117 MiB at 2 s, 242 MiB at 42 s, then 313..378 MiB from 82 s
 * on), which a first-minute comparison would read as growth.
 *
 *   npx tsx bench/soak-resources.ts [--minutes 10] [--sample-s 10] [--warmup-s 120] [--netmtu 1500]
 *
 * Measures and prints; exits 1 only when the cluster itself fails (a node
 * that cannot start, a request that times out).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ProcessCluster } from '../src/cli/process-cluster.ts';

const { values } = parseArgs({
  options: { minutes: { type: 'string' }, 'sample-s': { type: 'string' }, 'warmup-s': { type: 'string' }, netmtu: { type: 'string' } },
});
const minutes = Number(values.minutes ?? 10);
const sampleS = Number(values['sample-s'] ?? 10);
const warmupS = Number(values['warmup-s'] ?? 120);
const netmtu = Number(values.netmtu ?? 1500);
for (const [name, v] of [['minutes', minutes], ['sample-s', sampleS], ['warmup-s', warmupS], ['netmtu', netmtu]] as const) {
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`soak-resources: --${name} must be a positive number (got ${String(v)})`);
    process.exit(2);
  }
}
// two minutes after the warm-up at least: the minute compared and the last
if (minutes * 60 < warmupS + 120) {
  console.error(`soak-resources: --minutes ${minutes} leaves less than two minutes after --warmup-s ${warmupS}`);
  process.exit(2);
}

const tokenMs = 1000;
const sizes = [100, 1300, 10_000, 100_000];
const cycleMs = 20_000;
const cluster = new ProcessCluster({
  count: 3, port: 17805,
  nodeOptions: { netmtu, totem: { tokenMs, tokenCoefficientMs: 0, consensusMs: 1200, joinMs: 50 } },
});

interface Sample { readonly atS: number; readonly rssMiB: number; readonly heapMiB: number; readonly externalMiB: number; readonly threads: number; readonly fds: number; readonly handles: number; readonly queuedBytes: number; readonly backlogBytes: number; readonly delivered: number }

function procStatus(pid: number, field: string): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number.parseInt(line?.split(/\s+/)[1] ?? 'NaN', 10);
}

const startedAt = performance.now();
const seconds = (): number => (performance.now() - startedAt) / 1000;
const samples: Sample[] = [];

async function sample(pid: number): Promise<void> {
  const stats = await cluster.stats(1);
  const memory = (await cluster.report(1)).memory;
  const s: Sample = {
    atS: seconds(),
    rssMiB: procStatus(pid, 'VmRSS') / 1024,
    heapMiB: (memory?.heapUsed ?? Number.NaN) / 2 ** 20,
    externalMiB: (memory?.external ?? Number.NaN) / 2 ** 20,
    threads: procStatus(pid, 'Threads'),
    fds: readdirSync(`/proc/${pid}/fd`).length,
    handles: stats.handles,
    queuedBytes: stats.protocol.queuedBytes,
    backlogBytes: stats.protocol.deliverBacklogBytes,
    delivered: stats.protocol.messagesDelivered,
  };
  samples.push(s);
  console.log(`${s.atS.toFixed(0).padStart(5)} s  rss ${s.rssMiB.toFixed(1)} MiB  main heap ${s.heapMiB.toFixed(1)} MiB  external ${s.externalMiB.toFixed(1)} MiB  threads ${s.threads}  fds ${s.fds}  handles ${s.handles}  `
    + `send queue ${s.queuedBytes} B  deliver backlog ${s.backlogBytes} B  delivered ${s.delivered}`);
}

/** every running node sends `size`-byte messages for `ms` (a node killed meanwhile just stops answering). */
function load(ids: readonly number[], size: number, ms: number): Promise<unknown> {
  return Promise.allSettled(ids.map((id) => cluster.request(id, { cmd: 'sendFor', durationMs: ms, sizeBytes: size, guarantee: 'agreed' })));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function fault(cycle: number): Promise<string> {
  const victim = 2 + (cycle % 2);
  switch (Math.floor(cycle / 2) % 3) {
    case 0:
      await cluster.kill(victim);
      await sleep(2 * tokenMs);
      await cluster.startNode(victim);
      await cluster.join(victim, ['soak']);
      return `kill -9 node ${victim}, restarted`;
    case 1:
      cluster.signal(victim, 'SIGSTOP');
      await sleep(tokenMs / 2);
      cluster.signal(victim, 'SIGCONT');
      return `SIGSTOP node ${victim} for ${tokenMs / 2} ms`;
    default:
      await cluster.stopNode(victim);
      await sleep(tokenMs);
      await cluster.startNode(victim);
      await cluster.join(victim, ['soak']);
      return `graceful stop of node ${victim}, started`;
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Least-squares slope of ys over xs, per unit of x (NaN with fewer than two points). */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return num / den;
}

try {
  await cluster.start();
  await cluster.waitRing([1, 2, 3], 30_000);
  await Promise.all([1, 2, 3].map((id) => cluster.join(id, ['soak'])));
  const pid = cluster.pidOf(1);
  if (pid === null) throw new Error('node 1 has no process');
  console.log(`# soak-resources: 3 nodes, netmtu ${netmtu}, token ${tokenMs} ms, ${minutes} min, a fault on node 2 or 3 every ${cycleMs / 1000} s; node 1 (pid ${pid}) sampled every ${sampleS} s`);
  const sampler = setInterval(() => void sample(pid).catch((e: unknown) => console.log(`sample failed: ${String(e)}`)), sampleS * 1000);
  await sample(pid);
  for (let cycle = 0; seconds() < minutes * 60; cycle++) {
    const size = sizes[cycle % sizes.length]!;
    const sending = load(cluster.running(), size, cycleMs);
    await sleep(cycleMs / 2);
    console.log(`${seconds().toFixed(0).padStart(5)} s  fault: ${await fault(cycle)} (load ${size} B)`);
    await sending;
  }
  clearInterval(sampler);
  await sample(pid);
  const warm = samples.filter((s) => s.atS >= warmupS);
  const early = warm.filter((s) => s.atS < warmupS + 60);
  const last = samples.filter((s) => s.atS >= seconds() - 60);
  const fmt = (v: number, digits: number): string => v.toFixed(digits).padStart(9);
  const row = (name: string, key: keyof Sample, digits = 0): string => {
    const perMin = slope(warm.map((s) => s.atS / 60), warm.map((s) => s[key]));
    return `${name.padEnd(20)} ${fmt(median(early.map((s) => s[key])), digits)}  ${fmt(median(last.map((s) => s[key])), digits)}  ${fmt(Math.min(...warm.map((s) => s[key])), digits)}  ${fmt(Math.max(...warm.map((s) => s[key])), digits)}  ${fmt(perMin, digits + 1)}`;
  };
  console.log(`# node 1 after the ${warmupS} s warm-up (${warm.length} samples): median of the minute after it, median of the last minute, min, max, slope per minute`);
  console.log(row('rss MiB', 'rssMiB', 1));
  console.log(row('main heap MiB', 'heapMiB', 1));
  console.log(row('external MiB', 'externalMiB', 1));
  console.log(row('threads', 'threads'));
  console.log(row('open fds', 'fds'));
  console.log(row('handles', 'handles'));
  console.log(row('send queue B', 'queuedBytes'));
  console.log(row('deliver backlog B', 'backlogBytes'));
  console.log(`# delivered at node 1: ${samples.at(-1)?.delivered ?? 0} messages in ${seconds().toFixed(0)} s`);
} finally {
  await cluster.stop();
}
