/**
 * Chaos scenarios: each one puts faults on a running cluster under traffic;
 * the runner (run-scenario.ts) then heals, judges liveness and re-checks
 * safety over the whole log. Random choices (which nodes, how long) come from
 * the seeded PRNG, so a scenario's fault sequence replays from its seed (its
 * timing does not: real processes).
 *
 * While a fault lasts, only what EVS promises is asserted: the sides of a
 * partition, or the survivors of a crash or a stopped process, each form a
 * ring of their own within the liveness bound (`expectRings`). Under loss,
 * one-way cuts and flapping links the ring may or may not hold: the scenario
 * reports how it fared (`note`) and safety is judged, then liveness after
 * the heal.
 *
 * Durations are multiples of the token timeout, so a slower token stretches
 * every scenario alike.
 */
import type { Prng } from '../sim/prng.ts';
import type { ChaosCluster } from './cluster.ts';
import { nowMs } from './node-proc.ts';

export interface ScenarioContext {
  readonly c: ChaosCluster;
  readonly rng: Prng;
  /** one line per fault put on (counted). */
  fault(what: string): void;
  /** a measurement worth reporting. */
  note(what: string): void;
  /** a short run (npm test) rather than a soak: fewer repetitions. */
  readonly short: boolean;
}

export interface Scenario {
  readonly name: string;
  run(ctx: ScenarioContext): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** the nodes in a random order. */
function shuffled(ctx: ScenarioContext): number[] {
  return ctx.rng.shuffle([...ctx.c.ids]);
}

/** waits for each group to form its own ring; notes how long it took, fails the scenario past the bound. */
async function expectRings(ctx: ScenarioContext, groups: readonly (readonly number[])[]): Promise<void> {
  const c = ctx.c;
  const t0 = nowMs();
  for (const g of groups) {
    const ms = await c.waitRing(g, g, c.boundMs - (nowMs() - t0));
    if (ms === null) throw new Error(`[${g.join(',')}] formed no ring of its own within ${c.boundMs} ms: ${c.describeViews()}`);
  }
  ctx.note(`rings ${groups.map((g) => `[${g.join(',')}]`).join(' ')} formed in ${(nowMs() - t0).toFixed(0)} ms`);
}

/** a random node and the one after it in ring order (ascending ids, wrapping): the token's next hop. */
function tokenHop(ctx: ScenarioContext): [number, number] {
  const ring = ctx.c.running();
  const i = ctx.rng.int(0, ring.length - 1);
  return [ring[i] ?? 1, ring[(i + 1) % ring.length] ?? 2];
}

/**
 * Regular configurations installed (summed over the nodes) and the share of
 * time node `id` spent in a regular configuration of every running node (from
 * its REGULAR to its next TRANSITIONAL), over [from, to].
 */
function ringStats(c: ChaosCluster, from: number, to: number, id: number): string {
  let installs = 0;
  let fullMs = 0;
  let fullSince: number | null = null;
  const all = c.running().length;
  for (const r of c.raw) {
    if (r.kind !== 'line' || r.line.event !== 'confchg') continue;
    if (r.line.type === 'regular' && r.at >= from && r.at <= to) installs++;
    if (r.node !== id || r.incarnation !== c.node(id).incarnation) continue;
    const full = r.line.type === 'regular' && r.line.members.length === all;
    const at = Math.min(Math.max(r.at, from), to);
    if (fullSince !== null && !full) {
      fullMs += at - fullSince;
      fullSince = null;
    } else if (fullSince === null && full) fullSince = at;
  }
  if (fullSince !== null) fullMs += to - fullSince;
  return `${installs} regular configurations installed (summed over the nodes), n${id} in a ring of all ${(100 * fullMs / (to - from)).toFixed(0)}% of the time`;
}

function deliveredBetween(c: ChaosCluster, from: number, to: number): number {
  let n = 0;
  for (const r of c.raw) if (r.kind === 'line' && r.line.event === 'deliver' && r.at >= from && r.at <= to) n++;
  return n;
}

async function lossFor(ctx: ScenarioContext, links: ReturnType<ChaosCluster['links']['all']>, percent: number, ms: number, what: string): Promise<void> {
  const c = ctx.c;
  c.links.set(links, percent);
  ctx.fault(`${percent}% loss on ${what} for ${ms} ms`);
  const from = nowMs();
  await sleep(ms);
  const to = nowMs();
  ctx.note(`during the loss: ${ringStats(c, from, to, 1)}; ${deliveredBetween(c, from, to)} deliveries`);
}

export const scenarios: readonly Scenario[] = [
  {
    name: '2+3 partition and merge',
    async run(ctx) {
      const ids = shuffled(ctx);
      const groups = [ids.slice(0, 2).sort(), ids.slice(2).sort()];
      ctx.c.links.partition(groups);
      ctx.fault(`partition ${groups.map((g) => `[${g.join(',')}]`).join(' | ')}`);
      await expectRings(ctx, groups);
      await sleep(2 * ctx.c.tokenMs);
    },
  },
  {
    name: '3-way partition and merge',
    async run(ctx) {
      const ids = shuffled(ctx);
      const groups = [ids.slice(0, 2).sort(), ids.slice(2, 4).sort(), ids.slice(4)];
      ctx.c.links.partition(groups);
      ctx.fault(`partition ${groups.map((g) => `[${g.join(',')}]`).join(' | ')}`);
      await expectRings(ctx, groups);
      await sleep(2 * ctx.c.tokenMs);
    },
  },
  {
    name: 'one-way link',
    async run(ctx) {
      const [a, b] = tokenHop(ctx);
      const from = nowMs();
      ctx.c.links.set([[a, b]], 100);
      ctx.fault(`one-way cut n${a} → n${b}, the token's path (n${b} hears nothing from n${a}; n${a} hears n${b})`);
      await sleep(6 * ctx.c.tokenMs);
      ctx.note(`during the cut: ${ringStats(ctx.c, from, nowMs(), b)}; views ${ctx.c.describeViews()}`);
    },
  },
  {
    name: 'flapping link',
    async run(ctx) {
      const [a, b] = tokenHop(ctx);
      const from = nowMs();
      ctx.fault(`link n${a} ↔ n${b} (on the token's path) flapping: cut and restored every ${(0.7 * ctx.c.tokenMs).toFixed(0)} ms, 8 times`);
      for (let i = 0; i < 8; i++) {
        ctx.c.links.set([[a, b], [b, a]], i % 2 === 0 ? 100 : 0);
        await sleep(0.7 * ctx.c.tokenMs);
      }
      ctx.note(`while flapping: ${ringStats(ctx.c, from, nowMs(), a)}`);
    },
  },
  {
    name: '10% loss on every link',
    async run(ctx) {
      await lossFor(ctx, ctx.c.links.all(), 10, 8 * ctx.c.tokenMs, 'every link');
    },
  },
  {
    name: '30% loss on every link',
    async run(ctx) {
      await lossFor(ctx, ctx.c.links.all(), 30, 8 * ctx.c.tokenMs, 'every link');
    },
  },
  {
    name: "loss on one node's links only",
    async run(ctx) {
      const [x = 1] = shuffled(ctx);
      await lossFor(ctx, ctx.c.links.into(x), 80, 8 * ctx.c.tokenMs, `every link into n${x} (it sends fine, barely receives)`);
    },
  },
  {
    name: 'kill -9 of the representative during recovery',
    async run(ctx) {
      const c = ctx.c;
      const [victim = 5] = shuffled(ctx);
      // a membership change: the victim is cut off; the others gather, commit and recover a ring without it
      const recovering = c.nextState((s) => s.state === 'recovery' && s.node !== victim, c.boundMs);
      c.links.isolate(victim);
      ctx.fault(`n${victim} cut off: the others form a ring without it`);
      const s = await recovering;
      if (s === null) throw new Error(`no node entered RECOVERY within ${c.boundMs} ms: ${c.describeViews()}`);
      const rep = Number(/ring (\d+)\./.exec(s.text)?.[1] ?? Number.NaN);
      if (!c.running().includes(rep)) throw new Error(`cannot tell the representative from "${s.text}"`);
      const repState = c.node(rep).state;
      const afterMs = nowMs() - s.at;
      await c.node(rep).kill();
      ctx.fault(`kill -9 n${rep}, representative of the ring being recovered (its last state: ${repState}; n${s.node} entered RECOVERY ${afterMs.toFixed(1)} ms before)`);
      const rest = c.running().filter((id) => id !== victim);
      await expectRings(ctx, [rest]);
      c.links.reconnect(victim);
      await c.restart(rep);
      ctx.fault(`n${victim} reconnected, n${rep} restarted with its state directory`);
    },
  },
  {
    name: 'SIGSTOP longer than the token timeout',
    async run(ctx) {
      const c = ctx.c;
      const [x = 2] = shuffled(ctx);
      const t0 = nowMs();
      c.node(x).pause();
      ctx.fault(`SIGSTOP n${x}, at least ${3 * c.tokenMs} ms (3 token timeouts) and until the others formed a ring`);
      const rest = c.running().filter((id) => id !== x);
      await expectRings(ctx, [rest]);
      await sleep(Math.max(c.tokenMs, t0 + 3 * c.tokenMs - nowMs()));
      c.node(x).resume();
      ctx.fault(`SIGCONT n${x} after ${(nowMs() - t0).toFixed(0)} ms`);
    },
  },
  {
    name: 'SIGSTOP while a ring forms',
    async run(ctx) {
      const c = ctx.c;
      const [cut = 4, x = 3] = shuffled(ctx);
      const gathering = c.nextState((s) => s.node === x && (s.state === 'gather' || s.state === 'commit'), c.boundMs);
      c.links.isolate(cut);
      ctx.fault(`n${cut} cut off: a new ring forms`);
      const s = await gathering;
      c.node(x).pause();
      ctx.fault(`SIGSTOP n${x} ${s === null ? 'after the bound (no GATHER seen)' : `as it entered ${s.state.toUpperCase()}`} for ${2 * c.tokenMs} ms`);
      c.links.reconnect(cut);
      await sleep(2 * c.tokenMs);
      c.node(x).resume();
      ctx.fault(`SIGCONT n${x}`);
    },
  },
  {
    name: 'kill -9 and restart with the same state directory',
    async run(ctx) {
      const c = ctx.c;
      const [x = 3] = shuffled(ctx);
      await c.node(x).kill();
      ctx.fault(`kill -9 n${x}`);
      const rest = c.running();
      await expectRings(ctx, [rest]);
      await c.restart(x);
      ctx.fault(`n${x} restarted with its state directory`);
    },
  },
  {
    name: 'rolling restarts',
    async run(ctx) {
      const c = ctx.c;
      for (const [i, x] of shuffled(ctx).slice(0, ctx.short ? 2 : undefined).entries()) {
        const graceful = i % 2 === 0;
        if (graceful) await c.node(x).stop(4 * c.tokenMs);
        else await c.node(x).kill();
        ctx.fault(`${graceful ? 'graceful stop (SIGTERM)' : 'kill -9'} n${x}, then restart with its state directory`);
        const rest = c.running();
        await expectRings(ctx, [rest]);
        await c.restart(x);
        const ms = await c.waitRing(c.ids, c.ids, c.boundMs);
        if (ms === null) throw new Error(`n${x} did not rejoin within ${c.boundMs} ms: ${c.describeViews()}`);
      }
    },
  },
  {
    name: 'main thread blocked for several token timeouts',
    async run(ctx) {
      const c = ctx.c;
      const [x = 1] = shuffled(ctx);
      const before = c.raw.length;
      const ms = 4 * c.tokenMs;
      c.node(x).block(ms);
      ctx.fault(`main thread of n${x} busy for ${ms} ms (4 token timeouts)`);
      await sleep(ms + c.tokenMs);
      const changes = c.raw.slice(before).filter((r) => r.kind === 'line' && r.line.event === 'confchg').length;
      ctx.note(`configuration changes reported while and after it was blocked: ${changes}`);
    },
  },
];

/** soak-only faults with random parameters. */
export const randomScenarios: readonly Scenario[] = [
  {
    name: 'random loss',
    async run(ctx) {
      const links = ctx.c.links.all().filter(() => ctx.rng.chance(ctx.rng.real(0.2, 1)));
      const percent = ctx.rng.int(5, 40);
      await lossFor(ctx, links, percent, ctx.rng.int(2, 12) * ctx.c.tokenMs, `${links.length} random links`);
    },
  },
  {
    name: 'random partition',
    async run(ctx) {
      const ids = shuffled(ctx);
      const cuts = ctx.rng.shuffle(ids.slice(1).map((_, i) => i + 1)).slice(0, ctx.rng.int(1, 3)).sort((a, b) => a - b);
      const groups = [0, ...cuts].map((from, i) => ids.slice(from, cuts[i] ?? ids.length).sort((a, b) => a - b));
      const tokens = ctx.rng.int(1, 8);
      ctx.c.links.partition(groups);
      ctx.fault(`partition ${groups.map((g) => `[${g.join(',')}]`).join(' | ')} for ${tokens} token timeouts`);
      await sleep(tokens * ctx.c.tokenMs);
    },
  },
];

export function scenarioNamed(name: string): Scenario {
  const s = scenarios.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no scenario '${name}'`);
  return s;
}
