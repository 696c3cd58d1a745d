/**
 * `threads.cryptoThreads > 0`: the AES-256-GCM work of whole batches runs in
 * a piscina pool, while the state that must be sequential stays on the
 * owner's thread. Datagrams are byte-for-byte those of AesGcmCipher (same
 * envelope, same HKDF; the code is shared from envelope.ts), so a pooled node
 * and an inline node read each other's datagrams.
 *
 * ## Measured (bench/crypto.bench.ts, one run: `npx tsx bench/crypto.bench.ts`)
 *
 * Node 20.20.2, 2 cores, a shared and noisy machine (other builds ran at the
 * same time): trust the ratios, not single numbers. 100 batches of 64
 * datagrams per run, all in flight at once, sealed then opened by the same
 * cipher/pool; µs per datagram, median of 5 runs (min–max):
 *
 * | cipher                | batch       | seal + open         | seal             | open             |
 * |-----------------------|------------:|--------------------:|-----------------:|-----------------:|
 * | inline AesGcmCipher   | 64 × 100 B  | 9.57 (6.42–11.23)   | 3.63 (3.27–7.58) | 3.64 (3.15–5.93) |
 * | inline AesGcmCipher   | 64 × 1400 B | 11.86 (11.36–13.67) | 7.14 (6.21–9.60) | 4.75 (4.07–5.55) |
 * | CryptoPool, 1 thread  | 64 × 100 B  | 12.56 (10.29–13.83) | 6.38 (5.18–6.67) | 6.18 (5.11–7.72) |
 * | CryptoPool, 1 thread  | 64 × 1400 B | 13.77 (13.75–14.34) | 6.54 (5.87–7.60) | 7.52 (6.35–7.89) |
 * | CryptoPool, 2 threads | 64 × 100 B  | 8.57 (6.80–10.01)   | 5.01 (3.71–6.37) | 3.56 (3.02–3.89) |
 * | CryptoPool, 2 threads | 64 × 1400 B | 10.19 (9.38–12.79)  | 5.34 (4.09–5.78) | 6.04 (4.04–7.12) |
 *
 * (seal + open is the median of each run's sum, not the sum of the medians.)
 * One thread is slower than inline (the copy into the batch buffer, the
 * transfers and the task hand-off come on top of the same AES work); two
 * threads gain 10–15 % in throughput on this 2-core machine, where the owner
 * thread competes with both. What the pool buys first is taking the AES work
 * off the network thread, so use cryptoThreads >= 2 on machines with cores
 * to spare and 0 (inline) otherwise.
 *
 * ## Split of the work
 *
 * Owner thread (this class):
 * * the sending identity: one random salt per pool and the counter. seal()
 *   takes its counters synchronously when called, so batches sealed
 *   concurrently on different threads never share a nonce.
 * * the receive state: a SaltCache of replay windows (no keys). open() reads
 *   the envelopes when called ('short' and 'bad-header' need no thread;
 *   counters that are already replays or too old are not decrypted), and when
 *   the thread's answer is back it applies the batch in call order, exactly as
 *   AesGcmCipher.open would one by one: replay/too-old are checked against the
 *   window as it is by then (so a duplicate later in the same batch, or in a
 *   batch opened later, is a 'replay'), a salt enters the cache only once a
 *   datagram under it authenticated, and the window moves only for
 *   authenticated datagrams.
 *
 * Pool threads (crypto-batch.ts): derive and cache keys from the cluster key
 * and seal or authenticate a batch per task, in place in one transferred
 * ArrayBuffer.
 *
 * Differences from AesGcmCipher: keys are cached per thread, so
 * `keysDerived` counts each salt once per thread that met it. A counter found
 * already seen when open() was called is refused even if its salt left the
 * cache before the batch was applied (AesGcmCipher would then start the salt
 * over and accept it: this is stricter). The plaintexts of one open() are
 * views into one buffer per batch. A pool thread that dies makes its batch's
 * promise reject (no datagram of it is counted); piscina starts a replacement.
 */
