/** renderChart (src/cli/bench/chart.ts): a well-formed SVG with log ticks, every series, escaped labels. */
import { describe, expect, it } from 'vitest';
import { renderChart } from '../../src/cli/bench/chart.ts';
import { throughputSeries } from '../../src/cli/bench/charts.ts';
import type { ThroughputPoint } from '../../src/cli/bench/points.ts';
import { parseXml, type XmlElement } from './bench-xml.ts';

function all(e: XmlElement): XmlElement[] {
  return [e, ...e.children.flatMap(all)];
}

describe('renderChart', () => {
  it('draws log-scale sizes up to 1 MB, one line per series, a legend entry each', () => {
    const sizes = [100, 1000, 10_000, 100_000, 1_000_000];
    const svg = renderChart([
      { label: 'evs <split>', points: sizes.map((x, i) => ({ x, y: 50_000 / (i + 1) })) },
      { label: 'corosync & knet', points: sizes.map((x, i) => ({ x, y: 40_000 / (i + 1) })), color: '#D55E00', dashed: true },
    ], { title: 'a "title"', subtitle: ['one', 'two'], xLabel: 'message size (bytes)', yLabel: 'msgs/s' });
    const elements = all(parseXml(svg));
    const texts = (cls: string): string[] => elements.filter((e) => e.attributes.class === cls).map((e) => e.text);
    expect(texts('x-tick')).toEqual(['100', '1k', '10k', '100k', '1M']);
    expect(texts('y-tick')[0]).toBe('0');
    expect(texts('title')).toEqual(['a "title"']);
    expect(texts('subtitle')).toEqual(['one', 'two']);
    const series = elements.filter((e) => e.attributes.class === 'series');
    expect(series.map((s) => s.attributes['data-label'])).toEqual(['evs <split>', 'corosync & knet']);
    expect(series[1]!.children.find((e) => e.name === 'polyline')!.attributes['stroke-dasharray']).toBe('6 4');
    const legend = elements.find((e) => e.attributes.class === 'legend')!;
    expect(legend.children.filter((e) => e.name === 'text').map((e) => e.text)).toEqual(['evs <split>', 'corosync & knet']);
  });

  it('groups throughput points into one series per configuration', () => {
    const point = (layout: 'split' | 'single', sizeBytes: number): ThroughputPoint => ({
      mode: 'sweep', sizeBytes, senders: 'one', guarantee: 'agreed', layout, cryptoThreads: 0, crypto: true, writes: 10, seconds: 1,
      msgsPerSec: 10, mbPerSec: sizeBytes * 1e-5, runs: [10], configurationChanges: 0,
    });
    const series = throughputSeries([point('split', 100), point('split', 1300), point('single', 100)], 'mb');
    expect(series.map((s) => s.points.length)).toEqual([2, 1]);
    expect(series[0]!.points[1]).toEqual({ x: 1300, y: 1300 * 1e-5 });
  });
});
