/**
 * Processor: the Totem single-ring ordering and membership protocol (Amir et
 * al., ACM TOCS 1995) as corosync's totemsrp.c runs it, as a pure state
 * machine. No clock, socket, disk or randomness: time comes in as `now`,
 * datagrams come in decoded, and every output (sends, deliveries,
 * configuration changes, the ring seq to persist, timer deadlines) is
 * collected for the driver (see ready.ts for the order it must act in).
 *
 * Calling order: `start(now)` once; then any of `handleMessage`,
 * `handleTimeout`, `notifyPending`; after each, drain `ready()` and re-arm
 * the one driver timer for `nextDeadline()`. Time must not go backwards.
 *
 * Where this code follows the paper rather than corosync, or the reverse, it
 * says so in a comment tagged DEVIATION and docs/DEVIATIONS.md lists them.
 */
import { assert } from '../assert.ts';
import { sortQueueSlots, rtrEntriesMax } from '../limits.ts';
import {
  Guarantee, MessageType, ringIdEqual, ringIdText,
  type CommitEntry, type CommitToken, type Join, type Mcast, type MergeDetect, type Message,
  type OrfToken, type RingId, type RtrItem, type TokenHoldCancel,
} from '../wire/messages.ts';
import type { TotemConfig } from './config.ts';
import { GatherReason, gatherReasonText } from './gather-reason.ts';
import { setEqual, setHas, setMinus, setSubset, setUnion } from './node-set.ts';
import { toAll, type ConfchgEvent, type DatagramSource, type Ready } from './ready.ts';
import { seqAdd, seqDiff, seqLt, seqLte, seqMax, seqMin } from './seq.ts';
import { SortQueue } from './sort-queue.ts';
import { Timer, TimerTable } from './timers.ts';
import { ProcessorStats } from './stats.ts';

export type MembState = 'operational' | 'gather' | 'commit' | 'recovery';

export interface ProcessorOptions {
  readonly config: TotemConfig;
  readonly source: DatagramSource;
  /** ring seq read back from stable storage at start (0 when there is none). */
  readonly ringSeqLoaded: number;
  /** optional log sink for corosync-style lines. */
  readonly log?: (line: string) => void;
  /** sort-queue slots (power of two); the simulator may use fewer. */
  readonly sortQueueSlots?: number;
}

const noRing: RingId = { rep: 0, seq: 0 };

export class Processor {
  readonly stats = new ProcessorStats();
  private readonly config: TotemConfig;
  private readonly me: number;
  private readonly source: DatagramSource;
  private readonly log: (line: string) => void;
  private readonly timers = new TimerTable();
  private out: Ready = { sends: [], events: [], persistRingSeq: null };
  private now = 0;

  // ---- membership ----
  private memb: MembState = 'gather';
  private isStopped = false;
  private started = false;
  /** the ring tokens and messages must carry to be "mine". */
  private myRingId: RingId;
  /** the last installed ring (my_old_ring_id). */
  private oldRingId: RingId;
  /** members of the installed ring (my_memb_list). */
  private memberList: number[] = [];
  /** members of the ring being formed (commit token order = token order). */
  private newMembers: number[] = [];
  private transMembers: number[] = [];
  private deliverMembers: number[] = [];
  private procList: number[] = [];
  private failedList: number[] = [];
  private consensus = new Set<number>();
  /**
   * From my installation of a ring until the token next reaches me, some
   * members may still be in RECOVERY; membership triggers that arrive in this
   * window wait for that visit (see `deferWhileSettling`).
   */
  private settling = false;
  private deferred: (Join | MergeDetect | Mcast)[] = [];
  /** the highest ring seq each processor has shown me (JOINs, foreign messages). */
  private ringSeqSeen = new Map<number, number>();
  private tokenRingIdSeq: number;
  private failedToRecv = false;

  // ---- ordering (OPERATIONAL) ----
  private regular: SortQueue<Mcast>;
  private recovery: SortQueue<Mcast>;
  private myAru: number;
  private highSeqReceived: number;
  private highDelivered: number;
  /** token aru as received on my previous visit (my_last_aru). */
  private lastAru: number;
  /** safe messages up to here are held by every member (paper's rule). */
  private safePoint: number;
  private myTokenSeq = 0xffffffff;
  private lastSeq = 0;
  private seqUnchanged = 0;
  private tokenHeld = false;
  private aruCount = 0;
  // flow control memory: my sent count, previous and current backlog
  private trc = 0;
  private pbl = 0;
  private cbl = 0;
  /** last ORF or commit token I sent (or hold), for retransmission. */
  private lastToken: { to: number; message: OrfToken | CommitToken } | null = null;

  // ---- old ring state saved at COMMIT entry, restored if recovery fails ----
  private oldRingStateSaved = false;
  private oldRingStateAru = 0;
  private oldRingStateHighSeqReceived = 0;

  // ---- recovery ----
  private commitEntries: CommitEntry[] = [];
  private retransQueue: Mcast[] = [];
  private setRetransFlag = false;
  private retransFlagCount = 0;
  private installSeq = 0;
  private rotationCounter = 0;
  private highRingDelivered = 0;
  private originatedOrfToken = false;
  /** token seq of the commit token I forwarded when entering RECOVERY. */
  private commitTokenSeqSent = 0;

  constructor(readonly options: ProcessorOptions) {
    const { config } = options;
    assert(Number.isInteger(options.ringSeqLoaded) && options.ringSeqLoaded >= 0, 'ringSeqLoaded is a non-negative integer');
    this.config = config;
    this.me = config.nodeId;
    this.source = options.source;
    this.log = options.log ?? (() => {});
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
  }

  // =====================================================================
  // Inputs
  // =====================================================================

  /** interface up: enter GATHER. */
  start(now: number): void {
    assert(!this.started, 'start is called once');
    this.started = true;
    this.now = now;
    this.log(`Created or loaded sequence id ${ringIdText(this.myRingId)} for this ring.`);
    this.enterGather(GatherReason.InterfaceChange);
  }

