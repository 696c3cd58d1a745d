/**
 * Transport 'udp' (IP multicast) for real, between three hosts: three network
 * namespaces on a bridge in a fourth (NODE-NOTES.md, "Network namespaces
 * (root)"; ../shared/anchors/corosync/netns-setup.sh), one EVS node process in
 * each, started through `ip netns exec` by ProcessCluster's `wrap` option.
 *
 * Multicast never touches the host's namespace: the veth pairs are created
 * directly inside the test's namespaces, the addresses (198.51.100.0/24,
 * TEST-NET-2) exist only there, and the nodes pin the multicast interface to
 * their bindAddr with TTL 1. Every namespace and interface name starts with
 * `evsmc<pid>`; afterAll stops the nodes and deletes the namespaces (the veths
 * and the bridge go with them), also when a step failed.
 *
 * Needs root, iproute2's `ip` and a kernel that lets us create namespaces:
 * probed at load time by creating and deleting one; otherwise the suite is
 * skipped with the reason printed.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessCluster, type ConfchgRecord } from '../../../src/cli/process-cluster.ts';
import type { Report, StatsReply } from '../../../src/cli/process-protocol.ts';

const tag = `evsmc${process.pid}`; // interface names stay within 15 characters: evsmc + pid (≤ 7) + 2
const switchNs = `${tag}-sw`;
const bridge = `${tag}br`;
const ids = [1, 2, 3] as const;
const hostNs = (id: number): string => `${tag}-n${id}`;
const hostIf = (id: number): string => `${tag}v${id}`;
const switchPort = (id: number): string => `${tag}p${id}`;
const subnet = '198.51.100'; // TEST-NET-2 (RFC 5737)
const hostAddr = (id: number): string => `${subnet}.${id}`;
const mcastAddr = '239.192.77.1'; // organization-local scope
const port = 5405; // namespaces have ports of their own

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

/** what a failed `ip` said (its stderr), on one line. */
function failure(error: unknown): string {
  const { stderr, message } = error as { stderr?: string; message?: string };
  return (stderr?.trim() || message || String(error)).replace(/\s*\n\s*/g, ' ');
}

/** why this machine cannot run the suite, or null when it can (one namespace created and deleted). */
function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    ip('-V');
  } catch {
    return '`ip` (iproute2) is not available';
  }
  const probe = `${tag}-probe`;
  try {
    ip('netns', 'add', probe);
  } catch (error) {
    return `cannot create a network namespace: ${failure(error)}`;
  }
  try {
    ip('netns', 'del', probe);
  } catch (error) {
    return `cannot delete the probe network namespace ${probe}: ${failure(error)}`;
  }
  return null;
}

const skipReason = netnsUnavailable();
if (skipReason !== null) console.warn(`test/runtime/netns/udp-multicast.test.ts skipped: ${skipReason}`);

function ourNamespaces(): string[] {
  return ip('netns', 'list').split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(`${tag}-`));
}

function teardownNetwork(): void {
  for (const ns of [...ids.map(hostNs), switchNs]) {
    try {
      ip('netns', 'del', ns);
    } catch { /* not created (or already gone) */ }
  }
}

function setupNetwork(): void {
  // The addresses must not exist in the host namespace: a node that ended up there could not bind.
  if (ip('-4', '-o', 'addr', 'show').includes(`${subnet}.`)) throw new Error(`${subnet}.0/24 is in use in the host namespace`);
  ip('netns', 'add', switchNs);
  ip('-n', switchNs, 'link', 'set', 'lo', 'up');
  // no IGMP snooping: the switch floods the group, whatever reports it saw before a port went down
  ip('-n', switchNs, 'link', 'add', bridge, 'type', 'bridge', 'mcast_snooping', '0');
  ip('-n', switchNs, 'link', 'set', bridge, 'up');
  for (const id of ids) {
    const ns = hostNs(id);
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    // both ends are created inside their namespaces: nothing appears in the host's
    ip('link', 'add', hostIf(id), 'netns', ns, 'type', 'veth', 'peer', 'name', switchPort(id), 'netns', switchNs);
    ip('-n', ns, 'addr', 'add', `${hostAddr(id)}/24`, 'dev', hostIf(id));
    ip('-n', ns, 'link', 'set', hostIf(id), 'up');
    ip('-n', switchNs, 'link', 'set', switchPort(id), 'master', bridge);
    ip('-n', switchNs, 'link', 'set', switchPort(id), 'up');
  }
  for (const id of ids) {
    if (!ip('-n', hostNs(id), '-4', '-o', 'addr', 'show', 'dev', hostIf(id)).includes(`${hostAddr(id)}/24`)) {
      throw new Error(`${hostNs(id)} has no ${hostAddr(id)}`);
    }
  }
}

