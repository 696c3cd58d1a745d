/**
 * RecordRing and Doorbell on one thread: framing, wrap-around, partial frames
 * in the reader's scratch, refusals, ownership of views, and the doorbell's
 * bookkeeping. The cross-thread behaviour is in workers.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Doorbell } from '../../../src/runtime/rings/doorbell.ts';
import { RECORD_HEADER_BYTES, RecordReader, RecordRing, RecordWriter, type RingCopy } from '../../../src/runtime/rings/record-ring.ts';
import { Prng } from '../../sim/prng.ts';
import { RecordSource, checkRecord } from './records.ts';

let copy: RingCopy = 'set';

function pair(capacity: number, chunkBytes?: number) {
  const shared = RecordRing.create(capacity);
  return { shared, writer: new RecordWriter(shared), reader: new RecordReader(shared, chunkBytes === undefined ? { copy } : { chunkBytes, copy }) };
}

describe.each<RingCopy>(['set', 'ringbuf'])('RecordRing (reader copy %s)', (mode) => {
  beforeEach(() => {
    copy = mode;
  });

  it('carries seeded records of random sizes in order through many laps of a small ring', () => {
    for (const chunkBytes of [undefined, 7, 100]) {
      const { writer, reader } = pair(5000, chunkBytes);
      const source = new RecordSource(42, 1, 2000);
      const expected = new RecordSource(42, 1, 2000);
      const prng = new Prng(7);
      let written = 0;
      let read = 0;
      let pending: { header: Uint8Array; body: Uint8Array } | null = null;
      const errors: string[] = [];
      while (read < 3000 && errors.length === 0) {
        // write a random burst (until full), then read a random number back
        for (let burst = prng.int(1, 6); burst > 0 && written < 3000; burst--) {
          pending ??= source.next();
          if (!writer.tryWriteParts(pending.header, pending.body)) break;
          pending = null;
          written++;
        }
        read += reader.drain((record) => {
          const e = checkRecord(expected, record);
          if (e !== null) errors.push(e);
        }, prng.int(1, 4));
      }
      expect(errors).toEqual([]);
      expect(read).toBe(3000);
      expect(reader.hasData()).toBe(false);
      expect(reader.availableRead()).toBe(0);
      expect(writer.availableWrite()).toBe(5000);
    }
  });

  it('tryWrite copies the record: the caller may reuse its buffer at once', () => {
    const { writer, reader } = pair(64);
    const buf = new Uint8Array([1, 2, 3]);
    expect(writer.tryWrite(buf)).toBe(true);
    buf.fill(9);
    expect(writer.tryWrite(buf)).toBe(true);
    expect(Array.from(reader.read() ?? [])).toEqual([1, 2, 3]);
    expect(Array.from(reader.read() ?? [])).toEqual([9, 9, 9]);
    expect(reader.read()).toBeNull();
  });

  it('tryWriteParts makes one record of header + body', () => {
    const { writer, reader } = pair(64);
    expect(writer.tryWriteParts(new Uint8Array([1, 2]), new Uint8Array([3, 4, 5]))).toBe(true);
    expect(writer.tryWriteParts(new Uint8Array(0), new Uint8Array([6]))).toBe(true);
    expect(Array.from(reader.read() ?? [])).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(reader.read() ?? [])).toEqual([6]);
  });

  it('carries empty records', () => {
    const { writer, reader } = pair(16);
    expect(writer.tryWrite(new Uint8Array(0))).toBe(true);
    expect(writer.tryWrite(new Uint8Array(0))).toBe(true);
    expect(reader.hasData()).toBe(true);
    expect(reader.drain(() => {})).toBe(2);
    expect(reader.hasData()).toBe(false);
  });

  it('answers false while a frame does not fit, writes nothing partial, and takes it once room is made', () => {
    const { writer, reader } = pair(20);
    expect(writer.tryWrite(new Uint8Array(10).fill(1))).toBe(true); // 14 of 20 bytes
    expect(writer.availableWrite()).toBe(6);
    expect(writer.tryWrite(new Uint8Array(3).fill(2))).toBe(false); // needs 7
    expect(writer.availableWrite()).toBe(6);
    expect(writer.tryWrite(new Uint8Array(2).fill(3))).toBe(true); // exactly 6
    expect(writer.availableWrite()).toBe(0);
    expect(writer.tryWrite(new Uint8Array(0))).toBe(false);
    expect(Array.from(reader.read() ?? [])).toEqual(new Array(10).fill(1));
    expect(writer.tryWrite(new Uint8Array(3).fill(2))).toBe(true); // wraps around the storage end
    expect(Array.from(reader.read() ?? [])).toEqual([3, 3]);
    expect(Array.from(reader.read() ?? [])).toEqual([2, 2, 2]);
    expect(reader.read()).toBeNull();
  });

  it('refuses a record larger than the ring with a clear error; the largest one fits', () => {
    const { writer, reader } = pair(100);
    expect(writer.maxRecordBytes).toBe(96);
    expect(RecordRing.maxRecordBytes(100)).toBe(96);
    expect(() => writer.tryWrite(new Uint8Array(97))).toThrow(RangeError);
    expect(() => writer.tryWrite(new Uint8Array(97))).toThrow(/record of 97 bytes never fits in this ring \(capacity 100 bytes, largest record 96 bytes/);
    expect(() => writer.tryWriteParts(new Uint8Array(50), new Uint8Array(47))).toThrow(/record of 97 bytes never fits/);
    expect(() => writer.tryWrite(new Uint8Array(1 << 20))).toThrow(RangeError);
    expect(() => writer.waitForSpaceSync(97, 0)).toThrow(RangeError);
    expect(writer.availableWrite()).toBe(100); // nothing written by the refusals
    const big = new Uint8Array(96).map((_, i) => i);
    expect(writer.tryWrite(big)).toBe(true);
    expect(writer.availableWrite()).toBe(0);
    expect(reader.read()).toEqual(big);
  });

  it('validates the capacity', () => {
    expect(() => RecordRing.create(4)).toThrow(RangeError);
    expect(() => RecordRing.create(1.5)).toThrow(RangeError);
    expect(() => RecordRing.create(2 ** 31)).toThrow(RangeError);
    expect(RecordRing.create(5).ring.byteLength).toBe(8 + 6);
    expect(() => new RecordWriter({} as never)).toThrow(TypeError);
    expect(() => new RecordReader(RecordRing.create(8), { copy: 'memcpy' as never })).toThrow(RangeError);
  });

  it('read(out) copies into out; a too-small out is refused and the record stays', () => {
    const { writer, reader } = pair(64);
    writer.tryWrite(new Uint8Array([5, 6, 7, 8]));
    const small = new Uint8Array(3);
    expect(() => reader.read(small)).toThrow(/4 bytes, out has room for 3/);
    const out = new Uint8Array(16);
    const got = reader.read(out);
    expect(got?.buffer).toBe(out.buffer);
    expect(Array.from(got ?? [])).toEqual([5, 6, 7, 8]);
    expect(reader.read(out)).toBeNull();
  });

  it('drain honours max, keeps the rest, and consumes a record whose callback throws', () => {
    const { writer, reader } = pair(256);
    for (let i = 0; i < 10; i++) writer.tryWrite(new Uint8Array([i]));
    const seen: number[] = [];
    expect(reader.drain((r) => seen.push(r[0] as number), 3)).toBe(3);
    expect(() =>
      reader.drain((r) => {
        if (r[0] === 4) throw new Error('boom');
        seen.push(r[0] as number);
      }),
    ).toThrow('boom');
    expect(reader.drain((r) => seen.push(r[0] as number))).toBe(5);
    expect(seen).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9]);
  });

  it('records up to the largest size survive partial chunks and compaction of the scratch', () => {
    const { writer, reader } = pair(3000, 333);
    const prng = new Prng(99);
    const sent: Uint8Array[] = [];
    let received = 0;
    for (let round = 0; round < 200; round++) {
      const r = new Uint8Array(prng.int(0, 2996)).map(() => prng.int(0, 255));
      while (!writer.tryWrite(r)) {
        reader.drain((rec) => {
          expect(Buffer.from(rec).equals(sent[received] as Uint8Array)).toBe(true);
          received++;
        }, 1);
      }
      sent.push(r);
    }
    reader.drain((rec) => {
      expect(Buffer.from(rec).equals(sent[received] as Uint8Array)).toBe(true);
      received++;
    });
    expect(received).toBe(200);
  });
});

describe('Doorbell', () => {
  it('rings only for an announced sleeper, once per sleep, and only when `have` reaches `want`', async () => {
    const sab = Doorbell.create();
    const bell = new Doorbell(sab);
    expect(bell.ring()).toBe(false);
    expect(bell.sleeping).toBe(false);

    const waiting = bell.waitAsync(() => false, 5000, 100);
    expect(bell.sleeping).toBe(true);
    expect(bell.ring(99)).toBe(false); // not enough for what the sleeper asked for
    expect(bell.ring(100)).toBe(true);
    expect(bell.ring(100)).toBe(false); // already notified: later rings of the burst are free
    expect(await waiting).toBe('woken');
    expect(bell.sleeping).toBe(false);
  });

  it('does not sleep when the work arrived before the wait (lost-wakeup check)', async () => {
    const bell = new Doorbell(Doorbell.create());
    let checks = 0;
    expect(
      await bell.waitAsync(() => {
        checks++;
        return true;
      }, 5000),
    ).toBe('ready');
    expect(checks).toBe(1);
    expect(bell.sleeping).toBe(false);
    expect(bell.waitSync(() => true, 5000)).toBe('ready');
  });

  it('times out, and wakeNow wakes whatever the sleeper wants', async () => {
    const bell = new Doorbell(Doorbell.create());
    const t0 = performance.now();
    expect(await bell.waitAsync(() => false, 30)).toBe('timed-out');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    expect(bell.sleeping).toBe(false);
    const waiting = bell.waitAsync(() => false, 5000, 1 << 30);
    bell.wakeNow();
    expect(await waiting).toBe('woken');
  });

  it('validates its memory and want', () => {
    expect(() => new Doorbell(new SharedArrayBuffer(4))).toThrow(TypeError);
    expect(() => new Doorbell(new ArrayBuffer(8) as unknown as SharedArrayBuffer)).toThrow(TypeError);
    const bell = new Doorbell(Doorbell.create());
    expect(() => bell.waitSync(() => true, 0, 0)).toThrow(RangeError);
  });

  it('a reader on this thread is woken by a writer flush through waitAsync', async () => {
    const { writer, reader } = pair(64);
    const waiting = reader.waitAsync(5000);
    expect(writer.tryWrite(new Uint8Array([1]))).toBe(true);
    expect(writer.flush()).toBe(true);
    expect(await waiting).toBe('woken');
    expect(reader.read()).toEqual(new Uint8Array([1]));
    expect(RECORD_HEADER_BYTES).toBe(4);
  });
});
