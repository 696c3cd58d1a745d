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
 * Shaped like etcd raft: this file takes the inputs, applies the rules every
 * membership state shares, then calls the current state's step (or timeout)
 * function, which `enterGather` / `enterCommit` / `enterRecovery` /
 * `enterOperational` set together with the state. Where to read what:
 *   gather.ts       GATHER: join rules, consensus, proc and failed sets
 *   commit.ts       COMMIT: the commit token's two passes, old-ring save/restore
 *   recovery.ts     RECOVERY: encapsulated old messages, the install condition
 *   install.ts      the EVS delivery sequence that installs a ring
 *   operational.ts  OPERATIONAL: multicast receipt and delivery, merge detection
 *   token-visit.ts  the token visit: flow control, retransmit list, aru, safe point
 *   invariants.ts   what is checked after every step
 *   state.ts        the state they share
 *
 * Where this code follows the paper rather than corosync, or the reverse, it
 * says so in a comment tagged DEVIATION and docs/DEVIATIONS.md lists them.
 */
import { assert } from '../assert.ts';
import { timerFiringsMax } from '../limits.ts';
import { MessageType, ringIdEqual, ringIdText, type Join, type Message, type RingId, type TokenHoldCancel } from '../wire/messages.ts';
import { enterCommit } from './commit.ts';
import { enterGather, isStaleExclusion } from './gather.ts';
import { GatherReason } from './gather-reason.ts';
import { enterOperational } from './install.ts';
import { Invariants } from './invariants.ts';
import { setMinus, setUnion } from './node-set.ts';
import { toAll, type Ready } from './ready.ts';
import { enterRecovery } from './recovery.ts';
import { ProcessorState, type MembState, type ProcessorOptions } from './state.ts';
import type { ProcessorStats } from './stats.ts';
import { Timer } from './timers.ts';

export type { MembState, ProcessorOptions } from './state.ts';

export class Processor {
  readonly stats: ProcessorStats;
  private readonly s: ProcessorState;
  private readonly invariants: Invariants;

  constructor(readonly options: ProcessorOptions) {
    const s = new ProcessorState(options);
    s.enterGather = (reason) => enterGather(s, reason);
    s.enterCommit = (token) => enterCommit(s, token);
    s.enterRecovery = (token) => enterRecovery(s, token);
    s.enterOperational = () => enterOperational(s);
    s.replay = (message) => this.dispatch(message);
    this.s = s;
    this.stats = s.stats;
    this.invariants = new Invariants(options.verify ?? false);
  }

  // =====================================================================
  // Inputs
  // =====================================================================

  /** interface up: enter GATHER. */
  start(now: number): void {
    const s = this.s;
    assert(!s.started, 'start is called once');
    s.started = true;
    s.now = now;
    s.log(`Created or loaded sequence id ${ringIdText(s.myRingId)} for this ring.`);
    s.enterGather(GatherReason.InterfaceChange);
    this.invariants.check(s);
  }

  handleMessage(now: number, message: Message): void {
    if (!this.observeTime(now)) return;
    this.dispatch(message);
    this.invariants.check(this.s);
  }

  handleTimeout(now: number): void {
    if (!this.observeTime(now)) return;
    const s = this.s;
    for (let fired = 0; fired < timerFiringsMax; fired++) {
      const timer = s.timers.takeExpired(now);
      if (timer === -1) return;
      if (timer === Timer.TokenLoss) s.stats.tokenLosses++;
      s.onTimeout(s, timer);
      this.invariants.check(s);
      if (s.isStopped) return;
    }
  }

  /** the source got new data: cancel a token hold if one is in force. */
  notifyPending(now: number): void {
    if (!this.observeTime(now)) return;
    const s = this.s;
    if (!s.tokenHeld || s.memb !== 'operational') return;
    s.tokenHeld = false;
    const cancel: TokenHoldCancel = { type: MessageType.TokenHoldCancel, sender: s.me, ringId: s.myRingId };
    s.send(toAll, cancel);
    this.onTokenHoldCancel(cancel);
    this.invariants.check(s);
  }

