/**
 * Back-pressure with a small queue: messageBytesMax 4 KiB, queueBytesMax
 * 4 KiB in the core and the smallest submit ring allowed (messageBytesMax +
 * 64 KiB). tryMcastGroups answers 'try-again' under a burst, mcastGroups
 * waits in line and resolves later, an AbortSignal takes a waiting send out
 * of the line, and every accepted message is delivered exactly once, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvsError, type EvsHandle, type EvsNode } from '../../../src/index.ts';
import { layoutCases, LocalCluster, Recorder, waitFor } from './local-cluster.ts';

const portBase = 17410;
const messageBytesMax = 4096;

describe.each(layoutCases.map((c, i) => ({ ...c, port: portBase + i })))('back-pressure, layout $name', ({ layout, cryptoThreads, port }) => {
  let cluster: LocalCluster;
  let nodes: EvsNode[];
  let handles: EvsHandle[];
  let recorders: Recorder[];

  beforeAll(async () => {
    cluster = new LocalCluster({
      count: 3, port, layout, cryptoThreads,
      extra: { messageBytesMax, queueBytesMax: messageBytesMax, rings: { submitBytes: messageBytesMax + 64 * 1024 } },
    });
    nodes = await cluster.startRing();
    handles = nodes.map((n) => n.open());
    recorders = handles.map((h) => new Recorder(h));
    await Promise.all(handles.map((h) => h.join(['bp'])));
  });
  afterAll(async () => {
    await cluster.stop();
  });

  /** a full-size payload numbered `seq` (first 4 bytes), the rest a pattern of it. */
  const payload = (seq: number): Uint8Array => {
    const p = new Uint8Array(messageBytesMax).fill(seq & 0xff);
    new DataView(p.buffer).setUint32(0, seq, true);
    return p;
  };
  const seqOf = (p: Uint8Array): number => new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0, true);
  const intact = (p: Uint8Array): boolean => p.length === messageBytesMax && p.subarray(4).every((b) => b === (seqOf(p) & 0xff));

  it("try-again under a burst, waiting sends resolve, an abort takes a waiting send out, each accepted message delivered once in order", async () => {
    const sender = handles[0]!;
    const accepted: number[] = [];
    const aborted: number[] = [];
    let seq = 0;
    let tryAgains = 0;
    let abortsWhileWaiting = 0;

    for (let round = 0; round < 5 && abortsWhileWaiting === 0; round++) {
      // Fill the submit ring without yielding: the protocol worker drains it only as fast as the token lets it.
      let answer: 'ok' | 'try-again' = 'ok';
      for (let i = 0; i < 10_000 && answer === 'ok'; i++) {
        const s = seq++;
        answer = sender.tryMcastGroups(['bp'], payload(s));
        if (answer === 'ok') accepted.push(s);
      }
      expect(answer).toBe('try-again');
      tryAgains++;
      // Still on the same turn: these wait in line behind the full ring (in call order).
      const waiting: Promise<number>[] = [];
      for (let i = 0; i < 3; i++) {
        const s = seq++;
        waiting.push(sender.mcastGroups(['bp'], payload(s)).then(() => s));
      }
      const controller = new AbortController();
      const abortedSeq = seq++;
      const toAbort = sender.mcastGroups(['bp'], payload(abortedSeq), { signal: controller.signal });
      // A try* never jumps the line: were this one queued ahead of the waiting ones, the delivery order
      // checked below would not be the call order. ('ok' is right if the ring drained meanwhile.)
      const trySeq = seq++;
      if (sender.tryMcastGroups(['bp'], payload(trySeq)) === 'ok') accepted.push(trySeq);
      const after: Promise<number>[] = [];
      for (let i = 0; i < 2; i++) {
        const s = seq++;
        after.push(sender.mcastGroups(['bp'], payload(s)).then(() => s));
      }
      controller.abort(new Error('changed my mind'));
      const outcome = await toAbort.then(() => 'accepted' as const, (e: unknown) => e);
      if (outcome === 'accepted') {
        // The ring drained between the calls on this turn (possible, not expected): it was queued after all.
        accepted.push(...(await Promise.all(waiting)), abortedSeq, ...(await Promise.all(after)));
        continue;
      }
      expect(outcome).toBeInstanceOf(EvsError);
      expect((outcome as EvsError).code).toBe('ERR_EVS_ABORTED');
      aborted.push(abortedSeq);
      abortsWhileWaiting++;
      accepted.push(...(await Promise.all(waiting)), ...(await Promise.all(after)));
    }
    expect(abortsWhileWaiting).toBe(1);
    expect(tryAgains).toBeGreaterThanOrEqual(1);

    // An already aborted signal refuses at once.
    const gone = new AbortController();
    gone.abort();
    await expect(sender.mcastGroups(['bp'], payload(seq++), { signal: gone.signal })).rejects.toMatchObject({ code: 'ERR_EVS_ABORTED' });

    // A larger burst of waiting sends, all resolving, with other senders adding load.
    const burst: Promise<void>[] = [];
    for (let i = 0; i < 150; i++) {
      const s = seq++;
      burst.push(sender.mcastGroups(['bp'], payload(s)).then(() => {
        accepted.push(s);
      }));
    }
    const others = handles.slice(1).map(async (h, n) => {
      for (let i = 0; i < 40; i++) await h.mcastGroups(['bp'], payload(0x1000000 * (n + 2) + i));
    });
    await Promise.all([...burst, ...others]);
    expect((await nodes[0]!.stats()).submitWaiting).toBe(0);

    const fromOthers = 2 * 40;
    // EVS hands every accepted message to every node only within one configuration: a change here (a token
    // lost on a starved machine) would leave some undelivered by design. Name it instead of timing out blind.
    const changes = (): string => recorders.map((r, i) => `node ${i + 1}: ${r.confchgs().slice(1).map((c) => `${c.type} [${c.members.join(',')}]`).join(', ')}`).join('; ');
    await waitFor(() => recorders.every((r) => r.deliveries().length >= accepted.length + fromOthers), 'every accepted message', 30_000)
      .catch((e: unknown) => {
        throw new Error(`${(e as Error).message}; delivered ${recorders.map((r) => r.deliveries().length).join('/')} of ${accepted.length + fromOthers}; `
          + `configuration changes since the start: ${changes()}`);
      });
    accepted.sort((a, b) => a - b); // acceptance order is call order: the line is FIFO
    for (const r of recorders) {
      const mine = r.deliveries().filter((d) => d.sender === 1);
      expect(mine.every((d) => intact(d.payload))).toBe(true);
      // exactly once, in order, nothing aborted, nothing refused
      expect(mine.map((d) => seqOf(d.payload))).toEqual(accepted);
      expect(r.deliveries()).toHaveLength(accepted.length + fromOthers);
    }
    for (const s of aborted) expect(accepted).not.toContain(s);
    // Total order: every node delivered the same sequence.
    const order = (r: Recorder): string => r.deliveries().map((d) => `${d.sender}:${seqOf(d.payload)}`).join(' ');
    expect(order(recorders[1]!)).toBe(order(recorders[0]!));
    expect(order(recorders[2]!)).toBe(order(recorders[0]!));
  });
});
