/**
 * bench/compare's report: reads one output directory of bench/compare
 * (facts.json, corosync/ raw RESULT lines from the anchors' trial scripts,
 * evs/ JSON files from `evs bench` at the library's default netmtu, evs-64k/
 * the same with --netmtu 65535 as an extra column), prints the comparison and writes
 * compare.json, compare.md and compare.svg next to them.
 *
 *   npx tsx bench/compare-report.ts --dir bench/results/compare-<date>
 *
 * Throughput: msgs/s delivered at node 2 over the measured window for
 * corosync (as RESULTS.md), evs bench's msgsPerSec; median [min–max] over the
 * runs; ratio = median evs / median corosync (> 1: evs delivers more).
 * Latency: self-delivery of 100 B, one in flight, node 1; median over runs
 * of each run's p50 / p99; ratio = evs / corosync (> 1: evs is slower).
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart, type ChartSeries } from '../src/cli/bench/chart.ts';
import type { BenchPoint, LatencyPoint, ThroughputPoint } from '../src/cli/bench/points.ts';

type Senders = 'one' | 'all';
interface Spread { median: number; min: number; max: number; n: number; runs: number[] }
interface Side { msgsPerSec: Spread; mbPerSec: number; note?: string }
interface TputRow {
  sizeBytes: number; senders: Senders; corosyncMode: 'A' | 'B'; corosync?: Side; evs?: Side; ratio?: number;
  /** evs with --netmtu 65535 (64 KiB datagrams the kernel fragments on the veths): an extra column, not the headline. */
  evs64k?: Side; ratio64k?: number;
}
interface LatSide { sizeBytes: number; p50Us: Spread; p99Us: Spread; samples?: number }
interface LatRow { corosync?: LatSide; evs?: LatSide; ratioP50?: number; ratioP99?: number }

const { values: args } = parseArgs({ options: { dir: { type: 'string' } } });
if (args.dir === undefined) {
  console.error('usage: npx tsx bench/compare-report.ts --dir <bench/compare output directory>');
  process.exit(2);
}
const dir = resolve(args.dir);

// ---------------------------------------------------------------- helpers

function spread(runs: number[]): Spread {
  const s = [...runs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, n: s.length, runs };
}

/** `key=value` pairs of one RESULT line. */
function kv(line: string): Map<string, string> {
  return new Map([...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!] as [string, string]));
}

function num(m: Map<string, string>, key: string): number {
  const v = Number(m.get(key));
  if (!Number.isFinite(v)) throw new Error(`RESULT line without a numeric ${key}`);
  return v;
}

function files(d: string, re: RegExp): string[] {
  return existsSync(d) ? readdirSync(d).filter((f) => re.test(f)).sort().map((f) => join(d, f)) : [];
}

function walkJson(d: string): string[] {
  if (!existsSync(d)) return [];
  return readdirSync(d).sort().flatMap((f) => {
    const p = join(d, f);
    if (statSync(p).isDirectory()) return walkJson(p);
    return f.endsWith('.json') ? [p] : [];
  });
}

const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fmtSpread = (s: Spread | undefined, digits = 0): string =>
  s === undefined ? 'n/a' : s.n === 1 ? fmt(s.median, digits) : `${fmt(s.median, digits)} [${fmt(s.min, digits)}–${fmt(s.max, digits)}]`;
const fmtRatio = (r: number | undefined): string => (r === undefined || !Number.isFinite(r) ? 'n/a' : `${r.toFixed(2)}×`);

// ---------------------------------------------------------------- corosync

/** As the anchors' summarize.py: all 3 nodes reported, same total and order hash, no FIFO gaps. */
function corosyncCheck(lines: Map<string, string>[]): string {
  if (lines.length !== 3) return `${lines.length}/3 nodes reported`;
  if (lines.some((r) => r.get('fifo_gaps') !== '0')) return 'FIFO-GAP';
  if (new Set(lines.map((r) => r.get('total_delivered'))).size > 1) return 'partial';
  if (new Set(lines.map((r) => r.get('order_hash'))).size > 1) return 'ORDER-MISMATCH';
  return 'ok';
}