  handleMessage(now: number, message: Message): void {
    if (!this.advance(now)) return;
    switch (message.type) {
      case MessageType.OrfToken: this.onToken(message); break;
      case MessageType.Mcast: this.onMcast(message); break;
      case MessageType.Join: this.onJoin(message); break;
      case MessageType.CommitToken: this.onCommitToken(message); break;
      case MessageType.MergeDetect: this.onMergeDetect(message); break;
      case MessageType.TokenHoldCancel: this.onTokenHoldCancel(message); break;
    }
  }

  handleTimeout(now: number): void {
    if (!this.advance(now)) return;
    for (let fired = 0; fired < 16; fired++) {
      const timer = this.timers.takeExpired(now);
      if (timer === -1) return;
      this.onTimeout(timer);
      if (this.isStopped) return;
    }
  }

  /** the source got new data: cancel a token hold if one is in force. */
  notifyPending(now: number): void {
    if (!this.advance(now)) return;
    if (!this.tokenHeld || this.memb !== 'operational') return;
    this.tokenHeld = false;
    const cancel: TokenHoldCancel = { type: MessageType.TokenHoldCancel, sender: this.me, ringId: this.myRingId };
    this.send(toAll, cancel);
    this.onTokenHoldCancel(cancel, true);
  }

  /** graceful stop: multicast LEAVE; the processor is stopped afterwards. */
  leave(now: number): void {
    if (!this.advance(now)) return;
    const leave: Join = {
      type: MessageType.Join, sender: this.me, leave: true, ringSeq: this.myRingId.seq,
      procList: setMinus(this.procList, [this.me]), failedList: setUnion(this.failedList, [this.me]),
    };
    this.send(toAll, leave);
    this.log('leaving the ring (LEAVE sent)');
    this.stop();
  }

  /** stop without a LEAVE (crash-like); releases nothing but timers. */
  stop(): void {
    this.isStopped = true;
    this.timers.cancelAll();
  }

  // =====================================================================
  // Outputs and getters
  // =====================================================================

  nextDeadline(): number {
    return this.isStopped ? Infinity : this.timers.nextDeadline();
  }

  ready(): Ready {
    const out = this.out;
    this.out = { sends: [], events: [], persistRingSeq: null };
    return out;
  }

  get state(): MembState { return this.memb; }
  get ringId(): RingId { return this.myRingId; }
  get members(): readonly number[] { return this.memberList; }
  get stopped(): boolean { return this.isStopped; }
  get nodeId(): number { return this.me; }

  private advance(now: number): boolean {
    assert(this.started, 'start before handling inputs');
    assert(now >= this.now, 'time does not go backwards');
    this.now = now;
    return !this.isStopped;
  }

  private send(to: number, message: Message): void {
    this.out.sends.push({ to, message });
  }

  private isRep(): boolean {
    return this.myRingId.rep === this.me;
  }

  /** the member after me in token order in the ring being run. */
  private nextMember(): number {
    const ring = this.newMembers;
    const index = ring.indexOf(this.me);
    assert(index >= 0, 'I am a member of the ring I pass the token in');
    return ring[(index + 1) % ring.length] ?? this.me;
  }

  private activeQueue(): SortQueue<Mcast> {
    return this.memb === 'recovery' ? this.recovery : this.regular;
  }

  // =====================================================================
  // Timers
  // =====================================================================

  private onTimeout(timer: Timer): void {
    switch (timer) {
      case Timer.TokenLoss: this.onTokenLossTimeout(); break;
      case Timer.TokenRetransmit: this.onTokenRetransmitTimeout(); break;
      case Timer.TokenHold: this.onTokenHoldTimeout(); break;
      case Timer.Join: this.onJoinTimeout(); break;
      case Timer.Consensus: this.onConsensusTimeout(); break;
      case Timer.MergeDetect: this.onMergeDetectTimeout(); break;
    }
  }

  private onTokenLossTimeout(): void {
    this.stats.tokenLosses++;
    switch (this.memb) {
      case 'operational':
        this.log(`A processor failed, forming new configuration: token timed out (${this.config.tokenMs}ms).`);
        this.enterGather(GatherReason.TokenLostOperational);
        break;
      case 'gather':
        // consensus was agreed but no commit token came: start over.
        if (this.consensusTimeoutExpired()) this.enterGather(GatherReason.ConsensusTimeoutExpired);
        break;
      case 'commit':
        this.enterGather(GatherReason.TokenLostCommit);
        break;
      case 'recovery':
        this.restoreOldRingState();
        this.enterGather(GatherReason.TokenLostRecovery);
        break;
    }
  }

  private onTokenRetransmitTimeout(): void {
    if (this.memb === 'gather' || this.lastToken === null) return;
    this.retransmitToken();
    this.timers.arm(Timer.TokenRetransmit, this.now + this.config.tokenRetransmitMs);
  }

  private onTokenHoldTimeout(): void {
    if (this.memb === 'operational' || this.memb === 'recovery') this.retransmitToken();
  }

  private retransmitToken(): void {
    if (this.lastToken === null) return;
    this.stats.tokenRetransmits++;
    this.send(this.lastToken.to, this.lastToken.message);
  }

  private onJoinTimeout(): void {
    if (this.memb !== 'gather') return;
    this.sendJoin();
    this.timers.arm(Timer.Join, this.now + this.config.joinMs);
    this.checkConsensus();
  }

  private onConsensusTimeout(): void {
    if (this.memb !== 'gather') return;
    this.consensusTimeoutExpired();
  }

  private onMergeDetectTimeout(): void {
    if (this.memb !== 'operational' || !this.isRep()) return;
    const merge: MergeDetect = { type: MessageType.MergeDetect, sender: this.me, ringId: this.myRingId };
    this.send(toAll, merge);
  }

