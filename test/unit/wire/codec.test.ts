import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../../src/assert.ts';
import { datagramBytesMax, processorsMax, rtrEntriesMax } from '../../../src/limits.ts';
import {
  type CommitToken,
  type DecodeError,
  type DecodeResult,
  type Join,
  type Mcast,
  type MergeDetect,
  type Message,
  MessageType,
  type OrfToken,
  type TokenHoldCancel,
  commitTokenFixedBytes,
  decode,
  decodeErrors,
  encode,
  encodeInto,
  encodedSize,
  headerBytes,
  joinFixedBytes,
  mcastHeaderBytes,
  mcastPayloadBytesMax,
  orfTokenBytesMax,
  orfTokenFixedBytes,
  ringIdBytes,
} from '../../../src/wire/index.ts';

const ring = { rep: 3, seq: 0x1_0000_0005 };
const maxSafe = Number.MAX_SAFE_INTEGER;

function token(overrides: Partial<OrfToken> = {}): OrfToken {
  return {
    type: MessageType.OrfToken, sender: 7, ringId: ring, seq: 0xffff_fff0, tokenSeq: 12, aru: 0xffff_ffff,
    aruAddr: 9, backlog: 4, fcc: 100, retransFlag: false, rtrList: [], ...overrides,
  };
}

function mcast(overrides: Partial<Mcast> = {}): Mcast {
  return {
    type: MessageType.Mcast, sender: 5, ringId: ring, seq: 42, guarantee: 0,
    payload: new Uint8Array([1, 2, 3, 4, 5]), inner: null, ...overrides,
  };
}

function join(overrides: Partial<Join> = {}): Join {
  return {
    type: MessageType.Join, sender: 2, leave: false, ringSeq: 17, procList: [1, 2, 9], failedList: [4], ...overrides,
  };
}

function commit(overrides: Partial<CommitToken> = {}): CommitToken {
  return {
    type: MessageType.CommitToken, sender: 1, ringId: { rep: 1, seq: 20 }, tokenSeq: 2, memberIndex: 1,
    members: [1, 4, 0xffff_ffff],
    entries: [
      { oldRingId: { rep: 1, seq: 16 }, aru: 10, highDelivered: 9, received: true },
      { oldRingId: { rep: 4, seq: 12 }, aru: 0xffff_ffff, highDelivered: 0, received: false },
      { oldRingId: { rep: 0, seq: 0 }, aru: 0, highDelivered: 0, received: false },
    ],
    ...overrides,
  };
}

const mergeDetect: MergeDetect = { type: MessageType.MergeDetect, sender: 3, ringId: ring };
const holdCancel: TokenHoldCancel = { type: MessageType.TokenHoldCancel, sender: 8, ringId: { rep: 1, seq: 0 } };

function rtrItems(n: number): OrfToken['rtrList'] {
  return Array.from({ length: n }, (_, i) => ({ ringId: { rep: 1 + i, seq: maxSafe - i }, seq: 0xffff_ffff - i }));
}

function ok(result: DecodeResult): Message {
  if (!result.ok) throw new Error(`decode failed: ${result.reason}`);
  return result.message;
}

const reasonsSeen = new Set<DecodeError>();

function reason(bytes: Uint8Array): DecodeError | 'ok' {
  const result = decode(bytes);
  if (result.ok) return 'ok';
  reasonsSeen.add(result.reason);
  return result.reason;
}

function roundTrip(message: Message): Message {
  const bytes = encode(message);
  expect(bytes.length).toBe(encodedSize(message));
  const decoded = ok(decode(bytes));
  expect(decoded).toEqual(message);
  expect(encode(decoded)).toEqual(bytes);
  return decoded;
}

/** Copy of `bytes` with a little-endian u32/u16/u8 written at `at`. */
function patched(bytes: Uint8Array, at: number, value: number, width: 1 | 2 | 4): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  if (width === 1) view.setUint8(at, value);
  else if (width === 2) view.setUint16(at, value, true);
  else view.setUint32(at, value, true);
  return copy;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

