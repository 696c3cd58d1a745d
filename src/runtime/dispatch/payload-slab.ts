/**
 * Copies of delivered payloads carved out of shared slabs, as Node's Buffer
 * pool does for small buffers: one ArrayBuffer per 256 KiB of small messages
 * instead of one per message. Each allocation of an ArrayBuffer is a malloc
 * plus external-memory accounting that drives the garbage collector; at tens
 * of thousands of deliveries per second that was the main thread's largest
 * cost after dispatch itself (profiled).
 *
 * What it means for the application, as for `Buffer.allocUnsafe`'s pool: a
 * payload is a `Buffer`; one of up to `slabPayloadBytesMax` bytes is a view
 * into a larger ArrayBuffer (`payload.byteOffset` may be non-zero,
 * `payload.buffer` holds other deliveries of this node too), and keeping one
 * such payload alive keeps its slab alive. Larger payloads get a buffer of
 * their own. The bytes of a delivered payload are never written again.
 */
const slabBytes = 256 * 1024;
/** payloads above this get their own ArrayBuffer: a slab holds at least 16 of the largest pooled ones. */
export const slabPayloadBytesMax = 16 * 1024;

export class PayloadSlab {
  #slab = new ArrayBuffer(slabBytes);
  #at = 0;

  /** a copy of `source` the caller owns (its bytes are never written again). */
  copy(source: Uint8Array): Buffer {
    const n = source.length;
    if (n > slabPayloadBytesMax) {
      const own = Buffer.allocUnsafeSlow(n); // its own ArrayBuffer, never Node's pool
      own.set(source);
      return own;
    }
    if (this.#at + n > slabBytes) {
      this.#slab = new ArrayBuffer(slabBytes);
      this.#at = 0;
    }
    const view = Buffer.from(this.#slab, this.#at, n);
    view.set(source);
    this.#at = (this.#at + n + 7) & ~7; // 8-byte aligned, so a payload can be viewed as Float64Array etc.
    return view;
  }
}
