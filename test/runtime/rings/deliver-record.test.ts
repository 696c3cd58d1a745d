/**
 * The main thread's side of the deliver ring: message records read without
 * per-record allocation (group names decoded once per distinct group list)
 * and payload copies carved from shared slabs.
 */
import { describe, expect, it } from 'vitest';
import { encodeGroupHeader } from '../../../src/groups/format.ts';
import { DeliverHeadEncoder, DeliverRecordReader, recordKindConfchg, recordKindMessage } from '../../../src/runtime/records/deliver-record.ts';
import { PayloadSlab, slabPayloadBytesMax } from '../../../src/runtime/dispatch/payload-slab.ts';

const enc = new TextEncoder();
const heads = new DeliverHeadEncoder();

/** a message record as the protocol worker writes it: head, then the message bytes (group header, payload) as sent. */
function record(handles: number[], sender: number, groups: string[], payload: Uint8Array): Uint8Array {
  const header = encodeGroupHeader(groups.map((g) => enc.encode(g)));
  const head = heads.message(handles, 1, sender, header.length);
  const r = new Uint8Array(head.length + header.length + payload.length);
  r.set(head);
  r.set(header, head.length);
  r.set(payload, head.length + header.length);
  return r;
}

describe('DeliverRecordReader', () => {
  it('reads handles, sender, guarantee, groups and payload', () => {
    const reader = new DeliverRecordReader();
    expect(reader.read(record([3, 70000], 42, ['a', 'bé'], Uint8Array.of(9, 8, 7)))).toBe(recordKindMessage);
    expect(reader.handles).toEqual([3, 70000]);
    expect([reader.sender, reader.guarantee]).toEqual([42, 1]);
    expect(reader.groups).toEqual(['a', 'bé']);
    expect([...reader.payload]).toEqual([9, 8, 7]);
  });

  it('hands out the same frozen group array while the group list repeats, a new one when it changes', () => {
    const reader = new DeliverRecordReader();
    reader.read(record([1], 1, ['x', 'y'], new Uint8Array(5)));
    const first = reader.groups;
    reader.read(record([1, 2], 2, ['x', 'y'], new Uint8Array(0)));
    expect(reader.groups).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    reader.read(record([1], 1, ['x', 'z'], new Uint8Array(1)));
    expect(reader.groups).toEqual(['x', 'z']);
    expect(reader.groups).not.toBe(first);
    expect(first).toEqual(['x', 'y']);
    expect(reader.handles).toEqual([1]);
  });

  it('reads a configuration-change record into the public event shape', () => {
    const confchg = heads.confchg([1, 9], {
      kind: 'confchg', type: 'transitional', ringId: { rep: 3, seq: 2 ** 40 + 4 }, fromRingId: { rep: 1, seq: 0 }, members: [1, 3], left: [2, 70000], joined: [],
    });
    const reader = new DeliverRecordReader();
    expect(reader.read(confchg)).toBe(recordKindConfchg);
    expect(reader.handles).toEqual([1, 9]);
    expect(reader.confchg).toEqual({ kind: 'confchg', type: 'transitional', ringId: { rep: 3, seq: 2 ** 40 + 4 }, members: [1, 3], left: [2, 70000], joined: [] });
  });

  it('throws on a record the protocol worker cannot have written', () => {
    const truncated = record([1], 1, ['abc'], new Uint8Array(0)).subarray(0, 12);
    expect(() => new DeliverRecordReader().read(truncated)).toThrow(/truncated/);
    expect(() => new DeliverRecordReader().read(Uint8Array.of(7, 0, 0))).toThrow(/unknown record kind 7/);
  });
});

describe('PayloadSlab', () => {
  it('copies: later writes to the source or later copies do not change a payload handed out', () => {
    const slab = new PayloadSlab();
    const source = Uint8Array.of(1, 2, 3);
    const a = slab.copy(source);
    source.fill(0);
    const b = slab.copy(Uint8Array.of(4, 5));
    expect([...a]).toEqual([1, 2, 3]);
    expect([...b]).toEqual([4, 5]);
    expect(a.buffer).toBe(b.buffer); // small payloads share a slab
    expect(b.byteOffset % 8).toBe(0);
  });

  it('gives a large payload its own buffer and starts a new slab when one is full', () => {
    const slab = new PayloadSlab();
    const big = slab.copy(new Uint8Array(slabPayloadBytesMax + 1).fill(7));
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(slabPayloadBytesMax + 1);
    const first = slab.copy(new Uint8Array(slabPayloadBytesMax).fill(1));
    let last = first;
    for (let i = 0; i < 16; i++) last = slab.copy(new Uint8Array(slabPayloadBytesMax).fill(2));
    expect(last.buffer).not.toBe(first.buffer);
    expect(first.every((x) => x === 1)).toBe(true);
  });
});
