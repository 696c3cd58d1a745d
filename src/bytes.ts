/**
 * Little-endian integers read from and written to plain byte arrays, for the
 * record formats between threads (the wire codec has its own DataView reader).
 * Plain index arithmetic, not a DataView: no object per record on hot paths.
 */

/** u16 at `at`; the caller checked that two bytes are there. */
export function readU16LE(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8);
}

/** u32 at `at`; the caller checked that four bytes are there. */
export function readU32LE(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** writes `value` (0..2^32-1) as a u32 at `at`. */
export function writeU32LE(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value;
  bytes[at + 1] = value >>> 8;
  bytes[at + 2] = value >>> 16;
  bytes[at + 3] = value >>> 24;
}
