import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Guarantee } from '../../../src/wire/messages.ts';
import type { DeliverEvent, Outgoing } from '../../../src/protocol/ready.ts';
import { parseDatagram } from '../../../src/groups/format.ts';
import { GroupReceiver } from '../../../src/groups/receiver.ts';
import type { AppMessage } from '../../../src/groups/receiver.ts';
import { GroupSender } from '../../../src/groups/sender.ts';
import { bytes, confchg, drain, feed, g, Orderer, ring1, ring2, sameBytes } from './util.ts';

const D = 1382;
const MiB = 1 << 20;

function sender(datagramPayloadBytes = D, messageBytesMax = MiB): GroupSender {
  return new GroupSender({ datagramPayloadBytes, messageBytesMax, queueBytesMax: 4 * MiB });
}

describe('fragmentation round trip', () => {
  // message = 3 group-header bytes + payload; whole record adds 3; a fragment carries up to 1382 − 9 = 1373
  it.each([
    ['0 B', 0, 1],
    ['1 B', 1, 1],
    ['exactly one datagram', D - 6, 1],
    ['one byte more', D - 5, 2],
    ['10 KB', 10_000, Math.ceil(10_003 / 1373)],
    ['1 MiB', MiB, Math.ceil((MiB + 3) / 1373)],
  ])('%s comes back byte-identical', (_what, size, datagrams) => {
    const s = sender();
    const payload = bytes(size, 5);
    expect(s.submit([g], payload, Guarantee.Safe)).toBe('ok');
    const ds = drain(s);
    expect(ds).toHaveLength(datagrams);
    for (const d of ds) {
      expect(d.payload.length).toBeLessThanOrEqual(D);
      expect(d.guarantee).toBe(Guarantee.Safe);
    }
    const r = new GroupReceiver();
    const o = new Orderer();
    const ms: AppMessage[] = [];
    ds.forEach((d, i) => {
      r.onDeliver(o.event(d), (m) => ms.push(m));
      // nothing is delivered before the last fragment
      expect(ms).toHaveLength(i === ds.length - 1 ? 1 : 0);
    });
    const [m] = ms;
    expect(m!.payload.length).toBe(size);
    expect(sameBytes(m!.payload, payload)).toBe(true);
    expect(m!.groups).toEqual([g]);
    expect(m!).toMatchObject({ sender: 7, guarantee: Guarantee.Safe, ringId: ring1, seq: datagrams });
    expect(r.partialCount).toBe(0);
    expect(r.stats).toEqual({ delivered: 1, malformed: 0, fragmentsDiscarded: 0, partialsDiscarded: 0 });
  });

  it('random streams of messages round-trip in order (fixed seed)', () => {
    const message = fc.record({
      size: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 5000 })),
      safe: fc.boolean(),
      groups: fc.array(fc.uint8Array({ minLength: 1, maxLength: 128 }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 40 }), fc.integer({ min: 32, max: 1500 }), (spec, datagramBytes) => {
        const s = sender(datagramBytes, 5000);
        const sent = spec.map((m, i) => ({ groups: m.groups, payload: bytes(m.size, i), guarantee: m.safe ? Guarantee.Safe : Guarantee.Agreed }));
        for (const m of sent) expect(s.submit(m.groups, m.payload, m.guarantee)).toBe('ok');
        const ds = drain(s);
        for (const d of ds) expect(d.payload.length).toBeLessThanOrEqual(datagramBytes);
        const o = new Orderer();
        const got = feed(new GroupReceiver({ messageBytesMax: 5000 }), ds.map((d) => o.event(d)));
        expect(got).toHaveLength(sent.length);
        got.forEach((m, i) => {
          const want = sent[i]!;
          expect(m.guarantee).toBe(want.guarantee);
          expect(m.groups.length).toBe(want.groups.length);
          m.groups.forEach((x, j) => expect(sameBytes(x, want.groups[j]!)).toBe(true));
          expect(sameBytes(m.payload, want.payload)).toBe(true);
        });
      }),
      { seed: 20260101, numRuns: 200 },
    );
  });

  it('two senders interleaved are assembled independently', () => {
    const a = sender();
    const b = sender();
    a.submit([g], bytes(4000, 1), Guarantee.Agreed);
    b.submit([g], bytes(3000, 2), Guarantee.Agreed);
    const da = drain(a);
    const db = drain(b);
    const o = new Orderer();
    const events = [o.event(da[0]!, 1), o.event(db[0]!, 2), o.event(da[1]!, 1), o.event(db[1]!, 2), o.event(db[2]!, 2), o.event(da[2]!, 1)];
    const ms = feed(new GroupReceiver(), events);
    expect(ms.map((m) => [m.sender, m.seq, m.payload.length])).toEqual([
      [2, 5, 3000],
      [1, 6, 4000],
    ]);
    expect(ms[0]!.payload).toEqual(bytes(3000, 2));
    expect(ms[1]!.payload).toEqual(bytes(4000, 1));
  });
});

