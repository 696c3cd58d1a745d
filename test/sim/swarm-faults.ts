/**
 * The safety phase's fault injector: at random intervals, one fault drawn
 * by weight (partitions, heals, cuts, crashes, restarts, pauses, link quality…);
 * `stop` heals everything for the liveness phase.
 */
import { MessageType } from '../../src/wire/messages.ts';
import type { Cluster } from './cluster.ts';
import type { Prng } from './prng.ts';
import { type FaultKind, faultKinds, qualityNarrow, type SwarmOptions } from './swarm-options.ts';

/** Random groups (2 or 3 of them) over `ids`, each non-empty. */
function randomGroups(prng: Prng, ids: readonly number[]): number[][] {
  const count = Math.min(ids.length, prng.int(2, 3));
  const shuffled = prng.shuffle([...ids]);
  const groups: number[][] = Array.from({ length: count }, () => []);
  shuffled.forEach((id, i) => {
    const g = i < count ? i : prng.int(0, count - 1);
    (groups[g] as number[]).push(id);
  });
  return groups;
}

export class Faults {
  private readonly filters: number[] = [];
  private stopped = false;

  constructor(private readonly cluster: Cluster, private readonly prng: Prng, private readonly options: SwarmOptions) {}

  private tokenDrop(): void {
    const id = this.cluster.network.dropTypes([MessageType.OrfToken], this.prng.real(0.3, 1));
    this.filters.push(id);
    this.cluster.after(this.prng.int(20, 600), () => this.cluster.network.removeFilter(id));
  }

  private quality(): void {
    const choices = this.options.quality ?? qualityNarrow;
    this.cluster.network.setLinkDefaults({
      lossProbability: this.prng.pick(choices.loss),
      duplicateProbability: this.prng.pick(choices.duplicate),
    });
  }

  private crash(): void {
    const up = this.cluster.up();
    if (up.length === 0) return;
    const id = this.prng.pick(up);
    this.cluster.crash(id);
    if (this.prng.chance(this.options.quickRestartProbability)) {
      this.cluster.after(this.prng.int(1, this.options.quickRestartMaxMs ?? 150), () => {
        // after stop() the liveness phase owns who runs: a late quick restart would change the live set
        if (!this.stopped && !this.cluster.isUp(id)) this.cluster.start(id);
      });
    }
  }

  /** one random fault event. */
  inject(): void {
    const c = this.cluster;
    const kind = faultKinds[this.prng.weighted(faultKinds.map((k) => this.options.faultWeights[k]))] as FaultKind;
    const any = (): number => this.prng.pick(c.ids);
    switch (kind) {
      case 'partition':
        c.network.clearCuts();
        c.network.partition(randomGroups(this.prng, c.ids));
        return;
      case 'heal':
        c.network.heal();
        return;
      case 'crash':
        return this.crash();
      case 'restart': {
        const down = c.down();
        if (down.length > 0) c.start(this.prng.pick(down));
        return;
      }
      case 'leave': {
        const up = c.up().filter((id) => !c.isPaused(id)); // a process that is not scheduled cannot leave
        if (up.length > 0) c.leave(this.prng.pick(up));
        return;
      }
      case 'cut': {
        const from = any();
        const to = any();
        c.network.cut(from, to);
        if (this.prng.chance(0.5)) c.after(this.prng.int(50, 1000), () => c.network.uncut(from, to));
        return;
      }
      case 'isolate':
        c.network.isolate(any());
        return;
      case 'deaf': {
        const id = any();
        c.network.setCannotReceive(id, this.prng.chance(0.8));
        c.after(this.prng.int(200, 3000), () => c.network.clearCannotReceive(id));
        return;
      }
      case 'tokenDrop':
        return this.tokenDrop();
      case 'pause': {
        // a process that is not scheduled: from a blip to past the token timeout
        const up = c.up().filter((id) => !c.isPaused(id));
        if (up.length > 0) c.pause(this.prng.pick(up), this.prng.pick([0.1, 0.3, 0.6, 0.8, 1.5]) * c.config(1).tokenMs);
        return;
      }
      case 'quality':
        return this.quality();
      case 'linkLoss': {
        // one direction of one link (asymmetric): the way back keeps the defaults
        const from = any();
        const to = any();
        if (from === to) return;
        c.network.setLink(from, to, {
          lossProbability: this.prng.pick([0.1, 0.3, 0.5, 0.9]),
          duplicateProbability: this.prng.pick([0, 0, 0.1, 0.2]),
        });
        if (this.prng.chance(0.5)) c.after(this.prng.int(50, 2000), () => c.network.clearLink(from, to));
        return;
      }
      case 'mcastLoss': {
        // MCASTs only, towards one processor (tokens and membership still get
        // through): its aru falls behind while the ring goes on, the case
        // FAILED TO RECEIVE is for. It takes failRecvConst (100) visits with
        // the aru stuck — all of them lost, since a retransmission that gets
        // through moves the aru — so mostly total loss, for long enough for
        // 100 rotations (held tokens on a quiet ring rotate every hold).
        // A link setting, not a drop filter: a heal (connectivity) leaves it.
        const to = any();
        const mcastLossProbability = this.prng.pick([0.5, 1, 1, 1]);
        for (const from of c.ids) if (from !== to) c.network.setLink(from, to, { mcastLossProbability });
        c.after(this.prng.int(500, 5000), () => {
          for (const from of c.ids) if (from !== to) c.network.setLink(from, to, { mcastLossProbability: 0 });
        });
        return;
      }
    }
  }

  /** Liveness phase: a fully connected network, loss-free unless the loss is steady. */
  stop(): void {
    this.stopped = true;
    // a pause drawn late in the safety phase would outlast it (1.5 × token):
    // the liveness phase starts with every process scheduled (seed 1009396:
    // the token sat in a node paused 1.1 s into the progress check)
    for (const id of this.cluster.ids) this.cluster.resumeNow(id);
    const n = this.cluster.network;
    n.heal();
    n.clearLinkOverrides();
    if (this.options.steady === undefined) n.setLinkDefaults({ lossProbability: 0, duplicateProbability: 0 });
  }
}