function corosyncTput(size: number, mode: 'A' | 'B'): Side | undefined {
  const runs: number[] = [];
  const checks: string[] = [];
  for (const f of files(join(dir, 'corosync'), new RegExp(`^tput-${mode}-r\\d+-${size}\\.txt$`))) {
    const lines = readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('RESULT')).map(kv);
    const n2 = lines.find((r) => r.get('node') === '2');
    if (n2 === undefined) continue;
    runs.push(num(n2, 'msgs_per_s'));
    checks.push(corosyncCheck(lines));
  }
  if (runs.length === 0) return undefined;
  const s = spread(runs);
  const bad = checks.filter((c) => c !== 'ok');
  const side: Side = { msgsPerSec: s, mbPerSec: (s.median * size) / 1e6 };
  if (bad.length > 0) side.note = `${[...new Set(bad)].join(', ')} in ${bad.length}/${checks.length} runs`;
  return side;
}

function corosyncLat(): LatSide | undefined {
  const rs = files(join(dir, 'corosync'), /^lat-r\d+-\d+\.txt$/)
    .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
    .filter((l) => l.startsWith('RESULT mode=lat'))
    .map(kv);
  if (rs.length === 0) return undefined;
  return {
    sizeBytes: num(rs[0]!, 'size'),
    p50Us: spread(rs.map((r) => num(r, 'p50'))),
    p99Us: spread(rs.map((r) => num(r, 'p99'))),
    samples: spread(rs.map((r) => num(r, 'samples'))).median,
  };
}

// ---------------------------------------------------------------- evs

/** One `<mode>.json` that evs bench wrote (src/cli/bench/results-file.ts): its points and its agreement verdict. */
interface EvsResults { mode: string; agreement?: { ok: boolean; disturbances?: string[] }; points: BenchPoint[] }

function evsDocsIn(sub: string): EvsResults[] {
  return walkJson(join(dir, sub)).map((f) => JSON.parse(readFileSync(f, 'utf8')) as EvsResults)
    .filter((d) => d !== null && typeof d === 'object' && Array.isArray(d.points));
}
/** the headline: evs at the library's default (netmtu = the veths' MTU, 1500). */
const evsDocs = evsDocsIn('evs');
/** the extra column: --netmtu 65535. */
const evs64kDocs = evsDocsIn('evs-64k');

/** evs's thread layout and crypto as its points report them (printed once). */
const evsSettings = new Set<string>();
function noteSetting(p: ThroughputPoint | LatencyPoint): void {
  evsSettings.add(`layout ${p.layout}, ${p.cryptoThreads} crypto threads, ${p.crypto ? 'AES-256-GCM' : 'crypto off'}`);
}

/** throughput points of one size and sender mode, every run of every file (bench/compare runs evs bench once per rep). */
function evsTput(size: number, senders: Senders, fromDocs: EvsResults[] = evsDocs): Side | undefined {
  const runs: number[] = [];
  let docs = 0;
  let violating = 0;
  let confchgs = 0;
  for (const d of fromDocs) {
    const points = d.points.filter((p): p is ThroughputPoint =>
      (p.mode === 'throughput' || p.mode === 'sweep') && p.sizeBytes === size && p.senders === senders && p.guarantee === 'agreed');
    if (points.length === 0) continue;
    docs++;
    if (d.agreement?.ok === false) violating++;
    for (const p of points) {
      runs.push(...(p.runs.length > 0 ? p.runs : [p.msgsPerSec]));
      confchgs += p.configurationChanges ?? 0; // absent in files written before evs bench counted them
      if (fromDocs === evsDocs) noteSetting(p);
    }
  }
  if (runs.length === 0) return undefined;
  const s = spread(runs);
  const side: Side = { msgsPerSec: s, mbPerSec: (s.median * size) / 1e6 };
  const notes = [
    ...(violating > 0 ? [`agreement VIOLATION in ${violating}/${docs} runs`] : []),
    ...(confchgs > 0 ? [`ring re-formed (${confchgs} configuration changes): not steady state`] : []),
  ];
  if (notes.length > 0) side.note = notes.join('; ');
  return side;
}

