/**
 * `evs bench eventloop`: how the library treats the application's main
 * thread. Under full load, the main-thread event-loop delay (perf_hooks
 * monitorEventLoopDelay) of the sending and the receiving node process;
 * then the same with the main thread busy in CPU bursts (--burst-ms every
 * --burst-period-ms), as a busy application would be: the protocol runs in
 * workers, so the ring should hold (no configuration change) and deliveries
 * keep flowing, only later.
 */
import type { ProcessCluster } from '../process-cluster.ts';
import type { EventLoopReply, SendReply } from '../process-protocol.ts';
import { checkAgreement, type AgreementCheck } from './agreement-check.ts';
import { receiverOf, sendersOf, type BenchConfig } from './bench-config.ts';
import { reportableOptions, resolvedNodeOptions } from './cluster-options.ts';
import { loadText, placementText, protocolText, threadsText } from './describe.ts';
import type { ModeResult } from './mode-result.ts';
import type { EventLoopPoint } from './points.ts';
import type { BenchOutput } from './progress.ts';
import { nodeIdsOf, withCluster } from './session.ts';
import { median } from './stats.ts';

interface Phase {
  readonly load: 'full' | 'bursts';
  readonly burstMs: number;
}

/** the senders go on this long after the measurement ends. */
const tailMs = 250;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function measurePhase(cluster: ProcessCluster, config: BenchConfig, phase: Phase, measured: readonly number[], durationMs: number): Promise<EventLoopReply[]> {
  const send = { cmd: 'sendFor', durationMs: config.warmupMs + durationMs + tailMs, sizeBytes: config.sizesBytes[0]!, guarantee: config.guarantee } as const;
  const load = Promise.all(sendersOf(config).map((id) => cluster.request(id, send) as Promise<SendReply>));
  await sleep(config.warmupMs);
  const probe = { cmd: 'eventLoop', durationMs, burstMs: phase.burstMs, periodMs: config.burstPeriodMs } as const;
  const replies = await Promise.all(measured.map((id) => cluster.request(id, probe) as Promise<EventLoopReply>));
  await load;
  return replies;
}

function pointOf(config: BenchConfig, phase: Phase, nodeId: number, runs: readonly EventLoopReply[]): EventLoopPoint {
  const pick = (f: (r: EventLoopReply) => number): number => median(runs.map(f));
  return {
    mode: 'eventloop', load: phase.load, burstMs: phase.burstMs, burstPeriodMs: phase.burstMs > 0 ? config.burstPeriodMs : 0, nodeId,
    role: sendersOf(config).includes(nodeId) ? 'sender' : 'receiver', sizeBytes: config.sizesBytes[0]!,
    p50Ms: pick((r) => r.p50Ms), p99Ms: pick((r) => r.p99Ms), maxMs: pick((r) => r.maxMs), meanMs: pick((r) => r.meanMs),
    delivered: pick((r) => r.delivered), msgsPerSec: pick((r) => r.delivered / r.seconds), confchgs: Math.max(...runs.map((r) => r.confchgs)),
  };
}

export function eventLoopLine(p: EventLoopPoint): string {
  const phase = p.load === 'full' ? 'full load' : `bursts ${p.burstMs}/${p.burstPeriodMs} ms`;
  const ring = p.confchgs === 0 ? 'ring held (0 configuration changes)' : `!!! ${p.confchgs} configuration changes`;
  return `${phase.padEnd(17)} node ${p.nodeId} (${p.role.padEnd(8)})  loop delay p50 ${p.p50Ms.toFixed(2)} ms  p99 ${p.p99Ms.toFixed(2)} ms  ` +
    `max ${p.maxMs.toFixed(1)} ms;  ${Math.round(p.msgsPerSec).toLocaleString('en')} msgs/s delivered;  ${ring}`;
}

export async function runEventLoop(config: BenchConfig, output: BenchOutput): Promise<ModeResult> {
  const threads = { layout: config.layout, cryptoThreads: config.cryptoThreads };
  const resolved = resolvedNodeOptions(config, threads);
  const durationMs = config.load.kind === 'duration' ? config.load.durationMs : 4000;
  const measured = [...new Set([1, receiverOf(config)])];
  const phases: Phase[] = [{ load: 'full', burstMs: 0 }, { load: 'bursts', burstMs: config.burstMs }];
  output.line(`# evs bench eventloop: ${placementText(config)}, ${threadsText(resolved)}, ${protocolText(config, resolved)}`);
  output.line(`# ${loadText(config)}; main-thread event-loop delay of node ${measured.join(' and ')}; phases: full load, then bursts`);
  output.start(phases.length * config.runs, 'starting the nodes');
  const points: EventLoopPoint[] = [];
  const checks: AgreementCheck[] = [];
  await withCluster(config, threads, async (cluster) => {
    for (const phase of phases) {
      const runs: EventLoopReply[][] = [];
      for (let run = 0; run < config.runs; run++) {
        runs.push(await measurePhase(cluster, config, phase, measured, durationMs));
        checks.push(await checkAgreement(cluster, nodeIdsOf(config)));
        output.advance(`${phase.load} run ${run + 1}`);
      }
      for (const [i, nodeId] of measured.entries()) {
        const point = pointOf(config, phase, nodeId, runs.map((r) => r[i]!));
        points.push(point);
        output.line(eventLoopLine(point));
      }
    }
  });
  return { points, checks, resolved: [reportableOptions(resolved)], charts: {} };
}