/** IpExt InMcastPkts / OutMcastPkts of a namespace (the kernel's count of IP multicast packets). */
function kernelMcast(ns: string): { in: number; out: number } {
  const lines = ip('netns', 'exec', ns, 'cat', '/proc/net/netstat').split('\n').filter((l) => l.startsWith('IpExt:'));
  const names = (lines[0] ?? '').split(/\s+/);
  const values = (lines[1] ?? '').split(/\s+/).map(Number);
  const get = (name: string): number => values[names.indexOf(name)] ?? Number.NaN;
  return { in: get('InMcastPkts'), out: get('OutMcastPkts') };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipReason !== null)('udp transport: IP multicast between three network namespaces', () => {
  let cluster: ProcessCluster | null = null;
  const t0 = performance.now();
  const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

  /** the latest regular configuration each node reported. */
  const lastRegular = (c: ProcessCluster, nodeId: number): ConfchgRecord | undefined =>
    c.confchgs.filter((r) => r.nodeId === nodeId && r.change.type === 'regular').at(-1);

  /** waits until each of `nodes` last reported the regular configuration `members`, all with one ring id. */
  async function waitRing(c: ProcessCluster, nodes: readonly number[], members: readonly number[], timeoutMs: number): Promise<void> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const last = nodes.map((id) => lastRegular(c, id));
      const same = last.every((r) => r !== undefined && r.change.members.join() === members.join()
        && JSON.stringify(r.change.ringId) === JSON.stringify(last[0]?.change.ringId));
      if (same) return;
      if (performance.now() > end) {
        throw new Error(`nodes ${nodes.join()} not in one regular configuration [${members.join()}] after ${timeoutMs} ms: `
          + last.map((r, i) => `${nodes[i]}: [${r?.change.members.join() ?? ''}]`).join('; '));
      }
      await sleep(20);
    }
  }

  async function sendProbes(c: ProcessCluster, rounds: number, perRound: number): Promise<void> {
    await Promise.all(ids.map(async (id) => {
      for (let i = 0; i < rounds; i++) {
        await c.request(id, { cmd: 'send', count: perRound, sizeBytes: 100, guarantee: 'agreed' });
        await c.request(id, { cmd: 'send', count: perRound, sizeBytes: 1300, guarantee: 'agreed' });
      }
    }));
  }

  async function reports(c: ProcessCluster, total: number): Promise<Report[]> {
    await Promise.all(ids.map((id) => c.request(id, { cmd: 'waitDelivered', total, timeoutMs: 15_000 })));
    return Promise.all(ids.map((id) => c.report(id)));
  }

  beforeAll(async () => {
    setupNetwork();
    cluster = new ProcessCluster({
      count: 3,
      port,
      addressOf: hostAddr,
      wrap: (id) => ({ command: 'ip', args: ['netns', 'exec', hostNs(id)] }),
      // Node 1 sends a frame's packets in runs with UDP GSO (one sendmmsg() to the group), nodes 2 and 3 one
      // packet per send: the kernel's IP multicast counters see a run as one packet, so they are compared
      // exactly only where every packet is its own send.
      nodeOptions: { transport: 'udp', mcastAddr, totem: { tokenMs: 300, joinMs: 50, consensusMs: 400 }, udpGso: 'off' },
      perNode: { 1: { udpGso: 'auto' } },
    });
    const started = await cluster.start();
    expect(started.map((s) => s.address)).toEqual(ids.map((id) => ({ address: hostAddr(id), port })));
    await Promise.all(ids.map((id) => cluster?.join(id, ['g'])));
    console.info(`[netns udp] namespaces up, 3 node processes started: ${elapsed()}`);
  }, 30_000);

  afterAll(async () => {
    try {
      await Promise.race([cluster?.stop(), sleep(10_000)]);
    } finally {
      teardownNetwork();
      const left = ourNamespaces();
      if (left.length > 0) console.warn(`[netns udp] namespaces left behind: ${left.join(', ')}`);
      console.info(`[netns udp] torn down: ${elapsed()}`);
    }
    expect(ourNamespaces()).toEqual([]);
  }, 30_000);

  it('forms one ring [1, 2, 3] over multicast', async () => {
    const c = cluster as ProcessCluster;
    await waitRing(c, ids, [1, 2, 3], 10_000);
    console.info(`[netns udp] ring [1,2,3]: ${elapsed()}`);
  });

  it('delivers 900 probes (100 B and 1300 B) in one order everywhere, sent as IP multicast', async () => {
    const c = cluster as ProcessCluster;
    const statsBefore = await Promise.all(ids.map((id) => c.stats(id)));
    const kernelBefore = ids.map((id) => kernelMcast(hostNs(id)));
    await sendProbes(c, 3, 50); // 300 per node: 150 × 100 B, 150 × 1300 B
    const r = await reports(c, 900);
    console.info(`[netns udp] 900 probes delivered at 3 nodes: ${elapsed()}`);
    for (const report of r) {
      expect(report.delivered).toBe(900);
      expect(report.fifoViolations).toBe(0);
      expect(report.corrupt).toBe(0);
      expect(report.lastCounter).toEqual({ 1: 300, 2: 300, 3: 300 });
    }
    expect(new Set(r.map((x) => x.digest)).size).toBe(1);

    const statsAfter: StatsReply[] = await Promise.all(ids.map((id) => c.stats(id)));
    const kernelAfter = ids.map((id) => kernelMcast(hostNs(id)));
    const delta = (i: number, key: 'txMulticast' | 'rxMulticast' | 'txDatagrams' | 'txRuns'): number =>
      (statsAfter[i]?.network.transport[key] ?? 0) - (statsBefore[i]?.network.transport[key] ?? 0);
    // The bytes of a node's 150 × 100 B + 150 × 1300 B go in frames of up to 64 KiB cut into packets of at
    // most 1472 B (netmtu 1500): at least this many group datagrams, each sent once, not once per member.
    const packetsNeeded = Math.ceil((150 * 100 + 150 * 1300) / (1500 - 28));
    for (let i = 0; i < ids.length; i++) {
      expect(delta(i, 'txMulticast')).toBeGreaterThanOrEqual(packetsNeeded);
      // ... and the other two nodes' packets arrived on the group socket
      expect(delta(i, 'rxMulticast')).toBeGreaterThanOrEqual(2 * packetsNeeded);
      // frames were cut into packets and put together again
      expect(statsAfter[i]?.network.packetsOut.framesSplit).toBeGreaterThan(0);
      expect(statsAfter[i]?.network.packetsIn.framesOut).toBeGreaterThan(0);
      // the kernel saw them as IP multicast packets on this host: one per packet sent alone, at least one per run
      const kernelOut = (kernelAfter[i]?.out ?? 0) - (kernelBefore[i]?.out ?? 0);
      const kernelIn = (kernelAfter[i]?.in ?? 0) - (kernelBefore[i]?.in ?? 0);
      if (ids[i] === 1) {
        expect(statsAfter[i]?.network.udpGso).toBe('on');
        expect(delta(i, 'txRuns')).toBeGreaterThan(0);
        expect(kernelOut).toBeGreaterThanOrEqual(delta(i, 'txRuns'));
        expect(kernelIn).toBeGreaterThanOrEqual(delta(i, 'rxMulticast')); // from nodes 2 and 3: packet by packet
      } else {
        expect(delta(i, 'txRuns')).toBe(0);
        expect(kernelOut).toBeGreaterThanOrEqual(delta(i, 'txMulticast'));
        expect(kernelIn).toBeGreaterThan(0);
      }
      expect(statsAfter[i]?.network.transport.rxUnknownSource).toBe(0);
    }
    console.info(`[netns udp] per node: txDatagrams ${ids.map((_, i) => delta(i, 'txDatagrams')).join('/')}, `
      + `txMulticast ${ids.map((_, i) => delta(i, 'txMulticast')).join('/')}, rxMulticast ${ids.map((_, i) => delta(i, 'rxMulticast')).join('/')}`);
  });

  it('isolating host 3 leaves [1, 2]; reconnecting it merges [1, 2, 3] again', async () => {
    const c = cluster as ProcessCluster;
    const cut = performance.now();
    ip('-n', switchNs, 'link', 'set', switchPort(3), 'down');
    await waitRing(c, [1, 2], [1, 2], 10_000);
    await waitRing(c, [3], [3], 10_000);
    console.info(`[netns udp] port 3 down -> [1,2] and [3] in ${(performance.now() - cut).toFixed(0)} ms: ${elapsed()}`);

    const heal = performance.now();
    ip('-n', switchNs, 'link', 'set', switchPort(3), 'up');
    await waitRing(c, ids, [1, 2, 3], 15_000);
    console.info(`[netns udp] port 3 up -> [1,2,3] in ${(performance.now() - heal).toFixed(0)} ms: ${elapsed()}`);

    // the merged ring carries traffic, in one order everywhere
    await sendProbes(c, 1, 10);
    const r = await reports(c, 960);
    for (const report of r) {
      expect(report.fifoViolations).toBe(0);
      expect(report.corrupt).toBe(0);
      expect(report.lastCounter).toEqual({ 1: 320, 2: 320, 3: 320 });
    }
    expect(new Set(r.map((x) => x.digest)).size).toBe(1);
  });
});
