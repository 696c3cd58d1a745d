/** Order statistics of measured samples. */

/** the p-th percentile (0..100) by nearest rank on a sorted copy; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/**
 * The index of the median sample, so a median can be reported together with
 * the rest of its run (for an even count: the upper of the two middle ones).
 */
export function medianIndex(samples: readonly number[]): number {
  const order = samples.map((_, i) => i).sort((a, b) => samples[a]! - samples[b]!);
  return order[Math.floor(order.length / 2)]!;
}

export function median(samples: readonly number[]): number {
  return samples.length === 0 ? Number.NaN : samples[medianIndex(samples)]!;
}

export function mean(samples: readonly number[]): number {
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}
