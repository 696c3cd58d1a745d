/**
 * Where a token rotation's time goes, measured on the token's path only.
 *
 * The network side and the protocol side stamp the token's way through the
 * node into a few shared Float64 slots (`TokenStamps`); at the next token
 * receipt the protocol driver turns the previous visit's stamps into stage
 * times (`TokenTiming`): the token has gone round, so the network side's send
 * stamps of that visit are final. At most one token is in flight per ring, so
 * one set of slots is enough; a visit whose stamps are out of order (a token
 * re-sent by the retransmit timer, a ring change) is not counted.
 *
 * Stamps are milliseconds on one monotonic clock for every thread of the
 * process (performance.now() moved onto process.hrtime's base once per
 * thread), so stamps from two workers subtract. Nothing is allocated per
 * token: the histograms are fixed arrays.
 */
import { performance } from 'node:perf_hooks';

/** the stamp slots (Float64 each). */
const S = {
  /** network: the token's datagram came out of the socket (receive callback). */
  rxSocket: 0,
  /** network: reassembled and opened, handed to the rx ring / protocol driver. */
  rxOpened: 1,
  /** network: the tx ring drain that held the token began (single layout: = txToken). */
  txDrain: 2,
  /** network: the token's own record reached (the visit's MCASTs before it sent). */
  txToken: 3,
  /** network: the token sealed. */
  txSealed: 4,
  /** network: the token's packet handed to the socket (dgram.send returned). */
  txSent: 5,
} as const;
const slotCount = 6;

/** bytes of shared memory the stamps need. */
export const tokenStampsBytes = slotCount * Float64Array.BYTES_PER_ELEMENT;

/**
 * ms on the process-wide monotonic clock (CLOCK_MONOTONIC), comparable between
 * threads. performance.now() counts from each thread's start; an offset to it
 * taken once per thread (hrtime minus performance.now()) was off by however
 * long the thread was descheduled between the two reads, and on a loaded
 * machine one worker's stamps then came out before the other's for every
 * visit (no rotation passed the order check of `#closeVisit`).
 */
export function stampNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Totem's type byte (wire/header.ts: magic u16, version u8, type u8); 0 = ORF token. */
export function isTokenDatagram(plain: Uint8Array): boolean {
  return plain.length > 3 && plain[3] === 0 && plain[0] === 0x45 && plain[1] === 0x54;
}

/** the stamps of the token's way through this node, shared between the two drivers. */
export class TokenStamps {
  readonly #slots: Float64Array;

  constructor(sab: SharedArrayBuffer | ArrayBuffer) {
    this.#slots = new Float64Array(sab, 0, slotCount);
  }

  /** network side, receive path: a token datagram was opened; `socketMs` is when its packet arrived. */
  received(socketMs: number): void {
    this.#slots[S.rxSocket] = socketMs;
    this.#slots[S.rxOpened] = stampNow();
  }

  /** network side: the token is about to be sealed; `drainMs` is when the drain that reached it began. */
  sending(drainMs: number): void {
    this.#slots[S.txDrain] = drainMs;
    this.#slots[S.txToken] = stampNow();
  }

  sealed(): void {
    this.#slots[S.txSealed] = stampNow();
  }

  sent(): void {
    this.#slots[S.txSent] = stampNow();
  }

  get(slot: number): number {
    return this.#slots[slot]!;
  }
}

/** histogram buckets: bucket i counts times below 2^i µs (the last: the rest). 2^20 µs ≈ 1 s. */
const bucketCount = 22;

/** sum, count, max and a log2 histogram of one stage, in µs. */
export interface StageStats {
  readonly count: number;
  readonly sumUs: number;
  readonly maxUs: number;
  /** bucket i: samples below 2^i µs and at least 2^(i-1) µs (bucket 0: below 1 µs). */
  readonly buckets: readonly number[];
}

class Stage {
  count = 0;
  sumUs = 0;
  maxUs = 0;
  readonly buckets = new Uint32Array(bucketCount);

  add(us: number): void {
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
    const b = us < 1 ? 0 : Math.min(bucketCount - 1, Math.floor(Math.log2(us)) + 1);
    this.buckets[b]!++;
  }

  snapshot(): StageStats {
    return { count: this.count, sumUs: this.sumUs, maxUs: this.maxUs, buckets: Array.from(this.buckets) };
  }
}

