/**
 * `evs bench sweep`: the throughput load of `evs bench` for every thread
 * setting, layout split/single × 0, 1, 2 crypto threads, one cluster each;
 * a table of messages/s per size to pick a worker layout from, and a chart.
 */
import type { AgreementCheck } from './agreement-check.ts';
import type { BenchConfig, Layout } from './bench-config.ts';
import { reportableOptions, resolvedNodeOptions } from './cluster-options.ts';
import { loadText, placementText, protocolText } from './describe.ts';
import type { ModeResult } from './mode-result.ts';
import type { ThroughputPoint } from './points.ts';
import type { BenchOutput } from './progress.ts';
import { withCluster } from './session.ts';
import { formatSize } from './sizes.ts';
import { evsbenchLine, measurePoint } from './throughput.ts';
import { tokenLines } from './token-report.ts';
import { sweepChart } from './charts.ts';

export const sweepSettings: readonly { readonly layout: Layout; readonly cryptoThreads: number }[] = (['split', 'single'] as const)
  .flatMap((layout) => [0, 1, 2].map((cryptoThreads) => ({ layout, cryptoThreads })));

function summaryTable(config: BenchConfig, points: readonly ThroughputPoint[]): string[] {
  const head = `${'layout'.padEnd(8)}${'crypto threads'.padStart(15)}${config.sizesBytes.map((s) => `${formatSize(s)} msgs/s`.padStart(18)).join('')}`;
  const rows = sweepSettings.map((s) => {
    const cells = config.sizesBytes.map((size) => {
      const p = points.find((q) => q.layout === s.layout && q.cryptoThreads === s.cryptoThreads && q.sizeBytes === size);
      return (p === undefined ? '-' : Math.round(p.msgsPerSec).toLocaleString('en')).padStart(18);
    });
    return `${s.layout.padEnd(8)}${String(s.cryptoThreads).padStart(15)}${cells.join('')}`;
  });
  return [head, ...rows];
}

export async function runSweep(config: BenchConfig, output: BenchOutput): Promise<ModeResult> {
  const first = resolvedNodeOptions(config, sweepSettings[0]!);
  output.line(`# evs bench sweep: ${placementText(config)}, ${protocolText(config, first)}`);
  output.line(`# ${loadText(config)}; layouts split/single × 0, 1, 2 crypto threads`);
  output.start(sweepSettings.length * config.sizesBytes.length * config.runs, 'starting the nodes');
  const points: ThroughputPoint[] = [];
  const checks: AgreementCheck[] = [];
  const resolved = [];
  for (const setting of sweepSettings) {
    resolved.push(reportableOptions(resolvedNodeOptions(config, setting)));
    output.line(`# layout ${setting.layout}, ${setting.cryptoThreads} crypto threads`);
    await withCluster(config, setting, async (cluster) => {
      for (const sizeBytes of config.sizesBytes) {
        const point = await measurePoint(cluster, config, sizeBytes, { mode: 'sweep', ...setting }, output, checks);
        points.push(point);
        output.line(evsbenchLine(point));
        if (point.token !== undefined) for (const line of tokenLines(point.token)) output.line(line);
      }
    });
  }
  output.line('');
  for (const line of summaryTable(config, points)) output.line(line);
  return { points, checks, resolved, charts: { sweep: sweepChart(config, first, points) } };
}
