/**
 * Property tests of the wire codec. Fixed seeds keep CI deterministic; to
 * explore, change a seed locally (a failure prints the seed and path to replay).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { processorsMax, rtrEntriesMax } from '../../../src/limits.ts';
import {
  type CommitEntry,
  type CommitToken,
  type Join,
  type Mcast,
  type MergeDetect,
  type Message,
  MessageType,
  type OrfToken,
  type RingId,
  type TokenHoldCancel,
  decode,
  decodeErrors,
  encode,
  encodeInto,
  encodedSize,
  wireMagic,
  wireVersion,
} from '../../../src/wire/index.ts';

const numRuns = 2000;

// fc.integer is limited to int32: map it onto the whole u32 range (keeps the bias to 0 and 0xffffffff).
const u32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => n >>> 0);
const nodeId = u32.filter((n) => n !== 0);
const ringSeq = fc.oneof(fc.maxSafeNat(), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER));
const ringId: fc.Arbitrary<RingId> = fc.record({ rep: nodeId, seq: ringSeq });

function idList(minLength: number): fc.Arbitrary<number[]> {
  return fc.uniqueArray(nodeId, { minLength, maxLength: processorsMax }).map((ids) => ids.sort((a, b) => a - b));
}

const orfToken: fc.Arbitrary<OrfToken> = fc.record({
  type: fc.constant(MessageType.OrfToken),
  sender: nodeId,
  ringId,
  seq: u32,
  tokenSeq: u32,
  aru: u32,
  aruAddr: u32,
  backlog: u32,
  fcc: u32,
  retransFlag: fc.boolean(),
  rtrList: fc.array(fc.record({ ringId, seq: u32 }), { maxLength: rtrEntriesMax }),
});

function mcastWith(payload: fc.Arbitrary<Uint8Array>, inner: fc.Arbitrary<Mcast | null>): fc.Arbitrary<Mcast> {
  return fc.record({
    type: fc.constant(MessageType.Mcast),
    sender: nodeId,
    ringId,
    seq: u32,
    guarantee: fc.constantFrom(0 as const, 1 as const),
    payload,
    inner,
  });
}

const plainMcast = mcastWith(fc.uint8Array({ maxLength: 200 }), fc.constant(null));
const mcast = fc.oneof(plainMcast, mcastWith(fc.constant(new Uint8Array(0)), plainMcast));

const join: fc.Arbitrary<Join> = fc.record({
  type: fc.constant(MessageType.Join),
  sender: nodeId,
  leave: fc.boolean(),
  ringSeq,
  procList: idList(0),
  failedList: idList(0),
});

const commitEntry: fc.Arbitrary<CommitEntry> = fc.record({
  oldRingId: fc.oneof(ringId, fc.constant({ rep: 0, seq: 0 })),
  aru: u32,
  highDelivered: u32,
  received: fc.boolean(),
});

const commitToken: fc.Arbitrary<CommitToken> = idList(1).chain((members) =>
  fc.record({
    type: fc.constant(MessageType.CommitToken),
    sender: nodeId,
    ringId,
    tokenSeq: u32,
    memberIndex: fc.integer({ min: 0, max: members.length - 1 }),
    members: fc.constant(members),
    entries: fc.array(commitEntry, { minLength: members.length, maxLength: members.length }),
  }),
);

const mergeDetect: fc.Arbitrary<MergeDetect> = fc.record({ type: fc.constant(MessageType.MergeDetect), sender: nodeId, ringId });
const holdCancel: fc.Arbitrary<TokenHoldCancel> = fc.record({
  type: fc.constant(MessageType.TokenHoldCancel),
  sender: nodeId,
  ringId,
});

const message: fc.Arbitrary<Message> = fc.oneof(orfToken, mcast, join, commitToken, mergeDetect, holdCancel);

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * decode returns a result for any bytes, and accepts only canonical encodings:
 * whatever it accepts, encode turns back into exactly the same bytes.
 */
function decodesSafely(bytes: Uint8Array): boolean {
  const result = decode(bytes);
  if (!result.ok) return decodeErrors.includes(result.reason);
  return bytesEqual(encode(result.message), bytes);
}

