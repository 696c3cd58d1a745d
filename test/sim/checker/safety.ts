/**
 * `checkSafety`: invariants 1–15 over a complete log.
 */
import type { LogRecord } from '../log.ts';
import { checkConfigurations } from './configurations.ts';
import { checkFifo, checkSafeDelivery, checkSelfDelivery } from './guarantees.ts';
import { checkIntegrity, checkNoDepartedAfterHole, checkViews, sendsById } from './messages.ts';
import { checkTotalOrder, checkVirtualSynchrony } from './order.ts';
import { Report, type Violation } from './report.ts';
import { splitIncarnations } from './views.ts';

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
