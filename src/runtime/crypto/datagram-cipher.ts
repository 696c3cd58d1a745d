/**
 * What the network driver asks of AEAD: `DatagramCipher` seals and opens one
 * datagram at a time on the calling thread (AesGcmCipher, NullCipher in
 * ciphers.ts); `BatchCipher` does whole batches off that thread (CryptoPool in
 * crypto-pool.ts). Both refuse bad datagrams by returning an `OpenFailure`,
 * never by throwing, and count every refusal by reason in `CryptoStats`.
 */

/** Why `open` refused a datagram; each is counted in `CryptoStats.dropped`. */
export type OpenFailure =
  /** shorter than the envelope header plus the tag. */
  | 'short'
  /** unknown envelope byte, or a counter field beyond 2^53 - 1. */
  | 'bad-header'
  /** the tag does not verify: forged, corrupted, truncated or sealed under another cluster key. */
  | 'auth'
  /** this (salt, counter) was already accepted. */
  | 'replay'
  /** the counter is older than the replay window of its salt. */
  | 'too-old';

export const openFailures: readonly OpenFailure[] = ['short', 'bad-header', 'auth', 'replay', 'too-old'];

/** Counters of one cipher. A plain object: it survives structured clone to another thread. */
export interface CryptoStats {
  /** datagrams sealed. */
  sealed: number;
  /** datagrams opened (authenticated and fresh). */
  opened: number;
  /** datagrams refused, by reason. */
  dropped: Record<OpenFailure, number>;
  /** HKDF derivations: the own sending key, each new sender salt, each salt of a forged datagram. */
  keysDerived: number;
  /** salts dropped from the receive cache to make room (their replay windows are lost). */
  saltsEvicted: number;
}

export function createCryptoStats(): CryptoStats {
  return { sealed: 0, opened: 0, dropped: { short: 0, 'bad-header': 0, auth: 0, replay: 0, 'too-old': 0 }, keysDerived: 0, saltsEvicted: 0 };
}

export function isOpenFailure(result: Uint8Array | OpenFailure): result is OpenFailure {
  return typeof result === 'string';
}

/**
 * Seals datagrams for sending and opens received ones. One instance per
 * process (or per network driver): its salt and counter are the sending
 * identity, its salt cache the receiving state. Not thread-safe.
 */
export interface DatagramCipher {
  readonly kind: 'aes-256-gcm' | 'none';
  /** bytes a sealed datagram has beyond its plaintext. */
  readonly overheadBytes: number;
  readonly stats: CryptoStats;
  /**
   * Seal `plain` into `out` at `offset`; returns the sealed length
   * (`plain.length + overheadBytes`). `plain` may overlap `out`. Throws a
   * CryptoError only for a caller mistake (no room in `out`).
   */
  seal(plain: Uint8Array, out: Uint8Array, offset: number): number;
  /**
   * The sealed datagram as parts to send with one scatter/gather write
   * (`dgram.send([...])`): the same bytes `seal` writes, without a buffer of
   * the datagram's size to assemble them in (for 64 KiB datagrams that copy
   * and allocation per datagram showed up as garbage-collector time). The
   * parts are fresh; `plain` may be reused as soon as this returns.
   */
  sealParts(plain: Uint8Array): Uint8Array[];
  /**
   * The plaintext of one received datagram (fresh bytes the caller owns; for
   * NullCipher the input itself), or why it was refused. Never throws.
   */
  open(sealed: Uint8Array): Uint8Array | OpenFailure;
}

/** AEAD for batches, off the network thread (CryptoPool, crypto-pool.ts). */
export interface BatchCipher {
  readonly overheadBytes: number;
  /** sealed copies, in order; counters are assigned in call order. */
  seal(plains: readonly Uint8Array[]): Promise<Uint8Array[]>;
  /** plaintexts or why each was refused, in order; replay state is updated in call order. */
  open(sealed: readonly Uint8Array[]): Promise<(Uint8Array | OpenFailure)[]>;
  stats(): CryptoStats;
  close(): Promise<void>;
}
