/**
 * Main-thread event-loop delay of a node process (perf_hooks
 * monitorEventLoopDelay), optionally while the application hogs the main
 * thread in CPU bursts, as a busy application would.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopDelay {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  readonly seconds: number;
}

/** sampling period of the delay monitor: finer than the 10 ms default, since the delays we look for are a few ms. */
const resolutionMs = 1;

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* a synchronous CPU burst, as application code would do */ }
}

export async function measureEventLoop(durationMs: number, burstMs: number, periodMs: number): Promise<EventLoopDelay> {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  const bursts = burstMs > 0 ? setInterval(() => busy(burstMs), periodMs) : null;
  const t0 = performance.now();
  histogram.enable();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  histogram.disable();
  if (bursts !== null) clearInterval(bursts);
  const ms = (ns: number): number => ns / 1e6;
  return {
    p50Ms: ms(histogram.percentile(50)),
    p99Ms: ms(histogram.percentile(99)),
    maxMs: ms(histogram.max),
    meanMs: ms(histogram.mean),
    seconds: (performance.now() - t0) / 1000,
  };
}
