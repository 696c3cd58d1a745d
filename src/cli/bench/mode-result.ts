/** What a mode hands back to run.ts: the points for the JSON, the checks made, and charts to write. */
import type { ResolvedOptions } from '../../options.ts';
import type { AgreementCheck } from './agreement-check.ts';
import type { BenchPoint } from './points.ts';

export interface ModeResult {
  readonly points: readonly BenchPoint[];
  readonly checks: readonly AgreementCheck[];
  /** node options as the library resolved them, per thread setting measured (key and state dir left out). */
  readonly resolved: readonly Partial<ResolvedOptions>[];
  /** SVG documents by file stem (`throughput` → throughput.svg). */
  readonly charts: Readonly<Record<string, string>>;
}
