/**
 * Shared vocabulary for the scenario tests: an application that numbers its
 * messages, queries over the simulation log (configuration changes, what was
 * delivered in which view), and the invariant check every scenario ends with.
 *
 * Scenarios read like the walk-throughs of TOTEM.md: they drive a simulated
 * Cluster with a fixed seed, then assert concrete configuration lists, ring ids
 * and delivered sets, and finally run every EVS checker over the whole log.
 */
import { expect } from 'vitest';
import { makePayload } from '../sim/app.ts';
import { checkLiveness, checkSafety, invariantNames, type LivenessInput, type Violation } from '../sim/checkers.ts';
import type { Cluster } from '../sim/cluster.ts';
import { formatRecord, ringKey, type ConfRecord, type DeliverRecord, type LogRecord } from '../sim/log.ts';
import { Guarantee, type RingId } from '../../src/wire/messages.ts';

export { ringKey };

// ---- the application --------------------------------------------------------

export interface Accepted {
  readonly node: number;
  readonly msgId: string;
  readonly at: number;
}

/**
 * Submits numbered payloads (app.ts) for the nodes of a cluster. Counters live
 * here, not in the nodes, so message ids never repeat across restarts; a counter
 * is consumed only when the node accepted the message.
 */
export class App {
  readonly accepted: Accepted[] = [];
  private readonly counters = new Map<number, number>();

  constructor(private readonly cluster: Cluster, private readonly sizeBytes = 200) {}

  /** node `id` submits one message; returns its msgId, or null when it was not accepted. */
  send(id: number, options: { size?: number; guarantee?: Guarantee } = {}): string | null {
    const counter = (this.counters.get(id) ?? 0) + 1;
    const payload = makePayload(id, counter, options.size ?? this.sizeBytes);
    const outcome = this.cluster.submit(id, payload, options.guarantee ?? Guarantee.Agreed);
    if (outcome !== 'ok') return null;
    this.counters.set(id, counter);
    const msgId = `${id}:${counter}`;
    this.accepted.push({ node: id, msgId, at: this.cluster.now });
    return msgId;
  }

  /**
   * For `ms` of virtual time, every `everyMs` each running node of `senders()`
   * submits one message (every third one safe, to exercise both guarantees).
   */
  traffic(ms: number, options: { everyMs?: number; senders?: () => readonly number[]; size?: number } = {}): void {
    const end = this.cluster.now + ms;
    const everyMs = options.everyMs ?? 10;
    let n = 0;
    while (this.cluster.now < end) {
      for (const id of options.senders?.() ?? this.cluster.up()) {
        if (!this.cluster.isUp(id)) continue;
        n += 1;
        this.send(id, {
          guarantee: n % 3 === 0 ? Guarantee.Safe : Guarantee.Agreed,
          ...(options.size !== undefined ? { size: options.size } : {}),
        });
      }
      this.cluster.runFor(Math.min(everyMs, end - this.cluster.now));
    }
  }

  /** msgIds accepted by `node` (any incarnation), optionally only within [from, to]. */
  acceptedBy(node: number, from = -Infinity, to = Infinity): string[] {
    return this.accepted.filter((a) => a.node === node && a.at >= from && a.at <= to).map((a) => a.msgId);
  }
}

// ---- log queries -----------------------------------------------------------------

/** what a configuration change looks like in an expectation. */
export interface ConfView {
  readonly type: 'transitional' | 'regular';
  readonly ring: string;
  readonly members: readonly number[];
  readonly left: readonly number[];
  readonly joined: readonly number[];
}

export function view(c: ConfRecord): ConfView {
  return { type: c.type, ring: ringKey(c.ringId), members: [...c.members], left: [...c.left], joined: [...c.joined] };
}

export function ring(rep: number, seq: number): RingId {
  return { rep, seq };
}

function records(cluster: Cluster, node: number, incarnation?: number): readonly LogRecord[] {
  const all = cluster.log.nodeRecords(node);
  return incarnation === undefined ? all : all.filter((r) => r.incarnation === incarnation);
}

/** configuration changes of `node` (optionally one incarnation, optionally after time `after`). */
export function confs(cluster: Cluster, node: number, options: { incarnation?: number; after?: number } = {}): ConfRecord[] {
  return records(cluster, node, options.incarnation).filter(
    (r): r is ConfRecord => r.kind === 'conf' && r.at > (options.after ?? -Infinity),
  );
}

export function lastRegular(cluster: Cluster, node: number): ConfRecord {
  const regular = confs(cluster, node).filter((c) => c.type === 'regular');
  const last = regular.at(-1);
  if (last === undefined) throw new Error(`n${node} installed no regular configuration`);
  return last;
}

export function deliveries(cluster: Cluster, node: number, incarnation?: number): DeliverRecord[] {
  return records(cluster, node, incarnation).filter((r): r is DeliverRecord => r.kind === 'deliver');
}