describe('encoded sizes', () => {
  it('header and ring id', () => {
    expect(headerBytes).toBe(8);
    expect(ringIdBytes).toBe(12);
    expect(mcastHeaderBytes).toBe(26);
    expect(mcastPayloadBytesMax).toBe(65481);
  });

  it('orf token: 46 + 16 per rtr entry', () => {
    expect(encodedSize(token())).toBe(46);
    expect(encodedSize(token({ rtrList: rtrItems(2) }))).toBe(78);
    expect(encodedSize(token({ rtrList: rtrItems(rtrEntriesMax) }))).toBe(526);
    expect(orfTokenBytesMax).toBe(526);
    expect(encode(token()).length).toBe(46);
  });

  it('mcast: 26 + payload, encapsulated 2 x 26 + payload', () => {
    expect(encodedSize(mcast({ payload: new Uint8Array(0) }))).toBe(26);
    expect(encodedSize(mcast())).toBe(31);
    expect(encodedSize(mcast({ payload: new Uint8Array(0), inner: mcast() }))).toBe(57);
  });

  it('join: 21 + 4 per id', () => {
    expect(encodedSize(join({ procList: [], failedList: [] }))).toBe(21);
    expect(encodedSize(join())).toBe(37);
    expect(joinFixedBytes).toBe(21);
  });

  it('commit token: 28 + 25 per member', () => {
    expect(encodedSize(commit())).toBe(103);
    expect(commitTokenFixedBytes).toBe(28);
  });

  it('merge detect and token hold cancel: 20', () => {
    expect(encodedSize(mergeDetect)).toBe(20);
    expect(encodedSize(holdCancel)).toBe(20);
  });

  it('exact bytes of a merge detect', () => {
    expect([...encode(mergeDetect)]).toEqual([
      0x45, 0x54, 1, 2, 3, 0, 0, 0, // magic, version, type, sender
      3, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, // rep, seq lo, seq hi
    ]);
  });
});

describe('round trip', () => {
  it('orf token, with and without rtr entries and retransFlag', () => {
    roundTrip(token());
    roundTrip(token({ retransFlag: true, rtrList: rtrItems(1) }));
    roundTrip(token({ rtrList: rtrItems(rtrEntriesMax) }));
    roundTrip(token({ seq: 0, tokenSeq: 0, aru: 0, aruAddr: 0, backlog: 0, fcc: 0 }));
  });

  it('mcast: payload, empty payload, safe, encapsulated', () => {
    roundTrip(mcast());
    roundTrip(mcast({ payload: new Uint8Array(0), guarantee: 1 }));
    const inner = mcast({ sender: 9, ringId: { rep: 2, seq: 4 }, seq: 0xffff_ffff, guarantee: 1 });
    const outer = roundTrip(mcast({ seq: 3, payload: new Uint8Array(0), inner })) as Mcast;
    expect(outer.inner).toEqual(inner);
    expect(outer.payload.length).toBe(0);
    roundTrip(mcast({ payload: new Uint8Array(0), inner: mcast({ payload: new Uint8Array(0) }) }));
  });

  it('mcast payload of the maximum size', () => {
    const payload = new Uint8Array(mcastPayloadBytesMax).map((_, i) => i & 0xff);
    const bytes = encode(mcast({ payload }));
    expect(bytes.length).toBe(datagramBytesMax);
    const decoded = ok(decode(bytes)) as Mcast;
    expect(decoded.payload.length).toBe(payload.length);
    // element-wise toEqual on 64 KiB is slow: compare by hand.
    expect(decoded.payload.every((b, i) => b === payload[i])).toBe(true);
    expect({ ...decoded, payload: null }).toEqual({ ...mcast(), payload: null });
  });

  it('join and leave', () => {
    roundTrip(join());
    roundTrip(join({ leave: true, procList: [1, 9], failedList: [2, 4] }));
    roundTrip(join({ procList: [], failedList: [] }));
    const all = Array.from({ length: processorsMax }, (_, i) => i + 1);
    roundTrip(join({ procList: all, failedList: all.map((id) => id + 1000) }));
  });

  it('ring seqs near 2^53 - 1', () => {
    roundTrip(join({ ringSeq: maxSafe }));
    roundTrip(join({ ringSeq: 2 ** 32 }));
    roundTrip(join({ ringSeq: 2 ** 32 - 1 }));
    roundTrip(mergeDetect);
    roundTrip({ ...mergeDetect, ringId: { rep: 0xffff_ffff, seq: maxSafe } });
    roundTrip(token({ ringId: { rep: 1, seq: maxSafe - 1 } }));
  });

  it('commit token with filled and unfilled entries', () => {
    roundTrip(commit());
    roundTrip(commit({ memberIndex: 0, members: [6], entries: [{ oldRingId: { rep: 0, seq: 0 }, aru: 0, highDelivered: 0, received: false }] }));
    const members = Array.from({ length: processorsMax }, (_, i) => (i + 1) * 11);
    const entries = members.map((id) => ({ oldRingId: { rep: id, seq: id }, aru: id, highDelivered: id, received: true }));
    roundTrip(commit({ memberIndex: processorsMax - 1, members, entries }));
  });

  it('token hold cancel', () => {
    roundTrip(holdCancel);
  });
});

