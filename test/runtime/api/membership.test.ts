/**
 * Membership through the API: a graceful stop sends a LEAVE, so the others
 * re-form at once (well under the token timeout) and lose nothing they had
 * accepted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { deriveTotemConfig } from '../../../src/protocol/config.ts';
import { bytes, fastTotem, layoutCases, LocalCluster, Recorder, text, thrownCode, waitFor } from './local-cluster.ts';

/**
 * The token timeout a 3-node ring really uses: fastTotem leaves the
 * coefficient at its default (650 ms per node beyond two), so not 300 ms.
 * A re-formation that waited for a token loss takes at least this long.
 */
const tokenMs = deriveTotemConfig(1, 3, fastTotem).tokenMs;

const portBase = 17510;

describe.each(layoutCases.map((c, i) => ({ ...c, port: portBase + i })))('membership, layout $name', ({ layout, cryptoThreads, port }) => {
  let cluster: LocalCluster | null = null;
  afterEach(async () => {
    await cluster?.stop();
    cluster = null;
  });

  it('stopping one of three: the others get transitional then regular without it on the LEAVE (no token loss, < tokenMs), and lose nothing accepted', async () => {
    cluster = new LocalCluster({ count: 3, port, layout, cryptoThreads });
    const nodes = await cluster.startRing();
    const survivors = nodes.slice(1);
    const handles = survivors.map((n) => n.open());
    const recorders = handles.map((h) => new Recorder(h));
    await Promise.all(handles.map((h) => h.join(['m'])));
    const ringBefore = (await survivors[0]!.membership()).ringId;
    const tokenLosses = async (): Promise<number[]> => Promise.all(survivors.map(async (n) => (await n.stats()).protocol.totem.tokenLosses));
    const tokenLossesBefore = await tokenLosses();

    // The survivors send before and while node 1 stops; every one of these is accepted (queued) before it is counted.
    const perPhase = 100;
    const sent: string[] = [];
    const send = async (phase: string): Promise<void> => {
      await Promise.all(handles.map(async (h, n) => {
        for (let i = 0; i < perPhase; i++) {
          const m = `${n + 2}:${phase}:${i}`;
          await h.mcastJoined(bytes(m), { guarantee: i % 2 === 0 ? 'agreed' : 'safe' });
          sent.push(m);
        }
      }));
    };
    await send('before');
    const t0 = performance.now();
    const stopping = nodes[0]!.stop();
    await send('during');
    await stopping;
    await waitFor(() => recorders.every((r) => r.confchgs().some((c) => c.type === 'regular' && c.members.length === 2)), 'the ring without node 1', 5_000);
    const regulars = recorders.map((r) => r.confchgs().find((c) => c.type === 'regular' && c.members.length === 2)!);
    const elapsed = Math.max(...regulars.map((c) => c.at)) - t0;
    // What "at once" means: the LEAVE started the new ring, no survivor waited for the token to be lost.
    expect(await tokenLosses()).toEqual(tokenLossesBefore);
    expect(elapsed).toBeLessThan(tokenMs);

    for (const r of recorders) {
      const changes = r.confchgs().slice(1); // the first is the configuration current when the handle opened
      expect(changes.map((c) => ({ type: c.type, members: c.members, left: c.left, joined: c.joined }))).toEqual([
        { type: 'transitional', members: [2, 3], left: [1], joined: [] },
        { type: 'regular', members: [2, 3], left: [], joined: [] }, // who left is told once, by the transitional
      ]);
      expect(changes[1]!.ringId.seq).toBeGreaterThan(ringBefore.seq);
    }

    await send('after');
    await waitFor(() => recorders.every((r) => r.deliveries().length >= sent.length), 'every accepted message on both survivors', 10_000);
    const expected = [...sent].sort();
    for (const r of recorders) expect(r.texts().sort()).toEqual(expected); // all, exactly once
    expect(recorders[1]!.texts()).toEqual(recorders[0]!.texts()); // in one order
    for (const sender of [2, 3]) {
      // FIFO per sender across the configuration change
      const fromSender = recorders[0]!.texts().filter((m) => m.startsWith(`${sender}:`));
      expect(fromSender).toEqual(sent.filter((m) => m.startsWith(`${sender}:`)));
    }
    // The stopped node's handles are closed, its API refuses.
    expect(thrownCode(() => nodes[0]!.open())).toBe('ERR_EVS_STOPPED');
    await expect(nodes[0]!.membership()).rejects.toMatchObject({ code: 'ERR_EVS_STOPPED' });
  });
});
