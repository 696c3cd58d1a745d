/**
 * A chaos cluster: five `evs node` processes, one per namespace on a bridge
 * (netns.ts), link faults in nftables (links.ts), bounded traffic of
 * self-checking payloads, and the simulator's EVS checker over the merged
 * log (real-log.ts). Scenarios (scenarios.ts) drive it through faults; after
 * each one `settle` heals everything and judges liveness with bounds derived
 * from the configured totem timers.
 *
 * Everything it creates — namespaces, the nft table, node processes, the
 * temporary directory — is removed by `teardown`, which also runs from
 * process 'exit' and on SIGINT/SIGTERM (cleanup.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveTotemConfig } from '../../src/protocol/config.ts';
import { generateClusterKey, writeKeyFile } from '../../src/runtime/crypto/keyfile.ts';
import { ringIdEqual, type RingId } from '../../src/wire/messages.ts';
import { checkLiveness, checkSafety, livenessBoundMs, type LivenessTimings, type Violation } from '../sim/checkers.ts';
import type { LogRecord } from '../sim/log.ts';
import { registerCleanup } from './cleanup.ts';
import { LinkFaults } from './links.ts';
import { ChaosNetwork } from './netns.ts';
import { ChaosNode, nowMs, type StateLine } from './node-proc.ts';
import { parsePayload } from './payload.ts';
import { sentSinceLastRegular, toCheckerRecords, type RawRecord } from './real-log.ts';

export type Transport = 'udpu' | 'udp';

export interface ChaosOptions {
  readonly transport: Transport;
  /** token timeout; the token coefficient is 0, so this is the timeout at any ring size. */
  readonly tokenMs: number;
  readonly nodeCount?: number;
  /** payloads per second per node. */
  readonly rateHz?: number;
  readonly print?: (line: string) => void;
  /** when set, every node's stderr (its --debug protocol log) is kept there, one file per node incarnation. */
  readonly nodeLogDir?: string;
  /** more `evs node` flags for every node (e.g. ['--layout', 'split']). */
  readonly nodeArgs?: readonly string[];
}

/**
 * One-way delay the liveness bound allows per hop: a veth hop is microseconds,
 * but five node processes (each with worker threads) share two cores with the
 * test runner, so a datagram can wait for a scheduler slot.
 */
export const delayMaxMs = 20;
const port = 5405;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface View {
  readonly type: 'regular' | 'transitional';
  readonly ringId: RingId;
  readonly members: readonly number[];
  readonly at: number;
}

export interface SettleResult {
  /** ms from the heal until every live node was in one regular ring of all of them, or null (not within the bound). */
  readonly convergeMs: number | null;
  readonly drainMs: number | null;
  readonly violations: Violation[];
}

export class ChaosCluster {
  readonly ids: number[];
  readonly net: ChaosNetwork;
  readonly links: LinkFaults;
  readonly raw: RawRecord[] = [];
  readonly nodes = new Map<number, ChaosNode>();
  readonly dir = mkdtempSync(join(tmpdir(), 'evs-chaos-'));
  readonly timings: LivenessTimings;
  /** invariant 16's bound for this cluster (checkers.ts livenessBoundMs). */
  readonly boundMs: number;
  readonly print: (line: string) => void;
  #traffic: NodeJS.Timeout | null = null;
  #stateListeners = new Set<(s: StateLine) => void>();
  /** the latest view of each node's current incarnation, updated from the raw log. */
  readonly #views = new Map<number, { incarnation: number; view: View }>();
  /** per node: per sender, the highest counter its current incarnation delivered. */
  readonly #delivered = new Map<number, { incarnation: number; last: Map<number, number> }>();
  #scanned = 0;
  #unregister: (() => void) | null = null;
  #tornDown = false;

