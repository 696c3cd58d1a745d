/**
 * Frames over packets in a real cluster: three node processes on
 * 127.0.0.1..3 (ProcessCluster, as `evs bench`), `senders` of them sending
 * `size`-byte messages for `seconds`; prints msgs/s at node 2, the CPU
 * seconds (user + system) the node processes spent per 1000 messages
 * delivered (less sensitive than msgs/s to other load on a shared machine),
 * token rotations/s, and node 2's packet, reassembly and AEAD counters.
 *
 *   npx tsx bench/frames-cluster.ts size netmtu seconds senders [windowSize maxMessages frameBytesMax]
 *
 * Measures, never asserts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ProcessCluster } from '../src/cli/process-cluster.ts';
import type { WindowReply } from '../src/cli/process-protocol.ts';

const [size = 1450, netmtu = 1500, seconds = 3, senders = 1, windowSize, maxMessages, frameBytesMax] = process.argv.slice(2).map(Number);
const totem = { ...(windowSize ? { windowSize } : {}), ...(maxMessages ? { maxMessages } : {}) };
const cluster = new ProcessCluster({
  count: 3, port: 17405,
  nodeOptions: { netmtu, totem, ...(frameBytesMax ? { frameBytesMax } : {}) } as never,
});

/** user + system CPU seconds of a process and its threads, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const started = await cluster.start();
const ids = [1, 2, 3];
await cluster.waitRing(ids, 30_000);
await Promise.all(ids.map((id) => cluster.join(id, ['bench'])));
void started;
/** the node processes: children of this process. */
const pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === process.pid;
  } catch {
    return false;
  }
});
const before = await cluster.stats(2);
const cpu0 = pids.map(cpuSeconds);
const durationMs = seconds * 1000;
const window = cluster.request(2, { cmd: 'measureWindow', delayMs: 500, durationMs }) as Promise<WindowReply>;
await Promise.all(ids.slice(0, senders).map((id) => cluster.request(id, { cmd: 'sendFor', durationMs: durationMs + 800, sizeBytes: size, guarantee: 'agreed' })));
const w = await window;
const cpu1 = pids.map(cpuSeconds);
const after = await cluster.stats(2) as unknown as { network: Record<string, unknown>; protocol: { totem: Record<string, number> } };
const b = before as unknown as { protocol: { totem: Record<string, number> } };
const cpu = cpu1.reduce((a, v, i) => a + v - cpu0[i]!, 0);
const delivered = (after.protocol as unknown as { messagesDelivered: number }).messagesDelivered - (b.protocol as unknown as { messagesDelivered: number }).messagesDelivered;
console.log(JSON.stringify({
  size, netmtu, senders, totem, frameBytesMax,
  msgsPerSec: Math.round(w.delivered / w.seconds), nodeProcesses: pids.length,
  cpuMsPer1kMsgs: +(1000 * cpu / delivered * 1000).toFixed(2),
  tokensPerSec: Math.round((after.protocol.totem.tokensReceived! - b.protocol.totem.tokensReceived!) / (seconds + 1.3)),
  retransmitsRequested: after.protocol.totem.retransmitsRequested! - b.protocol.totem.retransmitsRequested!,
  totem2: Object.fromEntries(Object.entries(after.protocol.totem).map(([k, v]) => [k, v - (b.protocol.totem[k] ?? 0)])),
  network2: after.network,
}));
await cluster.stop();
