/**
 * Nothing accepted is lost silently: each limit is checked on the running
 * total before acceptance, at N (accepted, and the message arrives) and N + 1
 * (refused with its code, nothing changed).
 *
 * The 51-group case is the regression of issue 11: joins of one group each
 * were checked per call, so 51 of them succeeded, `mcastJoined` resolved, and
 * the 51-group message was dropped by every receiver's group layer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvsError, type EvsHandle, type EvsNode } from '../../../src/index.ts';
import { groupCountMax, handlesPerNodeMax } from '../../../src/limits.ts';
import { bytes, LocalCluster, Recorder, thrownCode, waitFor } from './local-cluster.ts';

const port = 17710;

describe('limits on running totals', () => {
  let cluster: LocalCluster;
  let sender: EvsNode;
  let receiver: EvsNode;

  beforeAll(async () => {
    cluster = new LocalCluster({ count: 2, port, layout: 'single' });
    [sender, receiver] = (await cluster.startRing()) as [EvsNode, EvsNode];
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it(`groups per handle: ${groupCountMax} single-group joins are accepted, the ${groupCountMax + 1}st is refused, and mcastJoined is delivered`, async () => {
    const listener = receiver.open();
    const got = new Recorder(listener);
    await listener.join(['g0']);
    const handle = sender.open();
    for (let i = 0; i < groupCountMax; i++) await handle.join([`g${i}`]);
    expect(handle.groups()).toHaveLength(groupCountMax);
    await handle.join(['g0']); // already joined: not a new group, the total stays at N
    const refused = await handle.join([`g${groupCountMax}`]).then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(EvsError);
    expect((refused as EvsError).code).toBe('ERR_EVS_TOO_MANY_GROUPS');
    expect(handle.groups()).toHaveLength(groupCountMax);
    // Two at once from 49 is refused as a whole (the total would be 51): nothing of it is joined.
    await handle.leave(['g49']);
    await expect(handle.join(['g49', 'g50'])).rejects.toMatchObject({ code: 'ERR_EVS_TOO_MANY_GROUPS' });
    expect(handle.groups()).toHaveLength(groupCountMax - 1);
    await handle.join(['g49']);

    await handle.mcastJoined(bytes('to fifty groups'));
    await waitFor(() => got.deliveries().length === 1, 'the message to 50 groups');
    expect(got.deliveries()[0]!.groups).toHaveLength(groupCountMax);
    const stats = await sender.stats();
    expect(stats.protocol.submitMalformed).toBe(0);
    await Promise.all([handle.close(), listener.close()]);
  });

  it(`handles per node: ${handlesPerNodeMax} are opened, the next is refused synchronously, and one more fits after a close`, async () => {
    const handles: EvsHandle[] = [];
    for (let i = 0; i < handlesPerNodeMax; i++) handles.push(receiver.open());
    expect(thrownCode(() => receiver.open())).toBe('ERR_EVS_TOO_MANY_HANDLES');
    // every one of them was registered by the protocol worker (membership answers only once registration did)
    await Promise.all(handles.map((h) => h.membership()));
    expect((await receiver.stats()).handles).toBe(handlesPerNodeMax);
    await handles.pop()!.close();
    const last = receiver.open();
    const got = new Recorder(last);
    await last.join(['last']);
    await sender.open().mcastGroups(['last'], bytes('to the last handle'));
    await waitFor(() => got.deliveries().length === 1, 'the message to the last handle');
    await Promise.all([...handles, last].map((h) => h.close()));
    expect((await receiver.stats()).handles).toBe(0);
  }, 120_000);
});
