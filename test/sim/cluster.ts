/**
 * A simulated cluster: N EvsCores (the Totem processor with the group layer),
 * one virtual clock, the packet simulator, a per-node "disk" that survives
 * crashes, and the log the checkers read.
 *
 * The loop (quinn's Pair, TigerBeetle's cluster): `step()` jumps the clock to
 * the earliest of the next packet arrival, the earliest deadline of any running
 * node, and the next scheduled action, and handles exactly that one event.
 * After every input a node receives, its Ready batch is drained in the order
 * ready.ts prescribes: persist the ring seq, send (encode → network), hand the
 * events to the application (→ log), re-read the node's deadline.
 *
 * Ties at the same virtual time go: packets (in send order), then deadlines
 * (lowest node id first), then scheduled actions (in scheduling order).
 */
import { deriveTotemConfig, type TotemConfig, type TotemTimings } from '../../src/protocol/config.ts';
import { EvsCore, type AppEvent } from '../../src/groups/evs-core.ts';
import { Processor } from '../../src/protocol/processor.ts';
import { setEqual, setOf } from '../../src/protocol/node-set.ts';
import { datagramPayloadBytes as datagramPayloadBytesFor } from '../../src/groups/format.ts';
import { encodeGroupName } from '../../src/groups/match.ts';
import { decode } from '../../src/wire/decode.ts';
import { encode } from '../../src/wire/encode.ts';
import { mcastHeaderBytes } from '../../src/wire/header.ts';
import { MessageType, ringIdText, type Guarantee, type Message, type RingId } from '../../src/wire/messages.ts';
import { isStaleAfterPause, pauseDetectMs } from '../../src/protocol/pause-guard.ts';
import { readPayload } from './app.ts';
import { msgIdOf, SimLog } from './log.ts';
import { EventHeap } from './heap.ts';
import { Network, type LinkOptions, type SimCodec } from './network.ts';
import { Prng } from './prng.ts';

/**
 * The real codec, each node with its totem.ordering (the header's ordering
 * bit): a datagram of the other ordering is dropped at the receiver, as the
 * runtime drops it; any other datagram that does not decode is a bug, not a
 * network event.
 */
export function orderingCodec(accelerated: (node: number) => boolean): SimCodec {
  return {
    encode: (message, from) => encode(message, accelerated(from)),
    decode(bytes, to) {
      const result = decode(bytes, accelerated(to));
      if (result.ok) return result.message;
      if (result.reason === 'ordering') return null;
      throw new Error(`codec: a datagram the simulator encoded does not decode (${result.reason}, ${bytes.length} bytes)`);
    },
  };
}

/** every node classic. */
export const wireCodec: SimCodec = orderingCodec(() => false);

/**
 * Timings for simulation (TOTEM.md §3.9 "much smaller values in tests"):
 * token 200, consensus derived (1.2 × token: 240), join 20, merge 50; no per-node token coefficient
 * so every cluster size has the same timeouts; FAILED TO RECEIVE after 100
 * visits instead of 2500 so a deaf node is expelled within the run.
 * No consensusMs: config.ts derives it from whatever token a run sets; a
 * fixed 240 here once overrode that for every swarm run drawing a longer
 * token (seed 1050272: token 1240 ms, consensus 240 ms; two groups excluded
 * each other round after round).
 */
export const simTimings: TotemTimings = {
  tokenMs: 200,
  tokenCoefficientMs: 0,
  joinMs: 20,
  mergeMs: 50,
  failRecvConst: 100,
};

/** The group every simulated application message is sent to. */
export const simGroup = encodeGroupName('sim');

