/**
 * The network driver: UDP sockets and AEAD. Every datagram the protocol
 * driver sends is sealed here and every received one is opened here; a
 * datagram that does not authenticate (forged, corrupted, truncated, wrong
 * key, replayed) is dropped and counted by reason and never reaches the core.
 *
 * AEAD runs inline (`cryptoThreads: 0`) or in a piscina pool in batches: the
 * sends of one Ready are one batch, the datagrams received in one event-loop
 * turn another. Batches are sealed/opened in parallel but sent/handed on in
 * their original order (the token must not overtake the messages of its visit).
 */
import { EvsError } from '../../errors.ts';
import type { ResolvedOptions } from '../../options.ts';
import { AesGcmCipher, NullCipher } from '../crypto/ciphers.ts';
import { isOpenFailure, type BatchCipher, type CryptoStats, type DatagramCipher, type OpenFailure } from '../crypto/datagram-cipher.ts';
import { UdpTransport, type Datagram, type TransportStats } from './udp-transport.ts';

export interface NetworkDriverStats {
  readonly transport: TransportStats;
  readonly crypto: CryptoStats;
  readonly cryptoThreads: number;
  /** datagrams dropped because the protocol driver's rx ring was full. */
  readonly rxRingFull: number;
}

/** (plaintext the receiver owns, node id of the source address or 0). */
export type PlainHandler = (plain: Uint8Array, fromNodeId: number) => void;

export interface NetworkDriverParts {
  readonly options: ResolvedOptions;
  /** the cluster key (null with crypto 'none'). */
  readonly key: Uint8Array | null;
  readonly onDatagram: PlainHandler;
  /** AEAD pool when options.threads.cryptoThreads > 0. */
  readonly pool?: BatchCipher | null;
}

interface OutgoingDatagram {
  readonly to: number;
  readonly plain: Uint8Array;
}

export class NetworkDriver {
  /** counted by the owner of the rx ring (split layout). */
  rxRingFull = 0;
  readonly #transport: UdpTransport;
  readonly #cipher: DatagramCipher;
  readonly #pool: BatchCipher | null;
  readonly #cryptoThreads: number;
  readonly #onDatagram: PlainHandler;
  #outBatch: OutgoingDatagram[] = [];
  #inBatch: Uint8Array[] = [];
  #inFrom: number[] = [];
  #inScheduled = false;
  #txChain: Promise<void> = Promise.resolve();
  #rxChain: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(transport: UdpTransport, cipher: DatagramCipher, pool: BatchCipher | null, cryptoThreads: number, onDatagram: PlainHandler) {
    this.#transport = transport;
    this.#cryptoThreads = pool === null ? 0 : cryptoThreads;
    this.#cipher = cipher;
    this.#pool = pool;
    this.#onDatagram = onDatagram;
  }

  static async open(parts: NetworkDriverParts): Promise<NetworkDriver> {
    const { options } = parts;
    let cipher: DatagramCipher;
    if (options.crypto === 'none') cipher = new NullCipher();
    else if (parts.key === null) throw new Error('NetworkDriver: crypto is on and no cluster key was given');
    else cipher = new AesGcmCipher(parts.key);
    const pool = options.crypto === 'none' ? null : parts.pool ?? null;
    let driver: NetworkDriver | null = null;
    let transport: UdpTransport;
    try {
      transport = await UdpTransport.open(options, (datagram, from) => driver?.receive(datagram, from));
    } catch (error) {
      await pool?.close(); // no threads left behind when the port is taken
      throw bindError(error, options);
    }
    driver = new NetworkDriver(transport, cipher, pool, options.threads.cryptoThreads, parts.onDatagram);
    return driver;
  }

  get overheadBytes(): number {
    return this.#cipher.overheadBytes;
  }

  /** where the socket is bound (tests send raw datagrams there). */
  address(): { address: string; port: number } {
    return this.#transport.address();
  }

  /**
   * Seals and sends one datagram to `to` (0 = every member). `plain` is only
   * read during the call (inline) or copied (pool).
   */
  send(to: number, plain: Uint8Array): void {
    if (this.#closed) return;
    if (this.#pool !== null) {
      this.#outBatch.push({ to, plain: plain.slice() });
      return;
    }
    this.#route(to, this.#cipher.sealParts(plain));
  }

  /** end of a batch of sends (one Ready): hands the batch to the pool. Inline: nothing to do. */
  endBatch(): void {
    const pool = this.#pool;
    if (pool === null || this.#outBatch.length === 0) return;
    const batch = this.#outBatch;
    this.#outBatch = [];
    const sealing = pool.seal(batch.map((d) => d.plain));
    this.#txChain = Promise.all([this.#txChain, sealing]).then(([, sealed]) => {
      for (let i = 0; i < batch.length; i++) this.#route(batch[i]!.to, sealed[i]!);
    }, (error: unknown) => {
      this.#transport.stats.txErrors += batch.length;
      throw error;
    });
  }

  stats(): NetworkDriverStats {
    const crypto = this.#pool?.stats() ?? this.#cipher.stats;
    return {
      transport: { ...this.#transport.stats },
      crypto: { ...crypto, dropped: { ...crypto.dropped } },
      cryptoThreads: this.#cryptoThreads,
      rxRingFull: this.rxRingFull,
    };
  }

  /** waits for pooled batches in flight, then closes the sockets (after their pending sends) and the pool. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.endBatch();
    await this.#txChain.catch(() => undefined);
    this.#closed = true;
    await this.#transport.close();
    await this.#rxChain.catch(() => undefined);
    await this.#pool?.close();
  }

  private receive(datagram: Uint8Array, from: number): void {
    if (this.#closed) return;
    if (this.#pool === null) {
      const plain = this.#cipher.open(datagram);
      if (!isOpenFailure(plain)) this.#onDatagram(plain, from);
      return;
    }
    this.#inBatch.push(datagram);
    this.#inFrom.push(from);
    if (!this.#inScheduled) {
      this.#inScheduled = true;
      setImmediate(() => this.#openBatch());
    }
  }

  #openBatch(): void {
    this.#inScheduled = false;
    const pool = this.#pool;
    // Closed since the datagrams came in (same turn): the pool may be closed too and would refuse the batch.
    if (pool === null || this.#closed || this.#inBatch.length === 0) return;
    const batch = this.#inBatch;
    const from = this.#inFrom;
    this.#inBatch = [];
    this.#inFrom = [];
    const opening = pool.open(batch);
    this.#rxChain = Promise.all([this.#rxChain, opening]).then(([, plains]) => {
      if (this.#closed) return;
      for (let i = 0; i < plains.length; i++) {
        const plain = plains[i]!;
        if (!isOpenFailure(plain)) this.#onDatagram(plain, from[i]!);
      }
    });
  }

  #route(to: number, sealed: Datagram): void {
    if (to === 0) this.#transport.multicast(sealed);
    else this.#transport.sendTo(to, sealed);
  }
}


/** socket errors at start, as errors that say which option to fix. */
function bindError(error: unknown, options: ResolvedOptions): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const where = `${options.bindAddr}:${options.port}`;
  if (code === 'EADDRINUSE') return new EvsError('ERR_EVS_BIND', `cannot bind ${where}: the address is in use (options.bindAddr / options.port)`, { cause: error });
  if (code === 'EADDRNOTAVAIL') return new EvsError('ERR_EVS_BIND', `cannot bind ${where}: no local interface has that address (options.bindAddr)`, { cause: error });
  if (code === 'EACCES') return new EvsError('ERR_EVS_BIND', `cannot bind ${where}: permission denied (options.port)`, { cause: error });
  return error;
}
