/**
 * Parsed flags (and a JSON config file) → EvsNodeStartOptions, and the way
 * back for errors: the library names `options.totem.tokenMs`, the user typed
 * `--token-ms` or wrote `"totem": { "tokenMs": … }` in a file, and the
 * message must name what they wrote.
 *
 * Values are not validated here: digits become numbers, everything else is
 * passed on as given, and `resolveOptions` (via EvsNode.start) rejects it by
 * option name. So the CLI and the library can never disagree on a rule.
 */
import type { EvsNodeStartOptions } from '../../node.ts';
import type { EvsNodeOptions, MemberOption } from '../../options.ts';
import { resolveOptions } from '../../options.ts';
import { EvsError } from '../../errors.ts';
import { UsageError, messageOf } from './cli-error.ts';
import { attributeOf, flagName, nodeFlags, type FlagSpec } from './node-flags.ts';

type Mutable = Record<string, unknown>;

/** where a start option came from: the paths set by flags, and the config file (if any) for the rest. */
export interface OptionSources {
  readonly fromFlags: ReadonlySet<string>;
  readonly configFile: string | null;
  /** options filled in from this node's entry in `members` (bindAddr, port). */
  readonly fromMembers: ReadonlySet<string>;
}

export interface MappedOptions {
  readonly options: EvsNodeStartOptions;
  readonly sources: OptionSources;
}

const numberPattern = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** '5405' → 5405; 'nonsense' stays a string so the library names the option when it rejects it. */
export function numberOrText(text: string): number | string {
  return numberPattern.test(text.trim()) ? Number(text) : text;
}

/** '1@127.0.0.1,2@127.0.0.2:5406' → members; only the shape is checked here, the values by resolveOptions. */
export function parseMembers(list: string): MemberOption[] {
  const entries = list.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  if (entries.length === 0) throw new UsageError('--members is empty; write it as id@addr[:port],... e.g. --members 1@127.0.0.1,2@127.0.0.2');
  return entries.map((entry) => {
    const match = /^([^@]+)@([^:@]+)(?::([^:@]+))?$/.exec(entry);
    if (match === null) {
      throw new UsageError(`--members entry '${entry}' is not id@addr[:port]; e.g. --members 1@127.0.0.1,2@127.0.0.2:5406`);
    }
    const [, id = '', addr = '', port] = match;
    // The casts let a non-numeric id or port through to resolveOptions, which names it.
    return { nodeId: numberOrText(id) as number, addr, ...(port !== undefined ? { port: numberOrText(port) as number } : {}) };
  });
}

/** '--groups evs,locks' → ['evs', 'locks']; names themselves are checked by EvsHandle.join. */
export function parseGroups(list: string): string[] {
  const groups = list.split(',').map((g) => g.trim());
  if (groups.some((g) => g.length === 0)) throw new UsageError(`--groups '${list}' has an empty group name; e.g. --groups evs,locks`);
  return groups;
}

function setPath(target: Mutable, path: string, value: unknown): void {
  const [head = '', ...rest] = path.split('.');
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const inner = (typeof target[head] === 'object' && target[head] !== null ? { ...(target[head] as Mutable) } : {});
  setPath(inner, rest.join('.'), value);
  target[head] = inner;
}

/**
 * Flags on top of `base` (a config file's options): a flag replaces the file's
 * value for the same option; `totem` and `threads` are merged key by key.
 * Then the node's own entry in `members` supplies `bindAddr` and `port` when
 * neither flags nor file gave them.
 */
export function startOptionsFrom(
  values: Readonly<Record<string, unknown>>,
  specs: readonly FlagSpec[] = nodeFlags,
  base: Partial<EvsNodeStartOptions> = {},
  configFile: string | null = null,
): MappedOptions {
  const options: Mutable = { ...base };
  const fromFlags = new Set<string>();
  for (const spec of specs) {
    const value = values[attributeOf(spec)];
    if (value === undefined) continue;
    if (spec.flags === '--no-crypto') {
      if (value === false) {
        options.crypto = 'none';
        fromFlags.add('crypto');
      }
    } else if (spec.path === 'members') {
      options.members = parseMembers(String(value));
      fromFlags.add('members');
    } else {
      setPath(options, spec.path, spec.kind === 'number' ? numberOrText(String(value)) : value);
      fromFlags.add(spec.path);
    }
  }
  const fromMembers = completeFromMembers(options);
  return { options: options as unknown as EvsNodeStartOptions, sources: { fromFlags, configFile, fromMembers } };
}

