/**
 * Hand-written logs for the checker's tests: a ring formed, a base log of two
 * nodes, and TOTEM.md §5.6's worked example as the application sees it.
 */
import type { Violation } from '../../sim/checkers.ts';
import { LogBuilder } from '../../sim/log.ts';
import { Guarantee, type RingId } from '../../../src/wire/messages.ts';

export const ring = (rep: number, seq: number): RingId => ({ rep, seq });
export const safe = { guarantee: Guarantee.Safe } as const;

/** Invariant numbers reported, deduplicated and sorted. */
export function invariants(violations: readonly Violation[]): number[] {
  return [...new Set(violations.map((v) => v.invariant))].sort((a, b) => a - b);
}

/** Fresh start of `nodes` straight into one ring. */
export function formRing(b: LogBuilder, nodes: readonly number[], r: RingId): LogBuilder {
  for (const n of nodes) b.start(n);
  for (const n of nodes) b.change(n, ring(n, 1), r, { trans: [], members: nodes, joined: nodes });
  return b;
}

/** Nodes 1, 2 in ring (1,4); each sent and both delivered one message. */
export function base(): LogBuilder {
  const b = formRing(new LogBuilder(), [1, 2], ring(1, 4));
  b.send(1, 1).send(2, 1);
  for (const n of [1, 2]) b.deliver(n, 1, 1, ring(1, 4), 1).deliver(n, 2, 1, ring(1, 4), 2);
  return b;
}

export function deliverAll(b: LogBuilder, nodes: readonly number[], sender: number, counter: number, r: RingId, seq: number,
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
export function workedExample(): LogBuilder {
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
