/**
 * `evs cluster --nodes N`: N `evs node` child processes on 127.0.0.1..N
 * (loopback only, udpu), a fresh cluster key and the state directories in a
 * new temporary directory. Their output is shown prefixed per node; a line
 * typed here is sent from node 1, or from node N when written `N: text`.
 * Typed lines wait until every node's handle has joined its groups: a handle
 * receives a group's messages only from its join on, and a node can be in
 * the ring before its join reached its protocol worker, so a line sent
 * earlier could miss a node that is in the configuration.
 *
 * SIGINT and SIGTERM stop every node (SIGTERM, SIGKILL after a grace period),
 * remove the temporary directory and exit 130 or 143. A node that dies on its
 * own is reported and the others keep running (the survivors show the new
 * configuration); when none is left, the cluster exits 1.
 *
 * The nodes' stdout (configuration changes, deliveries) is data and goes to
 * stdout; their stderr and the `[cluster] ...` status lines go to stderr.
 */
import { Command, Option } from 'commander';
import type { GuaranteeName } from '../../handle.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { clusterKeyBytesDefault, generateClusterKey, writeKeyFile } from '../../runtime/crypto/keyfile.ts';
import { optionDefaults } from '../../options.ts';
import { UsageError, exitOnCommanderError, failAndExit } from './cli-error.ts';
import { addFlags, attributeOf, flagName, guarantees, portFlags, threadFlags, totemFlags, type FlagSpec } from './node-flags.ts';
import { killChildren, spawnNodeChild, stopChildren, type NodeChild } from './node-child.ts';
import { checkStartOptions, explainStartError, numberOrText, parseGroups, startOptionsFrom } from './node-options.ts';
import { onStopSignal, signalExitCode } from './stop-signal.ts';

/** loopback addresses 127.0.0.1..254: one per node. */
export const clusterNodesMax = 254;
const clusterNodesDefault = 3;
/** how long a node gets to stop gracefully before SIGKILL. */
const stopGraceMs = 5000;

/** every node binds its own 127.0.0.<id> on this one port. */
const clusterPortFlags: readonly FlagSpec[] = portFlags.map((spec) => ({ ...spec, description: `UDP port of every node, 1..65535 (default: ${optionDefaults.port})` }));
/** the node flags `evs cluster` passes on to every node unchanged. */
const passedFlags: readonly FlagSpec[] = [...clusterPortFlags, ...threadFlags, ...totemFlags];

interface ClusterFlags {
  readonly nodes?: string;
  readonly groups?: string;
  readonly guarantee?: GuaranteeName;
  readonly [flag: string]: unknown;
}

export function clusterCommand(): Command {
  const command = new Command('cluster')
    .description('run N nodes as child processes on 127.0.0.1..N (udpu, a fresh key); type a line to send it from node 1, or "N: text" from node N')
    .option('--nodes <n>', `how many nodes, 1..${clusterNodesMax} (default: ${clusterNodesDefault})`)
    .option('--groups <list>', 'groups every node joins, comma-separated (default: evs)')
    .addOption(new Option('--guarantee <guarantee>', 'delivery guarantee of the lines typed (default: agreed)').choices(guarantees));
  addFlags(command, [...clusterPortFlags, ...threadFlags], 'Every node:');
  addFlags(command, totemFlags, 'Totem (corosync names and derived defaults):');
  command.showHelpAfterError('(run `evs cluster --help` for every option)').exitOverride(exitOnCommanderError);
  return command.action(async (flags: ClusterFlags) => runCluster(flags));
}

function nodeCount(text: string | undefined): number {
  if (text === undefined) return clusterNodesDefault;
  const n = numberOrText(text);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > clusterNodesMax) {
    throw new UsageError(`--nodes must be an integer from 1 to ${clusterNodesMax} (got '${text}'): one loopback address 127.0.0.<n> per node`);
  }
  return n;
}

/** the command line of node `id`: its identity, the shared key and members, and the flags passed on. */
function nodeArgs(id: number, count: number, dir: string, flags: ClusterFlags): string[] {
  const members = Array.from({ length: count }, (_, i) => `${i + 1}@127.0.0.${i + 1}`).join(',');
  const args = [
    '--node-id', String(id), '--members', members, '--key-file', join(dir, 'evs.key'), '--state-dir', join(dir, `node${id}`), '--exit-on-eof',
  ];
  for (const spec of passedFlags) {
    const value = flags[attributeOf(spec)];
    if (value !== undefined) args.push(flagName(spec), String(value));
  }
  if (flags.groups !== undefined) args.push('--groups', flags.groups);
  if (flags.guarantee !== undefined) args.push('--guarantee', flags.guarantee);
  return args;
}

