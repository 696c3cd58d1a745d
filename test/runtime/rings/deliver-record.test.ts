/**
 * The main thread's side of the deliver ring: message records read without
 * per-record allocation (group names decoded once per distinct group list)
 * and payload copies carved from shared slabs.
 */
import { describe, expect, it } from 'vitest';
import { DeliverHeadEncoder, MessageRecordReader, deliverHeadBytesMax } from '../../../src/runtime/records/deliver-record.ts';
import { PayloadSlab, slabPayloadBytesMax } from '../../../src/runtime/records/payload-slab.ts';

const enc = new TextEncoder();
const heads = new DeliverHeadEncoder(deliverHeadBytesMax + 256 * 17);

function record(handles: number[], sender: number, groups: string[], payload: Uint8Array): Uint8Array {
  const head = heads.message(handles, 1, sender, groups.map((g) => enc.encode(g)));
  const r = new Uint8Array(head.length + payload.length);
  r.set(head);
  r.set(payload, head.length);
  return r;
}

describe('MessageRecordReader', () => {
  it('reads handles, sender, guarantee, groups and payload', () => {
    const reader = new MessageRecordReader();
    expect(reader.read(record([3, 70000], 42, ['a', 'bé'], Uint8Array.of(9, 8, 7)))).toBe(true);
    expect(reader.handles).toEqual([3, 70000]);
    expect([reader.sender, reader.guarantee]).toEqual([42, 1]);
    expect(reader.groups).toEqual(['a', 'bé']);
    expect([...reader.payload]).toEqual([9, 8, 7]);
  });

  it('hands out the same frozen group array while the group list repeats, a new one when it changes', () => {
    const reader = new MessageRecordReader();
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

  it('says no to a configuration-change record', () => {
    const confchg = heads.confchg([1], { kind: 'confchg', type: 'regular', ringId: { rep: 1, seq: 4 }, fromRingId: { rep: 1, seq: 0 }, members: [1], left: [], joined: [1] });
    expect(new MessageRecordReader().read(confchg)).toBe(false);
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