describe('restart across a regular configuration change', () => {
  /** Message M (3 fragments) then a small N; the first `sentBefore` datagrams are ordered in ring 1. */
  function scenario(sentBefore: number): { before: Outgoing[]; after: Outgoing[]; m: Uint8Array; n: Uint8Array } {
    const s = sender();
    const m = bytes(3000, 11);
    const n = bytes(20, 12);
    s.submit([g], m, Guarantee.Agreed);
    s.submit([g], n, Guarantee.Agreed);
    const before: Outgoing[] = [];
    for (let i = 0; i < sentBefore; i++) before.push(s.next()!);
    s.restart();
    return { before, after: drain(s), m, n };
  }

  it.each([1, 2])('a receiver that saw %i of 3 fragments, then REGULAR, delivers M once, whole, from the re-send', (sentBefore) => {
    const { before, after, m, n } = scenario(sentBefore);
    expect(after).toHaveLength(3);
    const r = new GroupReceiver();
    const o1 = new Orderer(ring1);
    const got = feed(r, before.map((d) => o1.event(d)));
    expect(got).toEqual([]);
    expect(r.partialCount).toBe(1);
    r.onConfchg(confchg('transitional'));
    expect(r.partialCount).toBe(1);
    r.onConfchg(confchg('regular'));
    expect(r.partialCount).toBe(0);
    expect(r.stats.partialsDiscarded).toBe(1);
    const o2 = new Orderer(ring2);
    const ms = feed(r, after.map((d) => o2.event(d)));
    expect(ms.map((x) => x.payload)).toEqual([m, n]);
    expect(ms.map((x) => [x.ringId, x.seq])).toEqual([
      [ring2, 3],
      [ring2, 3],
    ]);
  });

  it('a receiver that only sees the re-send delivers M once', () => {
    const { after, m, n } = scenario(2);
    const r = new GroupReceiver();
    r.onConfchg(confchg('transitional'));
    r.onConfchg(confchg('regular'));
    const o2 = new Orderer(ring2);
    expect(feed(r, after.map((d) => o2.event(d))).map((x) => x.payload)).toEqual([m, n]);
    expect(r.stats).toEqual({ delivered: 2, malformed: 0, fragmentsDiscarded: 0, partialsDiscarded: 0 });
  });

  it('without the confchg, the re-sent FIRST fragment still replaces the partial (never a mix)', () => {
    const { before, after, m, n } = scenario(2);
    const r = new GroupReceiver();
    const o = new Orderer();
    const ms = feed(r, [...before, ...after].map((d) => o.event(d)));
    expect(ms.map((x) => x.payload)).toEqual([m, n]);
    expect(r.stats.partialsDiscarded).toBe(1);
  });

  it('a TRANSITIONAL change keeps the partial: tail fragments delivered there complete it', () => {
    const s = sender();
    const m = bytes(3000, 3);
    s.submit([g], m, Guarantee.Agreed);
    const ds = drain(s);
    const r = new GroupReceiver();
    const o = new Orderer();
    const ms: AppMessage[] = [];
    r.onDeliver(o.event(ds[0]!), (x) => ms.push(x));
    r.onConfchg(confchg('transitional'));
    r.onDeliver(o.event(ds[1]!), (x) => ms.push(x));
    r.onDeliver(o.event(ds[2]!), (x) => ms.push(x));
    expect(ms.map((x) => x.payload)).toEqual([m]);
  });
});

