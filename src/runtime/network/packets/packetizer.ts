/**
 * The sending half of frames over packets (format: packet-header.ts). Pure:
 * no sockets, no clock; the epoch is passed in (random per process start).
 *
 * A frame that fits one packet is handed on unchanged (no header, no copy).
 * A larger frame is cut into `count = ceil(frameBytes / payloadMax)` pieces
 * of equal size (the last one shorter) so that no packet is much smaller than
 * the others; each packet is [its 16-byte header, views of the frame's parts]
 * for one scatter/gather send. The headers of a frame share one buffer, so a
 * packet costs a header view and a parts list, never a copy of its bytes.
 */
import {
  chunkBytes,
  frameBytesLimit,
  ipv4UdpHeaderBytes,
  packetHeaderBytes,
  packetsPerFrameMax,
  writePacketHeader,
} from './packet-header.ts';

/** a frame or a packet: its bytes, or parts sent with one scatter/gather write. */
export type Datagram = Uint8Array | readonly Uint8Array[];

export interface PacketizerStats {
  /** frames handed in. */
  frames: number;
  /** of them, frames cut into several packets. */
  framesSplit: number;
  /** packets handed out (a whole frame counts one). */
  packets: number;
}

export function datagramBytes(datagram: Datagram): number {
  if (datagram instanceof Uint8Array) return datagram.length;
  let bytes = 0;
  for (const part of datagram) bytes += part.length;
  return bytes;
}

export class Packetizer {
  readonly stats: PacketizerStats = { frames: 0, framesSplit: 0, packets: 0 };
  /** bytes of a UDP payload: netmtu − 28. */
  readonly datagramBytesMax: number;
  /** frame bytes one packet of a split frame carries at most. */
  readonly pieceBytesMax: number;
  readonly #epoch: number;
  #seq = 0;

  /**
   * @param epoch  random u32 ≠ 0 per sending process start: a receiver tells a restarted sender by it
   * @param netmtu bytes of a packet including IPv4 + UDP headers (the `netmtu` option)
   */
  constructor(epoch: number, netmtu: number) {
    if (!Number.isInteger(epoch) || epoch <= 0 || epoch > 0xffffffff) throw new RangeError(`Packetizer: epoch must be a u32 other than 0, got ${epoch}`);
    const datagramBytesMax = netmtu - ipv4UdpHeaderBytes;
    // A frame of frameBytesLimit must fit packetsPerFrameMax packets.
    if (!Number.isInteger(netmtu) || Math.ceil(frameBytesLimit / (datagramBytesMax - packetHeaderBytes)) > packetsPerFrameMax) {
      throw new RangeError(`Packetizer: netmtu ${netmtu} is too small to carry ${frameBytesLimit}-byte frames in ${packetsPerFrameMax} packets`);
    }
    this.#epoch = epoch;
    this.datagramBytesMax = datagramBytesMax;
    this.pieceBytesMax = datagramBytesMax - packetHeaderBytes;
  }

  /**
   * Calls `emit` once per packet of `frame`, in order; returns the packet
   * count. The packets are views of `frame`: send them before its bytes change.
   */
  split(frame: Datagram, emit: (packet: Datagram) => void): number {
    const frameBytes = datagramBytes(frame);
    this.stats.frames++;
    if (frameBytes <= this.datagramBytesMax) {
      this.stats.packets++;
      emit(frame);
      return 1;
    }
    if (frameBytes > frameBytesLimit) throw new RangeError(`Packetizer: a frame of ${frameBytes} bytes exceeds ${frameBytesLimit}`);
    const count = Math.ceil(frameBytes / this.pieceBytesMax);
    const chunk = chunkBytes(frameBytes, count);
    const seq = this.#seq;
    this.#seq = (seq + 1) >>> 0;
    const headers = Buffer.allocUnsafe(count * packetHeaderBytes); // one per frame, from Node's pool when small
    const parts: readonly Uint8Array[] = frame instanceof Uint8Array ? [frame] : frame;
    let part = 0;
    let partAt = 0; // bytes of parts[part] already cut
    for (let index = 0; index < count; index++) {
      const at = index * packetHeaderBytes;
      writePacketHeader(headers, at, index, count, this.#epoch, seq, frameBytes);
      const packet: Uint8Array[] = [headers.subarray(at, at + packetHeaderBytes)];
      let left = index < count - 1 ? chunk : frameBytes - chunk * (count - 1);
      while (left > 0) {
        const p = parts[part]!;
        const take = Math.min(left, p.length - partAt);
        if (take > 0) packet.push(p.subarray(partAt, partAt + take));
        partAt += take;
        left -= take;
        if (partAt === p.length) {
          part++;
          partAt = 0;
        }
      }
      emit(packet);
    }
    this.stats.framesSplit++;
    this.stats.packets += count;
    return count;
  }
}
