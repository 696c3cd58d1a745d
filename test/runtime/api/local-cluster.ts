/**
 * Test helper: N nodes on 127.0.0.1..N (udpu), one cluster key, a temporary
 * state directory per node, short Totem timeouts so that tests run quickly.
 *
 * The member list may name more nodes than are started (`memberCount`): a
 * test then owns the addresses of the others (bad-datagrams.test.ts binds a
 * socket on one to capture and inject datagrams).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { EvsNode, type EvsConfchg, type EvsDelivery, type EvsEvent, type EvsHandle, type EvsNodeStartOptions } from '../../../src/index.ts';
import { waitFor } from '../../wait-for.ts';

export { sleep, waitFor } from '../../wait-for.ts';

export const fastTotem = { tokenMs: 300, joinMs: 50, consensusMs: 400 } as const;

/** one thread layout the API tests run under. */
export interface LayoutCase {
  readonly name: string;
  readonly layout: 'split' | 'single';
  readonly cryptoThreads: number;
}

/** src/runtime/crypto/crypto-pool.ts (AEAD in a piscina pool) is being written; its case runs once the file exists. */
export const cryptoPoolPresent = existsSync(fileURLToPath(new URL('../../../src/runtime/crypto/crypto-pool.ts', import.meta.url)));

export const layoutCases: readonly LayoutCase[] = [
  { name: 'split', layout: 'split', cryptoThreads: 0 },
  { name: 'single', layout: 'single', cryptoThreads: 0 },
  ...(cryptoPoolPresent ? [{ name: 'split, cryptoThreads 1', layout: 'split' as const, cryptoThreads: 1 }] : []),
];

export interface LocalClusterOptions {
  readonly count: number;
  /** members in the list (>= count); nodes count+1..memberCount are listed but not started. */
  readonly memberCount?: number;
  /** base port; every node uses the same port on its own address. */
  readonly port: number;
  readonly layout?: 'split' | 'single';
  readonly cryptoThreads?: number;
  readonly crypto?: 'aes-256-gcm' | 'none';
  readonly extra?: Partial<EvsNodeStartOptions>;
}

export function memberList(count: number, port: number): { nodeId: number; addr: string; port: number }[] {
  return Array.from({ length: count }, (_, i) => ({ nodeId: i + 1, addr: `127.0.0.${i + 1}`, port }));
}

export class LocalCluster {
  readonly key = randomBytes(32);
  readonly dir = mkdtempSync(join(tmpdir(), 'evs-test-'));
  readonly nodes: (EvsNode | null)[] = [];

  constructor(readonly options: LocalClusterOptions) {}

  nodeOptions(nodeId: number): EvsNodeStartOptions {
    const o = this.options;
    return {
      nodeId,
      bindAddr: `127.0.0.${nodeId}`,
      port: o.port,
      members: memberList(o.memberCount ?? o.count, o.port),
      ...(o.crypto === 'none' ? { crypto: 'none' as const } : { key: this.key }),
      stateDir: join(this.dir, `node${nodeId}`),
      totem: fastTotem,
      threads: { layout: o.layout ?? 'split', cryptoThreads: o.cryptoThreads ?? 0 },
      ...o.extra,
    };
  }

  /** errors the nodes reported (a worker failed, the deliver backlog overflowed): stop() fails if any. */
  readonly errors: string[] = [];

  async start(): Promise<EvsNode[]> {
    const started = await Promise.all(Array.from({ length: this.options.count }, (_, i) => EvsNode.start(this.nodeOptions(i + 1))));
    for (const node of started) node.on('error', (e) => this.errors.push(`node ${node.nodeId}: ${e.code}: ${e.message}`));
    this.nodes.push(...started);
    return started;
  }

  /** starts the nodes and waits until every one of them is in the ring of all of them. */
  async startRing(): Promise<EvsNode[]> {
    const nodes = await this.start();
    await this.waitForRing(nodes.map((n) => n.nodeId));
    return nodes;
  }

  /** the running node `nodeId`. */
  node(nodeId: number): EvsNode {
    const node = this.nodes.find((n) => n?.nodeId === nodeId);
    if (node === undefined || node === null) throw new Error(`node ${nodeId} is not running`);
    return node;
  }

  /** waits until every running node listed in `members` reports exactly `members` as its regular configuration. */
  async waitForRing(members: readonly number[], timeoutMs = 15_000): Promise<void> {
    const want = [...members].sort((a, b) => a - b);
    await waitFor(async () => {
      const views = await Promise.all(want.map((id) => this.node(id).membership()));
      return views.every((v) => sameList(v.members, want));
    }, `ring ${JSON.stringify(want)}`, timeoutMs);
  }

  /** stops every node started here; then fails if a node reported an error while it ran or stopped. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n?.stop()));
    rmSync(this.dir, { recursive: true, force: true });
    if (this.errors.length > 0) throw new Error(`nodes reported errors:\n${this.errors.join('\n')}`);
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** a recorded event and when it was dispatched (performance.now()). */
export type Recorded = EvsEvent & { readonly at: number };

/** records every event of a handle, in dispatch order, from the moment it is attached. */
export class Recorder {
  readonly events: Recorded[] = [];

  constructor(readonly handle: EvsHandle) {
    handle.on('deliver', (e) => this.events.push({ ...e, at: performance.now() }));
    handle.on('confchg', (e) => this.events.push({ ...e, at: performance.now() }));
  }

  deliveries(): (EvsDelivery & { readonly at: number })[] {
    return this.events.filter((e): e is EvsDelivery & { at: number } => e.kind === 'deliver');
  }

  confchgs(): (EvsConfchg & { readonly at: number })[] {
    return this.events.filter((e): e is EvsConfchg & { at: number } => e.kind === 'confchg');
  }

  /** payloads of the deliveries as UTF-8 text. */
  texts(): string[] {
    return this.deliveries().map((d) => text(d.payload));
  }
}

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

export function text(payload: Uint8Array): string {
  return utf8.decode(payload);
}

export function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** the `code` of what `fn` throws ('no error' when it returns, 'no code' for an error without one). */
export function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? code : 'no code';
  }
  return 'no error';
}
