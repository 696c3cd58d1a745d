/**
 * Every bound of the system, in one place (TigerBeetle's constants.zig).
 * Relations between them are asserted at the bottom so a bad edit fails at load.
 */

/** Processors in one ring (corosync PROCESSOR_COUNT_MAX is 384). */
export const processorsMax = 384;
/** Retransmission requests carried on one token (corosync RETRANSMIT_ENTRIES_MAX). */
export const rtrEntriesMax = 30;
/** Slots of a sort queue: seqs in flight between release and the newest (QUEUE_RTR_ITEMS_SIZE_MAX). */
export const sortQueueSlots = 16384;
/** Largest datagram the codec accepts (UDP payload limit). */
export const datagramBytesMax = 65507;
/** Largest ring seq: ring seqs are u64 on the wire but JS numbers in memory. */
export const ringSeqMax = Number.MAX_SAFE_INTEGER;
/** Application message size limit by default (totempg MESSAGE_SIZE_MAX). */
export const messageBytesMaxDefault = 1024 * 1024;
/** Group names one application message may carry (evs_join refuses more than 50). */
export const groupCountMax = 50;
/** Bytes of one group name. */
export const groupNameBytesMax = 128;

// ---- protocol core (src/protocol) ----
/** Largest windowSize a config may ask for: a visit's sends must fit the sort queue with room to spare. */
export const windowSizeMax = 4096;
/** corosync's MINIMUM_TIMEOUT (HZ = 100 → 30 ms): the shortest token, retransmit, join, consensus or merge timeout. */
export const timeoutMsMin = 30;
/** The shortest hold timeout (corosync lets hold go below MINIMUM_TIMEOUT, down to 14 ms). */
export const holdMsMin = 14;
/**
 * Membership triggers kept while a just-installed ring settles (operational.ts
 * `deferWhileSettling`). The wait lasts one token rotation; more than this many
 * triggers in one rotation say the same thing again, so the rest are dropped.
 */
export const deferredMessagesMax = 64;
/**
 * Timers fired by one `Processor.handleTimeout` call. A firing re-arms timers
 * only in the future, so at most the six timers there are fire at once; the
 * bound keeps one call finite should a timer ever be re-armed at `now` (the
 * rest then fire on the next call, as `nextDeadline()` is already due).
 */
export const timerFiringsMax = 16;

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`limits: ${what}`);
}
check((sortQueueSlots & (sortQueueSlots - 1)) === 0, 'sortQueueSlots is a power of two');
check(processorsMax * 4 < datagramBytesMax, 'a JOIN with every processor fits a datagram');
check(sortQueueSlots > 2 * windowSizeMax, 'the default sort queue holds more than two of the largest windows');
check(holdMsMin < timeoutMsMin, 'hold may be shorter than the other timeouts');
check(groupCountMax <= 255 && groupNameBytesMax <= 255, 'group header fields fit a byte');
