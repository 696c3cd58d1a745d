/**
 * Message sizes on the command line: bytes, or a number with a unit.
 * Decimal units as evsbench's MB/s counts them (k/KB = 1,000, m/MB =
 * 1,000,000), binary ones spelled out (KiB = 1,024, MiB = 1,048,576).
 */
const unitBytes: Readonly<Record<string, number>> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6,
  ki: 1024, kib: 1024, mi: 1024 * 1024, mib: 1024 * 1024,
};

/** '1300' → 1300, '10k' → 10000, '10KB' → 10000, '1m' → 1000000, '64KiB' → 65536; null when not a size. */
export function parseSize(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (match === null) return null;
  const unit = unitBytes[match[2]!.toLowerCase()];
  if (unit === undefined) return null;
  const bytes = Number(match[1]) * unit;
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** a comma-separated list of sizes; throws an Error saying which entry is wrong. */
export function parseSizeList(text: string): number[] {
  const entries = text.split(',');
  return entries.map((entry) => {
    const bytes = parseSize(entry);
    if (bytes === null) throw new Error(`'${entry}' is not a size (bytes, or a number with k, KB, m, MB, KiB or MiB)`);
    return bytes;
  });
}

/** short label for charts and tables: 100 B, 1.3 kB, 10 kB, 1 MB (decimal, as the sizes are given). */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${trim(bytes / 1e3)} kB`;
  return `${trim(bytes / 1e6)} MB`;
}

function trim(value: number): string {
  return Number(value.toFixed(value < 10 ? 2 : 1)).toString();
}
