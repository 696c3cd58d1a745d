/**
 * AEAD for every datagram (ARCHITECTURE.md §4), one datagram at a time on the
 * calling thread: AES-256-GCM from node:crypto under a key derived from the
 * pre-shared cluster key (the bytes: envelope.ts; the receive rules:
 * replay-window.ts), and a null cipher for `crypto: 'none'` (measurement
 * only; the caller logs the warning). CryptoPool (crypto-pool.ts,
 * `threads.cryptoThreads > 0`) produces the same bytes and applies the same
 * receive rules with the AES work on other threads.
 *
 * `open` never throws on any input: every failure is returned as an
 * `OpenFailure` and counted in `stats.dropped`.
 *
 * A datagram under this cipher's own salt is refused as a 'replay': only a
 * reflection of one it sealed for another node can carry it (the network
 * driver hands a self-addressed datagram back without sealing it).
 */
import { createSecretKey, randomFillSync, type KeyObject } from 'node:crypto';
import { CryptoError } from '../../errors.ts';
import { createCryptoStats, type DatagramCipher, type OpenFailure } from './datagram-cipher.ts';
import {
  aesGcmOverheadBytes,
  checkClusterKeySize,
  checkCounters,
  createEnvelopeHeader,
  deriveDatagramKey,
  envelopeSalt,
  openDatagram,
  readEnvelope,
  saltBytes,
  sealDatagram,
  sealDatagramParts,
} from './envelope.ts';
import { checkSaltsMax, ReplayWindow, SaltCache, saltsMaxDefault } from './replay-window.ts';

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
  /** my salt as the envelope header reads it (two little-endian u32). */
  private readonly ownSaltLo: number;
  private readonly ownSaltHi: number;

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
    const view = Buffer.from(this.salt.buffer, this.salt.byteOffset, saltBytes);
    this.ownSaltLo = view.readUInt32LE(0);
    this.ownSaltHi = view.readUInt32LE(4);
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
    if (header.saltLo === this.ownSaltLo && header.saltHi === this.ownSaltHi) return this.drop('replay'); // a reflection of my own
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
