/**
 * The state every membership state's step function reads and writes (raft's
 * `raft` struct), plus the small helpers all of them use. Behaviour lives in
 * one module per concept: gather.ts, commit.ts, recovery.ts, install.ts,
 * operational.ts and token-visit.ts. processor.ts owns an instance, feeds it
 * inputs and checks invariants.ts after every step.
 *
 * `become` sets the membership state, its step function and its timeout
 * function together, as raft's becomeX do: what a message or a timer does
 * never depends on a `switch (memb)` hidden inside a shared handler.
 */
import { assert } from '../assert.ts';
import { sortQueueSlots } from '../limits.ts';
import type { CommitEntry, CommitToken, Join, Mcast, MergeDetect, Message, OrfToken, RingId } from '../wire/messages.ts';
import type { TotemConfig } from './config.ts';
import type { GatherReason } from './gather-reason.ts';
import type { DatagramSource, Ready } from './ready.ts';
import { SortQueue } from './sort-queue.ts';
import { ProcessorStats } from './stats.ts';
import { Timer, TimerTable } from './timers.ts';

export type MembState = 'operational' | 'gather' | 'commit' | 'recovery';

/** What a message does in one membership state (raft's stepFollower, stepLeader, ...). */
export type StepFn = (s: ProcessorState, message: Message) => void;
/** What an expired timer does in one membership state. */
export type TimeoutFn = (s: ProcessorState, timer: Timer) => void;

export interface ProcessorOptions {
  readonly config: TotemConfig;
  readonly source: DatagramSource;
  /** ring seq read back from stable storage at start (0 when there is none). */
  readonly ringSeqLoaded: number;
  /** optional log sink for corosync-style lines. */
  readonly log?: (line: string) => void;
  /** sort-queue slots (power of two); the simulator may use fewer. */
  readonly sortQueueSlots?: number;
  /**
   * Also run the costly invariant checks after every step (invariants.ts).
   * The cheap ones always run; the simulator turns this on.
   */
  readonly verify?: boolean;
  /**
   * Uniform randomness in [0, 1) for the consensus back-off (gather.ts); the
   * core stays deterministic because the caller chooses it: the simulator
   * passes a seeded PRNG, the runtime crypto randomness. Without it there is
   * no back-off.
   */
  readonly random?: () => number;
}

export const noRing: RingId = { rep: 0, seq: 0 };
/** `myTokenSeq` before my first visit of a ring: one below 0 in serial order, so the ring's first token (token seq 0) is new. */
export const tokenSeqNone = 0xffffffff;

/** The only transitions there are: GATHER from anywhere, then COMMIT, RECOVERY, OPERATIONAL in turn. */
const enteredFrom: Record<MembState, readonly MembState[]> = {
  gather: ['gather', 'commit', 'recovery', 'operational'],
  commit: ['gather'],
  recovery: ['commit'],
  operational: ['recovery'],
};

function notWired(): never {
  throw new Error('ProcessorState: transitions are wired by Processor');
}

export class ProcessorState {
  readonly stats = new ProcessorStats();
  readonly config: TotemConfig;
  readonly me: number;
  readonly source: DatagramSource;
  readonly log: (line: string) => void;
  readonly timers = new TimerTable();
  /** run the costly invariant checks too (ProcessorOptions.verify). */
  readonly verify: boolean;
  readonly random: () => number;
  /** the Ready batch being filled; Processor.ready() hands it over. */
  out: Ready = { sends: [], events: [], persistRingSeq: null };
  now = 0;
  isStopped = false;
  started = false;

  // ---- the membership state and what it does (set together by `become`) ----
  memb: MembState = 'gather';
  step: StepFn = notWired;
  onTimeout: TimeoutFn = notWired;

  // ---- transitions, wired by processor.ts so every module imports only downwards ----
  /** gather.ts `enterGather`. */
  enterGather: (reason: GatherReason) => void = notWired;
  /** commit.ts `enterCommit`: take my slot on the commit token's first pass. */
  enterCommit: (token: CommitToken) => void = notWired;
  /** recovery.ts `enterRecovery`: the commit token's second pass. */
  enterRecovery: (token: CommitToken) => void = notWired;
  /** install.ts `enterOperational`: the EVS delivery sequence. */
  enterOperational: () => void = notWired;
  /** run a message through every rule again (the shared ones, then `step`). */
  replay: (message: Message) => void = notWired;

  // ---- membership ----
  /** the ring tokens and messages must carry to be "mine". */
  myRingId: RingId;
  /** the last installed ring (my_old_ring_id). */
  oldRingId: RingId;
  /** members of the installed ring (my_memb_list). */
  memberList: number[] = [];
  /** members of the ring being formed (commit token order = token order). */
  newMembers: number[] = [];
  transMembers: number[] = [];
  deliverMembers: number[] = [];
  procList: number[] = [];
  failedList: number[] = [];
  consensus = new Set<number>();
  /**
   * From my installation of a ring until the token next reaches me, some
   * members may still be in RECOVERY; membership triggers that arrive in this
   * window wait for that visit (see operational.ts `deferWhileSettling`).
   */
  settling = false;
  deferred: (Join | MergeDetect | Mcast)[] = [];
  /** the highest ring seq each processor has shown me (JOINs, foreign messages). */
  ringSeqSeen = new Map<number, number>();
  /** processors whose latest JOIN since my last installation named me failed (gather.ts `adoptedFailures`). */
  excludedBy = new Set<number>();
  tokenRingIdSeq: number;
  failedToRecv = false;

