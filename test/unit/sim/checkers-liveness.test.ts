/**
 * Every liveness checker can fail: for invariants 16–19 (`checkLiveness`)
 * and 20 (`checkSteadyProgress`) a hand-written log that breaks it, next to
 * one that passes; and the time bounds they judge by.
 */
import { describe, expect, it } from 'vitest';
import {
  checkLiveness, checkSteadyProgress, drainBoundMs, drainRotationMs, drainRotations, livenessBoundMs, retryRotations, transmissionsPerDatagram,
  type FlowInput, type LivenessInput,
} from '../../sim/checkers.ts';
import { LogBuilder } from '../../sim/log.ts';
import { base, deliverAll, invariants, ring, workedExample } from './checker-fixtures.ts';

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
