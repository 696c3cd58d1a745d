/**
 * A log's structure: each node's incarnations, and in each the views
 * (regular, transitional) with the deliveries made in them.
 */
import type { RingId } from '../../../src/wire/messages.ts';
import type { ConfRecord, DeliverRecord, LogRecord } from '../log.ts';

type ViewKind = 'none' | 'regular' | 'transitional';

/** One view of one incarnation and what was delivered in it. */
export interface Period {
  readonly kind: ViewKind;
  /** the REGULAR or TRANSITIONAL record that opened it (null for 'none'). */
  readonly conf: ConfRecord | null;
  /** for a transitional view: the regular view it follows (null on a first change). */
  readonly after: Period | null;
  readonly deliveries: DeliverRecord[];
}

export interface Incarnation {
  readonly node: number;
  readonly number: number;
  readonly records: LogRecord[];
  readonly startAt: number;
  /** how it ended: 'crash' | 'leave' | 'alive' (still running at the end of the log). */
  end: 'crash' | 'leave' | 'alive';
  endAt: number;
  readonly periods: Period[];
  /** first delivery of each msgId, in order (repeats are invariant 7's business only). */
  readonly deliveries: DeliverRecord[];
  /** the period each (first) delivery happened in. */
  readonly periodOf: Map<DeliverRecord, Period>;
}

export function splitIncarnations(records: readonly LogRecord[]): Map<number, Incarnation[]> {
  const sorted = [...records].sort((a, b) => a.index - b.index);
  const byNode = new Map<number, Incarnation[]>();
  const current = new Map<number, Incarnation>();
  for (const r of sorted) {
    let inc = current.get(r.node);
    if (r.kind === 'start' || inc === undefined || inc.number !== r.incarnation) {
      inc = {
        node: r.node, number: r.incarnation, records: [], startAt: r.at, end: 'alive', endAt: Infinity,
        periods: [], deliveries: [], periodOf: new Map(),
      };
      current.set(r.node, inc);
      const list = byNode.get(r.node) ?? [];
      list.push(inc);
      byNode.set(r.node, list);
    }
    inc.records.push(r);
    if (r.kind === 'crash' || r.kind === 'leave') {
      inc.end = r.kind;
      inc.endAt = r.at;
    }
  }
  for (const list of byNode.values()) for (const inc of list) buildPeriods(inc);
  return byNode;
}

function buildPeriods(inc: Incarnation): void {
  let period: Period = { kind: 'none', conf: null, after: null, deliveries: [] };
  let lastRegular: Period | null = null;
  const seen = new Set<string>();
  inc.periods.push(period);
  for (const r of inc.records) {
    if (r.kind === 'conf') {
      if (r.type === 'regular') {
        period = { kind: 'regular', conf: r, after: null, deliveries: [] };
        lastRegular = period;
      } else {
        period = { kind: 'transitional', conf: r, after: lastRegular, deliveries: [] };
      }
      inc.periods.push(period);
    } else if (r.kind === 'deliver') {
      if (r.msgId !== null) {
        if (seen.has(r.msgId)) continue;
        seen.add(r.msgId);
      }
      inc.deliveries.push(r);
      period.deliveries.push(r);
      inc.periodOf.set(r, period);
    }
  }
}

export function regularPeriods(inc: Incarnation): Period[] {
  return inc.periods.filter((p) => p.kind === 'regular');
}

/** the transitional period right after regular period `p` in `inc`, if any. */
export function transitionalAfter(inc: Incarnation, p: Period): Period | null {
  const i = inc.periods.indexOf(p);
  const next = inc.periods[i + 1];
  return next !== undefined && next.kind === 'transitional' ? next : null;
}

/** the regular period following the transitional `t`, if any. */
export function regularAfter(inc: Incarnation, t: Period): Period | null {
  const i = inc.periods.indexOf(t);
  const next = inc.periods[i + 1];
  return next !== undefined && next.kind === 'regular' ? next : null;
}

export function sameRing(a: RingId, b: RingId): boolean {
  return a.rep === b.rep && a.seq === b.seq;
}

export function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function fmt(xs: readonly number[] | ReadonlySet<number>): string {
  return `[${[...xs].join(',')}]`;
}

export function sample(xs: Iterable<string>, n = 5): string {
  const all = [...xs];
  return all.slice(0, n).join(' ') + (all.length > n ? ` …(+${all.length - n})` : '');
}

export function incName(inc: Incarnation): string {
  return `n${inc.node}#${inc.number}`;
}
