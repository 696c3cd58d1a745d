import { describe, expect, it } from 'vitest';
import { Guarantee } from '../../../src/wire/messages.ts';
import { GroupError } from '../../../src/errors.ts';
import { encodeGroupHeader, groupHeaderBytesMax, parseDatagram } from '../../../src/groups/format.ts';
import type { ParsedRecord } from '../../../src/groups/format.ts';
import { GroupReceiver } from '../../../src/groups/receiver.ts';
import { fragmentChunkBytesMin, GroupSender } from '../../../src/groups/sender.ts';
import { bytes, drain, feed, g, Orderer } from './util.ts';

const D = 1382;

function sender(datagramPayloadBytes = D, messageBytesMax = 1 << 20, queueBytesMax = 4 << 20): GroupSender {
  return new GroupSender({ datagramPayloadBytes, messageBytesMax, queueBytesMax });
}

function records(payload: Uint8Array): ParsedRecord[] {
  const r = parseDatagram(payload);
  if (!r.ok) throw new Error(r.reason);
  return r.records;
}

function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof GroupError) return e.code;
    throw e;
  }
  return 'nothing thrown';
}

describe('GroupSender options', () => {
  it.each([
    [{ datagramPayloadBytes: 31, messageBytesMax: 10, queueBytesMax: 10 }],
    [{ datagramPayloadBytes: 65536, messageBytesMax: 10, queueBytesMax: 10 }],
    [{ datagramPayloadBytes: 1.5, messageBytesMax: 10, queueBytesMax: 10 }],
    [{ datagramPayloadBytes: 100, messageBytesMax: -1, queueBytesMax: 10 }],
    [{ datagramPayloadBytes: 100, messageBytesMax: 1000, queueBytesMax: 999 }],
    [{ datagramPayloadBytes: 100, messageBytesMax: 1000, queueBytesMax: Number.NaN }],
    // 4 MiB in 23-byte fragments needs more than 65536 fragment indexes
    [{ datagramPayloadBytes: 32, messageBytesMax: 4 << 20, queueBytesMax: 4 << 20 }],
  ])('refuses %o', (options) => {
    expect(thrownCode(() => new GroupSender(options))).toBe('ERR_EVS_BAD_OPTION');
  });

  it('accepts queueBytesMax == messageBytesMax and the 1 MiB default at the smallest datagram', () => {
    expect(() => new GroupSender({ datagramPayloadBytes: 100, messageBytesMax: 1000, queueBytesMax: 1000 })).not.toThrow();
    expect(() => new GroupSender({ datagramPayloadBytes: 32, messageBytesMax: 1 << 20, queueBytesMax: 1 << 20 })).not.toThrow();
  });
});