/** latency points (medians over that file's runs; bench/compare asks for one run per file). */
function evsLat(): LatSide | undefined {
  const points = evsDocs.flatMap((d) => d.points).filter((p): p is LatencyPoint => p.mode === 'latency' && p.guarantee === 'agreed');
  if (points.length === 0) return undefined;
  points.forEach(noteSetting);
  return {
    sizeBytes: points[0]!.sizeBytes,
    p50Us: spread(points.map((p) => p.p50Us)),
    p99Us: spread(points.map((p) => p.p99Us)),
    samples: spread(points.map((p) => p.samples)).median,
  };
}

// ---------------------------------------------------------------- merge

interface Facts { sizes?: number[]; reps?: number; [k: string]: unknown }
const facts: Facts = existsSync(join(dir, 'facts.json')) ? (JSON.parse(readFileSync(join(dir, 'facts.json'), 'utf8')) as Facts) : {};
const sizes = facts.sizes ?? [100, 1300, 10000, 100000];

const tput: TputRow[] = [];
for (const senders of ['one', 'all'] as const) {
  for (const sizeBytes of sizes) {
    const corosyncMode = senders === 'one' ? 'A' : 'B';
    const row: TputRow = { sizeBytes, senders, corosyncMode };
    const c = corosyncTput(sizeBytes, corosyncMode);
    const e = evsTput(sizeBytes, senders);
    if (c !== undefined) row.corosync = c;
    if (e !== undefined) row.evs = e;
    if (c !== undefined && e !== undefined && c.msgsPerSec.median > 0) row.ratio = e.msgsPerSec.median / c.msgsPerSec.median;
    const e64 = evsTput(sizeBytes, senders, evs64kDocs);
    if (e64 !== undefined) row.evs64k = e64;
    if (c !== undefined && e64 !== undefined && c.msgsPerSec.median > 0) row.ratio64k = e64.msgsPerSec.median / c.msgsPerSec.median;
    tput.push(row);
  }
}
const lat: LatRow = {};
const cl = corosyncLat();
const el = evsLat();
if (cl !== undefined) lat.corosync = cl;
if (el !== undefined) lat.evs = el;
if (cl !== undefined && el !== undefined) {
  lat.ratioP50 = el.p50Us.median / cl.p50Us.median;
  lat.ratioP99 = el.p99Us.median / cl.p99Us.median;
}

// ---------------------------------------------------------------- output

const sendersLabel = (s: Senders): string => (s === 'one' ? 'one (A)' : 'all (B)');

function tputTable(): string[][] {
  return tput.map((r) => [
    String(r.sizeBytes),
    sendersLabel(r.senders),
    fmtSpread(r.corosync?.msgsPerSec),
    fmtSpread(r.evs?.msgsPerSec),
    fmtRatio(r.ratio),
    r.corosync !== undefined ? fmt(r.corosync.mbPerSec, 1) : 'n/a',
    r.evs !== undefined ? fmt(r.evs.mbPerSec, 1) : 'n/a',
    fmtSpread(r.evs64k?.msgsPerSec),
    fmtRatio(r.ratio64k),
    r.corosync?.note ?? '',
    [r.evs?.note, r.evs64k?.note === undefined ? undefined : `64 KiB: ${r.evs64k.note}`].filter((n) => n !== undefined).join('; '),
  ]);
}
const tputAlign = 'llrrrrrrrll';
const tputHead = ['size B', 'senders', 'corosync msgs/s', 'evs msgs/s', 'evs/corosync', 'corosync MB/s', 'evs MB/s',
  'evs 64 KiB msgs/s', '64 KiB/corosync', 'corosync check', 'evs check'];

