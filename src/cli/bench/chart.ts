/**
 * A small hand-written SVG line chart: one line per series, log or linear x
 * axis, linear y axis from 0, ticks, grid, axis labels, title, legend. No
 * dependency and no script: the file opens in any browser or image viewer.
 * Exported for the comparison script, which adds corosync's lines to ours.
 */

export interface ChartPoint {
  readonly x: number;
  readonly y: number;
}

export interface ChartSeries {
  readonly label: string;
  readonly points: readonly ChartPoint[];
  /** CSS colour; default: the next of the palette. */
  readonly color?: string;
  readonly dashed?: boolean;
}

export interface ChartOptions {
  readonly title: string;
  /** smaller lines under the title (the configuration). */
  readonly subtitle?: readonly string[];
  readonly xLabel: string;
  readonly yLabel: string;
  /** default 'log' (message sizes from 100 B to 1 MB). */
  readonly xScale?: 'log' | 'linear';
  readonly widthPx?: number;
  readonly heightPx?: number;
  readonly formatX?: (value: number) => string;
  readonly formatY?: (value: number) => string;
}

/** colour-blind-safe (Okabe–Ito), then greys. */
const palette = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442', '#999999', '#666666'];

const fontFamily = 'DejaVu Sans, Helvetica, Arial, sans-serif';

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** 1, 2, 5 × 10^k covering [min, max] with at most `countMax` values. */
function niceSteps(min: number, max: number, countMax: number): number {
  const raw = (max - min) / countMax;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((step) => (max - min) / step <= countMax) ?? 10 * magnitude;
}

function linearTicks(max: number): { top: number; ticks: number[] } {
  const step = niceSteps(0, max > 0 ? max : 1, 6);
  const top = Math.ceil((max > 0 ? max : 1) / step) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { top, ticks };
}

/** decades, or 1-2-5 per decade when the range is narrow, inside [min, max]. */
function logTicks(min: number, max: number): number[] {
  const within = (mantissas: number[]): number[] => {
    const ticks: number[] = [];
    for (let k = Math.floor(Math.log10(min)); k <= Math.ceil(Math.log10(max)); k++) {
      for (const m of mantissas) {
        const v = m * 10 ** k;
        if (v >= min * 0.999 && v <= max * 1.001) ticks.push(Number(v.toPrecision(12)));
      }
    }
    return ticks;
  };
  for (const mantissas of [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 5], [1]]) {
    const ticks = within(mantissas);
    if (ticks.length <= 12) return ticks.length >= 2 ? ticks : [min, max];
  }
  return within([1]);
}

export function formatCompact(value: number): string {
  const trim = (v: number): string => Number(v.toPrecision(3)).toString();
  if (Math.abs(value) >= 1e6) return `${trim(value / 1e6)}M`;
  if (Math.abs(value) >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}

/** px between two x tick labels, so 700 800 900 1k on a log axis do not run together. */
const tickLabelGapPx = 42;

/**
 * The x ticks that get a label: 1, 2 and 5 × 10^k first, then the others
 * where they keep their distance from every labeled one.
 */
function labeledTicks(ticks: readonly number[], x: (v: number) => number): Set<number> {
  const mantissa = (v: number): number => Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9));
  const first = ticks.filter((t) => t <= 0 || [1, 2, 5].includes(mantissa(t)));
  const labeled = new Set<number>();
  for (const t of [...first, ...ticks.filter((t) => !first.includes(t))]) {
    if ([...labeled].every((l) => Math.abs(x(l) - x(t)) >= tickLabelGapPx)) labeled.add(t);
  }
  return labeled;
}

interface Frame {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  readonly x: (v: number) => number;
  readonly y: (v: number) => number;
}

function xDomain(values: number[], scale: 'log' | 'linear'): [number, number] {
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (scale === 'linear') return min === max ? [min - 1, max + 1] : [min, max];
  // a little room either side in log space, so the end points are not on the frame
  return min === max ? [min / 2, max * 2] : [min / (max / min) ** 0.04, max * (max / min) ** 0.04];
}

/** room for the legend right of the plot: its longest label at ~7 px a character (12 px sans). */
function legendWidthPx(series: readonly ChartSeries[]): number {
  return 60 + 7 * Math.max(12, ...series.map((s) => s.label.length));
}

function frameOf(options: ChartOptions, series: readonly ChartSeries[], xMin: number, xMax: number, yTop: number): Frame {
  const widthPx = options.widthPx ?? 960;
  const heightPx = options.heightPx ?? 560;
  const subtitleLines = options.subtitle?.length ?? 0;
  const left = 90;
  const top = 56 + 18 * subtitleLines;
  const width = Math.max(200, widthPx - left - legendWidthPx(series));
  const height = heightPx - top - 70;
  const log = (options.xScale ?? 'log') === 'log';
  const x = log
    ? (v: number): number => left + ((Math.log(v) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin))) * width
    : (v: number): number => left + ((v - xMin) / (xMax - xMin)) * width;
  const y = (v: number): number => top + height - (v / yTop) * height;
  return { left, top, width, height, x, y };
}

