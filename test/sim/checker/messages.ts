/**
 * Invariants 7, 8, 9 and 15: each delivery is of a sent message, once and
 * intact, from a member of the view it is delivered in.
 */
import { seqLt } from '../../../src/protocol/seq.ts';
import { ringKey, type DeliverRecord, type SendRecord } from '../log.ts';
import type { Report } from './report.ts';
import { fmt, type Incarnation, incName, sameRing } from './views.ts';

export function allDeliveries(byNode: Map<number, Incarnation[]>): { inc: Incarnation; d: DeliverRecord }[] {
  const out: { inc: Incarnation; d: DeliverRecord }[] = [];
  for (const incs of byNode.values()) {
    for (const inc of incs) for (const d of inc.deliveries) out.push({ inc, d });
  }
  return out;
}

export function sendsById(byNode: Map<number, Incarnation[]>): Map<string, SendRecord> {
  const sends = new Map<string, SendRecord>();
  for (const incs of byNode.values()) {
    for (const inc of incs) for (const r of inc.records) if (r.kind === 'send') sends.set(r.msgId, r);
  }
  return sends;
}

/** Invariants 7 and 15: each delivery is of a sent message, once, intact. */
export function checkIntegrity(byNode: Map<number, Incarnation[]>, sends: Map<string, SendRecord>, report: Report): void {
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
export function checkViews(byNode: Map<number, Incarnation[]>, report: Report): void {
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
export function checkNoDepartedAfterHole(byNode: Map<number, Incarnation[]>, report: Report): void {
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
