/**
 * AEAD for every datagram (ARCHITECTURE.md §4): AES-256-GCM from node:crypto
 * under a key derived from the pre-shared cluster key, and a null cipher for
 * `crypto: 'none'` (measurement only; the caller logs the warning).
 *
 * ## Sealed datagram (AesGcmCipher), every integer little-endian
 *
 * | offset     | bytes | field                                                        |
 * |-----------:|------:|--------------------------------------------------------------|
 * | 0          | 1     | envelope byte 0xA1: AEAD envelope, version 1                  |
 * | 1          | 8     | salt: random per sending process (per cipher instance)        |
 * | 9          | 8     | counter u64 (< 2^53), 0, 1, 2, ... per salt                   |
 * | 17         | n     | ciphertext of the n plaintext bytes (a Totem wire datagram)   |
 * | 17 + n     | 16    | GCM authentication tag                                       |
 *
 * Overhead: `aesGcmOverheadBytes` = 1 + 8 + 8 + 16 = 33 bytes per datagram.
 * The envelope byte differs from the first byte of a plain wire datagram
 * (0x45, the low byte of wireMagic), so a node with crypto on that receives a
 * datagram from a node with `crypto: 'none'` counts it as 'bad-header', and
 * the plain codec rejects a sealed datagram by its magic.
 *
 * ## Keys and nonces
 *
 * key   = HKDF-SHA256(ikm = cluster key, salt = the datagram's 8-byte salt,
 *                     info = hkdfInfo, 32 bytes)
 * nonce = 4 zero bytes ‖ counter u64 LE (12 bytes, GCM's native IV size)
 *
 * A sending cipher picks a fresh random salt when it is constructed, so every
 * process start (also a restart with the same cluster key) seals under a fresh
 * derived key, and its counter never repeats under that key: no (key, nonce)
 * pair is ever used twice unless two processes draw the same 64-bit salt
 * (probability about n² / 2^65 over n process starts sharing one key).
 * No additional authenticated data is needed: the salt selects the key and the
 * counter is the nonce, so changing either makes the tag fail; the envelope
 * byte must equal 0xA1 exactly, and a future version derives its keys under a
 * different `info` string.
 *
 * ## Receiving
 *
 * A receiver derives the key of each sender salt once and caches it with that
 * salt's replay window in a bounded LRU (`saltsMax`, default 64). A salt enters
 * the cache only after a datagram under it authenticated: forged datagrams with
 * random salts cost one HKDF each (~10 µs) but can neither evict a genuine
 * sender's entry nor grow the cache. The replay window (`replayWindowCounters`
 * = 1024 counters, a bitmap) accepts each counter once, out of order within
 * the window; a counter more than 1023 behind the highest accepted one is
 * 'too-old'. The window moves only for authenticated datagrams. Limitation: a
 * salt evicted from the cache (more live senders than `saltsMax`) comes back
 * with an empty window, so replay protection for it restarts; size `saltsMax`
 * well above the number of processors (the runtime should pass 2 × members).
 *
 * Totem itself re-sends identical messages (retransmissions), but each re-send
 * is sealed again under a new counter, so rejecting a repeated *datagram* never
 * loses a retransmission.
 *
 * `open` never throws on any input: every failure is returned as an
 * `OpenFailure` and counted in `stats.dropped`.
 *
 * The envelope, HKDF, seal/open and salt-cache pieces are exported so that
 * CryptoPool (crypto-pool.ts, `threads.cryptoThreads > 0`) produces the same
 * bytes and applies the same receive rules with the AES work on other threads.
 */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomFillSync, type KeyObject } from 'node:crypto';
import { CryptoError } from './errors.ts';

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

export const envelopeByte = 0xa1;
export const saltBytes = 8;
export const counterBytes = 8;
export const authTagBytes = 16;
export const nonceBytes = 12;
/** envelope byte, salt, counter. */
export const envelopeHeaderBytes = 1 + saltBytes + counterBytes;
/** 33: envelope header plus tag. */
export const aesGcmOverheadBytes = envelopeHeaderBytes + authTagBytes;
/** Counters of one salt's replay window (a multiple of 32: one bit each in a Uint32Array). */
export const replayWindowCounters = 1024;
export const saltsMaxDefault = 64;
export const saltsMaxLimit = 65536;
export const clusterKeyBytesMin = 32;
export const clusterKeyBytesMax = 4096;
/** HKDF info: names the protocol, the version and the use of the derived key. */
export const hkdfInfo = 'totem-evs/1 datagram key aes-256-gcm';
/** Counters are JS numbers: the last one a sender may use. */
export const counterMax = Number.MAX_SAFE_INTEGER;

