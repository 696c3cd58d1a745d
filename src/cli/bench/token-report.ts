/**
 * The token's rotation during a throughput run: every node's token timing
 * (stats().protocol.token, src/runtime/protocol/token-timing.ts) read before
 * and after the run; the difference says how many rotations per second the
 * ring made and where a rotation's time went.
 *
 * A rotation = every node's hold (token receipt at the socket → the token's
 * packet handed to the socket) + what no node can time on its own: the
 * kernel and the socket wake-up between one node's send and the next node's
 * receipt (`wire`, rotation − Σ holds).
 */
import type { StageStats, TokenStage, TokenTimingStats } from '../../runtime/protocol/token-timing.ts';
import type { ProcessCluster } from '../process-cluster.ts';

/** what a node counts of loss and its repair: the core's retransmit list and back-off, the network's frames lost. */
export interface LossCounters {
  readonly retransmitsRequested: number;
  readonly retransmitsSent: number;
  readonly congestionBackoffs: number;
  /** the node's flow-control window at the snapshot (messages per rotation). */
  readonly window: number;
  /** frames whose packets did not all arrive (any reason). */
  readonly framesLost: number;
}

export type TokenSnapshot = { readonly atMs: number; readonly nodes: readonly TokenTimingStats[]; readonly loss: readonly LossCounters[] };

interface NodeStats {
  readonly protocol: {
    readonly token: TokenTimingStats;
    readonly totem: { retransmitsRequested: number; retransmitsSent: number; congestionBackoffs: number; window: number };
  };
  readonly network: { readonly packetsIn: { readonly framesLost: Readonly<Record<string, number>> } };
}

/** the stages a hold splits into, in the token's order. */
const holdStages = ['rxOpen', 'rxRing', 'protocol', 'txRing', 'txMcasts', 'seal', 'send'] as const satisfies readonly TokenStage[];

/** mean and (bucket-bound) p99 of one stage over the run, µs. */
export interface StageSummary {
  readonly count: number;
  readonly meanUs: number;
  /** upper bound of the histogram bucket holding the 99th percentile (a power of two). */
  readonly p99UsAtMost: number;
}

export interface TokenSummary {
  readonly rotationsPerSec: number;
  readonly rotationUs: StageSummary;
  /** per node, in node id order. */
  readonly holdUs: readonly StageSummary[];
  /** mean over the nodes of each stage's mean, µs. */
  readonly stagesMeanUs: Readonly<Record<(typeof holdStages)[number], number>>;
  /** rotation − Σ mean holds: kernel, wire and socket wake-ups, µs; NaN (JSON null) when the nodes timed different visits. */
  readonly wireUs: number;
  /** per node, in node id order: loss and repair during the run (window: at its end). */
  readonly loss: readonly LossCounters[];
}

export async function tokenSnapshot(cluster: ProcessCluster, nodeIds: readonly number[]): Promise<TokenSnapshot> {
  const stats = await Promise.all(nodeIds.map((id) => cluster.request(id, { cmd: 'stats' }) as Promise<NodeStats>));
  const loss = stats.map(({ protocol: { totem }, network }): LossCounters => ({
    retransmitsRequested: totem.retransmitsRequested,
    retransmitsSent: totem.retransmitsSent,
    congestionBackoffs: totem.congestionBackoffs,
    window: totem.window,
    framesLost: Object.values(network.packetsIn.framesLost).reduce((a, b) => a + b, 0),
  }));
  return { atMs: performance.now(), nodes: stats.map((s) => s.protocol.token), loss };
}

function delta(a: StageStats, b: StageStats): StageSummary {
  const count = b.count - a.count;
  const buckets = b.buckets.map((n, i) => n - (a.buckets[i] ?? 0));
  let seen = 0;
  let p99 = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= 0.99 * count) {
      p99 = 2 ** i;
      break;
    }
  }
  return { count, meanUs: count > 0 ? (b.sumUs - a.sumUs) / count : Number.NaN, p99UsAtMost: p99 };
}

export function summarize(before: TokenSnapshot, after: TokenSnapshot): TokenSummary {
  const seconds = (after.atMs - before.atMs) / 1e3;
  const n = after.nodes.length;
  const per = (stage: TokenStage): StageSummary[] => after.nodes.map((b, i) => delta(before.nodes[i]![stage], b[stage]));
  const rotations = per('rotation');
  // every node sees every rotation: take the node that counted the most (a visit with stale stamps is skipped)
  const best = rotations.reduce((x, y) => (y.count > x.count ? y : x));
  const holdUs = per('hold');
  const meanOver = (xs: StageSummary[]): number => xs.reduce((s, x) => s + (Number.isNaN(x.meanUs) ? 0 : x.meanUs), 0) / n;
  const stagesMeanUs = Object.fromEntries(holdStages.map((s) => [s, meanOver(per(s))])) as TokenSummary['stagesMeanUs'];
  const holdSum = holdUs.reduce((s, h) => s + (Number.isNaN(h.meanUs) ? 0 : h.meanUs), 0);
  // The difference means something only when every node timed (nearly) the same visits: a node that skipped
  // visits (stale stamps: the token re-sent by its timer, a ring change) averages over other ones.
  const sameVisits = holdUs.every((h) => h.count >= 0.9 * best.count);
  const loss = after.loss.map((b, i): LossCounters => {
    const a = before.loss[i]!;
    return {
      retransmitsRequested: b.retransmitsRequested - a.retransmitsRequested,
      retransmitsSent: b.retransmitsSent - a.retransmitsSent,
      congestionBackoffs: b.congestionBackoffs - a.congestionBackoffs,
      window: b.window,
      framesLost: b.framesLost - a.framesLost,
    };
  });
  return { rotationsPerSec: best.count / seconds, rotationUs: best, holdUs, stagesMeanUs, wireUs: sameVisits ? best.meanUs - holdSum : Number.NaN, loss };
}

const sum = (xs: readonly LossCounters[], key: Exclude<keyof LossCounters, 'window'>): number => xs.reduce((s, x) => s + x[key], 0);

const us = (x: number): string => (Number.isNaN(x) ? '-' : x >= 10_000 ? `${(x / 1e3).toFixed(1)} ms` : `${Math.round(x)} µs`);

/** `#` lines for the bench's stdout. */
export function tokenLines(t: TokenSummary): string[] {
  const holds = t.holdUs.map((h, i) => `n${i + 1} ${us(h.meanUs)} (p99 ≤ ${us(h.p99UsAtMost)})`).join(', ');
  const stages = holdStages.map((s) => `${s} ${us(t.stagesMeanUs[s])}`).join(', ');
  return [
    `#   token: ${Math.round(t.rotationsPerSec).toLocaleString('en')} rotations/s, rotation ${us(t.rotationUs.meanUs)} mean (p99 ≤ ${us(t.rotationUs.p99UsAtMost)}); hold ${holds}`,
    `#   a hold (mean over nodes): ${stages}; wire + socket wake-ups ${Number.isNaN(t.wireUs) ? '- (the nodes timed different visits)' : us(t.wireUs)} per rotation`,
    `#   loss: ${sum(t.loss, 'framesLost')} frames lost, ${sum(t.loss, 'retransmitsRequested')} retransmissions asked, `
      + `${sum(t.loss, 'retransmitsSent')} sent, back-offs ${t.loss.map((l, i) => `n${i + 1} ${l.congestionBackoffs}`).join(' ')}; `
      + `window at the end ${t.loss.map((l) => l.window).join('/')}`,
  ];
}
