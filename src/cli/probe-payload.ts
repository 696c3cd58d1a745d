/**
 * Payloads that check themselves: (sender, counter, send time) in the first
 * 16 bytes, then filler derived from them. Used by the process cluster and
 * the benchmarks to check FIFO, agreement and integrity and to time delivery.
 *
 * The filler is a marker every `probeStrideBytes` bytes and in the last byte,
 * zeros between: writing and checking every byte of a 1 MB message cost the
 * benchmark client more CPU than the library spent on it (profiled), while a
 * marker per 61 bytes still catches a fragment that is missing, duplicated or
 * in the wrong place (each marker depends on its offset) and a short payload.
 * AEAD already covers bit errors on the wire.
 */
export const probeHeadBytes = 16;
const probeStrideBytes = 61;

function marker(sender: number, counter: number, offset: number): number {
  return (sender * 31 + counter + offset) & 0xff;
}

export function writeProbe(buffer: Uint8Array, sender: number, counter: number, sentAtMs: number): void {
  const v = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buffer.length < probeHeadBytes) return; // too small to carry a probe: a plain payload
  v.setUint32(0, sender, true);
  v.setUint32(4, counter, true);
  v.setFloat64(8, sentAtMs, true);
  for (let i = probeHeadBytes; i < buffer.length; i += probeStrideBytes) buffer[i] = marker(sender, counter, i);
  if (buffer.length > probeHeadBytes) buffer[buffer.length - 1] = marker(sender, counter, buffer.length - 1);
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
  let intact = payload.length === probeHeadBytes || payload[payload.length - 1] === marker(sender, counter, payload.length - 1);
  for (let i = probeHeadBytes; intact && i < payload.length; i += probeStrideBytes) intact = payload[i] === marker(sender, counter, i);
  return { sender, counter, sentAtMs: v.getFloat64(8, true), intact };
}

export { epochMs } from './epoch-clock.ts';
