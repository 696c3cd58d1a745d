/**
 * Three `evs node` processes on 127.0.0.1..3: each prints a regular
 * configuration with all three, a line typed on one node's stdin is printed as
 * a delivery by every node, and SIGTERM / SIGINT stop them with exit codes
 * 143 / 130. Data (configuration changes, deliveries) is on stdout, the
 * `bound` status line on stderr.
 * Node 1 runs from a JSON config file (flags overriding it), the others from
 * flags only.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { evs, evsRun, fastTotemFlags, hasConfiguration, stopAll, tempDir } from './helpers.ts';

const port = 18600;
const dir = tempDir();
const members = '1@127.0.0.1,2@127.0.0.2,3@127.0.0.3';

afterEach(() => stopAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evs node', () => {
  it('three nodes form one ring and deliver each typed line everywhere', async () => {
    expect((await evsRun(['keygen', '--out', join(dir, 'evs.key')])).code).toBe(0);
    const config = join(dir, 'node1.json');
    writeFileSync(config, JSON.stringify({
      nodeId: 1, port: 1, keyFile: 'evs.key', stateDir: 'state1', groups: ['evs'],
      members: [{ nodeId: 1, addr: '127.0.0.1' }, { nodeId: 2, addr: '127.0.0.2' }, { nodeId: 3, addr: '127.0.0.3' }],
      totem: { tokenMs: 300, tokenCoefficientMs: 0, consensusMs: 400, joinMs: 50 },
    }));
    const nodes = [
      evs(['node', '--config', config, '--port', String(port)]), // the flag overrides the file's port
      ...[2, 3].map((id) => evs(['node', '--node-id', String(id), '--members', members, '--port', String(port),
        '--key-file', join(dir, 'evs.key'), '--state-dir', join(dir, `state${id}`), ...fastTotemFlags])),
    ];
    await Promise.all(nodes.map((n) => n.waitLine((lines) => hasConfiguration(lines, 'regular', [1, 2, 3]))));
    await Promise.all(nodes.map((n) => n.waitLine(/^evs node \d: bound 127\.0\.0\.\d:18600 \(udpu, aes-256-gcm, single layout\), joined evs/, undefined, 'stderr')));
    for (const n of nodes) expect(n.stdout.filter((l) => / bound /.test(l))).toEqual([]);

    nodes[0]!.write('hello from one');
    nodes[2]!.write('tab\there');
    await Promise.all(nodes.map((n) => n.waitLine(/^Delivering message from node 1 to evs \(agreed, 14 bytes\): "hello from one"$/)));
    await Promise.all(nodes.map((n) => n.waitLine(/^Delivering message from node 3 to evs \(agreed, 8 bytes\): "tab\\there"$/)));
    // Agreed order: every node printed the two deliveries in the same order.
    const orders = nodes.map((n) => n.stdout.filter((l) => l.startsWith('Delivering')));
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).toEqual(orders[0]);

    nodes[0]!.process.kill('SIGTERM');
    expect(await nodes[0]!.exited).toBe(143);
    await Promise.all(nodes.slice(1).map((n) => n.waitLine((lines) => hasConfiguration(lines, 'regular', [2, 3]))));
    for (const n of nodes.slice(1)) n.process.kill('SIGINT');
    expect(await Promise.all(nodes.slice(1).map((n) => n.exited))).toEqual([130, 130]);
    for (const n of nodes) expect(n.stderr.filter((l) => !l.includes('stdin ended') && !/^evs node \d: bound /.test(l))).toEqual([]);
  });

  it('--exit-on-eof: stops by itself once stdin ends and its lines came back', async () => {
    const alone = evs(['node', '--node-id', '9', '--members', '9@127.0.0.9', '--port', String(port + 1), '--no-crypto',
      '--state-dir', join(dir, 'state9'), '--exit-on-eof', '--groups', 'a,b', ...fastTotemFlags]);
    alone.write('last words');
    alone.process.stdin?.end();
    expect(await alone.exited).toBe(0);
    expect(alone.stdout).toContain('Delivering message from node 9 to a,b (agreed, 10 bytes): "last words"');
    expect(alone.stderr.join('\n')).toMatch(/crypto 'none'/); // the library's warning when AEAD is off
  });
});
