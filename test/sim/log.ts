/**
 * Per-node simulation log: what the EVS checkers read (TOTEM.md §11).
 *
 * Each node's records are in its local order; `index` is a global, strictly
 * increasing number (the order in which the simulator appended them), `at` the
 * virtual time in ms. A node's life is split into *incarnations*: each one
 * begins with a `start` record (first start or restart) and ends with `crash`,
 * `leave` or the end of the log. Memory is per incarnation; the disk (ring seq)
 * survives.
 */
import { createHash } from 'node:crypto';
import type { Guarantee, RingId } from '../../src/wire/messages.ts';

export type ConfType = 'transitional' | 'regular';

interface RecordBase {
  /** global append order. */
  readonly index: number;
  /** virtual time, ms. */
  readonly at: number;
  readonly node: number;
  /** 1 for the first start, +1 per restart. */
  readonly incarnation: number;
}

/** An incarnation begins. `ringSeqLoaded` is what the disk gave it. */
export interface StartRecord extends RecordBase { readonly kind: 'start'; readonly ringSeqLoaded: number }
/** The application's submit returned 'ok'. */
export interface SendRecord extends RecordBase {
  readonly kind: 'send';
  readonly msgId: string;
  readonly counter: number;
  readonly size: number;
  readonly guarantee: Guarantee;
}
/** The core handed a payload to the application. */
export interface DeliverRecord extends RecordBase {
  readonly kind: 'deliver';
  /** `sender:counter` read from the payload header; null when the header is unreadable. */
  readonly msgId: string | null;
  /** originator as reported by the core. */
  readonly sender: number;
  /** from the payload header (−1 when unreadable). */
  readonly counter: number;
  readonly size: number;
  readonly guarantee: Guarantee;
  readonly ringId: RingId;
  readonly seq: number;
  /** header readable, length matches, filler matches (sender, counter). */
  readonly bytesOk: boolean;
}
export interface ConfRecord extends RecordBase {
  readonly kind: 'conf';
  readonly type: ConfType;
  readonly ringId: RingId;
  readonly fromRingId: RingId;
  readonly members: readonly number[];
  readonly left: readonly number[];
  readonly joined: readonly number[];
}
/** The membership state of the processor changed (observed after a handler). */
export interface StateRecord extends RecordBase { readonly kind: 'state'; readonly state: string; readonly ringId: RingId }
/**
 * The application's submit returned 'try-again': the core's send queue is
 * full (back-pressure). Not logged for a paused process (its application is
 * not running either).
 */
export interface BlockedRecord extends RecordBase { readonly kind: 'blocked'; readonly size: number }
export interface CrashRecord extends RecordBase { readonly kind: 'crash' }
export interface LeaveRecord extends RecordBase { readonly kind: 'leave' }

export type LogRecord = StartRecord | SendRecord | BlockedRecord | DeliverRecord | ConfRecord | StateRecord | CrashRecord | LeaveRecord;

/** Fields the caller supplies; the log adds index, time and incarnation. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type RecordInput = DistributiveOmit<LogRecord, 'index' | 'at' | 'node' | 'incarnation'>;

export function ringKey(r: RingId): string {
  return `${r.rep}.${r.seq.toString(16)}`;
}

export function msgIdOf(sender: number, counter: number): string {
  return `${sender}:${counter}`;
}

function list(xs: readonly number[]): string {
  return `[${xs.join(',')}]`;
}

/** One line per record, stable (used in traces and in the replay digest). */
export function formatRecord(r: LogRecord): string {
  const head = `${r.at.toFixed(3).padStart(10)} n${r.node}#${r.incarnation}`;
  switch (r.kind) {
    case 'start': return `${head} START ringSeqLoaded=${r.ringSeqLoaded}`;
    case 'send': return `${head} SEND ${r.msgId} size=${r.size} ${r.guarantee === 1 ? 'safe' : 'agreed'}`;
    case 'blocked': return `${head} BLOCKED size=${r.size}`;
    case 'deliver':
      return `${head} DELIVER ${r.msgId ?? '?'} from=${r.sender} ring=${ringKey(r.ringId)} seq=${r.seq} size=${r.size} ` +
        `${r.guarantee === 1 ? 'safe' : 'agreed'}${r.bytesOk ? '' : ' BYTES-BAD'}`;
    case 'conf':
      return `${head} CONF ${r.type.toUpperCase()} ring=${ringKey(r.ringId)} from=${ringKey(r.fromRingId)} ` +
        `members=${list(r.members)} left=${list(r.left)} joined=${list(r.joined)}`;
    case 'state': return `${head} STATE ${r.state} ring=${ringKey(r.ringId)}`;
    case 'crash': return `${head} CRASH`;
    case 'leave': return `${head} LEAVE`;
  }
}