  /**
   * corosync `memb_state_consensus_timeout_expired`. Returns true when
   * consensus had been agreed (the caller decides whether to re-gather).
   */
  private consensusTimeoutExpired(): boolean {
    if (this.consensusAgreed()) {
      if (this.failedToRecv) {
        this.formSingletonAfterFailedToReceive();
        return false;
      }
      this.consensus = new Set([this.me]);
      this.timers.arm(Timer.TokenLoss, this.now + this.config.tokenMs);
      return true;
    }
    const silent = this.procList.filter((id) => !this.consensus.has(id));
    this.failedList = setUnion(this.failedList, silent);
    this.enterGather(GatherReason.ConsensusTimeout);
    return false;
  }

  // =====================================================================
  // GATHER: joins, consensus
  // =====================================================================

  private enterGather(reason: GatherReason): void {
    this.procList = setUnion(this.procList, [this.me]);
    this.memb = 'gather';
    this.settling = false;
    this.deferred = [];
    this.originatedOrfToken = false;
    this.consensus = new Set([this.me]);
    this.timers.arm(Timer.Join, this.now + this.config.joinMs);
    this.timers.arm(Timer.Consensus, this.now + this.config.consensusMs);
    this.timers.cancel(Timer.TokenLoss);
    this.timers.cancel(Timer.TokenRetransmit);
    this.timers.cancel(Timer.MergeDetect);
    this.timers.cancel(Timer.TokenHold);
    this.stats.gatherEntered++;
    this.log(`entering GATHER state from ${gatherReasonText(reason)}.`);
    this.sendJoin();
    // DEVIATION (evs4j): my own JOIN is processed here, not when its loopback
    // copy arrives, so a lone processor forms its ring without the network.
    // At start-up it is processed one join period later instead, so that a
    // processor whose peers are running goes straight into their ring (their
    // joins answer mine within that period) rather than through a singleton.
    if (reason !== GatherReason.InterfaceChange) this.checkConsensus();
  }

  private sendJoin(): void {
    const join: Join = {
      type: MessageType.Join, sender: this.me, leave: false, ringSeq: this.myRingId.seq,
      procList: this.procList, failedList: this.failedList,
    };
    this.send(toAll, join);
  }

  private consensusAgreed(): boolean {
    const candidates = setMinus(this.procList, this.failedList);
    return candidates.every((id) => this.consensus.has(id));
  }

  private lowestInConfig(): boolean {
    const candidates = setMinus(this.procList, this.failedList);
    return candidates[0] === this.me;
  }

  /** join rule 1's second half: agreed and I am the lowest → create the commit token. */
  private checkConsensus(): void {
    if (this.memb !== 'gather' || !this.consensusAgreed()) return;
    if (this.failedToRecv) {
      this.formSingletonAfterFailedToReceive();
      return;
    }
    if (this.lowestInConfig()) this.enterCommit(this.createCommitToken());
  }

  /** corosync: the processor that could not receive forms a ring of its own. */
  private formSingletonAfterFailedToReceive(): void {
    this.failedToRecv = false;
    this.procList = [this.me];
    this.failedList = [];
    this.enterCommit(this.createCommitToken());
  }

  private onJoin(join: Join): void {
    if (join.sender === this.me) return; // processed locally when sent
    this.stats.joinsReceived++;
    this.tokenRingIdSeq = Math.max(this.tokenRingIdSeq, join.ringSeq);
    if (this.isStaleExclusion(join)) return;
    switch (this.memb) {
      case 'operational':
        if (this.ignoreJoinUnderOperational(join) || this.deferWhileSettling(join)) break;
        this.joinProcess(join);
        break;
      case 'gather':
        this.joinProcess(join);
        break;
      case 'commit':
      case 'recovery':
        if (setHas(this.newMembers, join.sender) && join.ringSeq >= this.myRingId.seq) {
          // DEVIATION (order): corosync runs the join rules first and then
          // re-enters GATHER; we re-enter first so the rules run in GATHER.
          const wasRecovery = this.memb === 'recovery';
          if (wasRecovery) this.restoreOldRingState();
          this.enterGather(wasRecovery ? GatherReason.JoinDuringRecovery : GatherReason.JoinDuringCommit);
          if ((this.memb as MembState) === 'gather') this.joinProcess(join);
        }
        break;
    }
  }

  /**
   * DEVIATION (extends corosync's OPERATIONAL filter to GATHER): a JOIN that
   * names me failed but carries a ring seq below my ring's, or below one its
   * sender has already shown me, was sent before its sender saw my latest
   * ring: a delayed verdict from an earlier round. Acting on it (mutual
   * exclusion) poisons the round in progress; the swarm found processors
   * excluding each other this way round after round. If the sender still
   * thinks me failed, its fresh JOINs say so, and my consensus timeout
   * settles it.
   */
  private isStaleExclusion(join: Join): boolean {
    const seen = this.ringSeqSeen.get(join.sender) ?? 0;
    this.noteRingSeq(join.sender, join.ringSeq);
    if (!setHas(join.failedList, this.me)) return false;
    if (join.ringSeq >= Math.max(this.myRingId.seq, seen)) return false;
    this.stats.staleDropped++;
    return true;
  }

  private noteRingSeq(sender: number, ringSeq: number): void {
    if ((this.ringSeqSeen.get(sender) ?? 0) < ringSeq) this.ringSeqSeen.set(sender, ringSeq);
  }

  /**
   * DEVIATION (neither): installation is not atomic: I install on my token
   * visit, members after me on theirs. A JOIN or foreign message that sends me
   * back to GATHER before the token has gone round again reaches the members
   * still in RECOVERY, which then abandon the ring the rest of us installed;
   * with busy neighbouring partitions this repeats round after round (the
   * swarm found 15 processors needing > 10 s to merge). So in OPERATIONAL,
   * until my next token visit, such triggers from outside the ring are kept
   * and replayed at that visit, when every member has installed. A JOIN from
   * a member, or a lost token, ends the wait.
   */
  private deferWhileSettling(message: Join | MergeDetect | Mcast): boolean {
    if (!this.settling || this.memb !== 'operational') return false;
    // a member of my ring that gathers has broken the ring already: no use waiting
    if (message.type === MessageType.Join && setHas(this.memberList, message.sender)) return false;
    if (this.deferred.length < 64) this.deferred.push(message);
    return true;
  }

