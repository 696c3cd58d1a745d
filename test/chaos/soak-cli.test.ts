/**
 * `npm run chaos` options: a wrong one is named, with the usage, and exits 2
 * before anything is created; `--help` prints the usage. (The soak itself is
 * measured by hand, not here: it runs for minutes.)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const soak = fileURLToPath(new URL('./soak.ts', import.meta.url));
const run = (args: readonly string[]): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), soak, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('npm run chaos options', () => {
  it('names an unknown option and exits 2 with the usage', () => {
    const r = run(['--minuts', '3']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Unknown option '--minuts'");
    expect(r.stderr).toContain('--minutes <n>');
    expect(r.stderr).not.toContain('    at ');
  });

  it('names a bad value', () => {
    const r = run(['--transport', 'tcp']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--transport must be udpu, udp or both (got 'tcp')");
  });

  it('prints the usage for --help and exits 0', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run chaos -- \[options\]/);
    expect(r.stdout).toContain('--help');
  });
});
