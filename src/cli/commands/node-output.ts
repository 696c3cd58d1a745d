/**
 * What `evs node` prints, in the manner of openais' `testevs`: a
 * CONFIGURATION CHANGE block per configuration (its type and ring id added,
 * lists on one line each so `evs cluster`'s per-node prefix keeps a block
 * readable), and one line per delivery.
 *
 * With --json, one JSON object per line instead, for programs (the chaos
 * harness reads them): every field, the whole payload, and the time the node
 * saw the event (`atMs`, ms since the epoch, sub-millisecond and increasing
 * within one process) so logs of several nodes can be merged.
 */
import type { EvsConfchg, EvsDelivery } from '../../handle.ts';

/** payload characters shown before the rest is cut ("… N more bytes"). */
export const payloadCharsShown = 200;
/** bytes of a binary payload shown in hex. */
const binaryBytesShown = 32;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function formatConfchg(c: EvsConfchg): string[] {
  const list = (ids: readonly number[]): string => (ids.length === 0 ? '(none)' : ids.join(' '));
  return [
    `CONFIGURATION CHANGE (${c.type}, ring ${c.ringId.rep}/${c.ringId.seq})`,
    '--------------------',
    `New configuration: ${list(c.members)}`,
    `Members Left: ${list(c.left)}`,
    `Members Joined: ${list(c.joined)}`,
  ];
}

export function formatDelivery(m: EvsDelivery): string {
  return `Delivering message from node ${m.sender} to ${m.groups.join(',')} (${m.guarantee}, ${m.payload.length} bytes): ${showPayload(m.payload)}`;
}

/**
 * Text as a JSON string literal (quotes, control characters and escapes made
 * visible, so one delivery is always one line), cut after payloadCharsShown
 * characters; bytes that are not UTF-8 as hex.
 */
export function showPayload(payload: Uint8Array): string {
  let text: string;
  try {
    text = strictUtf8.decode(payload);
  } catch {
    const shown = Buffer.from(payload.subarray(0, binaryBytesShown)).toString('hex');
    return `<binary ${shown}${payload.length > binaryBytesShown ? '…' : ''}>`;
  }
  if (text.length <= payloadCharsShown) return JSON.stringify(text);
  const head = text.slice(0, payloadCharsShown);
  return `${JSON.stringify(head)}… ${payload.length - Buffer.byteLength(head)} more bytes`;
}

/** one configuration change as a JSON line. */
export function jsonConfchg(c: EvsConfchg, atMs: number): string {
  return JSON.stringify({ event: 'confchg', atMs, type: c.type, ringId: { rep: c.ringId.rep, seq: c.ringId.seq }, members: c.members, left: c.left, joined: c.joined });
}

/** one delivery as a JSON line: the payload as text when it is UTF-8, else as base64 (`payloadBase64`). */
export function jsonDelivery(m: EvsDelivery, atMs: number): string {
  const head = { event: 'deliver', atMs, sender: m.sender, groups: m.groups, guarantee: m.guarantee, bytes: m.payload.length };
  try {
    return JSON.stringify({ ...head, payload: strictUtf8.decode(m.payload) });
  } catch {
    return JSON.stringify({ ...head, payloadBase64: Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength).toString('base64') });
  }
}