export const tokenStages = ['rotation', 'hold', 'rxOpen', 'rxRing', 'protocol', 'txRing', 'txMcasts', 'seal', 'send'] as const;
export type TokenStage = (typeof tokenStages)[number];

/**
 * The token path's times at this node. `rotation`: token receipt to the next
 * receipt; `hold`: receipt (socket) to the token's send; the rest split the
 * hold: `rxOpen` reassembly + AEAD open, `rxRing` the rx ring and the
 * protocol loop's wake-up (and any datagrams queued before the token),
 * `protocol` the core's step up to the token's encode (the visit's MCASTs
 * encoded first), `txRing` the tx ring and the network loop's wake-up,
 * `txMcasts` sealing and sending the visit's MCASTs queued before the token,
 * `seal` and `send` the token's own.
 */
export type TokenTimingStats = { readonly rotations: number } & { readonly [K in TokenStage]: StageStats };

export class TokenTiming {
  readonly #stamps: TokenStamps;
  readonly #stages = new Map<TokenStage, Stage>(tokenStages.map((s) => [s, new Stage()]));
  readonly #rotation: Stage;
  readonly #hold: Stage;
  readonly #rxOpen: Stage;
  readonly #rxRing: Stage;
  readonly #protocol: Stage;
  readonly #txRing: Stage;
  readonly #txMcasts: Stage;
  readonly #seal: Stage;
  readonly #send: Stage;
  /** the previous visit: its socket receipt and when the protocol sent the token on (0: none to close). */
  #prevSocket = 0;
  #prevOut = 0;
  #in = 0;
  #out = 0;
  #rotations = 0;

  constructor(stamps: TokenStamps) {
    this.#stamps = stamps;
    const s = (k: TokenStage): Stage => this.#stages.get(k)!;
    this.#rotation = s('rotation'); this.#hold = s('hold'); this.#rxOpen = s('rxOpen'); this.#rxRing = s('rxRing');
    this.#protocol = s('protocol'); this.#txRing = s('txRing'); this.#txMcasts = s('txMcasts'); this.#seal = s('seal'); this.#send = s('send');
  }

  /** the protocol driver took a token in (before the core sees it). */
  tokenIn(): void {
    const st = this.#stamps;
    const socket = st.get(S.rxSocket);
    const now = stampNow();
    this.#in = now;
    this.#out = 0;
    if (!(socket > 0) || socket > now) return;
    if (this.#prevOut > 0) this.#closeVisit(socket);
    this.#rxOpen.add((st.get(S.rxOpened) - socket) * 1e3);
    this.#rxRing.add((now - st.get(S.rxOpened)) * 1e3);
    this.#prevSocket = socket;
  }

  /** the protocol driver hands the token it received last to the link. */
  tokenOut(): void {
    if (this.#in === 0 || this.#out !== 0) return; // a token the retransmit timer re-sends is not a visit
    this.#out = stampNow();
    this.#protocol.add((this.#out - this.#in) * 1e3);
    this.#prevOut = this.#out;
  }

  #closeVisit(socketNow: number): void {
    const st = this.#stamps;
    const prevSocket = this.#prevSocket;
    const out = this.#prevOut;
    const drain = st.get(S.txDrain); const token = st.get(S.txToken); const sealed = st.get(S.txSealed); const sent = st.get(S.txSent);
    this.#prevOut = 0;
    // the send stamps must belong to that visit: after its protocol step, before this receipt
    // (the network loop may have been draining already when the token was written: its drain began earlier)
    if (!(token >= out && token >= drain && sealed >= token && sent >= sealed && sent <= socketNow)) return;
    const woke = Math.max(drain, out);
    this.#rotations++;
    this.#rotation.add((socketNow - prevSocket) * 1e3);
    this.#hold.add((sent - prevSocket) * 1e3);
    this.#txRing.add((woke - out) * 1e3);
    this.#txMcasts.add((token - woke) * 1e3);
    this.#seal.add((sealed - token) * 1e3);
    this.#send.add((sent - sealed) * 1e3);
  }

  stats(): TokenTimingStats {
    const out: Record<string, unknown> = { rotations: this.#rotations };
    for (const [k, s] of this.#stages) out[k] = s.snapshot();
    return out as TokenTimingStats;
  }
}
