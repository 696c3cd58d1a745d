import { describe, expect, it } from 'vitest';
import { Guarantee } from '../../../src/wire/messages.ts';
import { GroupError } from '../../../src/errors.ts';
import {
  datagramPayloadBytes,
  encodeGroupHeader,
  fragmentRecordHeaderBytes,
  groupHeaderBytesMax,
  parseDatagram,
  parseMessage,
  wholeRecordHeaderBytes,
} from '../../../src/groups/format.ts';
import { GroupSender } from '../../../src/groups/sender.ts';
import { bytes, drain, g } from './util.ts';

const ab = new TextEncoder().encode('ab');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof GroupError ? e.code : `not a GroupError: ${String(e)}`;
  }
  return undefined;
}

describe('datagramPayloadBytes', () => {
  it('is netmtu − 28 − crypto − 2 × mcast header', () => {
    expect(datagramPayloadBytes(1500, 0, 45)).toBe(1382);
    expect(datagramPayloadBytes(1500, 36, 60)).toBe(1500 - 28 - 36 - 120);
    expect(datagramPayloadBytes(9000, 40, 50)).toBe(9000 - 28 - 40 - 100);
  });

  it('refuses sizes that leave less than 32 bytes, and bad numbers', () => {
    expect(codeOf(() => datagramPayloadBytes(100, 0, 45))).toBe('ERR_EVS_BAD_OPTION');
    expect(codeOf(() => datagramPayloadBytes(150, 0, 45))).toBe(undefined);
    expect(datagramPayloadBytes(150, 0, 45)).toBe(32);
    expect(codeOf(() => datagramPayloadBytes(149, 0, 45))).toBe('ERR_EVS_BAD_OPTION');
    expect(codeOf(() => datagramPayloadBytes(1500.5, 0, 45))).toBe('ERR_EVS_BAD_OPTION');
    expect(codeOf(() => datagramPayloadBytes(1500, -1, 45))).toBe('ERR_EVS_BAD_OPTION');
    expect(codeOf(() => datagramPayloadBytes(1500, 0, Number.NaN))).toBe('ERR_EVS_BAD_OPTION');
  });
});

describe('record layout (exact bytes)', () => {
  it('header sizes', () => {
    expect(wholeRecordHeaderBytes).toBe(3);
    expect(fragmentRecordHeaderBytes).toBe(9);
    expect(groupHeaderBytesMax).toBe(1 + 50 * 129);
  });

  it('a whole record: flags, len u16 LE, groupCount, nameLen, name, payload', () => {
    const s = new GroupSender({ datagramPayloadBytes: 100, messageBytesMax: 1000, queueBytesMax: 1000 });
    s.submit([ab], Uint8Array.of(1, 2, 3), Guarantee.Agreed);
    const [d] = drain(s);
    expect([...d!.payload]).toEqual([0x03, 7, 0, 1, 2, 0x61, 0x62, 1, 2, 3]);
    // overhead of a packed small message to one group of n bytes: 5 + n
    expect(d!.payload.length - 3).toBe(5 + ab.length);
  });

  it('two packed messages, the second to zero groups', () => {
    const s = new GroupSender({ datagramPayloadBytes: 100, messageBytesMax: 1000, queueBytesMax: 1000 });
    s.submit([g], Uint8Array.of(9), Guarantee.Safe);
    s.submit([], new Uint8Array(0), Guarantee.Safe);
    const [d, none] = drain(s);
    expect(none).toBeUndefined();
    expect(d!.guarantee).toBe(Guarantee.Safe);
    expect([...d!.payload]).toEqual([0x03, 4, 0, 1, 1, 0x67, 9, 0x03, 1, 0, 0]);
  });

  it('fragment records: flags, number u32, index u16, len u16, chunk', () => {
    const s = new GroupSender({ datagramPayloadBytes: 32, messageBytesMax: 1000, queueBytesMax: 1000 });
    const payload = bytes(40);
    s.submit([g], payload, Guarantee.Agreed);
    const [d1, d2, none] = drain(s);
    expect(none).toBeUndefined();
    // message = [1, 1, 'g', ...40 bytes] = 43 bytes; first chunk 32 − 9 = 23
    expect([...d1!.payload.subarray(0, 9)]).toEqual([0x01, 0, 0, 0, 0, 0, 0, 23, 0]);
    expect([...d1!.payload.subarray(9, 12)]).toEqual([1, 1, 0x67]);
    expect(d1!.payload.subarray(12)).toEqual(payload.subarray(0, 20));
    expect(d1!.payload.length).toBe(32);
    expect([...d2!.payload.subarray(0, 9)]).toEqual([0x02, 0, 0, 0, 0, 1, 0, 20, 0]);
    expect(d2!.payload.subarray(9)).toEqual(payload.subarray(20));
    expect(d2!.payload.length).toBe(29);
  });
});

