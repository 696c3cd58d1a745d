import { describe, expect, it } from 'vitest';
import { deriveTotemConfig } from '../../../src/protocol/config.ts';
import type { MembState, ProcessorOptions } from '../../../src/protocol/processor.ts';
import type { CoreEvent, Ready, Send } from '../../../src/protocol/ready.ts';
import { ProcessorStats } from '../../../src/protocol/stats.ts';
import { Guarantee, MessageType } from '../../../src/wire/messages.ts';
import type { Message, RingId } from '../../../src/wire/messages.ts';
import { GroupError } from '../../../src/errors.ts';
import { EvsCore } from '../../../src/groups/evs-core.ts';
import type { AppEvent, ProcessorPort } from '../../../src/groups/evs-core.ts';
import { bytes, confchg, g, ring1, ring2, sameBytes } from './util.ts';

/**
 * Stand-in for the Processor (whose body is being written elsewhere): records
 * calls, and plays the core's part of a token visit by pulling datagrams from
 * the source and delivering them back in order, as an ordered ring would.
 */
class FakeProcessor implements ProcessorPort {
  readonly stats = new ProcessorStats();
  readonly calls: string[] = [];
  events: CoreEvent[] = [];
  sends: Send[] = [];
  persistRingSeq: number | null = null;
  ring: RingId = ring1;
  seq = 0;
  isStopped = false;
  /** source.backlog() seen by each notifyPending. */
  readonly backlogAtNotify: number[] = [];

  constructor(readonly options: ProcessorOptions) {}

  start(now: number): void {
    this.calls.push(`start ${now}`);
  }
  handleMessage(now: number, message: Message): void {
    this.calls.push(`handleMessage ${now} type ${message.type}`);
  }
  paused(now: number, pausedMs: number): void {
    this.calls.push(`paused ${now} ${pausedMs}`);
  }
  handleTimeout(now: number): void {
    this.calls.push(`handleTimeout ${now}`);
  }
  notifyPending(now: number): void {
    this.calls.push(`notifyPending ${now}`);
    this.backlogAtNotify.push(this.options.source.backlog());
  }
  leave(now: number): void {
    this.calls.push(`leave ${now}`);
    this.isStopped = true;
  }
  nextDeadline(): number {
    return 1234;
  }
  ready(): Ready {
    const r: Ready = { sends: this.sends, events: this.events, persistRingSeq: this.persistRingSeq };
    this.sends = [];
    this.events = [];
    this.persistRingSeq = null;
    return r;
  }
  get state(): MembState {
    return 'operational';
  }
  get ringId(): RingId {
    return this.ring;
  }
  get members(): readonly number[] {
    return [1, 2];
  }
  get stopped(): boolean {
    return this.isStopped;
  }

  /** a token visit: order up to `max` datagrams of our own and deliver them. */
  visit(max = Infinity): number {
    let n = 0;
    for (; n < max; n++) {
      const d = this.options.source.next();
      if (d === null) break;
      this.seq += 1;
      this.events.push({ kind: 'deliver', sender: this.options.config.nodeId, ringId: this.ring, seq: this.seq, guarantee: d.guarantee, payload: d.payload });
    }
    return n;
  }

  /** install a new ring the way the core does: transitional, regular, source.restart(). */
  install(ring: RingId): void {
    this.events.push(confchg('transitional', ring, this.ring), confchg('regular', ring, this.ring));
    this.ring = ring;
    this.seq = 0;
    this.options.source.restart();
  }
}

const config = deriveTotemConfig(1, 2);

function core(extra: { log?: (line: string) => void; queueBytesMax?: number } = {}): { evs: EvsCore; fake: FakeProcessor } {
  let fake: FakeProcessor | undefined;
  const evs = new EvsCore({
    config,
    ringSeqLoaded: 12,
    datagramPayloadBytes: 1382,
    messageBytesMax: 10_000,
    queueBytesMax: extra.queueBytesMax ?? 100_000,
    ...(extra.log !== undefined ? { log: extra.log } : {}),
    createProcessor: (options) => (fake = new FakeProcessor(options)),
  });
  return { evs, fake: fake! };
}

function summary(events: readonly AppEvent[]): string[] {
  return events.map((e) => (e.kind === 'deliver' ? `deliver ${e.sender} ${e.payload.length} @${e.ringId.seq}.${e.seq}` : `${e.type} ${e.ringId.seq}`));
}

