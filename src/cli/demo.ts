/**
 * `npm start`: a real three-node EVS cluster on loopback, nothing to
 * configure. Three child processes (127.0.0.1..3, udpu, a fresh cluster key,
 * AES-256-GCM, state in a temporary directory) form a ring, each sends
 * probe messages, one node is killed with SIGKILL and restarted, and every
 * configuration change and the delivery checks are printed. Everything is
 * removed at the end (also on Ctrl-C).
 */
import { ProcessCluster, type ConfchgRecord } from './process-cluster.ts';
import type { Report } from './process-protocol.ts';
import { deriveTotemConfig } from '../protocol/config.ts';

const totem = { tokenMs: 1000, joinMs: 50, consensusMs: 1200 };
const cluster = new ProcessCluster({ count: 3, port: 15405, nodeOptions: { totem } });
const ids = [1, 2, 3];
/** what the nodes run with: corosync adds 650 ms of token per node beyond two. */
const effective = deriveTotemConfig(1, ids.length, totem);
const perSender = 20_000;

function printChange(r: ConfchgRecord): void {
  const c = r.change;
  const list = (xs: readonly number[]): string => `[${xs.join(',')}]`;
  console.log(`  node ${r.nodeId}: ${c.type.padEnd(12)} ring ${c.ringId.rep}/${c.ringId.seq}  members ${list(c.members)}  left ${list(c.left)}  joined ${list(c.joined)}`);
}

function printReports(title: string, reports: Report[], nodes: number[]): void {
  console.log(title);
  reports.forEach((r, i) => {
    console.log(`  node ${nodes[i]}: ${r.delivered} delivered, order digest ${r.digest.toString(16).padStart(8, '0')}, FIFO violations ${r.fifoViolations}, corrupt ${r.corrupt}`);
  });
}

/** `senders` each send `count` messages; resolves when every node of `receivers` delivered them all. */
async function send(senders: number[], receivers: number[], count: number, sizeBytes: number): Promise<number> {
  const before = await Promise.all(receivers.map((i) => cluster.report(i)));
  const t0 = performance.now();
  await Promise.all(senders.map((i) => cluster.request(i, { cmd: 'send', count, sizeBytes, guarantee: 'agreed' })));
  await Promise.all(receivers.map((i, k) => cluster.request(i, { cmd: 'waitDelivered', total: before[k]!.delivered + senders.length * count, timeoutMs: 60_000 })));
  return (senders.length * count) / ((performance.now() - t0) / 1000);
}

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await cluster.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stop(130));

try {
  console.log(`starting 3 nodes on 127.0.0.1..3:${cluster.options.port} (udpu, AES-256-GCM, token ${effective.tokenMs} ms, consensus ${effective.consensusMs} ms), state in ${cluster.dir}`);
  await cluster.start();
  await cluster.waitRing(ids, 30_000);
  await Promise.all(ids.map((i) => cluster.join(i, ['demo'])));
  cluster.confchgs.filter((r) => r.change.members.length === 3).slice(0, 3).forEach(printChange);

  const rate = await send(ids, ids, perSender, 100);
  printReports(`\nall three send ${perSender} messages of 100 B: ${Math.round(rate).toLocaleString('en')} msgs/s delivered everywhere`, await Promise.all(ids.map((i) => cluster.report(i))), ids);

  console.log('\nkill -9 node 3 while nodes 1 and 2 keep sending');
  const seen = cluster.confchgs.length;
  const load = send([1, 2], [1, 2], 5_000, 100);
  const killAt = await cluster.kill(3);
  const regular = await Promise.all([1, 2].map((id) => cluster.waitConfchg((r) => r.nodeId === id && r.atMs > killAt && r.change.type === 'regular', 30_000)));
  await load;
  cluster.confchgs.slice(seen).forEach(printChange);
  console.log(`  regular configuration without node 3 after ${regular.map((r) => Math.round(r.atMs - killAt)).join(' / ')} ms (token ${effective.tokenMs} + consensus ${effective.consensusMs} ms)`);
  printReports('  survivors:', await Promise.all([1, 2].map((i) => cluster.report(i))), [1, 2]);

  console.log('\nrestart node 3 with the same state directory: it merges back under a higher ring seq');
  const before = cluster.confchgs.length;
  await cluster.startNode(3);
  await cluster.join(3, ['demo']);
  await cluster.waitRing(ids, 30_000);
  cluster.confchgs.slice(before).forEach(printChange);

  console.log('\ngraceful stop: each node sends a LEAVE; done.');
  await stop(0);
} catch (error) {
  console.error(error);
  await stop(1);
}
