/**
 * Invariants 12, 13 and 14: FIFO per sender across configurations, self
 * delivery, safe delivery.
 */
import { Guarantee, type RingId } from '../../../src/wire/messages.ts';
import { ringKey, type DeliverRecord, type SendRecord } from '../log.ts';
import { allDeliveries } from './messages.ts';
import type { Report } from './report.ts';
import { type Incarnation, incName, type Period, regularAfter, regularPeriods, sameRing, sample, transitionalAfter } from './views.ts';

/**
 * Invariant 12: FIFO per sender across configurations (docs/DEVIATIONS.md,
 * "send queues": one queue keeps FIFO per sender across configurations).
 * Within one incarnation of a receiver, one sender's messages are delivered
 * in the order it sent them (counters increase), whatever ring ordered them;
 * and a message of that sender sent between two it delivers may be missing
 * only when the receiver went through a configuration change between those
 * two deliveries (it was ordered in a configuration the receiver was not
 * part of, or lost with its sender's queue). Inside one view, no gap.
 */
export function checkFifo(byNode: Map<number, Incarnation[]>, sends: Map<string, SendRecord>, report: Report): void {
  // sender → the counters it sent, ascending
  const sent = new Map<number, number[]>();
  for (const r of sends.values()) {
    const list = sent.get(r.node) ?? [];
    list.push(r.counter);
    sent.set(r.node, list);
  }
  for (const list of sent.values()) list.sort((a, b) => a - b);
  /** the lowest counter `sender` sent above `counter`, or Infinity. */
  const nextSent = (sender: number, counter: number): number => {
    const list = sent.get(sender) ?? [];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((list[mid] as number) <= counter) lo = mid + 1;
      else hi = mid;
    }
    return list[lo] ?? Infinity;
  };
  for (const incs of byNode.values()) {
    for (const inc of incs) {
      const last = new Map<number, DeliverRecord>();
      for (const r of inc.deliveries) {
        if (r.msgId === null) continue;
        const previous = last.get(r.sender);
        last.set(r.sender, r);
        if (previous === undefined) continue;
        if (!(r.counter > previous.counter)) {
          report.add(12, inc.node, `${incName(inc)}: ${r.msgId} (ring ${ringKey(r.ringId)}) delivered after ${previous.msgId ?? '?'} (ring ${ringKey(previous.ringId)})`);
          continue;
        }
        const skipped = nextSent(r.sender, previous.counter);
        if (skipped < r.counter && inc.periodOf.get(r) === inc.periodOf.get(previous)) {
          report.add(12, inc.node, `${incName(inc)}: ${r.msgId} delivered after ${previous.msgId ?? '?'} in the same view ` +
            `(${ringKey(r.ringId)}) without ${r.sender}:${skipped}, sent in between`);
        }
      }
    }
  }
}

/** Invariant 13: a node that neither crashes nor leaves delivers its own messages. */
export function checkSelfDelivery(byNode: Map<number, Incarnation[]>, report: Report, settledAt: number): void {
  for (const incs of byNode.values()) {
    for (const inc of incs) {
      if (inc.end !== 'alive') continue;
      const delivered = new Set<string>();
      for (const r of inc.records) if (r.kind === 'deliver' && r.msgId !== null) delivered.add(r.msgId);
      const missing: string[] = [];
      for (const r of inc.records) if (r.kind === 'send' && r.at <= settledAt && !delivered.has(r.msgId)) missing.push(r.msgId);
      if (missing.length > 0) report.add(13, inc.node, `${incName(inc)} never delivered its own ${missing.length} message(s): ${sample(missing)}`);
    }
  }
}

interface SafeContext {
  readonly byNode: Map<number, Incarnation[]>;
  /** ring → earliest REGULAR install time anywhere. */
  readonly firstInstall: Map<string, number>;
  readonly formationMs: number;
  /** per incarnation, ring → its first regular period of that ring (built on first use). */
  readonly regularByRing: Map<Incarnation, Map<string, Period>>;
  /** per period, the msgIds it delivered (built on first use). */
  readonly idsOf: Map<Period, Set<string>>;
}

/**
 * The first regular period of `inc` in ring `ring`. An index instead of a
 * scan: invariant 14 asks this for every safe delivery and member, which on
 * a 32-processor run was a seventh of the simulator's time.
 */