  // ---- ordering (OPERATIONAL, and RECOVERY on the recovery queue) ----
  regular: SortQueue<Mcast>;
  recovery: SortQueue<Mcast>;
  myAru: number;
  highSeqReceived: number;
  highDelivered: number;
  /** token aru as received on my previous visit (my_last_aru). */
  lastAru: number;
  /** safe messages up to here are held by every member (paper's rule). */
  safePoint: number;
  /** token seq of my last visit; `tokenSeqNone` before the first one of a ring. */
  myTokenSeq = tokenSeqNone;
  /** seq of the token I forwarded on my last visit; read only when `myTokenSeq` is not `tokenSeqNone`. */
  myVisitSeq = 0;
  lastSeq = 0;
  seqUnchanged = 0;
  tokenHeld = false;
  aruCount = 0;
  /**
   * my congestion window (windowSizeMin..windowSize): what flow control lets
   * the ring send per rotation as I see it; windowSize on every new ring.
   */
  window: number;
  /**
   * seq of the token I forwarded on the visit before my last one; null until
   * I have made two visits of this ring (the congestion back-off's yardstick).
   */
  olderVisitSeq: number | null = null;
  /** a loss whose seq is at or below this was already answered by a back-off. */
  backoffSeq = 0;
  // flow control memory: my sent count, previous and current backlog
  trc = 0;
  pbl = 0;
  cbl = 0;
  /** last ORF or commit token I sent (or hold), for retransmission. */
  lastToken: { to: number; message: OrfToken | CommitToken } | null = null;

  // ---- old ring state saved at COMMIT entry, restored if recovery fails ----
  oldRingStateSaved = false;
  oldRingStateAru = 0;
  oldRingStateHighSeqReceived = 0;

  // ---- recovery ----
  commitEntries: CommitEntry[] = [];
  retransQueue: Mcast[] = [];
  setRetransFlag = false;
  retransFlagCount = 0;
  installSeq = 0;
  rotationCounter = 0;
  highRingDelivered = 0;
  originatedOrfToken = false;
  /** token seq of the commit token I forwarded when entering RECOVERY. */
  commitTokenSeqSent = 0;

  constructor(options: ProcessorOptions) {
    const { config } = options;
    assert(Number.isInteger(options.ringSeqLoaded) && options.ringSeqLoaded >= 0, 'ringSeqLoaded is a non-negative integer');
    this.config = config;
    this.me = config.nodeId;
    this.source = options.source;
    this.log = options.log ?? (() => {});
    this.verify = options.verify ?? false;
    this.random = options.random ?? (() => 0);
    const slots = options.sortQueueSlots ?? sortQueueSlots;
    assert(slots > 2 * config.windowSize, 'sort queue holds more than two windows');
    this.regular = new SortQueue<Mcast>(slots, config.seqStart);
    this.recovery = new SortQueue<Mcast>(slots, config.seqStart);
    // A restarted processor takes seq+1 as its previous ring: unique, so it is
    // never mistaken for a surviving member of a ring its peers still run.
    this.myRingId = { rep: this.me, seq: options.ringSeqLoaded + 1 };
    this.oldRingId = this.myRingId;
    this.tokenRingIdSeq = this.myRingId.seq;
    this.myAru = config.seqStart;
    this.highSeqReceived = config.seqStart;
    this.highDelivered = config.seqStart;
    this.lastAru = config.seqStart;
    this.safePoint = config.seqStart;
    this.window = config.windowSize;
  }

  /** Set the membership state together with its step and timeout functions. */
  become(memb: MembState, step: StepFn, onTimeout: TimeoutFn): void {
    assert(enteredFrom[memb].includes(this.memb), `transition ${this.memb} -> ${memb} is allowed`);
    this.memb = memb;
    this.step = step;
    this.onTimeout = onTimeout;
  }

  send(to: number, message: Message): void {
    this.out.sends.push({ to, message });
  }

  sendToken(to: number, message: OrfToken | CommitToken): void {
    this.lastToken = { to, message };
    this.send(to, message);
  }

  retransmitToken(): void {
    if (this.lastToken === null) return;
    this.stats.tokenRetransmits++;
    this.send(this.lastToken.to, this.lastToken.message);
  }

  /** COMMIT, RECOVERY, OPERATIONAL: re-send the last token until a newer one comes. */
  onTokenRetransmitTimeout(): void {
    if (this.lastToken === null) return;
    this.retransmitToken();
    this.timers.arm(Timer.TokenRetransmit, this.now + this.config.tokenRetransmitMs);
  }

  armTokenTimers(): void {
    this.timers.arm(Timer.TokenLoss, this.now + this.config.tokenMs);
    this.timers.arm(Timer.TokenRetransmit, this.now + this.config.tokenRetransmitMs);
  }

  deliver(message: Mcast): void {
    this.stats.delivered++;
    this.out.events.push({
      kind: 'deliver', sender: message.sender, ringId: message.ringId, seq: message.seq,
      guarantee: message.guarantee, payload: message.payload,
    });
  }

  noteRingSeq(sender: number, ringSeq: number): void {
    if ((this.ringSeqSeen.get(sender) ?? 0) < ringSeq) this.ringSeqSeen.set(sender, ringSeq);
  }

  isRep(): boolean {
    return this.myRingId.rep === this.me;
  }

  /** the member after me in token order in the ring being run. */
  nextMember(): number {
    const ring = this.newMembers;
    const index = ring.indexOf(this.me);
    assert(index >= 0, 'I am a member of the ring I pass the token in');
    return ring[(index + 1) % ring.length] ?? this.me;
  }
}
