/**
 * Records of the rx and tx rings between the network and protocol workers:
 *
 *   u32 node id (rx: the source, 0 = unknown; tx: the destination, 0 = every member) | datagram
 *
 * The datagram is plaintext: the network worker seals and opens.
 */
export const datagramRecordHeadBytes = 4;

/** A reusable 4-byte head (one per writer). */
export class DatagramRecordHead {
  readonly bytes = new Uint8Array(datagramRecordHeadBytes);
  readonly #view = new DataView(this.bytes.buffer);

  set(nodeId: number): Uint8Array {
    this.#view.setUint32(0, nodeId, true);
    return this.bytes;
  }
}

export function datagramRecordNodeId(record: Uint8Array): number {
  return ((record[0] as number) | ((record[1] as number) << 8) | ((record[2] as number) << 16) | ((record[3] as number) << 24)) >>> 0;
}
