/**
 * The checks an option's value goes through (options.ts): each throws
 * ERR_EVS_INVALID_OPTION naming the option's path and the rule, or returns
 * the value typed.
 */
import { isIPv4 } from 'node:net';
import { invalidOption } from './errors.ts';

export function rejectUnknown(object: object, known: Set<string>, prefix: string): void {
  for (const key of Object.keys(object)) {
    if (!known.has(key)) throw invalidOption(`${prefix}${key}`, 'is not an option', key);
  }
}

export function integer(path: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(path, `must be an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function ipv4(path: string, value: unknown): string {
  if (typeof value !== 'string' || !isIPv4(value)) throw invalidOption(path, 'must be an IPv4 address', value);
  return value;
}

export function oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw invalidOption(path, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

export function nonEmptyString(path: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidOption(path, 'must be a non-empty string', value);
  return value;
}
