/**
 * EVS invariant checkers over per-node logs (TOTEM.md §11).
 *
 * `checkSafety` checks invariants 1–15 over a whole log; `checkLiveness`
 * checks 16–19 for the liveness phase of a run (stable, fully connected
 * network, or under a steady bounded loss where the profile keeps it): 16
 * convergence within `livenessBoundMs`, 17 progress within `drainBoundMs`
 * of the backlog left when traffic stopped, 18 back-pressure clearing within
 * `drainBoundMs` of the work ahead, 19 idleness. Invariant 20 (one ring held
 * under steady loss) is measured by the swarm. Each violation names its invariant number; invariant 0
 * is reserved for an aborted run — the core threw, or the simulator saw a
 * livelock or a message storm (reported by the swarm, not here).
 *
 * Vocabulary. A node's log is split into incarnations (log.ts). Within one, a
 * *regular view* is the interval after a REGULAR record, a *transitional view*
 * the interval after a TRANSITIONAL record up to the next REGULAR. Deliveries
 * are attributed to the view they happened in.
 *
 * The checkers are independent of the simulator: they read only records, so
 * every check can be shown to fail on a small hand-written log
 * (test/unit/sim/checkers.test.ts).
 */
import { seqLt } from '../../src/protocol/seq.ts';
import { Guarantee, type RingId } from '../../src/wire/messages.ts';
import { ringKey, type ConfRecord, type DeliverRecord, type LogRecord, type SendRecord } from './log.ts';

export interface Violation {
  readonly invariant: number;
  readonly node: number;
  readonly detail: string;
}

export const invariantNames: Readonly<Record<number, string>> = {
  0: 'run aborted (core threw, livelock or message storm)',
  1: 'self-inclusion',
  2: 'alternation',
  3: 'configuration arithmetic',
  4: 'ring-id monotonicity',
  5: 'view agreement',
  6: 'transitional agreement',
  7: 'integrity / no duplication',
  8: 'sender membership',
  9: 'delivery in the ordering ring',
  10: 'total order',
  11: 'virtual synchrony',
  12: 'FIFO per sender (across configurations)',
  13: 'self-delivery',
  14: 'safe delivery',
  15: 'payload integrity (fragmentation)',
  16: 'convergence',
  17: 'progress (in time)',
  18: 'back-pressure clears',
  19: 'idle behaviour',
  20: 'one ring held, and progress in it, under steady loss',
};

// ---- log structure ---------------------------------------------------------

type ViewKind = 'none' | 'regular' | 'transitional';

/** One view of one incarnation and what was delivered in it. */
interface Period {
  readonly kind: ViewKind;
  /** the REGULAR or TRANSITIONAL record that opened it (null for 'none'). */
  readonly conf: ConfRecord | null;
  /** for a transitional view: the regular view it follows (null on a first change). */
  readonly after: Period | null;
  readonly deliveries: DeliverRecord[];
}

