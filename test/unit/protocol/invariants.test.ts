/**
 * Every invariant the Processor checks after a step can fire: a real
 * single-processor ring is driven to the state a row needs, one field is
 * corrupted, and the next input must stop with that invariant's assertion.
 */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../../src/assert.ts';
import { deferredMessagesMax, rtrEntriesMax } from '../../../src/limits.ts';
import { deriveTotemConfig, type TotemTimings } from '../../../src/protocol/config.ts';
import { checkRtrList, checkVisitSends, type VisitShape } from '../../../src/protocol/invariants.ts';
import { Processor, type MembState } from '../../../src/protocol/processor.ts';
import { toAll, type DatagramSource, type Outgoing } from '../../../src/protocol/ready.ts';
import { seqAdd } from '../../../src/protocol/seq.ts';
import type { ProcessorState } from '../../../src/protocol/state.ts';
import { Timer } from '../../../src/protocol/timers.ts';
import { Guarantee, MessageType, type Mcast, type Message, type OrfToken, type RtrItem } from '../../../src/wire/messages.ts';

const me = 5;

class QueueSource implements DatagramSource {
  readonly pending: Outgoing[] = [];
  backlog(): number { return this.pending.length; }
  next(): Outgoing | null { return this.pending.shift() ?? null; }
  restart(): void {}
}

interface Ring {
  readonly p: Processor;
  readonly s: ProcessorState;
  now: number;
}

/**
 * Start a lone processor and loop its datagrams back to it (copied, as the
 * wire would) until it reaches `target`; in OPERATIONAL, order `payloads`
 * messages and run `visits` more token visits.
 */
function ring(target: MembState, options: { verify?: boolean; payloads?: number; visits?: number; timings?: TotemTimings } = {}): Ring {
  const source = new QueueSource();
  for (let i = 0; i < (options.payloads ?? 0); i++) source.pending.push({ payload: new Uint8Array([i]), guarantee: Guarantee.Agreed });
  const p = new Processor({
    config: deriveTotemConfig(me, 1, { seqStart: 0xfffffff0, ...options.timings }), source, ringSeqLoaded: 7, verify: options.verify ?? true,
  });
  // the state is private to the Processor: the test reaches in, as TigerBeetle's tests do
  const r: Ring = { p, s: p['s'], now: 0 };
  p.start(r.now);
  const inbox: Message[] = [];
  let visitsLeft = options.visits ?? 0;
  for (let steps = 0; steps < 10_000; steps++) {
    for (const send of p.ready().sends) if (send.to === me || send.to === toAll) inbox.push(structuredClone(send.message));
    if (p.state === target && (target !== 'operational' || (source.pending.length === 0 && visitsLeft === 0))) return r;
    const message = inbox.shift();
    if (message === undefined) {
      r.now = p.nextDeadline();
      p.handleTimeout(r.now);
      continue;
    }
    if (message.type === MessageType.OrfToken && p.state === 'operational' && source.pending.length === 0) visitsLeft = Math.max(0, visitsLeft - 1);
    p.handleMessage(r.now, message);
  }
  throw new Error(`the lone processor did not reach ${target}`);
}

/** an input that changes nothing (my own MERGE_DETECT is ignored), so only the check runs. */
function step(r: Ring): void {
  r.p.handleMessage(r.now, { type: MessageType.MergeDetect, sender: me, ringId: r.s.myRingId });
}