export class SimLog {
  readonly records: LogRecord[] = [];
  private readonly byNode = new Map<number, LogRecord[]>();
  private readonly incarnationByNode = new Map<number, number>();

  /** Append a record for `node` at time `at`. A `start` record opens a new incarnation. */
  append(node: number, at: number, input: RecordInput): LogRecord {
    let incarnation = this.incarnationByNode.get(node) ?? 0;
    if (input.kind === 'start') {
      incarnation += 1;
      this.incarnationByNode.set(node, incarnation);
    }
    if (incarnation === 0) throw new Error(`log: node ${node} has a ${input.kind} record before its first start`);
    const record = { ...input, index: this.records.length, at, node, incarnation } as LogRecord;
    this.records.push(record);
    let own = this.byNode.get(node);
    if (own === undefined) {
      own = [];
      this.byNode.set(node, own);
    }
    own.push(record);
    return record;
  }

  nodeRecords(node: number): readonly LogRecord[] {
    return this.byNode.get(node) ?? [];
  }

  nodes(): number[] {
    return [...this.byNode.keys()].sort((a, b) => a - b);
  }

  /** The last `count` records of `node`, formatted. */
  tail(node: number, count: number): string[] {
    return this.nodeRecords(node).slice(-count).map(formatRecord);
  }

  /** SHA-256 over every formatted record: equal digests = identical runs. */
  digest(): string {
    const hash = createHash('sha256');
    for (const r of this.records) {
      hash.update(formatRecord(r));
      hash.update('\n');
    }
    return hash.digest('hex');
  }

  count(kind: LogRecord['kind']): number {
    let n = 0;
    for (const r of this.records) if (r.kind === kind) n += 1;
    return n;
  }
}

/**
 * Hand-written logs for checker tests and scenario expectations. Time advances
 * by 1 ms per record unless set with `at()`.
 */
export class LogBuilder {
  readonly log = new SimLog();
  private time = 0;

  at(time: number): this {
    this.time = time;
    return this;
  }

  private push(node: number, input: RecordInput): this {
    this.time += 1;
    this.log.append(node, this.time, input);
    return this;
  }

  start(node: number, ringSeqLoaded = 0): this {
    return this.push(node, { kind: 'start', ringSeqLoaded });
  }

  crash(node: number): this {
    return this.push(node, { kind: 'crash' });
  }

  leave(node: number): this {
    return this.push(node, { kind: 'leave' });
  }

  state(node: number, state: string, ringId: RingId): this {
    return this.push(node, { kind: 'state', state, ringId });
  }

  send(node: number, counter: number, options: { size?: number; guarantee?: Guarantee } = {}): this {
    return this.push(node, {
      kind: 'send', msgId: msgIdOf(node, counter), counter, size: options.size ?? 12, guarantee: options.guarantee ?? 0,
    });
  }

  blocked(node: number, size = 12): this {
    return this.push(node, { kind: 'blocked', size });
  }

  deliver(node: number, sender: number, counter: number, ringId: RingId, seq: number,
    options: { size?: number; guarantee?: Guarantee; bytesOk?: boolean; msgId?: string | null } = {}): this {
    return this.push(node, {
      kind: 'deliver',
      msgId: options.msgId === undefined ? msgIdOf(sender, counter) : options.msgId,
      sender, counter, size: options.size ?? 12, guarantee: options.guarantee ?? 0, ringId, seq,
      bytesOk: options.bytesOk ?? true,
    });
  }

  conf(node: number, type: ConfType, ringId: RingId, fromRingId: RingId,
    sets: { members: readonly number[]; left?: readonly number[]; joined?: readonly number[] }): this {
    return this.push(node, {
      kind: 'conf', type, ringId, fromRingId, members: sets.members, left: sets.left ?? [], joined: sets.joined ?? [],
    });
  }

  /** TRANSITIONAL then REGULAR for one node (the usual pair). */
  change(node: number, from: RingId, to: RingId,
    sets: { trans: readonly number[]; left?: readonly number[]; members: readonly number[]; joined?: readonly number[] }): this {
    this.conf(node, 'transitional', to, from, { members: sets.trans, left: sets.left ?? [] });
    return this.conf(node, 'regular', to, from, { members: sets.members, joined: sets.joined ?? [] });
  }
}