/** the flags passed on are checked here once, so a mistake is one message, not one per node. */
function checkPassedFlags(flags: ClusterFlags, count: number): void {
  const base = {
    nodeId: 1, members: Array.from({ length: count }, (_, i) => ({ nodeId: i + 1, addr: `127.0.0.${i + 1}` })),
    stateDir: 'unused', key: new Uint8Array(clusterKeyBytesDefault),
  };
  const mapped = startOptionsFrom(flags, passedFlags, base);
  try {
    checkStartOptions(mapped);
  } catch (error) {
    throw new UsageError(explainStartError(error, mapped.sources, passedFlags));
  }
  if (flags.groups !== undefined) parseGroups(flags.groups);
}

async function runCluster(flags: ClusterFlags): Promise<void> {
  let count: number;
  try {
    count = nodeCount(flags.nodes);
    checkPassedFlags(flags, count);
  } catch (error) {
    return failAndExit('evs cluster', error);
  }
  const dir = mkdtempSync(join(tmpdir(), 'evs-cluster-'));
  const children: NodeChild[] = [];
  const say = (line: string): void => console.error(`[cluster] ${line}`);
  // Whatever ends this process, no node and no key is left behind.
  process.on('exit', () => {
    killChildren(children);
    rmSync(dir, { recursive: true, force: true });
  });
  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    stopping = true;
    say(`stopping ${children.filter((c) => c.running).length} nodes`);
    await stopChildren(children, stopGraceMs);
    rmSync(dir, { recursive: true, force: true });
    say(`stopped; removed ${dir}`);
    process.exit(code);
  };
  onStopSignal((signal) => void stop(signalExitCode(signal)));

  writeKeyFile(join(dir, 'evs.key'), generateClusterKey());
  const port = flags.port ?? optionDefaults.port;
  say(`${count} nodes on 127.0.0.1..127.0.0.${count} port ${String(port)} (udpu, AES-256-GCM); key and state in ${dir}`);
  say('type a line to send it from node 1, or "N: text" to send it from node N; Ctrl-C stops every node');
  const print = (line: string, stream: 'out' | 'err'): void => {
    (stream === 'out' ? process.stdout : process.stderr).write(`${line}\n`);
  };
  for (let id = 1; id <= count; id++) {
    const child = spawnNodeChild(id, nodeArgs(id, count, dir, flags), print);
    children.push(child);
    say(`node ${id}: pid ${child.pid}, 127.0.0.${id}`);
    void child.exited.then((how) => {
      if (stopping) return;
      say(`node ${id} (pid ${child.pid}) exited unexpectedly (${how}); ${children.filter((c) => c.running).length} still running`);
      if (children.every((c) => !c.running)) void stop(1);
    });
  }
  const groups = flags.groups ?? 'evs';
  const ready = Promise.all(children.map((c) => Promise.race([c.joined, c.exited]))).then(() => {
    const running = children.filter((c) => c.running).length;
    say(`${running} node${running === 1 ? '' : 's'} joined ${groups}; typed lines go out now`);
  });
  routeTypedLines(children, ready, say);
}

/** "3: text" goes to node 3, any other line to node 1; lines typed before `ready` wait for it, in order. */
function routeTypedLines(children: readonly NodeChild[], ready: Promise<void>, say: (line: string) => void): void {
  const route = (line: string): void => {
    const addressed = /^(\d+):\s?(.*)$/.exec(line);
    const id = addressed !== null ? Number(addressed[1]) : 1;
    const text = addressed !== null ? addressed[2] ?? '' : line;
    const child = children.find((c) => c.nodeId === id);
    if (child === undefined || !child.running) {
      say(`node ${id} is not running; line not sent`);
      return;
    }
    child.send(text);
  };
  let held: string[] | null = [];
  void ready.then(() => {
    const waiting = held ?? [];
    held = null;
    for (const line of waiting) route(line);
  });
  createInterface({ input: process.stdin, terminal: false }).on('line', (line) => {
    if (held !== null) held.push(line);
    else route(line);
  });
}