  /** at my first token visit after installing: replay what waited; true if it left OPERATIONAL. */
  private endSettling(): boolean {
    if (!this.settling) return false;
    this.settling = false;
    const deferred = this.deferred;
    this.deferred = [];
    for (const message of deferred) {
      this.handleMessage(this.now, message);
      if (this.memb !== 'operational') return true;
    }
    return false;
  }

  /** the paper's stale-join filter (corosync commit cfbb021e). */
  private ignoreJoinUnderOperational(join: Join): boolean {
    if (setHas(join.failedList, this.me)) return true;
    return setHas(this.memberList, join.sender) && join.ringSeq < this.myRingId.seq;
  }

  /** corosync `memb_join_process`: the join rules of TOTEM.md §3.3. */
  private joinProcess(join: Join): void {
    const sender = join.sender;
    let gatherEntered = false;
    if (setEqual(join.procList, this.procList) && setEqual(join.failedList, this.failedList)) {
      if (!join.leave) this.consensus.add(sender);
      this.checkConsensus();
    } else if (setSubset(join.procList, this.procList) && setSubset(join.failedList, this.failedList)) {
      // the sender is behind; it will catch up from my joins
    } else if (setHas(this.failedList, sender)) {
      // a processor I consider failed does not change my view
    } else {
      const procList = setUnion(this.procList, join.procList);
      let failedList = this.failedList;
      if (setHas(join.failedList, this.me)) {
        // it thinks I am dead: I treat it as dead (mutual exclusion)
        failedList = setUnion(failedList, [sender]);
      } else if (setHas(this.memberList, sender)) {
        // adopt failure knowledge only from my old ring-mates
        failedList = setUnion(failedList, join.failedList);
      }
      if (join.leave) failedList = setUnion(failedList, [sender]);
      if (join.leave) this.log(`Received LEAVE message from ${sender}`);
      // DEVIATION (paper): re-gather only when my sets grew. corosync re-enters
      // GATHER (and multicasts a JOIN) even when nothing changed, so two
      // processors whose failed lists differ and who do not adopt each
      // other's answer every join with a join: a storm without progress.
      if (!setEqual(procList, this.procList) || !setEqual(failedList, this.failedList)) {
        this.procList = procList;
        this.failedList = failedList;
        this.enterGather(GatherReason.MergeDuringJoin);
        gatherEntered = true;
      }
    }
    if (!gatherEntered && this.memb === 'operational') this.enterGather(GatherReason.JoinDuringOperational);
  }

  private onMergeDetect(merge: MergeDetect): void {
    if (merge.sender === this.me || ringIdEqual(merge.ringId, this.myRingId)) return;
    this.noteRingSeq(merge.sender, merge.ringId.seq);
    if (this.isStaleForeign(merge.sender, merge.ringId) || this.deferWhileSettling(merge)) return;
    this.foreignSender(merge.sender, GatherReason.MergeDuringOperational, GatherReason.MergeDuringGather);
  }

  /**
   * A message of another ring proves that ring exists: OPERATIONAL merges its
   * sender into the proc list and gathers; GATHER does so only for a sender it
   * did not know; COMMIT and RECOVERY ignore it.
   */
  private foreignSender(sender: number, inOperational: GatherReason, inGather: GatherReason): void {
    if (this.memb === 'operational') {
      this.procList = setUnion(this.procList, [sender]);
      this.enterGather(inOperational);
    } else if (this.memb === 'gather' && !setHas(this.procList, sender)) {
      this.procList = setUnion(this.procList, [sender]);
      this.enterGather(inGather);
    } else {
      this.stats.foreignDropped++;
    }
  }

  /**
   * DEVIATION (paper, TOTEM.md §3.5): a message of an older ring from a
   * processor that is a member of my current ring is a late datagram, not a
   * partition to merge; corosync starts a membership round for it.
   */
  private isStaleForeign(sender: number, ringId: RingId): boolean {
    if (this.memb !== 'operational' || !setHas(this.memberList, sender)) return false;
    if (ringId.seq >= this.myRingId.seq) return false;
    this.stats.staleDropped++;
    return true;
  }

  // =====================================================================
  // COMMIT
  // =====================================================================

  private createCommitToken(): CommitToken {
    const members = setMinus(this.procList, this.failedList);
    assert(members[0] === this.me, 'only the lowest processor creates the commit token');
    this.log('Creating commit token because I am the rep.');
    return {
      type: MessageType.CommitToken, sender: this.me,
      ringId: { rep: this.me, seq: this.tokenRingIdSeq + 4 },
      tokenSeq: 0, memberIndex: members.length - 1, members,
      entries: members.map(() => ({ oldRingId: noRing, aru: 0, highDelivered: 0, received: false })),
    };
  }

  private onCommitToken(token: CommitToken): void {
    this.stats.commitTokensReceived++;
    switch (this.memb) {
      case 'gather': this.onCommitTokenInGather(token); break;
      case 'commit': this.onCommitTokenInCommit(token); break;
      case 'recovery': this.onCommitTokenInRecovery(token); break;
      case 'operational': break;
    }
  }

  private onCommitTokenInGather(token: CommitToken): void {
    const candidates = setMinus(this.procList, this.failedList);
    if (!setEqual(token.members, candidates) || token.ringId.seq <= this.myRingId.seq) return;
    // DEVIATION (robustness): accept only when it is my turn on the first pass.
    const myIndex = token.members.indexOf(this.me);
    if ((token.memberIndex + 1) % token.members.length !== myIndex) return;
    this.enterCommit(token);
  }

