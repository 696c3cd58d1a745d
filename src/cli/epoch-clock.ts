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
 *
 * The offset is fixed after the first reading, so a step of the wall clock
 * later (NTP, a virtual machine resumed: the CI machine's clock once jumped
 * 1,015 ms during a test run) moves no timestamp: within a process they never
 * jump. Across processes, a step between two start-ups would split their
 * clocks by the step; `epochEnv()` hands a process's offset to the children
 * it starts (`EVS_EPOCH_OFFSET_MS`), so a harness and its nodes share one
 * offset however long they run.
 */

const edgeSamples = 3;
/** the environment variable a child reads its parent's offset from. */
export const epochOffsetVariable = 'EVS_EPOCH_OFFSET_MS';

function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** wall clock − monotonic clock now, in ms: a fresh measurement (exported for tests). */
export function measureOffsetMs(): number {
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

function inheritedOffsetMs(): number | null {
  const text = process.env[epochOffsetVariable];
  if (text === undefined || text === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

let offsetMs: number | null = null;

function epochOffsetMs(): number {
  offsetMs ??= inheritedOffsetMs() ?? measureOffsetMs();
  return offsetMs;
}

/** ms since the epoch, sub-millisecond, comparable across processes on one machine. */
export function epochMs(): number {
  const offset = epochOffsetMs(); // first: the first call measures it, busy for up to `edgeSamples` ms
  return monotonicMs() + offset;
}

/** the environment entry that makes a child process's `epochMs` use this process's offset. */
export function epochEnv(): Record<string, string> {
  return { [epochOffsetVariable]: String(epochOffsetMs()) };
}
