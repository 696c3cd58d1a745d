/**
 * A seq-indexed window of messages (corosync's sq.h): slot = seq mod size.
 * Holds every message of a ring from the release point up to `size` seqs
 * ahead, plus a miss counter per missing seq for the retransmit list.
 */
import { assert } from '../assert.ts';
import { seqAdd, seqDiff } from './seq.ts';

/**
 * Slots per page of `pages`. One array of all 16,384 slots is a large object
 * to V8 (over 128 KiB): making one took milliseconds, and a processor makes
 * two at every (re)start; pages of 1,024 are ordinary young objects, made
 * when a slot on them is first written.
 */
const pageSlotsMax = 1024;

export class SortQueue<T> {
  private readonly pages: ((T | undefined)[] | undefined)[];
  private readonly pageShift: number;
  private readonly pageMask: number;
  private readonly missCounts: Uint8Array;
  private readonly mask: number;
  /** lowest seq the window can hold; everything below is released. */
  private headSeq: number;

  constructor(readonly size: number, seqStart: number) {
    assert((size & (size - 1)) === 0 && size > 0, 'sort queue size is a power of two');
    const pageSlots = Math.min(size, pageSlotsMax);
    this.pageShift = Math.log2(pageSlots);
    this.pageMask = pageSlots - 1;
    this.pages = new Array<(T | undefined)[] | undefined>(size / pageSlots).fill(undefined);
    this.missCounts = new Uint8Array(size);
    this.mask = size - 1;
    this.headSeq = seqAdd(seqStart, 1);
  }

  /** Empties the queue; the first seq it accepts is seqStart + 1. */
  reinit(seqStart: number): void {
    this.pages.fill(undefined);
    this.missCounts.fill(0);
    this.headSeq = seqAdd(seqStart, 1);
  }

  /** the highest released seq. */
  get releasedSeq(): number {
    return seqAdd(this.headSeq, -1);
  }

  inRange(seq: number): boolean {
    const distance = seqDiff(seq, this.headSeq);
    return distance >= 0 && distance < this.size;
  }

  has(seq: number): boolean {
    return this.inRange(seq) && this.slot(seq & this.mask) !== undefined;
  }

  get(seq: number): T | undefined {
    return this.inRange(seq) ? this.slot(seq & this.mask) : undefined;
  }

  add(seq: number, item: T): void {
    assert(this.inRange(seq), 'sort queue add: seq in window');
    const slot = seq & this.mask;
    let page = this.pages[slot >> this.pageShift];
    if (page === undefined) {
      page = new Array<T | undefined>(this.pageMask + 1).fill(undefined);
      this.pages[slot >> this.pageShift] = page;
    }
    page[slot & this.pageMask] = item;
    this.missCounts[slot] = 0;
  }

  private slot(slot: number): T | undefined {
    return this.pages[slot >> this.pageShift]?.[slot & this.pageMask];
  }

  /** Counts one more visit on which `seq` was missing; returns the new count. */
  bumpMissCount(seq: number): number {
    const slot = seq & this.mask;
    const count = Math.min(255, (this.missCounts[slot] ?? 0) + 1);
    this.missCounts[slot] = count;
    return count;
  }

  /** Frees every seq up to and including `seq`. */
  release(seq: number): void {
    let distance = seqDiff(seq, this.headSeq) + 1;
    if (distance <= 0) return;
    assert(distance <= this.size, 'sort queue release stays inside the window');
    while (distance-- > 0) {
      const slot = this.headSeq & this.mask;
      const page = this.pages[slot >> this.pageShift];
      if (page !== undefined) page[slot & this.pageMask] = undefined;
      this.missCounts[slot] = 0;
      this.headSeq = seqAdd(this.headSeq, 1);
    }
  }
}
