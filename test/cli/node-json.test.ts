/**
 * `evs node --json`: one JSON object per line on stdout, for programs (the
 * chaos harness reads it): configuration changes and deliveries with the
 * whole payload and the node's time; the status line goes to stderr.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { jsonConfchg, jsonDelivery } from '../../src/cli/commands/node-output.ts';
import { evs, fastTotemFlags, stopAll, tempDir } from './helpers.ts';

const dir = tempDir();
afterEach(() => stopAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evs node --json', () => {
  it('a configuration change: every field', () => {
    const line = jsonConfchg({ kind: 'confchg', type: 'transitional', ringId: { rep: 1, seq: 12 }, members: [1, 3], left: [2], joined: [] }, 5.5);
    expect(JSON.parse(line)).toEqual({ event: 'confchg', atMs: 5.5, type: 'transitional', ringId: { rep: 1, seq: 12 }, members: [1, 3], left: [2], joined: [] });
  });

  it('a delivery: the whole payload as text, or base64 when it is not UTF-8; always one line', () => {
    const text = `a "quoted"\nline ${'x'.repeat(5000)}`;
    const line = jsonDelivery({ kind: 'deliver', sender: 2, groups: ['g'], guarantee: 'safe', payload: Buffer.from(text) }, 7);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({ event: 'deliver', atMs: 7, sender: 2, groups: ['g'], guarantee: 'safe', bytes: Buffer.byteLength(text), payload: text });
    const slab = Uint8Array.of(9, 0xff, 0x00, 0x41, 9); // a payload that shares its backing memory, as delivered payloads share slabs
    const binary = JSON.parse(jsonDelivery({ kind: 'deliver', sender: 1, groups: ['g'], guarantee: 'agreed', payload: Buffer.from(slab.buffer, 1, 3) }, 1));
    expect(binary).toMatchObject({ bytes: 3, payloadBase64: Buffer.from([0xff, 0x00, 0x41]).toString('base64') });
    expect(binary.payload).toBeUndefined();
  });

  it('a lone node prints its configuration and its own line as JSON on stdout, its status on stderr', async () => {
    const node = evs(['node', '--json', '--node-id', '69', '--members', '69@127.0.0.69', '--port', '18690', '--no-crypto',
      '--state-dir', join(dir, 'state69'), '--exit-on-eof', ...fastTotemFlags]);
    node.write('hello json');
    node.process.stdin?.end();
    expect(await node.exited).toBe(0);
    const objects = node.stdout.filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objects.find((o) => o.event === 'confchg' && o.type === 'regular')).toMatchObject({ members: [69] });
    expect(objects.filter((o) => o.event === 'deliver')).toEqual([
      { event: 'deliver', atMs: expect.any(Number), sender: 69, groups: ['evs'], guarantee: 'agreed', bytes: 10, payload: 'hello json' },
    ]);
    const times = objects.map((o) => o.atMs as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(node.stderr.some((l) => /^evs node 69: bound 127\.0\.0\.69:18690 /.test(l))).toBe(true);
  });
});
