/**
 * Sets of node ids as ascending arrays: small (≤ processorsMax), compared and
 * encoded often, and ascending order is also the token order.
 *
 * Every JOIN a processor receives runs several of these over lists of up to
 * `processorsMax` ids, so with both inputs ascending (every list the core
 * builds, and every list `decode` accepts) they walk both arrays once instead
 * of searching one for each id of the other; an input that is not ascending
 * still gets the plain answer.
 */

function ascending(ids: readonly number[]): boolean {
  for (let i = 1; i < ids.length; i++) if (!((ids[i - 1] as number) < (ids[i] as number))) return false;
  return true;
}

export function setOf(ids: Iterable<number>): number[] {
  const out = Array.isArray(ids) ? (ids as number[]).slice() : [...ids];
  if (ascending(out)) return out;
  out.sort((a, b) => a - b);
  let kept = 0;
  for (const id of out) if (kept === 0 || out[kept - 1] !== id) out[kept++] = id;
  out.length = kept;
  return out;
}

export function setHas(set: readonly number[], id: number): boolean {
  return set.includes(id);
}

export function setEqual(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function setSubset(sub: readonly number[], full: readonly number[]): boolean {
  if (sub.length > full.length || !ascending(sub) || !ascending(full)) return sub.every((id) => full.includes(id));
  let j = 0;
  for (const id of sub) {
    while (j < full.length && (full[j] as number) < id) j++;
    if (full[j] !== id) return false;
    j++;
  }
  return true;
}

export function setUnion(a: readonly number[], b: readonly number[]): number[] {
  if (!ascending(a) || !ascending(b)) return setOf([...a, ...b]);
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x <= y) i++;
    if (y <= x) j++;
    out.push(x <= y ? x : y);
  }
  while (i < a.length) out.push(a[i++] as number);
  while (j < b.length) out.push(b[j++] as number);
  return out;
}

/** the ids of `a` not in `b`, in a's order. */
export function setMinus(a: readonly number[], b: readonly number[]): number[] {
  return keep(a, b, false);
}

/** the ids of `a` also in `b`, in a's order. */
export function setAnd(a: readonly number[], b: readonly number[]): number[] {
  return keep(a, b, true);
}

function keep(a: readonly number[], b: readonly number[], inB: boolean): number[] {
  if (b.length === 0) return inB ? [] : a.slice();
  if (!ascending(a) || !ascending(b)) return a.filter((id) => b.includes(id) === inB);
  const out: number[] = [];
  let j = 0;
  for (const id of a) {
    while (j < b.length && (b[j] as number) < id) j++;
    if ((b[j] === id) === inB) out.push(id);
  }
  return out;
}