describe('packing', () => {
  it('many small messages go out in as few datagrams as fit, in order', () => {
    const s = sender();
    // each: record 3 + groups 3 + payload 20 = 26 bytes → 53 per 1382-byte datagram
    for (let i = 0; i < 100; i++) expect(s.submit([g], bytes(20, i), Guarantee.Agreed)).toBe('ok');
    expect(s.backlog()).toBe(2);
    const ds = drain(s);
    expect(ds.map((d) => d.payload.length)).toEqual([53 * 26, 47 * 26]);
    expect(ds.map((d) => records(d.payload).length)).toEqual([53, 47]);
    expect(s.queuedMessages).toBe(0);
    expect(s.queuedBytes).toBe(0);
    expect(s.backlog()).toBe(0);
    expect(s.stats).toEqual({ datagrams: 2, messagesSent: 100, messagesRestarted: 0 });
    const o = new Orderer();
    const ms = feed(new GroupReceiver(), ds.map((d) => o.event(d)));
    expect(ms).toHaveLength(100);
    ms.forEach((m, i) => {
      expect(m.payload).toEqual(bytes(20, i));
      expect(m.groups).toEqual([g]);
      expect(m.seq).toBe(i < 53 ? 1 : 2);
    });
  });

  it('medium messages: the first fragment fills the rest of a datagram', () => {
    const s = sender();
    // each message is 1003 bytes (3 group header + 1000); whole record 1006
    for (let i = 0; i < 10; i++) s.submit([g], bytes(1000, i), Guarantee.Agreed);
    const ds = drain(s);
    // 10 × 1003 message bytes + per-record headers fit in 8 datagrams (one per message would be 10)
    expect(ds).toHaveLength(8);
    for (const d of ds.slice(0, -1)) {
      // a full datagram leaves no room for another minimal fragment
      expect(d.payload.length).toBeGreaterThan(D - 9 - fragmentChunkBytesMin);
      expect(d.payload.length).toBeLessThanOrEqual(D);
    }
    // first datagram: message 0 whole, then message 1's FIRST fragment of 1382 − 1006 − 9 = 367 bytes
    const [r0, r1] = records(ds[0]!.payload);
    expect(r0!.kind).toBe('whole');
    expect(r1).toMatchObject({ kind: 'fragment', first: true, last: false, index: 0 });
    if (r1?.kind === 'fragment') expect(r1.chunk.length).toBe(367);
    const o = new Orderer();
    const ms = feed(new GroupReceiver(), ds.map((d) => o.event(d)));
    expect(ms.map((m) => m.payload)).toEqual(Array.from({ length: 10 }, (_, i) => bytes(1000, i)));
  });

  it('does not start a fragment in less than fragmentChunkBytesMin bytes', () => {
    const s = sender(200);
    s.submit([g], bytes(130), Guarantee.Agreed); // record 136: 64 left, room 55 < 64
    s.submit([g], bytes(130, 1), Guarantee.Agreed);
    const ds = drain(s);
    expect(ds.map((d) => d.payload.length)).toEqual([136, 136]);
  });

  it('every datagram fits datagramPayloadBytes for a mix of sizes', () => {
    const s = sender(100, 5000, 1 << 20);
    const sizes = [0, 1, 94, 95, 96, 97, 200, 33, 5000, 7, 64, 63, 91];
    sizes.forEach((n, i) => s.submit([g], bytes(n, i), Guarantee.Agreed));
    const ds = drain(s);
    for (const d of ds) expect(d.payload.length).toBeLessThanOrEqual(100);
    const o = new Orderer();
    expect(feed(new GroupReceiver(), ds.map((d) => o.event(d))).map((m) => m.payload)).toEqual(sizes.map((n, i) => bytes(n, i)));
  });
});

describe('guarantee separation', () => {
  it('safe and agreed never share a datagram, FIFO kept across them', () => {
    const s = sender();
    const plan = [Guarantee.Agreed, Guarantee.Agreed, Guarantee.Safe, Guarantee.Safe, Guarantee.Safe, Guarantee.Agreed, Guarantee.Safe];
    plan.forEach((gu, i) => s.submit([g], bytes(10, i), gu));
    const ds = drain(s);
    expect(ds.map((d) => [d.guarantee, records(d.payload).length])).toEqual([
      [Guarantee.Agreed, 2],
      [Guarantee.Safe, 3],
      [Guarantee.Agreed, 1],
      [Guarantee.Safe, 1],
    ]);
    const o = new Orderer();
    const ms = feed(new GroupReceiver(), ds.map((d) => o.event(d)));
    expect(ms.map((m) => m.guarantee)).toEqual(plan);
    expect(ms.map((m) => m.payload)).toEqual(plan.map((_, i) => bytes(10, i)));
  });

  it('a fragmented safe message is safe in every datagram and shares none with agreed ones', () => {
    const s = sender();
    s.submit([g], bytes(10), Guarantee.Agreed);
    s.submit([g], bytes(5000), Guarantee.Safe);
    s.submit([g], bytes(10), Guarantee.Agreed);
    const ds = drain(s);
    expect(ds.map((d) => d.guarantee)).toEqual([Guarantee.Agreed, Guarantee.Safe, Guarantee.Safe, Guarantee.Safe, Guarantee.Safe, Guarantee.Agreed]);
    expect(records(ds[0]!.payload)).toHaveLength(1);
    expect(records(ds[4]!.payload)).toHaveLength(1);
  });
});