import { randomFillSync } from 'node:crypto';
import { Piscina } from 'piscina';
import { CryptoError } from '../../errors.ts';
import type { AesGcmCipherOptions } from './ciphers.ts';
import { type CryptoTask, type CryptoTaskData, type CryptoTaskResult, openOk } from './crypto-batch.ts';
import { type BatchCipher, createCryptoStats, type CryptoStats, type OpenFailure } from './datagram-cipher.ts';
import { aesGcmOverheadBytes, authTagBytes, checkClusterKeySize, checkCounters, createEnvelopeHeader, envelopeHeaderBytes, readEnvelope, saltBytes } from './envelope.ts';
import { checkSaltsMax, ReplayWindow, SaltCache, saltsMaxDefault } from './replay-window.ts';

/**
 * How a pool thread starts: the module piscina loads (workers/crypto-task.ts,
 * or its built .js) and the flags it needs. The worker layer resolves it
 * (cryptoTaskEntry, src/runtime/workers/crypto-task-entry.ts): only it knows
 * where the entry lives and whether the code runs from sources.
 */
export interface PoolThreadEntry {
  /** absolute path of the task module. */
  readonly filename: string;
  /** flags of the pool threads; absent: the parent's, as piscina does by default. */
  readonly execArgv?: readonly string[];
}

export type CryptoPoolOptions = AesGcmCipherOptions;

/** open()'s verdict for a datagram that was fresh when open() was called: the thread's answer decides. */
const pendingFresh = 0;

export class CryptoPool implements BatchCipher {
  readonly overheadBytes = aesGcmOverheadBytes;
  /** This pool's sending salt, hex (for logs and tests). */
  readonly saltHex: string;
  readonly threadCount: number;

  readonly #piscina: Piscina<CryptoTask, CryptoTaskResult>;
  readonly #salt = new Uint8Array(saltBytes);
  /** #salt as the envelope header reads it (two little-endian u32). */
  readonly #ownSaltLo: number;
  readonly #ownSaltHi: number;
  #counterNext = 0;
  readonly #windows: SaltCache<ReplayWindow>;
  readonly #stats = createCryptoStats();
  readonly #header = createEnvelopeHeader();
  /** settles once the last open() called so far has applied its batch: open() applies in call order. */
  #openTail: Promise<void> = Promise.resolve();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | null = null;
  #workerErrorCount = 0;

