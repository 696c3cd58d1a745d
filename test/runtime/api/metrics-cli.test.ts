/**
 * `evs node --metrics-port` serves the node's Prometheus metrics on
 * 127.0.0.1 by default (a real `evs` child process, scraped over HTTP).
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { evs, fastTotemFlags, stopAll, tempDir } from '../../cli/helpers.ts';
import { waitFor } from './local-cluster.ts';

const port = 17770;

describe('evs node --metrics-port', () => {
  afterEach(async () => {
    await stopAll();
  });

  it('serves /metrics on 127.0.0.1, port 0 meaning any free port, and says where on stderr', async () => {
    const dir = tempDir();
    try {
      const node = evs(['node', '--node-id', '1', '--members', `1@127.0.0.1:${port}`, '--state-dir', dir, '--no-crypto', ...fastTotemFlags, '--metrics-port', '0']);
      let url = '';
      await waitFor(() => {
        const line = node.stderr.find((l) => /metrics at http:\/\//.test(l));
        url = /(http:\/\/\S+)/.exec(line ?? '')?.[1] ?? '';
        return url !== '';
      }, 'the metrics line', 20_000);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      let body = '';
      await waitFor(async () => {
        body = await (await fetch(url)).text();
        return /^evs_ring_members\{node_id="1"\} 1$/m.test(body);
      }, 'the node in its ring, seen in the metrics', 20_000);
      expect(body).toMatch(/^evs_handles\{node_id="1"\} 1$/m);
      expect(body).toMatch(/^# TYPE evs_token_losses_total counter$/m);
      node.process.kill('SIGTERM');
      await node.exited;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad port naming the flag', async () => {
    const dir = tempDir();
    try {
      const node = evs(['node', '--node-id', '1', '--members', `1@127.0.0.1:${port + 1}`, '--state-dir', dir, '--no-crypto', '--metrics-port', 'x']);
      const code = await node.exited;
      expect(code).not.toBe(0);
      expect(node.stderr.join('\n')).toContain('--metrics-port must be a port number');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
