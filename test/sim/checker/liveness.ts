/**
 * Invariants 16–19 for the liveness phase (`checkLiveness`), and 20 under
 * steady loss (`checkSteadyProgress`).
 */
import type { RingId } from '../../../src/wire/messages.ts';
import { ringKey, type ConfRecord, type LogRecord, type SendRecord } from '../log.ts';
import { drainBoundMs, drainRotations, type FlowTimings } from './bounds.ts';
import { Report, type Violation } from './report.ts';
import { fmt, type Incarnation, sameList, sameRing, sample, splitIncarnations } from './views.ts';

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
