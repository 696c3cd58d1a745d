/**
 * Bad datagrams against a running node, over real sockets and real AES-GCM.
 *
 * The member list names four nodes; nodes 1-3 run and the test holds member
 * 4's address:port with a plain node:dgram socket. The source filter lets
 * that address through, and udpu fans every multicast out to it, so the test
 * captures real sealed datagrams. It then sends node 1 garbage, truncated,
 * flipped, replayed and foreign-key datagrams, and checks each is counted by
 * reason, none reaches the application, and the node keeps working.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvsHandle, EvsNode } from '../../../src/index.ts';
import { AesGcmCipher } from '../../../src/runtime/crypto/ciphers.ts';
import { isOpenFailure, type OpenFailure } from '../../../src/runtime/crypto/datagram-cipher.ts';
import { envelopeByte } from '../../../src/runtime/crypto/envelope.ts';
import { decode, MessageType } from '../../../src/wire/index.ts';
import { bytes, layoutCases, LocalCluster, Recorder, sleep, waitFor } from './local-cluster.ts';

const portBase = 17610;

interface Captured {
  readonly from: string;
  readonly bytes: Uint8Array;
}

async function bindSocket(address: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

function send(socket: dgram.Socket, datagram: Uint8Array, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => socket.send(datagram, port, address, (error) => (error === null ? resolve() : reject(error))));
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

describe.each(layoutCases.map((c, i) => ({ ...c, port: portBase + i })))('bad datagrams, layout $name', ({ layout, cryptoThreads, port }) => {
  let cluster: LocalCluster;
  let nodes: EvsNode[];
  let member4: dgram.Socket;
  let stranger: dgram.Socket;
  const captured: Captured[] = [];
  let handles: EvsHandle[];
  let recorders: Recorder[];

  beforeAll(async () => {
    cluster = new LocalCluster({ count: 3, memberCount: 4, port, layout, cryptoThreads });
    member4 = await bindSocket('127.0.0.4', port);
    member4.on('message', (message, rinfo) => captured.push({ from: rinfo.address, bytes: new Uint8Array(message) }));
    stranger = await bindSocket('127.0.0.9', 0);
    nodes = await cluster.startRing();
    handles = nodes.map((n) => n.open());
    recorders = handles.map((h) => new Recorder(h));
    await Promise.all(handles.map((h) => h.join(['app'])));
  });
  afterAll(async () => {
    await cluster.stop();
    await closeSocket(member4);
    await closeSocket(stranger);
  });

  const dropped = async (node: EvsNode): Promise<Record<OpenFailure, number>> => (await node.stats()).network.crypto.dropped;
  const minus = (a: Record<OpenFailure, number>, b: Record<OpenFailure, number>): Record<OpenFailure, number> =>
    Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - b[k as OpenFailure]])) as Record<OpenFailure, number>;

  it('each bad datagram is dropped and counted by reason; nothing reaches the application; the node keeps working', async () => {
    const node1 = nodes[0]!;
    // Real application messages from nodes 1 and 2, so that sealed MCASTs of both are captured.
    await handles[0]!.mcastJoined(bytes('genuine 1'));
    await handles[1]!.mcastJoined(bytes('genuine 2'));
    await waitFor(() => recorders.every((r) => r.texts().includes('genuine 1') && r.texts().includes('genuine 2')), 'the genuine messages');
    const ours = new AesGcmCipher(cluster.key); // the test may open what it captured: it holds the cluster key
    const accelerated = node1.options.totem.ordering === 'accelerated'; // the wire's version byte says which ordering
    const opened = new Map<Uint8Array, Uint8Array | null>(); // each captured datagram opened once (the test's cipher has a replay window too)
    const lastMcast = (from: string): { sealed: Uint8Array; plain: Uint8Array } | null => {
      for (const c of [...captured].reverse()) {
        if (c.from !== from) continue;
        if (!opened.has(c.bytes)) {
          const result = ours.open(c.bytes);
          opened.set(c.bytes, isOpenFailure(result) ? null : result);
        }
        const plain = opened.get(c.bytes);
        if (plain === null || plain === undefined) continue;
        const decoded = decode(plain, accelerated);
        if (decoded.ok && decoded.message.type === MessageType.Mcast && decoded.message.payload.length > 0) return { sealed: c.bytes, plain };
      }
      return null;
    };
    // The copy to member 4 may leave the sender after those to the running nodes: wait for it.
    await waitFor(() => lastMcast('127.0.0.1') !== null && lastMcast('127.0.0.2') !== null, 'MCASTs of nodes 1 and 2 at member 4');
    // Node 1 accepted the (salt, counter) of node 2's datagram; a datagram under its own salt can only be a
    // reflection of one it sent (it never seals one for itself), so it refuses any of them as a replay,
    // damaged or not, before trying the tag.
    const other = lastMcast('127.0.0.2')!;
    const own = lastMcast('127.0.0.1')!;
    expect(decode(other.plain, accelerated).ok).toBe(true); // a valid wire message
    await sleep(50); // node 1 has long handled its copy of node 2's datagram

    const deliveriesBefore = recorders.map((r) => r.deliveries().length);
    const befores = await Promise.all(nodes.map(dropped));
    const before = befores[0]!;
    const node1Port = node1.address.port;
    const toNode1 = (d: Uint8Array): Promise<void> => send(member4, d, node1Port, '127.0.0.1');

    const flip = (d: Uint8Array, at: number, bit = 0x01): Uint8Array => {
      const copy = d.slice();
      const i = at < 0 ? copy.length + at : at;
      copy[i] = copy[i]! ^ bit;
      return copy;
    };
    const garbage = randomBytes(200);
    garbage[0] = 0x00; // neither the 0xA1 envelope byte nor the 0xA2 packet marker
    await toNode1(garbage); // bad-header
    // short: an envelope byte, then less than the header + tag. Its first byte is set: a random one was the
    // packet marker 1 time in 256, and the reassembler, not the cipher, took it (CI once timed out so)
    const short = randomBytes(20);
    short[0] = envelopeByte;
    await toNode1(short);
    await toNode1(own.sealed.subarray(0, 25)); // truncated inside the envelope: short
    await toNode1(own.sealed); // its own datagram reflected back verbatim: replay
    await toNode1(own.sealed.subarray(0, own.sealed.length - 1)); // its own, truncated by one byte: replay
    await toNode1(flip(own.sealed, 20)); // its own, one ciphertext bit: replay
    await toNode1(flip(own.sealed, -1, 0x80)); // its own, one tag bit: replay
    // a genuine sender node 1 never heard from (the cluster key, a fresh salt): only the tag refuses a damaged copy
    const fresh = new Uint8Array(other.plain.length + ours.overheadBytes);
    ours.seal(other.plain, fresh, 0);
    await toNode1(fresh.subarray(0, fresh.length - 1)); // truncated by one byte: auth
    await toNode1(flip(fresh, 20)); // one ciphertext bit: auth
    await toNode1(flip(fresh, -1, 0x80)); // one tag bit: auth
    await toNode1(flip(other.sealed, 14, 0x04)); // one bit of the counter's high half: a fresh nonce, auth
    await toNode1(flip(other.sealed, 20)); // damaged, but its (salt, counter) was accepted: the window refuses it first, replay
    await toNode1(other.sealed); // replayed verbatim: replay
    const foreign = new AesGcmCipher(randomBytes(32));
    const foreignSealed = new Uint8Array(other.plain.length + foreign.overheadBytes);
    foreign.seal(other.plain, foreignSealed, 0);
    await toNode1(foreignSealed); // a valid wire message under another cluster key: auth

    const want: Record<OpenFailure, number> = { short: 2, 'bad-header': 1, auth: 5, replay: 6, 'too-old': 0 };
    const total = Object.values(want).reduce((x, y) => x + y, 0);
    await waitFor(async () => Object.values(minus(await dropped(node1), before)).reduce((x, y) => x + y, 0) >= total, `${total} drops on node 1`);
    await sleep(50);
    expect(minus(await dropped(node1), before)).toEqual(want);
    // The other nodes got none of it.
    for (let i = 1; i < nodes.length; i++) expect(Object.values(minus(await dropped(nodes[i]!), befores[i]!)).every((v) => v === 0)).toBe(true);

    // Nothing of it reached an application, and the worker is alive: new messages still flow, from node 1 too.
    expect(recorders.map((r) => r.deliveries().length)).toEqual(deliveriesBefore);
    await handles[0]!.mcastJoined(bytes('after 1'));
    await handles[2]!.mcastJoined(bytes('after 3'));
    await waitFor(() => recorders.every((r) => r.deliveries().length === deliveriesBefore[0]! + 2), 'the messages after');
    for (const r of recorders) expect(r.texts().slice(-2).sort()).toEqual(['after 1', 'after 3']);
    expect((await node1.membership()).members).toEqual([1, 2, 3]);
  });

  it('datagrams from an unlisted address are dropped before the cipher and counted as rxUnknownSource', async () => {
    const node1 = nodes[0]!;
    const sealed = captured.find((c) => c.from === '127.0.0.3')?.bytes;
    expect(sealed).toBeDefined();
    const before = await node1.stats();
    await send(stranger, sealed!, node1.address.port, '127.0.0.1');
    await send(stranger, randomBytes(100), node1.address.port, '127.0.0.1');
    await waitFor(async () => (await node1.stats()).network.transport.rxUnknownSource >= before.network.transport.rxUnknownSource + 2, 'two unknown-source drops');
    await sleep(20);
    const after = await node1.stats();
    expect(after.network.transport.rxUnknownSource - before.network.transport.rxUnknownSource).toBe(2);
    expect(minus(after.network.crypto.dropped, before.network.crypto.dropped)).toEqual({ short: 0, 'bad-header': 0, auth: 0, replay: 0, 'too-old': 0 });
  });
});
