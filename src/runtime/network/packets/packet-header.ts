/**
 * Frames over packets: Totem's unit on the wire is a frame (a sealed Totem
 * datagram, up to 64 KiB); the network splits a frame that does not fit one
 * UDP datagram of `netmtu` bytes into packets, each a whole UDP datagram, and
 * the receiver reassembles them (packetizer.ts, reassembler.ts), as knet
 * carries corosync's frames.
 *
 * A frame that fits one packet goes as it is, with no header at all: its
 * first byte is the AEAD envelope byte (0xA1) or, with `crypto: 'none'`, the
 * low byte of the wire magic (0x45). A packet of a larger frame starts with
 * `packetMarker` (0xA2) and this header, every integer little-endian:
 *
 * | offset | bytes | field                                                            |
 * |-------:|------:|------------------------------------------------------------------|
 * | 0      | 1     | marker 0xA2: packet of a frame, version 1                         |
 * | 1      | 1     | index of this packet, 0 .. count − 1                              |
 * | 2      | 1     | count of packets of the frame, 2 .. 255                           |
 * | 3      | 1     | reserved, 0                                                       |
 * | 4      | 4     | epoch: random per sending process start, never 0                  |
 * | 8      | 4     | seq of the frame within the epoch (wraps at 2^32)                 |
 * | 12     | 4     | frame bytes (the whole frame, 2 .. frameBytesLimit)               |
 *
 * The frame is cut into `count` pieces of `chunk = ceil(frameBytes / count)`
 * bytes, the last one shorter: packet i carries bytes [i × chunk, ...). So a
 * packet's place in its frame follows from (index, count, frameBytes) and a
 * receiver can check each packet's length exactly. The header is not
 * authenticated by itself: AEAD covers the whole frame (see network-driver.ts
 * for why per frame), so a forged or corrupted packet costs at most the frame
 * it claims to belong to, which then fails authentication and is dropped;
 * Totem's retransmit list recovers it.
 */
import { readU32LE, writeU32LE } from '../../../bytes.ts';

export const packetMarker = 0xa2;
export const packetHeaderBytes = 16;
/** packets per frame: index and count are one byte each. */
export const packetsPerFrameMax = 255;
/** the largest frame the format describes (and a receiver accepts): an IPv4 datagram's bound. */
export const frameBytesLimit = 65535;
/** IPv4 (20) + UDP (8) header bytes that netmtu counts and a datagram's payload does not. */
export const ipv4UdpHeaderBytes = 28;

/** Fields of one packet header; mutable and reused by its reader (no allocation per packet). */
export interface PacketHeader {
  index: number;
  count: number;
  epoch: number;
  seq: number;
  frameBytes: number;
}

export function createPacketHeader(): PacketHeader {
  return { index: 0, count: 0, epoch: 0, seq: 0, frameBytes: 0 };
}

/** bytes of each packet but the last, for a frame of `frameBytes` in `count` packets. */
export function chunkBytes(frameBytes: number, count: number): number {
  return Math.ceil(frameBytes / count);
}

/** bytes packet `index` of such a frame carries after its header. */
export function pieceBytes(frameBytes: number, count: number, index: number): number {
  const chunk = chunkBytes(frameBytes, count);
  return index < count - 1 ? chunk : frameBytes - chunk * (count - 1);
}



/** Writes a header at `at` in `out`. */
export function writePacketHeader(out: Uint8Array, at: number, index: number, count: number, epoch: number, seq: number, frameBytes: number): void {
  out[at] = packetMarker;
  out[at + 1] = index;
  out[at + 2] = count;
  out[at + 3] = 0;
  writeU32LE(out, at + 4, epoch);
  writeU32LE(out, at + 8, seq);
  writeU32LE(out, at + 12, frameBytes);
}

/** true if a received datagram is a packet of a larger frame (else it is a whole frame). */
export function isPacket(datagram: Uint8Array): boolean {
  return datagram.length > 0 && datagram[0] === packetMarker;
}

/**
 * Reads and checks the header of a datagram `isPacket` accepted: false if it
 * is malformed (short, reserved byte set, impossible geometry, or a length
 * that is not exactly its piece's). Allocates nothing.
 */
export function readPacketHeader(packet: Uint8Array, header: PacketHeader): boolean {
  if (packet.length <= packetHeaderBytes || packet[0] !== packetMarker || packet[3] !== 0) return false;
  const index = packet[1]!;
  const count = packet[2]!;
  const epoch = readU32LE(packet, 4);
  const frameBytes = readU32LE(packet, 12);
  if (count < 2 || index >= count || epoch === 0 || frameBytes < count || frameBytes > frameBytesLimit) return false;
  // Every piece must be non-empty: a sender never cuts a frame otherwise.
  if (chunkBytes(frameBytes, count) * (count - 1) >= frameBytes) return false;
  if (packet.length - packetHeaderBytes !== pieceBytes(frameBytes, count, index)) return false;
  header.index = index;
  header.count = count;
  header.epoch = epoch;
  header.seq = readU32LE(packet, 8);
  header.frameBytes = frameBytes;
  return true;
}
