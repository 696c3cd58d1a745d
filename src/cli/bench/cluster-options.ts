/**
 * A BenchConfig as ProcessCluster options: every node gets the same node
 * options (transport, crypto, totem timings, threads, netmtu), its own
 * address, and optionally a network namespace to run in. Options the bench
 * was not given are left out, so the library's defaults apply.
 */
import { randomBytes } from 'node:crypto';
import { messageBytesMaxDefault } from '../../limits.ts';
import type { EvsNodeStartOptions } from '../../node.ts';
import { resolveOptions, type ResolvedOptions } from '../../options.ts';
import { probeHost } from '../../runtime/network/interface-mtu.ts';
import type { ProcessClusterOptions } from '../process-cluster.ts';
import type { BenchConfig, Layout } from './bench-config.ts';

export interface ThreadChoice {
  readonly layout: Layout | undefined;
  readonly cryptoThreads: number | undefined;
}

export function nodeOptionsOf(config: BenchConfig, threads: ThreadChoice): Partial<EvsNodeStartOptions> {
  const largestBytes = Math.max(...config.sizesBytes);
  return {
    transport: config.transport,
    crypto: config.crypto ? 'aes-256-gcm' : 'none',
    totem: config.totem,
    threads: {
      ...(threads.layout === undefined ? {} : { layout: threads.layout }),
      ...(threads.cryptoThreads === undefined ? {} : { cryptoThreads: threads.cryptoThreads }),
      ...(config.workerNice === undefined ? {} : { workerNice: config.workerNice }),
    },
    ...(config.netmtu === undefined ? {} : { netmtu: config.netmtu }),
    ...(config.frameBytesMax === undefined ? {} : { frameBytesMax: config.frameBytesMax }),
    ...(config.udpGso === undefined ? {} : { udpGso: config.udpGso }),
    // sizes past the library's message limit raise it (the rings grow with it)
    ...(largestBytes > messageBytesMaxDefault ? { messageBytesMax: largestBytes } : {}),
    ...(config.transport === 'udp' ? { mcastAddr: config.mcastAddr, mcastPort: config.port } : {}),
  };
}

export function clusterOptionsOf(config: BenchConfig, threads: ThreadChoice): ProcessClusterOptions {
  const netns = config.netns;
  return {
    count: config.nodes,
    port: config.port,
    nodeOptions: nodeOptionsOf(config, threads),
    addressOf: (nodeId) => config.addresses[nodeId - 1]!,
    ...(netns === null ? {} : { wrap: (nodeId: number) => ({ command: 'ip', args: ['netns', 'exec', netns[nodeId - 1]!] }) }),
  };
}

/**
 * Node 1's options as the library resolves them (as ProcessCluster.optionsFor
 * builds them, with a throwaway key and state dir): validates the combination
 * before any process starts, and names every value in force for the report.
 */
export function resolvedNodeOptions(config: BenchConfig, threads: ThreadChoice): ResolvedOptions {
  const members = config.addresses.map((addr, i) => ({ nodeId: i + 1, addr, port: config.port }));
  const { debug: _debug, ...options } = {
    nodeId: 1, bindAddr: config.addresses[0]!, port: config.port, members, key: randomBytes(32), stateDir: '.',
    ...nodeOptionsOf(config, threads),
  } as EvsNodeStartOptions;
  return resolveOptions(options, probeHost(options));
}

/** the resolved options worth recording: no key, no state dir. */
export function reportableOptions(resolved: ResolvedOptions): Omit<ResolvedOptions, 'key' | 'keyFile' | 'stateDir'> {
  const { key: _key, keyFile: _keyFile, stateDir: _stateDir, ...rest } = resolved;
  return rest;
}
