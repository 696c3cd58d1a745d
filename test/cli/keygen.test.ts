/**
 * `evs keygen`: a 32-byte key in a new 0600 file; an existing file is kept
 * unless --force.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { clusterKeyBytesDefault, generateClusterKey } from '../../src/runtime/crypto/keyfile.ts';
import { evsRun, stopAll, tempDir } from './helpers.ts';

const dir = tempDir();
afterEach(() => stopAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('evs keygen', () => {
  it('writes 32 random bytes with mode 0600 and says where', async () => {
    const out = join(dir, 'a.key');
    const r = await evsRun(['keygen', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(out); // a status line; stdout stays empty
    expect(r.stdout).toBe('');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out).length).toBe(32);
  });

  it('defaults to ./evs.key, as long as generateClusterKey() makes', async () => {
    const r = await evsRun(['keygen'], dir);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'evs.key')).length).toBe(32);
    expect(generateClusterKey().length).toBe(32);
    expect(clusterKeyBytesDefault).toBe(32);
  });

  it('refuses to overwrite without --force, and names --force', async () => {
    const out = join(dir, 'b.key');
    writeFileSync(out, 'keep me');
    const r = await evsRun(['keygen', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already exists; pass --force/);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(readFileSync(out, 'utf8')).toBe('keep me');

    const forced = await evsRun(['keygen', '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(out).length).toBe(32);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('rejects a key size outside 32..4096 naming --bytes', async () => {
    const r = await evsRun(['keygen', '--out', join(dir, 'c.key'), '--bytes', '16']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^evs keygen: --bytes must be an integer from 32 to 4096/);
  });
});