function axes(f: Frame, xTicks: number[], yTicks: number[], options: ChartOptions): string[] {
  const fx = options.formatX ?? formatCompact;
  const fy = options.formatY ?? formatCompact;
  const out: string[] = ['<g class="axes" font-size="12" fill="#333">'];
  for (const t of yTicks) {
    const y = f.y(t).toFixed(1);
    out.push(`<line class="grid" x1="${f.left}" x2="${f.left + f.width}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>`);
    out.push(`<text class="y-tick" x="${f.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(fy(t))}</text>`);
  }
  const labeled = labeledTicks(xTicks, f.x);
  for (const t of xTicks) {
    const x = f.x(t).toFixed(1);
    out.push(`<line class="grid" x1="${x}" x2="${x}" y1="${f.top}" y2="${f.top + f.height}" stroke="#eeeeee"/>`);
    out.push(`<line x1="${x}" x2="${x}" y1="${f.top + f.height}" y2="${f.top + f.height + 5}" stroke="#333"/>`);
    if (labeled.has(t)) out.push(`<text class="x-tick" x="${x}" y="${f.top + f.height + 20}" text-anchor="middle">${escapeXml(fx(t))}</text>`);
  }
  out.push(`<line class="x-axis" x1="${f.left}" x2="${f.left + f.width}" y1="${f.top + f.height}" y2="${f.top + f.height}" stroke="#333"/>`);
  out.push(`<line class="y-axis" x1="${f.left}" x2="${f.left}" y1="${f.top}" y2="${f.top + f.height}" stroke="#333"/>`);
  out.push(`<text class="x-label" x="${f.left + f.width / 2}" y="${f.top + f.height + 48}" text-anchor="middle" font-size="14">${escapeXml(options.xLabel)}</text>`);
  const yMid = f.top + f.height / 2;
  out.push(`<text class="y-label" x="24" y="${yMid}" text-anchor="middle" font-size="14" transform="rotate(-90 24 ${yMid})">${escapeXml(options.yLabel)}</text>`);
  out.push('</g>');
  return out;
}

function seriesLines(f: Frame, series: readonly ChartSeries[], options: ChartOptions): string[] {
  const fx = options.formatX ?? formatCompact;
  const fy = options.formatY ?? formatCompact;
  return series.flatMap((s, i) => {
    const color = escapeXml(s.color ?? palette[i % palette.length]!);
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    const path = sorted.map((p) => `${f.x(p.x).toFixed(1)},${f.y(p.y).toFixed(1)}`).join(' ');
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    const dots = sorted.map((p) =>
      `<circle cx="${f.x(p.x).toFixed(1)}" cy="${f.y(p.y).toFixed(1)}" r="3.5" fill="${color}"><title>${escapeXml(`${s.label}: ${fx(p.x)} → ${fy(p.y)}`)}</title></circle>`);
    return [`<g class="series" data-label="${escapeXml(s.label)}">`, `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`, ...dots, '</g>'];
  });
}

function legend(f: Frame, series: readonly ChartSeries[]): string[] {
  const x = f.left + f.width + 24;
  const out = [`<g class="legend" font-size="12" fill="#222">`];
  series.forEach((s, i) => {
    const y = f.top + 8 + i * 22;
    const color = escapeXml(s.color ?? palette[i % palette.length]!);
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    out.push(`<line x1="${x}" x2="${x + 26}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<circle cx="${x + 13}" cy="${y}" r="3.5" fill="${color}"/>`);
    out.push(`<text x="${x + 34}" y="${y}" dominant-baseline="middle">${escapeXml(s.label)}</text>`);
  });
  out.push('</g>');
  return out;
}

export function renderChart(series: readonly ChartSeries[], options: ChartOptions): string {
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = all.length > 0 ? all.map((p) => p.x) : [1, 10];
  const scale = options.xScale ?? 'log';
  const [xMin, xMax] = xDomain(scale === 'log' ? xs.filter((v) => v > 0) : xs, scale);
  const { top: yTop, ticks: yTicks } = linearTicks(Math.max(0, ...all.map((p) => p.y)));
  const xTicks = scale === 'log' ? logTicks(xMin, xMax) : linearTicks(xMax).ticks.filter((t) => t >= xMin);
  const f = frameOf(options, series, xMin, xMax, yTop);
  const widthPx = options.widthPx ?? 960;
  const heightPx = options.heightPx ?? 560;
  const subtitle = (options.subtitle ?? []).map((line, i) =>
    `<text class="subtitle" x="${f.left}" y="${48 + 18 * i}" font-size="12" fill="#555">${escapeXml(line)}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${widthPx}" height="${heightPx}" viewBox="0 0 ${widthPx} ${heightPx}" font-family="${fontFamily}">`,
    `<rect width="${widthPx}" height="${heightPx}" fill="#ffffff"/>`,
    `<text class="title" x="${f.left}" y="28" font-size="18" font-weight="bold" fill="#111">${escapeXml(options.title)}</text>`,
    ...subtitle,
    ...axes(f, xTicks, yTicks, options),
    ...seriesLines(f, series, options),
    ...legend(f, series),
    '</svg>',
    '',
  ].join('\n');
}
