/** One-line descriptions of a run's configuration: the table's header and the charts' titles. */
import type { ResolvedOptions } from '../../options.ts';
import { receiverOf, type BenchConfig } from './bench-config.ts';

export function placementText(config: BenchConfig): string {
  const where = config.netns === null ? '' : ` in netns ${config.netns.join(',')}`;
  return `${config.nodes} nodes (${config.transport}, ${config.addresses[0]}..${config.addresses.at(-1)}${where})`;
}

export function protocolText(config: BenchConfig, r: ResolvedOptions): string {
  const t = r.totem;
  return `${config.crypto ? 'AES-256-GCM' : 'no crypto'}, token ${t.tokenMs} ms, consensus ${t.consensusMs} ms, ` +
    `window ${t.windowSize}, max messages ${t.maxMessages}, ${t.ordering === 'accelerated' ? `accelerated (${t.acceleratedWindow} after the token)` : 'classic'}, netmtu ${r.netmtu}, frames ≤ ${r.frameBytesMax} B, UDP GSO ${r.udpGso}`;
}

export function threadsText(r: ResolvedOptions): string {
  return `layout ${r.threads.layout}, ${r.threads.cryptoThreads} crypto threads, workers nice +${r.threads.workerNice}`;
}

export function loadText(config: BenchConfig): string {
  const senders = config.senders === 'one' ? 'one sender (node 1)' : `${config.nodes} senders`;
  const unit = config.mode === 'eventloop' ? 'phase' : 'size';
  const length = config.load.kind === 'duration'
    ? `${config.load.durationMs / 1000} s per ${unit} after ${config.warmupMs / 1000} s warm-up`
    : `${config.load.count} messages per sender per ${unit}`;
  const runs = config.runs > 1 ? `, median of ${config.runs} runs` : '';
  const counted = config.mode === 'eventloop' ? '' : `; TP/s counted at node ${receiverOf(config)}`;
  return `${senders}, ${config.guarantee}, ${config.sizesBytes.length === 1 ? `${config.sizesBytes[0]} B, ` : ''}${length}${runs}${counted}`;
}
