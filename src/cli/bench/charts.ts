/** The throughput and sweep charts: msgs/s (or MB/s) against message size, one line per thread setting. */
import type { ResolvedOptions } from '../../options.ts';
import type { BenchConfig } from './bench-config.ts';
import { renderChart, type ChartSeries } from './chart.ts';
import { loadText, placementText, protocolText } from './describe.ts';
import type { ThroughputPoint } from './points.ts';

export function seriesLabel(p: Pick<ThroughputPoint, 'layout' | 'cryptoThreads' | 'senders' | 'guarantee'>): string {
  return `${p.layout}, ${p.cryptoThreads} crypto threads, ${p.senders === 'one' ? 'one sender' : 'all send'}, ${p.guarantee}`;
}

/** points grouped into series by their configuration, in first-seen order. */
export function throughputSeries(points: readonly ThroughputPoint[], metric: 'msgs' | 'mb'): ChartSeries[] {
  const byLabel = new Map<string, { x: number; y: number }[]>();
  for (const p of points) {
    const label = seriesLabel(p);
    if (!byLabel.has(label)) byLabel.set(label, []);
    byLabel.get(label)!.push({ x: p.sizeBytes, y: metric === 'msgs' ? p.msgsPerSec : p.mbPerSec });
  }
  return [...byLabel].map(([label, pts]) => ({ label, points: pts }));
}

function chartOf(title: string, config: BenchConfig, resolved: ResolvedOptions, points: readonly ThroughputPoint[]): string {
  const metric = config.chartMetric;
  return renderChart(throughputSeries(points, metric), {
    title,
    subtitle: [`${placementText(config)}, ${protocolText(config, resolved)}`, loadText(config)],
    xLabel: 'message size (bytes, log scale)',
    yLabel: metric === 'msgs' ? 'messages/s delivered at the receiver' : 'MB/s delivered at the receiver (1 MB = 10⁶ B)',
    xScale: 'log',
  });
}

export function throughputChart(config: BenchConfig, resolved: ResolvedOptions, points: readonly ThroughputPoint[]): string {
  return chartOf('evs bench: throughput against message size', config, resolved, points);
}

export function sweepChart(config: BenchConfig, resolved: ResolvedOptions, points: readonly ThroughputPoint[]): string {
  return chartOf('evs bench sweep: thread layouts and crypto threads', config, resolved, points);
}
