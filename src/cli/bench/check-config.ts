/**
 * Checks across options that commander's per-option parsers cannot make,
 * plus the library's own validation of the node options they produce: a
 * problem is reported as the command-line option to fix.
 */
import { EvsError } from '../../errors.ts';
import type { BenchConfig } from './bench-config.ts';
import { resolvedNodeOptions } from './cluster-options.ts';

export interface ConfigProblem {
  readonly option: string;
  readonly message: string;
}

/** library option paths (ERR_EVS_INVALID_OPTION) → the bench flag that sets them. */
const flagOfOption: Readonly<Record<string, string>> = {
  'totem.tokenMs': '--token-ms', 'totem.tokenCoefficientMs': '--token-coefficient-ms', 'totem.consensusMs': '--consensus-ms',
  'totem.joinMs': '--join-ms', 'totem.windowSize': '--window-size', 'totem.maxMessages': '--max-messages',
  'totem.ordering': '--ordering', 'totem.acceleratedWindow': '--accelerated-window',
  'totem.tokenRetransmitMs': '--token-ms', 'totem.holdMs': '--token-ms', netmtu: '--netmtu', frameBytesMax: '--frame-bytes-max', 'threads.cryptoThreads': '--crypto-threads',
  'threads.layout': '--layout', mcastAddr: '--mcast-addr', bindAddr: '--addresses', members: '--addresses', messageBytesMax: '--sizes',
};

function placementProblem(c: BenchConfig): ConfigProblem | null {
  if (c.addresses.length !== c.nodes) {
    return { option: '--addresses', message: `gives ${c.addresses.length} addresses for ${c.nodes} nodes (--nodes): give one per node` };
  }
  if (new Set(c.addresses).size !== c.addresses.length) return { option: '--addresses', message: 'every node needs its own address' };
  if (c.netns !== null && c.netns.length !== c.nodes) {
    return { option: '--netns', message: `gives ${c.netns.length} namespaces for ${c.nodes} nodes (--nodes): give one per node` };
  }
  if (c.netns !== null && c.addresses.every((a, i) => a === `127.0.0.${i + 1}`)) {
    return { option: '--netns', message: "needs --addresses: each namespace has its own loopback, so 127.0.0.i in one cannot reach another's" };
  }
  if (c.transport === 'udp' && c.netns === null) {
    return {
      option: '--transport',
      message: "udp (IP multicast) is only allowed with --netns: in this host's namespace multicast would leave through the default route to the outside network",
    };
  }
  return null;
}

function modeProblem(c: BenchConfig): ConfigProblem | null {
  if (c.mode === 'failover' && c.nodes < 2) return { option: '--nodes', message: 'failover needs at least 2 nodes (one is killed)' };
  if (c.burstMs >= c.burstPeriodMs) return { option: '--burst-ms', message: `must be shorter than --burst-period-ms (${c.burstPeriodMs})` };
  return null;
}

function libraryProblem(c: BenchConfig): ConfigProblem | null {
  try {
    resolvedNodeOptions(c, { layout: c.layout, cryptoThreads: c.cryptoThreads });
    return null;
  } catch (error) {
    if (!(error instanceof EvsError) || error.code !== 'ERR_EVS_INVALID_OPTION') throw error;
    const path = Object.keys(flagOfOption).find((p) => error.message.includes(`options.${p} `));
    return { option: path === undefined ? '(node options)' : flagOfOption[path]!, message: error.message };
  }
}

export function checkConfig(c: BenchConfig): ConfigProblem | null {
  return placementProblem(c) ?? modeProblem(c) ?? libraryProblem(c);
}