describe('back-pressure and validation', () => {
  it("returns 'try-again' when the budget is used and 'ok' once next() drained it", () => {
    const s = sender(100, 1000, 1000);
    expect(s.freeBytes()).toBe(1000);
    expect(s.submit([g], bytes(500), Guarantee.Agreed)).toBe('ok'); // costs 503
    expect(s.freeBytes()).toBe(497);
    expect(s.submit([g], bytes(495), Guarantee.Agreed)).toBe('try-again'); // 498 > 497
    expect(s.submit([g], bytes(494), Guarantee.Agreed)).toBe('ok'); // 497
    expect(s.freeBytes()).toBe(0);
    expect(s.submit([], new Uint8Array(0), Guarantee.Agreed)).toBe('try-again'); // costs 1
    expect(s.queuedMessages).toBe(2);
    expect(s.queuedBytes).toBe(1000);
    // a partly sent message still holds its budget (it may have to go again whole)
    s.next();
    expect(s.freeBytes()).toBe(0);
    expect(s.submit([], new Uint8Array(0), Guarantee.Agreed)).toBe('try-again');
    drain(s);
    expect(s.freeBytes()).toBe(1000);
    expect(s.submit([g], bytes(997), Guarantee.Agreed)).toBe('ok');
  });

  it('an empty queue accepts a maximum message even when its group header exceeds the budget', () => {
    const s = sender(100, 1000, 1000);
    const groups = [g, new TextEncoder().encode('other')];
    expect(s.submit(groups, bytes(1000), Guarantee.Safe)).toBe('ok');
    expect(s.queuedBytes).toBe(1 + 2 + 6 + 1000);
    expect(s.freeBytes()).toBe(0);
    expect(s.submit([], new Uint8Array(0), Guarantee.Safe)).toBe('try-again');
  });

  it('invalid input throws the right GroupError before anything is queued', () => {
    const s = sender(100, 1000, 1000);
    s.submit([g], bytes(10), Guarantee.Agreed);
    const before = { messages: s.queuedMessages, bytes: s.queuedBytes, free: s.freeBytes(), backlog: s.backlog() };
    const name = (n: number): Uint8Array => new Uint8Array(n).fill(0x61);
    expect(thrownCode(() => s.submit([g], bytes(1001), Guarantee.Agreed))).toBe('ERR_EVS_MESSAGE_TOO_LARGE');
    expect(thrownCode(() => s.submit(Array.from({ length: 51 }, () => g), bytes(1), Guarantee.Agreed))).toBe('ERR_EVS_TOO_MANY_GROUPS');
    expect(thrownCode(() => s.submit([g, name(129)], bytes(1), Guarantee.Agreed))).toBe('ERR_EVS_GROUP_NAME_TOO_LONG');
    expect(thrownCode(() => s.submit([g, name(0)], bytes(1), Guarantee.Agreed))).toBe('ERR_EVS_GROUP_NAME_EMPTY');
    expect(thrownCode(() => s.submit([g], bytes(1), 2 as Guarantee))).toBe('ERR_EVS_BAD_GUARANTEE');
    expect(thrownCode(() => s.submit([g], bytes(1), -1 as Guarantee))).toBe('ERR_EVS_BAD_GUARANTEE');
    expect({ messages: s.queuedMessages, bytes: s.queuedBytes, free: s.freeBytes(), backlog: s.backlog() }).toEqual(before);
    // the limits themselves are fine
    expect(s.submit(Array.from({ length: 50 }, () => name(128)), new Uint8Array(0), Guarantee.Agreed)).toBe('try-again');
    expect(s.submit([name(128)], bytes(500), Guarantee.Agreed)).toBe('ok');
    const ds = drain(s);
    const o = new Orderer();
    expect(feed(new GroupReceiver({ messageBytesMax: 1000 }), ds.map((d) => o.event(d))).map((m) => m.payload.length)).toEqual([10, 500]);
    // a full queue still validates first
    const full = sender(100, 1000, 1000);
    full.submit([g], bytes(997), Guarantee.Agreed);
    expect(thrownCode(() => full.submit([g], bytes(1001), Guarantee.Agreed))).toBe('ERR_EVS_MESSAGE_TOO_LARGE');
  });

  it('GroupError carries a name and a stable code', () => {
    const s = sender(100, 10, 10);
    try {
      s.submit([g], bytes(11), Guarantee.Agreed);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(GroupError);
      expect(e).toBeInstanceOf(Error);
      expect((e as GroupError).name).toBe('GroupError');
      expect((e as GroupError).code).toBe('ERR_EVS_MESSAGE_TOO_LARGE');
    }
  });
});

describe('backlog', () => {
  it('is 0 iff nothing is queued, and estimates datagrams', () => {
    const s = sender();
    expect(s.backlog()).toBe(0);
    s.submit([], new Uint8Array(0), Guarantee.Agreed);
    expect(s.backlog()).toBe(1);
    drain(s);
    expect(s.backlog()).toBe(0);
    s.submit([g], bytes(10_000), Guarantee.Agreed);
    // 10003 message bytes in 1373-byte fragments: 8 datagrams
    expect(s.backlog()).toBe(8);
    s.next();
    expect(s.backlog()).toBe(7);
    expect(drain(s)).toHaveLength(7);
    expect(s.backlog()).toBe(0);
  });
});

