/**
 * One cluster of node processes for the length of a measurement: started,
 * formed into one ring, every node's handle joined to the bench group; and
 * stopped again on every way out — return, error, Ctrl-C (SIGINT) or
 * SIGTERM. A child whose parent dies regardless stops itself when its IPC
 * channel closes (node-process.ts).
 */
import { ProcessCluster } from '../process-cluster.ts';
import type { BenchConfig } from './bench-config.ts';
import { markFormed } from './agreement-check.ts';
import { clusterOptionsOf, resolvedNodeOptions, type ThreadChoice } from './cluster-options.ts';

export const benchGroup = 'bench';

/** nodes may first form partial rings and merge: this long for all to share one. */
const ringFormTimeoutMs = 30_000;

const active = new Set<ProcessCluster>();
let interrupted: NodeJS.Signals | null = null;

/** the signal that interrupted the run, if any: errors after it are the interruption's, not the bench's. */
export function interruption(): NodeJS.Signals | null {
  return interrupted;
}

function onSignal(signal: NodeJS.Signals, exitCode: number): void {
  if (interrupted !== null) return;
  interrupted = signal;
  process.stderr.write(`\nevs bench: ${signal}: stopping the node processes\n`);
  void Promise.all([...active].map((c) => c.stop().catch(() => undefined))).finally(() => process.exit(exitCode));
}

let handlersInstalled = false;
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
}

export function nodeIdsOf(config: BenchConfig): number[] {
  return Array.from({ length: config.nodes }, (_, i) => i + 1);
}

export async function withCluster<T>(config: BenchConfig, threads: ThreadChoice, measure: (cluster: ProcessCluster) => Promise<T>): Promise<T> {
  installSignalHandlers();
  const cluster = new ProcessCluster(clusterOptionsOf(config, threads));
  active.add(cluster);
  try {
    const ids = nodeIdsOf(config);
    await cluster.start();
    await cluster.waitRing(ids, ringFormTimeoutMs);
    await Promise.all(ids.map((id) => cluster.join(id, [benchGroup])));
    const { tokenMs, consensusMs } = resolvedNodeOptions(config, threads).totem;
    markFormed(cluster, tokenMs, consensusMs);
    return await measure(cluster);
  } finally {
    await cluster.stop();
    active.delete(cluster);
  }
}
