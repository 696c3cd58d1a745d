/**
 * The network driver: UDP sockets, AEAD and frames over packets. Every frame
 * (a Totem datagram, up to `frameBytesMax`) the protocol driver sends is
 * sealed here and cut into packets of at most `netmtu` bytes (one when it
 * fits: unchanged, no header); received packets are reassembled into frames
 * (packets/) and every frame is opened here. A frame that does not
 * authenticate (forged, corrupted, truncated, wrong key, replayed) is dropped
 * and counted by reason and never reaches the core; a packet that does not
 * fit its frame is dropped and counted by the reassembler.
 *
 * AEAD is per frame, not per packet (bench/frames.bench.ts: per packet cost
 * 3.7× as much at 10 KB and 5.2× at 64 KiB at netmtu 1500, AES-GCM's fixed
 * cost per call times 7 or 45 packets). The price: a forged packet is only
 * found out once its frame is complete, so until then it holds reassembly
 * memory, which is bounded (bytes, frames per sender, senders) and expires.
 *
 * AEAD runs inline (`cryptoThreads: 0`) or in a piscina pool in batches: the
 * sends of one Ready are one batch, the datagrams received in one event-loop
 * turn another. Batches are sealed/opened in parallel but sent/handed on in
 * their original order (the token must not overtake the pre-token messages
 * of its visit). A batch ends at each token too, so that with the
 * Accelerated Ring "retransmissions + pre-token messages + token" are sent
 * while the held-back messages after it are still being sealed.
 */
import { EvsError } from '../../errors.ts';
import type { ResolvedOptions } from '../../options.ts';
import { AesGcmCipher, NullCipher } from '../crypto/ciphers.ts';
import { isOpenFailure, type BatchCipher, type CryptoStats, type DatagramCipher, type OpenFailure } from '../crypto/datagram-cipher.ts';
import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';
import { MessageType } from '../../wire/messages.ts';
import { isPacket } from './packets/packet-header.ts';
import { datagramBytes, Packetizer, type PacketizerStats } from './packets/packetizer.ts';
import { gsoSegmentsMax, udpPayloadBytesMax } from './native-gso.ts';
import { Reassembler, type ReassemblyStats } from './packets/reassembler.ts';
import { isTokenDatagram, stampNow, type TokenStamps } from '../protocol/token-timing.ts';
import { UdpTransport, type Datagram, type TransportStats } from './udp-transport.ts';

/** the type byte of the wire header (wire/header.ts: magic u16, version u8, type u8). */
const tokenTypeOffset = 3;

export interface NetworkDriverStats {
  readonly transport: TransportStats;
  /** 'on': a split frame's packets leave in runs with one sendmmsg() (UDP GSO); else why not (options.udpGso, native-gso.ts). */
  readonly udpGso: string;
  readonly crypto: CryptoStats;
  readonly cryptoThreads: number;
  /** datagrams dropped because the protocol driver's rx ring was full. */
  readonly rxRingFull: number;
  /** datagrams this node addressed to itself (a ring of one passes its token to itself): handed back in the process, never on the wire. */
  readonly selfDatagrams: number;
  /** frames cut into packets (sent). */
  readonly packetsOut: PacketizerStats;
  /** packets put together into frames (received), drops by reason. */
  readonly packetsIn: ReassemblyStats;
}

/**
 * Reassembly bounds. Totem has one token holder sending at a time, so a
 * sender rarely has more than one or two frames unfinished; 4 MiB holds 64
 * frames of 64 KiB. A frame not complete within a token retransmit period is
 * not worth waiting for (Totem asks for it again by then).
 */
export const reassemblyBytesMax = 4 * 1024 * 1024;
export const reassemblyFramesPerSenderMax = 8;

/** (plaintext the receiver owns, node id of the source address or 0). */
export type PlainHandler = (plain: Uint8Array, fromNodeId: number) => void;

export interface NetworkDriverParts {
  readonly options: ResolvedOptions;
  /** the cluster key (null with crypto 'none'). */
  readonly key: Uint8Array | null;
  readonly onDatagram: PlainHandler;
  /** AEAD pool when options.threads.cryptoThreads > 0. */
  readonly pool?: BatchCipher | null;
  /** where the token's way through this side is stamped (protocol/token-timing.ts). */
  readonly tokenStamps?: TokenStamps | null;
}

