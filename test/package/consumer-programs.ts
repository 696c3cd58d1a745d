/**
 * The programs a user of the package would write, as text written into the
 * consumer project: one cluster run (three nodes on 127.0.0.1..3, udpu, each
 * multicasting one message, every node delivering all three in the same
 * order, then close and stop) as an ES module, as CommonJS (require), and as
 * a strict TypeScript program. They never call process.exit: stopping cleanly
 * means the process ends on its own once the nodes stopped.
 *
 * Node 1 runs the split layout with a crypto thread, node 2 the single
 * layout, node 3 split without: every worker entry of dist/workers is loaded
 * from the installed package.
 */

/**
 * Totem timings: a ring forms in well under a second either way (JOIN every
 * 50 ms); the 1000 ms token (not 300 ms) keeps a token from being declared
 * lost while these programs share two loaded cores with a build and other
 * tests, which would re-form the ring mid-test.
 */
const totem = '{ tokenMs: 1000, tokenCoefficientMs: 0, consensusMs: 1200, joinMs: 50 }';

/** the body shared by the ESM and CommonJS programs; `EvsNode`, `generateClusterKey` and node's fs/os/path names are in scope. */
const jsBody = `
const ids = [1, 2, 3];
const threadsOf = { 1: { layout: 'split', cryptoThreads: 1 }, 2: { layout: 'single', cryptoThreads: 0 }, 3: { layout: 'split', cryptoThreads: 0 } };

function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('timed out waiting for ' + what)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function main() {
  const label = process.argv[2];
  const port = Number(process.argv[3]);
  const dir = mkdtempSync(join(tmpdir(), 'evs-consumer-'));
  const key = generateClusterKey();
  const members = ids.map((id) => ({ nodeId: id, addr: '127.0.0.' + id }));
  const started = await Promise.allSettled(ids.map((id) => EvsNode.start({
    nodeId: id, bindAddr: '127.0.0.' + id, port, transport: 'udpu', members, key,
    stateDir: join(dir, 'node' + id), threads: threadsOf[id], totem: ${totem},
  })));
  const nodes = started.filter((s) => s.status === 'fulfilled').map((s) => s.value);
  try {
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const handles = nodes.map((n) => n.open());
    const received = handles.map(() => []);
    const ringOfThree = handles.map((h) => new Promise((resolve) => {
      h.on('confchg', (c) => { if (c.type === 'regular' && c.members.join() === '1,2,3') resolve(); });
    }));
    handles.forEach((h, i) => h.on('deliver', (m) => received[i].push(m.sender + ':' + Buffer.from(m.payload).toString())));
    await Promise.all(handles.map((h) => h.join(['app'])));
    await within(Promise.all(ringOfThree), 30000, 'a ring of 1, 2 and 3');
    await Promise.all(handles.map((h, i) => h.mcastJoined(Buffer.from(label + ' from ' + (i + 1)))));
    await within(new Promise((resolve) => {
      const poll = setInterval(() => { if (received.every((r) => r.length >= 3)) { clearInterval(poll); resolve(); } }, 10);
    }), 30000, 'three deliveries on every node');
    for (const r of received) if (JSON.stringify(r) !== JSON.stringify(received[0])) throw new Error('orders differ: ' + JSON.stringify(received));
    await Promise.all(handles.map((h) => h.close()));
    const udpGso = (await nodes[0].stats()).network.udpGso;
    console.log(JSON.stringify({ label, delivered: received[0], udpGso }));
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}
`;

export const esmProgram = `import { EvsNode, generateClusterKey } from 'totem-evs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
${jsBody}
await main();
`;

export const cjsProgram = `'use strict';
const { EvsNode, generateClusterKey } = require('totem-evs');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
${jsBody}
main().catch((error) => { console.error(error); process.exitCode = 1; });
`;