  private onCommitTokenInCommit(token: CommitToken): void {
    const last = token.members.length - 1;
    if (ringIdEqual(token.ringId, this.myRingId) && token.memberIndex === last) this.enterRecovery(token);
  }

  private onCommitTokenInRecovery(token: CommitToken): void {
    if (!this.isRep() || this.originatedOrfToken || !ringIdEqual(token.ringId, this.myRingId)) return;
    // DEVIATION (robustness): a retransmitted end of the FIRST pass carries a
    // lower token seq than the one I forwarded; only the second pass may start the ring.
    if (seqLt(token.tokenSeq, this.commitTokenSeqSent)) return;
    this.originatedOrfToken = true;
    this.sendInitialOrfToken();
  }

  private enterCommit(received: CommitToken): void {
    this.saveOldRingState();
    const n = received.members.length;
    const index = (received.memberIndex + 1) % n;
    assert(received.members[index] === this.me, 'commit token: my slot is next');
    const entries = received.entries.map((e) => ({ ...e }));
    entries[index] = {
      oldRingId: this.oldRingId, aru: this.oldRingStateAru, highDelivered: this.highDelivered,
      received: this.myAru === this.highSeqReceived,
    };
    markLaggingEntries(entries, index);
    const token: CommitToken = {
      ...received, sender: this.me, tokenSeq: (received.tokenSeq + 1) >>> 0, memberIndex: index, entries,
    };
    this.newMembers = [...received.members];
    this.myRingId = received.ringId;
    this.tokenRingIdSeq = received.ringId.seq;
    this.out.persistRingSeq = received.ringId.seq;
    this.trc = 0;
    this.pbl = 0;
    this.cbl = 0;
    this.memb = 'commit';
    this.timers.cancel(Timer.Join);
    this.timers.cancel(Timer.Consensus);
    this.armTokenTimers();
    this.sendToken(token.members[(index + 1) % n] ?? this.me, token);
    this.stats.commitEntered++;
    this.log(`entering COMMIT state (ring ${ringIdText(this.myRingId)}).`);
  }

  private saveOldRingState(): void {
    if (this.oldRingStateSaved) return;
    this.oldRingStateSaved = true;
    this.oldRingStateAru = this.myAru;
    this.oldRingStateHighSeqReceived = this.highSeqReceived;
  }

  /** a failed recovery attempt: the next attempt starts from the old ring's state. */
  private restoreOldRingState(): void {
    if (!this.oldRingStateSaved) return;
    this.myRingId = { rep: 0, seq: this.myRingId.seq };
    this.myAru = this.oldRingStateAru;
    this.highSeqReceived = this.oldRingStateHighSeqReceived;
    this.log(`Restoring aru ${this.myAru} high seq received ${this.highSeqReceived}`);
  }

  private sendToken(to: number, message: OrfToken | CommitToken): void {
    this.lastToken = { to, message };
    this.send(to, message);
  }

  private armTokenTimers(): void {
    this.timers.arm(Timer.TokenLoss, this.now + this.config.tokenMs);
    this.timers.arm(Timer.TokenRetransmit, this.now + this.config.tokenRetransmitMs);
  }

  // =====================================================================
  // RECOVERY
  // =====================================================================

  private enterRecovery(token: CommitToken): void {
    this.commitEntries = token.entries.map((e) => ({ ...e }));
    this.transMembers = token.members.filter((id, i) =>
      setHas(this.memberList, id) && ringIdEqual(token.entries[i]?.oldRingId ?? noRing, this.oldRingId));
    // DEVIATION (clarity): the deliver set is always the transitional set
    // (corosync refreshes it only when some member needed repair, §5.5).
    this.deliverMembers = this.transMembers;
    this.originateRecoveryMessages(token);
    const start = this.config.seqStart;
    this.recovery.reinit(start);
    this.myAru = start;
    this.highSeqReceived = start;
    this.installSeq = start;
    this.lastAru = start;
    this.aruCount = 0;
    this.seqUnchanged = 0;
    this.myTokenSeq = 0xffffffff;
    this.retransFlagCount = 0;
    this.rotationCounter = 0;
    this.setRetransFlag = false;
    this.originatedOrfToken = false;
    this.memb = 'recovery';
    const forwarded: CommitToken = { ...token, sender: this.me, tokenSeq: (token.tokenSeq + 1) >>> 0 };
    this.commitTokenSeqSent = forwarded.tokenSeq;
    this.sendToken(this.nextMember(), forwarded);
    this.armTokenTimers();
    this.log(`entering RECOVERY state (ring ${ringIdText(this.myRingId)}, trans ${this.transMembers.join(' ')}).`);
  }

  /** queue encapsulated copies of every old message above the lowest trans aru. */
  private originateRecoveryMessages(token: CommitToken): void {
    this.retransQueue = [];
    let low = this.oldRingStateHighSeqReceived;
    let highDelivered = this.config.seqStart;
    let needRepair = false;
    token.members.forEach((id, i) => {
      const entry = token.entries[i];
      if (entry === undefined || !setHas(this.transMembers, id)) return;
      if (!entry.received) needRepair = true;
      low = seqMin(low, entry.aru);
      highDelivered = seqMax(highDelivered, entry.highDelivered);
    });
    this.highRingDelivered = highDelivered;
    if (!needRepair) {
      this.log('Did not need to originate any messages in recovery.');
      return;
    }
    for (let s = seqAdd(low, 1); seqLte(s, this.oldRingStateHighSeqReceived); s = seqAdd(s, 1)) {
      const old = this.regular.get(s);
      if (old === undefined) continue;
      this.retransQueue.push({
        type: MessageType.Mcast, sender: this.me, ringId: this.myRingId, seq: 0,
        guarantee: old.guarantee, payload: new Uint8Array(0), inner: old,
      });
    }
    this.log(`Originated ${this.retransQueue.length} messages in RECOVERY (from ${seqAdd(low, 1)} to ${this.oldRingStateHighSeqReceived}).`);
  }

