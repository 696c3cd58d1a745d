/**
 * Wire format constants. Every field is little-endian; every size is in bytes.
 *
 * Common header (8): magic u16, version u8, type u8, sender u32 (non-zero).
 * The version byte's low 7 bits are the wire version; its top bit is set
 * when the sender runs the Accelerated Ring (`versionFlagAccelerated`):
 * members with different orderings must never form a ring together, so a
 * receiver drops such a datagram as 'ordering' before it reaches the core.
 * RingId (12): rep u32 (non-zero), seq u64 as lo u32 + hi u32 (seq < 2^53).
 *
 * | message         | fixed part | then                                           |
 * |-----------------|-----------:|------------------------------------------------|
 * | OrfToken        | 46         | rtrCount × 16 (ringId 12 + seq u32)            |
 * | Mcast           | 26         | payload, or one complete encoded Mcast (inner)  |
 * | Join            | 21         | (procCount + failedCount) × 4                   |
 * | CommitToken     | 28         | memberCount × 4 (ids) + memberCount × 21        |
 * | MergeDetect     | 20         | nothing                                         |
 * | TokenHoldCancel | 20         | nothing                                         |
 *
 * Only an Mcast may have bytes after its counted fields; every other message
 * must end exactly where its fields end.
 */
import { assert } from '../assert.ts';
import { datagramBytesMax, processorsMax, rtrEntriesMax } from '../limits.ts';

/** "TE" read as a little-endian u16 (bytes 0x45 0x54). */
export const wireMagic = 0x5445;
export const wireVersion = 1;
/** top bit of the version byte: the sender orders with the Accelerated Ring. */
export const versionFlagAccelerated = 0x80;

/** The version byte a node of this ordering writes and accepts. */
export function versionByte(accelerated: boolean): number {
  return accelerated ? wireVersion | versionFlagAccelerated : wireVersion;
}

export const u8Bytes = 1;
export const u16Bytes = 2;
export const u32Bytes = 4;
export const u64Bytes = 8;

/** magic u16, version u8, type u8, sender u32. */
export const headerBytes = u16Bytes + u8Bytes + u8Bytes + u32Bytes;
/** where the type byte sits in the common header. */
export const typeOffset = u16Bytes + u8Bytes;
/** rep u32, seq u64 (lo u32 + hi u32). */
export const ringIdBytes = u32Bytes + u64Bytes;
/** The high u32 of a u64 ring seq must be below this so that seq <= 2^53 - 1. */
export const ringSeqHiLimit = 2 ** 21;
export const u32Limit = 2 ** 32;

/** OrfToken flags byte. */
export const tokenFlagRetrans = 0x01;
/** header, ringId, seq, tokenSeq, aru, aruAddr, backlog, fcc (u32 each), flags u8, rtrCount u8. */
export const orfTokenFixedBytes = headerBytes + ringIdBytes + 6 * u32Bytes + u8Bytes + u8Bytes;
/** one retransmission request: ringId + seq u32. */
export const rtrItemBytes = ringIdBytes + u32Bytes;
export const orfTokenBytesMax = orfTokenFixedBytes + rtrEntriesMax * rtrItemBytes;

/**
 * header, ringId, seq u32, guarantee u8, encapsulated u8. The group layer's
 * datagram budget: a normal Mcast costs mcastHeaderBytes + payload, an
 * encapsulated RECOVERY copy 2 × mcastHeaderBytes + payload.
 */
export const mcastHeaderBytes = headerBytes + ringIdBytes + u32Bytes + u8Bytes + u8Bytes;
/** Largest payload of a normal (not encapsulated) Mcast. */
export const mcastPayloadBytesMax = datagramBytesMax - mcastHeaderBytes;

/** Join flags byte. */
export const joinFlagLeave = 0x01;
/** header, flags u8, ringSeq u64, procCount u16, failedCount u16. */
export const joinFixedBytes = headerBytes + u8Bytes + u64Bytes + u16Bytes + u16Bytes;
/** one node id in procList or failedList. */
export const joinIdBytes = u32Bytes;
export const joinBytesMax = joinFixedBytes + 2 * processorsMax * joinIdBytes;

/** header, ringId, tokenSeq u32, memberIndex u16, memberCount u16. */
export const commitTokenFixedBytes = headerBytes + ringIdBytes + u32Bytes + u16Bytes + u16Bytes;
/** one member node id. */
export const commitMemberBytes = u32Bytes;
/** oldRingId, aru u32, highDelivered u32, received u8. */
export const commitEntryBytes = ringIdBytes + u32Bytes + u32Bytes + u8Bytes;
export const commitTokenBytesMax = commitTokenFixedBytes + processorsMax * (commitMemberBytes + commitEntryBytes);

/** header + ringId. */
export const mergeDetectBytes = headerBytes + ringIdBytes;
/** header + ringId. */
export const tokenHoldCancelBytes = headerBytes + ringIdBytes;

// Relations the codec relies on: a bad edit fails at load.
assert(headerBytes === 8, 'header is 8 bytes');
assert(ringIdBytes === 12, 'ring id is 12 bytes');
assert(orfTokenFixedBytes === 46, 'token fixed part is 46 bytes');
assert(mcastHeaderBytes === 26, 'mcast header is 26 bytes');
assert(joinFixedBytes === 21, 'join fixed part is 21 bytes');
assert(commitTokenFixedBytes === 28, 'commit token fixed part is 28 bytes');
assert(rtrEntriesMax <= 0xff, 'rtrCount fits a u8');
assert(processorsMax <= 0xffff, 'list counts fit a u16');
assert(orfTokenBytesMax <= datagramBytesMax, 'a full token fits a datagram');
assert(joinBytesMax <= datagramBytesMax, 'a full join fits a datagram');
assert(commitTokenBytesMax <= datagramBytesMax, 'a full commit token fits a datagram');
assert(2 * mcastHeaderBytes < datagramBytesMax, 'an encapsulated mcast fits a datagram');
