/**
 * Tampered copies of a real run's raw log, for showing that the checker
 * catches a broken run on real data (not only on hand-written logs): each
 * function changes one node's record of what it delivered, the way a buggy
 * protocol would.
 */
import type { RawRecord } from './real-log.ts';

type Line = Extract<RawRecord, { kind: 'line' }>;
const isDelivery = (r: RawRecord): r is Line => r.kind === 'line' && r.line.event === 'deliver';

/** indexes of node's deliveries in its first incarnation. */
function deliveriesOf(raw: readonly RawRecord[], node: number): number[] {
  const out: number[] = [];
  raw.forEach((r, i) => {
    if (isDelivery(r) && r.node === node && r.incarnation === 1) out.push(i);
  });
  return out;
}

/** two consecutive deliveries of different senders at `node` trade places (same timestamps: the order changes). */
export function swapOrder(raw: readonly RawRecord[], node: number): RawRecord[] | null {
  const copy = [...raw];
  const ds = deliveriesOf(raw, node);
  for (let k = Math.floor(ds.length / 2); k + 1 < ds.length; k++) {
    const [i, j] = [ds[k] as number, ds[k + 1] as number];
    const [a, b] = [raw[i] as Line, raw[j] as Line];
    if (a.line.event !== 'deliver' || b.line.event !== 'deliver' || a.line.sender === b.line.sender) continue;
    copy[i] = { ...a, line: b.line };
    copy[j] = { ...b, line: a.line };
    return copy;
  }
  return null;
}

/** one delivery at `node` happens a second time right after the first. */
export function duplicate(raw: readonly RawRecord[], node: number): RawRecord[] | null {
  const ds = deliveriesOf(raw, node);
  const i = ds[Math.floor(ds.length / 2)];
  if (i === undefined) return null;
  const r = raw[i] as Line;
  return [...raw.slice(0, i + 1), { ...r, at: r.at + 0.0001 }, ...raw.slice(i + 1)];
}

/** one delivery at `node` vanishes from the middle of its log. */
export function drop(raw: readonly RawRecord[], node: number): RawRecord[] | null {
  const ds = deliveriesOf(raw, node);
  const i = ds[Math.floor(ds.length / 2)];
  if (i === undefined) return null;
  return [...raw.slice(0, i), ...raw.slice(i + 1)];
}

/** one delivery at `node` carries a changed byte. */
export function corrupt(raw: readonly RawRecord[], node: number): RawRecord[] | null {
  const ds = deliveriesOf(raw, node);
  const i = ds[Math.floor(ds.length / 2)];
  if (i === undefined) return null;
  const r = raw[i] as Line;
  if (r.line.event !== 'deliver' || r.line.payload === undefined) return null;
  const p = r.line.payload;
  const line = { ...r.line, payload: `${p.slice(0, -1)}${p.endsWith('x') ? 'y' : 'x'}` };
  return [...raw.slice(0, i), { ...r, line }, ...raw.slice(i + 1)];
}
