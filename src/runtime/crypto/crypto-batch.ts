/**
 * The AES-GCM work of one batch, as done inside a CryptoPool thread
 * (crypto-pool.ts; the piscina entry is workers/crypto-task.ts). Pure
 * crypto: no counters are chosen and no replay state is kept here. The pool's
 * owner thread assigns the counters and applies the replay windows; a thread
 * only derives and caches keys (from the cluster key it got as workerData)
 * and seals or authenticates the datagrams it is handed.
 *
 * One task carries a whole batch in one ArrayBuffer that is transferred to
 * the thread and back (a no-op task costs 25–60 µs, NODE-NOTES "Crypto", so
 * a task per datagram would cost more than the AES itself):
 *
 * * seal: the buffer holds one sealed-size slot per datagram
 *   (`plainLengths[i] + aesGcmOverheadBytes` bytes), the plaintext already at
 *   `slot + envelopeHeaderBytes`; the thread seals each in place, writing the
 *   envelope (salt, counter `counterFirst + i`) and the tag around it.
 * * open: the buffer holds the received datagrams back to back
 *   (`sealedLengths[i]` bytes each); the thread decrypts each in place, so the
 *   plaintext sits at `slot + envelopeHeaderBytes`, and reports per datagram
 *   whether it authenticated.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { move, Piscina, transferableSymbol, valueSymbol } from 'piscina';
import { aesGcmOverheadBytes, checkClusterKeySize, createEnvelopeHeader, deriveDatagramKey, envelopeHeaderBytes, envelopeSalt, openDatagram, readEnvelope, saltBytes, sealDatagram } from './envelope.ts';
import { checkSaltsMax, SaltCache } from './replay-window.ts';

/** What a pool thread gets as piscina's workerData. */
export interface CryptoTaskData {
  /** a copy of the cluster key. */
  readonly clusterKey: Uint8Array;
  /** receive keys cached per thread (LRU), as AesGcmCipherOptions.saltsMax. */
  readonly saltsMax: number;
}

export interface SealTask {
  readonly op: 'seal';
  /** the owner's sending salt (saltBytes bytes). */
  readonly salt: Uint8Array;
  /** counter of the first datagram; datagram i gets counterFirst + i. */
  readonly counterFirst: number;
  readonly plainLengths: Uint32Array;
  readonly buffer: ArrayBuffer;
}

export interface OpenTask {
  readonly op: 'open';
  /** each datagram passed `readEnvelope` on the owner thread. */
  readonly sealedLengths: Uint32Array;
  readonly buffer: ArrayBuffer;
}

/** Loads the module and the key: CryptoPool.create sends one per thread so a broken entry fails at once. */
export interface PingTask {
  readonly op: 'ping';
}

export type CryptoTask = SealTask | OpenTask | PingTask;

export const openOk = 0;
export const openAuthFailed = 1;

export interface CryptoTaskResult {
  /** the task's buffer, sealed or opened in place (empty for a ping). */
  readonly buffer: ArrayBuffer;
  /** open: openOk or openAuthFailed per datagram; otherwise empty. */
  readonly status: Uint8Array;
  /** HKDF derivations this task did (CryptoStats.keysDerived). */
  readonly keysDerived: number;
}

/** One pool thread's keys: the sending key of the owner's salt and an LRU of receive keys. */
export class BatchCrypto {
  private readonly clusterKey: KeyObject;
  private readonly receiveKeys: SaltCache<KeyObject>;
  private readonly header = createEnvelopeHeader();
  private sendSalt: Uint8Array | null = null;
  private sendKey: KeyObject | null = null;
  private keysDerived = 0;

  constructor(data: CryptoTaskData) {
    checkClusterKeySize(data.clusterKey.length, 'the cluster key');
    checkSaltsMax(data.saltsMax);
    this.clusterKey = createSecretKey(data.clusterKey);
    this.receiveKeys = new SaltCache(data.saltsMax);
  }

  run(task: CryptoTask): CryptoTaskResult {
    this.keysDerived = 0;
    switch (task.op) {
      case 'seal':
        this.seal(task);
        return { buffer: task.buffer, status: new Uint8Array(0), keysDerived: this.keysDerived };
      case 'open':
        return { buffer: task.buffer, status: this.open(task), keysDerived: this.keysDerived };
      case 'ping':
        return { buffer: new ArrayBuffer(0), status: new Uint8Array(0), keysDerived: 0 };
    }
  }

  private seal(task: SealTask): void {
    const key = this.sendKeyOf(task.salt);
    const bytes = new Uint8Array(task.buffer);
    let slot = 0;
    for (let i = 0; i < task.plainLengths.length; i++) {
      const plainBytes = task.plainLengths[i]!;
      const plain = bytes.subarray(slot + envelopeHeaderBytes, slot + envelopeHeaderBytes + plainBytes);
      sealDatagram(key, task.salt, task.counterFirst + i, plain, bytes, slot);
      slot += plainBytes + aesGcmOverheadBytes;
    }
    if (slot !== bytes.length) throw new Error(`crypto task: seal lengths cover ${slot} of ${bytes.length} bytes`);
  }

  private open(task: OpenTask): Uint8Array {
    const bytes = new Uint8Array(task.buffer);
    const status = new Uint8Array(task.sealedLengths.length);
    const header = this.header;
    let slot = 0;
    for (let i = 0; i < task.sealedLengths.length; i++) {
      const sealedBytes = task.sealedLengths[i]!;
      const sealed = bytes.subarray(slot, slot + sealedBytes);
      slot += sealedBytes;
      if (readEnvelope(sealed, header) !== null) {
        status[i] = openAuthFailed; // the owner filtered these out; refuse rather than trust that
        continue;
      }
      let key = this.receiveKeys.get(header.saltLo, header.saltHi);
      const cached = key !== undefined;
      key ??= this.derive(envelopeSalt(sealed));
      const plain = openDatagram(key, header, sealed);
      if (plain === null) {
        status[i] = openAuthFailed;
        continue;
      }
      // Cached only once a datagram under the salt authenticated, as in AesGcmCipher.
      if (!cached) this.receiveKeys.insert(header.saltLo, header.saltHi, key);
      sealed.set(plain, envelopeHeaderBytes);
      status[i] = openOk;
    }
    if (slot !== bytes.length) throw new Error(`crypto task: open lengths cover ${slot} of ${bytes.length} bytes`);
    return status;
  }

  private sendKeyOf(salt: Uint8Array): KeyObject {
    if (salt.length !== saltBytes) throw new Error(`crypto task: a salt of ${salt.length} bytes`);
    const known = this.sendSalt;
    if (this.sendKey !== null && known !== null && Buffer.from(known).equals(salt)) return this.sendKey;
    this.sendSalt = salt.slice();
    this.sendKey = this.derive(salt);
    return this.sendKey;
  }

  private derive(salt: Uint8Array): KeyObject {
    this.keysDerived++;
    return deriveDatagramKey(this.clusterKey, salt);
  }
}

let threadCrypto: BatchCrypto | null = null;

/**
 * The piscina task function (workers/crypto-task.ts re-exports it as its
 * default). The result's buffer is moved back, not copied: Piscina.move
 * transfers only a top-level return value, hence the Transferable wrapper
 * around the whole result.
 */
export function cryptoTask(task: CryptoTask): unknown {
  threadCrypto ??= new BatchCrypto(Piscina.workerData as CryptoTaskData);
  const result = threadCrypto.run(task);
  return move({ [transferableSymbol]: result.buffer, [valueSymbol]: result });
}
