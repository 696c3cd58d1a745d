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
/** Smallest datagram payload the group layer accepts: room for a fragment header and some data. */
export const datagramPayloadBytesMin = 32;

// ---------------------------------------------------------------------------
// Bounds of the API, the options and the runtime (src/options.ts, src/runtime).
// Bounds of the protocol core and the group layer are above; this section ends at `function check`.
// ---------------------------------------------------------------------------

/** Handles one node may have open at once (a deliver record lists its handles, 4 bytes each). */
export const handlesPerNodeMax = 4096;
/**
 * Events an `events()` iterator buffers before it pauses the node's delivery
 * (its `highWaterMark` by default): one dispatch batch of the main thread.
 */
export const eventsHighWaterMarkDefault = 1024;
/**
 * Submit records the protocol driver takes into the core per pass of its loop
 * (or per datagram the network driver hands in). A burst of small messages
 * fills the core's queue (queueBytesMax) with tens of thousands of them:
 * taken in one go, that pass kept the loop from the token for 200 ms and
 * more, and a 300 ms token timeout expired on a loaded machine.
 */
export const submitRecordsPerPassMax = 256;
/** Bytes of a cluster key: HKDF wants at least the 32 bytes of the key it derives. */
export const clusterKeyBytesMin = 32;
export const clusterKeyBytesMax = 4096;
/** Counters of one sender salt's replay window: this far behind the newest accepted one is 'too-old' (a multiple of 32). */
export const replayWindowCounters = 1024;
/** Sender salts a receiver may be told to cache (AesGcmCipherOptions.saltsMax). */
export const saltsMaxLimit = 65536;
/** options.netmtu: IPv4's minimum reassembly size up to the largest IPv4 datagram. */
export const netmtuBytesMin = 576;
export const netmtuBytesMax = 65535;
/** options.messageBytesMax at most. */
export const messageBytesMaxLimit = 64 * 1024 * 1024;
/** options.queueBytesMax at most. */
export const queueBytesMaxLimit = 1024 * 1024 * 1024;
/** options.rings.*Bytes. */
export const ringBytesMin = 64 * 1024;
export const ringBytesMax = 1024 * 1024 * 1024;
/** Room a submit or deliver ring needs beyond the largest message: record heads (group header, handle list). */
export const ringMessageSlackBytes = 64 * 1024;
/** options.sendBufferBytes / recvBufferBytes (the sockets' SO_SNDBUF / SO_RCVBUF). */
export const socketBufferBytesMin = 4096;
export const socketBufferBytesMax = 1024 * 1024 * 1024;
/** options.threads.cryptoThreads at most. */
export const cryptoThreadsMax = 16;
/** corosync's MINIMUM_TIMEOUT for the given totem timeouts (before derivation), and for holdMs. */
export const totemTimeoutMsMin = 30;
export const totemHoldMsMin = 14;

check(replayWindowCounters % 32 === 0, 'replayWindowCounters is a multiple of 32');
check(clusterKeyBytesMin >= 32, 'a cluster key has at least the bytes of the AES-256 key derived from it');
check(handlesPerNodeMax <= 0xffff, 'the handle count of a deliver record fits its u16');

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
