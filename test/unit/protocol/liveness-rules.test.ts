/**
 * The core's liveness rules of issue 12, each on a real Processor fed by hand:
 *  - Processor.paused (the pause guard, TOTEM.md §3.8): the token-loss and
 *    consensus timers restart whole instead of firing for the processor's own
 *    silence;
 *  - a JOIN that shows a member of the ring being formed will refuse the
 *    commit token ends COMMIT at once (commit.ts `joinRejectsFormation`);
 *  - the consensus back-off draws from the randomness passed in;
 *  - RECOVERY re-sends each old message once, from a member whose aru covers
 *    it, in turn (recovery.ts `recoverySender`);
 *  - join rule 4 adopts, from outside my old ring, the failures of processors
 *    that name me failed, and from a processor that agreed with my view this
 *    round the failures of those that have not (gather.ts `adoptedFailures`).
 */
import { describe, expect, it } from 'vitest';
import { deriveTotemConfig } from '../../../src/protocol/config.ts';
import { Processor } from '../../../src/protocol/processor.ts';
import { toAll, type DatagramSource } from '../../../src/protocol/ready.ts';
import { recoverySender } from '../../../src/protocol/recovery.ts';
import { MessageType, type Join, type Message } from '../../../src/wire/messages.ts';

const idle: DatagramSource = { backlog: () => 0, next: () => null, restart: () => {} };
const timings = { tokenMs: 200, tokenCoefficientMs: 0, consensusMs: 240, joinMs: 20 };

function processor(id: number, random?: () => number): Processor {
  return new Processor({ config: deriveTotemConfig(id, 3, timings), source: idle, ringSeqLoaded: 0, verify: true, ...(random !== undefined ? { random } : {}) });
}

function join(sender: number, procList: number[], failedList: number[], ringSeq = 1): Join {
  return { type: MessageType.Join, sender, leave: false, ringSeq, procList, failedList };
}

/** a lone processor, its own datagrams looped back, until it is OPERATIONAL in its singleton ring. */
function loneOperational(): { p: Processor; now: number } {
  const p = new Processor({ config: deriveTotemConfig(1, 1, timings), source: idle, ringSeqLoaded: 0, verify: true });
  let now = 0;
  p.start(now);
  const inbox: Message[] = [];
  for (let steps = 0; steps < 1000 && p.state !== 'operational'; steps++) {
    for (const send of p.ready().sends) if (send.to === 1 || send.to === toAll) inbox.push(structuredClone(send.message));
    const message = inbox.shift();
    if (message === undefined) {
      now = p.nextDeadline();
      p.handleTimeout(now);
    } else {
      p.handleMessage(now, message);
    }
  }
  p.ready();
  return { p, now };
}

describe('Processor.paused (process-pause guard)', () => {
  it('restarts the token-loss timer instead of letting it fire', () => {
    const { p, now } = loneOperational();
    expect(p.state).toBe('operational');
    const resumedAt = now + 1.5 * timings.tokenMs; // slept past the token timeout
    p.paused(resumedAt, 1.5 * timings.tokenMs);
    expect(p.stats.pausesDetected).toBe(1);
    expect(p['s'].timers['deadlines'][0]).toBe(resumedAt + timings.tokenMs); // token loss: a whole timeout from now
    p.handleTimeout(resumedAt);
    expect(p.state).toBe('operational');
    expect(p.stats.tokenLosses).toBe(0);
  });

  it('without it, the same wake-up declares the token lost (the guard is what prevents it)', () => {
    const { p, now } = loneOperational();
    p.handleTimeout(now + 1.5 * timings.tokenMs);
    expect(p.stats.tokenLosses).toBe(1);
    expect(p.stats.gatherEntered).toBeGreaterThan(1); // a new membership round (alone, it forms its ring again at once)
  });

  it('restarts the consensus timer in GATHER: nobody is declared failed for my silence', () => {
    const p = processor(1);
    p.start(0);
    p.handleMessage(1, join(2, [1, 2], []));
    expect(p.state).toBe('gather');
    const resumedAt = 1 + 2 * timings.consensusMs;
    p.paused(resumedAt, 2 * timings.consensusMs);
    p.handleTimeout(resumedAt);
    const sent = p.ready().sends.map((s) => s.message).filter((m): m is Join => m.type === MessageType.Join);
    expect(sent.at(-1)?.failedList ?? []).toEqual([]);
  });
});

describe('COMMIT ends at a JOIN that refuses the ring being formed', () => {
  /** processor 1 agrees with 2 and 3 and, as the lowest, creates the commit token: COMMIT. */
  function committing(): Processor {
    const p = processor(1);
    p.start(0);
    p.handleMessage(1, join(2, [1, 2, 3], []));
    p.handleMessage(1, join(3, [1, 2, 3], []));
    p.handleTimeout(timings.joinMs + 1); // my JOIN with the full set, then the consensus check
    p.handleMessage(timings.joinMs + 2, join(2, [1, 2, 3], []));
    p.handleMessage(timings.joinMs + 2, join(3, [1, 2, 3], []));
    expect(p.state).toBe('commit');
    return p;
  }

  it('a member that has not taken the commit token and now fails another goes back to GATHER at once', () => {
    const p = committing();
    p.handleMessage(30, join(2, [1, 2, 3], [3]));
    expect(p.state).toBe('gather');
  });

  it('a JOIN sent before the token reached its sender, naming the same members, does not', () => {
    const p = committing();
    p.handleMessage(30, join(2, [1, 2, 3], []));
    expect(p.state).toBe('commit');
  });
});

