/**
 * Every checker can fail: for each invariant of TOTEM.md §11 (1–19) a
 * small hand-written log that breaks it, and the checker reports exactly that
 * invariant. A valid log (the §5.6 worked example: 5 nodes split 3+2, then
 * merge) passes every check.
 */
import { describe, expect, it } from 'vitest';
import {
  checkLiveness, checkSafety, checkSteadyProgress, drainBoundMs, drainRotationMs, drainRotations, hasCycle, livenessBoundMs, retryRotations, transmissionsPerDatagram,
  type FlowInput, type LivenessInput, type Violation,
} from '../../sim/checkers.ts';
import { LogBuilder } from '../../sim/log.ts';
import { Guarantee, type RingId } from '../../../src/wire/messages.ts';

const ring = (rep: number, seq: number): RingId => ({ rep, seq });
const safe = { guarantee: Guarantee.Safe } as const;

/** Invariant numbers reported, deduplicated and sorted. */
function invariants(violations: readonly Violation[]): number[] {
  return [...new Set(violations.map((v) => v.invariant))].sort((a, b) => a - b);
}

/** Fresh start of `nodes` straight into one ring. */
function formRing(b: LogBuilder, nodes: readonly number[], r: RingId): LogBuilder {
  for (const n of nodes) b.start(n);
  for (const n of nodes) b.change(n, ring(n, 1), r, { trans: [], members: nodes, joined: nodes });
  return b;
}

/** Nodes 1, 2 in ring (1,4); each sent and both delivered one message. */
function base(): LogBuilder {
  const b = formRing(new LogBuilder(), [1, 2], ring(1, 4));
  b.send(1, 1).send(2, 1);
  for (const n of [1, 2]) b.deliver(n, 1, 1, ring(1, 4), 1).deliver(n, 2, 1, ring(1, 4), 2);
  return b;
}

function deliverAll(b: LogBuilder, nodes: readonly number[], sender: number, counter: number, r: RingId, seq: number,
  options: { guarantee?: Guarantee } = {}): void {
  for (const n of nodes) b.deliver(n, sender, counter, r, seq, options);
}

/**
 * TOTEM.md §5.6 as the application sees it: R1 = (1,100) with {1..5}; seqs
 * 1..10 delivered everywhere; 11 (from 2) seen by 2,3 (and delivered by 1 at
 * install), 12 (4) and 14 (5) only by B = {4,5}, 13 (3) only by A = {1,2,3}.
 * Split: A → (1,104), B → (4,104). Then A orders 7 messages, B 5, and the
 * merge forms (1,108) with everyone, where 3 more messages go around.
 */
function workedExample(): LogBuilder {
  const all = [1, 2, 3, 4, 5];
  const a = [1, 2, 3];
  const bSide = [4, 5];
  const r1 = ring(1, 100);
  const ra = ring(1, 104);
  const rb = ring(4, 104);
  const r3 = ring(1, 108);
  const b = formRing(new LogBuilder(), all, r1);
  const counters = new Map<number, number>();
  const send = (n: number, options: { guarantee?: Guarantee } = {}): number => {
    const c = (counters.get(n) ?? 0) + 1;
    counters.set(n, c);
    b.send(n, c, options);
    return c;
  };
  for (let seq = 1; seq <= 10; seq++) {
    const sender = ((seq - 1) % 5) + 1;
    deliverAll(b, all, sender, send(sender), r1, seq);
  }
  const m11 = send(2);
  const m12 = send(4);
  const m13 = send(3, safe);
  const m14 = send(5);
  // In R1: 2 and 3 delivered m11.
  deliverAll(b, [2, 3], 2, m11, r1, 11);
  // Install on A: node 1 delivers m11 (contiguous), then TRANS, m13, REG.
  b.deliver(1, 2, m11, r1, 11);
  for (const n of a) {
    b.conf(n, 'transitional', ra, r1, { members: a, left: bSide });
    b.deliver(n, 3, m13, r1, 13, safe);
    b.conf(n, 'regular', ra, r1, { members: a });
  }
  // Install on B: nothing contiguous, TRANS, m12 and m14, REG.
  for (const n of bSide) {
    b.conf(n, 'transitional', rb, r1, { members: bSide, left: a });
    b.deliver(n, 4, m12, r1, 12).deliver(n, 5, m14, r1, 14);
    b.conf(n, 'regular', rb, r1, { members: bSide });
  }
  for (let seq = 1; seq <= 7; seq++) {
    const sender = a[(seq - 1) % 3] as number;
    deliverAll(b, a, sender, send(sender, seq === 7 ? safe : {}), ra, seq, seq === 7 ? safe : {});
  }
  for (let seq = 1; seq <= 5; seq++) {
    const sender = bSide[(seq - 1) % 2] as number;
    deliverAll(b, bSide, sender, send(sender), rb, seq);
  }
  for (const n of a) b.change(n, ra, r3, { trans: a, members: all, joined: bSide });
  for (const n of bSide) b.change(n, rb, r3, { trans: bSide, members: all, joined: a });
  for (const n of all) b.state(n, 'operational', r3);
  for (let seq = 1; seq <= 3; seq++) {
    const sender = all[seq] as number;
    deliverAll(b, all, sender, send(sender, seq === 2 ? safe : {}), r3, seq, seq === 2 ? safe : {});
  }
  return b;
}