/** strict TypeScript: every value typed from the package's declarations, no `any`. */
export const tsProgram = `import { EvsNode, generateClusterKey, type EvsConfchg, type EvsDelivery, type EvsHandle, type EvsNodeStartOptions, type MemberOption } from 'totem-evs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ids = [1, 2, 3] as const;
type Id = (typeof ids)[number];
const threadsOf: Record<Id, NonNullable<EvsNodeStartOptions['threads']>> = {
  1: { layout: 'split', cryptoThreads: 1 }, 2: { layout: 'single', cryptoThreads: 0 }, 3: { layout: 'split', cryptoThreads: 0 },
};

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(\`timed out waiting for \${what}\`)), ms); });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** never called: the declarations must reject these (were they any, each @ts-expect-error would be an error itself). */
export function misuses(node: EvsNode, handle: EvsHandle): void {
  // @ts-expect-error nodeId is a number
  void EvsNode.start({ nodeId: 'one', bindAddr: '127.0.0.1', stateDir: 'x', members: [] });
  // @ts-expect-error a payload is bytes, not a string
  void handle.mcastJoined('text');
  // @ts-expect-error no such guarantee
  void handle.mcastJoined(new Uint8Array(1), { guarantee: 'eventually' });
  // @ts-expect-error an EvsNode has no such method
  node.frobnicate();
}

const label = process.argv[2] ?? 'ts';
const port = Number(process.argv[3]);
const dir = mkdtempSync(join(tmpdir(), 'evs-consumer-'));
const key: Uint8Array = generateClusterKey();
const members: MemberOption[] = ids.map((id) => ({ nodeId: id, addr: \`127.0.0.\${id}\` }));
const started = await Promise.allSettled(ids.map((id) => EvsNode.start({
  nodeId: id, bindAddr: \`127.0.0.\${id}\`, port, transport: 'udpu', members, key,
  stateDir: join(dir, \`node\${id}\`), threads: threadsOf[id], totem: ${totem},
})));
const nodes: EvsNode[] = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
try {
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  const handles: EvsHandle[] = nodes.map((n) => n.open());
  const received: string[][] = handles.map(() => []);
  const ringOfThree = handles.map((h) => new Promise<void>((resolve) => {
    h.on('confchg', (c: EvsConfchg) => {
      if (c.type === 'regular' && c.members.join() === '1,2,3') resolve();
    });
  }));
  handles.forEach((h, i) => h.on('deliver', (m: EvsDelivery) => received[i]?.push(\`\${m.sender}:\${Buffer.from(m.payload).toString()}\`)));
  await Promise.all(handles.map((h) => h.join(['app'])));
  await within(Promise.all(ringOfThree), 30_000, 'a ring of 1, 2 and 3');
  await Promise.all(handles.map((h, i) => h.mcastJoined(Buffer.from(\`\${label} from \${i + 1}\`))));
  await within(new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (received.every((r) => r.length >= 3)) {
        clearInterval(poll);
        resolve();
      }
    }, 10);
  }), 30_000, 'three deliveries on every node');
  for (const r of received) if (JSON.stringify(r) !== JSON.stringify(received[0])) throw new Error(\`orders differ: \${JSON.stringify(received)}\`);
  await Promise.all(handles.map((h) => h.close()));
  console.log(JSON.stringify({ label, delivered: received[0] }));
} finally {
  await Promise.all(nodes.map((n) => n.stop()));
  rmSync(dir, { recursive: true, force: true });
}
`;

/** CommonJS TypeScript: \`import x = require()\` of the ES module package (TypeScript >= 5.8 with module nodenext; Node >= 20.19). */
export const ctsProgram = `import totem = require('totem-evs');

const key: Uint8Array = totem.generateClusterKey();
const error: totem.EvsError = new totem.EvsError('ERR_EVS_INVALID_OPTION', 'just a check');
console.log(JSON.stringify({ keyBytes: key.length, code: error.code }));
`;

/**
 * The consumer's tsconfig: strict, node16-style resolution. skipLibCheck as
 * most projects set it: checking every declaration file took 20 s of
 * @types/node on a loaded 2-core machine (0.1 s without); the package's own
 * declarations are checked where the programs use them, and
 * arethetypeswrong resolves every import inside them.
 */
export const consumerTsconfig = {
  compilerOptions: {
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: true,
    types: ['node'],
    outDir: 'out',
  },
  files: ['app.mts', 'require.cts'],
};
