/**
 * The package as a user gets it: `npm pack` (prepack builds dist/), the
 * tarball installed into an empty project from the registry like any
 * dependency, then
 *   - an ES module, a CommonJS script and a strict TypeScript program
 *     (typechecked by this repo's tsc against the consumer's node_modules)
 *     each run three nodes on 127.0.0.1..3 that exchange messages and stop;
 *   - the installed `evs` bin: --version, keygen, and a short `evs cluster`
 *     stopped by SIGINT (exit 130, every node gone, its directory removed);
 *   - publint and arethetypeswrong on the tarball;
 *   - no tsx or esbuild anywhere in the consumer's node_modules, no .ts
 *     sources, tests, benchmarks or source maps in the tarball, no @internal
 *     member in its declarations.
 * Needs the npm registry (the package's dependencies); loopback only. The
 * checks after the install run concurrently (each cluster has its own port):
 * most of their time is spent waiting on processes, not computing.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cjsProgram, consumerTsconfig, ctsProgram, esmProgram, tsProgram } from './consumer-programs.ts';
import { alive, killAll, run, watch } from './processes.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string; version: string };
const bin = (name: string): string => join(repo, 'node_modules', '.bin', name);
const typesNodeVersion = (JSON.parse(readFileSync(join(repo, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }).version;
/** Totem timings for `evs cluster`, as the programs use them (consumer-programs.ts says why). */
const totemFlags = ['--token-ms', '1000', '--token-coefficient-ms', '0', '--consensus-ms', '1200', '--join-ms', '50'];

const ms = (since: number): number => Math.round(performance.now() - since);

const work = mkdtempSync(join(tmpdir(), 'evs-package-test-'));
const consumer = join(work, 'consumer');
let tarball = '';
let packedFiles: string[] = [];
const nodePids: number[] = [];

beforeAll(async () => {
  const packStart = performance.now();
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: repo, timeoutMs: 120_000 });
  expect(packed.code, packed.stderr).toBe(0);
  // prepack's build output comes first on stdout, then npm's JSON
  const report = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('\n[') + 1)) as [{ filename: string; size: number; entryCount: number; files: { path: string }[] }];
  tarball = join(work, report[0].filename);
  packedFiles = report[0].files.map((f) => f.path);
  console.log(`package: ${report[0].filename}, ${report[0].size} bytes packed, ${report[0].entryCount} files (build and pack ${ms(packStart)} ms)`);

  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const installStart = performance.now();
  const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, `@types/node@${typesNodeVersion}`], {
    cwd: consumer, timeoutMs: 120_000,
  });
  expect(installed.code, installed.stderr).toBe(0);
  console.log(`installed into ${consumer} in ${ms(installStart)} ms`);
  // no dependency has an install script any more (esbuild's made npm warn on every install)
  expect(installed.stderr).not.toMatch(/install.scripts?/i);
}, 240_000);

afterAll(async () => {
  await killAll();
  for (const pid of nodePids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** every installed package directory under node_modules, nested ones included. */
function installedPackages(dir: string): string[] {
  const found: string[] = [];
  const visit = (modules: string): void => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      const names = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((n) => `${entry}/${n}`) : [entry];
      for (const name of names) {
        found.push(name);
        visit(join(modules, name, 'node_modules'));
      }
    }
  };
  visit(join(dir, 'node_modules'));
  return found;
}

describe.concurrent('the tarball', () => {
  it('holds built JavaScript of src and workers, their declarations, the native send path, docs and the license, and nothing else', () => {
    expect(packedFiles).toContain('dist/src/index.js');
    expect(packedFiles).toContain('dist/src/index.d.ts');
    expect(packedFiles).toContain('dist/src/cli/evs.js');
    for (const w of ['protocol-worker', 'network-worker', 'single-worker', 'crypto-task']) expect(packedFiles).toContain(`dist/workers/${w}.js`);
    expect(packedFiles).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'docs/CLI.md']));
    // the optional native fast path (src/runtime/network/native-gso.ts), built by prepack on this Linux x64 machine
    expect(packedFiles).toContain('build/native/udp-gso.node');
    const unexpected = packedFiles.filter((f) => !/^(dist\/(src|workers)\/.*\.js|dist\/src\/.*\.d\.ts|build\/native\/udp-gso\.node|docs\/.*|LICENSE|README\.md|package\.json)$/.test(f));
    expect(unexpected).toEqual([]);
    expect(packedFiles.filter((f) => /\.map$|^dist\/(test|bench)\/|^(src|workers|test|bench)\//.test(f) || /(?<!\.d)\.ts$/.test(f))).toEqual([]);
  });

  it('declares no @internal member', () => {
    const declarations = packedFiles.filter((f) => f.endsWith('.d.ts'));
    expect(declarations.length).toBeGreaterThan(10);
    const leaking = declarations.filter((f) => readFileSync(join(consumer, 'node_modules', manifest.name, f), 'utf8').includes('@internal'));
    expect(leaking).toEqual([]);
  });

  it('passes publint and arethetypeswrong (ESM only: require() of it needs Node >= 20.19, which engines asks for)', async () => {
    const [lint, types] = await Promise.all([
      run(process.execPath, [bin('publint'), 'run', '--strict', tarball], { cwd: work, timeoutMs: 60_000 }),
      run(process.execPath, [bin('attw'), '--profile', 'esm-only', '--no-color', '--no-emoji', tarball], { cwd: work, timeoutMs: 60_000 }),
    ]);
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    expect(lint.stdout).toMatch(/All good/);
    expect(types.code, types.stdout + types.stderr).toBe(0);
  }, 90_000);
});

