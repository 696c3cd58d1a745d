/**
 * Invariants 1–6: the configuration changes themselves — self-inclusion,
 * alternation, arithmetic, ring-id monotonicity, view and transitional agreement.
 */
import { ringKey, type ConfRecord } from '../log.ts';
import type { Report } from './report.ts';
import { fmt, type Incarnation, incName, type Period, regularAfter, regularPeriods, sameList, sameRing, transitionalAfter } from './views.ts';

export function checkConfigurations(byNode: Map<number, Incarnation[]>, report: Report): void {
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
export function viewSteps(byNode: Map<number, Incarnation[]>): Map<string, { inc: Incarnation; c1: Period; t: Period; c2: Period }[]> {
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