  /**
   * The driver noticed that the process was not scheduled for `pausedMs`
   * (pause-guard.ts). The token-loss and consensus timers measure the others'
   * silence; while I slept they measured mine. Armed ones restart from now,
   * whole, instead of firing: the others get a full timeout to show they are
   * alive (TOTEM.md §3.8). Timers that only re-send (token retransmit, join,
   * hold, merge detect) fire as usual.
   */
  paused(now: number, pausedMs: number): void {
    if (!this.observeTime(now)) return;
    const s = this.s;
    s.stats.pausesDetected++;
    s.log(`Process pause detected for ${Math.round(pausedMs)} ms, flushing membership messages.`);
    if (s.timers.isArmed(Timer.TokenLoss)) s.timers.arm(Timer.TokenLoss, now + s.config.tokenMs);
    if (s.timers.isArmed(Timer.Consensus)) s.timers.arm(Timer.Consensus, now + s.config.consensusMs);
    this.invariants.check(s);
  }

  /** graceful stop: multicast LEAVE; the processor is stopped afterwards. */
  leave(now: number): void {
    if (!this.observeTime(now)) return;
    const s = this.s;
    const leave: Join = {
      type: MessageType.Join, sender: s.me, leave: true, ringSeq: s.myRingId.seq,
      procList: setMinus(s.procList, [s.me]), failedList: setUnion(s.failedList, [s.me]),
    };
    s.send(toAll, leave);
    s.log('leaving the ring (LEAVE sent)');
    this.stop();
    this.invariants.check(s);
  }

  /** stop without a LEAVE (crash-like); releases nothing but timers. */
  stop(): void {
    this.s.isStopped = true;
    this.s.timers.cancelAll();
  }

  // =====================================================================
  // Outputs and getters
  // =====================================================================

  nextDeadline(): number {
    return this.s.isStopped ? Infinity : this.s.timers.nextDeadline();
  }

  ready(): Ready {
    const out = this.s.out;
    this.s.out = { sends: [], events: [], persistRingSeq: null };
    return out;
  }

  get state(): MembState { return this.s.memb; }
  get ringId(): RingId { return this.s.myRingId; }
  get members(): readonly number[] { return this.s.memberList; }
  get stopped(): boolean { return this.s.isStopped; }
  get nodeId(): number { return this.s.me; }

  // =====================================================================
  // The rules every state shares, then the state's step function
  // =====================================================================

  /** every input first: time only moves forward; a stopped processor ignores inputs. */
  private observeTime(now: number): boolean {
    const s = this.s;
    assert(s.started, 'start before handling inputs');
    assert(now >= s.now, 'time does not go backwards');
    s.now = now;
    return !s.isStopped;
  }

  private dispatch(message: Message): void {
    const s = this.s;
    switch (message.type) {
      case MessageType.OrfToken:
        s.stats.tokensReceived++;
        break;
      case MessageType.Mcast:
        // my own messages were stored when I sent them; a copy re-sent by
        // another processor carries me as originator too
        if (message.sender === s.me) return;
        s.stats.mcastsReceived++;
        if (message.inner === null && !ringIdEqual(message.ringId, s.myRingId)) s.noteRingSeq(message.sender, message.ringId.seq);
        break;
      case MessageType.Join:
        if (message.sender === s.me) return; // processed locally when sent
        s.stats.joinsReceived++;
        s.tokenRingIdSeq = Math.max(s.tokenRingIdSeq, message.ringSeq);
        if (isStaleExclusion(s, message)) return;
        break;
      case MessageType.CommitToken:
        s.stats.commitTokensReceived++;
        break;
      case MessageType.MergeDetect:
        if (message.sender === s.me || ringIdEqual(message.ringId, s.myRingId)) return;
        s.noteRingSeq(message.sender, message.ringId.seq);
        break;
      case MessageType.TokenHoldCancel:
        if (message.sender !== s.me) this.onTokenHoldCancel(message);
        return;
    }
    s.step(s, message);
  }

  /** a hold cancel of my ring (mine included, from notifyPending) resets the idle count. */
  private onTokenHoldCancel(cancel: TokenHoldCancel): void {
    const s = this.s;
    if (!ringIdEqual(cancel.ringId, s.myRingId)) return;
    s.seqUnchanged = 0;
    s.step(s, cancel);
  }
}
