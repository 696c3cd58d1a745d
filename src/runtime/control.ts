/**
 * The control plane between the main thread and the workers (comlink): join,
 * leave, membership, stats, start and stop. Nothing per message goes here.
 *
 * Every call answers an `Outcome`: structured clone drops `code` from an
 * Error on Node 20 (and comlink rebuilds thrown errors without it), so errors
 * cross as plain `{ code, message }` and become EvsError again on the main side.
 */
import { EvsError } from '../errors.ts';
import type { ResolvedOptions } from '../options.ts';
import type { NetworkDriverStats } from './network/network-driver.ts';
import type { Membership } from '../types.ts';
import type { ProtocolDriverStats } from './protocol/protocol-driver.ts';
import type { MessagePort } from 'node:worker_threads';
import type { RecordRingShared } from './rings/record-ring.ts';

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: { code: string; message: string } };

/** runs `fn` and wraps its result or its error for the trip across threads. */
export async function outcome<T>(fn: () => T | Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    if (error instanceof EvsError) return { ok: false, error: error.toWire() };
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const code = typeof (error as { code?: unknown } | null)?.code === 'string' ? ` (${(error as { code: string }).code})` : '';
    return { ok: false, error: { code: 'ERR_EVS_INTERNAL', message: message + code } };
  }
}

/** the value, or the EvsError it carried, thrown on this thread. */
export function unwrap<T>(result: Outcome<T>): T {
  if (result.ok) return result.value;
  throw EvsError.fromWire(result.error);
}

export interface ProtocolControl {
  /** resolves once the first regular configuration is installed. */
  start(): Promise<Outcome<Membership>>;
  openHandle(id: number): Promise<Outcome<void>>;
  closeHandle(id: number): Promise<Outcome<void>>;
  join(id: number, groups: Uint8Array[]): Promise<Outcome<void>>;
  leave(id: number, groups: Uint8Array[]): Promise<Outcome<void>>;
  membership(): Promise<Outcome<Membership>>;
  stats(): Promise<Outcome<ProtocolDriverStats>>;
  /** LEAVE out, loop ended. */
  stop(): Promise<Outcome<void>>;
}

export interface NetworkControl {
  /** binds the sockets; answers the unicast address. */
  start(): Promise<Outcome<{ address: string; port: number }>>;
  stats(): Promise<Outcome<NetworkDriverStats>>;
  /** sends what is queued, closes sockets and the crypto pool. */
  stop(): Promise<Outcome<void>>;
}

/** what the single worker exposes: both drivers in one thread. */
export interface SingleControl {
  readonly network: NetworkControl;
  readonly protocol: ProtocolControl;
}

/** workerData of every runtime worker; each takes the parts it needs. */
export interface RuntimeWorkerData {
  readonly options: ResolvedOptions;
  /** the cluster key, null with crypto 'none'. */
  readonly key: Uint8Array | null;
  readonly submit: RecordRingShared;
  readonly deliver: RecordRingShared;
  /** split layout only (the rx ring's data bell is the submit ring's: one doorbell wakes the protocol loop). */
  readonly rx: RecordRingShared | null;
  readonly tx: RecordRingShared | null;
  /** Int32Array over it: the protocol driver's status (protocol/driver-status.ts). */
  readonly status: SharedArrayBuffer;
  /** this worker's end of its observe channel (observe/observe-messages.ts); transferred. */
  readonly observe: MessagePort;
  /** send log lines on the observe channel (a logger is configured); the workers never write to stderr. */
  readonly log: boolean;
  /** the token's stamps (protocol/token-timing.ts), written by both drivers. */
  readonly tokenStamps: SharedArrayBuffer;
}