describe('checkSafety: a valid log passes', () => {
  it('§5.6: 5 nodes split 3+2, then merge', () => {
    const b = workedExample();
    expect(checkSafety(b.log.records)).toEqual([]);
  });

  it('the base log used by the failing cases passes', () => {
    expect(checkSafety(base().log.records)).toEqual([]);
  });

  it('a restarted node leaves and rejoins in one change (TOTEM.md §7)', () => {
    const b = base();
    b.crash(2).start(2, 4);
    b.change(1, ring(1, 4), ring(1, 9), { trans: [1], left: [2], members: [1, 2], joined: [2] });
    b.change(2, ring(2, 5), ring(1, 9), { trans: [], members: [1, 2], joined: [1, 2] });
    b.send(2, 2);
    deliverAll(b, [1, 2], 2, 2, ring(1, 9), 1);
    expect(checkSafety(b.log.records)).toEqual([]);
  });
});

describe('checkSafety: each invariant can fail', () => {
  it('1 self-inclusion: a regular view without the node', () => {
    const b = base();
    b.start(3).change(3, ring(3, 1), ring(3, 4), { trans: [], members: [1, 2], joined: [1, 2] });
    expect(invariants(checkSafety(b.log.records))).toEqual([1]);
  });

  it('2 alternation: two REGULARs in a row', () => {
    const b = base();
    b.conf(1, 'regular', ring(1, 8), ring(1, 4), { members: [1, 2] });
    expect(invariants(checkSafety(b.log.records))).toEqual([2]);
  });

  it('2 alternation: TRANSITIONAL and REGULAR with different ring ids', () => {
    const b = base();
    b.conf(1, 'transitional', ring(1, 8), ring(1, 4), { members: [1, 2] });
    b.conf(1, 'regular', ring(1, 12), ring(1, 4), { members: [1, 2] });
    expect(invariants(checkSafety(b.log.records))).toEqual([2]);
  });

  it('3 arithmetic: transitional members ∪ left ≠ previous members', () => {
    const b = base();
    b.change(1, ring(1, 4), ring(1, 8), { trans: [1], members: [1] });
    expect(invariants(checkSafety(b.log.records))).toEqual([3]);
  });

  it('3 arithmetic: regular members ≠ transitional ∪ joined', () => {
    const b = base();
    b.change(1, ring(1, 4), ring(1, 8), { trans: [1], left: [2], members: [1, 3] });
    expect(invariants(checkSafety(b.log.records))).toEqual([3]);
  });

  it('4 ring-id monotonicity: a lower ring seq after a higher one', () => {
    const b = base();
    for (const n of [1, 2]) b.change(n, ring(1, 4), ring(1, 3), { trans: [1, 2], members: [1, 2] });
    expect(invariants(checkSafety(b.log.records))).toEqual([4]);
  });

  it('4 ring-id monotonicity holds across a restart (the disk survives)', () => {
    const b = base();
    b.crash(2).start(2, 0);
    b.change(1, ring(1, 4), ring(1, 6), { trans: [1], left: [2], members: [1] });
    b.change(2, ring(2, 1), ring(2, 4), { trans: [], members: [2], joined: [2] });
    expect(invariants(checkSafety(b.log.records))).toEqual([4]);
  });

  it('5 view agreement: one ring id, two member lists', () => {
    const b = base();
    b.change(1, ring(1, 4), ring(1, 8), { trans: [1, 2], members: [1, 2] });
    b.change(2, ring(1, 4), ring(1, 8), { trans: [1, 2], members: [1, 2, 3], joined: [3] });
    expect(invariants(checkSafety(b.log.records))).toEqual([5]);
  });

  it('5 view agreement: a node installs the same ring twice (which also breaks 4)', () => {
    const b = base();
    b.crash(2).start(2, 4);
    b.change(2, ring(2, 5), ring(1, 4), { trans: [], members: [1, 2], joined: [1, 2] });
    expect(invariants(checkSafety(b.log.records))).toEqual([4, 5]);
  });

  it('6 transitional agreement: moving together, different transitional lists', () => {
    const b = base();
    b.change(1, ring(1, 4), ring(1, 8), { trans: [1, 2], members: [1, 2] });
    b.change(2, ring(1, 4), ring(1, 8), { trans: [2], left: [1], members: [1, 2], joined: [1] });
    expect(invariants(checkSafety(b.log.records))).toEqual([6]);
  });

  it('6 transitional agreement: a restarted node listed as moving along from its old ring (TOTEM.md §7)', () => {
    const b = base();
    b.crash(2).start(2, 4);
    b.change(1, ring(1, 4), ring(1, 9), { trans: [1, 2], members: [1, 2] });
    b.change(2, ring(2, 5), ring(1, 9), { trans: [], members: [1, 2], joined: [1, 2] });
    expect(invariants(checkSafety(b.log.records))).toEqual([6]);
  });

  it('7 integrity: a message nobody sent', () => {
    const b = base();
    deliverAll(b, [1, 2], 2, 7, ring(1, 4), 3);
    expect(invariants(checkSafety(b.log.records))).toEqual([7]);
  });

  it('7 no duplication: a message delivered twice', () => {
    const b = base();
    b.deliver(1, 2, 1, ring(1, 4), 2);
    expect(invariants(checkSafety(b.log.records))).toEqual([7]);
  });

  it('7 integrity: the core names another sender than the one who sent it', () => {
    const b = base();
    b.send(1, 2);
    deliverAll(b, [1, 2], 1, 2, ring(1, 4), 3);
    const records = b.log.records.map((r) => (r.kind === 'deliver' && r.msgId === '1:2' && r.node === 2 ? { ...r, sender: 2 } : r));
    expect(invariants(checkSafety(records))).toEqual([7]);
  });

  it('8 sender membership: a message from a node outside the view', () => {
    const b = base();
    b.start(3).send(3, 1).crash(3);
    deliverAll(b, [1, 2], 3, 1, ring(1, 4), 3);
    expect(invariants(checkSafety(b.log.records))).toEqual([8]);
  });

  it('8 sender membership: a transitional delivery from a node of neither the old nor the transitional view', () => {
    const b = base();
    b.start(3).send(3, 1).crash(3);
    b.conf(1, 'transitional', ring(1, 8), ring(1, 4), { members: [1], left: [2] });
    b.deliver(1, 3, 1, ring(1, 4), 3);
    b.conf(1, 'regular', ring(1, 8), ring(1, 4), { members: [1] });
    expect(invariants(checkSafety(b.log.records))).toEqual([8]);
  });

  it('8 sender membership allows a transitional delivery of an old member that left (the EVS paper)', () => {
    const b = base();
    b.send(2, 2);
    b.conf(1, 'transitional', ring(1, 8), ring(1, 4), { members: [1], left: [2] });
    b.deliver(1, 2, 2, ring(1, 4), 3);
    b.conf(1, 'regular', ring(1, 8), ring(1, 4), { members: [1] });
    b.deliver(2, 2, 2, ring(1, 4), 3);
    expect(invariants(checkSafety(b.log.records))).toEqual([]);
  });

  it('8 sender membership: a departed sender\'s message after a hole (the deliver-set rule)', () => {
    const b = base();
    b.send(2, 2).send(2, 3);
    // node 2 delivered seq 3 and 4 in the regular view, node 1 missed seq 3
    b.deliver(2, 2, 2, ring(1, 4), 3).deliver(2, 2, 3, ring(1, 4), 4);
    b.conf(1, 'transitional', ring(1, 8), ring(1, 4), { members: [1], left: [2] });
    b.deliver(1, 2, 3, ring(1, 4), 4);
    b.conf(1, 'regular', ring(1, 8), ring(1, 4), { members: [1] });
    expect(invariants(checkSafety(b.log.records))).toEqual([8]);
  });

  it('9 delivery in the ordering ring: a message of another ring', () => {
    const b = base();
    b.send(1, 2);
    deliverAll(b, [1, 2], 1, 2, ring(1, 8), 1);
    expect(invariants(checkSafety(b.log.records))).toEqual([9]);
  });

  it('9 delivery in the ordering ring: before the first regular configuration', () => {
    const b = base();
    b.start(3).send(3, 1).deliver(3, 3, 1, ring(3, 4), 1).crash(3);
    expect(invariants(checkSafety(b.log.records))).toEqual([9]);
  });

  it('10 total order: two nodes deliver two messages in opposite orders', () => {
    const b = base();
    b.send(1, 2).send(2, 2);
    b.deliver(1, 1, 2, ring(1, 4), 3).deliver(1, 2, 2, ring(1, 4), 4);
    b.deliver(2, 2, 2, ring(1, 4), 4).deliver(2, 1, 2, ring(1, 4), 3);
    expect(invariants(checkSafety(b.log.records))).toEqual([10]);
  });

  it('10 total order: one message at two positions', () => {
    const b = base();
    b.send(1, 2);
    b.deliver(1, 1, 2, ring(1, 4), 3).deliver(2, 1, 2, ring(1, 4), 4);
    expect(invariants(checkSafety(b.log.records))).toEqual([10]);
  });

  it('10 total order: a regular view skipping a message (not a gap-free prefix)', () => {
    const b = base();
    b.send(1, 2).send(2, 2);
    b.deliver(1, 1, 2, ring(1, 4), 3).deliver(1, 2, 2, ring(1, 4), 4);
    b.deliver(2, 2, 2, ring(1, 4), 4);
    expect(invariants(checkSafety(b.log.records))).toEqual([10]);
  });

  it('10: the union of delivery orders has a cycle exactly when no one order extends them all', () => {
    expect(hasCycle([])).toBe(false);
    expect(hasCycle([['a', 'b', 'c'], ['b', 'c', 'd'], ['a', 'd'], []])).toBe(false);
    expect(hasCycle([['a', 'b'], ['b', 'a']])).toBe(true);
    // pairwise consistent, yet no total order: a < b < c < a
    expect(hasCycle([['a', 'b'], ['b', 'c'], ['c', 'a']])).toBe(true);
    expect(hasCycle([['x', 'a', 'b', 'y'], ['y', 'z'], ['z', 'b']])).toBe(true);
  });

  it('10 total order: two incarnations disagree across rings (the pairwise walk; here it also breaks 4 and the views)', () => {
    const b = base();
    b.send(1, 2).send(2, 2);
    b.change(1, ring(1, 4), ring(1, 8), { trans: [1, 2], members: [1, 2] }).deliver(1, 1, 2, ring(1, 8), 1);
    b.change(1, ring(1, 8), ring(2, 12), { trans: [1, 2], members: [1, 2] }).deliver(1, 2, 2, ring(2, 12), 1);
    b.change(2, ring(1, 4), ring(2, 12), { trans: [1, 2], members: [1, 2] }).deliver(2, 2, 2, ring(2, 12), 1);
    b.change(2, ring(2, 12), ring(1, 8), { trans: [1, 2], members: [1, 2] }).deliver(2, 1, 2, ring(1, 8), 1);
    const violations = checkSafety(b.log.records);
    expect(violations.filter((v) => v.invariant === 10).map((v) => v.detail)).toEqual([
      'n1#1 and n2#1 disagree on order: common delivery #3 is 1:2 at n1#1, 2:2 at n2#1',
    ]);
  });

  it('11 virtual synchrony: moving together with different regular-view sets', () => {
    const b = base();
    b.send(1, 2);
    b.deliver(1, 1, 2, ring(1, 4), 3);
    for (const n of [1, 2]) b.change(n, ring(1, 4), ring(1, 8), { trans: [1, 2], members: [1, 2] });
    expect(invariants(checkSafety(b.log.records))).toEqual([11]);
  });

  it('11 virtual synchrony: moving together with different transitional sets', () => {
    const b = base();
    b.send(1, 2);
    b.conf(1, 'transitional', ring(1, 8), ring(1, 4), { members: [1, 2] });
    b.deliver(1, 1, 2, ring(1, 4), 4);
    b.conf(1, 'regular', ring(1, 8), ring(1, 4), { members: [1, 2] });
    b.change(2, ring(1, 4), ring(1, 8), { trans: [1, 2], members: [1, 2] });
    expect(invariants(checkSafety(b.log.records))).toEqual([11]);
  });

  it('12 FIFO: one sender\'s messages delivered out of send order', () => {
    const b = base();
    b.send(1, 2).send(1, 3);
    for (const n of [1, 2]) b.deliver(n, 1, 3, ring(1, 4), 3).deliver(n, 1, 2, ring(1, 4), 4);
    expect(invariants(checkSafety(b.log.records))).toEqual([12]);
  });

  it('12 FIFO across configurations: a later message in one ring, an earlier one in the next', () => {
    const b = base();
    b.send(1, 2).send(1, 3);
    for (const n of [1, 2]) b.deliver(n, 1, 3, ring(1, 4), 3);
    for (const n of [1, 2]) b.change(n, ring(1, 4), ring(1, 8), { trans: [1, 2], members: [1, 2] });
    for (const n of [1, 2]) b.deliver(n, 1, 2, ring(1, 8), 1);
    expect(invariants(checkSafety(b.log.records))).toEqual([12]);
  });

  it('12 FIFO: a gap inside one view (a message sent in between never delivered)', () => {
    const b = base();
    b.send(1, 2).send(1, 3);
    for (const n of [1, 2]) b.deliver(n, 1, 3, ring(1, 4), 3);
    expect(invariants(checkSafety(b.log.records, { settledAt: 0 }))).toEqual([12]);
  });

  it('12 FIFO: a gap where the receiver changed configuration passes (the message went where it was not)', () => {
    // 1 and 2 split; 1 sends 1:2 alone in (1,8), then they merge and 2 delivers 1:3 in (1,12)
    const b = base();
    b.change(1, ring(1, 4), ring(1, 8), { trans: [1], left: [2], members: [1] });
    b.change(2, ring(1, 4), ring(2, 8), { trans: [2], left: [1], members: [2] });
    b.send(1, 2).deliver(1, 1, 2, ring(1, 8), 1);
    b.change(1, ring(1, 8), ring(1, 12), { trans: [1], members: [1, 2], joined: [2] });
    b.change(2, ring(2, 8), ring(1, 12), { trans: [2], members: [1, 2], joined: [1] });
    b.send(1, 3);
    for (const n of [1, 2]) b.deliver(n, 1, 3, ring(1, 12), 1);
    expect(checkSafety(b.log.records)).toEqual([]);
  });

  it('13 self-delivery: a live sender never delivers its message', () => {
    const b = base();
    b.send(1, 2);
    expect(invariants(checkSafety(b.log.records))).toEqual([13]);
  });

  it('13 self-delivery: a sender that crashes is excused; a settled-at cut-off exempts late sends', () => {
    const crashed = base();
    crashed.send(1, 2).crash(1);
    expect(checkSafety(crashed.log.records)).toEqual([]);
    const late = base();
    late.at(1000).send(1, 2);
    expect(checkSafety(late.log.records, { settledAt: 999 })).toEqual([]);
  });

  it('14 safe delivery: a member of the view moves on without the safe message', () => {
    const b = base();
    b.send(1, 2, safe).deliver(1, 1, 2, ring(1, 4), 3, safe);
    b.change(2, ring(1, 4), ring(2, 8), { trans: [2], left: [1], members: [2] });
    expect(invariants(checkSafety(b.log.records))).toEqual([14]);
  });

  it('14 safe delivery: a member that crashes is excused; an agreed message is not safe', () => {
    const crashed = base();
    crashed.send(1, 2, safe).deliver(1, 1, 2, ring(1, 4), 3, safe).crash(2);
    expect(checkSafety(crashed.log.records)).toEqual([]);
    const agreed = base();
    agreed.send(1, 2).deliver(1, 1, 2, ring(1, 4), 3);
    agreed.change(2, ring(1, 4), ring(2, 8), { trans: [2], left: [1], members: [2] });
    expect(checkSafety(agreed.log.records)).toEqual([]);
  });

  it('14 safe delivery: in a transitional view, every member moving along delivers it (which also breaks 11)', () => {
    const b = base();
    b.send(1, 2, safe);
    b.conf(1, 'transitional', ring(1, 8), ring(1, 4), { members: [1, 2] });
    b.deliver(1, 1, 2, ring(1, 4), 3, safe);
    b.conf(1, 'regular', ring(1, 8), ring(1, 4), { members: [1, 2] });
    b.change(2, ring(1, 4), ring(1, 8), { trans: [1, 2], members: [1, 2] });
    expect(invariants(checkSafety(b.log.records))).toEqual([11, 14]);
  });

  it('14 safe delivery: a transitional member that ends up in another configuration is excused', () => {
    const b = base();
    b.send(1, 2, safe);
    b.conf(1, 'transitional', ring(1, 8), ring(1, 4), { members: [1, 2] });
    b.deliver(1, 1, 2, ring(1, 4), 3, safe);
    b.conf(1, 'regular', ring(1, 8), ring(1, 4), { members: [1, 2] });
    b.change(2, ring(1, 4), ring(2, 12), { trans: [2], left: [1], members: [2] });
    expect(checkSafety(b.log.records)).toEqual([]);
  });

  it('15 payload integrity: bytes differ from what was sent', () => {
    const b = base();
    b.send(1, 2);
    b.deliver(1, 1, 2, ring(1, 4), 3, { bytesOk: false }).deliver(2, 1, 2, ring(1, 4), 3);
    expect(invariants(checkSafety(b.log.records))).toEqual([15]);
  });

  it('15 payload integrity: a delivery without a readable header', () => {
    const b = base();
    b.deliver(1, 2, -1, ring(1, 4), 3, { msgId: null, bytesOk: false });
    expect(invariants(checkSafety(b.log.records))).toEqual([15]);
  });

  it('15 payload integrity: delivered size differs from the sent size', () => {
    const b = base();
    b.send(1, 2, { size: 4000 });
    deliverAll(b, [1, 2], 1, 2, ring(1, 4), 3);
    expect(invariants(checkSafety(b.log.records))).toEqual([15]);
  });
});

