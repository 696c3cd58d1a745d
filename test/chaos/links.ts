/**
 * Link faults with the kernel's own tools: one nftables table of the bridge
 * family in the switch namespace, one rule per faulty directed link
 * `from → to`, matched by bridge ports (`iifname` = the sender's port,
 * `oifname` = the receiver's). The bridge runs the forward hook once per
 * output port, also for flooded multicast, so the same rule cuts or thins
 * unicast (udpu) and IP multicast (udp) alike.
 *
 *   loss N %   `numgen random mod 100 < N drop` (each datagram independently)
 *   cut        100 %: `drop`
 *
 * Partitions, one-way cuts, a node that barely receives and flapping are all
 * sets of directed links. The whole table is replaced in one `nft -f`
 * transaction per change, so a fault never exists half-applied.
 */
import { run } from './netns.ts';
import type { ChaosNetwork } from './netns.ts';

export type Link = readonly [from: number, to: number];

export class LinkFaults {
  /** directed link "from>to" → drop percentage (1..100). */
  readonly #drop = new Map<string, number>();
  #installed = false;

  constructor(private readonly net: ChaosNetwork) {}

  get table(): string {
    return this.net.tag;
  }

  /** sets the loss of each listed directed link (0 removes the fault). */
  set(links: readonly Link[], percent: number): void {
    if (!(Number.isInteger(percent) && percent >= 0 && percent <= 100)) throw new RangeError(`loss must be 0..100 % (got ${percent})`);
    for (const [from, to] of links) {
      if (from === to) continue;
      if (percent === 0) this.#drop.delete(`${from}>${to}`);
      else this.#drop.set(`${from}>${to}`, percent);
    }
    this.apply();
  }

  /** every directed link between two different nodes. */
  all(): Link[] {
    const ids = this.net.ids;
    return ids.flatMap((a) => ids.filter((b) => b !== a).map((b): Link => [a, b]));
  }

  /** links into `node` (it sends fine but receives through them). */
  into(node: number): Link[] {
    return this.net.ids.filter((a) => a !== node).map((a): Link => [a, node]);
  }

  /** links between the groups, both ways. */
  across(groups: readonly (readonly number[])[]): Link[] {
    const out: Link[] = [];
    for (const g of groups) {
      for (const h of groups) {
        if (g === h) continue;
        for (const a of g) for (const b of h) out.push([a, b]);
      }
    }
    return out;
  }

  /** cuts every link between the groups (a partition). */
  partition(groups: readonly (readonly number[])[]): void {
    this.set(this.across(groups), 100);
  }

  /** a node cut off completely, both ways. */
  isolate(node: number): void {
    this.set([...this.into(node), ...this.into(node).map(([a, b]): Link => [b, a])], 100);
  }

  /** removes the faults of `node`'s links, both ways. */
  reconnect(node: number): void {
    this.set([...this.into(node), ...this.into(node).map(([a, b]): Link => [b, a])], 0);
  }

  /** removes every fault. */
  heal(): void {
    this.#drop.clear();
    this.apply();
  }

  get faulty(): number {
    return this.#drop.size;
  }

  describe(): string {
    return [...this.#drop].map(([k, v]) => `${k.replace('>', '→')}${v === 100 ? ' cut' : ` ${v}%`}`).join(', ') || 'none';
  }

  /** (re)writes the table: one transaction. */
  apply(): void {
    const t = this.table;
    const rules = [...this.#drop].map(([key, percent]) => {
      const [from = 0, to = 0] = key.split('>').map(Number);
      const match = `iifname "${this.net.switchPort(from)}" oifname "${this.net.switchPort(to)}"`;
      return percent >= 100 ? `    ${match} drop` : `    ${match} numgen random mod 100 < ${percent} drop`;
    });
    // `add table` then `delete table` makes the delete valid whether or not the table existed
    const script = [
      `add table bridge ${t}`,
      `delete table bridge ${t}`,
      `table bridge ${t} {`,
      '  chain links {',
      '    type filter hook forward priority 0; policy accept;',
      ...rules,
      '  }',
      '}',
      '',
    ].join('\n');
    run('ip', ['netns', 'exec', this.net.switchNs, 'nft', '-f', '-'], script);
    this.#installed = true;
  }

  /** deletes the table (the namespace's deletion would too); idempotent. */
  remove(): void {
    if (!this.#installed) return;
    this.#drop.clear();
    try {
      run('ip', ['netns', 'exec', this.net.switchNs, 'nft', 'delete', 'table', 'bridge', this.table]);
    } catch { /* the namespace is gone already */ }
    this.#installed = false;
  }

  /** the rules as nft lists them (for a failure report). */
  listed(): string {
    try {
      return run('ip', ['netns', 'exec', this.net.switchNs, 'nft', 'list', 'table', 'bridge', this.table]);
    } catch (error) {
      return `(cannot list: ${String(error)})`;
    }
  }
}
