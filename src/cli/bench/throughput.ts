/**
 * Throughput, as openais/corosync's evsbench measures it: senders send as
 * fast as back-pressure allows; TP/s = messages delivered at a receiving
 * node (node 2) inside a measured window / the window's seconds, after a
 * warm-up. The window is opened and closed in the receiving process itself,
 * so counts and times come from one clock with no IPC delay between them.
 * Senders keep sending a little past the window so it is under full load
 * from start to end.
 */
import type { ProcessCluster } from '../process-cluster.ts';
import type { SendReply, WindowReply } from '../process-protocol.ts';
import { checkAgreement, type AgreementCheck } from './agreement-check.ts';
import { receiverOf, sendersOf, type BenchConfig, type Layout } from './bench-config.ts';
import type { BenchOutput } from './progress.ts';
import type { ThroughputPoint } from './points.ts';
import { nodeIdsOf } from './session.ts';
import { formatSize } from './sizes.ts';
import { medianIndex } from './stats.ts';
import { summarize, tokenSnapshot, type TokenSummary } from './token-report.ts';

/** senders go on this long after the window closes. */
const tailMs = 250;
/** count mode: a window may take this long before it is given up. */
const countTimeoutMs = 600_000;

export interface RunMeasure {
  readonly writes: number;
  readonly seconds: number;
  /** the token's rotations meanwhile (measurePoint). */
  readonly token?: TokenSummary;
}

/** what the JSON and the chart call the configuration of a point. */
export interface PointSetting {
  readonly mode: 'throughput' | 'sweep';
  readonly layout: Layout;
  readonly cryptoThreads: number;
}

function sendAll(cluster: ProcessCluster, config: BenchConfig, durationMs: number, sizeBytes: number): Promise<SendReply[]> {
  const request = { cmd: 'sendFor', durationMs, sizeBytes, guarantee: config.guarantee } as const;
  return Promise.all(sendersOf(config).map((id) => cluster.request(id, request) as Promise<SendReply>));
}

async function measureForDuration(cluster: ProcessCluster, config: BenchConfig, sizeBytes: number, durationMs: number): Promise<RunMeasure> {
  const window = cluster.request(receiverOf(config), { cmd: 'measureWindow', delayMs: config.warmupMs, durationMs }) as Promise<WindowReply>;
  const [w] = await Promise.all([window, sendAll(cluster, config, config.warmupMs + durationMs + tailMs, sizeBytes)]);
  return { writes: w.delivered, seconds: w.seconds };
}

async function measureForCount(cluster: ProcessCluster, config: BenchConfig, sizeBytes: number, count: number): Promise<RunMeasure> {
  if (config.warmupMs > 0) {
    await sendAll(cluster, config, config.warmupMs, sizeBytes);
    await checkAgreement(cluster, nodeIdsOf(config)); // drained: the window sees only its own messages
  }
  const senders = sendersOf(config);
  const window = cluster.request(receiverOf(config), { cmd: 'measureCount', count: count * senders.length, timeoutMs: countTimeoutMs }) as Promise<WindowReply>;
  const request = { cmd: 'send', count, sizeBytes, guarantee: config.guarantee } as const;
  const [w] = await Promise.all([window, ...senders.map((id) => cluster.request(id, request))]);
  return { writes: (w as WindowReply).delivered, seconds: (w as WindowReply).seconds };
}

export function measureRun(cluster: ProcessCluster, config: BenchConfig, sizeBytes: number): Promise<RunMeasure> {
  return config.load.kind === 'duration'
    ? measureForDuration(cluster, config, sizeBytes, config.load.durationMs)
    : measureForCount(cluster, config, sizeBytes, config.load.count);
}

/** `runs` runs of one size, each followed by the agreement check (which also drains the queues). */
export async function measurePoint(
  cluster: ProcessCluster, config: BenchConfig, sizeBytes: number, setting: PointSetting, output: BenchOutput, checks: AgreementCheck[],
): Promise<ThroughputPoint> {
  const measures: RunMeasure[] = [];
  let configurationChanges = 0;
  for (let run = 0; run < config.runs; run++) {
    const before = await tokenSnapshot(cluster, nodeIdsOf(config));
    const measure = await measureRun(cluster, config, sizeBytes);
    measures.push({ ...measure, token: summarize(before, await tokenSnapshot(cluster, nodeIdsOf(config))) });
    const check = await checkAgreement(cluster, nodeIdsOf(config));
    checks.push(check);
    configurationChanges += check.configurationChanges;
    output.advance(`${formatSize(sizeBytes)} run ${run + 1}`);
  }
  if (configurationChanges > 0) {
    output.note(`! ${formatSize(sizeBytes)}: ${configurationChanges} configuration changes during this point (a token lost?): not a steady-state rate`);
  }
  const rates = measures.map((m) => m.writes / m.seconds);
  const mid = measures[medianIndex(rates)]!;
  return {
    ...setting, sizeBytes, senders: config.senders, guarantee: config.guarantee, crypto: config.crypto,
    writes: mid.writes, seconds: mid.seconds, msgsPerSec: mid.writes / mid.seconds,
    mbPerSec: (mid.writes * sizeBytes) / mid.seconds / 1e6, runs: rates, configurationChanges,
    ...(mid.token !== undefined ? { token: mid.token } : {}),
  };
}

/** evsbench's line: "%5d Writes %5d bytes per write %7.3f Seconds runtime %9.3f TP/s %7.3f MB/s." */
export function evsbenchLine(p: Pick<ThroughputPoint, 'writes' | 'sizeBytes' | 'seconds' | 'msgsPerSec' | 'mbPerSec'>): string {
  return `${String(p.writes).padStart(5)} Writes ${String(p.sizeBytes).padStart(5)} bytes per write ${p.seconds.toFixed(3).padStart(7)} Seconds runtime ` +
    `${p.msgsPerSec.toFixed(3).padStart(9)} TP/s ${p.mbPerSec.toFixed(3).padStart(7)} MB/s.`;
}