describe('checkLiveness', () => {
  const live = [1, 2, 3, 4, 5];
  /** the worked example ends at time ~t; its final ring was installed earlier. */
  function input(b: LogBuilder, overrides: Partial<LivenessInput> = {}): LivenessInput {
    const end = (b.log.records.at(-1)?.at ?? 0) + 1000;
    return { live, healedAt: 0, boundMs: 10_000, idleFrom: end - 500, end, tokensDuringIdle: 10, ...overrides };
  }

  it('the worked example converges, makes progress and stays idle', () => {
    const b = workedExample();
    b.send(2, 99);
    deliverAll(b, live, 2, 99, ring(1, 108), 4);
    expect(checkLiveness(b.log.records, input(b))).toEqual([]);
  });

  it('16 convergence: a live node ends in another configuration', () => {
    const b = base();
    b.start(3).change(3, ring(3, 1), ring(3, 4), { trans: [], members: [3], joined: [3] });
    expect(invariants(checkLiveness(b.log.records, input(b, { live: [1, 2, 3] })))).toEqual([16]);
  });

  it('16 convergence: too late', () => {
    const b = workedExample();
    const lastConfAt = Math.max(...b.log.records.filter((r) => r.kind === 'conf').map((r) => r.at));
    expect(invariants(checkLiveness(b.log.records, input(b, { boundMs: lastConfAt - 1 })))).toEqual([16]);
  });

  it('16 convergence: a node leaves OPERATIONAL after the final configuration', () => {
    const b = workedExample();
    b.state(4, 'gather', ring(1, 108));
    const i = input(b, { idleFrom: Infinity });
    expect(invariants(checkLiveness(b.log.records, i))).toEqual([16]);
  });

  it('16 convergence: a live node is down at the end', () => {
    const b = workedExample();
    b.crash(5);
    expect(invariants(checkLiveness(b.log.records, input(b)))).toEqual([16]);
  });

  it('17 progress: a message sent in the final ring is not delivered everywhere', () => {
    const b = workedExample();
    b.send(2, 99);
    deliverAll(b, [1, 2, 3, 4], 2, 99, ring(1, 108), 4);
    expect(invariants(checkLiveness(b.log.records, input(b)))).toEqual([17]);
  });

  /** flow parameters for 17 (in time) and 18: 10 ms rotations, 2 datagrams per visit, 1 datagram per message. */
  function flow(trafficStoppedAt: number, overrides: Partial<FlowInput> = {}): FlowInput {
    return {
      rotationMs: 10, holdMs: 5, maxMessages: 2, missCountConst: 1, transmissionsPerDatagram: 1, retryRotations: 0,
      trafficStoppedAt, datagramsOf: () => 1, ...overrides,
    };
  }

  /** the worked example, then 2 sends 20 messages in the final ring; each node delivers them `everyMs` apart. */
  function backlog(everyMs: number): { b: LogBuilder; stop: number } {
    const b = workedExample();
    for (let c = 100; c < 120; c++) b.send(2, c);
    const stop = b.log.records.at(-1)?.at ?? 0;
    let t = stop;
    for (let c = 100; c < 120; c++) {
      t += everyMs;
      b.at(t);
      deliverAll(b, live, 2, c, ring(1, 108), c);
    }
    return { b, stop };
  }

  it('17 progress in time: a backlog drained within its rotations passes', () => {
    // 20 datagrams pending at the stop: 2 × 10 + 1 + 0 + 3 = 24 rotations of 10 ms + 5 ms hold = 245 ms
    expect(drainBoundMs(flow(0), 20)).toBe(245);
    const { b, stop } = backlog(10);
    expect(checkLiveness(b.log.records, input(b, { flow: flow(stop) }))).toEqual([]);
  });

  it('17 progress in time: the same backlog drained too slowly fails', () => {
    const { b, stop } = backlog(20); // the last one at stop + 400 ms + 5 records' 1 ms steps
    expect(invariants(checkLiveness(b.log.records, input(b, { flow: flow(stop) })))).toEqual([17]);
  });

  it('18 back-pressure: a sender still refused long after the final configuration fails', () => {
    const b = workedExample();
    const installed = b.log.records.at(-1)?.at ?? 0;
    b.blocked(3);
    // nothing pending: 0 + 1 + 0 + 3 = 4 rotations of 10 ms + 5 ms hold = 45 ms
    b.at(installed + 200).blocked(3);
    expect(invariants(checkLiveness(b.log.records, input(b, { flow: flow(installed + 300) })))).toEqual([18]);
  });

  it('18 back-pressure: refusals that end within the bound, or come before the final configuration, pass', () => {
    const b = workedExample();
    b.blocked(3, 20);
    b.at(b.log.records.at(-1)?.at ?? 0);
    b.blocked(3).send(3, 50);
    b.at((b.log.records.at(-1)?.at ?? 0) + 10);
    deliverAll(b, live, 3, 50, ring(1, 108), 9);
    b.at((b.log.records.at(-1)?.at ?? 0) + 500).blocked(3).send(3, 51);
    deliverAll(b, live, 3, 51, ring(1, 108), 10);
    const early = new LogBuilder();
    early.start(1).blocked(1).at(5000).blocked(1);
    early.change(1, ring(1, 1), ring(1, 4), { trans: [], members: [1], joined: [1] });
    const stop = b.log.records.at(-1)?.at ?? 0;
    expect(checkLiveness(b.log.records, input(b, { flow: flow(stop) }))).toEqual([]);
    expect(checkLiveness(early.log.records, { live: [1], healedAt: 0, boundMs: 10_000, idleFrom: 6000, end: 6000, flow: flow(5000) })).toEqual([]);
  });

  it('drain rotations: loss multiplies the transmissions and adds retries; the rotation grows with loss', () => {
    expect(transmissionsPerDatagram(0, 7)).toBe(1);
    expect(transmissionsPerDatagram(0.3, 7)).toBeCloseTo(2.67, 1);
    expect(retryRotations(0, 7)).toBe(0);
    // 7 × 0.3^13 = 1.1e-6, 7 × 0.3^14 = 3.3e-7
    expect(retryRotations(0.3, 7)).toBe(14);
    const t = { tokenMs: 200, consensusMs: 240, joinMs: 20, mergeMs: 50, holdMs: 5, tokenRetransmitMs: 19 };
    expect(drainRotationMs(t, 8, 2)).toBe(8 * 2 + 19);
    expect(drainRotationMs(t, 8, 2, 0.3)).toBeCloseTo(8 * (2 + 3 * (0.3 / 0.7) * 19) + 19, 6);
    const lossy = flow(0, { transmissionsPerDatagram: 2.5, retryRotations: 13 });
    expect(drainRotations(lossy, 20)).toBe(2 * 25 + 1 + 13 + 3);
  });

  it('19 idle: the configuration changes while idle', () => {
    const b = workedExample();
    const lastConfAt = Math.max(...b.log.records.filter((r) => r.kind === 'conf').map((r) => r.at));
    expect(invariants(checkLiveness(b.log.records, input(b, { idleFrom: lastConfAt - 5 })))).toEqual([19]);
  });

  it('19 idle: the token stops circulating', () => {
    const b = workedExample();
    expect(invariants(checkLiveness(b.log.records, input(b, { tokensDuringIdle: 0 })))).toEqual([19]);
  });

  it('the liveness bound grows with nodes and timeouts', () => {
    const t = { tokenMs: 200, consensusMs: 240, joinMs: 20, mergeMs: 50, holdMs: 27, tokenRetransmitMs: 47 };
    const b3 = livenessBoundMs(t, 3, 2);
    // three rounds, each with the longest consensus back-off (240 + 60)
    expect(b3).toBeGreaterThan(3 * (200 + 300));
    expect(livenessBoundMs({ ...t, consensusMs: 480 }, 3, 2) - b3).toBe(3 * (480 + 120 - 300));
    expect(livenessBoundMs(t, 16, 2)).toBeGreaterThan(b3);
    expect(livenessBoundMs({ ...t, tokenMs: 400 }, 3, 2)).toBeGreaterThan(b3);
  });
});

