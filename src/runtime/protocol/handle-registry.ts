/**
 * The protocol worker's list of the node's open handles and the groups each
 * joined: it decides which handles a delivered message goes to, so that the
 * main thread only dispatches and a message crosses the deliver ring once.
 */
import { EvsError } from '../../errors.ts';
import { GroupSet, groupsMatch } from '../../groups/match.ts';
import { groupCountMax, handlesPerNodeMax } from '../../limits.ts';

export class HandleRegistry {
  readonly #handles = new Map<number, GroupSet>();
  readonly #matched: number[] = [];

  get size(): number {
    return this.#handles.size;
  }

  has(id: number): boolean {
    return this.#handles.has(id);
  }

  open(id: number): void {
    if (this.#handles.has(id)) throw new EvsError('ERR_EVS_BAD_HANDLE', `handle ${id} is already open`);
    if (this.#handles.size >= handlesPerNodeMax) throw new EvsError('ERR_EVS_TOO_MANY_HANDLES', `at most ${handlesPerNodeMax} handles per node`);
    this.#handles.set(id, new GroupSet());
  }

  close(id: number): void {
    this.#handles.delete(id);
  }

  join(id: number, groups: readonly Uint8Array[]): void {
    const set = this.#joined(id);
    // the handle checked the total before it asked; checked again so that no caller can pass the bound
    const added = groups.filter((g) => !set.has(g)).length;
    if (set.size + added > groupCountMax) throw new EvsError('ERR_EVS_TOO_MANY_GROUPS', `handle ${id} would join ${set.size + added} groups; at most ${groupCountMax}`);
    for (const g of groups) set.add(g);
  }

  leave(id: number, groups: readonly Uint8Array[]): void {
    const set = this.#joined(id);
    for (const g of groups) set.delete(g);
  }

  /** every open handle (a configuration change goes to all of them). */
  ids(): number[] {
    return [...this.#handles.keys()];
  }

  /** the handles that joined one of `groups`; a reused array, valid until the next call. */
  matching(groups: readonly Uint8Array[]): readonly number[] {
    const matched = this.#matched;
    matched.length = 0;
    for (const [id, joined] of this.#handles) if (groupsMatch(groups, joined)) matched.push(id);
    return matched;
  }

  #joined(id: number): GroupSet {
    const set = this.#handles.get(id);
    if (set === undefined) throw new EvsError('ERR_EVS_BAD_HANDLE', `handle ${id} is not open`);
    return set;
  }
}
