/**
 * `<out>/<mode>.json` (schema: docs/BENCH.md, "JSON") and the mode's SVG
 * charts next to it. Overwritten by the next run of the same mode: give each
 * experiment its own --out directory to keep it.
 */
import { cpus, hostname } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchConfig } from './bench-config.ts';
import type { ModeResult } from './mode-result.ts';

export const resultsSchemaVersion = 1;

export interface ResultsTimes {
  readonly startedAt: Date;
  readonly finishedAt: Date;
}

export function resultsDocument(config: BenchConfig, result: ModeResult, times: ResultsTimes): object {
  const violations = result.checks.flatMap((c) => c.violations);
  return {
    tool: 'evs bench',
    schemaVersion: resultsSchemaVersion,
    mode: config.mode,
    startedAt: times.startedAt.toISOString(),
    finishedAt: times.finishedAt.toISOString(),
    wallSeconds: (times.finishedAt.getTime() - times.startedAt.getTime()) / 1000,
    host: { hostname: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', node: process.version, platform: process.platform },
    config,
    resolvedNodeOptions: result.resolved,
    agreement: {
      ok: violations.length === 0, checks: result.checks.length, violations,
      configurationChanges: result.checks.reduce((n, c) => n + c.configurationChanges, 0),
      disturbances: result.checks.flatMap((c) => c.disturbances),
    },
    points: result.points,
  };
}

/** writes the JSON and the charts; answers the paths written. */
export function writeResults(config: BenchConfig, result: ModeResult, times: ResultsTimes): string[] {
  const dir = resolve(config.outDir);
  mkdirSync(dir, { recursive: true });
  const jsonPath = join(dir, `${config.mode}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(resultsDocument(config, result, times), null, 2)}\n`);
  const written = [jsonPath];
  for (const [stem, svg] of Object.entries(result.charts)) {
    const svgPath = join(dir, `${stem}.svg`);
    writeFileSync(svgPath, svg);
    written.push(svgPath);
  }
  return written;
}
