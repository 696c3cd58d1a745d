/**
 * What the protocol worker tells the main thread's diagnostics
 * (observe-messages.ts): each configuration change, and the core's counters
 * that moved since the last look (token losses, membership rounds,
 * retransmissions, decode drops), at most every `observeIntervalMs` and at
 * once after a configuration change. The core keeps counters, not events, so
 * events are diffs of its counters; the reason of a membership round is read
 * from the core's log line (it keeps no counter of reasons).
 */
import type { EvsCore } from '../../groups/evs-core.ts';
import { CounterDiff, observeIntervalMs, type Observe } from '../observe/observe-messages.ts';

type CoreEvents = ReturnType<EvsCore['ready']>['events'];

export class CoreObserver {
  readonly #totemDiff = new CounterDiff();
  readonly #dropDiff = new CounterDiff();
  #observedAt = Number.NEGATIVE_INFINITY;
  /** the reason of the last GATHER, from the core's log line. */
  #gatherReason = 'unknown';

  constructor(
    private readonly observe: Observe,
    private readonly core: EvsCore,
    private readonly decodeDropped: () => Readonly<Record<string, number>>,
    private readonly clock: () => number,
    private readonly tokenMs: number,
  ) {}

  /** every core log line passes here first. */
  coreLog(line: string): void {
    const gather = 'entering GATHER state from ';
    if (line.startsWith(gather)) this.#gatherReason = line.slice(gather.length).replace(/\.$/, '');
  }

  /** a Ready's events: configuration changes go out at once, with the counters that led to them. */
  confchgs(events: CoreEvents): void {
    let changed = false;
    for (const ev of events) {
      if (ev.kind !== 'confchg') continue;
      changed = true;
      this.observe({ t: 'confchg', type: ev.type, ringId: ev.ringId, members: ev.members, left: ev.left, joined: ev.joined });
    }
    if (changed) this.#counters();
  }

  /** after each input: the counters, when observeIntervalMs has passed. */
  tick(): void {
    if (this.clock() - this.#observedAt >= observeIntervalMs) this.#counters();
  }

  #counters(): void {
    const observe = this.observe;
    this.#observedAt = this.clock();
    const totem = this.core.processor.stats;
    const ringId = this.core.processor.ringId;
    let sent = 0;
    let requested = 0;
    this.#totemDiff.diff({
      tokenLosses: totem.tokenLosses, gatherEntered: totem.gatherEntered,
      retransmitsSent: totem.retransmitsSent, retransmitsRequested: totem.retransmitsRequested,
    }, (name, count, total) => {
      if (name === 'tokenLosses') observe({ t: 'token-loss', ringId, tokenMs: this.tokenMs, count, total });
      else if (name === 'gatherEntered') observe({ t: 'membership-round', ringId, reason: this.#gatherReason, count, total });
      else if (name === 'retransmitsSent') sent = count;
      else requested = count;
    });
    if (sent > 0 || requested > 0) {
      observe({ t: 'retransmit', ringId, sent, requested, sentTotal: totem.retransmitsSent, requestedTotal: totem.retransmitsRequested });
    }
    this.#dropDiff.diff(this.decodeDropped(), (reason, count, total) => observe({ t: 'datagram-dropped', layer: 'decode', reason, count, total }));
  }
}
