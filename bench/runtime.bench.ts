/**
 * The runtime end to end: three EVS nodes in three processes on loopback
 * (udpu, AES-256-GCM on, agreed order unless said), real workers, sockets
 * and rings. Measures, never asserts.
 *
 *   npx tsx bench/runtime.bench.ts [--layout split|single] [--crypto-threads n] [--quick]
 *
 * throughput  every sender sends `count` probe messages as fast as back-pressure
 *             lets it; msgs/s = messages delivered at every node / time until the
 *             last node delivered the last one. Median (min–max) of `runs`.
 * latency     node 1 sends one 100 B message at a time and waits for its own
 *             delivery: p50/p90/p99 of send → self delivery.
 * failover    kill -9 of node 3 while nodes 1 and 2 send; time until each
 *             survivor installs its regular configuration without node 3.
 *             Median of `runs`, at short and at default (corosync) timeouts.
 *
 * Results also go to bench/results/runtime-<layout>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ProcessCluster } from '../src/cli/process-cluster.ts';
import type { EvsNodeStartOptions } from '../src/node.ts';

const { values: args } = parseArgs({
  options: {
    layout: { type: 'string', default: 'split' },
    'crypto-threads': { type: 'string', default: '0' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const layout = args.layout === 'single' ? 'single' : 'split';
const cryptoThreads = Number(args['crypto-threads']);
const runs = args.quick ? 1 : 3;
/** 300 ms token as given: corosync's 650 ms per node beyond two is switched off. */
const shortTotem = { tokenMs: 300, tokenCoefficientMs: 0, joinMs: 50, consensusMs: 400 };
let port = 19000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function withCluster<T>(totem: NonNullable<EvsNodeStartOptions['totem']>, fn: (c: ProcessCluster) => Promise<T>): Promise<T> {
  const c = new ProcessCluster({ count: 3, port: port++, nodeOptions: { totem, threads: { layout, cryptoThreads } } });
  try {
    await c.start();
    await Promise.all([1, 2, 3].map((i) => c.join(i, ['bench'])));
    return await fn(c);
  } finally {
    await c.stop();
  }
}

async function throughput(c: ProcessCluster, senders: number[], sizeBytes: number, count: number): Promise<number> {
  const before = await Promise.all([1, 2, 3].map((i) => c.report(i)));
  const total = senders.length * count;
  const t0 = performance.now();
  await Promise.all(senders.map((i) => c.request(i, { cmd: 'send', count, sizeBytes, guarantee: 'agreed' })));
  await Promise.all([1, 2, 3].map((i) => c.request(i, { cmd: 'waitDelivered', total: before[i - 1]!.delivered + total, timeoutMs: 120_000 })));
  return total / ((performance.now() - t0) / 1000);
}

const results: Record<string, unknown> = { layout, cryptoThreads, runs, date: new Date().toISOString() };
const table: string[] = [];

if (args.only === undefined || args.only === 'throughput') {
  await withCluster(shortTotem, async (c) => {
    for (const sizeBytes of [100, 1300]) {
      for (const senders of [[1], [1, 2, 3]]) {
        const count = Math.round((sizeBytes === 100 ? 60_000 : 30_000) / senders.length);
        await throughput(c, senders, sizeBytes, Math.round(count / 10)); // warm-up
        const rates: number[] = [];
        for (let r = 0; r < runs; r++) rates.push(await throughput(c, senders, sizeBytes, count));
        const key = `${senders.length === 1 ? 'one sender' : 'three senders'}, ${sizeBytes} B`;
        results[`throughput ${key}`] = rates;
        table.push(`| ${key} | ${Math.round(median(rates)).toLocaleString('en')} msgs/s | ${Math.round(Math.min(...rates)).toLocaleString('en')}–${Math.round(Math.max(...rates)).toLocaleString('en')} |`);
        process.stderr.write(`${key}: ${rates.map((r) => Math.round(r)).join(', ')}\n`);
      }
    }
  });
}

if (args.only === undefined || args.only === 'latency') {
  await withCluster(shortTotem, async (c) => {
    await c.request(1, { cmd: 'latency', count: 200, sizeBytes: 100, guarantee: 'agreed' });
    const ms = (await c.request(1, { cmd: 'latency', count: args.quick ? 500 : 2000, sizeBytes: 100, guarantee: 'agreed' })) as number[];
    results['latency 100 B'] = { p50: percentile(ms, 50), p90: percentile(ms, 90), p99: percentile(ms, 99) };
    table.push(`| self-delivery latency, 100 B, one in flight | p50 ${(percentile(ms, 50) * 1000).toFixed(0)} µs | p90 ${(percentile(ms, 90) * 1000).toFixed(0)} µs, p99 ${(percentile(ms, 99) * 1000).toFixed(0)} µs |`);
  });
}

async function failover(totem: NonNullable<EvsNodeStartOptions['totem']>): Promise<number[]> {
  return withCluster(totem, async (c) => {
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      // steady load from the survivors while node 3 dies
      const load = Promise.all([1, 2].map((i) => c.request(i, { cmd: 'send', count: 2000, sizeBytes: 100, guarantee: 'agreed' }))).catch(() => undefined);
      const killAt = await c.kill(3);
      const regular = await Promise.all([1, 2].map((id) => c.waitConfchg((x) => x.nodeId === id && x.atMs > killAt && x.change.type === 'regular' && !x.change.members.includes(3), 60_000)));
      times.push(...regular.map((x) => x.atMs - killAt));
      await load;
      await c.startNode(3);
      await c.join(3, ['bench']);
      await Promise.all([1, 2].map((id) => c.waitConfchg((x) => x.nodeId === id && x.change.type === 'regular' && x.change.members.includes(3) && x.atMs > killAt, 60_000)));
    }
    return times;
  });
}

if (args.only === undefined || args.only === 'failover') {
  for (const [name, totem] of [['short timeouts (token 300 ms, consensus 400 ms)', shortTotem], ['default timeouts (token 3650 ms for 3 nodes, consensus 4380 ms)', {}]] as const) {
    const times = await failover(totem);
    results[`failover ${name}`] = times;
    table.push(`| kill -9 → survivors' regular configuration, ${name} | median ${Math.round(median(times))} ms | ${Math.round(Math.min(...times))}–${Math.round(Math.max(...times))} ms |`);
  }
}

console.log(`\nthree nodes in three processes on loopback, udpu, AES-256-GCM, layout ${layout}, cryptoThreads ${cryptoThreads}, median of ${runs}\n`);
console.log('| measurement | median | range |\n|---|---|---|');
for (const line of table) console.log(line);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/runtime-${layout}-${cryptoThreads}.json`, import.meta.url), JSON.stringify(results, null, 2));