describe('round trip decode(encode(m)) equals m', () => {
  const cases: [string, fc.Arbitrary<Message>, number][] = [
    ['orf token', orfToken, 0x5445_0001],
    ['mcast (plain and encapsulated)', mcast, 0x5445_0002],
    ['join / leave', join, 0x5445_0003],
    ['commit token', commitToken, 0x5445_0004],
    ['merge detect', mergeDetect, 0x5445_0005],
    ['token hold cancel', holdCancel, 0x5445_0006],
  ];

  it.each(cases)('%s', (_name, arbitrary, seed) => {
    fc.assert(
      fc.property(arbitrary, (m) => {
        const bytes = encode(m);
        expect(bytes.length).toBe(encodedSize(m));
        const result = decode(bytes);
        expect(result.ok).toBe(true);
        if (result.ok) expect(result.message).toEqual(m);
      }),
      { seed, numRuns },
    );
  });

  it('encodeInto at an offset writes the same bytes as encode', () => {
    fc.assert(
      fc.property(message, fc.nat(64), (m, offset) => {
        const target = new Uint8Array(offset + encodedSize(m) + 3);
        const written = encodeInto(m, target, offset);
        return written === encodedSize(m) && bytesEqual(target.subarray(offset, offset + written), encode(m));
      }),
      { seed: 0x5445_0007, numRuns: 500 },
    );
  });
});

describe('decode never throws', () => {
  it('on random bytes (0..200)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), decodesSafely), { seed: 0x5445_0010, numRuns });
  });

  it('on random bodies behind a valid-looking header', () => {
    const datagram = fc
      .tuple(fc.integer({ min: 0, max: 7 }), nodeId, fc.uint8Array({ maxLength: 200 }))
      .map(([type, sender, body]) => {
        const bytes = new Uint8Array(8 + body.length);
        const view = new DataView(bytes.buffer);
        view.setUint16(0, wireMagic, true);
        view.setUint8(2, wireVersion);
        view.setUint8(3, type);
        view.setUint32(4, sender, true);
        bytes.set(body, 8);
        return bytes;
      });
    fc.assert(fc.property(datagram, decodesSafely), { seed: 0x5445_0011, numRuns });
  });

  type Mutation =
    | { kind: 'flip'; at: number; bit: number }
    | { kind: 'truncate'; at: number }
    | { kind: 'overwrite'; at: number; value: number }
    | { kind: 'extend'; tail: Uint8Array };

  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), value: fc.nat(255) }),
    fc.record({ kind: fc.constant('extend' as const), tail: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
  );

  function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
    const copy = bytes.slice();
    switch (m.kind) {
      case 'flip':
        copy[m.at % copy.length] = (copy[m.at % copy.length] ?? 0) ^ (1 << m.bit);
        return copy;
      case 'truncate':
        return copy.subarray(0, m.at % copy.length);
      case 'overwrite':
        copy[m.at % copy.length] = m.value;
        return copy;
      case 'extend': {
        const longer = new Uint8Array(copy.length + m.tail.length);
        longer.set(copy);
        longer.set(m.tail, copy.length);
        return longer;
      }
    }
  }

  it('on mutated valid encodings (bit flip, truncation, overwrite, extension)', () => {
    fc.assert(
      fc.property(message, fc.array(mutation, { minLength: 1, maxLength: 3 }), (m, mutations) => {
        const bytes = mutations.reduce(mutate, encode(m));
        return decodesSafely(bytes);
      }),
      { seed: 0x5445_0012, numRuns },
    );
  });

  it('on every single-byte overwrite of one sample per message type (exhaustive)', () => {
    const ring = { rep: 3, seq: 2 ** 32 + 5 };
    const inner: Mcast = { type: MessageType.Mcast, sender: 4, ringId: ring, seq: 9, guarantee: 1, payload: new Uint8Array([7]), inner: null };
    const samples: Message[] = [
      { type: MessageType.OrfToken, sender: 2, ringId: ring, seq: 10, tokenSeq: 11, aru: 9, aruAddr: 3, backlog: 1, fcc: 2,
        retransFlag: true, rtrList: [{ ringId: ring, seq: 10 }] },
      { ...inner, sender: 5, seq: 12, guarantee: 0, payload: new Uint8Array(0), inner },
      { type: MessageType.Join, sender: 2, leave: true, ringSeq: 2 ** 40, procList: [1, 3], failedList: [2] },
      { type: MessageType.CommitToken, sender: 1, ringId: ring, tokenSeq: 4, memberIndex: 0, members: [1, 3],
        entries: [{ oldRingId: ring, aru: 5, highDelivered: 4, received: true },
          { oldRingId: { rep: 0, seq: 0 }, aru: 0, highDelivered: 0, received: false }] },
      { type: MessageType.MergeDetect, sender: 3, ringId: ring },
      { type: MessageType.TokenHoldCancel, sender: 1, ringId: ring },
    ];
    let checked = 0;
    for (const sample of samples) {
      const bytes = encode(sample);
      for (let at = 0; at < bytes.length; at += 1) {
        for (let value = 0; value < 256; value += 1) {
          const copy = bytes.slice();
          copy[at] = value;
          if (!decodesSafely(copy)) throw new Error(`type ${sample.type}: byte ${at} = ${value}`);
          checked += 1;
        }
      }
    }
    expect(checked).toBe(256 * samples.reduce((n, m) => n + encodedSize(m), 0));
  });
});
