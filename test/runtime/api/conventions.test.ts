/**
 * The conventions of Node's networking libraries (issue 11 item 5): a typed
 * error for start() without options, ERR_EVS_STOPPED after stop,
 * Symbol.asyncDispose, waitForMembers, AbortSignal on start and join, and
 * payloads delivered as Buffers that share a slab as Buffer's pool does.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { EvsError, EvsNode, type EvsHandle, type EvsNodeStartOptions } from '../../../src/index.ts';
import { bytes, LocalCluster, Recorder, thrownCode, waitFor } from './local-cluster.ts';

const port = 17730;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(() => 'no error', (e: unknown) => (e instanceof EvsError ? e.code : `not an EvsError: ${String(e)}`));
}

describe('EvsNode.start', () => {
  const cluster = new LocalCluster({ count: 3, port, layout: 'single' });
  afterAll(async () => {
    await cluster.stop();
  });

  it('without options rejects with ERR_EVS_INVALID_OPTION naming what is needed', async () => {
    const error = await (EvsNode.start as (o?: unknown) => Promise<EvsNode>)().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EvsError);
    expect((error as EvsError).code).toBe('ERR_EVS_INVALID_OPTION');
    expect((error as EvsError).message).toContain('nodeId, bindAddr, stateDir');
  });

  it('a logger without its methods is ERR_EVS_INVALID_OPTION naming options.logger', async () => {
    const options = { ...cluster.nodeOptions(1), logger: { info: () => undefined } } as unknown as EvsNodeStartOptions;
    const error = await EvsNode.start(options).catch((e: unknown) => e);
    expect((error as EvsError).code).toBe('ERR_EVS_INVALID_OPTION');
    expect((error as EvsError).message).toMatch(/options\.logger .*missing debug, warn, error/);
  });

  it('an aborted signal rejects with ERR_EVS_ABORTED, before and during the start, and releases the socket', async () => {
    const before = AbortSignal.abort(new Error('no'));
    expect(await codeOf(EvsNode.start({ ...cluster.nodeOptions(1), signal: before }))).toBe('ERR_EVS_ABORTED');
    // Alone of three listed members, node 1 waits a consensus timeout (400 ms) before its first ring: abort within it.
    const controller = new AbortController();
    const starting = EvsNode.start({ ...cluster.nodeOptions(1), signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect(await codeOf(starting)).toBe('ERR_EVS_ABORTED');
    // the same address and port bind again: the aborted start released its threads and socket
    const again = await EvsNode.start(cluster.nodeOptions(1));
    await again.stop();
  });

  it('waitForMembers resolves when the ring holds the ids, driven by configuration changes; times out and aborts', async () => {
    const [n1, n2] = await Promise.all([EvsNode.start(cluster.nodeOptions(1)), EvsNode.start(cluster.nodeOptions(2))]);
    try {
      expect(await codeOf(n1!.waitForMembers([3], { timeoutMs: 50 }))).toBe('ERR_EVS_TIMEOUT');
      expect(await codeOf(n1!.waitForMembers([3], { signal: AbortSignal.abort() }))).toBe('ERR_EVS_ABORTED');
      const waiting = n1!.waitForMembers([1, 2, 3], { timeoutMs: 15_000 });
      const n3 = await EvsNode.start(cluster.nodeOptions(3));
      const membership = await waiting;
      expect(membership.members).toEqual([1, 2, 3]);
      expect((await n1!.membership()).ringId).toEqual(membership.ringId);
      // already there: resolves at once
      expect((await n2!.waitForMembers([3])).members).toContain(3);
      const pending = codeOf(n3.waitForMembers([4]));
      await n3.stop();
      expect(await pending).toBe('ERR_EVS_STOPPED');
    } finally {
      await Promise.all([n1!.stop(), n2!.stop()]);
    }
  });
});

describe('after stop, and disposal', () => {
  const cluster = new LocalCluster({ count: 1, port: port + 1, layout: 'single' });
  afterAll(async () => {
    await cluster.stop();
  });

  it('every call of a handle answers ERR_EVS_STOPPED after the node stopped; a closed handle ERR_EVS_BAD_HANDLE', async () => {
    const [node] = (await cluster.start()) as [EvsNode];
    const handle = node.open();
    await handle.join(['a']);
    const closed = node.open();
    await closed.close();
    await node.stop();
    expect(await codeOf(handle.mcastJoined(bytes('x')))).toBe('ERR_EVS_STOPPED');
    expect(await codeOf(handle.mcastGroups(['a'], bytes('x')))).toBe('ERR_EVS_STOPPED');
    expect(thrownCode(() => handle.tryMcastJoined(bytes('x')))).toBe('ERR_EVS_STOPPED');
    expect(thrownCode(() => handle.tryMcastGroups(['a'], bytes('x')))).toBe('ERR_EVS_STOPPED');
    expect(await codeOf(handle.join(['b']))).toBe('ERR_EVS_STOPPED');
    expect(await codeOf(handle.leave(['a']))).toBe('ERR_EVS_STOPPED');
    expect(thrownCode(() => handle.membership())).toBe('ERR_EVS_STOPPED');
    expect(thrownCode(() => node.open())).toBe('ERR_EVS_STOPPED');
    expect(await codeOf(closed.mcastGroups(['a'], bytes('x')))).toBe('ERR_EVS_BAD_HANDLE');
  });

  it('`await using` (Symbol.asyncDispose) closes the handle and stops the node at the end of the scope', async () => {
    let node: EvsNode | null = null;
    let handle: EvsHandle | null = null;
    {
      await using n = await EvsNode.start(cluster.nodeOptions(1));
      await using h = n.open();
      await h.join(['scoped']);
      [node, handle] = [n, h];
      expect(handle.closed).toBe(false);
    }
    expect(handle.closed).toBe(true);
    expect(thrownCode(() => node.open())).toBe('ERR_EVS_STOPPED');
  });
});

describe('join with a signal, payloads as Buffer', () => {
  const cluster = new LocalCluster({ count: 2, port: port + 2, layout: 'split' });
  afterAll(async () => {
    await cluster.stop();
  });

  it('an aborted join rejects with ERR_EVS_ABORTED and joins nothing', async () => {
    const [node] = (await cluster.startRing()) as [EvsNode];
    const handle = node.open();
    expect(await codeOf(handle.join(['a', 'b'], { signal: AbortSignal.abort() }))).toBe('ERR_EVS_ABORTED');
    expect(handle.groups()).toEqual([]);
    const controller = new AbortController();
    const joining = handle.join(['c'], { signal: controller.signal });
    controller.abort(); // before the worker answered: undone on both sides
    expect(await codeOf(joining)).toBe('ERR_EVS_ABORTED');
    expect(handle.groups()).toEqual([]);
    // nothing of 'c' is joined on the worker either: a message to 'c' reaches no handle of this node
    const other = node.open();
    const got = new Recorder(handle);
    await other.join(['d']);
    const seen = new Recorder(other);
    await node.open().mcastGroups(['c'], bytes('to c'));
    await node.open().mcastGroups(['d'], bytes('to d'));
    await waitFor(() => seen.deliveries().length === 1, 'the message to d');
    expect(got.deliveries()).toEqual([]);
    await handle.join(['c'], { signal: new AbortController().signal });
    expect(handle.groups()).toEqual(['c']);
  });

  it('payloads are Buffers: small ones slices of one shared slab, large ones with their own memory', async () => {
    const [n1, n2] = cluster.nodes as [EvsNode, EvsNode];
    const receiver = n2.open();
    const got = new Recorder(receiver);
    await receiver.join(['buf']);
    const sender = n1.open();
    await sender.mcastGroups(['buf'], bytes('one'));
    await sender.mcastGroups(['buf'], bytes('two'));
    await sender.mcastGroups(['buf'], new Uint8Array(64 * 1024).fill(9));
    await waitFor(() => got.deliveries().length === 3, 'three payloads');
    const [a, b, large] = got.deliveries().map((d) => d.payload) as [Buffer, Buffer, Buffer];
    expect(Buffer.isBuffer(a) && Buffer.isBuffer(b) && Buffer.isBuffer(large)).toBe(true);
    expect(a.toString()).toBe('one');
    expect(b.toString()).toBe('two');
    expect(a.buffer).toBe(b.buffer); // one slab, as Buffer.allocUnsafe's pool
    expect(b.byteOffset).toBeGreaterThan(a.byteOffset);
    expect(large.buffer.byteLength).toBe(large.length);
    expect(large.every((x) => x === 9)).toBe(true);
  });
});
