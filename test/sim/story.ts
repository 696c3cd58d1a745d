/**
 * One simulated story, told as it happens: five processors start, traffic
 * flows, the network splits 3+2, heals, and then a processor crashes. Every
 * configuration change each processor reports is printed (type, ring id,
 * members, left, joined), and at the end how many messages each processor
 * delivered in each configuration. Deterministic: a fixed seed, virtual time.
 *
 *   npx tsx test/sim/story.ts
 */
import { Guarantee } from '../../src/wire/messages.ts';
import { makePayload } from './app.ts';
import { checkSafety, invariantNames } from './checkers.ts';
import { Cluster } from './cluster.ts';
import { ringKey, type ConfRecord, type LogRecord } from './log.ts';

const seed = 2024;
const all = [1, 2, 3, 4, 5];
const cluster = new Cluster({ nodeCount: all.length, seed });
const counters = new Map<number, number>();
let printed = 0;

function clock(): string {
  return `[${cluster.now.toFixed(1).padStart(7)} ms]`;
}

function say(text: string): void {
  console.log(`\n${clock()} ${text}`);
}

function list(xs: readonly number[]): string {
  return `{${xs.join(',')}}`;
}

/** Every running processor submits one message every `everyMs` for `ms` of virtual time. */
function traffic(ms: number, everyMs = 10): void {
  const end = cluster.now + ms;
  let n = 0;
  while (cluster.now < end) {
    for (const id of cluster.up()) {
      const counter = (counters.get(id) ?? 0) + 1;
      const guarantee = ++n % 4 === 0 ? Guarantee.Safe : Guarantee.Agreed;
      if (cluster.submit(id, makePayload(id, counter, 64 + ((id * counter) % 900)), guarantee) === 'ok') counters.set(id, counter);
    }
    cluster.runFor(Math.min(everyMs, end - cluster.now));
  }
}

/** Print the configuration changes logged since the last call, processors with the same change on one line. */
function showChanges(): void {
  const fresh = cluster.log.records.slice(printed);
  printed = cluster.log.records.length;
  const groups = new Map<string, { nodes: number[]; at: number }>();
  for (const r of fresh) {
    if (r.kind !== 'conf') continue;
    const text = r.type === 'transitional'
      ? `TRANSITIONAL ring ${ringKey(r.ringId)} members ${list(r.members)} left ${list(r.left)}`
      : `REGULAR      ring ${ringKey(r.ringId)} members ${list(r.members)} joined ${list(r.joined)}`;
    const group = groups.get(text) ?? { nodes: [], at: r.at };
    if (!group.nodes.includes(r.node)) group.nodes.push(r.node);
    groups.set(text, group);
  }
  if (groups.size === 0) console.log('   (no configuration change)');
  for (const [text, { nodes, at }] of groups) {
    console.log(`   ${at.toFixed(1).padStart(7)} ms  ${nodes.map((n) => `n${n}`).join(' ').padEnd(15)} ${text}`);
  }
}

function state(): void {
  for (const line of cluster.describe()) console.log(`   ${line}`);
}

console.log(`Totem EVS story: ${all.length} simulated processors, seed ${seed}, token ${cluster.config(1).tokenMs} ms, consensus ${cluster.config(1).consensusMs} ms`);

say('Five processors boot. Their JOINs meet within one join period, so they go straight into one ring (a lone processor would form its own).');
cluster.runUntil(() => cluster.converged(all), 2000);
showChanges();

say('Traffic flows: every processor multicasts a message every 10 ms for half a second.');
traffic(500);
showChanges();
console.log(`   delivered so far: ${all.map((n) => `n${n} ${cluster.log.nodeRecords(n).filter((r) => r.kind === 'deliver').length}`).join(', ')}`);

say('The network splits into {1,2,3} and {4,5}. Each side loses the token, gathers, and after the consensus timeout forms its own ring.');
cluster.network.partition([[1, 2, 3], [4, 5]]);
traffic(800);
showChanges();
state();

say('The partition heals. A foreign message or merge-detect tells each side about the other; they merge into one ring.');
cluster.network.heal();
traffic(600);
showChanges();
state();

say('Processor 3 crashes. The others time out the token and re-form without it.');
cluster.crash(3);
traffic(800);
showChanges();
state();

say('Traffic stops; the ring goes idle.');
cluster.runFor(500);
showChanges();

// Deliveries per processor per configuration.
console.log('\nMessages delivered per processor in each configuration (TRANS = the transitional configuration before a new ring):');
for (const node of all) {
  const parts: string[] = [];
  let current: ConfRecord | null = null;
  let count = 0;
  const flush = (): void => {
    if (current !== null) parts.push(`${current.type === 'regular' ? 'REG' : 'TRANS'} ${ringKey(current.ringId)}: ${count}`);
  };
  for (const r of cluster.log.nodeRecords(node) as LogRecord[]) {
    if (r.kind === 'conf') {
      flush();
      current = r;
      count = 0;
    } else if (r.kind === 'deliver') {
      count += 1;
    } else if (r.kind === 'crash') {
      flush();
      parts.push('crashed');
      current = null;
    }
  }
  flush();
  console.log(`   n${node}  ${parts.join(' | ')}`);
}

const violations = checkSafety(cluster.log.records);
console.log(`\nEVS invariants over the whole run: ${violations.length === 0 ? 'all hold' : `${violations.length} violation(s)`}`);
for (const v of violations.slice(0, 10)) console.log(`   #${v.invariant} ${invariantNames[v.invariant] ?? ''} n${v.node}: ${v.detail}`);
console.log(`log digest ${cluster.log.digest().slice(0, 16)} (the same seed always tells the same story)`);