describe('parseDatagram', () => {
  const whole = Uint8Array.of(0x03, 4, 0, 1, 1, 0x67, 9);
  const first = Uint8Array.of(0x01, 5, 0, 0, 0, 0, 0, 2, 0, 0, 7);
  const last = Uint8Array.of(0x02, 5, 0, 0, 0, 1, 0, 1, 0, 8);

  it('accepts well-formed records', () => {
    const r = parseDatagram(Uint8Array.of(...whole, ...first));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.records).toHaveLength(2);
    const [w, f] = r.records;
    expect(w!.kind).toBe('whole');
    if (w?.kind === 'whole') {
      expect(w.message.groups.map((x) => [...x])).toEqual([[0x67]]);
      expect([...w.message.payload]).toEqual([9]);
    }
    expect(f).toMatchObject({ kind: 'fragment', first: true, last: false, number: 5, index: 0 });
    if (f?.kind === 'fragment') expect([...f.chunk]).toEqual([0, 7]);
    const r2 = parseDatagram(last);
    expect(r2.ok && r2.records[0]).toMatchObject({ kind: 'fragment', first: false, last: true, number: 5, index: 1 });
  });

  it.each([
    ['empty', []],
    ['unknown flag bit', [0x07, 1, 0, 0]],
    ['whole with len 0', [0x03, 0, 0]],
    ['whole header truncated', [0x03, 1]],
    ['whole runs past the end', [0x03, 5, 0, 0, 1]],
    ['too many groups', [0x03, 1, 0, 51]],
    ['group name of 0 bytes', [0x03, 3, 0, 1, 0, 5]],
    ['group name past the message', [0x03, 3, 0, 1, 5, 0x67]],
    ['trailing garbage', [...whole, 0x03]],
    ['fragment header truncated', [0x01, 0, 0, 0, 0, 0, 0, 1]],
    ['fragment len 0', [0x00, 0, 0, 0, 0, 1, 0, 0, 0]],
    ['fragment runs past the end', [0x00, 0, 0, 0, 0, 1, 0, 3, 0, 1]],
    ['FIRST with index 1', [0x01, 0, 0, 0, 0, 1, 0, 1, 0, 1]],
    ['middle with index 0', [0x00, 0, 0, 0, 0, 0, 0, 1, 0, 1]],
    ['LAST with index 0', [0x02, 0, 0, 0, 0, 0, 0, 1, 0, 1]],
  ])('rejects %s', (_what, raw) => {
    expect(parseDatagram(Uint8Array.from(raw)).ok).toBe(false);
  });
});

describe('parseMessage', () => {
  it('round-trips the group header', () => {
    const header = encodeGroupHeader([g, ab]);
    expect([...header]).toEqual([2, 1, 0x67, 2, 0x61, 0x62]);
    const m = parseMessage(Uint8Array.of(...header, 5, 6));
    expect(m?.groups.map((x) => [...x])).toEqual([[0x67], [0x61, 0x62]]);
    expect([...m!.payload]).toEqual([5, 6]);
  });

  it('zero groups, empty payload', () => {
    const m = parseMessage(Uint8Array.of(0));
    expect(m?.groups).toEqual([]);
    expect(m?.payload.length).toBe(0);
    expect(parseMessage(new Uint8Array(0))).toBeNull();
  });
});
