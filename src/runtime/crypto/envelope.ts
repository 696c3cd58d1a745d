/**
 * The sealed datagram (AesGcmCipher, CryptoPool) and its keys: the one place
 * that writes and reads the bytes, so an inline cipher and a pool produce and
 * accept the same datagrams.
 *
 * ## Sealed datagram, every integer little-endian
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
 */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { CryptoError } from '../../errors.ts';
import { clusterKeyBytesMax, clusterKeyBytesMin } from '../../limits.ts';
import { readU32LE, writeU32LE } from '../../bytes.ts';

export const envelopeByte = 0xa1;
export const saltBytes = 8;
export const counterBytes = 8;
export const authTagBytes = 16;
export const nonceBytes = 12;
/** envelope byte, salt, counter. */
export const envelopeHeaderBytes = 1 + saltBytes + counterBytes;
/** 33: envelope header plus tag. */
export const aesGcmOverheadBytes = envelopeHeaderBytes + authTagBytes;
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

/** Throws ERR_EVS_CRYPTO_COUNTER_EXHAUSTED when `count` counters from `counterFirst` would pass counterMax. */
export function checkCounters(counterFirst: number, count: number, saltHex: string): void {
  if (counterFirst + count - 1 > counterMax) {
    throw new CryptoError('ERR_EVS_CRYPTO_COUNTER_EXHAUSTED', `seal: all ${counterMax} counters of salt ${saltHex} are used`);
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
  const counterLo = readU32LE(sealed, 1 + saltBytes);
  const counterHi = readU32LE(sealed, 5 + saltBytes);
  if (counterHi >= counterHiLimit) return 'bad-header';
  header.saltLo = readU32LE(sealed, 1);
  header.saltHi = readU32LE(sealed, 5);
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

// One nonce buffer per thread: createCipheriv/createDecipheriv copy the IV
// before returning, so sharing it between calls (and ciphers) is safe.
const nonceScratch = new Uint8Array(nonceBytes);

function setNonce(counterLo: number, counterHi: number): Uint8Array {
  writeU32LE(nonceScratch, 4, counterLo);
  writeU32LE(nonceScratch, 8, counterHi);
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
  writeU32LE(header, 1 + saltBytes, counterLo);
  writeU32LE(header, 5 + saltBytes, counterHi);
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
