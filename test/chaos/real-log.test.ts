/**
 * The adapter from a real run's log (`evs node --json` lines plus the
 * harness's own records) to the simulator's checker: a clean log passes, and
 * each invariant that makes sense for a real run fails on a small log that
 * breaks it — so 0 violations from a chaos run means something.
 */
import { describe, expect, it } from 'vitest';
import { checkSafety } from '../sim/checkers.ts';
import { payloadLine } from './payload.ts';
import { parseNodeLine, sentSinceLastRegular, toCheckerRecords, type GuaranteeName, type NodeLine, type RawRecord } from './real-log.ts';

class RawLog {
  readonly raw: RawRecord[] = [];
  #at = 1000;

  #tick(): number {
    this.#at += 1;
    return this.#at;
  }

  start(node: number, incarnation = 1): this {
    this.raw.push({ kind: 'start', node, incarnation, at: this.#tick() });
    return this;
  }

  send(node: number, counter: number, incarnation = 1, guarantee: GuaranteeName = 'agreed'): this {
    this.raw.push({ kind: 'send', node, incarnation, at: this.#tick(), counter, size: Buffer.byteLength(payloadLine(node, counter)), guarantee });
    return this;
  }

  /** a line as `evs node --json` prints it, parsed as the harness parses it. */
  #line(node: number, incarnation: number, fields: Record<string, unknown>): this {
    const at = this.#tick();
    const line = parseNodeLine(JSON.stringify({ ...fields, atMs: at })) as NodeLine;
    expect(line).not.toBeNull();
    this.raw.push({ kind: 'line', node, incarnation, at, line });
    return this;
  }

  conf(node: number, type: 'regular' | 'transitional', seq: number, members: number[], sets: { left?: number[]; joined?: number[]; incarnation?: number } = {}): this {
    return this.#line(node, sets.incarnation ?? 1, { event: 'confchg', type, ringId: { rep: 1, seq }, members, left: sets.left ?? [], joined: sets.joined ?? [] });
  }

  deliver(node: number, sender: number, counter: number, options: { payload?: string; incarnation?: number; guarantee?: GuaranteeName } = {}): this {
    const payload = options.payload ?? payloadLine(sender, counter);
    return this.#line(node, options.incarnation ?? 1, {
      event: 'deliver', sender, groups: ['chaos'], guarantee: options.guarantee ?? 'agreed', bytes: Buffer.byteLength(payload), payload,
    });
  }

  crash(node: number, incarnation = 1): this {
    this.raw.push({ kind: 'crash', node, incarnation, at: this.#tick() });
    return this;
  }
}

const invariants = (log: RawLog): number[] => [...new Set(checkSafety(toCheckerRecords(log.raw)).map((v) => v.invariant))].sort((a, b) => a - b);

/** nodes 1 and 2 start in ring 1/4 (the handle's snapshot), each sends one message, both deliver both. */
function clean(): RawLog {
  return new RawLog().start(1).start(2)
    .conf(1, 'regular', 4, [1, 2]).conf(2, 'regular', 4, [1, 2])
    .send(1, 1).send(2, 1)
    .deliver(1, 1, 1).deliver(2, 1, 1).deliver(1, 2, 1).deliver(2, 2, 1);
}

describe('real log → EVS checker', () => {
  it('a clean log passes; the handle snapshot becomes a first change', () => {
    const records = toCheckerRecords(clean().raw);
    expect(checkSafety(records)).toEqual([]);
    const confs = records.filter((r) => r.kind === 'conf' && r.node === 1);
    expect(confs.map((r) => (r.kind === 'conf' ? [r.type, r.members, r.joined] : null))).toEqual([['transitional', [], []], ['regular', [1, 2], [1, 2]]]);
  });

  it('parses only the objects evs node --json prints', () => {
    expect(parseNodeLine('evs node 1: bound 203.0.113.1:5405')).toBeNull();
    expect(parseNodeLine('{"event":"deliver","sender":1}')).toBeNull();
    expect(parseNodeLine('{"event":"confchg","atMs":1,"type":"regular","ringId":{"rep":1,"seq":2},"members":[1],"left":[],"joined":[]}')).not.toBeNull();
  });

  it('10: two nodes deliver in different orders', () => {
    const log = new RawLog().start(1).start(2).conf(1, 'regular', 4, [1, 2]).conf(2, 'regular', 4, [1, 2]).send(1, 1).send(2, 1)
      .deliver(1, 1, 1).deliver(1, 2, 1).deliver(2, 2, 1).deliver(2, 1, 1);
    expect(invariants(log)).toContain(10);
  });

  it('7: a message delivered twice, or never sent', () => {
    expect(invariants(clean().deliver(1, 2, 1))).toContain(7);
    expect(invariants(clean().deliver(1, 2, 9).deliver(2, 2, 9))).toContain(7);
  });

  it('15: bytes that are not what the sender sent', () => {
    const bad = payloadLine(2, 2).slice(0, -1) + '?';
    expect(invariants(clean().send(2, 2).deliver(1, 2, 2, { payload: bad }).deliver(2, 2, 2, { payload: bad }))).toEqual([15]);
  });

  it('12: one sender out of order', () => {
    const log = clean().send(2, 2).send(2, 3).deliver(1, 2, 3).deliver(1, 2, 2).deliver(2, 2, 3).deliver(2, 2, 2);
    expect(invariants(log)).toContain(12);
  });

  it('13: a live node never delivers its own message', () => {
    expect(invariants(clean().send(1, 2))).toEqual([13]);
    // ... unless it crashed
    expect(invariants(clean().send(1, 2).crash(1))).toEqual([]);
  });

  it('11: two nodes move on together but delivered different sets in the old ring', () => {
    const log = clean().send(2, 2).deliver(2, 2, 2)
      .conf(1, 'transitional', 8, [1, 2]).conf(2, 'transitional', 8, [1, 2])
      .conf(1, 'regular', 8, [1, 2, 3], { joined: [3] }).conf(2, 'regular', 8, [1, 2, 3], { joined: [3] });
    expect(invariants(log)).toContain(11);
  });

  it('5 and 4: two member lists for one ring; a ring seq that goes back after a restart', () => {
    expect(invariants(new RawLog().start(1).start(2).conf(1, 'regular', 4, [1, 2]).conf(2, 'regular', 4, [2]))).toContain(5);
    const restart = new RawLog().start(1).conf(1, 'regular', 8, [1]).crash(1).start(1, 2).conf(1, 'regular', 6, [1], { incarnation: 2 });
    expect(invariants(restart)).toEqual([4]);
  });

  it('3 and 2: a change whose lists do not add up; a REGULAR without its TRANSITIONAL', () => {
    const log = clean().conf(1, 'transitional', 8, [1]).conf(1, 'regular', 8, [1, 2]);
    expect(invariants(log)).toContain(3);
    expect(invariants(clean().conf(1, 'regular', 8, [1, 2]))).toContain(2);
  });
});

describe('sentSinceLastRegular: the traffic a settled ring must deliver everywhere', () => {
  const incarnation1 = (): number => 1;

  /**
   * The shape of the 'SIGSTOP while a ring forms' failures (udp, 2026-12-02;
   * reproduced with --node-logs): n2 stopped, the others' ring went on without
   * it, n2 formed a ring of its own when it woke; each side delivered its own
   * sends of that time (EVS: in its own configuration); then the merge. Those
   * sends are not owed to the other side, only what was sent in the merge.
   */
  it('leaves out what was sent in a configuration of one side, awaits what was sent in the merged ring', () => {
    const log = new RawLog().start(1).start(2).start(3)
      .conf(1, 'regular', 4, [1, 2, 3]).conf(2, 'regular', 4, [1, 2, 3]).conf(3, 'regular', 4, [1, 2, 3])
      .conf(1, 'transitional', 8, [1, 3]).conf(1, 'regular', 8, [1, 3]).conf(3, 'transitional', 8, [1, 3]).conf(3, 'regular', 8, [1, 3])
      .conf(2, 'transitional', 12, [2]).conf(2, 'regular', 12, [2])
      .send(1, 5).send(2, 5).send(3, 5)
      .deliver(1, 1, 5).deliver(3, 1, 5).deliver(1, 3, 5).deliver(3, 3, 5).deliver(2, 2, 5);
    // the merged ring installed after the last sends: nothing of them is owed to the other side
    log.conf(1, 'transitional', 16, [1, 3]).conf(1, 'regular', 16, [1, 2, 3]).conf(3, 'transitional', 16, [1, 3]).conf(3, 'regular', 16, [1, 2, 3])
      .conf(2, 'transitional', 16, [2]).conf(2, 'regular', 16, [1, 2, 3]);
    expect(sentSinceLastRegular(log.raw, [1, 2, 3], incarnation1)).toEqual(new Map());
    // what each sends in the merged ring is owed to everyone
    log.send(1, 6).send(2, 6).send(3, 6).send(3, 7);
    expect(sentSinceLastRegular(log.raw, [1, 2, 3], incarnation1)).toEqual(new Map([[1, 6], [2, 6], [3, 7]]));
    expect(sentSinceLastRegular(log.raw, [2], incarnation1)).toEqual(new Map([[2, 6]]));
  });

  it('counts only the current incarnation of a restarted node', () => {
    const log = new RawLog().start(1).conf(1, 'regular', 4, [1]).send(1, 1).crash(1).start(1, 2).send(1, 2, 2);
    expect(sentSinceLastRegular(log.raw, [1], () => 2)).toEqual(new Map());
    log.conf(1, 'regular', 8, [1], { incarnation: 2 }).send(1, 3, 2);
    expect(sentSinceLastRegular(log.raw, [1], () => 2)).toEqual(new Map([[1, 3]]));
    expect(sentSinceLastRegular(log.raw, [1], incarnation1)).toEqual(new Map([[1, 1]]));
  });
});
