/**
 * Runs one scenario on a cluster under traffic and judges it:
 *  * the scenario's own expectations (e.g. each side of a partition forms its
 *    ring within the liveness bound) — a broken one is reported as invariant
 *    16 (convergence);
 *  * after it, `settle`: heal, one ring of every live node within the bound,
 *    traffic sent after the heal delivered everywhere, an idle ring that
 *    stays put (invariants 16, 17, 19);
 *  * safety (invariants 1–15) over the whole log so far.
 * Violations already reported by an earlier scenario of the same cluster are
 * not reported again.
 */
import { invariantNames, type Violation } from '../sim/checkers.ts';
import type { Prng } from '../sim/prng.ts';
import type { ChaosCluster } from './cluster.ts';
import { nowMs } from './node-proc.ts';
import type { Scenario } from './scenarios.ts';

export interface ScenarioResult {
  readonly name: string;
  readonly faults: number;
  readonly ms: number;
  readonly convergeMs: number | null;
  readonly deliveries: number;
  readonly notes: readonly string[];
  readonly violations: readonly Violation[];
}

export function formatViolation(v: Violation): string {
  return `invariant ${v.invariant} (${invariantNames[v.invariant] ?? '?'}) at n${v.node}: ${v.detail}`;
}

export class ScenarioRunner {
  readonly #seen = new Set<string>();
  faults = 0;

  constructor(readonly c: ChaosCluster, readonly rng: Prng, readonly print: (line: string) => void, readonly short = false) {}

  #fresh(vs: readonly Violation[]): Violation[] {
    const out: Violation[] = [];
    for (const v of vs) {
      const key = `${v.invariant}/${v.node}/${v.detail}`;
      if (this.#seen.has(key)) continue;
      this.#seen.add(key);
      out.push(v);
    }
    return out;
  }

  async run(s: Scenario, label = ''): Promise<ScenarioResult> {
    const c = this.c;
    const t0 = nowMs();
    const deliveriesBefore = c.deliveries();
    const notes: string[] = [];
    let faults = 0;
    const stamp = (): string => `+${((nowMs() - t0) / 1000).toFixed(1)}s`;
    const violations: Violation[] = [];
    c.startTraffic();
    try {
      await s.run({
        c,
        rng: this.rng,
        short: this.short,
        fault: (what) => {
          faults++;
          this.faults++;
          this.print(`${label}[${s.name} ${stamp()}] fault: ${what}`);
        },
        note: (what) => {
          notes.push(what);
          this.print(`${label}[${s.name} ${stamp()}] ${what}`);
        },
      });
    } catch (error) {
      violations.push({ invariant: 16, node: 0, detail: `${s.name}: ${error instanceof Error ? error.message : String(error)}` });
    }
    const settled = await c.settle();
    violations.push(...settled.violations);
    violations.push(...c.safety());
    const fresh = this.#fresh(violations);
    const convergence = settled.convergeMs === null ? 'no ring of all within the bound' : `one ring of all ${settled.convergeMs.toFixed(0)} ms after the heal`;
    this.print(`${label}[${s.name} ${stamp()}] healed: ${convergence} (bound ${c.boundMs} ms), drained in ${settled.drainMs?.toFixed(0) ?? '-'} ms; ` +
      `${fresh.length} violation(s)`);
    for (const v of fresh) this.print(`${label}[${s.name}] VIOLATION ${formatViolation(v)}`);
    return { name: s.name, faults, ms: nowMs() - t0, convergeMs: settled.convergeMs, deliveries: c.deliveries() - deliveriesBefore, notes, violations: fresh };
  }
}
