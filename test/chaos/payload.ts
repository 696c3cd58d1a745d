/**
 * Self-checking text payloads, one stdin line each for `evs node`:
 *
 *   chaos <sender> <counter> <filler>
 *
 * The counter counts a node's messages over all its incarnations (the
 * harness keeps it), so `sender:counter` names one message for the whole run.
 * The filler's length and letters derive from (sender, counter): a delivery
 * that lost, duplicated or moved a fragment, or that carries another
 * message's bytes, no longer matches. Lengths spread over 40..3000 B, so some
 * messages take two or three datagrams at MTU 1500 (fragmentation).
 */
const letters = 'abcdefghijklmnopqrstuvwxyz';
export const payloadBytesMax = 3000;

function fillerLength(sender: number, counter: number): number {
  return 20 + ((sender * 7919 + counter * 104_729) % (payloadBytesMax - 60));
}

function filler(sender: number, counter: number): string {
  const n = fillerLength(sender, counter);
  let s = '';
  for (let i = 0; i < n; i++) s += letters[(sender * 31 + counter * 7 + i) % letters.length];
  return s;
}

export function payloadLine(sender: number, counter: number): string {
  return `chaos ${sender} ${counter} ${filler(sender, counter)}`;
}

export interface ParsedPayload {
  readonly sender: number;
  readonly counter: number;
  /** the bytes are exactly what payloadLine(sender, counter) makes. */
  readonly intact: boolean;
}

/** null when the header is unreadable. */
export function parsePayload(text: string): ParsedPayload | null {
  const match = /^chaos (\d+) (\d+) /.exec(text);
  if (match === null) return null;
  const sender = Number(match[1]);
  const counter = Number(match[2]);
  return { sender, counter, intact: text === payloadLine(sender, counter) };
}