describe('consensus back-off', () => {
  it('draws the extra consensus wait from the randomness passed in (0..consensus/4)', () => {
    const deadlines = [0, 0.999].map((r) => {
      const p = processor(1, () => r);
      p.start(0);
      p.handleMessage(1, join(2, [1, 2], [])); // GATHER again: the consensus timer is re-armed
      return p['s'].timers['deadlines'][4] as number;
    });
    expect(deadlines[0]).toBe(1 + timings.consensusMs);
    expect(deadlines[1]).toBe(1 + timings.consensusMs + Math.floor(0.999 * timings.consensusMs / 4));
  });
});

describe('RECOVERY re-sends each old message once', () => {
  // three transitional members: 2 far behind (aru 10), 5 at 40, 7 at 30
  const arus = [{ id: 2, aru: 10 }, { id: 5, aru: 40 }, { id: 7, aru: 30 }];

  it('a seq some aru covers has exactly one sender, a member that holds it, taken in turn', () => {
    const counts = new Map<number, number>();
    for (let seq = 11; seq <= 40; seq++) {
      const sender = recoverySender(arus, 10, seq);
      expect(sender).not.toBeNull();
      const aru = arus.find((a) => a.id === sender)?.aru ?? -1;
      expect(seq).toBeLessThanOrEqual(aru);
      counts.set(sender as number, (counts.get(sender as number) ?? 0) + 1);
    }
    // 11..30 alternate between 5 and 7, 31..40 only 5 holds for sure
    expect(counts).toEqual(new Map([[5, 20], [7, 10]]));
  });

  it('a seq above every aru has no designated sender (every holder re-sends it)', () => {
    expect(recoverySender(arus, 10, 41)).toBeNull();
  });

  it('works across the u32 wrap', () => {
    const wrapped = [{ id: 1, aru: 0xffff_fffe }, { id: 3, aru: 5 }];
    expect(recoverySender(wrapped, 0xffff_fffe, 0xffff_ffff)).toBe(3);
    expect(recoverySender(wrapped, 0xffff_fffe, 6)).toBeNull();
  });
});

describe('join rule 4: failure knowledge from outside my old ring (gather.ts adoptedFailures)', () => {
  const lastJoin = (p: Processor): Join | undefined =>
    p.ready().sends.map((s) => s.message).filter((m): m is Join => m.type === MessageType.Join).at(-1);
  /** processor 1 of four, in GATHER of its first round, ring seq 8 */
  function gathering(): Processor {
    const p = new Processor({ config: deriveTotemConfig(1, 4, timings), source: idle, ringSeqLoaded: 8, verify: true });
    p.start(0);
    p.ready();
    return p;
  }

  it('adopts the failure of a processor that names me failed, from a processor that was never my ring-mate', () => {
    const p = gathering();
    // 4 names me failed in a JOIN of an older round: dropped as stale (no mutual exclusion), but remembered
    p.handleMessage(1, join(4, [1, 2, 3, 4], [1], 1));
    expect(p.stats.staleDropped).toBe(1);
    // 3 (not of my old ring) has failed 4: I could not agree with 4 this round anyway, so I take it over
    p.handleMessage(2, join(3, [1, 2, 3, 4], [4], 1));
    expect(lastJoin(p)?.failedList).toEqual([4]);
  });

  it('does not adopt, from outside my old ring, the failure of a processor that has not named me failed', () => {
    const p = gathering();
    p.handleMessage(1, join(2, [1, 2], [], 1));
    p.handleMessage(2, join(3, [1, 2, 3, 4], [2], 1));
    const sent = lastJoin(p);
    expect(sent?.procList).toEqual([1, 2, 3, 4]);
    expect(sent?.failedList).toEqual([]);
  });

  it('adopts, from a processor that agreed with my view this round, the failures of processors that have not agreed', () => {
    const p = gathering();
    p.handleMessage(1, join(3, [1, 2, 3, 4], [], 1)); // my view grows to 1..4: a new round
    p.handleMessage(2, join(2, [1, 2, 3, 4], [], 1)); // 2 agrees with it
    p.handleMessage(3, join(2, [1, 2, 3, 4], [4], 1)); // 2's consensus timeout failed 4, which never agreed with me
    expect(lastJoin(p)?.failedList).toEqual([4]);
  });

  it('does not adopt, from a processor that agreed with me, the failure of another that agreed with me too', () => {
    const p = gathering();
    p.handleMessage(1, join(4, [1, 2, 3, 4], [], 1));
    p.handleMessage(2, join(2, [1, 2, 3, 4], [], 1));
    p.handleMessage(3, join(3, [1, 2, 3, 4], [], 1));
    p.handleMessage(4, join(2, [1, 2, 3, 4], [3], 1)); // a feud between two of my partners stays theirs
    const sent = lastJoin(p);
    expect(sent?.failedList).toEqual([]);
    expect(p['s'].consensus.has(3)).toBe(true);
  });

  it('forgets an exclusion when the processor\'s next JOIN no longer names me', () => {
    const p = gathering();
    p.handleMessage(1, join(4, [1, 2, 3, 4], [1], 1));
    p.handleMessage(2, join(4, [1, 2, 3, 4], [], 9));
    p.handleMessage(3, join(3, [1, 2, 3, 4], [4], 1));
    const sent = lastJoin(p);
    expect(sent?.procList).toEqual([1, 2, 3, 4]);
    expect(sent?.failedList).toEqual([]);
  });
});