const algorithm = 'aes-256-gcm';
const gcmOptions = { authTagLength: authTagBytes } as const;
const derivedKeyBytes = 32;
const u32Range = 2 ** 32;
/** The high u32 of a counter must be below this so that the counter is <= 2^53 - 1. */
const counterHiLimit = 2 ** 21;
const hkdfInfoBytes = new TextEncoder().encode(hkdfInfo);

/** Checks the size of a cluster key; throws ERR_EVS_KEY_SIZE. */
export function checkClusterKeySize(bytes: number, what: string): void {
  if (!Number.isInteger(bytes) || bytes < clusterKeyBytesMin || bytes > clusterKeyBytesMax) {
    throw new CryptoError('ERR_EVS_KEY_SIZE', `${what} must be ${clusterKeyBytesMin}..${clusterKeyBytesMax} bytes, got ${bytes}`);
  }
}

function u32At(bytes: Uint8Array, index: number): number {
  return (bytes[index]! | (bytes[index + 1]! << 8) | (bytes[index + 2]! << 16) | (bytes[index + 3]! << 24)) >>> 0;
}

function setU32(bytes: Uint8Array, index: number, value: number): void {
  bytes[index] = value & 0xff;
  bytes[index + 1] = (value >>> 8) & 0xff;
  bytes[index + 2] = (value >>> 16) & 0xff;
  bytes[index + 3] = (value >>> 24) & 0xff;
}

/**
 * Sliding anti-replay window of one salt (RFC 4303 §3.4.3 style): the highest
 * accepted counter and one bit per counter in (highest - 1024, highest],
 * stored as a ring indexed by counter mod 1024.
 */
export class ReplayWindow {
  private highest = -1;
  private readonly bits = new Uint32Array(replayWindowCounters / 32);

  /** null if `counter` would be fresh; does not change the window. */
  check(counter: number): 'replay' | 'too-old' | null {
    if (counter > this.highest) return null;
    if (this.highest - counter >= replayWindowCounters) return 'too-old';
    const bit = counter % replayWindowCounters;
    return (this.bits[bit >>> 5]! & (1 << (bit & 31))) !== 0 ? 'replay' : null;
  }

  /** Records `counter` as accepted; call only after `check` returned null and the datagram authenticated. */
  accept(counter: number): void {
    if (counter > this.highest) {
      const advance = counter - this.highest;
      if (advance >= replayWindowCounters) {
        this.bits.fill(0);
      } else {
        // The slots of highest+1 .. counter held counters that now fall out of the window.
        for (let c = this.highest + 1; c <= counter; c++) this.clear(c % replayWindowCounters);
      }
      this.highest = counter;
    }
    const bit = counter % replayWindowCounters;
    this.bits[bit >>> 5] = this.bits[bit >>> 5]! | (1 << (bit & 31));
  }

  private clear(bit: number): void {
    this.bits[bit >>> 5] = this.bits[bit >>> 5]! & ~(1 << (bit & 31));
  }
}

/**
 * The fields of a sealed datagram's header, read by `readEnvelope`. Mutable
 * and reused by its owner: one per reader, no allocation per datagram.
 */
export interface EnvelopeHeader {
  saltLo: number;
  saltHi: number;
  counterLo: number;
  counterHi: number;
  /** counterHi * 2^32 + counterLo, exact (< 2^53). */
  counter: number;
}

export function createEnvelopeHeader(): EnvelopeHeader {
  return { saltLo: 0, saltHi: 0, counterLo: 0, counterHi: 0, counter: 0 };
}

/**
 * Reads the envelope of a received datagram into `header`; the failure if it
 * is too short or malformed, else null. Says nothing about authenticity.
 */