describe('encodeInto and zero copy', () => {
  it('writes at an offset and returns the size', () => {
    const target = new Uint8Array(100).fill(0xaa);
    expect(encodeInto(mergeDetect, target, 10)).toBe(20);
    expect(target[9]).toBe(0xaa);
    expect(target[30]).toBe(0xaa);
    expect(target.subarray(10, 30)).toEqual(encode(mergeDetect));
  });

  it('refuses a target without room', () => {
    expect(() => encodeInto(mergeDetect, new Uint8Array(25), 6)).toThrow(AssertionError);
    expect(() => encodeInto(mergeDetect, new Uint8Array(25), -1)).toThrow(AssertionError);
  });

  it('decodes a view at a non-zero byteOffset; the payload is a view of the input', () => {
    const bytes = encode(mcast());
    const big = new Uint8Array(bytes.length + 7);
    big.set(bytes, 3);
    const view = big.subarray(3, 3 + bytes.length);
    const decoded = ok(decode(view)) as Mcast;
    expect(decoded).toEqual(mcast());
    expect(decoded.payload.buffer).toBe(big.buffer);
    big[3 + mcastHeaderBytes] = 99;
    expect(decoded.payload[0]).toBe(99);
  });
});

describe('decode errors', () => {
  const tokenBytes = encode(token());
  const joinBytes = encode(join());

  it('short', () => {
    expect(reason(new Uint8Array(0))).toBe('short');
    expect(reason(tokenBytes.subarray(0, headerBytes - 1))).toBe('short');
    expect(reason(tokenBytes.subarray(0, orfTokenFixedBytes - 1))).toBe('short');
    expect(reason(encode(token({ rtrList: rtrItems(2) })).subarray(0, 77))).toBe('short');
    expect(reason(joinBytes.subarray(0, joinBytes.length - 1))).toBe('short');
    expect(reason(encode(mcast()).subarray(0, mcastHeaderBytes - 1))).toBe('short');
    const encapsulated = encode(mcast({ payload: new Uint8Array(0), inner: mcast() }));
    expect(reason(encapsulated.subarray(0, mcastHeaderBytes + 4))).toBe('short');
  });

  it('magic', () => {
    expect(reason(patched(tokenBytes, 0, 0x5444, 2))).toBe('magic');
    expect(reason(patched(tokenBytes, 0, 0x4554, 2))).toBe('magic'); // byte-swapped
  });

  it('version', () => {
    expect(reason(patched(tokenBytes, 2, 0, 1))).toBe('version');
    expect(reason(patched(tokenBytes, 2, 2, 1))).toBe('version');
  });

  it('ordering: a datagram of the other ordering (the version byte\'s top bit), both ways, nested too', () => {
    expect(reason(patched(tokenBytes, 2, 0x81, 1))).toBe('ordering');
    expect(reason(patched(tokenBytes, 2, 0x82, 1))).toBe('version');
    const accelerated = encode(token(), true);
    expect(accelerated[2]).toBe(0x81);
    expect(reason(accelerated)).toBe('ordering');
    expect(decode(accelerated, true)).toEqual({ ok: true, message: token() });
    expect(decode(tokenBytes, true)).toEqual({ ok: false, reason: 'ordering' });
    // a recovery copy whose inner message claims the other ordering
    const copy = encode(mcast({ payload: new Uint8Array(0), inner: mcast() }), true);
    copy[mcastHeaderBytes + 2] = 0x01;
    expect(decode(copy, true)).toEqual({ ok: false, reason: 'ordering' });
  });

  it('type', () => {
    expect(reason(patched(tokenBytes, 3, 6, 1))).toBe('type');
    expect(reason(patched(tokenBytes, 3, 255, 1))).toBe('type');
  });

  it('length: trailing bytes after a fixed-size message, or too big', () => {
    expect(reason(concat(tokenBytes, new Uint8Array(1)))).toBe('length');
    expect(reason(concat(joinBytes, new Uint8Array(4)))).toBe('length');
    expect(reason(concat(encode(mergeDetect), new Uint8Array(1)))).toBe('length');
    expect(reason(concat(encode(holdCancel), new Uint8Array(1)))).toBe('length');
    expect(reason(concat(encode(commit()), new Uint8Array(25)))).toBe('length');
    expect(reason(new Uint8Array(datagramBytesMax + 1))).toBe('length');
    // Mcast has no fixed size: extra bytes are payload.
    expect(reason(concat(encode(mcast()), new Uint8Array(1)))).toBe('ok');
  });

  it('value: zero sender, zero rep, ring seq >= 2^53', () => {
    expect(reason(patched(tokenBytes, 4, 0, 4))).toBe('value');
    expect(reason(patched(tokenBytes, 8, 0, 4))).toBe('value');
    expect(reason(patched(tokenBytes, 16, 2 ** 21, 4))).toBe('value');
    expect(reason(patched(tokenBytes, 16, 2 ** 21 - 1, 4))).toBe('ok');
    expect(reason(patched(joinBytes, 13, 2 ** 21, 4))).toBe('value');
  });

  it('value: orf token flags and rtrCount', () => {
    expect(reason(patched(tokenBytes, 44, 2, 1))).toBe('value');
    expect(reason(patched(tokenBytes, 44, 1, 1))).toBe('ok');
    const full = encode(token({ rtrList: rtrItems(rtrEntriesMax) }));
    const over = concat(patched(full, 45, rtrEntriesMax + 1, 1), full.subarray(full.length - 16));
    expect(over.length).toBe(orfTokenFixedBytes + 31 * 16);
    expect(reason(over)).toBe('value');
    expect(reason(patched(encode(token({ rtrList: rtrItems(1) })), 46, 0, 4))).toBe('value'); // rtr rep 0
  });

  it('value: mcast guarantee, encapsulated flag, nested encapsulation, inner not an mcast', () => {
    const bytes = encode(mcast());
    expect(reason(patched(bytes, 24, 2, 1))).toBe('value');
    expect(reason(patched(bytes, 25, 2, 1))).toBe('value');
    const encapsulated = encode(mcast({ payload: new Uint8Array(0), inner: mcast() }));
    const nested = patched(encode(mcast({ payload: encapsulated })), 25, 1, 1);
    expect(reason(nested)).toBe('value');
    const carriesJoin = patched(encode(mcast({ payload: joinBytes })), 25, 1, 1);
    expect(reason(carriesJoin)).toBe('value');
    expect(reason(patched(encapsulated, mcastHeaderBytes + 4, 0, 4))).toBe('value'); // inner sender 0
    expect(reason(patched(encapsulated, mcastHeaderBytes, 0, 1))).toBe('magic'); // inner's own reason
  });

  it('value: join flags, unsorted, duplicate and zero ids, counts over processorsMax', () => {
    expect(reason(patched(joinBytes, 8, 0x80, 1))).toBe('value');
    expect(reason(patched(joinBytes, 21, 3, 4))).toBe('value'); // [3, 2, 9]
    expect(reason(patched(joinBytes, 21, 2, 4))).toBe('value'); // [2, 2, 9]
    expect(reason(patched(joinBytes, 21, 0, 4))).toBe('value'); // [0, 2, 9]
    expect(reason(patched(joinBytes, 33, 0, 4))).toBe('value'); // failed [0]
    expect(reason(patched(joinBytes, 17, processorsMax + 1, 2))).toBe('value');
    expect(reason(patched(joinBytes, 19, processorsMax + 1, 2))).toBe('value');
  });

  it('value: commit token counts, index, members, entries', () => {
    const bytes = encode(commit());
    expect(reason(patched(bytes, 26, 0, 2))).toBe('value'); // memberCount 0
    expect(reason(patched(bytes, 26, processorsMax + 1, 2))).toBe('value');
    expect(reason(patched(bytes, 24, 3, 2))).toBe('value'); // memberIndex == memberCount
    expect(reason(patched(bytes, 28, 5, 4))).toBe('value'); // members [5, 4, ...]
    const entry2 = 28 + 3 * 4 + 2 * 21;
    expect(reason(patched(bytes, entry2 + 4, 1, 4))).toBe('value'); // unfilled {rep 0, seq 1}
    expect(reason(patched(bytes, entry2 + 20, 2, 1))).toBe('value'); // received 2
    expect(reason(patched(bytes, 8, 0, 4))).toBe('value'); // new ring rep 0
  });

  it('every reason in decodeErrors was produced by some datagram above', () => {
    expect([...decodeErrors].sort()).toEqual(['length', 'magic', 'ordering', 'short', 'type', 'value', 'version']);
    expect([...reasonsSeen].sort()).toEqual([...decodeErrors].sort());
  });
});

