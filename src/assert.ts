/**
 * Assertions stay on in production: running on in a wrong state is worse than
 * stopping (TigerBeetle). Split compound conditions so a failure names its part.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, what: string): asserts condition {
  if (!condition) throw new AssertionError(what);
}

export function unreachable(value: never, what: string): never {
  throw new AssertionError(`unreachable: ${what}: ${String(value)}`);
}
