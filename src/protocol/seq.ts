/**
 * Message seqs are uint32 and wrap. Comparisons use serial-number arithmetic
 * (RFC 1982): a < b iff the signed 32-bit difference a - b is negative. This is
 * exact as long as the two values are less than 2^31 apart, which always holds
 * inside one ring because at most `sortQueueSlots` seqs are in flight.
 * (corosync's sq_lt_compare subtracts 0x10000 near the top instead; serial
 * arithmetic is simpler and correct over the whole range.)
 */

export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** b - a as a signed 32-bit distance. */
export function seqDiff(b: number, a: number): number {
  return (b - a) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLte(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqMin(a: number, b: number): number {
  return seqLt(a, b) ? a : b;
}

export function seqMax(a: number, b: number): number {
  return seqLt(a, b) ? b : a;
}