describe('throw-away mode', () => {
  it('a missing middle fragment makes the message disappear; the next message of that sender is delivered', () => {
    const s = sender();
    const m1 = bytes(4000, 1);
    const m2 = bytes(2000, 2);
    const m3 = bytes(50, 3);
    s.submit([g], m1, Guarantee.Agreed);
    s.submit([g], m2, Guarantee.Agreed);
    s.submit([g], m3, Guarantee.Agreed);
    const ds = drain(s);
    // m1: 4003 bytes = 1373 + 1373 + 1257 (LAST, then m2's FIRST fragment fills the datagram)
    expect(ds).toHaveLength(5);
    const o = new Orderer();
    const events = ds.map((d) => o.event(d));
    const r = new GroupReceiver();
    const ms = feed(r, [events[0]!, events[2]!, events[3]!, events[4]!]);
    expect(ms.map((x) => x.payload)).toEqual([m2, m3]);
    expect(r.stats).toEqual({ delivered: 2, malformed: 0, fragmentsDiscarded: 1, partialsDiscarded: 1 });
  });

  it('a hole inside the next message too: both disappear, the following whole one is delivered', () => {
    const s = sender(200);
    const m1 = bytes(500, 1);
    const m2 = bytes(500, 2);
    const m3 = bytes(10, 3);
    for (const m of [m1, m2, m3]) s.submit([g], m, Guarantee.Agreed);
    const ds = drain(s);
    const o = new Orderer();
    const events = ds.map((d) => o.event(d));
    const r = new GroupReceiver();
    // drop datagram 1 (m1's second fragment) and the one with m2's second fragment
    const m2Second = ds.findIndex((d) => {
      const p = parseDatagram(d.payload);
      return p.ok && p.records.some((x) => x.kind === 'fragment' && x.number === 1 && x.index === 1);
    });
    expect(m2Second).toBeGreaterThan(1);
    const ms = feed(r, events.filter((_, i) => i !== 1 && i !== m2Second));
    expect(ms.map((x) => x.payload)).toEqual([m3]);
  });

  it('a continuation with a foreign message number is thrown away', () => {
    const a = sender();
    a.submit([g], bytes(3000, 1), Guarantee.Agreed); // fragments of message number 0
    const da = drain(a);
    const b = sender();
    b.submit([g], bytes(3000, 2), Guarantee.Agreed); // number 0
    b.submit([g], bytes(5000, 3), Guarantee.Agreed); // number 1
    const foreign = drain(b).find((d) => {
      const p = parseDatagram(d.payload);
      return p.ok && p.records[0]!.kind === 'fragment' && p.records[0]!.number === 1 && p.records[0]!.index === 1;
    });
    expect(foreign).toBeDefined();
    // sender 7: its FIRST fragment, then a fragment with index 1 but number 1, then its own tail
    const o = new Orderer();
    const r = new GroupReceiver();
    const ms = feed(r, [o.event(da[0]!), o.event(foreign!), o.event(da[1]!), o.event(da[2]!)]);
    expect(ms).toEqual([]);
    expect(r.stats).toEqual({ delivered: 0, malformed: 0, fragmentsDiscarded: 3, partialsDiscarded: 1 });
    expect(r.partialCount).toBe(0);
  });
});