  private sendInitialOrfToken(): void {
    this.log('Sending initial ORF token');
    const token: OrfToken = {
      type: MessageType.OrfToken, sender: this.me, ringId: this.myRingId,
      seq: this.config.seqStart, tokenSeq: 0, aru: seqAdd(this.config.seqStart, -1), aruAddr: this.me,
      backlog: 0, fcc: 0, retransFlag: true, rtrList: [],
    };
    this.setRetransFlag = true;
    this.sendToken(this.nextMember(), token);
    this.armTokenTimers();
  }

  /** corosync's install condition, run on every RECOVERY token visit (TOTEM.md §5.2). */
  private recoveryTokenLogic(token: OrfToken): void {
    if (this.retransQueue.length > 0) {
      if (!token.retransFlag) {
        token.retransFlag = true;
        this.setRetransFlag = true;
      }
    } else if (token.retransFlag && this.setRetransFlag) {
      token.retransFlag = false;
      this.setRetransFlag = false;
    }
    this.retransFlagCount = token.retransFlag ? 0 : this.retransFlagCount + 1;
    if (this.retransFlagCount === 2) this.installSeq = token.seq;
    const allHold = this.retransFlagCount >= 3 && seqLte(this.installSeq, token.aru);
    this.rotationCounter = allHold ? this.rotationCounter + 1 : 0;
    if (this.rotationCounter === 2) this.enterOperational();
  }

  /** Install the new ring: the EVS delivery sequence of TOTEM.md §5.3. */
  private enterOperational(): void {
    this.unwrapRecoveredMessages();
    const oldHigh = this.oldRingStateHighSeqReceived;
    // 1. old messages up to the first hole (and, with safe delivery, up to the
    //    first safe message no transitional member delivered): old regular configuration
    this.deliverOld(oldHigh, 'old-regular');
    // 2. the transitional configuration
    const left = setMinus(this.memberList, this.transMembers);
    const joined = setMinus(this.newMembers, this.transMembers);
    this.emitConfchg('transitional', this.transMembers, left, []);
    // 3. the remaining old messages, skipping holes and originators outside the deliver set
    this.deliverOld(oldHigh, 'transitional');
    // 4. the regular configuration; a partly sent large message starts over
    this.source.restart();
    this.emitConfchg('regular', this.newMembers, [], joined);
    this.installNewRing(left, joined);
  }

  /** put the old-ring messages carried by recovery copies into the old ring's queue. */
  private unwrapRecoveredMessages(): void {
    for (let s = seqAdd(this.config.seqStart, 1); seqLte(s, this.myAru); s = seqAdd(s, 1)) {
      const inner = this.recovery.get(s)?.inner;
      if (inner === undefined || inner === null || !ringIdEqual(inner.ringId, this.oldRingId)) continue;
      if (this.regular.has(inner.seq) || !this.regular.inRange(inner.seq)) continue;
      this.regular.add(inner.seq, inner);
      this.oldRingStateHighSeqReceived = seqMax(this.oldRingStateHighSeqReceived, inner.seq);
    }
  }

  /**
   * 'old-regular': contiguous old messages, stopping at the first hole and at
   * the first safe message that no transitional member delivered (such a
   * message is not known to be held by every old member: it goes to the
   * transitional configuration). 'transitional': everything left; up to the
   * first hole from any originator (such messages were only held back for
   * safety, and a processor of the old ring may already have delivered them
   * as safe: every old member holding them must deliver them), after the
   * first hole only from originators in the deliver set (corosync: a message
   * after a hole may depend on the missing one).
   */
  private deliverOld(end: number, phase: 'old-regular' | 'transitional'): void {
    let pastHole = false;
    while (seqLt(this.highDelivered, end)) {
      const seq = seqAdd(this.highDelivered, 1);
      const message = this.regular.get(seq);
      if (phase === 'old-regular') {
        if (message === undefined) return;
        if (message.guarantee === Guarantee.Safe && seqLt(this.highRingDelivered, seq)) return;
      }
      this.highDelivered = seq;
      if (message === undefined) {
        pastHole = true;
        continue;
      }
      if (pastHole && !setHas(this.deliverMembers, message.sender)) continue;
      this.deliver(message);
    }
  }

  private emitConfchg(type: 'transitional' | 'regular', members: number[], left: number[], joined: number[]): void {
    const event: ConfchgEvent = {
      kind: 'confchg', type, ringId: this.myRingId, fromRingId: this.oldRingId,
      members: [...members], left: [...left], joined: [...joined],
    };
    this.out.events.push(event);
  }

  private installNewRing(left: number[], joined: number[]): void {
    // the recovery queue becomes the regular queue; the recovery-phase seqs
    // carried old messages and are never delivered as new-ring messages
    assert(this.myAru === this.highSeqReceived, 'install: every recovery message is held');
    const previous = this.regular;
    this.regular = this.recovery;
    this.recovery = previous;
    this.recovery.reinit(this.config.seqStart);
    this.regular.release(this.myAru);
    this.highDelivered = this.myAru;
    this.safePoint = this.myAru;
    this.lastAru = this.config.seqStart;
    this.memberList = [...this.newMembers];
    this.procList = [...this.newMembers];
    this.failedList = [];
    this.oldRingId = this.myRingId;
    this.oldRingStateSaved = false;
    this.setRetransFlag = false;
    this.retransQueue = [];
    this.settling = true;
    this.deferred = [];
    this.memb = 'operational';
    this.stats.ringsInstalled++;
    this.log(`A new membership (${ringIdText(this.myRingId)}) was formed. Members${joined.length ? ` joined: ${joined.join(' ')}` : ''}${left.length ? ` left: ${left.join(' ')}` : ''}`);
    this.log('entering OPERATIONAL state.');
  }

  // =====================================================================
  // MCAST
  // =====================================================================