function latTable(): string[][] {
  const rows: string[][] = [];
  for (const [label, key, ratio] of [['p50 µs', 'p50Us', lat.ratioP50], ['p99 µs', 'p99Us', lat.ratioP99]] as const) {
    rows.push([label, fmtSpread(lat.corosync?.[key]), fmtSpread(lat.evs?.[key]), fmtRatio(ratio)]);
  }
  return rows;
}
const latAlign = 'lrrr';
const latHead = ['self-delivery, 100 B', 'corosync', 'evs', 'evs/corosync'];

/** align: one letter per column, l or r. */
function textTable(head: string[], rows: string[][], align: string): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (align[i] === 'l' ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd();
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

function mdTable(head: string[], rows: string[][], align: string): string {
  const sep = head.map((_, i) => (align[i] === 'l' ? '---' : '---:'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** the checkout evs bench ran from, written when its phase began (facts.json's is from the start of the run). */
const evsCommitFile = join(dir, 'evs', 'commit.txt');
if (existsSync(evsCommitFile)) facts.evsCommit = readFileSync(evsCommitFile, 'utf8').trim();

function factsLine(): string {
  const f = facts as Record<string, unknown>;
  const s = (k: string): string => (f[k] === undefined ? '?' : String(f[k]));
  return `${s('nproc')} cores (${s('cpu')}), kernel ${s('kernel')}, ${s('corosync')} (Debian ${s('corosyncPackage')}, libknet ${s('libknet')}), node ${s('node')}, totem-evs ${s('evsCommit')}; ${s('date')}`;
}

const reps = facts.reps ?? '?';

/** lock-times.txt: "<part> <waited s> <held s>" per timed part. */
const lockLines = existsSync(join(dir, 'lock-times.txt'))
  ? readFileSync(join(dir, 'lock-times.txt'), 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f.length === 3)
  : [];
const lockLine = lockLines.length === 0 ? '' :
  `timed parts: ${lockLines.length}, waited ${fmt(lockLines.reduce((a, f) => a + Number(f[1]), 0))} s for ${'/tmp/bench.lock'}, ` +
  `measured ${fmt(lockLines.reduce((a, f) => a + Number(f[2]), 0))} s holding it`;
const checkLegend = "corosync check (the anchors' summarize.py): empty = all 3 nodes delivered the same messages in the same order with no FIFO gap; " +
  "partial = a node was still delivering its backlog when the 3 s tail ended (totals differ, so the order could not be compared; not a failure). " +
  "evs check: evs bench's own agreement check after each run; empty = every node delivered the same messages in the same order and the ring never re-formed.";
const header = `bench/compare: corosync (knet, aes256+sha256, SCHED_RR) vs evs bench, 3 nodes in csb-n1..3, agreed order, ${String(reps)} run(s) per point`;
/** evs bench's own description of each run (its first stdout line, "# evs bench <mode>: ..."), from the logs bench/compare kept. */
const evsDescribed = [...new Set(
  (existsSync(join(dir, 'evs')) ? readdirSync(join(dir, 'evs')).filter((f) => f.endsWith('.log')).sort() : [])
    .flatMap((f) => readFileSync(join(dir, 'evs', f), 'utf8').split('\n'))
    .filter((l) => l.startsWith('# evs bench '))
    .map((l) => l.slice(2)),
)];
const evsLine = `evs: ${evsSettings.size > 0 ? [...evsSettings].join('; ') : 'no results'}; flags ${String(facts.evsFlags ?? '?')}`;
const text = [
  header,
  `machine: ${factsLine()}`,
  evsLine,
  ...evsDescribed.map((l) => `  ${l}`),
  ...(lockLine === '' ? [] : [lockLine]),
  '',
  'throughput, msgs/s delivered (corosync: at node 2 in the 5 s window; median [min–max] over runs)',
  textTable(tputHead, tputTable(), tputAlign),
  '',
  textTable(latHead, latTable(), latAlign),
  '',
  'ratio > 1: evs delivers more msgs/s (throughput) / takes longer (latency).',
  "evs: the library's default (netmtu = the veths' MTU, 1500: 64 KiB frames cut into 1500-byte datagrams); " +
    'evs 64 KiB: --netmtu 65535 (64 KiB datagrams the kernel fragments into IP fragments), an extra column only: ' +
    'one lost fragment loses the whole datagram and many networks drop fragments.',
  checkLegend,
].join('\n');
console.log(text);

const md = [
  `# bench/compare — ${String(facts.date ?? '')}`,
  '',
  `${header}.`,
  '',
  `Machine: ${factsLine()}. Both sides share the same cores; corosync runs SCHED_RR prio 99 (its default).`,
  '',
  `${evsLine}.`,
  ...(lockLine === '' ? [] : ['', `${lockLine}.`]),
  ...(evsDescribed.length > 0 ? ['', 'evs bench described its runs as:', '', ...evsDescribed.map((l) => `    ${l}`)] : []),
  '',
  '## Throughput',
  '',
  'msgs/s delivered, median [min–max] over runs. corosync: delivered at node 2 inside the 5 s window after 2 s warm-up (the anchors\' method). ' +
    'senders one = corosync mode A (node 1 sends), all = mode B (all three send). Ratio = median evs / median corosync. ' +
    "evs = the library's default netmtu (the veths' 1500); evs 64 KiB = --netmtu 65535 (kernel IP fragmentation), an extra column, not the headline.",
  '',
  mdTable(tputHead, tputTable(), tputAlign),
  '',
  checkLegend,
  '',
  '## Self-delivery latency',
  '',
  `One ${String(lat.corosync?.sizeBytes ?? lat.evs?.sizeBytes ?? 100)} B message in flight from node 1, send → its own delivery; median over runs of each run's percentile [min–max]. Ratio > 1: evs is slower.`,
  '',
  mdTable(latHead, latTable(), latAlign),
  '',
].join('\n');

writeFileSync(join(dir, 'compare.json'), JSON.stringify({ facts, throughput: tput, latency: lat }, null, 2) + '\n');
writeFileSync(join(dir, 'compare.md'), md);

// ---------------------------------------------------------------- chart

/** The charts: evs bench's renderChart (src/cli/bench/chart.ts) with corosync's lines and evs's. */
const colors = { corosync: '#D55E00', evs: '#0072B2' } as const;
function series(metric: (side: Side) => number): ChartSeries[] {
  return (['corosync', 'evs'] as const).flatMap((side) =>
    (['one', 'all'] as const).map((senders) => ({
      label: `${side}, ${senders === 'one' ? 'one sender' : 'all send'}`,
      color: colors[side],
      dashed: senders === 'all',
      points: tput.flatMap((r) => {
        const s = r[side];
        return r.senders === senders && s !== undefined ? [{ x: r.sizeBytes, y: metric(s) }] : [];
      }),
    })),
  );
}

const written = ['compare.json', 'compare.md'];
{
  const f = facts as Record<string, unknown>;
  const subtitle = [
    `corosync ${String(f.corosyncPackage ?? '?')} knet aes256+sha256, SCHED_RR  vs  evs ${String(f.evsCommit ?? '?')} ${[...evsSettings].join('; ')}`,
    `${String(f.nproc ?? '?')} cores shared, kernel ${String(f.kernel ?? '?')}, node ${String(f.node ?? '?')}; median of ${String(reps)} run(s); ${String(f.date ?? '')}`,
  ];
  writeFileSync(join(dir, 'compare.svg'), renderChart(series((s) => s.mbPerSec), {
    title: 'payload MB/s delivered at node 2, agreed order, 3 nodes', subtitle, xLabel: 'message size (bytes)', yLabel: 'MB/s (10^6 B)',
  }));
  writeFileSync(join(dir, 'compare-msgs.svg'), renderChart(series((s) => s.msgsPerSec.median), {
    title: 'messages/s delivered at node 2, agreed order, 3 nodes', subtitle, xLabel: 'message size (bytes)', yLabel: 'msgs/s',
  }));
  written.push('compare.svg (MB/s)', 'compare-msgs.svg');
}
console.log(`\nwritten in ${dir}: ${written.join(', ')}`);