interface OutgoingDatagram {
  readonly to: number;
  readonly plain: Uint8Array;
}

export class NetworkDriver {
  /** counted by the owner of the rx ring (split layout). */
  rxRingFull = 0;
  #selfDatagrams = 0;
  readonly #nodeId: number;
  readonly #transport: UdpTransport;
  readonly #cipher: DatagramCipher;
  readonly #pool: BatchCipher | null;
  readonly #cryptoThreads: number;
  readonly #onDatagram: PlainHandler;
  readonly #packetizer: Packetizer;
  readonly #reassembler: Reassembler;
  readonly #expiry: NodeJS.Timeout;
  /** the inline cipher's open() returns fresh bytes, so a reassembled frame's buffer can be reused at once. */
  readonly #opensCopy: boolean;
  /** destination of the frame being cut into packets (#emit's argument without a closure per frame). */
  #to = 0;
  readonly #emit = (packet: Datagram): void => this.#route(this.#to, packet);
  /** options.udpGso 'auto': a split frame's packets are collected and sent in runs (UdpTransport.sendRun). */
  readonly #runs: boolean;
  readonly #runPackets: Datagram[] = [];
  readonly #collect = (packet: Datagram): void => {
    this.#runPackets.push(packet);
  };
  #outBatch: OutgoingDatagram[] = [];
  #inBatch: Uint8Array[] = [];
  #inFrom: number[] = [];
  /** reassembled frames of #inBatch: recycled once the pool has copied them. */
  #inFrames: Uint8Array[] = [];
  #inScheduled = false;
  #txChain: Promise<void> = Promise.resolve();
  #rxChain: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #stamps: TokenStamps | null;
  /** when the current tx drain began (split layout; 0: the send is its own drain). */
  #drainMs = 0;
  /** receipt stamps of #inBatch (pool). */
  #inAt: number[] = [];

  private constructor(options: ResolvedOptions, transport: UdpTransport, cipher: DatagramCipher, pool: BatchCipher | null, onDatagram: PlainHandler, stamps: TokenStamps | null) {
    this.#stamps = stamps;
    const cryptoThreads = options.threads.cryptoThreads;
    this.#packetizer = new Packetizer(randomInt(1, 0xffffffff), options.netmtu);
    this.#runs = options.udpGso === 'auto';
    this.#nodeId = options.nodeId;
    const reassemblyMs = Math.max(1, Math.ceil(options.totem.tokenRetransmitMs));
    this.#reassembler = new Reassembler({
      bytesMax: reassemblyBytesMax,
      framesPerSenderMax: reassemblyFramesPerSenderMax,
      sendersMax: Math.max(64, 2 * options.members.length),
      reassemblyMs,
    });
    // Frames are expired as packets arrive; this releases them when none do.
    this.#expiry = setInterval(() => this.#reassembler.expire(performance.now()), reassemblyMs).unref();
    this.#opensCopy = pool === null && cipher.kind !== 'none';
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
    driver = new NetworkDriver(options, transport, cipher, pool, parts.onDatagram, parts.tokenStamps ?? null);
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
   * Seals one frame and sends it to `to` (0 = every member) as one or more
   * packets. `plain` is only read during the call (inline) or copied (pool).
   */
  send(to: number, plain: Uint8Array): void {
    if (this.#closed) return;
    if (to === this.#nodeId) {
      // Never sealed nor sent: a datagram under this node's own salt is refused on receipt (a reflected
      // copy of one it sent elsewhere would otherwise be accepted once), so its own token comes back here,
      // on a later turn like one from the socket.
      this.#selfDatagrams++;
      const copy = plain.slice();
      setImmediate(() => {
        if (!this.#closed) this.#onDatagram(copy, to);
      });
      return;
    }
    const token = this.#stamps !== null && isTokenDatagram(plain);
    if (token) this.#stamps!.sending(this.#drainMs === 0 ? stampNow() : this.#drainMs);
    if (this.#pool !== null) {
      this.#outBatch.push({ to, plain: plain.slice() });
      if (plain[tokenTypeOffset] === MessageType.OrfToken) this.endBatch();
      return;
    }
    const sealed = this.#cipher.sealParts(plain);
    if (token) this.#stamps!.sealed();
    this.#sendFrame(to, sealed);
    if (token) this.#stamps!.sent();
  }

  /** split layout: a drain of the tx ring begins (the token's stamps count from here). */
  beginDrain(): void {
    if (this.#stamps !== null) this.#drainMs = stampNow();
  }

  /** end of a batch of sends (one Ready): hands the batch to the pool. Inline: nothing to do. */
  endBatch(): void {
    const pool = this.#pool;
    if (pool === null || this.#outBatch.length === 0) return;
    const batch = this.#outBatch;
    this.#outBatch = [];
    const sealing = pool.seal(batch.map((d) => d.plain));
    this.#txChain = Promise.all([this.#txChain, sealing]).then(([, sealed]) => {
      for (let i = 0; i < batch.length; i++) {
        const token = this.#stamps !== null && isTokenDatagram(batch[i]!.plain);
        if (token) this.#stamps!.sealed();
        this.#sendFrame(batch[i]!.to, sealed[i]!);
        if (token) this.#stamps!.sent();
      }
    }, (error: unknown) => {
      this.#transport.stats.txErrors += batch.length;
      throw error;
    });
  }

  stats(): NetworkDriverStats {
    const crypto = this.#pool?.stats() ?? this.#cipher.stats;
    return {
      transport: { ...this.#transport.stats },
      udpGso: this.#transport.gsoStatus,
      crypto: { ...crypto, dropped: { ...crypto.dropped } },
      cryptoThreads: this.#cryptoThreads,
      rxRingFull: this.rxRingFull,
      selfDatagrams: this.#selfDatagrams,
      packetsOut: { ...this.#packetizer.stats },
      packetsIn: structuredClone(this.#reassembler.stats),
    };
  }

  /** waits for pooled batches in flight, then closes the sockets (after their pending sends) and the pool. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.endBatch();
    await this.#txChain.catch(() => undefined);
    this.#closed = true;
    clearInterval(this.#expiry);
    await this.#transport.close();
    await this.#rxChain.catch(() => undefined);
    await this.#pool?.close();
  }

  private receive(datagram: Uint8Array, from: number): void {
    if (this.#closed) return;
    const at = this.#stamps === null ? 0 : stampNow();
    let frame = datagram;
    if (isPacket(datagram)) {
      const whole = this.#reassembler.accept(datagram, from, performance.now());
      if (whole === null) return;
      frame = whole;
    }
    if (this.#pool === null) {
      const plain = this.#cipher.open(frame);
      if (frame !== datagram && this.#opensCopy) this.#reassembler.recycle(frame);
      if (isOpenFailure(plain)) return;
      if (at > 0 && isTokenDatagram(plain)) this.#stamps!.received(at);
      this.#onDatagram(plain, from);
      return;
    }
    if (frame !== datagram) this.#inFrames.push(frame);
    this.#inBatch.push(frame);
    this.#inFrom.push(from);
    this.#inAt.push(at);
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
    const at = this.#inAt;
    this.#inBatch = [];
    this.#inFrom = [];
    this.#inAt = [];
    const opening = pool.open(batch);
    // open() copied the batch into its task buffer before returning
    for (const frame of this.#inFrames) this.#reassembler.recycle(frame);
    this.#inFrames = [];
    this.#rxChain = Promise.all([this.#rxChain, opening]).then(([, plains]) => {
      if (this.#closed) return;
      for (let i = 0; i < plains.length; i++) {
        const plain = plains[i]!;
        if (isOpenFailure(plain)) continue;
        if (at[i]! > 0 && isTokenDatagram(plain)) this.#stamps!.received(at[i]!);
        this.#onDatagram(plain, from[i]!);
      }
    });
  }

  /** a sealed frame to `to` (0: every member): as one packet, packet by packet, or in runs of packets. */
  #sendFrame(to: number, sealed: Datagram): void {
    this.#to = to;
    if (!this.#runs) {
      this.#packetizer.split(sealed, this.#emit);
      return;
    }
    const packets = this.#runPackets;
    packets.length = 0;
    const count = this.#packetizer.split(sealed, this.#collect);
    if (count === 1) {
      this.#route(to, packets[0]!);
      return;
    }
    // every packet but the last has the first one's size; a run is one UDP payload at most
    const segmentBytes = datagramBytes(packets[0]!);
    const perRun = Math.min(gsoSegmentsMax, Math.floor(udpPayloadBytesMax / segmentBytes));
    for (let i = 0; i < count; i += perRun) this.#transport.sendRun(to, packets.slice(i, i + perRun), segmentBytes);
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