describe('restart', () => {
  it('a partly sent message is sent again whole from its first fragment, under a new number', () => {
    const s = sender();
    s.submit([g], bytes(3000), Guarantee.Agreed);
    s.submit([g], bytes(5, 1), Guarantee.Agreed);
    const d1 = s.next()!;
    const [f1] = records(d1.payload);
    expect(f1).toMatchObject({ kind: 'fragment', first: true, index: 0, number: 0 });
    s.restart();
    expect(s.stats.messagesRestarted).toBe(1);
    expect(s.queuedMessages).toBe(2);
    expect(s.queuedBytes).toBe(3003 + 8);
    const again = drain(s);
    expect(again).toHaveLength(3);
    const [r1] = records(again[0]!.payload);
    expect(r1).toMatchObject({ kind: 'fragment', first: true, index: 0, number: 1 });
    if (r1?.kind === 'fragment' && f1?.kind === 'fragment') expect(r1.chunk).toEqual(f1.chunk);
  });

  it('is a no-op for untouched and fully sent messages; FIFO kept', () => {
    const s = sender();
    s.submit([g], bytes(100, 0), Guarantee.Agreed);
    s.restart();
    expect(s.stats.messagesRestarted).toBe(0);
    expect(drain(s)).toHaveLength(1);
    s.submit([g], bytes(2000, 1), Guarantee.Agreed);
    s.submit([g], bytes(10, 2), Guarantee.Safe);
    s.submit([g], bytes(10, 3), Guarantee.Safe);
    s.next();
    s.next(); // message 1 is now complete
    expect(s.queuedMessages).toBe(2);
    s.restart();
    expect(s.stats.messagesRestarted).toBe(0);
    const ds = drain(s);
    expect(ds).toHaveLength(1);
    const o = new Orderer();
    expect(feed(new GroupReceiver(), ds.map((d) => o.event(d))).map((m) => m.payload)).toEqual([bytes(10, 2), bytes(10, 3)]);
  });
});

describe('submitMessage (an encoded message, as the runtime submits it)', () => {
  const enc = new TextEncoder();
  const groups = [enc.encode('locks'), enc.encode('audit')];

  function encoded(payload: Uint8Array): Uint8Array {
    const header = encodeGroupHeader(groups);
    const m = new Uint8Array(header.length + payload.length);
    m.set(header);
    m.set(payload, header.length);
    return m;
  }

  it('makes the very datagrams submit makes for the same groups and payload, whole and fragmented', () => {
    const a = sender(200);
    const b = sender(200);
    for (const [i, size] of [10, 3000, 0, 150, 40].entries()) {
      const guarantee = i === 3 ? Guarantee.Safe : Guarantee.Agreed;
      expect(a.submit(groups, bytes(size, i), guarantee)).toBe('ok');
      expect(b.submitMessage(encoded(bytes(size, i)), guarantee)).toBe('ok');
    }
    expect(b.queuedBytes).toBe(a.queuedBytes);
    expect(drain(b)).toEqual(drain(a));
  });

  it('hands the receiver the header bytes as encoded, with the groups parsed from them once', () => {
    const s = sender();
    const message = encoded(bytes(30, 1));
    s.submitMessage(message, Guarantee.Agreed);
    const [m] = feed(new GroupReceiver(), drain(s).map((d) => new Orderer().event(d)));
    expect([...m!.bytes]).toEqual([...message]);
    expect(m!.groups.map((x) => new TextDecoder().decode(x))).toEqual(['locks', 'audit']);
    expect(m!.payload.byteOffset - m!.bytes.byteOffset).toBe(message.length - 30);
  });

  it('refuses a bad guarantee and a message beyond messageBytesMax + the largest group header', () => {
    const s = sender(D, 100, 1000);
    expect(thrownCode(() => s.submitMessage(encoded(bytes(1)), 2 as Guarantee))).toBe('ERR_EVS_BAD_GUARANTEE');
    expect(thrownCode(() => s.submitMessage(new Uint8Array(0), Guarantee.Agreed))).toBe('ERR_EVS_MESSAGE_TOO_LARGE');
    expect(thrownCode(() => s.submitMessage(new Uint8Array(100 + groupHeaderBytesMax + 1), Guarantee.Agreed))).toBe('ERR_EVS_MESSAGE_TOO_LARGE');
    expect(s.submitMessage(new Uint8Array(100 + groupHeaderBytesMax), Guarantee.Agreed)).toBe('ok');
  });
});