export interface ClusterOptions {
  /** node ids are 1..nodeCount. */
  readonly nodeCount: number;
  /** the seed of the cluster's PRNG (ignored when `prng` is given). */
  readonly seed?: number;
  readonly prng?: Prng;
  /** overrides on top of `simTimings`. */
  readonly timings?: TotemTimings;
  /** per-node overrides on top of `timings` (e.g. a node with the other ordering). */
  readonly nodeTimings?: (id: number) => TotemTimings;
  readonly link?: Partial<LinkOptions>;
  readonly loopback?: Partial<LinkOptions>;
  /** MTU the datagram payload size derives from (default 1500, no crypto). */
  readonly netmtuBytes?: number;
  readonly messageBytesMax?: number;
  readonly queueBytesMax?: number;
  readonly codec?: SimCodec;
  /** core log lines kept per node for traces (default 200; 0 = none). */
  readonly coreLogLines?: number;
  /** start every node at time 0 (default true). */
  readonly startAll?: boolean;
  /** abort (SimBudgetError) when more packets than this are in flight: a message storm (default 200 000). */
  readonly inFlightMax?: number;
  /** abort (SimBudgetError) after this many steps (default: no limit). */
  readonly stepsMax?: number;
}

export interface CoreLine {
  readonly at: number;
  readonly incarnation: number;
  readonly line: string;
}

interface SimNode {
  readonly id: number;
  readonly config: TotemConfig;
  core: EvsCore | null;
  incarnation: number;
  deadline: number;
  lastState: string | null;
  readonly lines: CoreLine[];
  /** paused (not scheduled) since this time, or null; arrivals wait in `backlog`. */
  pausedAt: number | null;
  backlog: Message[];
  /** the core's randomness (consensus back-off), one seeded stream per node. */
  readonly random: Prng;
  /** the running core's stats.failedToReceive already counted in `Cluster.failedToReceive`. */
  failedToReceiveSeen: number;
}

interface Action {
  readonly at: number;
  readonly order: number;
  readonly run: () => void;
}

export type SubmitOutcome = 'ok' | 'try-again' | 'down';

/** One handler call that stays at the same virtual time this often is a livelock. */
const sameTimeStepsMax = 200_000;

export class Cluster {
  /** virtual time, ms. */
  now = 0;
  readonly ids: readonly number[];
  readonly prng: Prng;
  readonly network: Network;
  readonly log = new SimLog();
  /** node → persisted ring seq. Survives crashes. */
  readonly disk = new Map<number, number>();
  readonly datagramPayloadBytes: number;
  readonly messageBytesMax: number;
  readonly queueBytesMax: number;
  steps = 0;
  /** packets that arrived at a node that was down. */
  droppedAtDownNode = 0;
  /** JOINs a resumed node's driver dropped from its backlog (pause-guard.ts). */
  droppedAfterPause = 0;
  /** FAILED TO RECEIVE events of every core, over all incarnations. */
  failedToReceive = 0;
  /** crashes made by `crashAfterToken`, with the sends each lost. */
  readonly crashedAfterToken: { node: number; at: number; sent: Message[]; lost: Message[] }[] = [];
  /** node → sends after the token that still go out. */
  private readonly crashAfterTokenArmed = new Map<number, number>();

  private readonly nodes = new Map<number, SimNode>();
  private readonly actions = new EventHeap<Action>();
  private actionOrder = 0;
  private readonly coreLogLines: number;
  private readonly inFlightMax: number;
  private readonly stepsMax: number;
  private sameTimeSteps = 0;

