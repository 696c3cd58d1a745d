/** `evs bench` (throughput): one cluster, every size in turn, one evsbench line per size. */
import type { BenchConfig } from './bench-config.ts';
import type { AgreementCheck } from './agreement-check.ts';
import { reportableOptions, resolvedNodeOptions } from './cluster-options.ts';
import { loadText, placementText, protocolText, threadsText } from './describe.ts';
import type { ModeResult } from './mode-result.ts';
import type { ThroughputPoint } from './points.ts';
import type { BenchOutput } from './progress.ts';
import { withCluster } from './session.ts';
import { evsbenchLine, measurePoint } from './throughput.ts';
import { tokenLines } from './token-report.ts';
import { throughputChart } from './charts.ts';

export async function runThroughput(config: BenchConfig, output: BenchOutput): Promise<ModeResult> {
  const threads = { layout: config.layout, cryptoThreads: config.cryptoThreads };
  const resolved = resolvedNodeOptions(config, threads);
  const setting = { mode: 'throughput' as const, layout: resolved.threads.layout, cryptoThreads: resolved.threads.cryptoThreads };
  output.line(`# evs bench throughput: ${placementText(config)}, ${threadsText(resolved)}, ${protocolText(config, resolved)}`);
  output.line(`# ${loadText(config)}`);
  output.start(config.sizesBytes.length * config.runs, 'starting the nodes');
  const points: ThroughputPoint[] = [];
  const checks: AgreementCheck[] = [];
  await withCluster(config, threads, async (cluster) => {
    for (const sizeBytes of config.sizesBytes) {
      const point = await measurePoint(cluster, config, sizeBytes, setting, output, checks);
      points.push(point);
      output.line(evsbenchLine(point));
      if (point.token !== undefined) for (const line of tokenLines(point.token)) output.line(line);
    }
  });
  return { points, checks, resolved: [reportableOptions(resolved)], charts: { throughput: throughputChart(config, resolved, points) } };
}
