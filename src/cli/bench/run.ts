/**
 * Runs one `evs bench` mode: the table on stdout as it is measured, then the
 * JSON and SVG files, then the verdict of the agreement checks. Answers the
 * exit code: 0, or 1 when the run failed or any check found a violation.
 */
import type { BenchConfig, BenchMode } from './bench-config.ts';
import type { ModeResult } from './mode-result.ts';
import { BenchOutput } from './progress.ts';
import { writeResults } from './results-file.ts';
import { interruption } from './session.ts';
import { runThroughput } from './throughput-mode.ts';
import { runLatency } from './latency-mode.ts';
import { runFailover } from './failover-mode.ts';
import { runEventLoop } from './eventloop-mode.ts';
import { runSweep } from './sweep-mode.ts';

type ModeRunner = (config: BenchConfig, output: BenchOutput) => Promise<ModeResult>;

const runners: Readonly<Record<BenchMode, ModeRunner>> = {
  throughput: runThroughput,
  latency: runLatency,
  failover: runFailover,
  eventloop: runEventLoop,
  sweep: runSweep,
};

function verdict(result: ModeResult, output: BenchOutput): boolean {
  const violations = result.checks.flatMap((c) => c.violations);
  for (const d of result.checks.flatMap((c) => c.disturbances)) output.note(`! ${d}`);
  const disturbed = result.checks.some((c) => c.disturbances.length > 0);
  if (violations.length === 0 && disturbed) {
    output.line(`# agreement: ${result.checks.length} checks, no damaged payload; the ring re-formed during the run, so order and counts could not all be compared (see stderr)`);
    return true;
  }
  if (violations.length === 0) {
    const delivered = Math.max(0, ...result.checks.map((c) => c.delivered));
    output.line(`# agreement: ${result.checks.length} checks, every checked node delivered the same sequence (${delivered} messages), FIFO, intact`);
    return true;
  }
  output.note('');
  output.note('!!! ORDERING VIOLATION: the nodes did not deliver the same messages in the same order !!!');
  for (const v of violations) output.note(`!!! ${v}`);
  output.note('');
  return false;
}

export async function runBench(config: BenchConfig): Promise<number> {
  const output = new BenchOutput(config.progress);
  const startedAt = new Date();
  let result: ModeResult;
  try {
    result = await runners[config.mode](config, output);
  } catch (error) {
    output.stop();
    if (interruption() !== null) return new Promise(() => undefined); // the signal handler exits once the nodes are stopped
    process.stderr.write(`evs bench: ${config.mode} failed: ${(error as Error).message}\n`);
    return 1;
  }
  output.stop();
  const finishedAt = new Date();
  const agreed = verdict(result, output);
  for (const path of writeResults(config, result, { startedAt, finishedAt })) output.line(`# wrote ${path}`);
  output.line(`# ${config.mode} took ${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(1)} s`);
  return agreed ? 0 : 1;
}
