/**
 * Frames over packets, the pure parts: Packetizer cuts, Reassembler puts
 * together and drops/counts what does not belong. Time is passed in.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isPacket, packetHeaderBytes, readPacketHeader, createPacketHeader } from '../../../src/runtime/network/packets/packet-header.ts';
import { Packetizer, datagramBytes, type Datagram } from '../../../src/runtime/network/packets/packetizer.ts';
import { Reassembler, type ReassemblerOptions, seqWindow } from '../../../src/runtime/network/packets/reassembler.ts';

const netmtu = 1500;
const defaults: ReassemblerOptions = { bytesMax: 1 << 20, framesPerSenderMax: 4, sendersMax: 8, reassemblyMs: 100 };

function flat(d: Datagram): Uint8Array {
  return d instanceof Uint8Array ? d : Buffer.concat(d.map((p) => Buffer.from(p.buffer, p.byteOffset, p.length)));
}

function packets(p: Packetizer, frame: Datagram): Uint8Array[] {
  const out: Uint8Array[] = [];
  p.split(frame, (packet) => out.push(flat(packet)));
  return out;
}

function frameOf(bytes: number): Uint8Array {
  return new Uint8Array(randomBytes(bytes));
}

describe('Packetizer', () => {
  it('hands a frame that fits one datagram on unchanged, with no header', () => {
    const p = new Packetizer(7, netmtu);
    const frame = frameOf(netmtu - 28);
    const out: Datagram[] = [];
    p.split(frame, (d) => out.push(d));
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(frame);
    expect(p.stats).toEqual({ frames: 1, framesSplit: 0, packets: 1 });
  });

  it('cuts a 64 KiB frame into equal packets that each fit netmtu, from scatter/gather parts', () => {
    const p = new Packetizer(7, netmtu);
    const frame = frameOf(65507);
    const parts = [frame.subarray(0, 17), frame.subarray(17, 65491), frame.subarray(65491)]; // like sealParts
    const out = packets(p, parts);
    expect(out.length).toBe(Math.ceil(65507 / (netmtu - 28 - packetHeaderBytes)));
    const h = createPacketHeader();
    for (const [i, packet] of out.entries()) {
      expect(packet.length + 28).toBeLessThanOrEqual(netmtu);
      expect(isPacket(packet)).toBe(true);
      expect(readPacketHeader(packet, h)).toBe(true);
      expect([h.index, h.count, h.epoch, h.seq, h.frameBytes]).toEqual([i, out.length, 7, 0, 65507]);
    }
    const sizes = out.map((x) => x.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThan(out.length); // even cut
    expect(Buffer.concat(out.map((x) => x.subarray(packetHeaderBytes)))).toEqual(Buffer.from(frame));
    expect(datagramBytes(parts)).toBe(65507);
  });

  it('numbers split frames per epoch and refuses a netmtu too small for 64 KiB frames', () => {
    const p = new Packetizer(0xffffffff, 576);
    const h = createPacketHeader();
    for (let seq = 0; seq < 3; seq++) {
      const out = packets(p, frameOf(5000));
      expect(readPacketHeader(out[0]!, h)).toBe(true);
      expect(h.seq).toBe(seq);
    }
    expect(() => new Packetizer(1, 300)).toThrow(/too small/);
    expect(() => new Packetizer(0, 1500)).toThrow(/epoch/);
  });
});

describe('Reassembler', () => {
  it('puts a frame together from reordered packets and hands it out once', () => {
    const r = new Reassembler(defaults);
    const frame = frameOf(20_000);
    const out = packets(new Packetizer(5, netmtu), frame).reverse();
    const done = out.map((pk, i) => r.accept(pk, 2, i));
    expect(done.slice(0, -1).every((d) => d === null)).toBe(true);
    expect(Buffer.from(done.at(-1)!)).toEqual(Buffer.from(frame));
    expect(r.stats.framesOut).toBe(1);
    expect(r.stats.bytesHeld).toBe(0);
    expect(r.framesHeld).toBe(0);
  });

  it('drops duplicates of an unfinished frame and stale packets of a finished one', () => {
    const r = new Reassembler(defaults);
    const out = packets(new Packetizer(5, netmtu), frameOf(5000));
    expect(r.accept(out[0]!, 2, 0)).toBeNull();
    expect(r.accept(out[0]!, 2, 0)).toBeNull();
    expect(r.stats.packetsDropped.duplicate).toBe(1);
    for (const pk of out.slice(1)) r.accept(pk, 2, 0);
    expect(r.stats.framesOut).toBe(1);
    expect(r.accept(out[1]!, 2, 0)).toBeNull(); // the whole frame again: late duplicates
    expect(r.stats.packetsDropped.stale).toBe(1);
    expect(r.stats.framesOut).toBe(1);
  });

  it('loses a frame with one packet missing: it expires after reassemblyMs and its memory is released', () => {
    const r = new Reassembler(defaults);
    const p = new Packetizer(5, netmtu);
    const lossy = packets(p, frameOf(10_000));
    lossy.splice(3, 1);
    for (const pk of lossy) expect(r.accept(pk, 2, 0)).toBeNull();
    expect(r.stats.bytesHeld).toBe(10_000);
    r.expire(defaults.reassemblyMs - 1);
    expect(r.framesHeld).toBe(1);
    r.expire(defaults.reassemblyMs);
    expect(r.framesHeld).toBe(0);
    expect(r.stats.bytesHeld).toBe(0);
    expect(r.stats.framesLost.expired).toBe(1);
    // The next frame (Totem's retransmission goes as a new frame) comes through; the lost one's late packets are stale.
    const next = frameOf(10_000);
    let got: Uint8Array | null = null;
    for (const pk of packets(p, next)) got = r.accept(pk, 2, 200) ?? got;
    expect(Buffer.from(got!)).toEqual(Buffer.from(next));
    r.accept(lossy[0]!, 2, 201);
    expect(r.stats.packetsDropped.stale).toBe(1);
  });

  it('drops forged packets: malformed headers, wrong lengths, impossible geometry', () => {
    const r = new Reassembler(defaults);
    const good = packets(new Packetizer(5, netmtu), frameOf(5000));
    const forged: Uint8Array[] = [
      good[0]!.subarray(0, 10), // short
      Uint8Array.from([0xa2, ...randomBytes(200)]), // random header
      Buffer.concat([good[0]!, Buffer.from([1])]), // one byte too long for its piece
      Buffer.from(good[0]!).fill(1, 3, 4), // reserved byte set
      Buffer.from(good[0]!).fill(9, 1, 2), // index >= count
      Buffer.from(good[0]!).fill(0, 4, 8), // epoch 0
    ];
    const big = Buffer.from(good[0]!);
    big.writeUInt32LE(70_000, 12); // frame bigger than any IPv4 datagram
    forged.push(big);
    for (const f of forged) expect(r.accept(f, 2, 0)).toBeNull();
    expect(r.stats.packetsDropped.malformed).toBe(forged.length);
    expect(r.stats.bytesHeld).toBe(0);
  });

  it('drops a packet whose geometry overlaps an unfinished frame of the same seq', () => {
    const r = new Reassembler(defaults);
    const a = packets(new Packetizer(5, netmtu), frameOf(5000));
    const b = packets(new Packetizer(5, 1000), frameOf(5000)); // same epoch and seq, other cut
    expect(r.accept(a[0]!, 2, 0)).toBeNull();
    expect(r.accept(b[1]!, 2, 0)).toBeNull();
    expect(r.stats.packetsDropped.overlap).toBe(1);
    let got: Uint8Array | null = null;
    for (const pk of a.slice(1)) got = r.accept(pk, 2, 0) ?? got;
    expect(got).not.toBeNull();
  });

  it('tells a restarted sender (new epoch) from its old self', () => {
    const r = new Reassembler(defaults);
    const old = new Packetizer(11, netmtu);
    for (let i = 0; i < 40; i++) for (const pk of packets(old, frameOf(3000))) r.accept(pk, 2, i);
    expect(r.stats.framesOut).toBe(40);
    const restarted = new Packetizer(12, netmtu); // seq starts at 0 again
    const frame = frameOf(3000);
    let got: Uint8Array | null = null;
    for (const pk of packets(restarted, frame)) got = r.accept(pk, 2, 50) ?? got;
    expect(Buffer.from(got!)).toEqual(Buffer.from(frame));
    expect(r.stats.packetsDropped.stale).toBe(0);
  });

  it('keeps at most framesPerSenderMax unfinished frames per sender', () => {
    const r = new Reassembler(defaults);
    const p = new Packetizer(5, netmtu);
    for (let i = 0; i < 6; i++) r.accept(packets(p, frameOf(4000))[0]!, 2, i);
    expect(r.framesHeld).toBe(4);
    expect(r.stats.framesLost['evicted-sender']).toBe(2);
    expect(r.stats.bytesHeld).toBe(4 * 4000);
  });

  it('holds at most bytesMax: the oldest unfinished frame of any sender makes room', () => {
    const r = new Reassembler({ ...defaults, bytesMax: 25_000 });
    for (let s = 1; s <= 3; s++) r.accept(packets(new Packetizer(s, netmtu), frameOf(10_000))[0]!, s, s);
    expect(r.stats.bytesHeld).toBeLessThanOrEqual(25_000);
    expect(r.framesHeld).toBe(2);
    expect(r.stats.framesLost['evicted-memory']).toBe(1);
    expect(r.stats.bytesHeldPeak).toBeLessThanOrEqual(25_000);
    // a frame that could never be held is refused outright
    r.accept(packets(new Packetizer(9, netmtu), frameOf(30_000))[0]!, 4, 5);
    expect(r.stats.packetsDropped.malformed).toBe(1);
  });

  it('bounds the senders it remembers (forged epochs cannot grow it)', () => {
    const r = new Reassembler({ ...defaults, sendersMax: 3 });
    for (let e = 1; e <= 10; e++) r.accept(packets(new Packetizer(e, netmtu), frameOf(4000))[0]!, 2, 0);
    expect(r.framesHeld).toBe(3);
    expect(r.stats.framesLost['evicted-senders']).toBe(7);
  });

  it('calls packets more than the seq window behind a sender\'s newest frame stale', () => {
    const r = new Reassembler({ ...defaults, framesPerSenderMax: 2 });
    const p = new Packetizer(5, netmtu);
    const first = packets(p, frameOf(3000));
    for (let i = 0; i < seqWindow; i++) for (const pk of packets(p, frameOf(3000))) r.accept(pk, 2, 0);
    r.accept(first[0]!, 2, 0);
    expect(r.stats.packetsDropped.stale).toBe(1);
  });

  it('reuses recycled frame buffers instead of allocating', () => {
    const r = new Reassembler(defaults);
    const p = new Packetizer(5, netmtu);
    const buffers = new Set<ArrayBufferLike>();
    for (let i = 0; i < 20; i++) {
      let got: Uint8Array | null = null;
      for (const pk of packets(p, frameOf(8000 - i))) got = r.accept(pk, 2, i) ?? got;
      buffers.add(got!.buffer);
      r.recycle(got!);
    }
    expect(buffers.size).toBe(1);
  });
});
