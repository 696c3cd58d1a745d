/**
 * After a measurement: let every node deliver everything that was sent,
 * then check that all of them delivered the same sequence (equal order
 * digests), each sender's messages in FIFO order, intact. A benchmark that
 * loses or reorders messages measures nothing, so this runs after every
 * point and a violation is reported loudly.
 */
import type { ProcessCluster } from '../process-cluster.ts';
import type { Report } from '../process-protocol.ts';

export interface AgreementCheck {
  readonly ok: boolean;
  /** messages every node delivered so far (the same at every node when ok). */
  readonly delivered: number;
  readonly violations: readonly string[];
}

/** how long the nodes may take to deliver their backlog once the senders stopped. */
const drainTimeoutMs = 120_000;

async function reports(cluster: ProcessCluster, nodeIds: readonly number[]): Promise<Report[]> {
  return Promise.all(nodeIds.map((id) => cluster.report(id)));
}

function violationsOf(nodeIds: readonly number[], final: readonly Report[], expected: number): string[] {
  const violations: string[] = [];
  final.forEach((r, i) => {
    const id = nodeIds[i]!;
    if (r.delivered !== expected) violations.push(`node ${id} delivered ${r.delivered} messages, ${expected} were sent`);
    if (r.fifoViolations > 0) violations.push(`node ${id} delivered ${r.fifoViolations} messages out of their sender's order`);
    if (r.corrupt > 0) violations.push(`node ${id} delivered ${r.corrupt} damaged payloads`);
    if (r.digest !== final[0]!.digest) violations.push(`node ${id}'s delivery order differs from node ${nodeIds[0]}'s (digest ${r.digest.toString(16)} ≠ ${final[0]!.digest.toString(16)})`);
  });
  return violations;
}

/** every node in `nodeIds` delivers all probes any of them sent, in one order. */
export async function checkAgreement(cluster: ProcessCluster, nodeIds: readonly number[]): Promise<AgreementCheck> {
  const before = await reports(cluster, nodeIds);
  const expected = before.reduce((sum, r) => sum + r.sent, 0);
  const waits = await Promise.allSettled(nodeIds.map((id) => cluster.request(id, { cmd: 'waitDelivered', total: expected, timeoutMs: drainTimeoutMs })));
  const final = await reports(cluster, nodeIds);
  const violations = violationsOf(nodeIds, final, expected);
  waits.forEach((w, i) => {
    if (w.status === 'rejected') violations.unshift(`node ${nodeIds[i]}: ${(w.reason as Error).message}`);
  });
  return { ok: violations.length === 0, delivered: final[0]!.delivered, violations };
}

/**
 * Survivors of a failure, where not every sent message can be accounted for
 * (a killed node's own sends die with it): wait until their delivery counts
 * are equal and still, then compare digests.
 */
export async function checkSameSequence(cluster: ProcessCluster, nodeIds: readonly number[], timeoutMs = 30_000): Promise<AgreementCheck> {
  const deadline = performance.now() + timeoutMs;
  let previous = '';
  for (;;) {
    const now = await reports(cluster, nodeIds);
    const counts = now.map((r) => r.delivered).join(',');
    const settled = counts === previous && now.every((r) => r.delivered === now[0]!.delivered);
    if (settled || performance.now() > deadline) {
      const violations = violationsOf(nodeIds, now, now[0]!.delivered);
      return { ok: violations.length === 0, delivered: now[0]!.delivered, violations };
    }
    previous = counts;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