export function readEnvelope(sealed: Uint8Array, header: EnvelopeHeader): 'short' | 'bad-header' | null {
  if (sealed.length < aesGcmOverheadBytes) return 'short';
  if (sealed[0] !== envelopeByte) return 'bad-header';
  const counterLo = u32At(sealed, 1 + saltBytes);
  const counterHi = u32At(sealed, 5 + saltBytes);
  if (counterHi >= counterHiLimit) return 'bad-header';
  header.saltLo = u32At(sealed, 1);
  header.saltHi = u32At(sealed, 5);
  header.counterLo = counterLo;
  header.counterHi = counterHi;
  header.counter = counterHi * u32Range + counterLo;
  return null;
}

/** The salt bytes of a datagram `readEnvelope` accepted (a view, not a copy). */
export function envelopeSalt(sealed: Uint8Array): Uint8Array {
  return sealed.subarray(1, 1 + saltBytes);
}

/** The AES-256-GCM key of one sender salt: HKDF-SHA256(cluster key, salt, hkdfInfo). */
export function deriveDatagramKey(clusterKey: KeyObject, salt: Uint8Array): KeyObject {
  return createSecretKey(new Uint8Array(hkdfSync('sha256', clusterKey, salt, hkdfInfoBytes, derivedKeyBytes)));
}

/** Throws ERR_EVS_CRYPTO_BAD_OPTION unless `saltsMax` is an integer 1..saltsMaxLimit. */
export function checkSaltsMax(saltsMax: number): void {
  if (!Number.isInteger(saltsMax) || saltsMax < 1 || saltsMax > saltsMaxLimit) {
    throw new CryptoError('ERR_EVS_CRYPTO_BAD_OPTION', `saltsMax must be an integer 1..${saltsMaxLimit}, got ${saltsMax}`);
  }
}

/** Throws ERR_EVS_CRYPTO_COUNTER_EXHAUSTED when `count` counters from `counterFirst` would pass counterMax. */
export function checkCounters(counterFirst: number, count: number, saltHex: string): void {
  if (counterFirst + count - 1 > counterMax) {
    throw new CryptoError('ERR_EVS_CRYPTO_COUNTER_EXHAUSTED', `seal: all ${counterMax} counters of salt ${saltHex} are used`);
  }
}

// One nonce buffer per thread: createCipheriv/createDecipheriv copy the IV
// before returning, so sharing it between calls (and ciphers) is safe.
const nonceScratch = new Uint8Array(nonceBytes);

function setNonce(counterLo: number, counterHi: number): Uint8Array {
  setU32(nonceScratch, 4, counterLo);
  setU32(nonceScratch, 8, counterHi);
  return nonceScratch;
}

/**
 * Seals `plain` into `out` at `offset` under (key, salt, counter): the whole
 * envelope, `plain.length + aesGcmOverheadBytes` bytes. The caller checked
 * the room and that `counter` is unused and <= counterMax. `plain` may
 * overlap `out` (even sit at `offset + envelopeHeaderBytes`: sealing in place).
 */
export function sealDatagram(key: KeyObject, salt: Uint8Array, counter: number, plain: Uint8Array, out: Uint8Array, offset: number): void {
  // The parts are fresh buffers the cipher wrote after consuming `plain`, so `plain` may overlap `out`.
  let at = offset;
  for (const part of sealDatagramParts(key, salt, counter, plain)) {
    out.set(part, at);
    at += part.length;
  }
}

/** `sealDatagram` as [envelope header, ciphertext, tag] (plus OpenSSL's final block, never non-empty for GCM). */
export function sealDatagramParts(key: KeyObject, salt: Uint8Array, counter: number, plain: Uint8Array): Uint8Array[] {
  const counterLo = counter >>> 0;
  const counterHi = (counter - counterLo) / u32Range;
  const cipher = createCipheriv(algorithm, key, setNonce(counterLo, counterHi), gcmOptions);
  const body = cipher.update(plain);
  const tail = cipher.final();
  const tag = cipher.getAuthTag();
  if (body.length + tail.length !== plain.length || tag.length !== authTagBytes) {
    throw new Error(`seal: AES-GCM returned ${body.length}+${tail.length} bytes and a ${tag.length}-byte tag for ${plain.length} bytes`);
  }
  const header = Buffer.allocUnsafe(envelopeHeaderBytes); // small: carved from Node's buffer pool
  header[0] = envelopeByte;
  header.set(salt, 1);
  setU32(header, 1 + saltBytes, counterLo);
  setU32(header, 5 + saltBytes, counterHi);
  return tail.length === 0 ? [header, body, tag] : [header, body, tail, tag];
}