/** msgIds `node` delivered (in delivery order). */
export function delivered(cluster: Cluster, node: number, incarnation?: number): string[] {
  return deliveries(cluster, node, incarnation).map((d) => d.msgId ?? `?${d.sender}/${d.seq}`);
}

/** msgIds `node` delivered in the view opened by `conf` (up to the next configuration change). */
export function deliveredInView(cluster: Cluster, conf: ConfRecord): string[] {
  const own = cluster.log.nodeRecords(conf.node);
  const out: string[] = [];
  for (const r of own) {
    if (r.index <= conf.index) continue;
    if (r.kind === 'conf' || r.kind === 'start' || r.kind === 'crash' || r.kind === 'leave') break;
    if (r.kind === 'deliver') out.push(r.msgId ?? `?${r.sender}/${r.seq}`);
  }
  return out;
}

/** the regular configuration of ring `r` as `node` installed it. */
export function regularOf(cluster: Cluster, node: number, r: RingId): ConfRecord {
  const found = confs(cluster, node).find((c) => c.type === 'regular' && ringKey(c.ringId) === ringKey(r));
  if (found === undefined) throw new Error(`n${node} never installed ring ${ringKey(r)}`);
  return found;
}

/** the transitional configuration `node` reported when it left ring `r` (the one right after its REGULAR). */
export function transitionalAfter(cluster: Cluster, node: number, r: RingId): ConfRecord {
  const list = confs(cluster, node);
  const i = list.findIndex((c) => c.type === 'regular' && ringKey(c.ringId) === ringKey(r));
  const t = list[i + 1];
  if (i < 0 || t === undefined || t.type !== 'transitional') throw new Error(`n${node} did not leave ring ${ringKey(r)}`);
  return t;
}

export function sorted(xs: Iterable<string>): string[] {
  return [...xs].sort();
}

/** the current ring of a running node. */
export function ringOf(cluster: Cluster, node: number): RingId {
  return cluster.core(node).processor.ringId;
}

// ---- running ---------------------------------------------------------------------

/** Run until every node of `ids` is in one OPERATIONAL ring of exactly `ids`; fail with a trace otherwise. */
export function expectConverged(cluster: Cluster, ids: readonly number[], msMax: number): number {
  const from = cluster.now;
  const ok = cluster.runUntil(() => cluster.converged(ids), msMax);
  expect(ok, `no convergence on [${ids.join(',')}] within ${msMax} ms:\n${cluster.describe().join('\n')}\n${trace(cluster, ids)}`).toBe(true);
  return cluster.now - from;
}

/** Run until every node in `nodes` delivered every msgId in `ids`. */
export function expectDeliveredEverywhere(cluster: Cluster, nodes: readonly number[], ids: readonly string[], msMax: number): void {
  const missing = (): string[] => {
    const out: string[] = [];
    for (const n of nodes) {
      const have = new Set(delivered(cluster, n, cluster.incarnation(n)));
      for (const id of ids) if (!have.has(id)) out.push(`n${n}:${id}`);
    }
    return out;
  };
  cluster.runUntil(() => missing().length === 0, msMax);
  const left = missing();
  expect(left, `not delivered after ${msMax} ms: ${left.slice(0, 10).join(' ')}${left.length > 10 ? ' …' : ''}`).toEqual([]);
}

// ---- invariants ------------------------------------------------------------------

function describeViolations(cluster: Cluster, violations: readonly Violation[]): string {
  const lines = violations.map((v) => `#${v.invariant} ${invariantNames[v.invariant] ?? ''} n${v.node}: ${v.detail}`);
  const nodes = [...new Set(violations.map((v) => v.node))];
  return `${lines.join('\n')}\n${trace(cluster, nodes)}`;
}

/** EVS safety invariants 1–15 over the whole log: none may be violated. */
export function expectSafety(cluster: Cluster): void {
  const violations = checkSafety(cluster.log.records);
  expect(violations.length, describeViolations(cluster, violations)).toBe(0);
}

/** Liveness invariants 16, 17, 19 for the final phase of a run. */
export function expectLiveness(cluster: Cluster, input: LivenessInput): void {
  const violations = checkLiveness(cluster.log.records, input);
  expect(violations.length, describeViolations(cluster, violations)).toBe(0);
}

/** The last simulator records and core log lines of some nodes, for failure messages. */
export function trace(cluster: Cluster, nodes: readonly number[], count = 40): string {
  const out: string[] = [];
  for (const n of nodes) {
    out.push(`--- n${n} log tail`);
    out.push(...cluster.log.tail(n, count).filter((l) => !l.includes(' DELIVER ') && !l.includes(' SEND ')));
    out.push(`--- n${n} core lines`);
    out.push(...cluster.coreLines(n).slice(-count).map((l) => `${l.at.toFixed(3).padStart(10)} #${l.incarnation} ${l.line}`));
  }
  return out.join('\n');
}

export { formatRecord };
