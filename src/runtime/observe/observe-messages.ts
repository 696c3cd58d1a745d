/**
 * What the workers tell the main thread about themselves, outside the
 * delivery stream: log lines, configuration changes, and counters that moved
 * (token losses, membership rounds, retransmissions, dropped datagrams). One
 * MessagePort per worker carries them (`threads.ts`); the main thread feeds
 * the logger, the diagnostics channels and `waitForMembers` from them.
 *
 * Rare by construction: counters are compared at most every
 * `observeIntervalMs` and only what changed is sent, so a lossy network does
 * not turn into a postMessage per retransmission.
 */
import type { RingId } from '../../wire/messages.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** which worker sent it. */
export type ObserveThread = 'protocol' | 'network';

/** where a dropped datagram was refused. */
export type DropLayer = 'decode' | 'crypto' | 'transport';

export type ObserveMessage =
  | { readonly t: 'log'; readonly thread: ObserveThread; readonly level: LogLevel; readonly message: string }
  | {
    readonly t: 'confchg'; readonly type: 'transitional' | 'regular'; readonly ringId: RingId;
    readonly members: readonly number[]; readonly left: readonly number[]; readonly joined: readonly number[];
  }
  /** the token timer expired `count` more times (total `total`) while in `ringId`. */
  | { readonly t: 'token-loss'; readonly ringId: RingId; readonly tokenMs: number; readonly count: number; readonly total: number }
  /** the node entered GATHER `count` more times; `reason` of the last one, as the core logged it. */
  | { readonly t: 'membership-round'; readonly ringId: RingId; readonly reason: string; readonly count: number; readonly total: number }
  /** retransmissions this node sent and asked for since the last message. */
  | { readonly t: 'retransmit'; readonly ringId: RingId; readonly sent: number; readonly requested: number; readonly sentTotal: number; readonly requestedTotal: number }
  /** datagrams refused since the last message, by layer and reason. */
  | { readonly t: 'datagram-dropped'; readonly layer: DropLayer; readonly reason: string; readonly count: number; readonly total: number };

/** counters are compared at most this often (and at once after a configuration change). */
export const observeIntervalMs = 100;

/** The worker's side of the port: a function that posts one message. */
export type Observe = (message: ObserveMessage) => void;

/**
 * The log level of a line of the Totem core: corosync logs these at notice
 * (membership) or debug; a lost token and a failed receive are warnings.
 */
export function coreLineLevel(line: string): LogLevel {
  if (line.startsWith('A processor failed') || line.startsWith('FAILED TO RECEIVE')) return 'warn';
  if (line.startsWith('A new membership') || line.startsWith('entering GATHER') || line.startsWith('Received LEAVE')) return 'info';
  if (line.startsWith('deliver backlog above')) return 'error';
  return 'debug';
}

/**
 * Differences of named counters since the last call, for one source (so that
 * the worker sends what moved, not every counter every time).
 */
export class CounterDiff {
  readonly #last = new Map<string, number>();

  /** calls `moved(name, delta, total)` for each counter that grew. */
  diff(counters: Readonly<Record<string, number>>, moved: (name: string, delta: number, total: number) => void): void {
    for (const [name, total] of Object.entries(counters)) {
      const delta = total - (this.#last.get(name) ?? 0);
      if (delta <= 0) continue;
      this.#last.set(name, total);
      moved(name, delta, total);
    }
  }
}
