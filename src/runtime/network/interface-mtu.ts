/**
 * The MTU of the interface that owns an address, for the `netmtu` default:
 * loopback carries 64 KiB datagrams, so a cluster on 127.0.0.x packs up to
 * ~64 KiB of messages per datagram (as corosync's knet does with its 64 KiB
 * frames) instead of 1.4 KB. On a real link the default stays the link's MTU
 * (1500 on Ethernet): datagrams larger than that would be IP-fragmented, and
 * one lost fragment loses the whole datagram.
 *
 * Linux only (/sys/class/net/<if>/mtu); null elsewhere or when unknown.
 *
 * Option resolution (src/options.ts) is pure: the runtime probes here and
 * passes the answer in (`resolveOptions(options, probeHost(options))`).
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { EvsNodeOptions, HostFacts } from '../../options.ts';

/**
 * What resolveOptions needs to know about this host for `options`: the MTU of
 * bindAddr's interface, probed only when netmtu is not given. Reads the
 * options before they are validated, so it tolerates any shape.
 */
export function probeHost(options: Partial<EvsNodeOptions> | null | undefined): HostFacts {
  const bindAddr: unknown = options?.bindAddr;
  if (options?.netmtu !== undefined || typeof bindAddr !== 'string') return {};
  return { interfaceMtuBytes: interfaceMtuBytes(bindAddr) };
}

export function interfaceMtuBytes(address: string): number | null {
  if (process.platform !== 'linux') return null;
  const name = interfaceOf(address);
  if (name === null) return null;
  try {
    const mtu = Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8').trim());
    return Number.isInteger(mtu) && mtu > 0 ? mtu : null;
  } catch {
    return null;
  }
}

function interfaceOf(address: string): string | null {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (addrs?.some((a) => a.address === address)) return name;
  }
  // 127.0.0.2 and up are loopback without being listed as the interface's addresses.
  if (address.startsWith('127.')) {
    for (const [name, addrs] of Object.entries(networkInterfaces())) {
      if (addrs?.some((a) => a.internal && a.family === 'IPv4')) return name;
    }
  }
  return null;
}
