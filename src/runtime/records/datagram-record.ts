/**
 * Records of the rx and tx rings between the network and protocol workers:
 *
 *   u32 node id (rx: the source, 0 = unknown; tx: the destination, 0 = every member) | datagram
 *
 * The datagram is plaintext: the network worker seals and opens.
 */
import { readU32LE, writeU32LE } from '../../bytes.ts';

export const datagramRecordHeadBytes = 4;

/** A reusable 4-byte head (one per writer). */
export class DatagramRecordHead {
  readonly bytes = new Uint8Array(datagramRecordHeadBytes);

  set(nodeId: number): Uint8Array {
    writeU32LE(this.bytes, 0, nodeId);
    return this.bytes;
  }
}

export function datagramRecordNodeId(record: Uint8Array): number {
  return readU32LE(record, 0);
}