/**
 * Verifies and decrypts a datagram whose envelope `readEnvelope` read into
 * `header`; the plaintext (fresh bytes), or null when the tag fails (OpenSSL
 * throws in final()). Checks no replay state.
 */
export function openDatagram(key: KeyObject, header: EnvelopeHeader, sealed: Uint8Array): Uint8Array | null {
  const tagStart = sealed.length - authTagBytes;
  try {
    const decipher = createDecipheriv(algorithm, key, setNonce(header.counterLo, header.counterHi), gcmOptions);
    decipher.setAuthTag(sealed.subarray(tagStart));
    const body = decipher.update(sealed.subarray(envelopeHeaderBytes, tagStart));
    const tail = decipher.final();
    return tail.length === 0 ? body : Buffer.concat([body, tail]);
  } catch {
    return null;
  }
}

/** 53 bits of the salt as an exact Map key; the entry keeps all 64 and is checked on lookup. */
function saltMapKey(saltLo: number, saltHi: number): number {
  return (saltHi & 0x1fffff) * u32Range + saltLo;
}

interface SaltSlot<V> {
  readonly saltLo: number;
  readonly saltHi: number;
  readonly value: V;
}

/**
 * A bounded LRU of per-salt state (a key, a replay window, or both), keyed by
 * the 64-bit salt. Callers insert a salt only after a datagram under it
 * authenticated, so forgeries with random salts cannot evict a genuine sender.
 */
export class SaltCache<V> {
  /** Insertion order = recency order: the first key is the least recently used. */
  private readonly slots = new Map<number, SaltSlot<V>>();
  private recent: SaltSlot<V> | null = null;

  constructor(private readonly capacity: number) {}

  /** the state of a salt, made the most recently used; undefined if not cached. */
  get(saltLo: number, saltHi: number): V | undefined {
    const recent = this.recent;
    if (recent !== null && recent.saltLo === saltLo && recent.saltHi === saltHi) return recent.value;
    const mapKey = saltMapKey(saltLo, saltHi);
    const slot = this.slots.get(mapKey);
    if (slot === undefined || slot.saltLo !== saltLo || slot.saltHi !== saltHi) return undefined;
    this.slots.delete(mapKey); // move to the most recently used end
    this.slots.set(mapKey, slot);
    this.recent = slot;
    return slot.value;
  }

  /** the state of a salt without changing the recency order. */
  peek(saltLo: number, saltHi: number): V | undefined {
    const slot = this.slots.get(saltMapKey(saltLo, saltHi));
    return slot === undefined || slot.saltLo !== saltLo || slot.saltHi !== saltHi ? undefined : slot.value;
  }

  /**
   * Inserts a salt that is not cached, as the most recently used; true if
   * another salt's state was dropped for it (the least recently used one when
   * full, or one with the same 53 map-key bits).
   */
  insert(saltLo: number, saltHi: number, value: V): boolean {
    const mapKey = saltMapKey(saltLo, saltHi);
    let evicted = false;
    if (this.slots.delete(mapKey)) {
      evicted = true;
    } else if (this.slots.size >= this.capacity) {
      const oldest = this.slots.keys().next();
      if (oldest.done !== true) this.slots.delete(oldest.value);
      evicted = true;
    }
    const slot: SaltSlot<V> = { saltLo, saltHi, value };
    this.slots.set(mapKey, slot);
    this.recent = slot;
    return evicted;
  }
}

interface SaltEntry {
  readonly key: KeyObject;
  readonly window: ReplayWindow;
}

export interface AesGcmCipherOptions {
  /** Sender salts whose keys and replay windows are cached (LRU). Default 64; 1..65536. */
  saltsMax?: number;
}

export class AesGcmCipher implements DatagramCipher {
  readonly kind = 'aes-256-gcm';
  readonly overheadBytes = aesGcmOverheadBytes;
  readonly stats = createCryptoStats();
  /** This process's sending salt, hex (for logs and tests). */
  readonly saltHex: string;

