/**
 * `evs node` with a wrong option: exit code 2 and one line on stderr that
 * names the flag (or the config-file key) and what to fix; nothing started.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { evsRun, stopAll, tempDir } from './helpers.ts';

const dir = tempDir();
const key = join(dir, 'evs.key');
const good = ['--node-id', '1', '--members', '1@127.0.0.1,2@127.0.0.2', '--key-file', key, '--state-dir', join(dir, 's1'), '--port', '18640'];

afterEach(() => stopAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** runs `evs node` with `good` changed by `args` (later flags win) and expects exit 2 with one line matching. */
async function expectUsage(args: readonly string[], message: RegExp): Promise<void> {
  const r = await evsRun(['node', ...good, ...args]);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+/); // no stack trace
  expect(r.code).toBe(2);
}

describe('evs node rejects a wrong option by name, exit code 2', () => {
  it('writes the key first', async () => {
    expect((await evsRun(['keygen', '--out', key])).code).toBe(0);
  });

  it('--port nonsense', () => expectUsage(['--port', 'nonsense'], /^evs node: --port must be an integer from 1 to 65535 \(got 'nonsense'\)$/));

  it('a member that is not id@addr', () => expectUsage(['--members', '1@127.0.0.1,2-127.0.0.2'], /^evs node: --members entry '2-127\.0\.0\.2' is not id@addr\[:port\]/));

  it('a member address that is not IPv4', () => expectUsage(['--members', '1@127.0.0.1,2@127.0.0.x'], /^evs node: --members \(members\[1\]\.addr\) must be an IPv4 address \(got '127\.0\.0\.x'\)/));

  it('a member list without this node', () => expectUsage(['--members', '2@127.0.0.2', '--bind', '127.0.0.1'], /^evs node: --members must list this node \(nodeId 1\)/));

  it('a missing key file', () => expectUsage(['--key-file', join(dir, 'absent.key')], /^evs node: --key-file: key file .*absent\.key does not exist/));

  it('no key file at all', async () => {
    const r = await evsRun(['node', '--node-id', '1', '--members', '1@127.0.0.1', '--state-dir', join(dir, 's1')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^evs node: --key-file is required; make one with `evs keygen/);
  });

  it('a totem setting below its minimum', () => expectUsage(['--token-ms', '5'], /^evs node: --token-ms must be a number >= 30 \(got 5\)$/));

  it('an unknown layout', () => expectUsage(['--layout', 'triple'], /^evs node: --layout must be one of 'split', 'single' \(got 'triple'\)$/));

  it('udp without a multicast group (checked before anything binds)', () => expectUsage(['--transport', 'udp'], /^evs node: --mcast-addr is required$/));

  it('an unknown flag (commander) is a usage error too', async () => {
    const r = await evsRun(['node', '--tokn-ms', '5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--tokn-ms'/);
  });

  it('a bad value in the config file names the key and the file', async () => {
    const config = join(dir, 'node.json');
    writeFileSync(config, JSON.stringify({ nodeId: 1, members: [{ nodeId: 1, addr: '127.0.0.1' }], keyFile: 'evs.key', stateDir: 's1', totem: { windowSize: 'big' } }));
    const r = await evsRun(['node', '--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`evs node: "totem.windowSize" in ${config} must be a finite number (got 'big')`);
  });

  it('a config file that is not JSON', async () => {
    const config = join(dir, 'broken.json');
    writeFileSync(config, '{ nodeId: 1');
    const r = await evsRun(['node', '--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^evs node: --config .*broken\.json: not valid JSON/);
  });
});