  constructor(options: ClusterOptions) {
    if (!Number.isInteger(options.nodeCount) || options.nodeCount < 1) throw new RangeError(`nodeCount must be >= 1 (got ${options.nodeCount})`);
    this.prng = options.prng ?? new Prng(options.seed ?? 1);
    this.ids = Array.from({ length: options.nodeCount }, (_, i) => i + 1);
    this.network = new Network({
      prng: this.prng.fork(),
      codec: options.codec ?? orderingCodec((id) => this.nodes.get(id)?.config.ordering === 'accelerated'),
      nodes: this.ids,
      ...(options.link !== undefined ? { link: options.link } : {}),
      ...(options.loopback !== undefined ? { loopback: options.loopback } : {}),
    });
    this.datagramPayloadBytes = datagramPayloadBytesFor(options.netmtuBytes ?? 1500, 0, mcastHeaderBytes);
    this.messageBytesMax = options.messageBytesMax ?? 64 * 1024;
    this.queueBytesMax = options.queueBytesMax ?? 256 * 1024;
    this.coreLogLines = options.coreLogLines ?? 200;
    this.inFlightMax = options.inFlightMax ?? 200_000;
    this.stepsMax = options.stepsMax ?? Infinity;
    const timings = { ...simTimings, ...options.timings };
    for (const id of this.ids) {
      const config = deriveTotemConfig(id, options.nodeCount, { ...timings, ...options.nodeTimings?.(id) });
      this.nodes.set(id, { id, config, core: null, incarnation: 0, deadline: Infinity, lastState: null, lines: [], pausedAt: null, backlog: [], random: this.prng.fork(), failedToReceiveSeen: 0 });
    }
    if (options.startAll ?? true) for (const id of this.ids) this.start(id);
  }

  // ---- nodes -------------------------------------------------------------

