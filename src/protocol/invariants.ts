/**
 * What must hold between steps (TigerBeetle's `invariants()` after every
 * tick). Processor runs `check` after each input and each timer firing. The
 * cheap checks are O(1) and always on; the costly ones walk sets or a queue
 * window and run when `ProcessorOptions.verify` is set, as the simulator does.
 * Each condition is asserted on its own so a failure names the part that broke.
 */
import { assert } from '../assert.ts';
import { deferredMessagesMax, rtrEntriesMax } from '../limits.ts';
import { MessageType, ringIdEqual, type Mcast, type OrfToken, type RtrItem } from '../wire/messages.ts';
import { toAll, type Send } from './ready.ts';
import { setEqual, setHas, setSubset } from './node-set.ts';
import { seqAdd, seqLt, seqLte } from './seq.ts';
import type { SortQueue } from './sort-queue.ts';
import type { ProcessorState } from './state.ts';
import { Timer } from './timers.ts';

export class Invariants {
  /** the highest ring seq seen at a check: ring seqs never go back. */
  private ringSeqHigh = 0;

  constructor(private readonly costly: boolean) {}

  check(s: ProcessorState): void {
    this.checkCheap(s);
    if (this.costly) checkCostly(s);
  }

  private checkCheap(s: ProcessorState): void {
    assert(seqLte(s.myAru, s.highSeqReceived), 'invariant: aru <= highest seq received');
    if (s.memb === 'operational') assert(seqLte(s.highDelivered, s.myAru), 'invariant: OPERATIONAL: delivered <= aru');
    assert(seqLte(s.regular.releasedSeq, s.highDelivered), 'invariant: released <= delivered (nothing undelivered is freed)');
    assert(s.myRingId.seq >= this.ringSeqHigh, 'invariant: ring seq only grows');
    this.ringSeqHigh = s.myRingId.seq;
    assert(s.tokenRingIdSeq >= s.myRingId.seq, 'invariant: the highest ring seq seen is at least mine');
    assert(s.out.persistRingSeq === null || s.out.persistRingSeq === s.myRingId.seq, 'invariant: the ring seq to persist is my ring\'s');
    if (s.memb === 'operational' || s.memb === 'recovery') {
      const queue = s.memb === 'recovery' ? s.recovery : s.regular;
      assert(s.myAru === s.highSeqReceived || !queue.has(seqAdd(s.myAru, 1)), 'invariant: aru stops at a hole');
    }
    assert(s.window >= s.config.windowSizeMin && s.window <= s.config.windowSize, 'invariant: windowSizeMin <= window <= windowSize');
    assert(!s.settling || s.memb === 'operational', 'invariant: settling only in OPERATIONAL');
    assert(s.settling || s.deferred.length === 0, 'invariant: deferred messages only while settling');
    assert(s.deferred.length <= deferredMessagesMax, 'invariant: deferred messages <= deferredMessagesMax');
    if (s.memb !== 'gather') assert(s.lastToken !== null, 'invariant: a ring being formed or run has a token to retransmit');
    if (s.isStopped) return;
    if (s.memb === 'gather') assert(s.timers.isArmed(Timer.Join), 'invariant: GATHER: the join timer is armed');
    else assert(s.timers.isArmed(Timer.TokenLoss), 'invariant: COMMIT, RECOVERY, OPERATIONAL: the token-loss timer is armed');
  }
}

function isAscendingSet(set: readonly number[]): boolean {
  for (let i = 1; i < set.length; i++) if ((set[i] ?? 0) <= (set[i - 1] ?? 0)) return false;
  return true;
}

function checkCostly(s: ProcessorState): void {
  assert(isAscendingSet(s.procList), 'invariant: proc list is an ascending set');
  assert(isAscendingSet(s.failedList), 'invariant: failed list is an ascending set');
  assert(isAscendingSet(s.memberList), 'invariant: member list is an ascending set');
  assert(isAscendingSet(s.newMembers), 'invariant: new member list is an ascending set');
  assert(isAscendingSet(s.transMembers), 'invariant: transitional member list is an ascending set');
  if (s.started) assert(setHas(s.procList, s.me), 'invariant: I am in my proc list');
  if (s.memb !== 'gather') assert(setHas(s.newMembers, s.me), 'invariant: I am a member of the ring being formed or run');
  if (s.memb === 'recovery') {
    assert(setSubset(s.transMembers, s.memberList), 'invariant: RECOVERY: transitional members were in my old ring');
    assert(setSubset(s.transMembers, s.newMembers), 'invariant: RECOVERY: transitional members are in the new ring');
  }
  if (s.memb === 'operational') {
    assert(setEqual(s.memberList, s.newMembers), 'invariant: OPERATIONAL: members are the ring installed');
    assert(setEqual(s.procList, s.memberList), 'invariant: OPERATIONAL: proc list is the members');
    assert(s.failedList.length === 0, 'invariant: OPERATIONAL: failed list is empty');
  }
  if (s.memb === 'operational' || s.memb === 'recovery') {
    const queue = s.memb === 'recovery' ? s.recovery : s.regular;
    for (let seq = seqAdd(queue.releasedSeq, 1); seqLte(seq, s.myAru); seq = seqAdd(seq, 1)) {
      assert(queue.has(seq), 'invariant: every seq from the release point to my aru is held');
    }
  }
}

