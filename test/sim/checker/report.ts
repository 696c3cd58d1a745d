/**
 * A violation, the names of the invariants (TOTEM.md §11), and the report that
 * keeps at most so many violations per invariant.
 */

export interface Violation {
  readonly invariant: number;
  readonly node: number;
  readonly detail: string;
}

export const invariantNames: Readonly<Record<number, string>> = {
  0: 'run aborted (core threw, livelock or message storm)',
  1: 'self-inclusion',
  2: 'alternation',
  3: 'configuration arithmetic',
  4: 'ring-id monotonicity',
  5: 'view agreement',
  6: 'transitional agreement',
  7: 'integrity / no duplication',
  8: 'sender membership',
  9: 'delivery in the ordering ring',
  10: 'total order',
  11: 'virtual synchrony',
  12: 'FIFO per sender (across configurations)',
  13: 'self-delivery',
  14: 'safe delivery',
  15: 'payload integrity (fragmentation)',
  16: 'convergence',
  17: 'progress (in time)',
  18: 'back-pressure clears',
  19: 'idle behaviour',
  20: 'one ring held, and progress in it, under steady loss',
};

export class Report {
  readonly violations: Violation[] = [];
  /** violations found, including those not kept. */
  total = 0;
  private readonly perInvariant = new Map<number, number>();

  constructor(private readonly perInvariantMax: number) {}

  add(invariant: number, node: number, detail: string): void {
    this.total += 1;
    const count = this.perInvariant.get(invariant) ?? 0;
    this.perInvariant.set(invariant, count + 1);
    if (count < this.perInvariantMax) this.violations.push({ invariant, node, detail });
  }
}
