/**
 * Limits are checked on the caller's stack, before anything is queued: a
 * refused message leaves the node's stats as they were and is never
 * delivered. Bad options reject EvsNode.start with ERR_EVS_INVALID_OPTION
 * naming the option.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvsError, EvsNode, type EvsHandle, type EvsNodeStartOptions, type GuaranteeName } from '../../../src/index.ts';
import { bytes, LocalCluster, memberList, Recorder, text, thrownCode, waitFor } from './local-cluster.ts';

const port = 17310;

describe('limits before queuing', () => {
  let cluster: LocalCluster;
  let node: EvsNode;
  let handle: EvsHandle;
  let recorder: Recorder;

  beforeAll(async () => {
    cluster = new LocalCluster({ count: 2, port, layout: 'single' });
    [node] = (await cluster.startRing()) as [EvsNode, EvsNode];
    handle = node.open();
    recorder = new Recorder(handle);
    await handle.join(['limits']);
  });
  afterAll(async () => {
    await cluster.stop();
  });

  const messageBytesMax = 1024 * 1024;
  const tooLarge = new Uint8Array(messageBytesMax + 1);
  const groups51 = Array.from({ length: 51 }, (_, i) => (i === 0 ? 'limits' : `g${i}`));
  const name129 = 'x'.repeat(129);
  const badGuarantee = { guarantee: 'fast' as unknown as GuaranteeName };
  const notBytes = 'a string' as unknown as Uint8Array;

  /** [what, expected code, the call as a promise, the call as a try* that throws synchronously]. */
  const cases: [string, string, () => Promise<void>, () => unknown][] = [
    ['payload of messageBytesMax + 1 (mcastGroups)', 'ERR_EVS_MESSAGE_TOO_LARGE',
      () => handle.mcastGroups(['limits'], tooLarge), () => handle.tryMcastGroups(['limits'], tooLarge)],
    ['payload of messageBytesMax + 1 (mcastJoined)', 'ERR_EVS_MESSAGE_TOO_LARGE',
      () => handle.mcastJoined(tooLarge), () => handle.tryMcastJoined(tooLarge)],
    ['51 groups', 'ERR_EVS_TOO_MANY_GROUPS',
      () => handle.mcastGroups(groups51, bytes('x')), () => handle.tryMcastGroups(groups51, bytes('x'))],
    ['a 129-byte group name', 'ERR_EVS_GROUP_NAME_TOO_LONG',
      () => handle.mcastGroups(['limits', name129], bytes('x')), () => handle.tryMcastGroups(['limits', name129], bytes('x'))],
    ['a 129-byte group name in UTF-8 (43 × 3-byte characters)', 'ERR_EVS_GROUP_NAME_TOO_LONG',
      () => handle.mcastGroups(['€'.repeat(43)], bytes('x')), () => handle.tryMcastGroups(['€'.repeat(43)], bytes('x'))],
    ['an empty group name', 'ERR_EVS_GROUP_NAME_EMPTY',
      () => handle.mcastGroups(['limits', ''], bytes('x')), () => handle.tryMcastGroups(['limits', ''], bytes('x'))],
    ['no group at all', 'ERR_EVS_INVALID_ARGUMENT',
      () => handle.mcastGroups([], bytes('x')), () => handle.tryMcastGroups([], bytes('x'))],
    ['a bad guarantee (mcastGroups)', 'ERR_EVS_BAD_GUARANTEE',
      () => handle.mcastGroups(['limits'], bytes('x'), badGuarantee), () => handle.tryMcastGroups(['limits'], bytes('x'), badGuarantee)],
    ['a bad guarantee (mcastJoined)', 'ERR_EVS_BAD_GUARANTEE',
      () => handle.mcastJoined(bytes('x'), badGuarantee), () => handle.tryMcastJoined(bytes('x'), badGuarantee)],
    ['a payload that is not a Uint8Array', 'ERR_EVS_INVALID_ARGUMENT',
      () => handle.mcastGroups(['limits'], notBytes), () => handle.tryMcastGroups(['limits'], notBytes)],
    ['a payload that is not a Uint8Array (mcastJoined)', 'ERR_EVS_INVALID_ARGUMENT',
      () => handle.mcastJoined(notBytes), () => handle.tryMcastJoined(notBytes)],
  ];

  it('every limit is refused with its code, by the promise and the try* form, and nothing is queued', async () => {
    const before = await node.stats();
    for (const [what, code, call, tryCall] of cases) {
      await expect(call(), what).rejects.toSatisfy((e) => e instanceof EvsError && e.code === code);
      expect(thrownCode(tryCall), what).toBe(code);
    }
    // A good message after the bad ones: were any of them queued, it would be ordered (and delivered) before it.
    await handle.mcastGroups(['limits'], bytes('the good one'));
    await waitFor(() => recorder.deliveries().length > 0, 'the good message');
    const after = await node.stats();
    expect(recorder.texts()).toEqual(['the good one']);
    expect(after.protocol.messagesSubmitted - before.protocol.messagesSubmitted).toBe(1);
    expect(after.protocol.submitMalformed).toBe(before.protocol.submitMalformed);
    expect(after.submitWaiting).toBe(0);
    expect(after.protocol.queuedMessages).toBe(0);
    expect(text(recorder.deliveries()[0]!.payload)).toBe('the good one');
  });

  it('exactly messageBytesMax bytes and 50 groups of 128-byte names are accepted', async () => {
    const names = Array.from({ length: 50 }, (_, i) => (i === 0 ? 'limits' : `${i}`.padStart(128, 'n')));
    expect(handle.tryMcastGroups(names, new Uint8Array(messageBytesMax))).toBe('ok');
    await waitFor(() => recorder.deliveries().length === 2, 'the largest message');
    expect(recorder.deliveries()[1]!.payload.length).toBe(messageBytesMax);
    expect(recorder.deliveries()[1]!.groups).toEqual(names);
  });
});

describe('bad options at EvsNode.start', () => {
  const cluster = new LocalCluster({ count: 2, port: port + 1 });
  afterAll(async () => {
    await cluster.stop(); // starts nothing; removes the state directory
  });

  const base = (): EvsNodeStartOptions => cluster.nodeOptions(1);
  const cases: [string, () => EvsNodeStartOptions][] = [
    ['nodeId', () => ({ ...base(), nodeId: 0 })],
    ['members[1].addr', () => ({ ...base(), members: [memberList(1, port + 1)[0]!, { nodeId: 2, addr: 'not-an-address', port: port + 1 }] })],
    ['totem.tokenMs', () => ({ ...base(), totem: { tokenMs: 10 } })],
    ['threads.layout', () => ({ ...base(), threads: { layout: 'triple' as 'split' } })],
    ['rings.submitBytes', () => ({ ...base(), rings: { submitBytes: 512 * 1024 } })], // < messageBytesMax (1 MiB) + 64 KiB
    ['rings.deliverBytes', () => ({ ...base(), messageBytesMax: 4096, rings: { deliverBytes: 64 * 1024 } })], // < 4096 + 64 KiB
    ['queueBytesMax', () => ({ ...base(), messageBytesMax: 8192, queueBytesMax: 4096 })],
  ];

  it.each(cases)('options.%s', async (option, make) => {
    const error: unknown = await EvsNode.start(make()).then(async (started) => {
      await started.stop(); // should not happen: stop what started so the failure is the assertion below
      return null;
    }, (e: unknown) => e);
    expect(error).toBeInstanceOf(EvsError);
    expect((error as EvsError).code).toBe('ERR_EVS_INVALID_OPTION');
    expect((error as EvsError).message).toContain(`options.${option} `);
  });
});