describe('malformed input', () => {
  function event(payload: Uint8Array, seq = 1, guarantee: Guarantee = Guarantee.Agreed): DeliverEvent {
    return { kind: 'deliver', sender: 3, ringId: ring1, seq, guarantee, payload };
  }

  it('random bytes are dropped and counted, never thrown (fixed seed)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (datagrams) => {
        const r = new GroupReceiver();
        let bad = 0;
        for (const [i, d] of datagrams.entries()) {
          if (!parseDatagram(d).ok) bad += 1;
          expect(() => r.onDeliver(event(d, i + 1), () => {})).not.toThrow();
        }
        expect(r.stats.malformed).toBeGreaterThanOrEqual(bad);
      }),
      { seed: 424242, numRuns: 2000 },
    );
  });

  it('truncations of a valid datagram are malformed except at record boundaries', () => {
    const s = sender();
    s.submit([g], bytes(10, 1), Guarantee.Agreed); // record 16 bytes
    s.submit([g], bytes(20, 2), Guarantee.Agreed); // record 26 bytes
    s.submit([g], bytes(3000, 3), Guarantee.Agreed); // FIRST fragment fills the rest
    const d = s.next()!;
    expect(d.payload.length).toBe(D);
    const boundaries = new Set([16, 42]);
    const r = new GroupReceiver();
    const delivered: AppMessage[] = [];
    for (let cut = 0; cut < d.payload.length; cut++) {
      r.onDeliver(event(d.payload.subarray(0, cut), cut + 1), (m) => delivered.push(m));
    }
    expect(r.stats.malformed).toBe(D - boundaries.size);
    expect(delivered.map((m) => m.payload.length)).toEqual([10, 10, 20]);
  });

  it('mutated valid datagrams never throw (fixed seed)', () => {
    const s = sender(300, 5000);
    for (let i = 0; i < 30; i++) s.submit([g], bytes((i * 97) % 900, i), i % 3 === 0 ? Guarantee.Safe : Guarantee.Agreed);
    const ds = drain(s);
    fc.assert(
      fc.property(fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 5 }), fc.nat(), (edits, pick) => {
        const r = new GroupReceiver({ messageBytesMax: 5000 });
        ds.forEach((d, i) => {
          let payload = d.payload;
          if (i === pick % ds.length) {
            payload = payload.slice();
            for (const e of edits) payload[e.at % payload.length] = e.value;
          }
          expect(() => r.onDeliver(event(payload, i + 1, d.guarantee), () => {})).not.toThrow();
          expect(r.partialCount).toBeLessThanOrEqual(1);
        });
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it('a reassembled message whose fragments disagree on the guarantee is dropped and counted', () => {
    const s = sender();
    s.submit([g], bytes(2000), Guarantee.Agreed);
    const [d1, d2] = drain(s);
    const r = new GroupReceiver();
    const ms = feed(r, [event(d1!.payload, 1, Guarantee.Agreed), event(d2!.payload, 2, Guarantee.Safe)]);
    expect(ms).toEqual([]);
    expect(r.stats.malformed).toBe(1);
  });

  it('a message larger than the receiver allows is dropped and counted', () => {
    const s = sender(D, 5000);
    s.submit([g], bytes(101), Guarantee.Agreed);
    s.submit([g], bytes(5000), Guarantee.Agreed);
    s.submit([g], bytes(100), Guarantee.Agreed);
    const ds = drain(s);
    const o = new Orderer();
    const r = new GroupReceiver({ messageBytesMax: 100 });
    const ms = feed(r, ds.map((d) => o.event(d)));
    expect(ms.map((m) => m.payload.length)).toEqual([100]);
    // the 101-byte whole message and the reassembled 5000-byte one
    expect(r.stats.malformed).toBe(2);
  });

  it('a reassembled message with a bad group header is dropped and counted', () => {
    // FIRST [groupCount 60 …] LAST: structurally valid fragments, invalid message
    const first = Uint8Array.of(0x01, 9, 0, 0, 0, 0, 0, 2, 0, 60, 1);
    const last = Uint8Array.of(0x02, 9, 0, 0, 0, 1, 0, 1, 0, 0x67);
    const r = new GroupReceiver();
    expect(feed(r, [event(first, 1), event(last, 2)])).toEqual([]);
    expect(r.stats.malformed).toBe(1);
  });
});
