/**
 * Frames over packets through real sockets on 127.0.0.0/8: two network
 * drivers with netmtu 1500 exchange 64 KiB frames (sealed once per frame,
 * carried as whole UDP datagrams of at most 1472 bytes), inline AES-GCM, a
 * crypto pool and no crypto; a forged packet costs only the frame it joins.
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { resolveOptions } from '../../../src/options.ts';
import { NetworkDriver } from '../../../src/runtime/network/network-driver.ts';
import { CryptoPool } from '../../../src/runtime/crypto/crypto-pool.ts';
import { AesGcmCipher } from '../../../src/runtime/crypto/ciphers.ts';
import { cryptoTaskEntry } from '../../../src/runtime/workers/crypto-task-entry.ts';
import { Packetizer } from '../../../src/runtime/network/packets/packetizer.ts';
import { memberList } from '../api/local-cluster.ts';
import { waitFor } from '../../wait-for.ts';

const dir = mkdtempSync(join(tmpdir(), 'evs-frames-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const port = 43000 + (process.pid % 2000);
const key = new Uint8Array(randomBytes(32));

type Received = { plain: Uint8Array; from: number }[];

/** loopback datagrams arrive in microseconds; 3000 ms only bounds a failing test. */
const arriveMs = 3000;

const drivers: NetworkDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()));
});

async function pair(crypto: 'aes-256-gcm' | 'none', cryptoThreads = 0, members = 2, udpGso: 'auto' | 'off' = 'auto'): Promise<{ a: NetworkDriver; b: NetworkDriver; got: Received }> {
  const got: Received = [];
  const make = async (nodeId: number): Promise<NetworkDriver> => {
    const options = resolveOptions({
      nodeId, bindAddr: `127.0.0.${nodeId}`, port, members: memberList(members, port), crypto, ...(crypto === 'none' ? {} : { key }),
      stateDir: dir, netmtu: 1500, threads: { cryptoThreads }, udpGso,
    });
    const pool = cryptoThreads > 0 ? await CryptoPool.create(key, cryptoThreads, cryptoTaskEntry()) : null;
    const d = await NetworkDriver.open({ options, key: crypto === 'none' ? null : key, pool, onDatagram: (plain, from) => {
      if (nodeId === 2) got.push({ plain: plain.slice(), from });
    } });
    drivers.push(d);
    return d;
  };
  return { a: await make(1), b: await make(2), got };
}

describe('frames over packets between two network drivers (netmtu 1500)', () => {
  const cases = [
    ['inline AES-GCM', 'aes-256-gcm', 0, 'auto'], ['crypto pool', 'aes-256-gcm', 1, 'auto'], ['no crypto', 'none', 0, 'auto'],
    ['inline AES-GCM, packet by packet (udpGso off)', 'aes-256-gcm', 0, 'off'], ['crypto pool, packet by packet (udpGso off)', 'aes-256-gcm', 1, 'off'],
  ] as const;
  for (const [name, crypto, threads, udpGso] of cases) {
    it(`${name}: 64 KiB, 10 KB and small frames arrive whole and in order; every datagram fits netmtu`, async () => {
      const { a, b, got } = await pair(crypto, threads, 2, udpGso);
      const frames = [65474, 100, 10_000, 1400, 65474].map((n) => new Uint8Array(randomBytes(n)));
      for (const f of frames) a.send(2, f);
      a.endBatch();
      await waitFor(() => got.length === frames.length, 'the datagrams', arriveMs);
      expect(got.map((g) => Buffer.from(g.plain))).toEqual(frames.map((f) => Buffer.from(f)));
      expect(got.every((g) => g.from === 1)).toBe(true);
      const s = a.stats();
      expect(s.packetsOut.frames).toBe(5);
      expect(s.packetsOut.framesSplit).toBe(3); // 1400 B + 33 B of AEAD still fits 1472
      expect(s.transport.txDatagrams).toBe(s.packetsOut.packets);
      // a split frame goes in runs of packets: one sendmmsg() each with the native path, packet by packet without
      if (udpGso === 'auto') expect(s.transport.txRuns).toBeGreaterThanOrEqual(3);
      else expect(s.transport.txRuns).toBe(0);
      expect(s.transport.txBytes / s.transport.txDatagrams).toBeLessThanOrEqual(1472);
      const r = b.stats().packetsIn;
      expect(r.framesOut).toBe(3);
      expect(r.bytesHeld).toBe(0);
      expect(Object.values(r.packetsDropped).every((n) => n === 0)).toBe(true);
    });
  }

  it('forged or corrupted packets spoil only the frame they join (dropped as auth); the next frame comes through', async () => {
    const { b, got } = await pair('aes-256-gcm', 0, 3);
    // Node 3 of the member list is a raw socket here: a listed source, so its packets reach reassembly.
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(port, '127.0.0.3', () => r()));
    const sendFrame = async (sealed: Uint8Array[], corrupt: boolean): Promise<void> => {
      const packets: Buffer[] = [];
      packetizer.split(sealed, (p) => packets.push(Buffer.concat(p as Uint8Array[])));
      if (corrupt) packets[1]![100] = packets[1]![100]! ^ 0xff;
      for (const p of packets) await new Promise((r) => sock.send(p, port, '127.0.0.2', r));
    };
    const packetizer = new Packetizer(0x12345678, 1500);
    const wrongKey = new AesGcmCipher(new Uint8Array(randomBytes(32)));
    const rightKey = new AesGcmCipher(key);
    await sendFrame(wrongKey.sealParts(new Uint8Array(randomBytes(30_000))), false); // forged: another key
    await sendFrame(rightKey.sealParts(new Uint8Array(randomBytes(30_000))), true); // one packet corrupted
    const good = new Uint8Array(randomBytes(30_000));
    await sendFrame(rightKey.sealParts(good), false);
    await waitFor(() => got.length === 1 && b.stats().crypto.dropped.auth === 2, 'the datagrams', arriveMs);
    sock.close();
    expect(Buffer.from(got[0]!.plain)).toEqual(Buffer.from(good));
    expect(got[0]!.from).toBe(3);
    const s = b.stats();
    expect(s.packetsIn.framesOut).toBe(3);
    expect(s.crypto.opened).toBe(1);
    expect(s.packetsIn.bytesHeld).toBe(0);
  });
});