describe('checkSteadyProgress (invariant 20, progress under steady loss)', () => {
  const r = ring(1, 4);
  const flow: FlowInput = {
    rotationMs: 10, holdMs: 5, maxMessages: 2, missCountConst: 1, transmissionsPerDatagram: 1, retryRotations: 0,
    trafficStoppedAt: 0, datagramsOf: () => 1,
  };
  /** 1 and 2 in ring (1,4) from t≈4; 1 sends 1:2 at 100, delivered by 1 at once and by 2 at `at2`. */
  function held(at2: number | null): LogBuilder {
    const b = base();
    b.at(100).send(1, 2).deliver(1, 1, 2, r, 3);
    if (at2 !== null) b.at(at2).deliver(2, 1, 2, r, 3);
    return b;
  }

  it('a message delivered by every member within its bound passes', () => {
    // 1 datagram pending at the send: 2 + 1 + 0 + 3 = 6 rotations of 10 ms + 5 ms = 65 ms
    expect(checkSteadyProgress(held(150).log.records, { held: [[0, 1000]], flow })).toEqual([]);
  });

  it('a message a member delivers only after the bound, while the ring held, fails', () => {
    expect(invariants(checkSteadyProgress(held(400).log.records, { held: [[0, 1000]], flow }))).toEqual([20]);
  });

  it('a member that never delivers it fails; the same when the ring stopped holding before the deadline passes', () => {
    expect(invariants(checkSteadyProgress(held(null).log.records, { held: [[0, 1000]], flow }))).toEqual([20]);
    expect(checkSteadyProgress(held(null).log.records, { held: [[0, 120]], flow })).toEqual([]);
  });

  it('traffic sent later but before the deadline extends it (the work that can go first)', () => {
    const b = base();
    b.at(100).send(1, 2);
    for (let c = 1; c <= 20; c++) b.at(100 + c).send(2, c + 1);
    b.at(121).deliver(1, 1, 2, r, 3);
    for (let c = 1; c <= 20; c++) for (const n of [1, 2]) b.at(130).deliver(n, 2, c + 1, r, 3 + c);
    // 1:2 reaches 2 only at 300: beyond its 65 ms alone, within the bound of the 21 datagrams that could go first
    // (2 × 11 + 4 = 26 rotations of 10 ms + 5 ms: 365)
    b.at(300).deliver(2, 1, 2, r, 3);
    expect(checkSteadyProgress(b.log.records, { held: [[0, 1000]], flow })).toEqual([]);
  });
});
