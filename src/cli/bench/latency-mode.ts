/**
 * `evs bench latency`: node 1 sends one message at a time and waits for its
 * own delivery (self delivery, agreed or safe order) while the other nodes
 * are idle; p50/p90/p99/p99.9 of send → self delivery over --samples
 * messages per size, after --warmup seconds of the same traffic.
 */
import { checkAgreement, type AgreementCheck } from './agreement-check.ts';
import type { BenchConfig } from './bench-config.ts';
import { reportableOptions, resolvedNodeOptions } from './cluster-options.ts';
import { placementText, protocolText, threadsText } from './describe.ts';
import type { ModeResult } from './mode-result.ts';
import type { LatencyPoint } from './points.ts';
import type { BenchOutput } from './progress.ts';
import { nodeIdsOf, withCluster } from './session.ts';
import { formatSize } from './sizes.ts';
import { mean, median, percentile } from './stats.ts';

type Percentiles = Pick<LatencyPoint, 'p50Us' | 'p90Us' | 'p99Us' | 'p999Us' | 'maxUs' | 'meanUs'>;

function percentilesUs(latenciesMs: readonly number[]): Percentiles {
  const us = latenciesMs.map((ms) => ms * 1000);
  return {
    p50Us: percentile(us, 50), p90Us: percentile(us, 90), p99Us: percentile(us, 99), p999Us: percentile(us, 99.9),
    maxUs: Math.max(...us), meanUs: mean(us),
  };
}

/** each percentile's median over the runs. */
function medianOfRuns(runs: readonly Percentiles[]): Percentiles {
  const pick = (key: keyof Percentiles): number => Math.round(median(runs.map((r) => r[key])));
  return { p50Us: pick('p50Us'), p90Us: pick('p90Us'), p99Us: pick('p99Us'), p999Us: pick('p999Us'), maxUs: pick('maxUs'), meanUs: pick('meanUs') };
}

export function latencyLine(p: LatencyPoint): string {
  const us = (v: number): string => `${Math.round(v).toLocaleString('en')} µs`;
  return `${formatSize(p.sizeBytes).padStart(8)}: ${p.samples} samples  p50 ${us(p.p50Us)}  p90 ${us(p.p90Us)}  p99 ${us(p.p99Us)}  ` +
    `p99.9 ${us(p.p999Us)}  max ${us(p.maxUs)}  mean ${us(p.meanUs)}`;
}

export async function runLatency(config: BenchConfig, output: BenchOutput): Promise<ModeResult> {
  const threads = { layout: config.layout, cryptoThreads: config.cryptoThreads };
  const resolved = resolvedNodeOptions(config, threads);
  output.line(`# evs bench latency: ${placementText(config)}, ${threadsText(resolved)}, ${protocolText(config, resolved)}`);
  output.line(`# node 1 sends one message at a time (${config.guarantee}) and times its self delivery; ${config.samples} samples per size` +
    ` after ${config.warmupMs / 1000} s warm-up${config.runs > 1 ? `, median of ${config.runs} runs` : ''}`);
  output.start(config.sizesBytes.length * config.runs, 'starting the nodes');
  const points: LatencyPoint[] = [];
  const checks: AgreementCheck[] = [];
  await withCluster(config, threads, async (cluster) => {
    for (const sizeBytes of config.sizesBytes) {
      const runs: Percentiles[] = [];
      for (let run = 0; run < config.runs; run++) {
        const request = { cmd: 'latency', count: config.samples, sizeBytes, guarantee: config.guarantee, warmupMs: config.warmupMs } as const;
        runs.push(percentilesUs((await cluster.request(1, request)) as number[]));
        output.advance(`${formatSize(sizeBytes)} run ${run + 1}`);
      }
      checks.push(await checkAgreement(cluster, nodeIdsOf(config)));
      const point: LatencyPoint = {
        mode: 'latency', sizeBytes, guarantee: config.guarantee, layout: resolved.threads.layout, cryptoThreads: resolved.threads.cryptoThreads,
        crypto: config.crypto, samples: config.samples, ...medianOfRuns(runs),
      };
      points.push(point);
      output.line(latencyLine(point));
    }
  });
  return { points, checks, resolved: [reportableOptions(resolved)], charts: {} };
}
