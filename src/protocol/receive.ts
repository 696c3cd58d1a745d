/**
 * Receipt of a multicast of my ring into a sort queue, the same in GATHER
 * (the regular queue), RECOVERY (the recovery queue) and OPERATIONAL (the
 * regular queue, then delivery): drop duplicates, raise the highest seq
 * received, advance my aru over what is now contiguous.
 */
import type { Mcast } from '../wire/messages.ts';
import { seqAdd, seqLt, seqMax } from './seq.ts';
import type { SortQueue } from './sort-queue.ts';
import type { ProcessorState } from './state.ts';

/** Returns false when the message was a duplicate (or outside the window) and was dropped. */
export function receiveMcast(s: ProcessorState, queue: SortQueue<Mcast>, message: Mcast): boolean {
  if (!queue.inRange(message.seq) || queue.has(message.seq)) {
    s.stats.duplicatesDropped++;
    return false;
  }
  queue.add(message.seq, message);
  s.highSeqReceived = seqMax(s.highSeqReceived, message.seq);
  updateAru(s, queue);
  return true;
}

/** my aru: the highest seq up to which I hold every message. */
export function updateAru(s: ProcessorState, queue: SortQueue<Mcast>): void {
  while (seqLt(s.myAru, s.highSeqReceived) && queue.has(seqAdd(s.myAru, 1))) {
    s.myAru = seqAdd(s.myAru, 1);
  }
}
