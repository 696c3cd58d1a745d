/**
 * The measured points as they go into the JSON results (docs/BENCH.md,
 * "JSON"). Field names are part of that file's schema: the comparison
 * script reads them.
 */
import type { Guarantee, Layout, Senders } from './bench-config.ts';
import type { TokenSummary } from './token-report.ts';

/** one throughput point: the median of `runs` (messages/s of each run, in run order). */
export interface ThroughputPoint {
  readonly mode: 'throughput' | 'sweep';
  readonly sizeBytes: number;
  readonly senders: Senders;
  readonly guarantee: Guarantee;
  readonly layout: Layout;
  readonly cryptoThreads: number;
  readonly crypto: boolean;
  /** messages delivered at the receiving node in the median run's measured window. */
  readonly writes: number;
  readonly seconds: number;
  readonly msgsPerSec: number;
  /** 1 MB = 1,000,000 bytes, as evsbench counts. */
  readonly mbPerSec: number;
  readonly runs: readonly number[];
  /** configuration changes seen at any node during the point's runs: 0 in a steady state. */
  readonly configurationChanges: number;
  /** the median run's token rotations: rotations/s, hold per node, where a rotation's time went (token-report.ts). */
  readonly token?: TokenSummary;
}

export interface LatencyPoint {
  readonly mode: 'latency';
  readonly sizeBytes: number;
  readonly guarantee: Guarantee;
  readonly layout: Layout;
  readonly cryptoThreads: number;
  readonly crypto: boolean;
  readonly samples: number;
  /** send → self delivery at node 1, one message in flight; medians over runs. */
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
  readonly meanUs: number;
}

export interface FailoverPoint {
  readonly mode: 'failover';
  readonly killedNode: number;
  readonly survivors: readonly number[];
  readonly tokenMs: number;
  readonly consensusMs: number;
  /** per run: the slowest survivor's time from kill -9 to its regular configuration without the killed node. */
  readonly runs: readonly number[];
  /** per run, per survivor (in `survivors` order). */
  readonly survivorRunsMs: readonly (readonly number[])[];
  readonly medianMs: number;
  /** medianMs − (tokenMs + consensusMs). */
  readonly marginMs: number;
}

export interface EventLoopPoint {
  readonly mode: 'eventloop';
  readonly load: 'full' | 'bursts';
  /** bursts: main thread busy burstMs every burstPeriodMs in every measured node process. */
  readonly burstMs: number;
  readonly burstPeriodMs: number;
  readonly nodeId: number;
  readonly role: 'sender' | 'receiver';
  readonly sizeBytes: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** deliveries at this node during the measurement, and their rate. */
  readonly delivered: number;
  readonly msgsPerSec: number;
  /** configuration changes this node saw during the measurement (0: the ring held). */
  readonly confchgs: number;
}

export type BenchPoint = ThroughputPoint | LatencyPoint | FailoverPoint | EventLoopPoint;
