/**
 * Token timing: the stamps two drivers write for one token visit become the
 * stage times of that visit once the next token arrives; a visit whose send
 * stamps do not belong to it (a token re-sent by the timer, nothing sent) is
 * not counted.
 */
import { describe, expect, it } from 'vitest';
import { isTokenDatagram, stampNow, TokenStamps, TokenTiming, tokenStampsBytes } from '../../../src/runtime/protocol/token-timing.ts';
import { spawnWorker } from '../../../src/runtime/workers/spawn.ts';
import { encodeInto } from '../../../src/wire/encode.ts';
import { MessageType } from '../../../src/wire/messages.ts';

/** busy-waits `ms` so that the stamps taken around it differ by at least that. */
function spin(ms: number): void {
  const end = stampNow() + ms;
  while (stampNow() < end);
}

/** one visit as the drivers stamp it: receipt, open, (protocol in), protocol out, drain, token, sealed, sent. */
function visit(stamps: TokenStamps, timing: TokenTiming, stepMs: number): void {
  const socket = stampNow();
  spin(stepMs);
  stamps.received(socket);
  spin(stepMs);
  timing.tokenIn();
  spin(stepMs);
  timing.tokenOut();
  spin(stepMs);
  stamps.sending(stampNow());
  spin(stepMs);
  stamps.sealed();
  spin(stepMs);
  stamps.sent();
}

describe('TokenTiming', () => {
  it('turns a visit into stage times when the next token arrives', () => {
    const stamps = new TokenStamps(new ArrayBuffer(tokenStampsBytes));
    const timing = new TokenTiming(stamps);
    visit(stamps, timing, 1);
    expect(timing.stats().rotations).toBe(0); // the first visit closes with the second receipt
    spin(2);
    visit(stamps, timing, 1);
    const s = timing.stats();
    expect(s.rotations).toBe(1);
    // the first visit: receipt to sent = 6 steps of ≥ 1 ms; the rotation adds the 2 ms pause and a step
    expect(s.hold.count).toBe(1);
    expect(s.hold.sumUs).toBeGreaterThanOrEqual(6_000);
    expect(s.rotation.sumUs).toBeGreaterThanOrEqual(s.hold.sumUs + 2_000);
    for (const stage of ['txRing', 'seal', 'send'] as const) {
      expect(s[stage].count).toBe(1);
      expect(s[stage].sumUs).toBeGreaterThanOrEqual(1_000);
    }
    // receive-side stages are counted per receipt (two so far), protocol per visit sent on
    expect(s.rxOpen.count).toBe(2);
    expect(s.rxRing.count).toBe(2);
    expect(s.protocol.count).toBe(2);
    expect(s.protocol.sumUs).toBeGreaterThanOrEqual(2_000);
    // histogram: a stage of ≥ 1000 µs lands at bucket 10 (512..1023 µs) or above; 1000..1023 µs is
    // bucket 10, so bucket 11 (1024..2047 µs) would fail once in a while on a fast step
    expect(s.seal.buckets.slice(0, 10).every((n) => n === 0)).toBe(true);
    expect(s.seal.buckets.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('does not count a visit whose token was not sent after it', () => {
    const stamps = new TokenStamps(new ArrayBuffer(tokenStampsBytes));
    const timing = new TokenTiming(stamps);
    visit(stamps, timing, 0.2);
    // the next token arrives, the protocol sends it on, but the network side never stamps its send
    stamps.received(stampNow());
    timing.tokenIn();
    timing.tokenOut();
    spin(0.5);
    stamps.received(stampNow());
    timing.tokenIn();
    const s = timing.stats();
    expect(s.rotations).toBe(1); // only the first visit
    expect(s.hold.count).toBe(1);
  });

  it('a re-sent token (the retransmit timer) is not a second protocol step', () => {
    const stamps = new TokenStamps(new ArrayBuffer(tokenStampsBytes));
    const timing = new TokenTiming(stamps);
    stamps.received(stampNow());
    timing.tokenIn();
    timing.tokenOut();
    timing.tokenOut();
    expect(timing.stats().protocol.count).toBe(1);
  });
});

describe('isTokenDatagram', () => {
  it('knows an encoded ORF token from other messages by its header', () => {
    const buf = new Uint8Array(256);
    const ringId = { rep: 1, seq: 4 };
    const n = encodeInto({ type: MessageType.OrfToken, sender: 1, ringId, seq: 0, tokenSeq: 1, aru: 0, aruAddr: 1, backlog: 0, fcc: 0, retransFlag: false, rtrList: [] }, buf, 0);
    expect(isTokenDatagram(buf.subarray(0, n))).toBe(true);
    const m = encodeInto({ type: MessageType.MergeDetect, sender: 1, ringId }, buf, 0);
    expect(isTokenDatagram(buf.subarray(0, m))).toBe(false);
    expect(isTokenDatagram(new Uint8Array([0x45, 0x54, 1]))).toBe(false);
  });
});

describe('stampNow across threads', () => {
  // each thread's clock must be the same clock: the network and protocol drivers' stamps are compared
  it('a stamp taken in a worker falls between the main thread\'s stamps around it, for each of 8 workers', async () => {
    const workers = Array.from({ length: 8 }, () => spawnWorker(new URL('./stamp-worker.ts', import.meta.url)));
    try {
      await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
      for (const worker of workers) {
        for (let i = 0; i < 5; i++) {
          const before = stampNow();
          const inWorker = await new Promise<number>((resolve) => { worker.once('message', resolve); worker.postMessage(null); });
          const after = stampNow();
          expect(inWorker).toBeGreaterThanOrEqual(before);
          expect(inWorker).toBeLessThanOrEqual(after);
        }
      }
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
});