  private constructor(piscina: Piscina<CryptoTask, CryptoTaskResult>, threadCount: number, saltsMax: number) {
    this.#piscina = piscina;
    this.threadCount = threadCount;
    this.#windows = new SaltCache(saltsMax);
    randomFillSync(this.#salt);
    this.saltHex = Buffer.from(this.#salt).toString('hex');
    const view = Buffer.from(this.#salt.buffer, this.#salt.byteOffset, saltBytes);
    this.#ownSaltLo = view.readUInt32LE(0);
    this.#ownSaltHi = view.readUInt32LE(4);
    // A thread error with no task in flight (piscina then replaces the thread)
    // is emitted as 'error'; unheard, EventEmitter would throw it and end the
    // process. Errors during a task reject that task's promise instead.
    piscina.on('error', () => {
      this.#workerErrorCount++;
    });
  }

  /**
   * Starts `threads` pool threads and waits for one ping per thread, so that a
   * task module that fails to load fails here, not on the first batch (piscina
   * may hand two pings to the same thread). `clusterKey`: 32..4096 bytes,
   * copied to each thread. `entry`: the task module (cryptoTaskEntry()).
   */
  static async create(clusterKey: Uint8Array, threads: number, entry: PoolThreadEntry, options: CryptoPoolOptions = {}): Promise<CryptoPool> {
    checkClusterKeySize(clusterKey.length, 'the cluster key');
    if (!Number.isInteger(threads) || threads < 1) {
      throw new CryptoError('ERR_EVS_CRYPTO_BAD_OPTION', `a crypto pool needs an integer number of threads >= 1, got ${threads}`);
    }
    const saltsMax = options.saltsMax ?? saltsMaxDefault;
    checkSaltsMax(saltsMax);
    const workerData: CryptoTaskData = { clusterKey: Uint8Array.from(clusterKey), saltsMax };
    const piscina = new Piscina<CryptoTask, CryptoTaskResult>({
      filename: entry.filename,
      minThreads: threads,
      maxThreads: threads,
      workerData,
      ...(entry.execArgv === undefined ? {} : { execArgv: [...entry.execArgv] }),
    });
    const pool = new CryptoPool(piscina, threads, saltsMax);
    try {
      await Promise.all(Array.from({ length: threads }, () => pool.#run({ op: 'ping' }, [])));
    } catch (error) {
      await piscina.destroy();
      throw error;
    }
    return pool;
  }

  /** pool threads alive now (0 after close()). */
  get liveThreadCount(): number {
    return this.#piscina.threads.length;
  }

  /** thread errors that happened with no task in flight (piscina replaced the thread). */
  get workerErrorCount(): number {
    return this.#workerErrorCount;
  }

  /**
   * Sealed copies of `plains`, in order, each a view into one buffer per batch.
   * Counters are taken when called. Rejects with ERR_EVS_CRYPTO_COUNTER_EXHAUSTED
   * when the salt's counters run out, or if the pool is closed or a thread failed.
   */
  seal(plains: readonly Uint8Array[]): Promise<Uint8Array[]> {
    try {
      this.#checkOpen();
      const count = plains.length;
      if (count === 0) return Promise.resolve([]);
      checkCounters(this.#counterNext, count, this.saltHex);
      const counterFirst = this.#counterNext;
      this.#counterNext += count;
      const plainLengths = new Uint32Array(count);
      let batchBytes = 0;
      for (let i = 0; i < count; i++) {
        plainLengths[i] = plains[i]!.length;
        batchBytes += plains[i]!.length + aesGcmOverheadBytes;
      }
      const buffer = new ArrayBuffer(batchBytes);
      const bytes = new Uint8Array(buffer);
      let slot = 0;
      for (const plain of plains) {
        bytes.set(plain, slot + envelopeHeaderBytes);
        slot += plain.length + aesGcmOverheadBytes;
      }
      const task: CryptoTask = { op: 'seal', salt: this.#salt, counterFirst, plainLengths, buffer };
      return this.#run(task, [buffer]).then((result) => {
        this.#stats.keysDerived += result.keysDerived;
        this.#stats.sealed += count;
        const sealed = new Uint8Array(result.buffer);
        const out: Uint8Array[] = new Array<Uint8Array>(count);
        let offset = 0;
        for (let i = 0; i < count; i++) {
          const sealedBytes = plainLengths[i]! + aesGcmOverheadBytes;
          out[i] = sealed.subarray(offset, offset + sealedBytes);
          offset += sealedBytes;
        }
        return out;
      });
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * The plaintext of each datagram (views into one buffer per batch) or why
   * it was refused, in order. Replay state is applied in call order, after
   * authentication. Refusals are results, never rejections; the promise
   * rejects only if the pool is closed or a thread failed.
   */
  open(sealed: readonly Uint8Array[]): Promise<(Uint8Array | OpenFailure)[]> {
    if (this.#closing !== null) return Promise.reject(closedError());
    const count = sealed.length;
    // Read now, applied later: what is known when called.
    const verdicts: (OpenFailure | typeof pendingFresh)[] = new Array<OpenFailure | typeof pendingFresh>(count);
    const saltLo = new Uint32Array(count);
    const saltHi = new Uint32Array(count);
    const counters = new Float64Array(count);
    const header = this.#header;
    let sentCount = 0;
    let batchBytes = 0;
    for (let i = 0; i < count; i++) {
      const datagram = sealed[i]!;
      const malformed = readEnvelope(datagram, header);
      if (malformed !== null) {
        verdicts[i] = malformed;
        continue;
      }
      saltLo[i] = header.saltLo;
      saltHi[i] = header.saltHi;
      counters[i] = header.counter;
      if (header.saltLo === this.#ownSaltLo && header.saltHi === this.#ownSaltHi) {
        verdicts[i] = 'replay'; // a reflection of a datagram this pool sealed (self-addressed ones are never sealed)
        continue;
      }
      // Not decrypted if already seen; re-checked when applied (the window may have moved on since).
      const seen = this.#windows.peek(header.saltLo, header.saltHi)?.check(header.counter) ?? null;
      verdicts[i] = seen ?? pendingFresh;
      if (seen === null) {
        sentCount++;
        batchBytes += datagram.length;
      }
    }
    let work: Promise<CryptoTaskResult | null> = Promise.resolve(null);
    const sealedLengths = new Uint32Array(sentCount);
    if (sentCount > 0) {
      const buffer = new ArrayBuffer(batchBytes);
      const bytes = new Uint8Array(buffer);
      let j = 0;
      let offset = 0;
      for (let i = 0; i < count; i++) {
        if (verdicts[i] !== pendingFresh) continue;
        bytes.set(sealed[i]!, offset);
        sealedLengths[j++] = sealed[i]!.length;
        offset += sealed[i]!.length;
      }
      work = this.#run({ op: 'open', sealedLengths, buffer }, [buffer]);
    }
    const previous = this.#openTail;
    const applied = work.then(
      async (result) => {
        await previous;
        return this.#apply(verdicts, saltLo, saltHi, counters, sealedLengths, result);
      },
      async (error: unknown) => {
        await previous;
        throw error;
      },
    );
    this.#openTail = applied.then(
      () => undefined,
      () => undefined,
    );
    return applied;
  }

  stats(): CryptoStats {
    return { ...this.#stats, dropped: { ...this.#stats.dropped } };
  }

  /** Refuses new batches, lets the batches in flight finish, then destroys the pool (no thread is left). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#inFlight]);
      await this.#piscina.destroy();
    })();
    return this.#closing;
  }

  /** AesGcmCipher.open's rules, datagram by datagram, on the thread's verdicts. */
  #apply(
    verdicts: readonly (OpenFailure | typeof pendingFresh)[],
    saltLo: Uint32Array,
    saltHi: Uint32Array,
    counters: Float64Array,
    sentLengths: Uint32Array,
    result: CryptoTaskResult | null,
  ): (Uint8Array | OpenFailure)[] {
    const out: (Uint8Array | OpenFailure)[] = new Array<Uint8Array | OpenFailure>(verdicts.length);
    const plains = result === null ? null : new Uint8Array(result.buffer);
    if (result !== null) this.#stats.keysDerived += result.keysDerived;
    let j = 0; // index among the datagrams sent to the thread
    let slot = 0; // their offset in the thread's buffer
    for (let i = 0; i < verdicts.length; i++) {
      const verdict = verdicts[i]!;
      if (verdict === 'short' || verdict === 'bad-header') {
        out[i] = this.#drop(verdict);
        continue;
      }
      const counter = counters[i]!;
      let window = this.#windows.get(saltLo[i]!, saltHi[i]!);
      const seen = window?.check(counter) ?? null;
      if (seen !== null) {
        out[i] = this.#drop(seen);
      } else if (verdict !== pendingFresh) {
        out[i] = this.#drop(verdict); // seen when open() was called; its salt left the cache since
      } else if (result === null || plains === null || result.status[j] !== openOk) {
        out[i] = this.#drop('auth');
      } else {
        if (window === undefined) {
          window = new ReplayWindow();
          if (this.#windows.insert(saltLo[i]!, saltHi[i]!, window)) this.#stats.saltsEvicted++;
        }
        window.accept(counter);
        this.#stats.opened++;
        out[i] = plains.subarray(slot + envelopeHeaderBytes, slot + sentLengths[j]! - authTagBytes);
      }
      if (verdict === pendingFresh) {
        slot += sentLengths[j]!;
        j++;
      }
    }
    return out;
  }

  #drop(failure: OpenFailure): OpenFailure {
    this.#stats.dropped[failure]++;
    return failure;
  }

  #checkOpen(): void {
    if (this.#closing !== null) throw closedError();
  }

  #run(task: CryptoTask, transferList: ArrayBuffer[]): Promise<CryptoTaskResult> {
    const running = this.#piscina.run(task, { transferList });
    this.#inFlight.add(running);
    const forget = (): void => {
      this.#inFlight.delete(running);
    };
    running.then(forget, forget);
    return running;
  }
}

function closedError(): Error {
  return new Error('CryptoPool: closed');
}
