/**
 * The process-pause guard (TOTEM.md §3.8, corosync `pause_flush`, commit
 * e448603f): a driver records a timestamp every `tokenMs / 5`; when more than
 * `tokenMs / 2` passed between two, the process was not scheduled. Then the
 * JOINs it received before and during the pause are stale (dropped by the
 * driver, they would start pointless membership rounds) and the core is told
 * (`Processor.paused`) so that the timers that ran out while it slept do not
 * declare the others failed.
 *
 * Sans-IO: the caller passes the clock's reading; the simulator and the
 * runtime driver use the same thresholds.
 */
import { MessageType, type Message } from '../wire/messages.ts';

/** a driver records a timestamp this often: the tick. */
export function pauseTickMs(tokenMs: number): number {
  return tokenMs / 5;
}

/** a gap between two ticks longer than this is a pause. */
export function pauseDetectMs(tokenMs: number): number {
  return tokenMs / 2;
}

/** what a driver drops from the backlog it finds after a pause: the JOINs (re-sent every joinMs, so nothing is lost). */
export function isStaleAfterPause(message: Message): boolean {
  return message.type === MessageType.Join;
}

export class PauseDetector {
  readonly tickMs: number;
  readonly detectMs: number;
  private last: number;

  constructor(tokenMs: number, now: number) {
    this.tickMs = pauseTickMs(tokenMs);
    this.detectMs = pauseDetectMs(tokenMs);
    this.last = now;
  }

  /** record a timestamp; returns the length of the pause that ended now, or 0 when there was none. */
  tick(now: number): number {
    const gap = now - this.last;
    this.last = Math.max(this.last, now);
    return gap > this.detectMs ? gap : 0;
  }

  /** when the next timestamp is due. */
  nextTickAt(): number {
    return this.last + this.tickMs;
  }
}