  private onMcast(message: Mcast): void {
    // my own messages were stored when I sent them; a copy re-sent by another
    // processor carries me as originator too
    if (message.sender === this.me) return;
    this.stats.mcastsReceived++;
    if (!ringIdEqual(message.ringId, this.myRingId)) {
      if (message.inner === null) this.noteRingSeq(message.sender, message.ringId.seq);
      if (!this.isStaleForeign(message.sender, message.ringId) && !this.deferWhileSettling(message)) {
        this.foreignSender(message.sender, GatherReason.ForeignMessageOperational, GatherReason.ForeignMessageGather);
      }
      return;
    }
    // DEVIATION (robustness): the queue follows the state, and a message whose
    // encapsulation does not fit the state is dropped: recovery copies belong
    // to RECOVERY, new-ring originals to OPERATIONAL (old-ring ones to GATHER).
    const inRecovery = this.memb === 'recovery';
    if (this.memb === 'commit' || (message.inner !== null) !== inRecovery) {
      this.stats.mcastsDropped++;
      return;
    }
    const queue = this.activeQueue();
    if (!queue.inRange(message.seq) || queue.has(message.seq)) {
      this.stats.duplicatesDropped++;
      return;
    }
    queue.add(message.seq, message);
    this.highSeqReceived = seqMax(this.highSeqReceived, message.seq);
    this.updateAru();
    if (this.memb === 'operational') this.deliverOperational();
  }

  private updateAru(): void {
    const queue = this.activeQueue();
    while (seqLt(this.myAru, this.highSeqReceived) && queue.has(seqAdd(this.myAru, 1))) {
      this.myAru = seqAdd(this.myAru, 1);
    }
  }

  /** agreed order: in seq order, stop at a hole; a safe message also waits for the safe point. */
  private deliverOperational(): void {
    while (seqLt(this.highDelivered, this.highSeqReceived)) {
      const seq = seqAdd(this.highDelivered, 1);
      const message = this.regular.get(seq);
      if (message === undefined) return;
      if (message.guarantee === Guarantee.Safe && seqLt(this.safePoint, seq)) return;
      this.highDelivered = seq;
      this.deliver(message);
    }
  }

  private deliver(message: Mcast): void {
    this.stats.delivered++;
    this.out.events.push({
      kind: 'deliver', sender: message.sender, ringId: message.ringId, seq: message.seq,
      guarantee: message.guarantee, payload: message.payload,
    });
  }

  // =====================================================================
  // ORF token (TOTEM.md §4.2)
  // =====================================================================

  private onTokenHoldCancel(cancel: TokenHoldCancel, local = false): void {
    if (!local && cancel.sender === this.me) return;
    if (!ringIdEqual(cancel.ringId, this.myRingId)) return;
    this.seqUnchanged = 0;
    if (this.isRep() && (this.memb === 'operational' || this.memb === 'recovery')) {
      this.timers.cancel(Timer.TokenHold);
      this.retransmitToken();
      this.timers.arm(Timer.TokenRetransmit, this.now + this.config.tokenRetransmitMs);
    }
  }

  private onToken(token: OrfToken): void {
    this.stats.tokensReceived++;
    if (this.memb === 'gather' || this.memb === 'commit') return; // orf_token_discard
    if (!ringIdEqual(token.ringId, this.myRingId)) return;
    if (seqLte(token.tokenSeq, this.myTokenSeq)) {
      // a retransmitted token: my predecessor is alive
      this.stats.tokenDuplicates++;
      this.timers.arm(Timer.TokenLoss, this.now + this.config.tokenMs);
      return;
    }
    if (this.memb === 'operational' && this.endSettling()) return;
    const forward = this.idleBookkeeping(token);
    if (this.memb === 'operational') this.releaseMessages(token.aru);
    const previousAru = this.lastAru;
    this.lastAru = token.aru;
    this.safePoint = seqMin(token.aru, previousAru);
    let allowed = this.fccCalculate(token);
    const sentRetransmits = this.serveAndExtendRtrList(token, allowed);
    allowed = this.fccRtrLimit(token, allowed - sentRetransmits);
    const sentNew = this.multicastPending(token, allowed);
    this.fccTokenUpdate(token, sentRetransmits + sentNew);
    this.maintainAru(token, previousAru);
    if (this.aruCount > this.config.failRecvConst && token.aruAddr === this.me) {
      this.failedToReceive();
      return;
    }
    this.myTokenSeq = token.tokenSeq;
    token.tokenSeq = (token.tokenSeq + 1) >>> 0;
    if (this.memb === 'recovery') this.recoveryTokenLogic(token);
    token.sender = this.me;
    this.lastToken = { to: this.nextMember(), message: token };
    if (forward) this.send(this.lastToken.to, token);
    if (this.memb === 'operational') this.deliverOperational();
    this.armTokenTimers();
    if (!forward) this.timers.arm(Timer.TokenHold, this.now + this.config.holdMs);
  }

  /** merge detection and hold decisions on an idle ring (§3.6); returns whether to forward. */
  private idleBookkeeping(token: OrfToken): boolean {
    if (token.seq === this.lastSeq) {
      this.seqUnchanged++;
      this.timers.armIfIdle(Timer.MergeDetect, this.now + this.config.mergeMs);
    } else {
      this.seqUnchanged = 0;
      this.timers.cancel(Timer.MergeDetect);
      this.timers.cancel(Timer.TokenHold);
    }
    this.lastSeq = token.seq;
    const constant = this.config.seqnoUnchangedConst;
    this.tokenHeld = this.isRep() ? this.seqUnchanged > constant : this.seqUnchanged >= constant;
    if (this.source.backlog() > 0 && this.memb === 'operational') this.tokenHeld = false;
    return !(this.isRep() && this.tokenHeld);
  }