/**
 * The retransmit list a token visit forwards (costly; from token-visit.ts):
 * entries from `kept` on are my requests, each for a seq of my ring above my
 * aru and my safe point, up to `limit` (the token's seq; accelerated: at most
 * the seq of the token I forwarded on my previous visit), that I miss, and
 * asked for once; an entry of my ring I could have served is not left on the
 * list while allowance remained.
 */
export function checkRtrList(
  s: ProcessorState, queue: SortQueue<Mcast>, limit: number, list: readonly RtrItem[], kept: number, allowanceLeft: boolean,
): void {
  assert(list.length <= Math.max(kept, rtrEntriesMax), 'invariant: rtr list: my requests stop at rtrEntriesMax');
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    assert(item !== undefined, 'invariant: rtr list: no empty slots');
    const mine = ringIdEqual(item.ringId, s.myRingId);
    if (i < kept) {
      if (mine && allowanceLeft) assert(!queue.has(item.seq), 'invariant: rtr list: what I hold is served while allowance remains');
      continue;
    }
    assert(mine, 'invariant: rtr list: my requests name my ring');
    assert(seqLt(s.myAru, item.seq), 'invariant: rtr list: a request is above my aru');
    assert(seqLt(s.safePoint, item.seq), 'invariant: rtr list: a request is above my safe point');
    assert(seqLte(item.seq, limit), 'invariant: rtr list: a request is at most the request limit');
    assert(!queue.has(item.seq), 'invariant: rtr list: a request is for a seq I miss');
    for (let j = 0; j < i; j++) {
      const other = list[j];
      assert(other === undefined || other.seq !== item.seq || !ringIdEqual(other.ringId, item.ringId), 'invariant: rtr list: a seq is requested once');
    }
  }
}

export interface VisitShape {
  /** the token's seq when it reached me. */
  readonly receivedSeq: number;
  readonly retransmits: number;
  readonly newMessages: number;
  /** new messages sent after the token (accelerated), else 0. */
  readonly held: number;
  /** the token forwarded, or null when the representative holds it. */
  readonly token: OrfToken | null;
}

/**
 * What one token visit put on the wire, from `first` on (costly; from
 * token-visit.ts): the retransmissions (seqs up to the seq the token brought),
 * then the new messages before the token, the token, then the held ones, and
 * nothing else. New messages are multicast, carry consecutive seqs above the
 * seq the token brought, and the token's seq is the last of them: a message
 * numbered on this visit is never sent on a later one.
 */
export function checkVisitSends(s: ProcessorState, sends: readonly Send[], first: number, v: VisitShape): void {
  const expected = v.retransmits + v.newMessages + (v.token === null ? 0 : 1);
  assert(sends.length - first === expected, 'invariant: visit: retransmissions, new messages and the token, nothing else');
  assert(v.held <= v.newMessages, 'invariant: visit: only new messages wait for the token');
  let at = first;
  for (let i = 0; i < v.retransmits; i++, at++) {
    const send = sends[at];
    assert(send !== undefined && send.to === toAll && send.message.type === MessageType.Mcast, 'invariant: visit: retransmissions go first, multicast');
    assert(seqLte(send.message.seq, v.receivedSeq), 'invariant: visit: a retransmission was numbered before this visit');
  }
  const tokenAt = at + v.newMessages - v.held;
  let seq = v.receivedSeq;
  for (; at < sends.length; at++) {
    const send = sends[at];
    assert(send !== undefined, 'invariant: visit: no empty sends');
    if (at === tokenAt && v.token !== null) {
      assert(send.message === v.token, 'invariant: visit: the token goes after the pre-token messages');
      continue;
    }
    seq = seqAdd(seq, 1);
    assert(send.to === toAll && send.message.type === MessageType.Mcast && send.message.seq === seq,
      'invariant: visit: new messages are multicast in seq order, right after the seq the token brought');
  }
  if (v.token !== null) assert(v.token.seq === seq, 'invariant: visit: the token carries the seq of the last new message');
}
