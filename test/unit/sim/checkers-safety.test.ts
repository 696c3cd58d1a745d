/**
 * Every safety checker can fail: for each invariant of TOTEM.md §11 (1–15) a
 * small hand-written log that breaks it, and the checker reports exactly that
 * invariant. A valid log (the §5.6 worked example: 5 nodes split 3+2, then
 * merge) passes every check.
 */
import { describe, expect, it } from 'vitest';
import { checkSafety, hasCycle } from '../../sim/checkers.ts';
import { base, deliverAll, invariants, ring, safe, workedExample } from './checker-fixtures.ts';

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
