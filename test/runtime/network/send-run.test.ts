/**
 * A run of a frame's packets (UdpTransport.sendRun) on real sockets: with the
 * native segmented send (options.udpGso 'auto', one sendmmsg() for all
 * destinations) and packet by packet (udpGso 'off'), every destination gets
 * every packet as its own datagram with the same bytes, the last one shorter.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nativeGso } from '../../../src/runtime/network/native-gso.ts';
import { UdpTransport, type TransportOptions } from '../../../src/runtime/network/udp-transport.ts';
import { waitFor } from '../../wait-for.ts';

const port = 45000 + (process.pid % 2000);
const members = [1, 2, 3].map((nodeId) => ({ nodeId, addr: `127.0.0.${nodeId}`, port }));

function options(nodeId: number, udpGso: 'auto' | 'off'): TransportOptions {
  return {
    nodeId, transport: 'udpu', bindAddr: `127.0.0.${nodeId}`, port, members, mcast: null,
    sendBufferBytes: 1 << 22, recvBufferBytes: 1 << 22, udpGso,
  };
}

/** loopback datagrams arrive in microseconds; 2000 ms only bounds a failing test. */
const arriveMs = 2000;

/** `count` packets of `segmentBytes` (the last `lastBytes`), each filled with its index, the first as two parts. */
function packets(count: number, segmentBytes: number, lastBytes: number): (Uint8Array | Uint8Array[])[] {
  return Array.from({ length: count }, (_, i) => {
    const bytes = Buffer.alloc(i === count - 1 ? lastBytes : segmentBytes, i);
    return i === 0 ? [bytes.subarray(0, 16), bytes.subarray(16)] : bytes;
  });
}

let transports: UdpTransport[] = [];
afterEach(async () => {
  for (const t of transports) await t.close();
  transports = [];
});

async function open(udpGso: 'auto' | 'off'): Promise<Map<number, Buffer[]>> {
  const received = new Map<number, Buffer[]>([[1, []], [2, []], [3, []]]);
  for (const id of [1, 2, 3]) {
    transports.push(await UdpTransport.open(options(id, udpGso), (d) => received.get(id)?.push(Buffer.from(d))));
  }
  return received;
}

describe.each(['auto', 'off'] as const)('sendRun with udpGso %s', (udpGso) => {
  it('fans a run out to every other member: one datagram per packet, bytes intact, in order', async () => {
    if (udpGso === 'auto') expect(nativeGso().status).toBe('loaded'); // npm ci builds it (npm run build:native)
    const received = await open(udpGso);
    const sender = transports[0]!;
    expect(sender.gsoStatus).toBe(udpGso === 'auto' ? 'on' : 'off (options.udpGso)');
    const run = packets(40, 1472, 300);
    sender.sendRun(0, run, 1472);
    await waitFor(() => received.get(2)!.length === 40 && received.get(3)!.length === 40, 'the datagrams', arriveMs);
    for (const id of [2, 3]) {
      const got = received.get(id)!;
      expect(got.map((d) => d.length)).toEqual([...Array<number>(39).fill(1472), 300]);
      got.forEach((d, i) => expect(d.every((b) => b === i)).toBe(true));
    }
    expect(received.get(1)).toEqual([]);
    expect(sender.stats.txDatagrams).toBe(80);
    expect(sender.stats.txRuns).toBe(udpGso === 'auto' ? 1 : 0);
    expect(sender.stats.txRunFallbacks).toBe(udpGso === 'auto' ? 0 : 1);
  });

  it('sends a run to one member', async () => {
    const received = await open(udpGso);
    transports[1]!.sendRun(3, packets(5, 1000, 1000), 1000);
    await waitFor(() => received.get(3)!.length === 5, 'the datagrams', arriveMs);
    expect(received.get(3)!.map((d) => d[0])).toEqual([0, 1, 2, 3, 4]);
    expect(received.get(1)).toEqual([]);
  });
});

describe('sendRun refuses a run the kernel would cut wrongly', () => {
  it('throws when a packet before the last is not segmentBytes long', async () => {
    await open('auto');
    const run = [Buffer.alloc(1000), Buffer.alloc(900), Buffer.alloc(1000)];
    expect(() => transports[0]!.sendRun(0, run, 1000)).toThrow(/packet 1 of 3 has 900 bytes/);
    expect(() => transports[0]!.sendRun(0, [Buffer.alloc(1000), Buffer.alloc(1001)], 1000)).toThrow(/packet 1 of 2 has 1001 bytes/);
    expect(transports[0]!.stats.txDatagrams).toBe(0);
  });
});
