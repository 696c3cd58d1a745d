/**
 * A sub-millisecond wall clock that agrees across the processes of one
 * machine, for timestamps that several processes' logs are merged by
 * (`evs node --json`'s `atMs`, `evs cluster`, the chaos harness).
 *
 * `performance.timeOrigin + performance.now()` does not: Node samples the
 * wall clock and the monotonic clock for `timeOrigin` at different moments
 * of its start-up, so each process's sum is off by however long it was
 * descheduled in between. Measured on a loaded two-core machine: 20 ms of
 * spread between processes started a second apart, and in the chaos harness
 * deliveries stamped up to 2 ms before the harness stamped their send.
 *
 * Here every reading is CLOCK_MONOTONIC (`process.hrtime`, one clock for the
 * whole machine) plus one offset to the epoch, measured once at the edge of
 * a `Date.now()` tick: right after the tick, the wall clock is at most the
 * loop's few microseconds past the new value, so `tick − monotonic` is a
 * lower bound that is tight unless the process was descheduled between the
 * two reads; the largest of a few such measurements is kept. Costs up to
 * `edgeSamples` ms of busy waiting at the first call.
 */

const edgeSamples = 3;

function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** wall clock − monotonic clock, in ms. */
function measureOffsetMs(): number {
  let best = -Infinity;
  for (let i = 0; i < edgeSamples; i++) {
    const start = Date.now();
    let now = start;
    let mono = monotonicMs();
    while (now === start) {
      now = Date.now();
      mono = monotonicMs();
    }
    best = Math.max(best, now - mono);
  }
  return best;
}

let offsetMs: number | null = null;

/** ms since the epoch, sub-millisecond, comparable across processes on one machine. */
export function epochMs(): number {
  offsetMs ??= measureOffsetMs();
  return monotonicMs() + offsetMs;
}
