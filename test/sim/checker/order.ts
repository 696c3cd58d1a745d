/**
 * Invariants 10 and 11: one total order per ring, and virtual synchrony.
 */
import { seqLt } from '../../../src/protocol/seq.ts';
import { ringKey } from '../log.ts';
import { viewSteps } from './configurations.ts';
import type { Report } from './report.ts';
import { type Incarnation, incName, type Period, sample } from './views.ts';

/** Invariant 10: one order per ring, gap-free regular prefixes, pairwise consistency. */
export function checkTotalOrder(byNode: Map<number, Incarnation[]>, report: Report): void {
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
export function checkVirtualSynchrony(byNode: Map<number, Incarnation[]>, report: Report): void {
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