interface Incarnation {
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

function splitIncarnations(records: readonly LogRecord[]): Map<number, Incarnation[]> {
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

function regularPeriods(inc: Incarnation): Period[] {
  return inc.periods.filter((p) => p.kind === 'regular');
}

/** the transitional period right after regular period `p` in `inc`, if any. */
function transitionalAfter(inc: Incarnation, p: Period): Period | null {
  const i = inc.periods.indexOf(p);
  const next = inc.periods[i + 1];
  return next !== undefined && next.kind === 'transitional' ? next : null;
}

/** the regular period following the transitional `t`, if any. */
function regularAfter(inc: Incarnation, t: Period): Period | null {
  const i = inc.periods.indexOf(t);
  const next = inc.periods[i + 1];
  return next !== undefined && next.kind === 'regular' ? next : null;
}

function sameRing(a: RingId, b: RingId): boolean {
  return a.rep === b.rep && a.seq === b.seq;
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function fmt(xs: readonly number[] | ReadonlySet<number>): string {
  return `[${[...xs].join(',')}]`;
}

function sample(xs: Iterable<string>, n = 5): string {
  const all = [...xs];
  return all.slice(0, n).join(' ') + (all.length > n ? ` …(+${all.length - n})` : '');
}

function incName(inc: Incarnation): string {
  return `n${inc.node}#${inc.number}`;
}

class Report {
  readonly violations: Violation[] = [];
  /** violations found, including those not kept. */
  total = 0;
  private readonly perInvariant = new Map<number, number>();

  constructor(private readonly perInvariantMax: number) {}

  add(invariant: number, node: number, detail: string): void {
    this.total += 1;
    const count = this.perInvariant.get(invariant) ?? 0;
    this.perInvariant.set(invariant, count + 1);
    if (count < this.perInvariantMax) this.violations.push({ invariant, node, detail });
  }
}

export interface SafetyOptions {
  /**
   * Invariant 14: a member of C that never installed C is excused when its
   * incarnation started less than this long before C was first installed
   * (it restarted while C was being formed). Default 2000 ms.
   */
  readonly formationMs?: number;
  /**
   * Sends and safe deliveries after this time are exempt from 13 and 14 (the
   * run was cut off while they were in flight). Default: none exempt — use
   * checkSafety after a quiet period.
   */
  readonly settledAt?: number;
  /** at most this many violations reported per invariant (default 20). */
  readonly perInvariantMax?: number;
}

// ---- configuration structure: 1–6 ---------------------------------------------

function checkConfigurations(byNode: Map<number, Incarnation[]>, report: Report): void {
  for (const incs of byNode.values()) {
    for (const inc of incs) checkIncarnationConfs(inc, report);
    checkRingMonotonic(incs, report);
  }
  checkViewAgreement(byNode, report);
  checkTransitionalAgreement(byNode, report);
}

function checkWellFormed(conf: ConfRecord, report: Report): void {
  for (const [name, xs] of [['members', conf.members], ['left', conf.left], ['joined', conf.joined]] as const) {
    for (let i = 1; i < xs.length; i++) {
      if (!((xs[i - 1] as number) < (xs[i] as number))) {
        report.add(3, conf.node, `${conf.type} ${ringKey(conf.ringId)} ${name} ${fmt(xs)} not ascending without duplicates`);
        break;
      }
    }
  }
}

/** Invariants 1, 2, 3 for one incarnation. */
function checkIncarnationConfs(inc: Incarnation, report: Report): void {
  const p = inc.node;
  let expect: 'transitional' | 'regular' = 'transitional';
  let lastRegular: ConfRecord | null = null;
  let trans: ConfRecord | null = null;
  let first = true;
  for (const r of inc.records) {
    if (r.kind !== 'conf') continue;
    checkWellFormed(r, report);
    if (r.type !== expect) {
      report.add(2, p, `${incName(inc)}: ${r.type.toUpperCase()} ${ringKey(r.ringId)} where ${expect.toUpperCase()} was due`);
    }
    if (r.type === 'transitional') {
      if (!first && !r.members.includes(p)) report.add(1, p, `${incName(inc)}: TRANSITIONAL ${ringKey(r.ringId)} ${fmt(r.members)} lacks the node`);
      if (first && r.members.length > 0 && !r.members.includes(p)) {
        report.add(1, p, `${incName(inc)}: first TRANSITIONAL ${ringKey(r.ringId)} ${fmt(r.members)} is neither empty nor contains the node`);
      }
      if (lastRegular !== null && !sameRing(r.fromRingId, lastRegular.ringId)) {
        report.add(2, p, `${incName(inc)}: TRANSITIONAL from=${ringKey(r.fromRingId)} but the last REGULAR was ${ringKey(lastRegular.ringId)}`);
      }
      checkTransArithmetic(inc, r, lastRegular, report);
      trans = r;
      expect = 'regular';
    } else {
      if (!r.members.includes(p)) report.add(1, p, `${incName(inc)}: REGULAR ${ringKey(r.ringId)} ${fmt(r.members)} lacks the node`);
      if (trans !== null && expect === 'regular') {
        if (!sameRing(trans.ringId, r.ringId)) {
          report.add(2, p, `${incName(inc)}: TRANSITIONAL ${ringKey(trans.ringId)} followed by REGULAR ${ringKey(r.ringId)}`);
        }
        if (!sameRing(trans.fromRingId, r.fromRingId)) {
          report.add(2, p, `${incName(inc)}: REGULAR from=${ringKey(r.fromRingId)} but its TRANSITIONAL from=${ringKey(trans.fromRingId)}`);
        }
        checkRegularArithmetic(inc, trans, r, report);
      }
      lastRegular = r;
      trans = null;
      first = false;
      expect = 'transitional';
    }
  }
}

function checkTransArithmetic(inc: Incarnation, t: ConfRecord, prev: ConfRecord | null, report: Report): void {
  const p = inc.node;
  const prevMembers = new Set(prev?.members ?? []);
  const where = `${incName(inc)}: TRANSITIONAL ${ringKey(t.ringId)}`;
  if (t.joined.length > 0) report.add(3, p, `${where} has joined ${fmt(t.joined)}`);
  for (const x of t.members) if (t.left.includes(x)) report.add(3, p, `${where}: ${x} both in members and left`);
  const union = new Set([...t.members, ...t.left]);
  const same = union.size === prevMembers.size && [...union].every((x) => prevMembers.has(x));
  if (!same) report.add(3, p, `${where}: members ${fmt(t.members)} ∪ left ${fmt(t.left)} ≠ previous regular ${fmt(prevMembers)}`);
}

function checkRegularArithmetic(inc: Incarnation, t: ConfRecord, r: ConfRecord, report: Report): void {
  const p = inc.node;
  const where = `${incName(inc)}: REGULAR ${ringKey(r.ringId)}`;
  if (r.left.length > 0) report.add(3, p, `${where} has left ${fmt(r.left)}`);
  for (const x of r.joined) if (t.members.includes(x)) report.add(3, p, `${where}: ${x} both transitional member and joined`);
  const union = new Set([...t.members, ...r.joined]);
  const same = union.size === r.members.length && r.members.every((x) => union.has(x));
  if (!same) report.add(3, p, `${where}: members ${fmt(r.members)} ≠ transitional ${fmt(t.members)} ∪ joined ${fmt(r.joined)}`);
}

/** Invariant 4: regular ring seqs strictly increase over a node's whole life (the disk survives). */
function checkRingMonotonic(incs: Incarnation[], report: Report): void {
  let last: ConfRecord | null = null;
  for (const inc of incs) {
    for (const r of inc.records) {
      if (r.kind !== 'conf' || r.type !== 'regular') continue;
      if (last !== null && !(r.ringId.seq > last.ringId.seq)) {
        report.add(4, inc.node, `${incName(inc)}: REGULAR ${ringKey(r.ringId)} after ${ringKey(last.ringId)} (seq not increasing)`);
      }
      last = r;
    }
  }
}

/** Invariant 5: one member list per ring id; each node installs a ring at most once. */
function checkViewAgreement(byNode: Map<number, Incarnation[]>, report: Report): void {
  const rings = new Map<string, ConfRecord>();
  for (const incs of byNode.values()) {
    const installed = new Set<string>();
    for (const inc of incs) {
      for (const r of inc.records) {
        if (r.kind !== 'conf' || r.type !== 'regular') continue;
        const key = ringKey(r.ringId);
        if (installed.has(key)) report.add(5, r.node, `${incName(inc)} installs ring ${key} a second time`);
        installed.add(key);
        const seen = rings.get(key);
        if (seen === undefined) rings.set(key, r);
        else if (!sameList(seen.members, r.members)) {
          report.add(5, r.node, `ring ${key}: n${r.node} installs ${fmt(r.members)}, n${seen.node} installed ${fmt(seen.members)}`);
        }
      }
    }
  }
}

/** consecutive regular views (C1 → T → C2) of every incarnation, keyed "C1>C2". */
function viewSteps(byNode: Map<number, Incarnation[]>): Map<string, { inc: Incarnation; c1: Period; t: Period; c2: Period }[]> {
  const steps = new Map<string, { inc: Incarnation; c1: Period; t: Period; c2: Period }[]>();
  for (const incs of byNode.values()) {
    for (const inc of incs) {
      for (const c1 of regularPeriods(inc)) {
        const t = transitionalAfter(inc, c1);
        if (t === null) continue;
        const c2 = regularAfter(inc, t);
        if (c2 === null || c1.conf === null || c2.conf === null) continue;
        const key = `${ringKey(c1.conf.ringId)}>${ringKey(c2.conf.ringId)}`;
        const list = steps.get(key) ?? [];
        list.push({ inc, c1, t, c2 });
        steps.set(key, list);
      }
    }
  }
  return steps;
}

/**
 * Invariant 6: nodes moving together C1 → C2 report the same transitional
 * members, which include them; and every transitional member really comes
 * from C1: if it installed C2, it did so straight from C1 (a node restarted
 * since C1 is never a transitional member, TOTEM.md §7), and if not, it did at
 * least install C1.
 */
function checkTransitionalAgreement(byNode: Map<number, Incarnation[]>, report: Report): void {
  // node/ring → the regular ring it came from when it installed that ring ('' for a first change)
  const cameFrom = new Map<string, string>();
  for (const incs of byNode.values()) {
    for (const inc of incs) {
      let previous = '';
      for (const p of regularPeriods(inc)) {
        if (p.conf === null) continue;
        cameFrom.set(`${inc.node}/${ringKey(p.conf.ringId)}`, previous);
        previous = ringKey(p.conf.ringId);
      }
    }
  }
  for (const [key, list] of viewSteps(byNode)) {
    const first = list[0];
    if (first === undefined || first.t.conf === null || first.c1.conf === null || first.c2.conf === null) continue;
    const c1 = ringKey(first.c1.conf.ringId);
    const c2 = ringKey(first.c2.conf.ringId);
    for (const q of first.t.conf.members) {
      const from = cameFrom.get(`${q}/${c2}`);
      if (from !== undefined && from !== c1) {
        report.add(6, q, `${key}: n${q} is a transitional member of ${incName(first.inc)} but installed ${c2} coming from ${from === '' ? 'a fresh start' : from}`);
      } else if (from === undefined && !cameFrom.has(`${q}/${c1}`)) {
        report.add(6, q, `${key}: n${q} is a transitional member of ${incName(first.inc)} but never installed ${c1}`);
      }
    }
    for (const step of list) {
      const members = step.t.conf?.members ?? [];
      if (!sameList(members, first.t.conf.members)) {
        report.add(6, step.inc.node, `${key}: ${incName(step.inc)} transitional ${fmt(members)}, ${incName(first.inc)} ${fmt(first.t.conf.members)}`);
      }
      for (const other of list) {
        if (!members.includes(other.inc.node)) {
          report.add(6, step.inc.node, `${key}: ${incName(step.inc)} transitional ${fmt(members)} lacks n${other.inc.node}, which moved along`);
        }
      }
    }
  }
}

// ---- messages: 7–15 -----------------------------------------------------------

function allDeliveries(byNode: Map<number, Incarnation[]>): { inc: Incarnation; d: DeliverRecord }[] {
  const out: { inc: Incarnation; d: DeliverRecord }[] = [];
  for (const incs of byNode.values()) {
    for (const inc of incs) for (const d of inc.deliveries) out.push({ inc, d });
  }
  return out;
}

function sendsById(byNode: Map<number, Incarnation[]>): Map<string, SendRecord> {
  const sends = new Map<string, SendRecord>();
  for (const incs of byNode.values()) {
    for (const inc of incs) for (const r of inc.records) if (r.kind === 'send') sends.set(r.msgId, r);
  }
  return sends;
}

/** Invariants 7 and 15: each delivery is of a sent message, once, intact. */
function checkIntegrity(byNode: Map<number, Incarnation[]>, sends: Map<string, SendRecord>, report: Report): void {
  for (const incs of byNode.values()) {
    for (const inc of incs) {
      const seen = new Set<string>();
      for (const r of inc.records) {
        if (r.kind !== 'deliver') continue;
        if (r.msgId === null) {
          report.add(15, inc.node, `${incName(inc)}: delivery from n${r.sender} (${r.size} B, ring ${ringKey(r.ringId)} seq ${r.seq}) has no readable header`);
          continue;
        }
        if (!r.bytesOk) report.add(15, inc.node, `${incName(inc)}: ${r.msgId} (${r.size} B) bytes differ from what was sent`);
        if (seen.has(r.msgId)) report.add(7, inc.node, `${incName(inc)}: ${r.msgId} delivered twice`);
        seen.add(r.msgId);
        const send = sends.get(r.msgId);
        if (send === undefined) {
          report.add(7, inc.node, `${incName(inc)}: ${r.msgId} delivered but never sent`);
          continue;
        }
        if (send.node !== r.sender) report.add(7, inc.node, `${incName(inc)}: ${r.msgId} reported from n${r.sender} but sent by n${send.node}`);
        if (send.at > r.at) report.add(7, inc.node, `${incName(inc)}: ${r.msgId} delivered at ${r.at} before it was sent at ${send.at}`);
        if (send.size !== r.size) report.add(15, inc.node, `${incName(inc)}: ${r.msgId} delivered with ${r.size} B, sent with ${send.size} B`);
        if (send.guarantee !== r.guarantee) report.add(15, inc.node, `${incName(inc)}: ${r.msgId} delivered as guarantee ${r.guarantee}, sent as ${send.guarantee}`);
      }
    }
  }
}

/** Invariants 8 and 9: who may be delivered in which view. */
function checkViews(byNode: Map<number, Incarnation[]>, report: Report): void {
  for (const { inc, d } of allDeliveries(byNode)) {
    const period = inc.periodOf.get(d);
    const id = `${incName(inc)}: ${d.msgId ?? '?'} (ring ${ringKey(d.ringId)} seq ${d.seq})`;
    if (period === undefined || period.kind === 'none' || period.conf === null) {
      report.add(9, inc.node, `${id} delivered before the first REGULAR configuration`);
      continue;
    }
    const conf = period.conf;
    // A transitional view may deliver messages of the preceding regular view's
    // members that no transitional member lacks (the EVS paper's rule): a safe
    // message held back for want of stability must reach every old member
    // holding it, also when its originator left.
    const previousMembers = period.kind === 'regular' ? [] : (period.after?.conf?.members ?? []);
    if (!conf.members.includes(d.sender) && !previousMembers.includes(d.sender)) {
      report.add(8, inc.node, `${id} from n${d.sender} delivered in ${conf.type} ${ringKey(conf.ringId)} ${fmt(conf.members)}`);
    }
    if (period.kind === 'regular') {
      if (!sameRing(conf.ringId, d.ringId)) report.add(9, inc.node, `${id} delivered in regular view ${ringKey(conf.ringId)}`);
    } else {
      const ordering = period.after?.conf?.ringId;
      if (ordering === undefined) report.add(9, inc.node, `${id} delivered in a transitional view that follows no regular view`);
      else if (!sameRing(ordering, d.ringId)) {
        report.add(9, inc.node, `${id} delivered in the transitional view after ${ringKey(ordering)}`);
      }
    }
  }
}

/**
 * Invariant 8, second half (the paper's causality rule, corosync's deliver
 * set): in a transitional view, a message from a sender outside the
 * transitional configuration may be delivered only while there is no hole
 * before it — it might depend on the missing message. A hole is visible here
 * as a message of the same ring, at a lower seq, that some node delivered and
 * this node did not (a hole nobody filled stays invisible: under-reporting only).
 */
function checkNoDepartedAfterHole(byNode: Map<number, Incarnation[]>, report: Report): void {
  const placed = new Map<string, { seq: number; msgId: string }[]>();
  const seen = new Set<string>();
  for (const incs of byNode.values()) {
    for (const inc of incs) {
      for (const d of inc.deliveries) {
        if (d.msgId === null || seen.has(d.msgId)) continue;
        seen.add(d.msgId);
        const ring = ringKey(d.ringId);
        const list = placed.get(ring) ?? [];
        list.push({ seq: d.seq, msgId: d.msgId });
        placed.set(ring, list);
      }
    }
  }
  for (const incs of byNode.values()) {
    for (const inc of incs) {
      for (const t of inc.periods) {
        if (t.kind !== 'transitional' || t.conf === null || t.after === null) continue;
        const trans = t.conf.members;
        const mine = new Set([...t.after.deliveries, ...t.deliveries].map((d) => d.msgId));
        for (const d of t.deliveries) {
          if (d.msgId === null || trans.includes(d.sender)) continue;
          const hole = (placed.get(ringKey(d.ringId)) ?? []).find((m) => seqLt(m.seq, d.seq) && !mine.has(m.msgId));
          if (hole !== undefined) {
            report.add(8, inc.node, `${incName(inc)}: ${d.msgId} (seq ${d.seq}) from n${d.sender}, not in transitional ${fmt(trans)}, ` +
              `delivered after a hole (${hole.msgId} at seq ${hole.seq} missing)`);
          }
        }
      }
    }
  }
}

/** Invariant 10: one order per ring, gap-free regular prefixes, pairwise consistency. */
function checkTotalOrder(byNode: Map<number, Incarnation[]>, report: Report): void {
  const incs = [...byNode.values()].flat();
  const placement = new Map<string, { ring: string; seq: number; inc: Incarnation }>();
  const regularLists = new Map<string, { inc: Incarnation; ids: string[] }[]>();
  for (const inc of incs) {
    const lastSeq = new Map<string, number>();
    for (const period of inc.periods) {
      const regularIds: string[] = [];
      for (const d of period.deliveries) {
        if (d.msgId === null) continue;
        const ring = ringKey(d.ringId);
        const previous = lastSeq.get(ring);
        if (previous !== undefined && seqLt(d.seq, previous)) {
          report.add(10, inc.node, `${incName(inc)}: ${d.msgId} at seq ${d.seq} of ring ${ring} after seq ${previous}`);
        }
        lastSeq.set(ring, d.seq);
        const placed = placement.get(d.msgId);
        if (placed === undefined) placement.set(d.msgId, { ring, seq: d.seq, inc });
        else if (placed.ring !== ring || placed.seq !== d.seq) {
          report.add(10, inc.node, `${incName(inc)}: ${d.msgId} at ${ring}/${d.seq}, ${incName(placed.inc)} had it at ${placed.ring}/${placed.seq}`);
        }
        if (period.kind === 'regular') regularIds.push(d.msgId);
      }
      if (period.kind === 'regular' && period.conf !== null) {
        const key = ringKey(period.conf.ringId);
        const list = regularLists.get(key) ?? [];
        list.push({ inc, ids: regularIds });
        regularLists.set(key, list);
      }
    }
  }
  checkRegularPrefixes(regularLists, report);
  checkPairwiseOrder(incs, report);
}

/** In a regular view every node delivers a prefix of the same sequence. */
function checkRegularPrefixes(lists: Map<string, { inc: Incarnation; ids: string[] }[]>, report: Report): void {
  for (const [ring, list] of lists) {
    let longest = list[0];
    for (const l of list) if (longest === undefined || l.ids.length > longest.ids.length) longest = l;
    if (longest === undefined) continue;
    for (const l of list) {
      const at = l.ids.findIndex((id, i) => id !== longest.ids[i]);
      if (at >= 0) {
        report.add(10, l.inc.node, `ring ${ring}: ${incName(l.inc)} regular delivery #${at + 1} is ${l.ids[at]}, ` +
          `${incName(longest.inc)} delivered ${longest.ids[at]} there (not a common prefix)`);
      }
    }
  }
}

/** Any two incarnations deliver the messages they have in common in the same relative order. */
function checkPairwiseOrder(incs: Incarnation[], report: Report): void {
  const lists = incs.map((inc) => {
    const ids: string[] = [];
    for (const d of inc.deliveries) if (d.msgId !== null) ids.push(d.msgId);
    return { inc, ids };
  });
  // Two incarnations that disagree on x and y put x → y and y → x into the union
  // of all delivery orders: no cycle there, no disagreement, and the pairwise
  // walk below (quadratic in incarnations, a twentieth of a long run's time) is skipped.
  if (!hasCycle(lists.map((l) => l.ids))) return;
  const orders = lists.map((l) => ({ ...l, set: new Set(l.ids) }));
  for (let i = 0; i < orders.length; i++) {
    for (let j = i + 1; j < orders.length; j++) {
      const a = orders[i];
      const b = orders[j];
      if (a === undefined || b === undefined) continue;
      const aCommon = a.ids.filter((id) => b.set.has(id));
      const bCommon = b.ids.filter((id) => a.set.has(id));
      const at = aCommon.findIndex((id, k) => id !== bCommon[k]);
      if (at >= 0) {
        report.add(10, b.inc.node, `${incName(a.inc)} and ${incName(b.inc)} disagree on order: common delivery #${at + 1} is ` +
          `${aCommon[at]} at ${incName(a.inc)}, ${bCommon[at]} at ${incName(b.inc)}`);
      }
    }
  }
}

/**
 * Whether the union of the orders (each id before the next in every list) has
 * a cycle, i.e. no single order extends them all (Kahn's topological sort).
 * Exported for its unit test.
 */
export function hasCycle(orders: readonly (readonly string[])[]): boolean {
  const index = new Map<string, number>();
  for (const ids of orders) for (const id of ids) if (!index.has(id)) index.set(id, index.size);
  const inDegree = new Int32Array(index.size);
  const next: number[][] = Array.from({ length: index.size }, () => []);
  for (const ids of orders) {
    for (let k = 1; k < ids.length; k++) {
      const to = index.get(ids[k] as string) as number;
      (next[index.get(ids[k - 1] as string) as number] as number[]).push(to);
      inDegree[to] = (inDegree[to] as number) + 1;
    }
  }
  const free: number[] = [];
  for (let v = 0; v < index.size; v++) if (inDegree[v] === 0) free.push(v);
  let placed = 0;
  for (let v = free.pop(); v !== undefined; v = free.pop()) {
    placed += 1;
    for (const w of next[v] as number[]) {
      inDegree[w] = (inDegree[w] as number) - 1;
      if (inDegree[w] === 0) free.push(w);
    }
  }
  return placed < index.size;
}

/** Invariant 11: nodes moving together C1 → C2 delivered the same set in C1 and in the transitional view. */
function checkVirtualSynchrony(byNode: Map<number, Incarnation[]>, report: Report): void {
  const idsOf = (p: Period): Set<string> => new Set(p.deliveries.map((d) => d.msgId ?? `?${d.sender}/${d.seq}`));
  for (const [key, list] of viewSteps(byNode)) {
    const first = list[0];
    if (first === undefined) continue;
    const c1Ref = idsOf(first.c1);
    const tRef = idsOf(first.t);
    for (const step of list.slice(1)) {
      for (const [what, mine, ref] of [['regular', idsOf(step.c1), c1Ref], ['transitional', idsOf(step.t), tRef]] as const) {
        const onlyMine = [...mine].filter((id) => !ref.has(id));
        const onlyRef = [...ref].filter((id) => !mine.has(id));
        if (onlyMine.length > 0 || onlyRef.length > 0) {
          report.add(11, step.inc.node, `${key} ${what} view: ${incName(step.inc)} vs ${incName(first.inc)}: ` +
            `only at ${incName(step.inc)} {${sample(onlyMine)}}, only at ${incName(first.inc)} {${sample(onlyRef)}}`);
        }
      }
    }
  }
}

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
function checkFifo(byNode: Map<number, Incarnation[]>, sends: Map<string, SendRecord>, report: Report): void {
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
function checkSelfDelivery(byNode: Map<number, Incarnation[]>, report: Report, settledAt: number): void {
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

// ---- invariant 14 ---------------------------------------------------------------

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
function checkSafeDelivery(byNode: Map<number, Incarnation[]>, report: Report, settledAt: number, formationMs: number): void {
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

/** Invariants 1–15 over a complete log. */
export function checkSafety(records: readonly LogRecord[], options: SafetyOptions = {}): Violation[] {
  const report = new Report(options.perInvariantMax ?? 20);
  const byNode = splitIncarnations(records);
  const settledAt = options.settledAt ?? Infinity;
  checkConfigurations(byNode, report);
  const sends = sendsById(byNode);
  checkIntegrity(byNode, sends, report);
  checkViews(byNode, report);
  checkNoDepartedAfterHole(byNode, report);
  checkTotalOrder(byNode, report);
  checkVirtualSynchrony(byNode, report);
  checkFifo(byNode, sends, report);
  checkSelfDelivery(byNode, report, settledAt);
  checkSafeDelivery(byNode, report, settledAt, options.formationMs ?? 2000);
  return report.violations;
}

// ---- liveness: 16–19 ---------------------------------------------------------------

export interface LivenessTimings {
  readonly tokenMs: number;
  readonly consensusMs: number;
  readonly joinMs: number;
  readonly mergeMs: number;
  readonly holdMs: number;
  readonly tokenRetransmitMs: number;
}

/**
 * One token rotation, worst case on a loss-free network: per hop the link
 * delay plus a quarter of the retransmit interval as it was calibrated, with
 * corosync's 4 retransmits (token / 4.2) — the odd token re-send a duplicate
 * or a late copy can cause. The default of 10 retransmits
 * (docs/DEVIATIONS.md) shortens the interval but does not slow a hop, so the
 * allowance does not shrink with it.
 */
export function tokenRotationMs(t: LivenessTimings, nodeCount: number, delayMaxMs: number): number {
  const retransmitMs = Math.max(t.tokenRetransmitMs, t.tokenMs / 4.2);
  return nodeCount * (delayMaxMs + retransmitMs / 4);
}

/**
 * One token rotation while a backlog drains (invariants 17 and 18). The
 * simulator charges no time for a visit's work, so on a loss-free network a
 * hop costs at most the link's delay: nodes × delayMaxMs, plus one token
 * retransmit period per rotation, spare. Under steady loss p on every link a
 * hop also waits for the token's re-sends: p / (1 − p) of them on average,
 * one every tokenRetransmitMs; we allow three times the mean. The mean alone
 * is exceeded about half the time; three times it, summed over the ≥ 4
 * rotations of any drain (`drainRotations`), is more than 6 standard
 * deviations above the mean at p = 0.3 with 8 processors (32 hops: mean
 * 13.7 re-sends, sd 4.4, allowance 41).
 *
 *   rotationMs = nodes × (delayMaxMs + 3 × p / (1 − p) × tokenRetransmitMs) + tokenRetransmitMs
 */
export function drainRotationMs(t: LivenessTimings, nodeCount: number, delayMaxMs: number, lossProbability = 0): number {
  const resendsPerHop = lossProbability / (1 - lossProbability);
  return nodeCount * (delayMaxMs + 3 * resendsPerHop * t.tokenRetransmitMs) + t.tokenRetransmitMs;
}

/**
 * Multicasts of one datagram, on average, until each of `receivers` holds it
 * when every copy is lost independently with probability p:
 * Σ_{k≥0} P(some receiver lacks it after k copies) = Σ_{k≥0} (1 − (1 − p^k)^receivers).
 * 1 on a loss-free network; 2.7 at p = 0.3 with 7 receivers. Re-sends take
 * the same window and maxMessages as new datagrams (token-visit.ts).
 */
export function transmissionsPerDatagram(lossProbability: number, receivers: number): number {
  let sum = 0;
  for (let k = 0; k < 1000; k++) {
    const missing = 1 - (1 - lossProbability ** k) ** receivers;
    sum += missing;
    if (missing < 1e-12) break;
  }
  return sum;
}

/**
 * Re-sends after which a datagram still lacks a receiver with probability
 * below 10⁻⁶ (the smallest r with receivers × p^r < 10⁻⁶); each costs a
 * rotation (the request stays on the token until a holder re-sends). 0 on a
 * loss-free network.
 */
export function retryRotations(lossProbability: number, receivers: number): number {
  if (lossProbability <= 0 || receivers <= 0) return 0;
  return Math.max(0, Math.ceil(Math.log(1e-6 / receivers) / Math.log(lossProbability)));
}

/** What turns pending traffic into token rotations (invariants 17 and 18). */
export interface FlowTimings {
  /** one token rotation while a backlog drains (`drainRotationMs`). */
  readonly rotationMs: number;
  readonly holdMs: number;
  /** datagrams one member may multicast per token visit (≤ windowSize). */
  readonly maxMessages: number;
  readonly missCountConst: number;
  /** `transmissionsPerDatagram` (1 without loss). */
  readonly transmissionsPerDatagram: number;
  /** `retryRotations` (0 without loss). */
  readonly retryRotations: number;
}

/**
 * Token rotations that carry `pendingDatagrams` of backlog to every member
 * and deliver it (invariants 17 and 18):
 *
 *   rotations = 2 × ⌈pending × transmissions / maxMessages⌉ + missCountConst + retries + 3
 *
 *  - 2 × ⌈pending × transmissions / maxMessages⌉: every datagram is
 *    multicast `transmissionsPerDatagram` times on average (1 without loss),
 *    and while any member has a backlog, two
 *    successive rotations multicast at least maxMessages datagrams between
 *    them. The token's fcc is the count multicast in the last rotation, and
 *    the first member with a backlog may send min(maxMessages, windowSize −
 *    fcc) (token-visit.ts `fccCalculate`): if a rotation carried x, the next
 *    carries at least min(maxMessages, windowSize − x), so the two carry at
 *    least min(maxMessages + x, windowSize) ≥ maxMessages (maxMessages ≤
 *    windowSize). The backlog share only trims a member holding less than its
 *    share of the ring's backlog while those holding more send theirs. With
 *    the congestion back-off a member's window is anywhere in windowSizeMin..
 *    windowSize, so the caller passes min(maxMessages, windowSizeMin) as
 *    `maxMessages` (swarm.ts `flowInput`).
 *  - missCountConst + 1 + retries: a datagram some member lacks is asked for
 *    after it was seen missing on missCountConst visits and re-sent on the
 *    next; under loss a re-send can be lost again (`retryRotations`).
 *  - 2: a safe datagram waits until two successive visits' token arus cover
 *    it (the safe point), the last member delivers on its next visit.
 */
export function drainRotations(f: FlowTimings, pendingDatagrams: number): number {
  return 2 * Math.ceil((pendingDatagrams * f.transmissionsPerDatagram) / f.maxMessages) + f.missCountConst + f.retryRotations + 3;
}

/** `drainRotations` in ms, plus one token hold (an idle ring's token waits holdMs at its representative). */
export function drainBoundMs(f: FlowTimings, pendingDatagrams: number): number {
  return Math.ceil(f.holdMs + f.rotationMs * drainRotations(f, pendingDatagrams));
}

/**
 * How long after the network is healed (all faults stopped, restarts done)
 * every live node must have installed the final configuration (invariant 16).
 *
 * Worst case walked through (TOTEM.md §3.3, §3.6, §5.2):
 *  1. A ring broken by the safety phase is noticed at the latest one token
 *     timeout after the heal (tokenMs), or at once by a foreign message.
 *  2. A GATHER round ends within one consensus timeout: either everyone
 *     agrees (JOINs every joinMs) or the silent ones are declared failed —
 *     which can leave survivors of the safety phase in separate rings with
 *     mutually exclusive failed lists. The consensus timer is armed at
 *     consensusMs plus a random back-off of up to consensusMs / 4 at every
 *     GATHER entry (gather.ts `consensusBackoffMs`, docs/DEVIATIONS.md), so the
 *     round's worst case is consensusMs × 5/4, not consensusMs (the bound was
 *     written before the back-off existed; seed 3423963613985 of the classic
 *     swarm converged 86 ms past the old bound, inside this one).
 *  3. Those rings find each other through a foreign MCAST or, when idle,
 *     through MERGE_DETECT: up to hold (the rep holds the token), plus the merge
 *     timer (mergeMs), per attempt.
 *  4. Each successful round costs the commit token's two rotations plus the
 *     recovery rotations before install (≤ 8 rotations at most, one rotation ≤
 *     nodes × (delay max + a retransmission)).
 * We allow three full rounds (1–4), because a node restarted or a late JOIN
 * can restart a round that was underway:
 *   bound = 3 × (tokenMs + consensusMaxMs + holdMs + 2 × mergeMs + 8 × rotationMs) + 10 × joinMs
 * with consensusMaxMs = consensusMs + ⌊consensusMs / 4⌋ (the longest back-off),
 * and rotationMs = `tokenRotationMs` = nodes × (delayMaxMs + tokenRetransmitMs / 4).
 */
export function livenessBoundMs(t: LivenessTimings, nodeCount: number, delayMaxMs: number): number {
  const rotationMs = tokenRotationMs(t, nodeCount, delayMaxMs);
  const consensusMaxMs = t.consensusMs + Math.floor(t.consensusMs / 4);
  const roundMs = t.tokenMs + consensusMaxMs + t.holdMs + 2 * t.mergeMs + 8 * rotationMs;
  return Math.ceil(3 * roundMs + 10 * t.joinMs);
}

export interface LivenessInput {
  /** nodes expected to be up and connected at the end (ascending or not). */
  readonly live: readonly number[];
  /** network healed, faults stopped, restarts done. */
  readonly healedAt: number;
  /** convergence must happen by healedAt + boundMs. */
  readonly boundMs: number;
  /** traffic stopped and drained: from here on nothing may change (19). */
  readonly idleFrom: number;
  readonly end: number;
  /** ORF tokens that arrived during [idleFrom, end] (19: the token still circulates). */
  readonly tokensDuringIdle?: number;
  /**
   * Time bounds on progress (17) and back-pressure (18), from the pending
   * traffic: without it, 17 only checks that everything arrives, and 18 is
   * not checked.
   */
  readonly flow?: FlowInput;
}

export interface FlowInput extends FlowTimings {
  /** the last submission of the run: from here on the backlog only drains (17). */
  readonly trafficStoppedAt: number;
  /** upper bound on the datagrams a message of `size` bytes takes (fragments, headers). */
  readonly datagramsOf: (size: number) => number;
}

/** The last incarnation of each live node, or a violation when it is not running. */
function liveIncarnations(byNode: Map<number, Incarnation[]>, live: readonly number[], report: Report): Map<number, Incarnation> {
  const out = new Map<number, Incarnation>();
  for (const node of live) {
    const inc = byNode.get(node)?.at(-1);
    if (inc === undefined || inc.end !== 'alive') report.add(16, node, `n${node} is supposed to be live but is not running at the end`);
    else out.set(node, inc);
  }
  return out;
}

function lastConf(inc: Incarnation): ConfRecord | null {
  for (let i = inc.records.length - 1; i >= 0; i--) {
    const r = inc.records[i] as LogRecord;
    if (r.kind === 'conf') return r;
  }
  return null;
}

/** Invariant 16: one final regular configuration of exactly the live nodes, in time, and stable. */
function checkConvergence(incs: Map<number, Incarnation>, input: LivenessInput, report: Report): ConfRecord | null {
  const want = [...input.live].sort((a, b) => a - b);
  const deadline = input.healedAt + input.boundMs;
  let reference: ConfRecord | null = null;
  for (const [node, inc] of incs) {
    const conf = lastConf(inc);
    if (conf === null || conf.type !== 'regular') {
      report.add(16, node, `n${node} ends without a regular configuration (last: ${conf === null ? 'none' : `${conf.type} ${ringKey(conf.ringId)}`})`);
      continue;
    }
    if (!sameList(conf.members, want)) report.add(16, node, `n${node} ends in ${ringKey(conf.ringId)} ${fmt(conf.members)}, live set is ${fmt(want)}`);
    if (conf.at > deadline) {
      report.add(16, node, `n${node} installed its final configuration at ${conf.at.toFixed(1)}, ${(conf.at - input.healedAt).toFixed(1)} ms after the heal (bound ${input.boundMs} ms)`);
    }
    if (reference === null) reference = conf;
    else if (!sameRing(reference.ringId, conf.ringId)) {
      report.add(16, node, `n${node} ends in ring ${ringKey(conf.ringId)}, n${reference.node} in ${ringKey(reference.ringId)}`);
    }
    const after = inc.records.filter((r) => r.index > conf.index && r.kind === 'state' && r.state !== 'operational');
    const lastState = [...inc.records].reverse().find((r) => r.kind === 'state');
    if (after.length > 0 || (lastState !== undefined && lastState.kind === 'state' && lastState.state !== 'operational')) {
      report.add(16, node, `n${node} left OPERATIONAL after its final configuration (${after.map((r) => r.kind === 'state' ? `${r.state}@${r.at.toFixed(1)}` : '').join(' ')})`);
    }
  }
  return reference;
}

/**
 * Invariant 17: every message a live node sent after it installed the final
 * configuration, and every message anyone delivered in the final ring, is
 * delivered by every live node; with `flow`, in time: by the time traffic
 * stopped plus `drainBoundMs` of what was still pending then.
 */
function checkProgress(incs: Map<number, Incarnation>, finalRing: RingId | null, input: LivenessInput, report: Report): void {
  if (finalRing === null) return;
  const work = finalRingWork(incs, finalRing);
  for (const [node, inc] of incs) {
    const delivered = new Set<string>();
    for (const r of inc.records) if (r.kind === 'deliver' && r.msgId !== null) delivered.add(r.msgId);
    const missing = [...work.messages.keys()].filter((id) => !delivered.has(id));
    if (missing.length > 0) report.add(17, node, `n${node} never delivered ${missing.length} message(s) of the final ring ${ringKey(finalRing)}: ${sample(missing)}`);
  }
  const flow = input.flow;
  if (flow === undefined) return;
  const stop = flow.trafficStoppedAt;
  const pending = work.pendingDatagrams(stop, flow.datagramsOf);
  const deadline = stop + drainBoundMs(flow, pending);
  const late = [...work.messages.values()].filter((m) => m.lastDeliveredAt > deadline);
  if (late.length > 0) {
    const worst = late.reduce((a, b) => (b.lastDeliveredAt > a.lastDeliveredAt ? b : a));
    report.add(17, worst.send?.node ?? 0, `${late.length} message(s) of the final ring ${ringKey(finalRing)} delivered everywhere only after ` +
      `${deadline.toFixed(1)} (traffic stopped at ${stop.toFixed(1)} with ${pending} datagram(s) pending: ` +
      `${drainRotations(flow, pending)} rotations of ${flow.rotationMs.toFixed(1)} ms + hold ${flow.holdMs} ms); ` +
      `last: ${worst.id} at ${worst.lastDeliveredAt.toFixed(1)}: ${sample(late.map((m) => m.id))}`);
  }
}

interface FinalMessage {
  readonly id: string;
  /** the SEND record (null for a message only seen delivered). */
  readonly send: SendRecord | null;
  /** when the last live node delivered it (Infinity when some never did). */
  lastDeliveredAt: number;
}

/**
 * The final ring's work: what invariant 17 requires every live node to
 * deliver, with when each message was sent and delivered everywhere.
 */
function finalRingWork(incs: Map<number, Incarnation>, finalRing: RingId): {
  messages: Map<string, FinalMessage>;
  /** datagrams of messages sent at or before `at` and not yet delivered everywhere at `at` (added: sent in (at, until]). */
  pendingDatagrams: (at: number, datagramsOf: (size: number) => number, until?: number) => number;
} {
  const sendOf = new Map<string, SendRecord>();
  const messages = new Map<string, FinalMessage>();
  for (const inc of incs.values()) for (const r of inc.records) if (r.kind === 'send') sendOf.set(r.msgId, r);
  for (const inc of incs.values()) {
    const conf = lastConf(inc);
    if (conf === null) continue;
    for (const r of inc.records) {
      const id = r.kind === 'send' && r.index > conf.index ? r.msgId
        : r.kind === 'deliver' && r.msgId !== null && sameRing(r.ringId, finalRing) ? r.msgId : null;
      if (id !== null && !messages.has(id)) messages.set(id, { id, send: sendOf.get(id) ?? null, lastDeliveredAt: 0 });
    }
  }
  for (const inc of incs.values()) {
    const at = new Map<string, number>();
    for (const d of inc.deliveries) if (d.msgId !== null) at.set(d.msgId, d.at);
    for (const m of messages.values()) m.lastDeliveredAt = Math.max(m.lastDeliveredAt, at.get(m.id) ?? Infinity);
  }
  const pendingDatagrams = (at: number, datagramsOf: (size: number) => number, until = at): number => {
    let sum = 0;
    for (const m of messages.values()) {
      if (m.send === null || m.send.at > until) continue;
      if (m.send.at > at || m.lastDeliveredAt > at) sum += datagramsOf(m.send.size);
    }
    return sum;
  };
  return { messages, pendingDatagrams };
}

/**
 * Invariant 18: back-pressure clears. A live node whose submissions are
 * refused (BLOCKED: its send queue is full) after it installed the final
 * configuration is accepting again within `drainBoundMs` of the work that
 * could be ahead of it: what was pending when the refusals began (or when it
 * installed, if later), plus everything sent ring-wide since. Judged up to
 * the end of traffic (after that nobody submits).
 */
function checkBackPressure(incs: Map<number, Incarnation>, finalRing: RingId | null, flow: FlowInput, report: Report): void {
  if (finalRing === null) return;
  const work = finalRingWork(incs, finalRing);
  for (const [node, inc] of incs) {
    const conf = lastConf(inc);
    if (conf === null) continue;
    let streakFrom: number | null = null;
    for (const r of inc.records) {
      if (r.kind === 'send') streakFrom = null;
      if (r.kind !== 'blocked' || r.index < conf.index) continue;
      streakFrom ??= Math.max(r.at, conf.at);
      const pending = work.pendingDatagrams(streakFrom, flow.datagramsOf, r.at);
      const deadline = streakFrom + drainBoundMs(flow, pending);
      if (r.at > deadline) {
        report.add(18, node, `n${node} still blocked at ${r.at.toFixed(1)}, blocked since ${streakFrom.toFixed(1)} in the final ring ${ringKey(finalRing)} ` +
          `(bound ${deadline.toFixed(1)}: ${pending} datagram(s) pending or sent since, ${drainRotations(flow, pending)} rotations of ${flow.rotationMs.toFixed(1)} ms + hold ${flow.holdMs} ms)`);
        break;
      }
    }
  }
}

export interface SteadyProgressInput {
  /** intervals [from, to] in which every running node was OPERATIONAL in one ring of all of them. */
  readonly held: readonly (readonly [number, number])[];
  /** the steady loss's flow parameters (`trafficStoppedAt` is not used). */
  readonly flow: FlowInput;
}

/**
 * Invariant 20, progress half: under steady bounded loss, while one ring of
 * every running node holds, each message sent in it is delivered by every
 * member of that ring within `drainBoundMs` of the work that can be ahead of
 * it: the datagrams pending when it was sent (its own included) plus those
 * sent ring-wide until its deadline (a fixed point: the deadline grows with
 * the arrivals it lets in). A message whose deadline falls after the ring
 * stopped holding is not judged here (a change explains it; the liveness
 * phase judges what is left).
 */
export function checkSteadyProgress(records: readonly LogRecord[], input: SteadyProgressInput, options: { perInvariantMax?: number } = {}): Violation[] {
  const report = new Report(options.perInvariantMax ?? 20);
  const byNode = splitIncarnations(records);
  // the ring each send went into (the sender's last REGULAR before it) and when its members all delivered it
  interface Sent { readonly send: SendRecord; readonly ring: ConfRecord; readonly datagrams: number; doneAt: number; missing: number[] }
  const sent: Sent[] = [];
  const deliveredAt = new Map<string, Map<number, number>>();
  for (const incs of byNode.values()) {
    for (const inc of incs) {
      let ring: ConfRecord | null = null;
      for (const r of inc.records) {
        if (r.kind === 'conf' && r.type === 'regular') ring = r;
        if (r.kind === 'conf' && r.type === 'transitional') ring = null;
        if (r.kind === 'send' && ring !== null) sent.push({ send: r, ring, datagrams: input.flow.datagramsOf(r.size), doneAt: 0, missing: [] });
        if (r.kind === 'deliver' && r.msgId !== null) {
          const at = deliveredAt.get(r.msgId) ?? new Map<number, number>();
          if (!at.has(inc.node)) at.set(inc.node, r.at);
          deliveredAt.set(r.msgId, at);
        }
      }
    }
  }
  for (const m of sent) {
    const at = deliveredAt.get(m.send.msgId);
    for (const q of m.ring.members) {
      const t = at?.get(q);
      if (t === undefined) m.missing.push(q);
      m.doneAt = Math.max(m.doneAt, t ?? Infinity);
    }
  }
  sent.sort((a, b) => a.send.at - b.send.at);
  // the held intervals are sampled: a configuration change anywhere also ends the judgement
  const confTimes = records.filter((r) => r.kind === 'conf').map((r) => r.at).sort((a, b) => a - b);
  const heldUntil = (t: number): number => {
    const nextConf = confTimes.find((c) => c > t) ?? Infinity;
    for (const [from, to] of input.held) if (from <= t && t <= to) return Math.min(to, nextConf);
    return -Infinity;
  };
  for (const m of sent) {
    const ts = m.send.at;
    const until = heldUntil(ts);
    if (until < ts) continue;
    const pending = sent.reduce((sum, x) => (x.send.at <= ts && x.doneAt > ts ? sum + x.datagrams : sum), 0);
    let deadline = ts + drainBoundMs(input.flow, pending);
    for (let i = 0; i < 50; i++) {
      const ahead = pending + sent.reduce((sum, x) => (x.send.at > ts && x.send.at <= deadline ? sum + x.datagrams : sum), 0);
      const next = ts + drainBoundMs(input.flow, ahead);
      if (next === deadline) break;
      deadline = next;
    }
    if (deadline > until || m.doneAt <= deadline) continue;
    report.add(20, m.send.node, `${m.send.msgId} sent at ${ts.toFixed(1)} in ${ringKey(m.ring.ringId)}, which held until ${until.toFixed(1)}, ` +
      `${m.missing.length > 0 ? `never delivered by n${m.missing.join(',n')}` : `delivered by all its members only at ${m.doneAt.toFixed(1)}`} ` +
      `(bound ${deadline.toFixed(1)}: ${pending} datagram(s) pending at the send)`);
  }
  return report.violations;
}

/** Invariant 19: an idle ring stays put and its token keeps circulating. */
function checkIdle(incs: Map<number, Incarnation>, input: LivenessInput, report: Report): void {
  for (const [node, inc] of incs) {
    const changes = inc.records.filter((r) => r.at >= input.idleFrom && (r.kind === 'conf' || (r.kind === 'state')));
    if (changes.length > 0) {
      const first = changes[0] as LogRecord;
      report.add(19, node, `n${node} changed membership while idle: ${changes.length} record(s) from ${first.at.toFixed(1)} (idle from ${input.idleFrom.toFixed(1)})`);
    }
  }
  if (input.tokensDuringIdle !== undefined && input.tokensDuringIdle === 0 && input.end > input.idleFrom) {
    report.add(19, input.live[0] ?? 0, `no ORF token arrived anywhere during the idle period ${input.idleFrom.toFixed(1)}..${input.end.toFixed(1)}`);
  }
}

/** Invariants 16, 17, 18 and 19 for the liveness phase. */
export function checkLiveness(records: readonly LogRecord[], input: LivenessInput, options: { perInvariantMax?: number } = {}): Violation[] {
  const report = new Report(options.perInvariantMax ?? 20);
  const byNode = splitIncarnations(records);
  const incs = liveIncarnations(byNode, input.live, report);
  const before = report.total;
  const finalConf = checkConvergence(incs, input, report);
  // Progress is judged in the final configuration: only once there is one.
  if (report.total === before) {
    checkProgress(incs, finalConf?.ringId ?? null, input, report);
    if (input.flow !== undefined) checkBackPressure(incs, finalConf?.ringId ?? null, input.flow, report);
  }
  checkIdle(incs, input, report);
  return report.violations;
}