function expectAssertion(run: () => void, what: string): void {
  let error: unknown = null;
  try {
    run();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(AssertionError);
  expect((error as Error).message).toBe(what);
}

function mcast(s: ProcessorState, seq: number): Mcast {
  return { type: MessageType.Mcast, sender: 9, ringId: s.myRingId, seq, guarantee: Guarantee.Agreed, payload: new Uint8Array(1), inner: null };
}

function tokenOf(s: ProcessorState): OrfToken {
  return {
    type: MessageType.OrfToken, sender: me, ringId: s.myRingId, seq: 0, tokenSeq: 1, aru: 0, aruAddr: 0,
    backlog: 0, fcc: 0, retransFlag: false, rtrList: [],
  };
}

describe('Processor invariants', () => {
  it('hold on a healthy ring through every state, with the costly checks on', () => {
    for (const target of ['gather', 'commit', 'recovery', 'operational'] as const) {
      const r = ring(target, { payloads: 40, visits: 3 });
      expect(r.p.state).toBe(target);
      step(r);
    }
    const r = ring('operational', { payloads: 40, visits: 3 });
    expect(r.s.highDelivered).toBe(seqAdd(0xfffffff0, 40));
  });

  const rows: { what: string; state: MembState; verify?: boolean; corrupt: (s: ProcessorState) => void }[] = [
    { what: 'invariant: aru <= highest seq received', state: 'operational', corrupt: (s) => { s.myAru = seqAdd(s.highSeqReceived, 1); } },
    { what: 'invariant: OPERATIONAL: delivered <= aru', state: 'operational', corrupt: (s) => { s.highDelivered = seqAdd(s.myAru, 1); } },
    {
      what: 'invariant: released <= delivered (nothing undelivered is freed)', state: 'operational',
      corrupt: (s) => { s.highDelivered = seqAdd(s.highDelivered, -2); s.regular.release(seqAdd(s.highDelivered, 1)); },
    },
    { what: 'invariant: ring seq only grows', state: 'operational', corrupt: (s) => { s.myRingId = { rep: me, seq: s.myRingId.seq - 1 }; } },
    { what: 'invariant: the highest ring seq seen is at least mine', state: 'operational', corrupt: (s) => { s.tokenRingIdSeq = s.myRingId.seq - 1; } },
    { what: 'invariant: the ring seq to persist is my ring\'s', state: 'operational', corrupt: (s) => { s.out.persistRingSeq = s.myRingId.seq + 4; } },
    {
      what: 'invariant: aru stops at a hole', state: 'operational',
      corrupt: (s) => { const seq = seqAdd(s.myAru, 1); s.regular.add(seq, mcast(s, seq)); s.highSeqReceived = seqAdd(seq, 1); },
    },
    { what: 'invariant: aru stops at a hole', state: 'recovery', corrupt: (s) => { const seq = seqAdd(s.myAru, 1); s.recovery.add(seq, mcast(s, seq)); s.highSeqReceived = seq; } },
    { what: 'invariant: settling only in OPERATIONAL', state: 'gather', corrupt: (s) => { s.settling = true; } },
    { what: 'invariant: deferred messages only while settling', state: 'operational', corrupt: (s) => { s.deferred.push(mcast(s, 1)); } },
    {
      what: 'invariant: deferred messages <= deferredMessagesMax', state: 'operational',
      corrupt: (s) => { s.settling = true; for (let i = 0; i <= deferredMessagesMax; i++) s.deferred.push(mcast(s, i)); },
    },
    { what: 'invariant: a ring being formed or run has a token to retransmit', state: 'commit', corrupt: (s) => { s.lastToken = null; } },
    { what: 'invariant: GATHER: the join timer is armed', state: 'gather', corrupt: (s) => { s.timers.cancel(Timer.Join); } },
    { what: 'invariant: COMMIT, RECOVERY, OPERATIONAL: the token-loss timer is armed', state: 'recovery', corrupt: (s) => { s.timers.cancel(Timer.TokenLoss); } },
    // costly: sets, membership and the queue window
    { what: 'invariant: proc list is an ascending set', state: 'gather', verify: true, corrupt: (s) => { s.procList = [me, 3]; } },
    { what: 'invariant: failed list is an ascending set', state: 'gather', verify: true, corrupt: (s) => { s.failedList = [8, 8]; } },
    { what: 'invariant: member list is an ascending set', state: 'operational', verify: true, corrupt: (s) => { s.memberList = [me, 2]; } },
    { what: 'invariant: new member list is an ascending set', state: 'commit', verify: true, corrupt: (s) => { s.newMembers = [me, 1]; } },
    { what: 'invariant: transitional member list is an ascending set', state: 'recovery', verify: true, corrupt: (s) => { s.transMembers = [9, 8]; } },
    { what: 'invariant: I am in my proc list', state: 'gather', verify: true, corrupt: (s) => { s.procList = [me + 1]; } },
    { what: 'invariant: I am a member of the ring being formed or run', state: 'commit', verify: true, corrupt: (s) => { s.newMembers = [me + 1]; } },
    { what: 'invariant: RECOVERY: transitional members were in my old ring', state: 'recovery', verify: true, corrupt: (s) => { s.transMembers = [me]; } },
    {
      what: 'invariant: RECOVERY: transitional members are in the new ring', state: 'recovery', verify: true,
      corrupt: (s) => { s.memberList = [me + 1]; s.transMembers = [me + 1]; },
    },
    { what: 'invariant: OPERATIONAL: members are the ring installed', state: 'operational', verify: true, corrupt: (s) => { s.memberList = [me, me + 1]; } },
    { what: 'invariant: OPERATIONAL: proc list is the members', state: 'operational', verify: true, corrupt: (s) => { s.procList = [me, me + 1]; } },
    { what: 'invariant: OPERATIONAL: failed list is empty', state: 'operational', verify: true, corrupt: (s) => { s.failedList = [me + 1]; } },
    {
      what: 'invariant: every seq from the release point to my aru is held', state: 'operational', verify: true,
      corrupt: (s) => { s.myAru = seqAdd(s.myAru, 2); s.highSeqReceived = s.myAru; },
    },
  ];

  for (const row of rows) {
    it(`${row.what} (${row.state})`, () => {
      const r = ring(row.state, { payloads: 20, visits: 2, verify: row.verify ?? false });
      step(r); // healthy first
      row.corrupt(r.s);
      expectAssertion(() => step(r), row.what);
    });
  }

  it('the costly checks stay off unless asked for', () => {
    const r = ring('gather', { verify: false });
    r.s.procList = [me, 3];
    step(r);
    expect(r.p.state).toBe('gather');
  });

  it('a transition that skips a state is refused', () => {
    const r = ring('gather');
    expectAssertion(() => r.s.become('operational', r.s.step, r.s.onTimeout), 'transition gather -> operational is allowed');
    const c = ring('commit');
    expectAssertion(() => c.s.become('commit', c.s.step, c.s.onTimeout), 'transition commit -> commit is allowed');
  });
});

describe('the retransmit list a token visit forwards', () => {
  function setup(): { s: ProcessorState; held: number; missing: number; tokenSeq: number } {
    const { s } = ring('operational', { payloads: 4, visits: 2 });
    // a hole right above my aru, a message held above it
    const missing = seqAdd(s.myAru, 1);
    const held = seqAdd(s.myAru, 2);
    s.regular.add(held, mcast(s, held));
    return { s, held, missing, tokenSeq: seqAdd(s.myAru, 3) };
  }
  const other = { rep: 99, seq: 1 };

  it('accepts requests for what I miss and others\' entries I may not serve', () => {
    const { s, held, missing, tokenSeq } = setup();
    const list: RtrItem[] = [{ ringId: s.myRingId, seq: held }, { ringId: other, seq: held }, { ringId: s.myRingId, seq: missing }];
    checkRtrList(s, s.regular, tokenSeq, list, 2, false);
  });

  const rows: { what: string; build: (c: ReturnType<typeof setup>) => { list: RtrItem[]; kept: number; allowanceLeft: boolean } }[] = [
    {
      what: 'invariant: rtr list: my requests stop at rtrEntriesMax',
      build: ({ s, missing }) => ({ list: Array.from({ length: rtrEntriesMax + 1 }, () => ({ ringId: s.myRingId, seq: missing })), kept: 0, allowanceLeft: false }),
    },
    { what: 'invariant: rtr list: what I hold is served while allowance remains', build: ({ s, held }) => ({ list: [{ ringId: s.myRingId, seq: held }], kept: 1, allowanceLeft: true }) },
    { what: 'invariant: rtr list: my requests name my ring', build: ({ missing }) => ({ list: [{ ringId: other, seq: missing }], kept: 0, allowanceLeft: false }) },
    { what: 'invariant: rtr list: a request is above my aru', build: ({ s }) => ({ list: [{ ringId: s.myRingId, seq: s.myAru }], kept: 0, allowanceLeft: false }) },
    {
      what: 'invariant: rtr list: a request is at most the request limit',
      build: ({ s, tokenSeq }) => ({ list: [{ ringId: s.myRingId, seq: seqAdd(tokenSeq, 1) }], kept: 0, allowanceLeft: false }),
    },
    {
      what: 'invariant: rtr list: a request is above my safe point',
      build: ({ s, missing }) => {
        s.safePoint = missing;
        return { list: [{ ringId: s.myRingId, seq: missing }], kept: 0, allowanceLeft: false };
      },
    },
    { what: 'invariant: rtr list: a request is for a seq I miss', build: ({ s, held }) => ({ list: [{ ringId: s.myRingId, seq: held }], kept: 0, allowanceLeft: false }) },
    {
      what: 'invariant: rtr list: a seq is requested once',
      build: ({ s, missing }) => ({ list: [{ ringId: s.myRingId, seq: missing }, { ringId: s.myRingId, seq: missing }], kept: 1, allowanceLeft: false }),
    },
  ];
  for (const row of rows) {
    it(row.what, () => {
      const c = setup();
      const { list, kept, allowanceLeft } = row.build(c);
      expectAssertion(() => checkRtrList(c.s, c.s.regular, c.tokenSeq, list, kept, allowanceLeft), row.what);
    });
  }
});

describe('the shape of an accelerated visit on the wire', () => {
  it('a lone accelerated ring runs through every state and orders with the costly checks on', () => {
    const { p, s } = ring('operational', { payloads: 40, visits: 3, timings: { ordering: 'accelerated', acceleratedWindow: 5 } });
    expect(p.state).toBe('operational');
    expect(s.stats.mcastsSent).toBe(40);
  });

  // token brought seq 10; one retransmission (seq 7); new 11, 12 before the token, 13 and 14 after it
  function visit(): { s: ProcessorState; sends: { to: number; message: Message }[]; shape: VisitShape } {
    const { s } = ring('operational', { visits: 1 });
    const m = (seq: number): Mcast => ({ ...mcast(s, seq), sender: me });
    const token = { ...tokenOf(s), seq: 14 };
    const sends = [m(7), m(11), m(12), token, m(13), m(14)].map((message) => ({ to: message === token ? 1 : toAll, message }));
    return { s, sends, shape: { receivedSeq: 10, retransmits: 1, newMessages: 4, held: 2, token } };
  }

  it('accepts retransmissions, pre-token messages, the token, then the held-back ones', () => {
    const { s, sends, shape } = visit();
    checkVisitSends(s, sends, 0, shape);
    // the representative holding an idle token: no token among the sends
    checkVisitSends(s, sends.filter((x) => x.message !== shape.token), 0, { ...shape, token: null });
  });

  const rows: { what: string; corrupt: (v: ReturnType<typeof visit>) => void }[] = [
    { what: 'invariant: visit: retransmissions, new messages and the token, nothing else', corrupt: (v) => { v.sends.push(v.sends[1]!); } },
    { what: 'invariant: visit: a retransmission was numbered before this visit', corrupt: (v) => { v.sends[0] = { to: toAll, message: { ...(v.sends[0]!.message as Mcast), seq: 11 } }; } },
    { what: 'invariant: visit: the token goes after the pre-token messages', corrupt: (v) => { [v.sends[3], v.sends[4]] = [v.sends[4]!, v.sends[3]!]; } },
    {
      what: 'invariant: visit: new messages are multicast in seq order, right after the seq the token brought',
      corrupt: (v) => { [v.sends[1], v.sends[2]] = [v.sends[2]!, v.sends[1]!]; },
    },
    { what: 'invariant: visit: the token carries the seq of the last new message', corrupt: (v) => { (v.shape.token as { seq: number }).seq = 13; } },
    { what: 'invariant: visit: only new messages wait for the token', corrupt: (v) => { (v.shape as { held: number }).held = 5; } },
  ];
  for (const row of rows) {
    it(row.what, () => {
      const v = visit();
      row.corrupt(v);
      expectAssertion(() => checkVisitSends(v.s, v.sends, 0, v.shape), row.what);
    });
  }
});
