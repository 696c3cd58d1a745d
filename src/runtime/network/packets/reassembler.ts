/**
 * The receiving half of frames over packets (format: packet-header.ts).
 * Pure and deterministic: time is passed in, nothing is scheduled.
 *
 * Packets of one frame are copied into one buffer at their place; when all
 * have arrived the frame is handed back. What is dropped is counted:
 *
 * * packets: 'malformed' (header fails readPacketHeader), 'duplicate' (a
 *   piece of an unfinished frame that already arrived), 'overlap' (its
 *   count or frame length disagrees with the unfinished frame of the same
 *   seq, so its bytes would land across pieces already placed), 'stale' (a
 *   frame that was completed, expired or evicted, or more than
 *   `seqWindow` frames behind its sender's newest).
 * * unfinished frames: 'expired' (not complete `reassemblyMs` after its
 *   first packet), 'evicted-sender' (the sender started more than
 *   `framesPerSenderMax` frames it did not finish: its oldest goes),
 *   'evicted-memory' (room for a new frame within `bytesMax`: the oldest
 *   unfinished frame of any sender goes), 'evicted-senders' (a new sender
 *   beyond `sendersMax`: the least recently heard sender's state goes).
 *
 * A frame lost here is lost as a datagram would be: Totem's retransmit list
 * recovers it, re-sent as a new frame under a new seq.
 *
 * A sender is (source node id, epoch): a restarted process draws a new epoch,
 * so its frames never meet the old process's seq window.
 *
 * Memory: the frame buffers of unfinished frames (at most `bytesMax` bytes
 * together), plus per sender a few numbers. A completed frame's buffer is the
 * caller's; `recycle` gives it back for reuse once its bytes are consumed.
 */
import { createPacketHeader, packetHeaderBytes, readPacketHeader, type PacketHeader } from './packet-header.ts';

export type PacketDrop = 'malformed' | 'duplicate' | 'overlap' | 'stale';
export type FrameLoss = 'expired' | 'evicted-sender' | 'evicted-memory' | 'evicted-senders';

export interface ReassemblyStats {
  packetsIn: number;
  /** frames completed from packets. */
  framesOut: number;
  packetsDropped: Record<PacketDrop, number>;
  framesLost: Record<FrameLoss, number>;
  /** bytes of unfinished frames now, and at most so far. */
  bytesHeld: number;
  bytesHeldPeak: number;
}

export interface ReassemblerOptions {
  /** bytes of unfinished frames held at once, over all senders. */
  readonly bytesMax: number;
  /** unfinished frames per sender. */
  readonly framesPerSenderMax: number;
  /** senders (node id, epoch) whose seq windows are kept (LRU). */
  readonly sendersMax: number;
  /** an unfinished frame is dropped this long after its first packet. */
  readonly reassemblyMs: number;
}

/** frames of a sender behind its newest that are still told apart (done or not): a bitmap of one u32. */
export const seqWindow = 32;

interface Frame {
  readonly sender: Sender;
  readonly seq: number;
  readonly count: number;
  readonly frameBytes: number;
  readonly chunk: number;
  readonly buffer: Uint8Array;
  /** one bit per packet index (count <= 255: 8 words). */
  readonly have: Uint32Array;
  received: number;
  readonly startMs: number;
  /** the list of unfinished frames in start order (expiry and memory eviction go from its head). */
  prev: Frame | null;
  next: Frame | null;
}

interface Sender {
  readonly nodeId: number;
  readonly epoch: number;
  /** false until its first frame starts. */
  started: boolean;
  /** the newest seq started, and a bit per seq (newest − i) that is finished (completed, expired or evicted). */
  newest: number;
  done: number;
  /** unfinished frames, oldest first. */
  readonly frames: Frame[];
}

export function createReassemblyStats(): ReassemblyStats {
  return {
    packetsIn: 0,
    framesOut: 0,
    packetsDropped: { malformed: 0, duplicate: 0, overlap: 0, stale: 0 },
    framesLost: { expired: 0, 'evicted-sender': 0, 'evicted-memory': 0, 'evicted-senders': 0 },
    bytesHeld: 0,
    bytesHeldPeak: 0,
  };
}

