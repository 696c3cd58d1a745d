/**
 * Sets of node ids as ascending arrays: small (≤ processorsMax), compared and
 * encoded often, and ascending order is also the token order.
 */

export function setOf(ids: Iterable<number>): number[] {
  return [...new Set(ids)].sort((a, b) => a - b);
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
  return sub.every((id) => full.includes(id));
}

export function setUnion(a: readonly number[], b: readonly number[]): number[] {
  return setOf([...a, ...b]);
}

export function setMinus(a: readonly number[], b: readonly number[]): number[] {
  return a.filter((id) => !b.includes(id));
}

export function setAnd(a: readonly number[], b: readonly number[]): number[] {
  return a.filter((id) => b.includes(id));
}
