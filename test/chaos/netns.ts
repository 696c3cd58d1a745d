/**
 * The chaos harness's network: one namespace per host on a bridge in a switch
 * namespace (NODE-NOTES.md, "Network namespaces (root)"), veths of MTU 1500,
 * addresses in 203.0.113.0/24 (TEST-NET-3) that exist only inside the
 * namespaces. Nothing is created in the host's namespace: both ends of each
 * veth are made inside their namespaces, and deleting the namespaces removes
 * every interface, address and nft table with them.
 *
 * Names carry a per-run tag `evc<pid base36><2 random>` (≤ 10 characters, so
 * `<tag>p<id>` fits IFNAMSIZ); `sweepStale` removes namespaces of runs whose
 * process is gone (a harness killed by SIGKILL cannot clean up after itself).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const tagPrefix = 'evc';
const subnet = '203.0.113';
export const mtuBytes = 1500;

export function run(command: string, args: readonly string[], input?: string): string {
  return execFileSync(command, args, {
    encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 15_000, ...(input !== undefined ? { input } : {}),
  });
}

export function ip(...args: string[]): string {
  return run('ip', args);
}

/** what a failed command said (its stderr), on one line. */
export function failure(error: unknown): string {
  const { stderr, message } = error as { stderr?: string; message?: string };
  return (stderr?.trim() || message || String(error)).replace(/\s*\n\s*/g, ' ');
}

function namespaces(): string[] {
  return ip('netns', 'list').split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.length > 0);
}

/**
 * Why this machine cannot run the chaos harness, or null when it can: Linux,
 * root, `ip` and `nft`, and a probe namespace with a bridge-family nft table
 * created and deleted.
 */
export function chaosUnavailable(): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not running as root';
  for (const [tool, args] of [['ip', ['-V']], ['nft', ['--version']]] as const) {
    try {
      run(tool, args);
    } catch {
      return `\`${tool}\` is not available (${tool === 'nft' ? 'apt-get install -y nftables' : 'iproute2'})`;
    }
  }
  const probe = `${tagPrefix}${process.pid.toString(36)}probe`;
  try {
    ip('netns', 'add', probe);
  } catch (error) {
    return `cannot create a network namespace: ${failure(error)}`;
  }
  try {
    run('ip', ['netns', 'exec', probe, 'nft', '-f', '-'], [
      `table bridge ${probe} {`, '  chain c {', '    type filter hook forward priority 0; policy accept;',
      '    iifname "x" oifname "y" numgen random mod 100 < 1 drop', '  }', '}', '',
    ].join('\n'));
  } catch (error) {
    return `nft cannot load a bridge table with numgen in a namespace: ${failure(error)}`;
  } finally {
    try {
      ip('netns', 'del', probe);
    } catch { /* reported below by the next run's sweep */ }
  }
  return null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** deletes the namespaces of chaos runs whose process no longer exists; returns their names. */
export function sweepStale(): string[] {
  const removed: string[] = [];
  for (const ns of namespaces()) {
    const match = /^evc([0-9a-z]+?)[0-9a-f]{2}-/.exec(ns);
    if (match === null) continue;
    const pid = parseInt(match[1] ?? '', 36);
    if (!Number.isSafeInteger(pid) || pidAlive(pid)) continue;
    try {
      ip('netns', 'del', ns);
      removed.push(ns);
    } catch { /* raced with another sweep */ }
  }
  return removed;
}

export class ChaosNetwork {
  readonly tag = `${tagPrefix}${process.pid.toString(36)}${randomBytes(1).toString('hex')}`;
  readonly switchNs = `${this.tag}-sw`;
  readonly bridge = `${this.tag}br`;
  readonly mcastAddr = '239.192.77.1';
  #created: string[] = [];

  constructor(readonly ids: readonly number[]) {
    if (this.tag.length > 11) throw new Error(`namespace tag ${this.tag} is too long for interface names`);
  }

  hostNs(id: number): string {
    return `${this.tag}-n${id}`;
  }

  hostIf(id: number): string {
    return `${this.tag}v${id}`;
  }

  switchPort(id: number): string {
    return `${this.tag}p${id}`;
  }

  addr(id: number): string {
    return `${subnet}.${id}`;
  }

  /** the node id an address belongs to. */
  idOf(addr: string): number | undefined {
    return this.ids.find((id) => this.addr(id) === addr);
  }

  create(): void {
    this.#add(this.switchNs);
    ip('-n', this.switchNs, 'link', 'set', 'lo', 'up');
    // no IGMP snooping: the bridge floods the group to every port, as a plain switch does
    ip('-n', this.switchNs, 'link', 'add', this.bridge, 'type', 'bridge', 'mcast_snooping', '0');
    ip('-n', this.switchNs, 'link', 'set', this.bridge, 'up');
    for (const id of this.ids) {
      const ns = this.hostNs(id);
      this.#add(ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('link', 'add', this.hostIf(id), 'netns', ns, 'mtu', String(mtuBytes), 'type', 'veth',
        'peer', 'name', this.switchPort(id), 'netns', this.switchNs, 'mtu', String(mtuBytes));
      ip('-n', ns, 'addr', 'add', `${this.addr(id)}/24`, 'dev', this.hostIf(id));
      ip('-n', ns, 'link', 'set', this.hostIf(id), 'up');
      ip('-n', this.switchNs, 'link', 'set', this.switchPort(id), 'master', this.bridge);
      ip('-n', this.switchNs, 'link', 'set', this.switchPort(id), 'up');
    }
  }

  #add(ns: string): void {
    ip('netns', 'add', ns);
    this.#created.push(ns);
  }

  /** deletes every namespace this network made (idempotent); returns those that could not be deleted. */
  teardown(): string[] {
    const left: string[] = [];
    for (const ns of this.#created.reverse()) {
      try {
        ip('netns', 'del', ns);
      } catch (error) {
        if (namespaces().includes(ns)) left.push(`${ns}: ${failure(error)}`);
      }
    }
    this.#created = [];
    return left;
  }

  /** namespaces of this run that still exist. */
  remaining(): string[] {
    return namespaces().filter((n) => n.startsWith(`${this.tag}-`));
  }
}