  constructor(readonly options: ChaosOptions) {
    const count = options.nodeCount ?? 5;
    this.ids = Array.from({ length: count }, (_, i) => i + 1);
    this.net = new ChaosNetwork(this.ids);
    this.links = new LinkFaults(this.net);
    this.print = options.print ?? ((line) => console.log(line));
    const t = deriveTotemConfig(1, count, { tokenMs: options.tokenMs, tokenCoefficientMs: 0 });
    this.timings = { tokenMs: t.tokenMs, consensusMs: t.consensusMs, joinMs: t.joinMs, mergeMs: t.mergeMs, holdMs: t.holdMs, tokenRetransmitMs: t.tokenRetransmitMs };
    this.boundMs = livenessBoundMs(this.timings, count, delayMaxMs);
  }

  get tokenMs(): number {
    return this.timings.tokenMs;
  }

  node(id: number): ChaosNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** nodes whose process runs (paused ones included). */
  running(): number[] {
    return this.ids.filter((id) => this.node(id).running);
  }

  /** creates the network, starts every node cut off, waits until each joined its group, then connects them. */
  async start(): Promise<void> {
    this.#unregister = registerCleanup(() => this.teardownNow());
    this.net.create();
    const keyFile = join(this.dir, 'evs.key');
    writeKeyFile(keyFile, generateClusterKey(32));
    const members = this.ids.map((id) => `${id}@${this.net.addr(id)}:${port}`).join(',');
    const transport = this.options.transport === 'udp' ? ['--transport', 'udp', '--mcast-addr', this.net.mcastAddr] : ['--transport', 'udpu'];
    for (const id of this.ids) {
      const args = [
        '--node-id', String(id), '--members', members, '--key-file', keyFile, '--state-dir', join(this.dir, `state${id}`),
        ...transport, '--groups', 'chaos', '--token-ms', String(this.options.tokenMs), '--token-coefficient-ms', '0',
        ...(this.options.nodeArgs ?? []),
      ];
      // two senders of safe messages, three of agreed ones: both guarantees in one ring
      const guarantee = id % 2 === 0 ? 'safe' : 'agreed';
      const stderrPrefix = this.options.nodeLogDir === undefined ? {} : { stderrPrefix: join(this.options.nodeLogDir, `n${id}`) };
      this.nodes.set(id, new ChaosNode({ id, ns: this.net.hostNs(id), stateDir: join(this.dir, `state${id}`), args, guarantee, ...stderrPrefix }, this.raw,
        (s) => this.#onState(s)));
    }
    for (const id of this.ids) this.links.isolate(id);
    await Promise.all(this.ids.map((id) => this.node(id).start(this.startTimeoutMs)));
    this.links.heal();
  }

  /**
   * How long a node may take from spawn to joining its group: tsx compiles the
   * CLI on every start, and five start at once on two shared cores.
   */
  get startTimeoutMs(): number {
    return 60_000;
  }

  /** (re)starts a node with the same state directory: cut off until its group is joined, so its application sees every ring it is in. */
  async restart(id: number): Promise<void> {
    this.links.isolate(id);
    try {
      await this.node(id).start(this.startTimeoutMs);
    } finally {
      this.links.reconnect(id);
    }
  }

  #onState(s: StateLine): void {
    for (const l of this.#stateListeners) l(s);
  }

  /** resolves with the first state line that satisfies `match` (or null after timeoutMs). */
  nextState(match: (s: StateLine) => boolean, timeoutMs: number): Promise<StateLine | null> {
    return new Promise((resolve) => {
      const listener = (s: StateLine): void => {
        if (!match(s)) return;
        done(s);
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      const done = (s: StateLine | null): void => {
        clearTimeout(timer);
        this.#stateListeners.delete(listener);
        resolve(s);
      };
      this.#stateListeners.add(listener);
    });
  }

  // ---- traffic ----------------------------------------------------------------

  startTraffic(): void {
    if (this.#traffic !== null) return;
    const periodMs = 1000 / (this.options.rateHz ?? 10);
    this.#traffic = setInterval(() => {
      for (const id of this.ids) this.node(id).send();
    }, periodMs);
  }

  stopTraffic(): void {
    if (this.#traffic !== null) clearInterval(this.#traffic);
    this.#traffic = null;
  }

  // ---- what the nodes reported ----------------------------------------------------

  #scan(): void {
    for (; this.#scanned < this.raw.length; this.#scanned++) {
      const r = this.raw[this.#scanned] as RawRecord;
      if (r.kind !== 'line') continue;
      if (r.line.event === 'confchg') {
        const { type, ringId, members } = r.line;
        this.#views.set(r.node, { incarnation: r.incarnation, view: { type, ringId, members, at: r.at } });
      } else {
        const p = r.line.payload === undefined ? null : parsePayload(r.line.payload);
        if (p === null) continue;
        let d = this.#delivered.get(r.node);
        if (d === undefined || d.incarnation !== r.incarnation) {
          d = { incarnation: r.incarnation, last: new Map() };
          this.#delivered.set(r.node, d);
        }
        d.last.set(p.sender, Math.max(d.last.get(p.sender) ?? 0, p.counter));
      }
    }
  }

  /** the current view of a running node (null before its first configuration). */
  view(id: number): View | null {
    this.#scan();
    const v = this.#views.get(id);
    return v !== undefined && v.incarnation === this.node(id).incarnation ? v.view : null;
  }

  /** true when every node of `nodes` is in one regular ring whose members are exactly `members`. */
  inRing(nodes: readonly number[], members: readonly number[]): boolean {
    const views = nodes.map((id) => this.view(id));
    const first = views[0];
    return views.every((v) => v !== null && v !== undefined && v.type === 'regular' && v.members.join() === [...members].sort((a, b) => a - b).join()
      && first !== null && first !== undefined && v.ringId.rep === first.ringId.rep && v.ringId.seq === first.ringId.seq);
  }

  /** polls until `nodes` share the regular ring `members`; the ms it took, or null after timeoutMs. */
  async waitRing(nodes: readonly number[], members: readonly number[], timeoutMs: number): Promise<number | null> {
    const t0 = nowMs();
    while (!this.inRing(nodes, members)) {
      if (nowMs() - t0 > timeoutMs) return null;
      await sleep(10);
    }
    return nowMs() - t0;
  }

  /** each running node's view, for a message. */
  describeViews(): string {
    return this.ids.map((id) => {
      const n = this.node(id);
      const v = n.running ? this.view(id) : null;
      const what = !n.running ? 'down' : v === null ? 'no view' : `${v.type === 'regular' ? 'R' : 'T'} ${v.ringId.rep}/${v.ringId.seq} [${v.members.join(',')}]`;
      return `n${id}: ${what}${n.paused ? ' (stopped)' : ''} ${n.state}`;
    }).join('; ');
  }

  /** deliveries in the log so far. */
  deliveries(): number {
    let n = 0;
    for (const r of this.raw) if (r.kind === 'line' && r.line.event === 'deliver') n++;
    return n;
  }

  /** per node of `nodes`: the senders whose last message it has not delivered yet ('2:415<430' = up to 415 of 430). */
  #undrained(nodes: readonly number[], want: ReadonlyMap<number, number>): string[] {
    this.#scan();
    const out: string[] = [];
    for (const id of nodes) {
      const d = this.#delivered.get(id);
      const last = d !== undefined && d.incarnation === this.node(id).incarnation ? d.last : new Map<number, number>();
      const behind = [...want].filter(([sender, counter]) => (last.get(sender) ?? 0) < counter)
        .map(([sender, counter]) => `${sender}:${last.get(sender) ?? 0}<${counter}`);
      if (behind.length > 0) out.push(`n${id} has ${behind.join(' ')}`);
    }
    return out;
  }

  /**
   * Waits until every node of `nodes` delivered the last message each of them
   * sent since it installed its current regular configuration
   * (`sentSinceLastRegular`); the ms it took, or what is missing after timeoutMs.
   */
  async drain(nodes: readonly number[], timeoutMs: number): Promise<{ ms: number } | { missing: string[] }> {
    const t0 = nowMs();
    const want = sentSinceLastRegular(this.raw, nodes, (id) => this.node(id).incarnation);
    for (;;) {
      const missing = this.#undrained(nodes, want);
      if (missing.length === 0) return { ms: nowMs() - t0 };
      if (nowMs() - t0 > timeoutMs) return { missing };
      await sleep(20);
    }
  }

  // ---- judging ------------------------------------------------------------------

  records(): LogRecord[] {
    return toCheckerRecords(this.raw);
  }

  /** invariants 1–15 over the whole log so far. */
  safety(settledAt = Infinity): Violation[] {
    return checkSafety(this.records(), { settledAt });
  }

  /**
   * Ends a fault: resumes stopped nodes, removes every link fault, and judges
   * liveness: all running nodes in one regular ring within `boundMs`, traffic
   * sent in that ring delivered everywhere (traffic runs on for
   * `afterHealMs`, then stops and drains), and no configuration change
   * while idle for three token timeouts. Traffic stays stopped (so a safety
   * check right after sees every send drained).
   *
   * The ring counts once it held for `afterHealMs`: right after a short fault
   * the log may still show the ring of everyone from before it (a node
   * stopped 1 s, a link cut 1.6 s: their configurations are installed in the
   * second after the heal), and the traffic of that second goes through
   * configurations of some nodes only.
   */
  async settle(afterHealMs = 1000): Promise<SettleResult> {
    for (const id of this.running()) if (this.node(id).paused) this.node(id).resume();
    this.links.heal();
    const healedAt = nowMs();
    const live = this.running();
    const first = live[0] ?? 0;
    let final: RingId | null = null;
    while (final === null) {
      if (await this.waitRing(live, live, healedAt + this.boundMs - nowMs()) === null) break;
      const seen = (this.view(first) as View).ringId;
      await sleep(afterHealMs);
      if (this.inRing(live, live) && ringIdEqual((this.view(first) as View).ringId, seen)) final = seen;
    }
    // from the nodes' own timestamps: 0 when the ring was there before the heal
    const convergeMs = final === null ? null : Math.max(0, ...live.map((id) => (this.view(id)?.at ?? healedAt) - healedAt));
    this.stopTraffic();
    const drained = final === null ? null : await this.drain(live, this.boundMs);
    const idleFrom = nowMs();
    await sleep(3 * this.tokenMs);
    const end = nowMs();
    const violations = checkLiveness(this.records(), { live, healedAt, boundMs: this.boundMs, idleFrom, end });
    if (drained !== null && 'missing' in drained) {
      violations.push({ invariant: 17, node: 0, detail: `traffic sent in the final ring not delivered everywhere within ${this.boundMs} ms: ${drained.missing.join('; ')}` });
    }
    const drainMs = drained !== null && 'ms' in drained ? drained.ms : null;
    return { convergeMs, drainMs, violations };
  }

  // ---- teardown ---------------------------------------------------------------------

  /** synchronous last-resort cleanup (process 'exit', signals): SIGKILL by PID, delete the namespaces and the directory. */
  teardownNow(): void {
    if (this.#tornDown) return;
    this.#tornDown = true;
    this.stopTraffic();
    for (const n of this.nodes.values()) {
      const pid = n.pid;
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch { /* gone */ }
      }
    }
    this.links.remove();
    this.net.teardown();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** stops traffic, kills every node (waiting for the exits), removes the nft table and the namespaces; returns what is left (should be nothing). */
  async teardown(): Promise<string[]> {
    this.stopTraffic();
    await Promise.all([...this.nodes.values()].map((n) => n.forceKill()));
    this.teardownNow();
    this.#unregister?.();
    return this.net.remaining();
  }
}
