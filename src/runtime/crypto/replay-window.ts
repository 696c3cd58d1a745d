/**
 * The receive state of AEAD: per sender salt, which counters were accepted.
 *
 * A receiver keeps each sender salt's replay window (and, in AesGcmCipher,
 * its derived key) in a bounded LRU, `SaltCache` (`saltsMax`, default 64). A
 * salt enters the cache only after a datagram under it authenticated: forged
 * datagrams with random salts cost one HKDF each (~10 µs) but can neither
 * evict a genuine sender's entry nor grow the cache. The replay window
 * (`replayWindowCounters` = 1024 counters, a bitmap) accepts each counter
 * once, out of order within the window; a counter more than 1023 behind the
 * highest accepted one is 'too-old'. The window moves only for authenticated
 * datagrams. Limitation: a salt evicted from the cache (more live senders
 * than `saltsMax`) comes back with an empty window, so replay protection for
 * it restarts; size `saltsMax` well above the number of processors (the
 * runtime should pass 2 × members).
 *
 * Totem itself re-sends identical messages (retransmissions), but each re-send
 * is sealed again under a new counter, so rejecting a repeated *datagram* never
 * loses a retransmission.
 */
import { CryptoError } from '../../errors.ts';
import { replayWindowCounters, saltsMaxLimit } from '../../limits.ts';

/** Sender salts a receiver caches when the options do not say (AesGcmCipherOptions.saltsMax). */
export const saltsMaxDefault = 64;

const u32Range = 2 ** 32;

/** Throws ERR_EVS_CRYPTO_BAD_OPTION unless `saltsMax` is an integer 1..saltsMaxLimit. */
export function checkSaltsMax(saltsMax: number): void {
  if (!Number.isInteger(saltsMax) || saltsMax < 1 || saltsMax > saltsMaxLimit) {
    throw new CryptoError('ERR_EVS_CRYPTO_BAD_OPTION', `saltsMax must be an integer 1..${saltsMaxLimit}, got ${saltsMax}`);
  }
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
