/**
 * Regressions found by the API tests, reproduced deterministically on the
 * drivers themselves.
 *
 * 1. ProtocolDriver before start. In the single layout the network driver binds the socket (and
 * hands every datagram straight to the protocol driver) before the main thread
 * asks the protocol driver to start. A datagram in that gap reached the core
 * before its start and the assertion "start before handling inputs" killed the
 * worker (seen as ERR_EVS_WORKER_FAILED from EvsNode.start when a node started
 * next to a busy ring). The driver now drops datagrams until it has started,
 * as if the socket were not bound yet: Totem re-sends what matters.
 *
 * 2. NetworkDriver closing with a crypto pool. A datagram received in the
 * event-loop turn the driver closes in was still handed to the pool on the
 * next turn (setImmediate), after close() had closed the pool: the pool
 * refused ('CryptoPool: closed'), nobody handled the rejection, and the network
 * worker died during a graceful stop (ERR_EVS_WORKER_FAILED, seen under load).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { resolveOptions } from '../../../src/options.ts';
import { ProtocolDriver, type DatagramLink } from '../../../src/runtime/protocol/protocol-driver.ts';
import { NetworkDriver } from '../../../src/runtime/network/network-driver.ts';
import { AesGcmCipher } from '../../../src/runtime/crypto/ciphers.ts';
import { type BatchCipher, createCryptoStats, type OpenFailure } from '../../../src/runtime/crypto/datagram-cipher.ts';
import { Doorbell } from '../../../src/runtime/rings/doorbell.ts';
import { RecordReader, RecordRing, RecordWriter } from '../../../src/runtime/rings/record-ring.ts';
import { encode, MessageType } from '../../../src/wire/index.ts';
import { fastTotem, memberList } from './local-cluster.ts';

const dir = mkdtempSync(join(tmpdir(), 'evs-driver-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ProtocolDriver before start', () => {
  let driver: ProtocolDriver | null = null;
  afterEach(async () => {
    await driver?.stop();
    driver = null;
  });

  it('drops datagrams that arrive before start() instead of failing, and starts', async () => {
    const options = resolveOptions({
      nodeId: 1, bindAddr: '127.0.0.1', port: 17390, members: memberList(2, 17390), crypto: 'none', stateDir: dir, totem: fastTotem,
      threads: { layout: 'single' },
    });
    const submit = RecordRing.create(options.rings.submitBytes);
    const deliver = RecordRing.create(options.rings.deliverBytes);
    const sends: number[] = [];
    // Multicasts go nowhere (node 2 is absent); what node 1 sends itself (its token) comes back, as over UDP.
    const link: DatagramLink = {
      send: (to, datagram) => {
        sends.push(to);
        const copy = datagram.slice();
        if (to === 1) setImmediate(() => driver?.handleDatagram(copy));
      },
      endBatch: () => undefined,
    };
    driver = new ProtocolDriver({
      options, link, rx: null,
      submit: new RecordReader(submit), deliver: new RecordWriter(deliver),
      bell: new Doorbell(submit.dataBell), status: new Int32Array(new SharedArrayBuffer(4)),
      clock: () => performance.now(),
    });
    const join2 = encode({ type: MessageType.Join, sender: 2, leave: false, ringSeq: 0, procList: [1, 2], failedList: [] });
    const cancel = encode({ type: MessageType.TokenHoldCancel, sender: 2, ringId: { rep: 2, seq: 4 } });
    expect(() => driver!.handleDatagram(join2)).not.toThrow();
    expect(() => driver!.handleDatagram(cancel)).not.toThrow();
    expect(driver.stats().datagramsIn).toBe(0); // dropped, not handled
    expect(sends).toEqual([]);

    // Node 2 never answers: after the consensus timeout node 1 forms a ring of its own.
    const membership = await driver.start().then(() => driver!.membership());
    expect(membership.members).toEqual([1]);
    expect(sends.length).toBeGreaterThan(0);
    // Once started, datagrams are handled.
    const handled = driver.stats().datagramsIn;
    driver.handleDatagram(cancel);
    expect(driver.stats().datagramsIn).toBe(handled + 1);
  });
});

/** a BatchCipher like CryptoPool on the points that matter: it refuses work once closed, and counts. */
class FakePool implements BatchCipher {
  readonly overheadBytes = 33;
  closed = false;
  openCalls = 0;
  callsAfterClose = 0;
  readonly #cipher: AesGcmCipher;

  constructor(key: Uint8Array) {
    this.#cipher = new AesGcmCipher(key);
  }

  seal(plains: readonly Uint8Array[]): Promise<Uint8Array[]> {
    if (this.closed) {
      this.callsAfterClose++;
      return Promise.reject(new Error('FakePool: closed'));
    }
    return Promise.resolve(plains.map((p) => {
      const out = new Uint8Array(p.length + this.overheadBytes);
      this.#cipher.seal(p, out, 0);
      return out;
    }));
  }

  open(sealed: readonly Uint8Array[]): Promise<(Uint8Array | OpenFailure)[]> {
    this.openCalls++;
    if (this.closed) {
      this.callsAfterClose++;
      return Promise.reject(new Error('FakePool: closed'));
    }
    return Promise.resolve(sealed.map((d) => this.#cipher.open(d)));
  }

  stats() {
    return createCryptoStats();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

describe('NetworkDriver with a crypto pool, closing', () => {
  it('does not hand a datagram received in the closing turn to the closed pool', async () => {
    const port = 17391;
    const key = new Uint8Array(32).fill(7);
    const options = resolveOptions({
      nodeId: 1, bindAddr: '127.0.0.1', port, members: memberList(2, port), key, stateDir: dir, totem: fastTotem,
      threads: { cryptoThreads: 1 },
    });
    const pool = new FakePool(key);
    const plains: Uint8Array[] = [];
    const driver = await NetworkDriver.open({ options, key, pool, onDatagram: (plain) => void plains.push(plain) });
    const sealed = new Uint8Array(10 + 33);
    new AesGcmCipher(key).seal(new Uint8Array(10), sealed, 0);
    // What the socket does for a datagram from member 2; then close in the same turn, as a stop can.
    const receive = (driver as unknown as { receive(datagram: Uint8Array, from: number): void }).receive.bind(driver);
    receive(sealed, 2);
    await driver.close();
    expect(pool.closed).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(pool.callsAfterClose).toBe(0);
    expect(plains).toEqual([]);

    // A datagram received before close is opened and handed on as usual.
    const pool2 = new FakePool(key);
    const driver2 = await NetworkDriver.open({ options, key, pool: pool2, onDatagram: (plain) => void plains.push(plain) });
    (driver2 as unknown as { receive(datagram: Uint8Array, from: number): void }).receive(sealed, 2);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await driver2.close();
    expect(pool2.openCalls).toBe(1);
    expect(plains).toHaveLength(1);
  });
});
