/**
 * `evs bench failover`: while the survivors send as fast as they can, the
 * last node is killed with SIGKILL (no LEAVE); the time from the kill until
 * each survivor installs a regular configuration without it. Then the node
 * is restarted and the ring re-forms before the next run. Totem cannot be
 * faster than token + consensus (token loss, then the silent node declared
 * failed in GATHER); the margin is what the rest costs.
 */
import type { ProcessCluster } from '../process-cluster.ts';
import { checkSameSequence, type AgreementCheck } from './agreement-check.ts';
import type { BenchConfig } from './bench-config.ts';
import { reportableOptions, resolvedNodeOptions } from './cluster-options.ts';
import { placementText, protocolText, threadsText } from './describe.ts';
import type { ModeResult } from './mode-result.ts';
import type { FailoverPoint } from './points.ts';
import type { BenchOutput } from './progress.ts';
import { benchGroup, nodeIdsOf, withCluster } from './session.ts';
import { median } from './stats.ts';

/** the survivors keep sending this long past token + consensus, so the new ring forms under load. */
const loadAfterMs = 1000;
const confchgTimeoutMs = 120_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** one kill: the survivors' times in ms, in `survivors` order. */
async function killOnce(cluster: ProcessCluster, config: BenchConfig, victim: number, survivors: readonly number[], windowMs: number): Promise<number[]> {
  const request = { cmd: 'sendFor', durationMs: config.warmupMs + windowMs + loadAfterMs, sizeBytes: config.sizesBytes[0]!, guarantee: config.guarantee } as const;
  const load = Promise.allSettled(survivors.map((id) => cluster.request(id, request)));
  await sleep(config.warmupMs);
  const killAtMs = await cluster.kill(victim);
  const regular = await Promise.all(survivors.map((id) => cluster.waitConfchg(
    (r) => r.nodeId === id && r.atMs > killAtMs && r.change.type === 'regular' && !r.change.members.includes(victim), confchgTimeoutMs)));
  await load;
  return regular.map((r) => r.atMs - killAtMs);
}

async function restart(cluster: ProcessCluster, config: BenchConfig, victim: number): Promise<void> {
  await cluster.startNode(victim);
  await cluster.join(victim, [benchGroup]);
  await cluster.waitRing(nodeIdsOf(config), confchgTimeoutMs);
}

export async function runFailover(config: BenchConfig, output: BenchOutput): Promise<ModeResult> {
  const threads = { layout: config.layout, cryptoThreads: config.cryptoThreads };
  const resolved = resolvedNodeOptions(config, threads);
  const { tokenMs, consensusMs } = resolved.totem;
  const victim = config.nodes;
  const survivors = nodeIdsOf(config).filter((id) => id !== victim);
  output.line(`# evs bench failover: ${placementText(config)}, ${threadsText(resolved)}, ${protocolText(config, resolved)}`);
  output.line(`# kill -9 node ${victim} while node${survivors.length > 1 ? 's' : ''} ${survivors.join(', ')} send ${config.sizesBytes[0]} B messages; ` +
    `time until each survivor's regular configuration without it; ${config.runs} runs`);
  output.start(config.runs, 'starting the nodes');
  const perRun: number[][] = [];
  const checks: AgreementCheck[] = [];
  await withCluster(config, threads, async (cluster) => {
    for (let run = 0; run < config.runs; run++) {
      const times = await killOnce(cluster, config, victim, survivors, tokenMs + consensusMs);
      perRun.push(times);
      checks.push(await checkSameSequence(cluster, survivors));
      output.line(`run ${run + 1}: ${survivors.map((id, i) => `node ${id} ${Math.round(times[i]!)} ms`).join(', ')}`);
      output.advance(run + 1 < config.runs ? `restarting node ${victim}` : 'stopping');
      if (run + 1 < config.runs) await restart(cluster, config, victim);
    }
  });
  const runs = perRun.map((times) => Math.max(...times));
  const medianMs = median(runs);
  const point: FailoverPoint = {
    mode: 'failover', killedNode: victim, survivors, tokenMs, consensusMs, runs, survivorRunsMs: perRun, medianMs, marginMs: medianMs - (tokenMs + consensusMs),
  };
  output.line(`kill -9 → regular configuration at every survivor: median ${Math.round(medianMs)} ms ` +
    `(${Math.round(Math.min(...runs))}–${Math.round(Math.max(...runs))} ms, ${runs.length} runs); ` +
    `token ${tokenMs} + consensus ${consensusMs} = ${tokenMs + consensusMs} ms in force; margin ${point.marginMs >= 0 ? '+' : ''}${Math.round(point.marginMs)} ms`);
  return { points: [point], checks, resolved: [reportableOptions(resolved)], charts: {} };
}
