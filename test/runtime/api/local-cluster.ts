/**
 * Test helper: N nodes on 127.0.0.1..N (udpu), one cluster key, a temporary
 * state directory per node, short Totem timeouts so that tests run quickly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EvsNode, type EvsNodeStartOptions } from '../../../src/index.ts';

export const fastTotem = { tokenMs: 300, joinMs: 50, consensusMs: 400 } as const;

export interface LocalClusterOptions {
  readonly count: number;
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
      members: memberList(o.count, o.port),
      ...(o.crypto === 'none' ? { crypto: 'none' as const } : { key: this.key }),
      stateDir: join(this.dir, `node${nodeId}`),
      totem: fastTotem,
      threads: { layout: o.layout ?? 'split', cryptoThreads: o.cryptoThreads ?? 0 },
      ...o.extra,
    };
  }

  async start(): Promise<EvsNode[]> {
    const started = await Promise.all(Array.from({ length: this.options.count }, (_, i) => EvsNode.start(this.nodeOptions(i + 1))));
    this.nodes.push(...started);
    return started;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n?.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
