/**
 * Messages between a process cluster (parent) and its node processes
 * (node-process.ts), over Node's IPC channel with 'advanced' serialization.
 * Every request carries an id; the child answers `{ id, ok, value | error }`.
 */
import type { EvsConfchg } from '../handle.ts';
import type { EvsNodeStartOptions, EvsNodeStats } from '../node.ts';
import type { Membership } from '../types.ts';

export type Request =
  | { readonly cmd: 'start'; readonly options: EvsNodeStartOptions }
  | { readonly cmd: 'join'; readonly groups: string[] }
  /** send `count` probe messages of `sizeBytes` to the joined groups, each awaited (back-pressure). */
  | { readonly cmd: 'send'; readonly count: number; readonly sizeBytes: number; readonly guarantee: 'agreed' | 'safe' }
  /**
   * send probe messages of `sizeBytes` as fast as back-pressure allows for
   * `durationMs` (one reused payload buffer); answers SendReply.
   */
  | { readonly cmd: 'sendFor'; readonly durationMs: number; readonly sizeBytes: number; readonly guarantee: 'agreed' | 'safe' }
  /** deliveries in a window that opens `delayMs` after the request and lasts `durationMs`; answers WindowReply. */
  | { readonly cmd: 'measureWindow'; readonly delayMs: number; readonly durationMs: number }
  /** the time from the request until `count` more messages were delivered; answers WindowReply. */
  | { readonly cmd: 'measureCount'; readonly count: number; readonly timeoutMs: number }
  /**
   * main-thread event-loop delay (perf_hooks.monitorEventLoopDelay) for
   * `durationMs`, with the main thread busy for `burstMs` every `periodMs`
   * (burstMs 0: no bursts); answers EventLoopReply.
   */
  | { readonly cmd: 'eventLoop'; readonly durationMs: number; readonly burstMs: number; readonly periodMs: number }
  /**
   * one message in flight: send, wait for its self delivery, repeat; answers
   * latencies in ms. The first `warmupMs` (default 0) of them are not kept.
   */
  | { readonly cmd: 'latency'; readonly count: number; readonly sizeBytes: number; readonly guarantee: 'agreed' | 'safe'; readonly warmupMs?: number }
  /** resolves once `total` messages were delivered (or rejects after timeoutMs). */
  | { readonly cmd: 'waitDelivered'; readonly total: number; readonly timeoutMs: number }
  /** keep the main thread busy (a synchronous loop) for `ms`. */
  | { readonly cmd: 'block'; readonly ms: number }
  | { readonly cmd: 'report' }
  | { readonly cmd: 'stats' }
  | { readonly cmd: 'stop' };

export interface Report {
  /** probe messages this node sent (its probe counter): the sum over nodes is what each node must deliver. */
  readonly sent: number;
  readonly delivered: number;
  readonly bytesDelivered: number;
  /** FNV-1a over (sender, counter) of every delivery in order: equal digests = same sequence. */
  readonly digest: number;
  /** highest counter delivered per sender. */
  readonly lastCounter: Record<number, number>;
  /** deliveries whose counter was not the sender's previous + 1. */
  readonly fifoViolations: number;
  /** deliveries whose filler was damaged. */
  readonly corrupt: number;
  readonly firstDeliveryMs: number;
  readonly lastDeliveryMs: number;
  readonly confchgs: number;
  /** the node process's main-thread memory (process.memoryUsage(): heap, external, array buffers; rss is process-wide). */
  readonly memory?: NodeJS.MemoryUsage;
}

export type Reply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: { code: string; message: string } };

/** child → parent, unsolicited. */
export type Notice =
  | { readonly ev: 'confchg'; readonly atMs: number; readonly change: EvsConfchg }
  | { readonly ev: 'error'; readonly error: { code: string; message: string } };

export interface SendReply {
  /** messages sent by this command. */
  readonly sent: number;
  /** the node's probe counter after the last one (all probes it ever sent). */
  readonly counter: number;
}

export interface WindowReply {
  readonly delivered: number;
  readonly bytesDelivered: number;
  /** the window's length as measured in the node process. */
  readonly seconds: number;
}

export interface EventLoopReply {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** deliveries and configuration changes during the measurement. */
  readonly delivered: number;
  readonly confchgs: number;
  readonly seconds: number;
}

export type StartReply = { readonly membership: Membership; readonly address: { address: string; port: number } };
export type StatsReply = EvsNodeStats;
