#!/usr/bin/env node
// Builds the optional native fast path (native/udp-gso.c -> build/native/udp-gso.node)
// with the system C compiler against the running Node's headers. Optional: when
// it cannot be built (not Linux, no compiler, no headers) it says why and exits 0,
// and the runtime sends with node:dgram alone (src/runtime/network/native-gso.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'udp-gso.c');
const out = join(root, 'build', 'native', 'udp-gso.node');
const skip = (why) => {
  console.error(`build:native: skipped, ${why}; the runtime sends with node:dgram alone`);
  process.exit(0);
};
if (process.platform !== 'linux') skip(`not on Linux (${process.platform})`);
if (!existsSync(source)) skip(`${source} is missing`);
const headers = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node']
  .find((dir) => existsSync(join(dir, 'node_api.h')));
if (headers === undefined) skip(`no node_api.h next to ${process.execPath} or in /usr/include/node`);
const cc = process.env.CC ?? 'cc';
mkdirSync(dirname(out), { recursive: true });
const args = ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=udp_gso', `-I${headers}`, '-o', out, source];
const result = spawnSync(cc, args, { stdio: 'inherit' });
if (result.error !== undefined) skip(`${cc} did not run (${result.error.message})`);
if (result.status !== 0) skip(`${cc} failed (exit ${result.status})`);
console.error(`build:native: ${out}`);
