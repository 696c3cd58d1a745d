/**
 * Installing the new ring: the EVS delivery sequence of TOTEM.md §5.3, run
 * once when RECOVERY's install condition holds.
 *   1. old messages up to the first hole: still in the old regular configuration;
 *   2. the transitional configuration;
 *   3. the remaining old messages, in the transitional configuration;
 *   4. the regular configuration, and OPERATIONAL on the new ring.
 */
import { assert } from '../assert.ts';
import { Guarantee, ringIdEqual, ringIdText, type Mcast } from '../wire/messages.ts';
import { setHas, setMinus } from './node-set.ts';
import { onOperationalTimeout, stepOperational } from './operational.ts';
import type { ConfchgEvent } from './ready.ts';
import { seqAdd, seqLt, seqLte, seqMax } from './seq.ts';
import type { ProcessorState } from './state.ts';

export function enterOperational(s: ProcessorState): void {
  unwrapRecoveredMessages(s);
  const oldHigh = s.oldRingStateHighSeqReceived;
  // 1. old messages up to the first hole (and, with safe delivery, up to the
  //    first safe message no transitional member delivered): old regular configuration
  deliverOld(s, oldHigh, 'old-regular');
  // 2. the transitional configuration
  const left = setMinus(s.memberList, s.transMembers);
  const joined = setMinus(s.newMembers, s.transMembers);
  emitConfchg(s, 'transitional', s.transMembers, left, []);
  // 3. the remaining old messages, skipping holes and originators outside the deliver set
  deliverOld(s, oldHigh, 'transitional');
  // 4. the regular configuration; a partly sent large message starts over
  s.source.restart();
  emitConfchg(s, 'regular', s.newMembers, [], joined);
  installNewRing(s, left, joined);
}

/** put the old-ring messages carried by recovery copies into the old ring's queue. */
function unwrapRecoveredMessages(s: ProcessorState): void {
  for (let seq = seqAdd(s.config.seqStart, 1); seqLte(seq, s.myAru); seq = seqAdd(seq, 1)) {
    const inner = s.recovery.get(seq)?.inner;
    if (inner === undefined || inner === null || !ringIdEqual(inner.ringId, s.oldRingId)) continue;
    if (s.regular.has(inner.seq) || !s.regular.inRange(inner.seq)) continue;
    s.regular.add(inner.seq, inner);
    s.oldRingStateHighSeqReceived = seqMax(s.oldRingStateHighSeqReceived, inner.seq);
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
function deliverOld(s: ProcessorState, end: number, phase: 'old-regular' | 'transitional'): void {
  let pastHole = false;
  while (seqLt(s.highDelivered, end)) {
    const seq = seqAdd(s.highDelivered, 1);
    const message: Mcast | undefined = s.regular.get(seq);
    if (phase === 'old-regular') {
      if (message === undefined) return;
      if (message.guarantee === Guarantee.Safe && seqLt(s.highRingDelivered, seq)) return;
    }
    s.highDelivered = seq;
    if (message === undefined) {
      pastHole = true;
      continue;
    }
    if (pastHole && !setHas(s.deliverMembers, message.sender)) continue;
    s.deliver(message);
  }
}

function emitConfchg(s: ProcessorState, type: 'transitional' | 'regular', members: number[], left: number[], joined: number[]): void {
  const event: ConfchgEvent = {
    kind: 'confchg', type, ringId: s.myRingId, fromRingId: s.oldRingId,
    members: [...members], left: [...left], joined: [...joined],
  };
  s.out.events.push(event);
}

function installNewRing(s: ProcessorState, left: number[], joined: number[]): void {
  // the recovery queue becomes the regular queue; the recovery-phase seqs
  // carried old messages and are never delivered as new-ring messages
  assert(s.myAru === s.highSeqReceived, 'install: every recovery message is held');
  const previous = s.regular;
  s.regular = s.recovery;
  s.recovery = previous;
  s.recovery.reinit(s.config.seqStart);
  s.regular.release(s.myAru);
  s.highDelivered = s.myAru;
  s.safePoint = s.myAru;
  s.lastAru = s.config.seqStart;
  s.memberList = [...s.newMembers];
  s.procList = [...s.newMembers];
  s.failedList = [];
  s.excludedBy.clear();
  s.oldRingId = s.myRingId;
  s.oldRingStateSaved = false;
  s.setRetransFlag = false;
  s.retransQueue = [];
  s.settling = true;
  s.deferred = [];
  s.become('operational', stepOperational, onOperationalTimeout);
  s.stats.ringsInstalled++;
  s.log(`A new membership (${ringIdText(s.myRingId)}) was formed. Members${joined.length ? ` joined: ${joined.join(' ')}` : ''}${left.length ? ` left: ${left.join(' ')}` : ''}`);
  s.log('entering OPERATIONAL state.');
}
