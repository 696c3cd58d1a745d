/**
 * Commander argument parsers for `evs bench`: each throws
 * InvalidArgumentError, which commander prints on one line naming the
 * option ("option '--nodes <count>' argument 'x' is invalid. ...").
 */
import { isIPv4 } from 'node:net';
import { InvalidArgumentError } from 'commander';
import { parseSizeList } from './sizes.ts';

export function integerIn(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`must be an integer from ${min} to ${max}.`);
    }
    return value;
  };
}

/** seconds (fractions allowed) → milliseconds. */
export function secondsToMs(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
      throw new InvalidArgumentError(`must be a number of seconds from ${min} to ${max}.`);
    }
    return Math.round(value * 1000);
  };
}

export function sizeList(min: number, max: number): (text: string) => number[] {
  return (text) => {
    let sizes: number[];
    try {
      sizes = parseSizeList(text);
    } catch (error) {
      throw new InvalidArgumentError(`${(error as Error).message}.`);
    }
    const bad = sizes.find((s) => s < min || s > max);
    if (bad !== undefined) throw new InvalidArgumentError(`every size must be from ${min} B (the probe header) to ${max} B (got ${bad}).`);
    return sizes;
  };
}

export function ipv4List(text: string): string[] {
  const list = text.split(',').map((a) => a.trim());
  const bad = list.find((a) => !isIPv4(a));
  if (bad !== undefined) throw new InvalidArgumentError(`'${bad}' is not an IPv4 address.`);
  return list;
}

export function nameList(text: string): string[] {
  const list = text.split(',').map((n) => n.trim());
  const bad = list.find((n) => !/^[\w.-]+$/.test(n));
  if (bad !== undefined) throw new InvalidArgumentError(`'${bad}' is not a network namespace name.`);
  return list;
}

export function ipv4(text: string): string {
  if (!isIPv4(text)) throw new InvalidArgumentError('must be an IPv4 address.');
  return text;
}
