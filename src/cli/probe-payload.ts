/**
 * Payloads that check themselves: (sender, counter, send time) in the first
 * 16 bytes, then filler derived from them. Used by the process cluster and
 * the benchmarks to check FIFO, agreement and integrity and to time delivery.
 */
export const probeHeadBytes = 16;

export function writeProbe(buffer: Uint8Array, sender: number, counter: number, sentAtMs: number): void {
  const v = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buffer.length < probeHeadBytes) return; // too small to carry a probe: a plain payload
  v.setUint32(0, sender, true);
  v.setUint32(4, counter, true);
  v.setFloat64(8, sentAtMs, true);
  for (let i = probeHeadBytes; i < buffer.length; i++) buffer[i] = (sender * 31 + counter + i) & 0xff;
}

export interface Probe {
  readonly sender: number;
  readonly counter: number;
  readonly sentAtMs: number;
  /** filler matches what writeProbe put there. */
  readonly intact: boolean;
}

export function readProbe(payload: Uint8Array): Probe | null {
  if (payload.length < probeHeadBytes) return null;
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const sender = v.getUint32(0, true);
  const counter = v.getUint32(4, true);
  let intact = true;
  for (let i = probeHeadBytes; i < payload.length; i++) {
    if (payload[i] !== ((sender * 31 + counter + i) & 0xff)) {
      intact = false;
      break;
    }
  }
  return { sender, counter, sentAtMs: v.getFloat64(8, true), intact };
}

/** wall-clock milliseconds comparable across processes on one machine. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