describe('EvsCore', () => {
  it('builds the processor with the config, the loaded ring seq, the log and the sender as source', () => {
    const lines: string[] = [];
    const { evs, fake } = core({ log: (l) => lines.push(l) });
    expect(fake.options.config).toBe(config);
    expect(fake.options.ringSeqLoaded).toBe(12);
    fake.options.log?.('hello');
    expect(lines).toEqual(['hello']);
    expect(fake.options.source.backlog()).toBe(0);
    expect(fake.options.source.next()).toBeNull();
    expect(evs.processor).toBe(fake);
    expect('log' in core().fake.options).toBe(false);
  });

  it('delegates inputs and nextDeadline', () => {
    const { evs, fake } = core();
    evs.start(5);
    evs.handleMessage(6, { type: MessageType.MergeDetect, sender: 2, ringId: ring1 });
    evs.handleTimeout(7);
    expect(evs.nextDeadline()).toBe(1234);
    evs.leave(8);
    expect(fake.calls).toEqual(['start 5', `handleMessage 6 type ${MessageType.MergeDetect}`, 'handleTimeout 7', 'leave 8']);
  });

  it('submit queues first, then notifies the processor; try-again and errors do not notify', () => {
    const { evs, fake } = core({ queueBytesMax: 10_000 });
    expect(evs.submit(10, [g], bytes(9_000), Guarantee.Agreed)).toBe('ok');
    expect(fake.calls).toEqual(['notifyPending 10']);
    expect(fake.backlogAtNotify).toEqual([7]);
    expect(evs.freeBytes()).toBe(10_000 - 9_003);
    expect(evs.submit(11, [g], bytes(1_000), Guarantee.Agreed)).toBe('try-again');
    expect(() => evs.submit(12, [g], bytes(10_001), Guarantee.Agreed)).toThrow(GroupError);
    expect(fake.calls).toEqual(['notifyPending 10']);
    expect(evs.stats.queuedMessages).toBe(1);
    expect(evs.stats.queuedBytes).toBe(9_003);
  });

  it('submit after leave throws ERR_EVS_STOPPED', () => {
    const { evs } = core();
    evs.leave(1);
    expect(() => evs.submit(2, [g], bytes(1), Guarantee.Agreed)).toThrow(expect.objectContaining({ code: 'ERR_EVS_STOPPED' }));
    expect(evs.stats.queuedMessages).toBe(0);
  });

  it('ready() passes sends and persistRingSeq through and turns datagrams into messages in stream order', () => {
    const { evs, fake } = core();
    const send: Send = { to: 0, message: { type: MessageType.MergeDetect, sender: 1, ringId: ring1 } };
    fake.sends.push(send);
    fake.persistRingSeq = 16;
    fake.events.push(confchg('transitional', ring1, { rep: 1, seq: 0 }), confchg('regular', ring1, { rep: 1, seq: 0 }));
    evs.submit(1, [g], bytes(10, 1), Guarantee.Agreed);
    evs.submit(1, [g], bytes(20, 2), Guarantee.Agreed);
    evs.submit(1, [g], bytes(3000, 3), Guarantee.Safe);
    expect(fake.visit()).toBe(4);
    const r = evs.ready();
    expect(r.sends).toEqual([send]);
    expect(r.persistRingSeq).toBe(16);
    expect(summary(r.events)).toEqual(['transitional 4', 'regular 4', 'deliver 1 10 @4.1', 'deliver 1 20 @4.1', 'deliver 1 3000 @4.4']);
    const last = r.events[4]!;
    expect(last.kind === 'deliver' && last.guarantee === Guarantee.Safe && sameBytes(last.payload, bytes(3000, 3))).toBe(true);
    expect(evs.ready()).toEqual({ sends: [], persistRingSeq: null, events: [] });
  });

  it('a message half ordered before a new ring is delivered once, whole, in the new ring', () => {
    const { evs, fake } = core();
    evs.submit(1, [g], bytes(5000, 9), Guarantee.Agreed);
    evs.submit(1, [g], bytes(10, 8), Guarantee.Agreed);
    expect(fake.visit(2)).toBe(2);
    fake.install(ring2);
    expect(fake.visit()).toBe(4);
    const r = evs.ready();
    expect(summary(r.events)).toEqual(['transitional 8', 'regular 8', 'deliver 1 5000 @8.4', 'deliver 1 10 @8.4']);
    const m = r.events[2]!;
    expect(m.kind === 'deliver' && sameBytes(m.payload, bytes(5000, 9))).toBe(true);
    expect(evs.stats.receiver.partialsDiscarded).toBe(1);
    expect(evs.stats.sender.messagesRestarted).toBe(1);
  });

  it('a TRANSITIONAL change inside a fragmented message keeps it; the REGULAR one after it drops a partial', () => {
    const { evs, fake } = core();
    evs.submit(1, [g], bytes(3000, 1), Guarantee.Agreed);
    fake.visit(1);
    fake.events.push(confchg('transitional', ring2, ring1));
    fake.visit();
    evs.submit(1, [g], bytes(3000, 2), Guarantee.Agreed);
    fake.visit(1);
    fake.events.push(confchg('regular', ring2, ring1));
    const r = evs.ready();
    expect(summary(r.events)).toEqual(['transitional 8', 'deliver 1 3000 @4.3', 'regular 8']);
    expect(evs.stats.receiver.partialsDiscarded).toBe(1);
  });
});