/** seq distance a − b as a signed 32-bit number (seqs wrap). */
function seqDelta(a: number, b: number): number {
  return (a - b) | 0;
}

export class Reassembler {
  readonly stats = createReassemblyStats();
  readonly #o: ReassemblerOptions;
  readonly #header: PacketHeader = createPacketHeader();
  /** senders by node id, then epoch; a Map's order is the LRU order of the node ids. */
  readonly #senders = new Map<number, Map<number, Sender>>();
  #senderCount = 0;
  #last: Sender | null = null;
  #oldest: Frame | null = null;
  #newest: Frame | null = null;
  /** spare buffers of finished frames, reused for frames that fit; their bytes together stay within bytesMax. */
  readonly #spare: ArrayBuffer[] = [];
  #spareBytes = 0;

  constructor(options: ReassemblerOptions) {
    for (const name of ['bytesMax', 'framesPerSenderMax', 'sendersMax', 'reassemblyMs'] as const) {
      const v = options[name];
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`Reassembler: ${name} must be an integer >= 1, got ${v}`);
    }
    if (options.framesPerSenderMax > seqWindow) throw new RangeError(`Reassembler: framesPerSenderMax must be <= ${seqWindow}`);
    this.#o = options;
  }

  /**
   * One received packet (`isPacket` was true). Returns the whole frame when
   * this packet completed it (a view of a buffer the caller owns until it
   * calls `recycle`), else null.
   */
  accept(packet: Uint8Array, fromNodeId: number, nowMs: number): Uint8Array | null {
    this.stats.packetsIn++;
    this.expire(nowMs);
    const h = this.#header;
    if (!readPacketHeader(packet, h)) return this.#drop('malformed');
    const sender = this.#sender(fromNodeId, h.epoch);
    let frame: Frame | null = null;
    const behind = sender.started ? seqDelta(sender.newest, h.seq) : -1;
    if (behind >= seqWindow) return this.#drop('stale');
    if (behind >= 0) {
      if ((sender.done & (1 << behind)) !== 0) return this.#drop('stale');
      for (const f of sender.frames) {
        if (f.seq === h.seq) {
          frame = f;
          break;
        }
      }
    }
    if (frame === null) {
      if (h.frameBytes > this.#o.bytesMax) return this.#drop('malformed'); // could never be held
      frame = this.#start(sender, h, nowMs);
    } else if (frame.count !== h.count || frame.frameBytes !== h.frameBytes) {
      return this.#drop('overlap');
    }
    const word = h.index >>> 5;
    const bit = 1 << (h.index & 31);
    if ((frame.have[word]! & bit) !== 0) return this.#drop('duplicate');
    frame.have[word] = frame.have[word]! | bit;
    frame.buffer.set(packet.subarray(packetHeaderBytes), h.index * frame.chunk);
    if (++frame.received < frame.count) return null;
    this.#finish(frame);
    this.stats.framesOut++;
    return frame.buffer;
  }

  /** drops unfinished frames whose first packet came `reassemblyMs` or more before `nowMs`. */
  expire(nowMs: number): void {
    for (let f = this.#oldest; f !== null && nowMs - f.startMs >= this.#o.reassemblyMs; f = this.#oldest) {
      this.#lose(f, 'expired');
    }
  }

  /** gives back the buffer of a frame `accept` returned, once nothing reads it any more. */
  recycle(frame: Uint8Array): void {
    const buffer = frame.buffer;
    if (!(buffer instanceof ArrayBuffer) || frame.byteOffset !== 0) return;
    if (this.#spareBytes + buffer.byteLength > this.#o.bytesMax) return;
    this.#spare.push(buffer);
    this.#spareBytes += buffer.byteLength;
  }

  /** unfinished frames now. */
  get framesHeld(): number {
    let n = 0;
    for (let f = this.#oldest; f !== null; f = f.next) n++;
    return n;
  }

  #drop(reason: PacketDrop): null {
    this.stats.packetsDropped[reason]++;
    return null;
  }

  #sender(nodeId: number, epoch: number): Sender {
    const last = this.#last;
    if (last !== null && last.nodeId === nodeId && last.epoch === epoch) return last;
    let epochs = this.#senders.get(nodeId);
    let sender = epochs?.get(epoch);
    if (sender === undefined) {
      if (this.#senderCount >= this.#o.sendersMax) this.#evictSender();
      if (epochs === undefined) {
        epochs = new Map();
        this.#senders.set(nodeId, epochs);
      }
      sender = { nodeId, epoch, started: false, newest: 0, done: 0, frames: [] };
      epochs.set(epoch, sender);
      this.#senderCount++;
    } else if (epochs !== undefined) {
      // least recently heard node ids first
      this.#senders.delete(nodeId);
      this.#senders.set(nodeId, epochs);
    }
    this.#last = sender;
    return sender;
  }

  #evictSender(): void {
    const first = this.#senders.entries().next();
    if (first.done === true) return;
    const [nodeId, epochs] = first.value;
    const victim = epochs.values().next().value!;
    while (victim.frames.length > 0) this.#lose(victim.frames[0]!, 'evicted-senders');
    epochs.delete(victim.epoch);
    if (epochs.size === 0) this.#senders.delete(nodeId);
    this.#senderCount--;
    if (this.#last === victim) this.#last = null;
  }

  #start(sender: Sender, h: PacketHeader, nowMs: number): Frame {
    if (!sender.started) {
      sender.started = true;
      sender.newest = h.seq;
      sender.done = 0;
    } else {
      const ahead = seqDelta(h.seq, sender.newest);
      if (ahead > 0) {
        sender.done = ahead >= seqWindow ? 0 : (sender.done << ahead) >>> 0;
        sender.newest = h.seq;
        // frames that fell out of the window can never be told apart from stale ones any more
        while (sender.frames.length > 0 && seqDelta(h.seq, sender.frames[0]!.seq) >= seqWindow) this.#lose(sender.frames[0]!, 'evicted-sender');
      }
    }
    if (sender.frames.length >= this.#o.framesPerSenderMax) this.#lose(sender.frames[0]!, 'evicted-sender');
    while (this.stats.bytesHeld + h.frameBytes > this.#o.bytesMax && this.#oldest !== null) this.#lose(this.#oldest, 'evicted-memory');
    const frame: Frame = {
      sender,
      seq: h.seq,
      count: h.count,
      frameBytes: h.frameBytes,
      chunk: Math.ceil(h.frameBytes / h.count),
      buffer: this.#buffer(h.frameBytes),
      have: new Uint32Array(8),
      received: 0,
      startMs: nowMs,
      prev: this.#newest,
      next: null,
    };
    if (this.#newest === null) this.#oldest = frame;
    else this.#newest.next = frame;
    this.#newest = frame;
    sender.frames.push(frame);
    this.stats.bytesHeld += h.frameBytes;
    if (this.stats.bytesHeld > this.stats.bytesHeldPeak) this.stats.bytesHeldPeak = this.stats.bytesHeld;
    return frame;
  }

  #buffer(frameBytes: number): Uint8Array {
    const spare = this.#spare;
    for (let i = spare.length - 1; i >= 0; i--) {
      const b = spare[i]!;
      if (b.byteLength >= frameBytes) {
        spare[i] = spare[spare.length - 1]!;
        spare.pop();
        this.#spareBytes -= b.byteLength;
        return new Uint8Array(b, 0, frameBytes);
      }
    }
    return new Uint8Array(new ArrayBuffer(frameBytes));
  }

  /** takes an unfinished frame out of the lists and marks its seq done. */
  #finish(frame: Frame): void {
    const sender = frame.sender;
    const i = sender.frames.indexOf(frame);
    if (i >= 0) sender.frames.splice(i, 1);
    const behind = seqDelta(sender.newest, frame.seq);
    if (behind >= 0 && behind < seqWindow) sender.done = (sender.done | (1 << behind)) >>> 0;
    if (frame.prev === null) this.#oldest = frame.next;
    else frame.prev.next = frame.next;
    if (frame.next === null) this.#newest = frame.prev;
    else frame.next.prev = frame.prev;
    frame.prev = null;
    frame.next = null;
    this.stats.bytesHeld -= frame.frameBytes;
  }

  #lose(frame: Frame, reason: FrameLoss): void {
    this.#finish(frame);
    this.stats.framesLost[reason]++;
    this.recycle(frame.buffer);
  }
}
