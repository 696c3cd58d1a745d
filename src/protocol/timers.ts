/**
 * Timers are data (quinn's TimerTable): every Totem timer has a name and a
 * deadline in a fixed table. The driver arms one real timer for
 * `nextDeadline()` and calls `Processor.handleTimeout(now)` when it fires.
 */

export const Timer = {
  /** no valid token for `tokenMs`: the ring is lost (also the COMMIT/RECOVERY timeout). */
  TokenLoss: 0,
  /** re-send the last token (ORF or commit) we forwarded if no newer one came. */
  TokenRetransmit: 1,
  /** the representative re-sends the token it holds on an idle ring. */
  TokenHold: 2,
  /** GATHER: re-send JOIN. */
  Join: 3,
  /** GATHER: processors silent this long are declared failed. */
  Consensus: 4,
  /** OPERATIONAL, idle, representative: multicast MERGE_DETECT. */
  MergeDetect: 5,
} as const;
export type Timer = (typeof Timer)[keyof typeof Timer];

export const timerNames: readonly string[] = ['token-loss', 'token-retransmit', 'token-hold', 'join', 'consensus', 'merge-detect'];
const timerCount = 6;

export class TimerTable {
  private readonly deadlines = new Float64Array(timerCount).fill(Infinity);

  arm(timer: Timer, deadline: number): void {
    this.deadlines[timer] = deadline;
  }

  /** arm only when not already armed (corosync's merge-detect "outstanding" flag). */
  armIfIdle(timer: Timer, deadline: number): void {
    if (this.deadlines[timer] === Infinity) this.deadlines[timer] = deadline;
  }

  cancel(timer: Timer): void {
    this.deadlines[timer] = Infinity;
  }

  cancelAll(): void {
    this.deadlines.fill(Infinity);
  }

  isArmed(timer: Timer): boolean {
    return this.deadlines[timer] !== Infinity;
  }

  nextDeadline(): number {
    let next = Infinity;
    for (let i = 0; i < timerCount; i++) next = Math.min(next, this.deadlines[i] ?? Infinity);
    return next;
  }

  /** Disarms and returns the first expired timer in table order, or -1. */
  takeExpired(now: number): Timer | -1 {
    for (let i = 0; i < timerCount; i++) {
      if ((this.deadlines[i] ?? Infinity) <= now) {
        this.deadlines[i] = Infinity;
        return i as Timer;
      }
    }
    return -1;
  }
}
