/**
 * A message the main thread accepted that the protocol worker cannot take
 * (a record that is not framed as one; the group layer refusing it) is
 * counted and reported to the handle that sent it as an `error` event with a
 * stable code — never dropped silently. The main thread's checks make this a
 * bug path, so the record is forged here, into a real submit ring read by a
 * real ProtocolDriver, and the deliver ring is read by the real dispatcher.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EvsError } from '../../../src/errors.ts';
import { resolveOptions } from '../../../src/options.ts';
import { DeliverDispatcher } from '../../../src/runtime/dispatch/deliver-dispatcher.ts';
import { ProtocolDriver, type DatagramLink } from '../../../src/runtime/protocol/protocol-driver.ts';
import { encodeSubmitHead } from '../../../src/runtime/records/submit-record.ts';
import { Doorbell } from '../../../src/runtime/rings/doorbell.ts';
import { RecordReader, RecordRing, RecordWriter } from '../../../src/runtime/rings/record-ring.ts';
import type { EvsEvent } from '../../../src/types.ts';
import { Guarantee } from '../../../src/wire/messages.ts';
import { fastTotem, memberList, waitFor } from './local-cluster.ts';

const dir = mkdtempSync(join(tmpdir(), 'evs-refused-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a submitted message the protocol worker cannot take', () => {
  it('is counted and reported to its handle as an error with a stable code; the next message goes out', async () => {
    const options = resolveOptions({ nodeId: 1, bindAddr: '127.0.0.1', port: 17745, members: memberList(1, 17745), crypto: 'none', stateDir: dir, totem: fastTotem });
    const submitRing = RecordRing.create(options.rings.submitBytes);
    const deliverRing = RecordRing.create(options.rings.deliverBytes);
    const status = new Int32Array(new SharedArrayBuffer(4));
    let driver: ProtocolDriver | null = null;
    // a ring of one: what the node sends comes back to it, as over UDP
    const link: DatagramLink = {
      send: (_to, datagram) => {
        const copy = datagram.slice();
        setImmediate(() => driver?.handleDatagram(copy));
      },
      endBatch: () => undefined,
    };
    driver = new ProtocolDriver({
      options, link, rx: null, status, clock: () => performance.now(),
      submit: new RecordReader(submitRing), deliver: new RecordWriter(deliverRing), bell: new Doorbell(submitRing.dataBell),
    });
    const refused: [number[], EvsError][] = [];
    const events: [number[], EvsEvent][] = [];
    const dispatcher = new DeliverDispatcher(new RecordReader(deliverRing), status, {
      dispatch: (handles, event) => void events.push([[...handles], event]),
      refused: (handles, error) => void refused.push([[...handles], error]),
    });
    const running = dispatcher.run();
    const keepAlive = setInterval(() => undefined, 1000); // a pending waitAsync does not keep the process alive
    try {
      await driver.start();
      driver.openHandle(7);
      driver.join(7, [new TextEncoder().encode('g')]);
      const submit = new RecordWriter(submitRing);
      const good = encodeSubmitHead(Guarantee.Agreed, 7, [new TextEncoder().encode('g')]);
      const forged = good.slice();
      forged[0] = 9; // no such guarantee: not framed as a submit record
      expect(submit.tryWriteParts(forged, new Uint8Array([1]))).toBe(true);
      expect(submit.tryWriteParts(good, new Uint8Array([2]))).toBe(true);
      submit.flush();

      await waitFor(() => refused.length === 1 && events.some(([, e]) => e.kind === 'deliver'), 'the refusal and the good message');
      const [handles, error] = refused[0]!;
      expect(handles).toEqual([7]);
      expect(error).toBeInstanceOf(EvsError);
      expect(error.code).toBe('ERR_EVS_INTERNAL');
      expect(error.message).toContain('not framed');
      const delivered = events.filter(([, e]) => e.kind === 'deliver');
      expect(delivered).toHaveLength(1);
      expect([...(delivered[0]![1] as { payload: Uint8Array }).payload]).toEqual([2]);
      const stats = driver.stats();
      expect(stats.submitRefused).toBe(1);
      expect(stats.submitMalformed).toBe(1);
      expect(stats.messagesSubmitted).toBe(1);
    } finally {
      clearInterval(keepAlive);
      await driver.stop();
      dispatcher.stop();
      await running;
    }
  });
});