describe.concurrent('installed into a project', () => {
  it('brings no tsx and no esbuild', () => {
    const packages = installedPackages(consumer);
    expect(packages).toContain(manifest.name);
    expect(packages).toContain('commander');
    expect(packages).toContain('@types/node'); // scoped packages are looked at too
    expect(packages.filter((p) => /^(tsx|esbuild|@esbuild\/.*)$/.test(p))).toEqual([]);
  });

  const delivered = (label: string): string[] => [1, 2, 3].map((i) => `${label} from ${i}`);
  const check = (out: { code: number | string; stdout: string; stderr: string }, label: string): void => {
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toBe('');
    const result = JSON.parse(out.stdout) as { label: string; delivered: string[]; udpGso?: string };
    expect(result.delivered.map((d) => d.replace(/^\d+:/, '')).sort()).toEqual(delivered(label));
    // the installed package finds and loads its native send path (dist/src/runtime/network → build/native)
    if (result.udpGso !== undefined) expect(result.udpGso).toBe('on');
  };

  it('an ES module: three nodes exchange messages and stop', async () => {
    writeFileSync(join(consumer, 'app.mjs'), esmProgram);
    check(await run(process.execPath, ['app.mjs', 'esm', '18700'], { cwd: consumer, timeoutMs: 60_000 }), 'esm');
  }, 70_000);

  it('a CommonJS script (require): three nodes exchange messages and stop', async () => {
    writeFileSync(join(consumer, 'app.cjs'), cjsProgram);
    check(await run(process.execPath, ['app.cjs', 'cjs', '18710'], { cwd: consumer, timeoutMs: 60_000 }), 'cjs');
  }, 70_000);

  it('a strict TypeScript program typechecks with tsc against the installed declarations, runs and stops', async () => {
    writeFileSync(join(consumer, 'app.mts'), tsProgram);
    writeFileSync(join(consumer, 'require.cts'), ctsProgram);
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify(consumerTsconfig, null, 2));
    const tsc = await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: consumer, timeoutMs: 60_000 });
    expect(tsc.code, tsc.stdout).toBe(0);
    check(await run(process.execPath, ['out/app.mjs', 'ts', '18720'], { cwd: consumer, timeoutMs: 60_000 }), 'ts');
    const required = await run(process.execPath, ['out/require.cjs'], { cwd: consumer, timeoutMs: 30_000 });
    expect(required.code, required.stderr).toBe(0);
    expect(JSON.parse(required.stdout)).toEqual({ keyBytes: 32, code: 'ERR_EVS_INVALID_OPTION' });
  }, 90_000);
});

describe.concurrent('the installed evs command', () => {
  const evsBin = (): string => join(consumer, 'node_modules', '.bin', 'evs');

  it('npx evs --version, evs keygen', async () => {
    const version = await run('npx', ['--no-install', 'evs', '--version'], { cwd: consumer, timeoutMs: 30_000 });
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toBe(manifest.version);
    const keygen = await run(evsBin(), ['keygen', '--out', 'cluster.key'], { cwd: consumer, timeoutMs: 30_000 });
    expect(keygen.code, keygen.stderr).toBe(0);
    expect(keygen.stdout).toBe('');
    expect(keygen.stderr).toContain(join(consumer, 'cluster.key'));
    expect(statSync(join(consumer, 'cluster.key')).size).toBe(32);
    expect(statSync(join(consumer, 'cluster.key')).mode & 0o777).toBe(0o600);
  });

  it('evs cluster: three nodes deliver a typed line; SIGINT stops them all (exit 130) and removes its directory', async () => {
    const cluster = watch(evsBin(), ['cluster', '--nodes', '3', '--port', '18730', ...totemFlags], { cwd: consumer });
    const ringOf = (id: number) => (lines: readonly string[]): boolean => lines.some((l, i) =>
      l.startsWith(`[n${id}] CONFIGURATION CHANGE (regular`) && lines.slice(i + 1, i + 4).includes(`[n${id}] New configuration: 1 2 3`));
    await Promise.all([1, 2, 3].map((id) => cluster.until(ringOf(id), 'stdout', 30_000)));
    const pids = cluster.stderr.map((l) => /^\[cluster\] node \d: pid (\d+)/.exec(l)?.[1]).filter((p) => p !== undefined).map(Number);
    nodePids.push(...pids);
    expect(pids).toHaveLength(3);
    const dir = /key and state in (\S+)$/.exec(cluster.stderr.find((l) => l.includes('key and state in')) ?? '')?.[1];
    expect(dir !== undefined && existsSync(dir)).toBe(true);

    cluster.write('hello from the package');
    const line = (id: number): string => `[n${id}] Delivering message from node 1 to evs (agreed, 22 bytes): "hello from the package"`;
    await cluster.until((lines) => [1, 2, 3].every((id) => lines.includes(line(id))), 'stdout', 20_000);

    process.kill(cluster.pid, 'SIGINT');
    expect(await cluster.exited).toBe(130);
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(dir!)).toBe(false);
  }, 60_000);
});
