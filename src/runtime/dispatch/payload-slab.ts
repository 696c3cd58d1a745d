/**
 * Copies of delivered payloads carved out of shared slabs, as Node's Buffer
 * pool does for small buffers: one ArrayBuffer per 256 KiB of small messages
 * instead of one per message. Each allocation of an ArrayBuffer is a malloc
 * plus external-memory accounting that drives the garbage collector; at tens
 * of thousands of deliveries per second that was the main thread's largest
 * cost after dispatch itself (profiled).
 *
 * What it means for the application: a payload of up to `slabPayloadBytesMax`
 * is a view into a larger ArrayBuffer (`payload.byteOffset` may be non-zero,
 * `payload.buffer` holds other deliveries of this node too), and keeping one
 * such payload alive keeps its slab alive. Larger payloads get a buffer of
 * their own.
 */
const slabBytes = 256 * 1024;
/** payloads above this get their own ArrayBuffer: a slab holds at least 16 of the largest pooled ones. */
export const slabPayloadBytesMax = 16 * 1024;

export class PayloadSlab {
  #slab = new Uint8Array(slabBytes);
  #at = 0;

  /** a copy of `source` the caller owns (its bytes are never written again). */
  copy(source: Uint8Array): Uint8Array {
    const n = source.length;
    if (n > slabPayloadBytesMax) return source.slice();
    if (this.#at + n > slabBytes) {
      this.#slab = new Uint8Array(slabBytes);
      this.#at = 0;
    }
    const view = this.#slab.subarray(this.#at, this.#at + n);
    view.set(source);
    this.#at = (this.#at + n + 7) & ~7; // 8-byte aligned, so a payload can be viewed as Float64Array etc.
    return view;
  }
}