  /** free every seq that two successive visits show all members hold (§4.6). */
  private releaseMessages(tokenAru: number): void {
    const releaseTo = seqMin(seqMin(tokenAru, this.lastAru), this.highDelivered);
    if (seqLt(this.regular.releasedSeq, releaseTo)) this.regular.release(releaseTo);
  }

  private backlog(): number {
    if (this.memb === 'operational') return this.source.backlog();
    return this.retransQueue.length;
  }

  private fccCalculate(token: OrfToken): number {
    const { maxMessages, windowSize } = this.config;
    let allowed = Math.max(0, Math.min(maxMessages, windowSize - token.fcc));
    this.cbl = this.backlog();
    const denominator = token.backlog + this.cbl - this.pbl;
    if (denominator > 0) {
      const share = Math.floor((windowSize * this.pbl) / denominator);
      if (share > 0) allowed = Math.min(allowed, share);
    }
    return allowed;
  }

  /** don't run more than the sort-queue window ahead of the release point. */
  private fccRtrLimit(token: OrfToken, allowed: number): number {
    const queue = this.activeQueue();
    const limit = seqAdd(queue.releasedSeq, queue.size - allowed - this.config.windowSize);
    return seqLt(limit, token.seq) ? 0 : Math.max(0, allowed);
  }

  private fccTokenUpdate(token: OrfToken, sent: number): void {
    token.fcc = Math.max(0, token.fcc + sent - this.trc);
    token.backlog = Math.max(0, token.backlog + this.cbl - this.pbl);
    this.trc = sent;
    this.pbl = this.cbl;
  }

  /** §4.4: re-multicast what others asked for, then ask for what I miss. */
  private serveAndExtendRtrList(token: OrfToken, allowed: number): number {
    const queue = this.activeQueue();
    let sent = 0;
    const remaining: RtrItem[] = [];
    for (const item of token.rtrList) {
      const held = sent < allowed && ringIdEqual(item.ringId, this.myRingId) ? queue.get(item.seq) : undefined;
      if (held === undefined) {
        remaining.push(item);
        continue;
      }
      this.send(toAll, held);
      sent++;
    }
    this.stats.retransmitsSent += sent;
    const requested: number[] = [];
    const range = seqDiff(token.seq, this.myAru);
    for (let i = 1; i <= range && remaining.length < rtrEntriesMax; i++) {
      const seq = seqAdd(this.myAru, i);
      if (!queue.inRange(seq)) break;
      if (queue.has(seq)) continue;
      if (queue.bumpMissCount(seq) < this.config.missCountConst) continue;
      if (remaining.some((item) => item.seq === seq && ringIdEqual(item.ringId, this.myRingId))) continue;
      remaining.push({ ringId: this.myRingId, seq });
      requested.push(seq);
    }
    if (requested.length > 0) {
      this.stats.retransmitsRequested += requested.length;
      this.log(`Retransmit List: ${requested.map((s) => s.toString(16)).join(' ')}`);
    }
    token.rtrList = remaining;
    return sent;
  }

  /** §4.3: assign seqs to pending datagrams (RECOVERY: to old-ring copies). */
  private multicastPending(token: OrfToken, allowed: number): number {
    const queue = this.activeQueue();
    let sent = 0;
    while (sent < allowed) {
      const message = this.nextToMulticast(token);
      if (message === null) break;
      queue.add(message.seq, message);
      this.send(toAll, message);
      sent++;
    }
    if (sent > 0) {
      this.highSeqReceived = token.seq;
      this.updateAru();
      this.stats.mcastsSent += sent;
    }
    return sent;
  }

  private nextToMulticast(token: OrfToken): Mcast | null {
    if (this.memb === 'recovery') {
      const copy = this.retransQueue.shift();
      if (copy === undefined) return null;
      token.seq = seqAdd(token.seq, 1);
      return { ...copy, seq: token.seq, ringId: this.myRingId };
    }
    const outgoing = this.source.next();
    if (outgoing === null) return null;
    token.seq = seqAdd(token.seq, 1);
    return {
      type: MessageType.Mcast, sender: this.me, ringId: this.myRingId, seq: token.seq,
      guarantee: outgoing.guarantee, payload: outgoing.payload, inner: null,
    };
  }

  /** the paper's aru rule, then fail-to-receive counting (§4.2, §3.7). */
  private maintainAru(token: OrfToken, previousAru: number): void {
    if (seqLt(this.myAru, token.aru) || token.aruAddr === this.me || token.aruAddr === 0) {
      token.aru = this.myAru;
      token.aruAddr = token.aru === token.seq ? 0 : this.me;
    }
    this.aruCount = token.aru === previousAru && token.aruAddr !== 0 ? this.aruCount + 1 : 0;
  }

  /**
   * DEVIATION (corosync, not the paper): the processor that sees itself stuck
   * as the token's aru holder for failRecvConst visits expels itself; only it
   * knows for sure that it is the one not receiving.
   */
  private failedToReceive(): void {
    this.log('FAILED TO RECEIVE');
    this.stats.failedToReceive++;
    this.failedToRecv = true;
    this.failedList = setUnion(this.failedList, [this.me]);
    this.enterGather(GatherReason.FailedToReceive);
  }
}

/**
 * corosync's received-flag rule on the commit token: an entry whose aru is
 * below that of an earlier-or-equal entry from the same old ring needs repair.
 */
function markLaggingEntries(entries: CommitEntry[], index: number): void {
  const mine = entries[index];
  assert(mine !== undefined, 'commit entry exists');
  let highAru = mine.aru;
  for (let i = 0; i <= index; i++) {
    const entry = entries[i];
    if (entry !== undefined && ringIdEqual(entry.oldRingId, mine.oldRingId)) highAru = seqMax(highAru, entry.aru);
  }
  for (let i = 0; i <= index; i++) {
    const entry = entries[i];
    if (entry !== undefined && ringIdEqual(entry.oldRingId, mine.oldRingId) && seqLt(entry.aru, highAru)) {
      entries[i] = { ...entry, received: false };
    }
  }
}