function completeFromMembers(options: Mutable): Set<string> {
  const filled = new Set<string>();
  if (!Array.isArray(options.members)) return filled;
  const own = (options.members as MemberOption[]).find((m) => m.nodeId === options.nodeId);
  if (own === undefined) return filled;
  if (options.bindAddr === undefined) {
    options.bindAddr = own.addr;
    filled.add('bindAddr');
  }
  if (options.port === undefined && own.port !== undefined) {
    options.port = own.port;
    filled.add('port');
  }
  return filled;
}

/** validates without starting anything (resolveOptions), so a bad option fails before any thread or socket exists. */
export function checkStartOptions(mapped: MappedOptions): void {
  const { debug: _debug, ...options } = mapped.options;
  resolveOptions(options as EvsNodeOptions);
}

function specFor(path: string, specs: readonly FlagSpec[]): FlagSpec | undefined {
  return specs.find((s) => s.path !== '' && (path === s.path || path.startsWith(`${s.path}[`) || path.startsWith(`${s.path}.`)))
    ?? (path === 'crypto' ? specs.find((s) => s.flags === '--no-crypto') : undefined)
    ?? (path === 'key' ? specs.find((s) => s.path === 'keyFile') : undefined);
}

/** how to name an option path to the user: the flag, or the key in the config file it came from. */
function nameOf(path: string, sources: OptionSources, specs: readonly FlagSpec[], missing = false): { name: string; spec: FlagSpec | undefined } {
  if (sources.fromMembers.has(path)) {
    const members = specs.find((s) => s.path === 'members');
    const where = sources.fromFlags.has('members') || sources.configFile === null ? '--members' : `"members" in ${sources.configFile}`;
    return { name: `${where} (this node's ${path === 'bindAddr' ? 'addr' : path})`, spec: members };
  }
  const spec = specFor(path, specs);
  const top = spec?.path === '' ? path : spec?.path;
  const byFlag = spec !== undefined && top !== undefined && (sources.fromFlags.has(top) || sources.configFile === null);
  if (byFlag) {
    const sub = path === spec.path || spec.path === '' ? '' : ` (${path})`;
    return { name: `${flagName(spec)}${sub}`, spec };
  }
  const inFile = `"${path}" in ${sources.configFile ?? ''}`;
  if (missing && spec !== undefined) return { name: `${flagName(spec)} (or ${inFile})`, spec };
  if (sources.configFile !== null) return { name: inFile, spec };
  return { name: `option ${path}`, spec };
}

/**
 * An error from resolveOptions / EvsNode.start in the user's terms:
 * "options.port must be an integer from 1 to 65535 (got 'x')" →
 * "--port must be an integer from 1 to 65535 (got 'x')", plus the flag's hint.
 * Other `options.x` mentions (bind errors) become flag names too.
 */
export function explainStartError(error: unknown, sources: OptionSources, specs: readonly FlagSpec[] = nodeFlags): string {
  const message = messageOf(error);
  if (!(error instanceof EvsError)) return message;
  if (error.code.startsWith('ERR_EVS_KEY_FILE_')) {
    const name = sources.configFile !== null && !sources.fromFlags.has('keyFile') ? `"keyFile" in ${sources.configFile}` : '--key-file';
    return `${name}: ${message}`;
  }
  if (error.code.startsWith('ERR_EVS_STATE_FILE_')) return `--state-dir: ${message}`;
  const lead = /^options\.(\S*) ([\s\S]*)$/.exec(message);
  if (error.code === 'ERR_EVS_INVALID_OPTION' && lead !== null) {
    const [, path = '', rule = ''] = lead;
    // "options.stateDir must be a non-empty string (got undefined)": it was left out.
    const missing = rule.endsWith('(got undefined)');
    const { name, spec } = nameOf(path, sources, specs, missing);
    const hint = spec?.hint !== undefined ? `; ${spec.hint}` : '';
    if (missing) return `${name} is required${hint}`;
    return `${name} ${renameMentions(rule, sources, specs)}${hint}`;
  }
  return renameMentions(message, sources, specs);
}

function renameMentions(text: string, sources: OptionSources, specs: readonly FlagSpec[]): string {
  return text.replace(/options\.([A-Za-z][\w.[\]]*[\w\]])/g, (_all, path: string) => nameOf(path, sources, specs).name);
}
