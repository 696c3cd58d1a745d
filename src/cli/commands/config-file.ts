/**
 * `evs node --config node.json`: a JSON object with EvsNode's own option names
 * (nodeId, bindAddr, port, members, keyFile, stateDir, totem, threads, rings,
 * …) plus `groups`, the groups the node joins. Relative `keyFile` and
 * `stateDir` are taken from the file's directory, so a file and its key can
 * move together. Options are checked later by resolveOptions, which names the
 * key; here only what JSON itself can get wrong.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { EvsNodeStartOptions } from '../../node.ts';
import { UsageError, messageOf } from './cli-error.ts';

export interface ConfigFile {
  readonly path: string;
  readonly options: Partial<EvsNodeStartOptions>;
  readonly groups: readonly string[] | undefined;
}

export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--config ${path}: cannot read it: ${messageOf(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config ${path}: not valid JSON: ${messageOf(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--config ${path}: must hold a JSON object like { "nodeId": 1, "members": [...] }`);
  }
  const { groups, ...options } = parsed as Record<string, unknown>;
  if (groups !== undefined && (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string'))) {
    throw new UsageError(`"groups" in ${path} must be an array of group names, e.g. ["evs"]`);
  }
  const base = dirname(path);
  for (const key of ['keyFile', 'stateDir'] as const) {
    if (typeof options[key] === 'string' && options[key] !== '') options[key] = resolve(base, options[key]);
  }
  return { path, options: options as Partial<EvsNodeStartOptions>, groups: groups as string[] | undefined };
}
