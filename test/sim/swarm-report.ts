/**
 * One swarm run as the lines `npm run sim` prints for it, built where the run
 * ran (the CLI's own thread or one of its `--jobs` workers) so that only plain
 * data crosses threads and the output is the same for any number of jobs.
 */
import { invariantNames } from './checkers.ts';
import { formatRecord } from './log.ts';
import { describeOptions } from './swarm-draw.ts';
import type { SwarmOverrides } from './swarm-options.ts';
import { runSwarm, type SwarmResult } from './swarm.ts';

/** how the CLI was asked, for the replay line of a failed run. */
export interface ReplayFlags {
  readonly profile?: string;
  readonly ordering: string;
  readonly mix: string;
  readonly nodes?: string;
  readonly safety?: string;
}

export interface RunRequest {
  readonly seed: number;
  readonly overrides: SwarmOverrides;
  readonly replay: ReplayFlags;
  readonly traceLines: number;
  readonly quiet: boolean;
}

export interface RunReport {
  readonly seed: number;
  readonly lines: readonly string[];
  readonly delivered: number;
  readonly violations: number;
  readonly failedToReceive: boolean;
  readonly wallMs: number;
}

/** Trace of a failed run: the involved nodes' last records and core log lines, merged by time. */
function trace(result: SwarmResult, lines: number): string[] {
  const out: string[] = [];
  const nodes = [...new Set(result.violations.map((v) => v.node))].filter((n) => result.cluster.ids.includes(n)).slice(0, 4);
  for (const node of nodes) {
    out.push(`--- n${node}: last ${lines} lines (records and core log) ---`);
    const records = result.cluster.log.nodeRecords(node).map((r) => ({ at: r.at, order: 0, text: formatRecord(r) }));
    const core = result.cluster.coreLines(node).map((l) => ({ at: l.at, order: 1, text: `${l.at.toFixed(3).padStart(10)} n${node}#${l.incarnation} | ${l.line}` }));
    const merged = [...records, ...core].sort((a, b) => a.at - b.at || a.order - b.order);
    for (const m of merged.slice(-lines)) out.push(m.text);
  }
  out.push('--- cluster at the end ---', ...result.cluster.describe());
  return out;
}

function replayLine(seed: number, f: ReplayFlags): string {
  return `  replay: npm run sim -- --seed ${seed}${f.profile !== undefined ? ` --profile ${f.profile}` : ''} --ordering ${f.ordering}` +
    `${f.mix !== 'wide' ? ` --mix ${f.mix}` : ''}${f.nodes !== undefined ? ` --nodes ${f.nodes}` : ''}${f.safety !== undefined ? ` --safety ${f.safety}` : ''}`;
}

export function runReported(request: RunRequest): RunReport {
  const { seed } = request;
  const started = performance.now();
  const result = runSwarm(seed, request.overrides);
  const wallMs = performance.now() - started;
  const failed = result.violations.length > 0;
  const lines: string[] = [];
  const converged = result.convergedAfterMs === null ? 'no' : `${Math.round(result.convergedAfterMs)}ms/${result.boundMs}ms`;
  const status = failed ? `FAIL ${result.violations.length} violation(s)` : 'ok';
  if (!request.quiet || failed) {
    lines.push(`seed=${seed} ${describeOptions(result.options)} | ${status} sent=${result.sent} delivered=${result.delivered}` +
      ` converged=${converged}${result.judgedMs > 0 ? ` held=${result.heldMs}/${result.judgedMs}ms` : ''}` +
      `${result.failedToReceive > 0 ? ` failedToReceive=${result.failedToReceive}` : ''} live=[${result.live.join(',')}] virtual=${Math.round(result.virtualMs)}ms steps=${result.steps} wall=${Math.round(wallMs)}ms`);
  }
  if (failed) {
    lines.push(replayLine(seed, request.replay));
    for (const v of result.violations) lines.push(`  invariant ${v.invariant} (${invariantNames[v.invariant] ?? '?'}) n${v.node}: ${v.detail}`);
    if (request.traceLines > 0) for (const line of trace(result, request.traceLines)) lines.push(`  ${line}`);
  }
  return { seed, lines, delivered: result.delivered, violations: result.violations.length, failedToReceive: result.failedToReceive > 0, wallMs };
}