  private readonly clusterKey: KeyObject;
  private readonly salt = new Uint8Array(saltBytes);
  private readonly sendKey: KeyObject;
  private readonly header = createEnvelopeHeader();
  private counterNext = 0;
  private readonly salts: SaltCache<SaltEntry>;

  /** `clusterKey`: the pre-shared key, 32..4096 bytes (copied). */
  constructor(clusterKey: Uint8Array, options: AesGcmCipherOptions = {}) {
    checkClusterKeySize(clusterKey.length, 'the cluster key');
    const saltsMax = options.saltsMax ?? saltsMaxDefault;
    checkSaltsMax(saltsMax);
    this.salts = new SaltCache(saltsMax);
    this.clusterKey = createSecretKey(clusterKey);
    randomFillSync(this.salt);
    this.saltHex = Buffer.from(this.salt).toString('hex');
    this.sendKey = this.deriveKey(this.salt);
  }

  seal(plain: Uint8Array, out: Uint8Array, offset: number): number {
    const sealedBytes = plain.length + aesGcmOverheadBytes;
    if (!Number.isInteger(offset) || offset < 0 || offset + sealedBytes > out.length) {
      throw new CryptoError(
        'ERR_EVS_CRYPTO_OUTPUT_TOO_SMALL',
        `seal: ${sealedBytes} bytes do not fit an output of ${out.length} bytes at offset ${offset}`,
      );
    }
    checkCounters(this.counterNext, 1, this.saltHex);
    const counter = this.counterNext++; // consumed even if sealing fails: a nonce is never offered twice
    sealDatagram(this.sendKey, this.salt, counter, plain, out, offset);
    this.stats.sealed++;
    return sealedBytes;
  }

  sealParts(plain: Uint8Array): Uint8Array[] {
    checkCounters(this.counterNext, 1, this.saltHex);
    const counter = this.counterNext++; // consumed even if sealing fails: a nonce is never offered twice
    const parts = sealDatagramParts(this.sendKey, this.salt, counter, plain);
    this.stats.sealed++;
    return parts;
  }

  open(sealed: Uint8Array): Uint8Array | OpenFailure {
    const header = this.header;
    const malformed = readEnvelope(sealed, header);
    if (malformed !== null) return this.drop(malformed);
    let entry = this.salts.get(header.saltLo, header.saltHi);
    let key: KeyObject;
    if (entry !== undefined) {
      const seen = entry.window.check(header.counter);
      if (seen !== null) return this.drop(seen);
      key = entry.key;
    } else {
      key = this.deriveKey(envelopeSalt(sealed)); // cached only once authenticated
    }
    const plain = openDatagram(key, header, sealed);
    if (plain === null) return this.drop('auth');
    if (entry === undefined) {
      entry = { key, window: new ReplayWindow() };
      if (this.salts.insert(header.saltLo, header.saltHi, entry)) this.stats.saltsEvicted++;
    }
    entry.window.accept(header.counter);
    this.stats.opened++;
    return plain;
  }

  private drop(failure: OpenFailure): OpenFailure {
    this.stats.dropped[failure]++;
    return failure;
  }

  private deriveKey(salt: Uint8Array): KeyObject {
    this.stats.keysDerived++;
    return deriveDatagramKey(this.clusterKey, salt);
  }
}

/**
 * `crypto: 'none'`: no envelope, no overhead, no authentication, no replay
 * protection. For measurement only; whoever builds it logs the warning.
 */
export class NullCipher implements DatagramCipher {
  readonly kind = 'none';
  readonly overheadBytes = 0;
  readonly stats = createCryptoStats();

  seal(plain: Uint8Array, out: Uint8Array, offset: number): number {
    if (!Number.isInteger(offset) || offset < 0 || offset + plain.length > out.length) {
      throw new CryptoError(
        'ERR_EVS_CRYPTO_OUTPUT_TOO_SMALL',
        `seal: ${plain.length} bytes do not fit an output of ${out.length} bytes at offset ${offset}`,
      );
    }
    out.set(plain, offset);
    this.stats.sealed++;
    return plain.length;
  }

  sealParts(plain: Uint8Array): Uint8Array[] {
    this.stats.sealed++;
    return [plain.slice()];
  }

  open(sealed: Uint8Array): Uint8Array {
    this.stats.opened++;
    return sealed;
  }
}
