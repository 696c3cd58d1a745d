import { describe, expect, it } from 'vitest';
import { GroupError } from '../../../src/errors.ts';
import { encodeGroupName, encodeGroupNames, groupKey, groupsMatch, GroupSet } from '../../../src/groups/match.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof GroupError ? e.code : String(e);
  }
  return 'nothing thrown';
}

describe('encodeGroupName', () => {
  it('is UTF-8', () => {
    expect([...encodeGroupName('a')]).toEqual([0x61]);
    expect([...encodeGroupName('é')]).toEqual([0xc3, 0xa9]);
    expect([...encodeGroupName('锁')]).toEqual([0xe9, 0x94, 0x81]);
  });

  it('limits are in bytes, not characters', () => {
    expect(encodeGroupName('x'.repeat(128))).toHaveLength(128);
    expect(code(() => encodeGroupName('x'.repeat(129)))).toBe('ERR_EVS_GROUP_NAME_TOO_LONG');
    expect(encodeGroupName('é'.repeat(64))).toHaveLength(128);
    expect(code(() => encodeGroupName('é'.repeat(65)))).toBe('ERR_EVS_GROUP_NAME_TOO_LONG');
    expect(code(() => encodeGroupName(''))).toBe('ERR_EVS_GROUP_NAME_EMPTY');
  });

  it('encodeGroupNames checks the count', () => {
    expect(encodeGroupNames(['a', 'b'])).toEqual([enc('a'), enc('b')]);
    expect(encodeGroupNames(Array.from({ length: 50 }, (_, i) => `g${i}`))).toHaveLength(50);
    expect(code(() => encodeGroupNames(Array.from({ length: 51 }, (_, i) => `g${i}`)))).toBe('ERR_EVS_TOO_MANY_GROUPS');
  });
});

describe('groupKey', () => {
  it('is equal iff the bytes are equal', () => {
    expect(groupKey(Uint8Array.of(1, 2))).toBe(groupKey(Uint8Array.of(1, 2)));
    expect(groupKey(Uint8Array.of(1, 2))).not.toBe(groupKey(Uint8Array.of(2, 1)));
    expect(groupKey(Uint8Array.of(0xff))).not.toBe(groupKey(Uint8Array.of(0xfe)));
    expect(groupKey(Uint8Array.of(0))).not.toBe(groupKey(Uint8Array.of(0, 0)));
    expect(groupKey(Uint8Array.of(0xc3, 0xa9))).toHaveLength(2);
  });
});

describe('GroupSet and groupsMatch', () => {
  it('matches when any message group equals a joined group', () => {
    const joined = new GroupSet(['locks', 'audit']);
    expect(groupsMatch([enc('locks')], joined)).toBe(true);
    expect(groupsMatch([enc('other'), enc('audit')], joined)).toBe(true);
    expect(groupsMatch([enc('other')], joined)).toBe(false);
    expect(groupsMatch([enc('lock')], joined)).toBe(false);
    expect(groupsMatch([enc('locks\0')], joined)).toBe(false);
    expect(groupsMatch([enc('Locks')], joined)).toBe(false);
  });

  it('a message with zero groups matches nobody; a set with zero groups matches nothing', () => {
    expect(groupsMatch([], new GroupSet(['a']))).toBe(false);
    expect(groupsMatch([enc('a')], new GroupSet())).toBe(false);
  });

  it('compares bytes: different byte names never match even when they decode to the same string', () => {
    // 0xff and 0xfe both decode to U+FFFD
    const joined = new GroupSet([Uint8Array.of(0xff)]);
    expect(new TextDecoder().decode(Uint8Array.of(0xff))).toBe(new TextDecoder().decode(Uint8Array.of(0xfe)));
    expect(groupsMatch([Uint8Array.of(0xfe)], joined)).toBe(false);
    expect(groupsMatch([Uint8Array.of(0xff)], joined)).toBe(true);
    // NFC and NFD spellings of é are different names
    const nfc = new GroupSet(['\u00e9']);
    expect(groupsMatch([enc('e\u0301')], nfc)).toBe(false);
    expect(groupsMatch([enc('\u00e9')], nfc)).toBe(true);
  });

  it('add/delete/has accept strings and bytes alike', () => {
    const s = new GroupSet();
    expect(s.add('a')).toBe(true);
    expect(s.add(enc('a'))).toBe(false);
    expect(s.has(enc('a'))).toBe(true);
    expect(s.has('a')).toBe(true);
    expect(s.size).toBe(1);
    expect(s.add(Uint8Array.of(0xc3, 0xa9))).toBe(true);
    expect(s.has('é')).toBe(true);
    expect(s.delete('é')).toBe(true);
    expect(s.delete('é')).toBe(false);
    expect(s.names()).toEqual([enc('a')]);
    expect(code(() => s.add(''))).toBe('ERR_EVS_GROUP_NAME_EMPTY');
    expect(code(() => s.add(new Uint8Array(129)))).toBe('ERR_EVS_GROUP_NAME_TOO_LONG');
    expect(s.size).toBe(1);
  });

  it('keeps its own copy of byte names', () => {
    const name = enc('abc');
    const s = new GroupSet([name]);
    name[0] = 0x7a;
    expect(s.has('abc')).toBe(true);
    expect(s.has('zbc')).toBe(false);
  });
});
