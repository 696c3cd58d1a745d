/**
 * A short run of every chaos scenario (scenarios.ts) on five real `evs node`
 * processes in network namespaces: first a cluster on udpu, then one on the
 * `udp` multicast transport. Each scenario must end with 0 violations of the
 * simulator's EVS checker (safety over the whole log, liveness after the
 * heal within the bound derived from the token timeout).
 *
 * Needs root, `ip` and `nft` (Debian: nftables): probed at load time by
 * creating a namespace with a bridge nft table; otherwise skipped with the
 * reason printed. Everything is removed in afterAll, also after a failure,
 * and on SIGINT/SIGTERM (cleanup.ts).
 *
 * EVS_CHAOS_LOG_DIR=<dir> keeps each cluster's raw log and every node's
 * stderr (its --debug protocol log) under <dir>/<transport>/ for a diagnosis.
 *
 * Token 500 ms, coefficient 0: the liveness bound is then ~11 s, a scenario
 * takes 5–10 s, the whole file ~2 minutes on two cores.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSafety } from '../sim/checkers.ts';
import { Prng } from '../sim/prng.ts';
import { ChaosCluster, type Transport } from './cluster.ts';
import { chaosUnavailable, sweepStale } from './netns.ts';
import { toCheckerRecords, type RawRecord } from './real-log.ts';
import { formatViolation, ScenarioRunner } from './run-scenario.ts';
import { scenarioNamed } from './scenarios.ts';
import { corrupt, drop, duplicate, swapOrder } from './tamper.ts';

const skipReason = chaosUnavailable();
if (skipReason !== null) console.warn(`test/chaos/scenarios.test.ts skipped: ${skipReason}`);
else sweepStale();

const tokenMs = 500;
const logDir = process.env.EVS_CHAOS_LOG_DIR;
const scenarioTimeoutMs = 90_000;

const plan: Record<Transport, readonly string[]> = {
  udpu: [
    '2+3 partition and merge',
    '3-way partition and merge',
    'one-way link',
    'flapping link',
    'kill -9 of the representative during recovery',
    'SIGSTOP longer than the token timeout',
    'rolling restarts',
  ],
  udp: [
    '2+3 partition and merge',
    '10% loss on every link',
    '30% loss on every link',
    "loss on one node's links only",
    'SIGSTOP while a ring forms',
    'main thread blocked for several token timeouts',
    'kill -9 and restart with the same state directory',
  ],
};

const invariantsOf = (raw: readonly RawRecord[] | null): number[] => {
  expect(raw).not.toBeNull();
  return [...new Set(checkSafety(toCheckerRecords(raw ?? [])).map((v) => v.invariant))];
};

for (const transport of ['udpu', 'udp'] as const) {
  describe.skipIf(skipReason !== null)(`chaos: five nodes in namespaces, transport ${transport}`, () => {
    let c: ChaosCluster | null = null;
    let runner: ScenarioRunner | null = null;
    const print = (line: string): void => console.log(`[chaos ${transport}] ${line}`);

    beforeAll(async () => {
      const nodeLogDir = logDir === undefined ? undefined : join(logDir, transport);
      if (nodeLogDir !== undefined) mkdirSync(nodeLogDir, { recursive: true });
      c = new ChaosCluster({ transport, tokenMs, print, ...(nodeLogDir !== undefined ? { nodeLogDir } : {}) });
      runner = new ScenarioRunner(c, new Prng(transport === 'udpu' ? 1 : 2), print, true);
      const t0 = performance.now();
      await c.start();
      const ms = await c.waitRing(c.ids, c.ids, c.boundMs);
      print(`started in ${((performance.now() - t0) / 1000).toFixed(1)} s; ring of all five ${ms === null ? 'NOT formed' : `after ${ms.toFixed(0)} ms`} (bound ${c.boundMs} ms)`);
      expect(ms).not.toBeNull();
    }, 120_000);

    afterAll(async () => {
      if (logDir !== undefined && c !== null) writeFileSync(join(logDir, transport, 'raw.jsonl'), c.raw.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const left = await c?.teardown();
      expect(left).toEqual([]);
    }, 30_000);

    for (const name of plan[transport]) {
      it(name, async () => {
        const r = runner as ScenarioRunner;
        const result = await r.run(scenarioNamed(name));
        print(`${name}: ${(result.ms / 1000).toFixed(1)} s, ${result.faults} fault(s), ${result.deliveries} deliveries`);
        expect(result.violations.map(formatViolation)).toEqual([]);
      }, scenarioTimeoutMs);
    }

    it("the checker catches a broken delivery record in this run's log", () => {
      const raw = (c as ChaosCluster).raw;
      expect(checkSafety(toCheckerRecords(raw))).toEqual([]);
      expect(invariantsOf(swapOrder(raw, 2))).toContain(10);
      expect(invariantsOf(duplicate(raw, 3))).toContain(7);
      expect(invariantsOf(corrupt(raw, 4))).toContain(15);
      const dropped = invariantsOf(drop(raw, 5));
      expect(dropped.some((i) => i === 10 || i === 11 || i === 13)).toBe(true);
    });
  });
}
