/**
 * A doorbell: how one thread that ran out of work (a ring consumer with nothing
 * to read, or a producer with no room to write) sleeps until the other side
 * has changed something, without a notify per record and without lost wake-ups.
 *
 * Layout: an Int32Array of two slots over a small SharedArrayBuffer.
 *
 *   [0] SEQ   bumped by the ringer (Atomics.add) right before a notify; the
 *             sleeper waits on it (Atomics.wait / Atomics.waitAsync).
 *   [1] WANT  0 = nobody sleeps; > 0 = the sleeper announced it sleeps and
 *             what it waits for (1 for "anything", or a number of free bytes:
 *             see `ring(have)`).
 *
 * One sleeper and one ringer per doorbell (the same single-producer /
 * single-consumer discipline as the ring it guards).
 *
 * The sleeper:                          The ringer (after publishing its work):
 *   s = load(SEQ)                         w = load(WANT)
 *   store(WANT, want)                     if w > 0 and have >= w:
 *   if ready(): store(WANT, 0); return      compareExchange(WANT, w, 0)
 *   wait(SEQ, s, timeout)                   add(SEQ, 1); notify(SEQ)
 *   store(WANT, 0)
 *
 * Why no wake-up is lost: every Atomics operation is sequentially consistent.
 * The ringer publishes its work (an Atomics.store of the ring's index) before
 * it loads WANT; the sleeper stores WANT before `ready()` loads the ring's
 * index. So either the sleeper's `ready()` sees the work, or the ringer sees
 * WANT > 0 (a Dekker pair). In the second case the ringer's add comes after
 * the sleeper read `s`, so the wait either finds SEQ !== s and returns at once
 * ('not-equal') or is already queued and gets the notify. A ringer that does
 * not see a sleeper costs one atomic load: no add, no notify, no syscall.
 *
 * The ringer clears WANT when it notifies, so the records that follow in the
 * same burst (before the woken thread is scheduled) do not notify again.
 */

const SEQ = 0;
const WANT = 1;

/** Why a wait ended. The caller re-checks its ring in every case. */
export type WakeReason =
  /** `ready()` was already true after announcing sleep: did not sleep. */
  | 'ready'
  /** woken by a ring (or the ring happened between announcing and waiting). */
  | 'woken'
  | 'timed-out';

export class Doorbell {
  /** bytes of SharedArrayBuffer a doorbell needs. */
  static readonly BYTES = 8;

  /** a fresh doorbell's shared memory, to hand to both threads. */
  static create(): SharedArrayBuffer {
    return new SharedArrayBuffer(Doorbell.BYTES);
  }

  private readonly cells: Int32Array;

  constructor(sab: SharedArrayBuffer) {
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < Doorbell.BYTES) {
      throw new TypeError(`Doorbell needs a SharedArrayBuffer of at least ${Doorbell.BYTES} bytes (Doorbell.create())`);
    }
    this.cells = new Int32Array(sab, 0, 2);
  }

  /** true while the other side announced it sleeps (a hint: it may change at once). */
  get sleeping(): boolean {
    return Atomics.load(this.cells, WANT) > 0;
  }

  /**
   * Ringer side, once per batch, after the batch is published. Notifies only
   * if the other side announced it sleeps and `have` reaches what it wants
   * (leave `have` out for "anything"). Returns true when it notified.
   */
  ring(have: number = Number.POSITIVE_INFINITY): boolean {
    const want = Atomics.load(this.cells, WANT);
    if (want <= 0 || have < want) return false;
    // Clear WANT so that later rings of the same burst stay cheap. If the
    // sleeper changed WANT meanwhile (it timed out, or re-announced), notifying
    // anyway is harmless: at worst one spurious wake-up.
    Atomics.compareExchange(this.cells, WANT, want, 0);
    Atomics.add(this.cells, SEQ, 1);
    Atomics.notify(this.cells, SEQ, 1);
    return true;
  }

  /** unconditional wake-up (shutdown, tests): the sleeper returns 'woken'. */
  wakeNow(): void {
    Atomics.store(this.cells, WANT, 0);
    Atomics.add(this.cells, SEQ, 1);
    Atomics.notify(this.cells, SEQ);
  }

  /**
   * Sleeper side, in a worker: blocks the calling thread in Atomics.wait until
   * rung or `timeoutMs` (Infinity = no limit). `ready()` is re-checked after
   * announcing sleep and before waiting; it must read the shared state the
   * ringer publishes (e.g. the ring's write index). `want` (≥ 1) is what the
   * ringer's `have` must reach. Never call this on the main thread.
   */
  waitSync(ready: () => boolean, timeoutMs: number, want = 1): WakeReason {
    const seq = this.announce(want);
    if (ready()) {
      Atomics.store(this.cells, WANT, 0);
      return 'ready';
    }
    const result = Atomics.wait(this.cells, SEQ, seq, timeoutMs);
    Atomics.store(this.cells, WANT, 0);
    return result === 'timed-out' ? 'timed-out' : 'woken';
  }

  /**
   * Sleeper side, on the main thread (or any event loop that must not block):
   * the same protocol with Atomics.waitAsync. The event loop keeps running
   * while this is pending. Only one wait per doorbell at a time.
   *
   * A pending Atomics.waitAsync does not keep Node's event loop alive (checked
   * on Node 20: a process with nothing else to do exits without the promise
   * settling, even with a timeout). The ringing thread's Worker normally does;
   * if it is unref'd, hold a timer or handle of your own while waiting.
   */
  async waitAsync(ready: () => boolean, timeoutMs: number, want = 1): Promise<WakeReason> {
    const seq = this.announce(want);
    if (ready()) {
      Atomics.store(this.cells, WANT, 0);
      return 'ready';
    }
    const waiter = Atomics.waitAsync(this.cells, SEQ, seq, timeoutMs);
    const result = waiter.async ? await waiter.value : waiter.value;
    Atomics.store(this.cells, WANT, 0);
    return result === 'timed-out' ? 'timed-out' : 'woken';
  }

  private announce(want: number): number {
    if (!Number.isInteger(want) || want < 1 || want > 0x7fff_ffff) {
      throw new RangeError(`doorbell: want must be an integer in 1..2^31-1 (got ${want})`);
    }
    const seq = Atomics.load(this.cells, SEQ);
    Atomics.store(this.cells, WANT, want);
    return seq;
  }
}
