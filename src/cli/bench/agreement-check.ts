/**
 * After a measurement: let every node deliver everything that was sent,
 * then check that all of them delivered the same sequence (equal order
 * digests), each sender's messages in FIFO order, intact. A benchmark that
 * loses or reorders messages measures nothing, so this runs after every
 * point and a violation is reported loudly.
 *
 * Extended virtual synchrony promises the same sequence only to nodes that
 * stay in one configuration. If the ring re-formed during the run (a token
 * lost on an overloaded machine), a node that was briefly outside it never
 * receives what was sent meanwhile, and from then on its count, FIFO gaps
 * and digest legitimately differ: that is reported as a disturbance (the
 * point is not steady state), not as an ordering violation. Damaged
 * payloads are a violation in every case.
 */
import type { ProcessCluster } from '../process-cluster.ts';
import type { Report } from '../process-protocol.ts';

export interface AgreementCheck {
  /** no violation. */
  readonly ok: boolean;
  /** messages the first checked node delivered so far (the same at every node when undisturbed). */
  readonly delivered: number;
  readonly violations: readonly string[];
  /** configuration changes (at any node) since the previous check of this cluster. */
  readonly configurationChanges: number;
  /** what could not be compared because the ring re-formed. */
  readonly disturbances: readonly string[];
}

interface ClusterMarks {
  /** confchg records up to the formed ring: later ones are disturbances. */
  readonly formedAt: number;
  /** this long without progress means a node will not catch up: more than a token loss and a new ring take. */
  readonly stallMs: number;
  checkedAt: number;
  /** the reports of the previous check, for per-point deltas. */
  previous: Map<number, Report>;
}

const marks = new WeakMap<ProcessCluster, ClusterMarks>();

/** call once the cluster's ring is formed: configuration changes after this are disturbances. */
export function markFormed(cluster: ProcessCluster, tokenMs: number, consensusMs: number): void {
  const stallMs = tokenMs + consensusMs + 2000;
  marks.set(cluster, { formedAt: cluster.confchgs.length, stallMs, checkedAt: cluster.confchgs.length, previous: new Map() });
}

function marksOf(cluster: ProcessCluster): ClusterMarks {
  const m = marks.get(cluster);
  if (m === undefined) throw new Error('checkAgreement before markFormed');
  return m;
}

async function reports(cluster: ProcessCluster, nodeIds: readonly number[]): Promise<Report[]> {
  return Promise.all(nodeIds.map((id) => cluster.report(id)));
}

const pollMs = 100;

/**
 * Reports once every node delivered `expected`, or once no node made
 * progress for `stallMs` (a node outside the ring never will).
 */
async function drained(cluster: ProcessCluster, nodeIds: readonly number[], expected: number, stallMs: number): Promise<Report[]> {
  let counts = '';
  let progressAtMs = performance.now();
  for (;;) {
    const now = await reports(cluster, nodeIds);
    if (now.every((r) => r.delivered >= expected)) return now;
    const next = now.map((r) => r.delivered).join(',');
    if (next !== counts) {
      counts = next;
      progressAtMs = performance.now();
    } else if (performance.now() - progressAtMs > stallMs) {
      return now;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

interface Findings {
  readonly strict: string[];
  readonly always: string[];
}

function findingsOf(nodeIds: readonly number[], final: readonly Report[], previous: Map<number, Report>, expected: number): Findings {
  const strict: string[] = [];
  const always: string[] = [];
  final.forEach((r, i) => {
    const id = nodeIds[i]!;
    const before = previous.get(id);
    const fifo = r.fifoViolations - (before?.fifoViolations ?? 0);
    const corrupt = r.corrupt - (before?.corrupt ?? 0);
    if (r.delivered !== expected) strict.push(`node ${id} delivered ${r.delivered} messages, ${expected} were sent`);
    if (fifo > 0) strict.push(`node ${id} delivered ${fifo} messages out of their sender's order`);
    if (r.digest !== final[0]!.digest) strict.push(`node ${id}'s delivery order differs from node ${nodeIds[0]}'s (digest ${r.digest.toString(16)} ≠ ${final[0]!.digest.toString(16)})`);
    if (corrupt > 0) always.push(`node ${id} delivered ${corrupt} damaged payloads`);
  });
  return { strict, always };
}

/** every node in `nodeIds` delivers all probes any of them sent, in one order. */
export async function checkAgreement(cluster: ProcessCluster, nodeIds: readonly number[]): Promise<AgreementCheck> {
  const m = marksOf(cluster);
  const before = await reports(cluster, nodeIds);
  const expected = before.reduce((sum, r) => sum + r.sent, 0);
  const final = await drained(cluster, nodeIds, expected, m.stallMs);
  const changes = cluster.confchgs.slice(m.checkedAt);
  const sinceFormed = cluster.confchgs.length - m.formedAt;
  const { strict, always } = findingsOf(nodeIds, final, m.previous, expected);
  m.checkedAt = cluster.confchgs.length;
  m.previous = new Map(final.map((r, i) => [nodeIds[i]!, r]));
  const disturbed = sinceFormed > 0;
  const disturbances = disturbed && strict.length > 0
    ? [`the ring re-formed (${sinceFormed} configuration changes since it first formed, ${changes.length} during this point): ` +
      `nodes outside it for a moment miss what was sent meanwhile, so these differ legitimately: ${strict.join('; ')}`]
    : [];
  const violations = disturbed ? always : [...strict, ...always];
  return { ok: violations.length === 0, delivered: final[0]!.delivered, violations, configurationChanges: changes.length, disturbances };
}

/**
 * Survivors of a failure, where not every sent message can be accounted for
 * (a killed node's own sends die with it): wait until their delivery counts
 * are equal and still, then compare digests (they stayed together, so they
 * must agree).
 */
export async function checkSameSequence(cluster: ProcessCluster, nodeIds: readonly number[], timeoutMs = 30_000): Promise<AgreementCheck> {
  const deadline = performance.now() + timeoutMs;
  let previous = '';
  for (;;) {
    const now = await reports(cluster, nodeIds);
    const counts = now.map((r) => r.delivered).join(',');
    const settled = counts === previous && now.every((r) => r.delivered === now[0]!.delivered);
    if (settled || performance.now() > deadline) {
      const { strict, always } = findingsOf(nodeIds, now, new Map(), now[0]!.delivered);
      const violations = [...strict, ...always];
      return { ok: violations.length === 0, delivered: now[0]!.delivered, violations, configurationChanges: 0, disturbances: [] };
    }
    previous = counts;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
