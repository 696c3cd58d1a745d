/**
 * What one `evs bench` run measures, validated once from the command line
 * (command.ts) before any process starts. Library defaults that the bench
 * does not choose itself stay `undefined` here and are read back from the
 * library (resolveOptions) for the report, so the results always name the
 * values in force.
 */
import type { TotemTimings } from '../../protocol/config.ts';

export const benchModes = ['throughput', 'latency', 'failover', 'eventloop', 'sweep'] as const;
export type BenchMode = (typeof benchModes)[number];

export type Senders = 'one' | 'all';
export type Guarantee = 'agreed' | 'safe';
export type Layout = 'split' | 'single';

/** how long each point sends: for a fixed time (rate measured in a window) or a fixed number of messages. */
export type LoadLength =
  | { readonly kind: 'duration'; readonly durationMs: number }
  | { readonly kind: 'count'; readonly count: number };

export interface BenchConfig {
  readonly mode: BenchMode;
  readonly nodes: number;
  readonly sizesBytes: readonly number[];
  readonly senders: Senders;
  readonly guarantee: Guarantee;
  readonly load: LoadLength;
  readonly warmupMs: number;
  readonly runs: number;
  /** latency: messages timed per size. */
  readonly samples: number;
  readonly crypto: boolean;
  readonly transport: 'udpu' | 'udp';
  readonly mcastAddr: string;
  readonly port: number;
  /** undefined: the library's default. */
  readonly layout: Layout | undefined;
  readonly cryptoThreads: number | undefined;
  readonly netmtu: number | undefined;
  readonly frameBytesMax: number | undefined;
  readonly udpGso: 'auto' | 'off' | undefined;
  readonly workerNice: number | undefined;
  /** only the timings given (or chosen by the bench); the rest are the library's. */
  readonly totem: TotemTimings;
  /** bind/member address of node i at index i - 1. */
  readonly addresses: readonly string[];
  /** network namespace of node i at index i - 1, or null: all in this one. */
  readonly netns: readonly string[] | null;
  readonly outDir: string;
  readonly progress: boolean;
  /** eventloop: the main thread is busy for burstMs every burstPeriodMs. */
  readonly burstMs: number;
  readonly burstPeriodMs: number;
  /** y axis of the throughput and sweep charts. */
  readonly chartMetric: 'msgs' | 'mb';
}

/** the node whose deliveries are counted: node 2, as corosync's benchmark reads them at a receiver. */
export function receiverOf(config: BenchConfig): number {
  return Math.min(2, config.nodes);
}

export function sendersOf(config: BenchConfig): number[] {
  return config.senders === 'one' ? [1] : Array.from({ length: config.nodes }, (_, i) => i + 1);
}