function regularPeriodOf(context: SafeContext, inc: Incarnation, ring: string): Period | undefined {
  let index = context.regularByRing.get(inc);
  if (index === undefined) {
    index = new Map();
    for (const p of regularPeriods(inc)) {
      if (p.conf === null) continue;
      const key = ringKey(p.conf.ringId);
      if (!index.has(key)) index.set(key, p);
    }
    context.regularByRing.set(inc, index);
  }
  return index.get(ring);
}

function deliveredIn(context: SafeContext, p: Period | null, msgId: string): boolean {
  if (p === null) return false;
  let ids = context.idsOf.get(p);
  if (ids === undefined) {
    ids = new Set();
    for (const x of p.deliveries) if (x.msgId !== null) ids.add(x.msgId);
    context.idsOf.set(p, ids);
  }
  return ids.has(msgId);
}

/**
 * Invariant 14: a safe message delivered in regular view C is delivered, in C
 * or in the transitional view after C, by every member of C that does not
 * crash or leave first. One delivered in the transitional view T between C and
 * C2 is delivered (in C or T) by every member of T that also moves from C to
 * C2; a member of T that ends up elsewhere did not make it into C2 with the
 * deliverer, which EVS treats like a failure.
 */
export function checkSafeDelivery(byNode: Map<number, Incarnation[]>, report: Report, settledAt: number, formationMs: number): void {
  const firstInstall = new Map<string, number>();
  for (const incs of byNode.values()) {
    for (const inc of incs) {
      for (const r of inc.records) {
        if (r.kind !== 'conf' || r.type !== 'regular') continue;
        const key = ringKey(r.ringId);
        firstInstall.set(key, Math.min(firstInstall.get(key) ?? Infinity, r.at));
      }
    }
  }
  const context: SafeContext = { byNode, firstInstall, formationMs, regularByRing: new Map(), idsOf: new Map() };
  /** message and following view → the members already judged for it. */
  const checked = new Map<string, Set<number>>();
  for (const { inc, d } of allDeliveries(byNode)) {
    if (d.guarantee !== Guarantee.Safe || d.msgId === null || d.at > settledAt) continue;
    const period = inc.periodOf.get(d);
    if (period === undefined || period.conf === null) continue;
    const next = period.kind === 'transitional' ? regularAfter(inc, period)?.conf?.ringId ?? null : null;
    const key = `${d.msgId}/${next === null ? '' : ringKey(next)}`;
    let judged = checked.get(key);
    if (judged === undefined) checked.set(key, judged = new Set());
    for (const q of period.conf.members) {
      if (judged.has(q)) continue;
      judged.add(q);
      const problem = safeMissing(context, q, d, d.msgId, next);
      if (problem !== null) report.add(14, q, `safe ${d.msgId} (ring ${ringKey(d.ringId)}) delivered by ${incName(inc)} in its ${period.kind} view: n${q} ${problem}`);
    }
  }
}

/**
 * Why member q fails invariant 14 for delivery d, or null when it is fine or
 * exempt. `next`: for a transitional delivery, the regular view that followed.
 */
function safeMissing(context: SafeContext, q: number, d: DeliverRecord, msgId: string, next: RingId | null): string | null {
  const ring = ringKey(d.ringId);
  const incs = context.byNode.get(q) ?? [];
  for (const inc of incs) {
    const c = regularPeriodOf(context, inc, ring);
    if (c === undefined) continue;
    const t = transitionalAfter(inc, c);
    const c2 = t === null ? null : regularAfter(inc, t);
    if (next !== null && (c2 === null || c2.conf === null || !sameRing(c2.conf.ringId, next))) return null;
    if (deliveredIn(context, c, msgId) || deliveredIn(context, t, msgId)) return null;
    const movedOn = c2 !== null;
    if (!movedOn && inc.end !== 'alive') return null;
    return movedOn ? `installed it and moved on without delivering` : `installed it, is still there, and has not delivered`;
  }
  // q never installed the ring: only a crash or leave around its formation excuses that.
  const formed = context.firstInstall.get(ring) ?? d.at;
  const alive = incs.find((inc) => inc.startAt <= d.at && d.at < inc.endAt);
  if (alive === undefined || alive.end !== 'alive' || alive.startAt >= formed - context.formationMs) return null;
  return `never installed the ring and did not crash or leave`;
}