  private node(id: number): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new RangeError(`no node ${id} (ids are 1..${this.ids.length})`);
    return node;
  }

  config(id: number): TotemConfig {
    return this.node(id).config;
  }

  isUp(id: number): boolean {
    return this.node(id).core !== null;
  }

  /** running nodes, ascending. */
  up(): number[] {
    return this.ids.filter((id) => this.isUp(id));
  }

  down(): number[] {
    return this.ids.filter((id) => !this.isUp(id));
  }

  /** the running node's core (throws when the node is down). */
  core(id: number): EvsCore {
    const core = this.node(id).core;
    if (core === null) throw new Error(`node ${id} is down`);
    return core;
  }

  incarnation(id: number): number {
    return this.node(id).incarnation;
  }

  /** core log lines kept for traces (all incarnations). */
  coreLines(id: number): readonly CoreLine[] {
    return this.node(id).lines;
  }

  /** Start (or restart) a node: a new EvsCore with the ring seq from its disk. */
  start(id: number): void {
    const node = this.node(id);
    if (node.core !== null) throw new Error(`start: node ${id} is already running`);
    node.incarnation += 1;
    const incarnation = node.incarnation;
    const ringSeqLoaded = this.disk.get(id) ?? 0;
    const log = this.coreLogLines === 0 ? undefined : (line: string): void => {
      node.lines.push({ at: this.now, incarnation, line });
      if (node.lines.length > 2 * this.coreLogLines) node.lines.splice(0, node.lines.length - this.coreLogLines);
    };
    node.core = new EvsCore({
      config: node.config,
      ringSeqLoaded,
      datagramPayloadBytes: this.datagramPayloadBytes,
      messageBytesMax: this.messageBytesMax,
      queueBytesMax: this.queueBytesMax,
      ...(log !== undefined ? { log } : {}),
      random: () => node.random.float(),
      // every step also runs the costly invariant checks (src/protocol/invariants.ts)
      createProcessor: (options) => new Processor({ ...options, verify: true }),
    });
    node.lastState = null;
    node.failedToReceiveSeen = 0;
    this.log.append(id, this.now, { kind: 'start', ringSeqLoaded });
    this.drive(node, (core) => core.start(this.now));
  }

  isPaused(id: number): boolean {
    return this.node(id).pausedAt !== null;
  }

  /**
   * The node's process is not scheduled for `ms`: no timer fires, what
   * arrives waits in its receive backlog. Then it resumes as the runtime
   * driver does: a pause longer than the guard's threshold is reported to
   * the core (`paused`) and the backlog's JOINs are dropped; the rest of the
   * backlog is handed to the core in arrival order.
   */
  pause(id: number, ms: number): void {
    const node = this.node(id);
    if (node.core === null || node.pausedAt !== null) throw new Error(`pause: node ${id} is not running or already paused`);
    const pausedAt = this.now;
    node.pausedAt = pausedAt;
    const incarnation = node.incarnation;
    this.after(ms, () => {
      if (node.incarnation === incarnation && node.pausedAt === pausedAt) this.resume(node);
    });
  }

  /** End a pause now instead of when it was due (the faults stop: SIGCONT); no-op when not paused. */
  resumeNow(id: number): void {
    const node = this.node(id);
    if (node.core !== null && node.pausedAt !== null) this.resume(node);
  }

  private resume(node: SimNode): void {
    const pausedMs = this.now - (node.pausedAt ?? this.now);
    node.pausedAt = null;
    const backlog = node.backlog;
    node.backlog = [];
    const detected = pausedMs > pauseDetectMs(node.config.tokenMs);
    if (detected) this.drive(node, (core) => core.paused(this.now, pausedMs));
    for (const message of backlog) {
      if (node.core === null) return;
      if (detected && isStaleAfterPause(message)) {
        this.droppedAfterPause += 1;
        continue;
      }
      this.drive(node, (core) => core.handleMessage(this.now, message));
    }
  }

  /**
   * Crash `id` in the middle of its next Ready that sends more than
   * `postTokenSends` datagrams after a token (an accelerated visit's held-back
   * messages): the sends up to the token and `postTokenSends` after it go
   * out, the rest and the Ready's events are lost. `crashedAfterToken`
   * records what was sent after the token and what was lost.
   */
  crashAfterToken(id: number, postTokenSends = 0): void {
    if (this.node(id).core === null) throw new Error(`crashAfterToken: node ${id} is not running`);
    this.crashAfterTokenArmed.set(id, postTokenSends);
  }

  /** Crash: memory (including queued submissions) is gone, the disk stays. */
  crash(id: number): void {
    const node = this.node(id);
    if (node.core === null) throw new Error(`crash: node ${id} is not running`);
    node.pausedAt = null;
    node.backlog = [];
    node.core = null;
    node.deadline = Infinity;
    this.crashAfterTokenArmed.delete(id);
    this.log.append(id, this.now, { kind: 'crash' });
  }

  restart(id: number): void {
    this.start(id);
  }

  /** Graceful leave: the node multicasts LEAVE and stops. */
  leave(id: number): void {
    const node = this.node(id);
    if (node.core === null) throw new Error(`leave: node ${id} is not running`);
    this.drive(node, (core) => core.leave(this.now));
    node.pausedAt = null;
    node.backlog = [];
    node.core = null;
    node.deadline = Infinity;
    this.log.append(id, this.now, { kind: 'leave' });
  }

  /**
   * The application on `id` submits one message. Logs SEND when accepted and
   * the payload is a simulator payload (app.ts), BLOCKED when the core's
   * queue is full (not when the process is paused).
   */
  submit(id: number, payload: Uint8Array, guarantee: Guarantee, groups: readonly Uint8Array[] = [simGroup]): SubmitOutcome {
    const node = this.node(id);
    if (node.core === null) return 'down';
    if (node.pausedAt !== null) return 'try-again';
    const result = this.drive(node, (core) => core.submit(this.now, groups, payload, guarantee));
    if (result === 'try-again') this.log.append(id, this.now, { kind: 'blocked', size: payload.length });
    if (result === 'ok') {
      const info = readPayload(payload);
      if (info !== null) {
        this.log.append(id, this.now, {
          kind: 'send', msgId: msgIdOf(info.sender, info.counter), counter: info.counter, size: payload.length, guarantee,
        });
      }
    }
    return result;
  }

  /** Run one input on a node and drain its Ready batch. */
  private drive<T>(node: SimNode, input: (core: EvsCore) => T): T {
    const core = node.core;
    if (core === null) throw new Error(`node ${node.id} is down`);
    try {
      const result = input(core);
      this.drain(node, core);
      return result;
    } catch (error) {
      const reason = error instanceof Error ? error : new Error(String(error));
      throw new NodeError(node.id, this.now, reason);
    }
  }

  private drain(node: SimNode, core: EvsCore): void {
    const ready = core.ready();
    if (ready.persistRingSeq !== null) this.disk.set(node.id, ready.persistRingSeq);
    if (this.crashAfterTokenArmed.has(node.id)) {
      const tokenAt = ready.sends.findIndex((send) => send.message.type === MessageType.OrfToken);
      const keep = this.crashAfterTokenArmed.get(node.id) ?? 0;
      if (tokenAt >= 0 && tokenAt + keep < ready.sends.length - 1) {
        // the process dies between the token send and the rest of this Ready: those sends and its events are lost
        const cut = tokenAt + 1 + keep;
        for (const send of ready.sends.slice(0, cut)) this.network.send(this.now, node.id, send);
        this.crashAfterTokenArmed.delete(node.id);
        this.crashedAfterToken.push({
          node: node.id, at: this.now, sent: ready.sends.slice(tokenAt + 1, cut).map((send) => send.message),
          lost: ready.sends.slice(cut).map((send) => send.message),
        });
        this.crash(node.id);
        return;
      }
    }
    for (const send of ready.sends) this.network.send(this.now, node.id, send);
    for (const event of ready.events) this.record(node.id, event);
    const failedToReceive = core.processor.stats.failedToReceive;
    if (failedToReceive !== node.failedToReceiveSeen) {
      this.failedToReceive += failedToReceive - node.failedToReceiveSeen;
      node.failedToReceiveSeen = failedToReceive;
    }
    const state = core.processor.state;
    if (state !== node.lastState) {
      node.lastState = state;
      this.log.append(node.id, this.now, { kind: 'state', state, ringId: core.processor.ringId });
    }
    node.deadline = core.nextDeadline();
    if (Number.isNaN(node.deadline)) throw new Error('nextDeadline() is NaN');
  }

  private record(id: number, event: AppEvent): void {
    if (event.kind === 'confchg') {
      this.log.append(id, this.now, {
        kind: 'conf', type: event.type, ringId: event.ringId, fromRingId: event.fromRingId,
        members: [...event.members], left: [...event.left], joined: [...event.joined],
      });
      return;
    }
    const info = readPayload(event.payload);
    const groupsOk = event.groups.length === 1 && sameBytes(event.groups[0] as Uint8Array, simGroup);
    this.log.append(id, this.now, {
      kind: 'deliver',
      msgId: info === null ? null : msgIdOf(info.sender, info.counter),
      sender: event.sender,
      counter: info?.counter ?? -1,
      size: event.payload.length,
      guarantee: event.guarantee,
      ringId: event.ringId,
      seq: event.seq,
      bytesOk: info !== null && info.bytesOk && groupsOk,
    });
  }

  // ---- time --------------------------------------------------------------

  /** Run `run` at virtual time `at` (now if in the past). */
  schedule(at: number, run: () => void): void {
    this.actions.push({ at: Math.max(at, this.now), order: this.actionOrder++, run });
  }

  after(ms: number, run: () => void): void {
    this.schedule(this.now + ms, run);
  }

  private earliestDeadline(): { at: number; node: SimNode | null } {
    let at = Infinity;
    let best: SimNode | null = null;
    for (const node of this.nodes.values()) {
      if (node.core !== null && node.pausedAt === null && node.deadline < at) {
        at = node.deadline;
        best = node;
      }
    }
    return { at, node: best };
  }

  /** time of the next event, Infinity when there is none. */
  nextEventAt(): number {
    const action = this.actions.peek()?.at ?? Infinity;
    return Math.max(this.now, Math.min(this.network.nextArrival(), this.earliestDeadline().at, action));
  }

  /** Handle the earliest event; false when there is nothing left to do. */
  step(): boolean {
    return this.stepUntil(Infinity);
  }

  /**
   * Handle the earliest event if it is due by `end`; false when none is.
   * (One scan of the nodes' deadlines per step: they are the step's costliest part at 64 processors.)
   */
  private stepUntil(end: number): boolean {
    const packetAt = this.network.nextArrival();
    const deadline = this.earliestDeadline();
    const actionAt = this.actions.peek()?.at ?? Infinity;
    const at = Math.min(packetAt, deadline.at, actionAt);
    if (at === Infinity || Math.max(this.now, at) > end) return false;
    const next = Math.max(at, this.now);
    this.sameTimeSteps = next === this.now ? this.sameTimeSteps + 1 : 0;
    if (this.sameTimeSteps > sameTimeStepsMax) throw new SimBudgetError(`livelock: ${sameTimeStepsMax} steps at virtual time ${this.now}`);
    if (this.network.inFlight > this.inFlightMax) {
      const t = this.network.stats.arrivalsByType;
      throw new SimBudgetError(`message storm: ${this.network.inFlight} packets in flight at ${this.now.toFixed(3)} ms ` +
        `(arrivals so far: token ${t[0]}, mcast ${t[1]}, merge-detect ${t[2]}, join ${t[3]}, commit ${t[4]}, hold-cancel ${t[5]})`);
    }
    if (this.steps >= this.stepsMax) throw new SimBudgetError(`step budget: ${this.stepsMax} steps by ${this.now.toFixed(3)} ms`);
    this.now = next;
    this.steps += 1;
    if (packetAt === at) {
      // null: the receiver dropped it before its core (the other ordering; counted by the network)
      const arrival = this.network.pop();
      const node = arrival === null ? null : this.node(arrival.to);
      if (arrival === null || node === null) return true;
      if (node.core === null) this.droppedAtDownNode += 1;
      else if (node.pausedAt !== null) node.backlog.push(arrival.message);
      else this.drive(node, (core) => core.handleMessage(this.now, arrival.message));
    } else if (deadline.at === at && deadline.node !== null) {
      this.drive(deadline.node, (core) => core.handleTimeout(this.now));
    } else {
      this.actions.pop()?.run();
    }
    return true;
  }

  /** Handle every event up to now + ms, then set the clock to now + ms. */
  runFor(ms: number): void {
    this.runUntilTime(this.now + ms);
  }

  runUntilTime(end: number): void {
    while (this.stepUntil(end));
    this.now = Math.max(this.now, end);
  }

  /**
   * Step until `predicate()` holds (checked before every step) or `msMax` of
   * virtual time passed. Returns whether the predicate held.
   */
  runUntil(predicate: () => boolean, msMax: number): boolean {
    const end = this.now + msMax;
    for (;;) {
      if (predicate()) return true;
      if (!this.stepUntil(end)) {
        this.now = Math.max(this.now, end);
        return predicate();
      }
    }
  }

  // ---- views -------------------------------------------------------------

  /** every node in `ids` is up, OPERATIONAL, in the same ring whose members are exactly `ids`. */
  converged(ids: readonly number[] = this.up()): boolean {
    if (ids.length === 0) return true;
    let ring: RingId | null = null;
    const want = setOf(ids);
    for (const id of ids) {
      const core = this.node(id).core;
      if (core === null) return false;
      const p = core.processor;
      if (p.state !== 'operational') return false;
      if (!setEqual(p.members, want)) return false;
      if (ring === null) ring = p.ringId;
      else if (ring.rep !== p.ringId.rep || ring.seq !== p.ringId.seq) return false;
    }
    return true;
  }

  /** one line per node: state, ring, members. */
  describe(): string[] {
    return this.ids.map((id) => {
      const core = this.node(id).core;
      if (core === null) return `n${id} down`;
      const p = core.processor;
      return `n${id}#${this.incarnation(id)} ${p.state} ring=${ringIdText(p.ringId)} members=[${p.members.join(',')}]`;
    });
  }
}

/** An exception thrown by a node's core, with where and when. */
export class NodeError extends Error {
  constructor(readonly node: number, readonly at: number, override readonly cause: Error) {
    super(`node ${node} at ${at.toFixed(3)} ms: ${cause.name}: ${cause.message}`);
    this.name = 'NodeError';
  }
}

/** The simulation itself gave up: livelock, message storm, or step budget exhausted. */
export class SimBudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimBudgetError';
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
