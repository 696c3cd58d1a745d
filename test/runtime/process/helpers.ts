/**
 * Shared bits of the multi-process tests: short Totem timings, probe traffic
 * and reports over a ProcessCluster (src/cli/process-cluster.ts).
 */
import { expect } from 'vitest';
import { ProcessCluster, type ConfchgRecord, type ProcessClusterOptions } from '../../../src/cli/process-cluster.ts';
import type { Report } from '../../../src/cli/process-protocol.ts';
import { deriveTotemConfig } from '../../../src/protocol/config.ts';

/**
 * Short timers. tokenCoefficientMs 0: corosync adds the coefficient (650 ms
 * by default) per node beyond two, which would make a 3-node token timeout
 * 2300 ms instead of 1000.
 *
 * Why 1000 ms and not less: these tests assert that load alone never changes
 * the configuration, while vitest runs other files beside them on two cores.
 * With 64 KiB datagrams (the loopback netmtu) one token visit can carry
 * ~1 MB, and a rotation under that CPU contention passed 300 ms in a
 * clean-clone CI run (a token loss, then a new ring with the same members).
 * corosync's own default is 3 s and more for the same reason.
 */
export const totem = { tokenMs: 1000, tokenCoefficientMs: 0, joinMs: 50, consensusMs: 1200 } as const;

/** the timings as a 3-node cluster resolves them. */
export const effective = deriveTotemConfig(1, 3, totem);

/**
 * Timers for the tests that assert that load alone changes no configuration
 * (traffic, a blocked main thread). There a token loss is how a starved
 * machine shows: with 1000 ms, three node processes under load beside two
 * CPU-bound processes (load average 15–24 on two cores) lost the token in 2
 * of 3 runs, with no datagram lost (no retransmission requested, no rx ring
 * full) — a rotation simply did not get the CPU in time. corosync's own
 * default, 3000 ms, covers that; consensus 1.2 × token as corosync derives it.
 * Nothing in those tests waits for a timer, so they take no longer.
 */
export const loadTotem = { tokenMs: 3000, tokenCoefficientMs: 0, joinMs: 50, consensusMs: 3600 } as const;

/** loadTotem as a 3-node cluster resolves it. */
export const loadEffective = deriveTotemConfig(1, 3, loadTotem);

export type Guarantee = 'agreed' | 'safe';

export interface Burst {
  readonly count: number;
  readonly sizeBytes: number;
  readonly guarantee: Guarantee;
}

export type ThreadLayout = { readonly layout: 'split' | 'single'; readonly cryptoThreads: number };

/** every thread layout; the traffic and kill tests run in each (port offset keeps their sockets apart). */
export const layouts: readonly (ThreadLayout & { readonly portOffset: number })[] = [
  { layout: 'split', cryptoThreads: 0, portOffset: 0 },
  { layout: 'single', cryptoThreads: 0, portOffset: 20 },
  { layout: 'split', cryptoThreads: 1, portOffset: 40 },
];

export function newCluster(port: number, extra: Partial<ProcessClusterOptions> = {}, threads?: ThreadLayout, timers: typeof totem | typeof loadTotem = totem): ProcessCluster {
  const nodeOptions = { totem: timers, ...(threads !== undefined ? { threads: { layout: threads.layout, cryptoThreads: threads.cryptoThreads } } : {}), ...extra.nodeOptions };
  return new ProcessCluster({ count: 3, port, ...extra, nodeOptions });
}

/** node `id` sends the bursts one after the other; answers its last counter. */
export async function sendBursts(cluster: ProcessCluster, id: number, bursts: readonly Burst[]): Promise<number> {
  let counter = 0;
  for (const b of bursts) {
    const reply = await cluster.request(id, { cmd: 'send', count: b.count, sizeBytes: b.sizeBytes, guarantee: b.guarantee }) as { counter: number };
    counter = reply.counter;
  }
  return counter;
}

export function waitDelivered(cluster: ProcessCluster, id: number, total: number, timeoutMs = 30_000): Promise<unknown> {
  return cluster.request(id, { cmd: 'waitDelivered', total, timeoutMs });
}

export function reports(cluster: ProcessCluster, ids: readonly number[]): Promise<Report[]> {
  return Promise.all(ids.map((id) => cluster.report(id)));
}

/** no FIFO gap, no damaged payload, and the same delivery sequence everywhere. */
export function expectSameClean(reps: readonly Report[]): void {
  for (const r of reps) {
    expect(r.fifoViolations).toBe(0);
    expect(r.corrupt).toBe(0);
  }
  const first = reps[0]!;
  for (const r of reps.slice(1)) {
    expect(r.delivered).toBe(first.delivered);
    expect(r.lastCounter).toEqual(first.lastCounter);
    expect(r.digest).toBe(first.digest);
  }
}

export function sameMembers(record: ConfchgRecord, members: readonly number[]): boolean {
  return record.change.members.length === members.length && record.change.members.every((m, i) => m === members[i]);
}

/** the configuration changes node `id` reported after `sinceMs` (child clock, epoch ms). */
export function confchgsOf(cluster: ProcessCluster, id: number, sinceMs = 0): ConfchgRecord[] {
  return cluster.confchgs.filter((r) => r.nodeId === id && r.atMs > sinceMs);
}

/** the clock the child processes stamp their reports with. */
export { epochMs } from '../../../src/cli/epoch-clock.ts';

export function describeConfchgs(records: readonly ConfchgRecord[]): string[] {
  return records.map((r) => `${r.nodeId}: ${r.change.type} [${r.change.members.join(',')}] ring ${r.change.ringId.rep}/${r.change.ringId.seq}`);
}

/**
 * starts every node and waits until each has installed a regular
 * configuration with all of them: start() resolves once a node is in *a*
 * ring, which may be a partial one that merges a moment later.
 */
export async function startFull(cluster: ProcessCluster, timeoutMs = 15_000): Promise<void> {
  await cluster.start();
  const all = cluster.memberIds;
  await Promise.all(all.map((id) => cluster.waitConfchg((r) => r.nodeId === id && r.change.type === 'regular' && sameMembers(r, all), timeoutMs)));
}
