/**
 * Real sockets on 127.0.0.0/8: three udpu transports on 127.0.0.1..3 (same
 * port), fan-out, unicast, and a stranger's datagrams dropped and counted.
 */
import dgram from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { UdpTransport, type TransportOptions } from '../../../src/runtime/network/udp-transport.ts';
import { waitFor } from '../../wait-for.ts';

const port = 47000 + (process.pid % 2000);
const members = [1, 2, 3].map((nodeId) => ({ nodeId, addr: `127.0.0.${nodeId}`, port }));

function options(nodeId: number): TransportOptions {
  return {
    nodeId, transport: 'udpu', bindAddr: `127.0.0.${nodeId}`, port, members, mcast: null,
    sendBufferBytes: 1 << 20, recvBufferBytes: 1 << 20, udpGso: 'off',
  };
}

/** loopback datagrams arrive in microseconds; 2000 ms only bounds a failing test. */
const arriveMs = 2000;

describe('udpu transport on loopback', () => {
  const received = new Map<number, { from: number; text: string }[]>([[1, []], [2, []], [3, []]]);
  const transports: UdpTransport[] = [];
  const open = async (): Promise<void> => {
    for (const id of [1, 2, 3]) {
      transports.push(await UdpTransport.open(options(id), (d, from) => received.get(id)?.push({ from, text: Buffer.from(d).toString() })));
    }
  };
  afterAll(async () => {
    for (const t of transports) await t.close();
  });

  it('fans a multicast out to every other member, with the sender resolved from its address', async () => {
    await open();
    transports[0]?.multicast(Buffer.from('hello'));
    await waitFor(() => (received.get(2)?.length ?? 0) === 1 && (received.get(3)?.length ?? 0) === 1, 'the datagrams', arriveMs);
    expect(received.get(2)).toEqual([{ from: 1, text: 'hello' }]);
    expect(received.get(3)).toEqual([{ from: 1, text: 'hello' }]);
    expect(received.get(1)).toEqual([]);
    expect(transports[0]?.stats.txDatagrams).toBe(2);
  });

  it('unicasts to one member, also to itself (a singleton ring passes the token to itself)', async () => {
    transports[1]?.sendTo(3, Buffer.from('token'));
    transports[0]?.sendTo(1, Buffer.from('self'));
    await waitFor(() => (received.get(3)?.length ?? 0) === 2 && (received.get(1)?.length ?? 0) === 1, 'the datagrams', arriveMs);
    expect(received.get(3)?.[1]).toEqual({ from: 2, text: 'token' });
    expect(received.get(1)).toEqual([{ from: 1, text: 'self' }]);
  });

  it('drops and counts datagrams from an address outside the member list', async () => {
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.9', () => r()));
    await new Promise<void>((r) => stranger.send(Buffer.from('forged'), port, '127.0.0.2', () => r()));
    await waitFor(() => (transports[1]?.stats.rxUnknownSource ?? 0) === 1, 'the datagrams', arriveMs);
    await new Promise<void>((r) => stranger.close(() => r()));
    expect(received.get(2)?.map((x) => x.text)).toEqual(['hello']);
  });

  it('refuses to bind a port that is taken, with the socket error', async () => {
    await expect(UdpTransport.open(options(1), () => {})).rejects.toThrow(/EADDRINUSE/);
  });
});