describe('encode refuses invalid messages', () => {
  const cases: [string, Message][] = [
    ['zero sender', { ...mergeDetect, sender: 0 }],
    ['sender over u32', { ...holdCancel, sender: 2 ** 32 }],
    ['zero rep', { ...mergeDetect, ringId: { rep: 0, seq: 1 } }],
    ['ring seq over 2^53 - 1', { ...mergeDetect, ringId: { rep: 1, seq: maxSafe + 1 } }],
    ['negative ring seq', { ...mergeDetect, ringId: { rep: 1, seq: -1 } }],
    ['31 rtr entries', token({ rtrList: rtrItems(rtrEntriesMax + 1) })],
    ['rtr rep 0', token({ rtrList: [{ ringId: { rep: 0, seq: 1 }, seq: 1 }] })],
    ['token seq not u32', token({ seq: 2 ** 32 })],
    ['token aru negative', token({ aru: -1 })],
    ['token fcc fraction', token({ fcc: 1.5 })],
    ['unsorted procList', join({ procList: [2, 1] })],
    ['duplicate failedList', join({ failedList: [4, 4] })],
    ['zero id', join({ procList: [0, 1] })],
    ['too many procs', join({ procList: Array.from({ length: processorsMax + 1 }, (_, i) => i + 1) })],
    ['join ringSeq too big', join({ ringSeq: 2 ** 53 })],
    ['mcast seq not u32', mcast({ seq: 2 ** 32 })],
    ['mcast guarantee 2', mcast({ guarantee: 2 as 0 })],
    ['payload too big', mcast({ payload: new Uint8Array(mcastPayloadBytesMax + 1) })],
    ['encapsulated too big', mcast({ payload: new Uint8Array(0), inner: mcast({ payload: new Uint8Array(mcastPayloadBytesMax) }) })],
    ['nested encapsulation', mcast({ payload: new Uint8Array(0), inner: mcast({ payload: new Uint8Array(0), inner: mcast() }) })],
    ['payload beside inner', mcast({ inner: mcast() })],
    ['commit with no members', commit({ memberIndex: 0, members: [], entries: [] })],
    ['commit memberIndex == count', commit({ memberIndex: 3 })],
    ['commit memberIndex negative', commit({ memberIndex: -1 })],
    ['commit entries mismatch', commit({ entries: commit().entries.slice(1) })],
    ['commit unsorted members', commit({ members: [4, 1, 9] })],
    ['commit unfilled entry with seq', commit({ entries: [...commit().entries.slice(0, 2), { oldRingId: { rep: 0, seq: 3 }, aru: 0, highDelivered: 0, received: false }] })],
    ['commit entry aru over u32', commit({ entries: [...commit().entries.slice(0, 2), { oldRingId: { rep: 2, seq: 3 }, aru: 2 ** 32, highDelivered: 0, received: false }] })],
  ];

  it.each(cases)('%s', (_name, message) => {
    expect(() => encode(message)).toThrow(AssertionError);
  });

  it('writes nothing when it refuses', () => {
    const target = new Uint8Array(200);
    expect(() => encodeInto(join({ failedList: [4, 4] }), target, 0)).toThrow(AssertionError);
    expect(target.every((b) => b === 0)).toBe(true);
  });
});
