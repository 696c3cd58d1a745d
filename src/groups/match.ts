/**
 * Group names and group matching.
 *
 * On the wire and inside the core a group name is bytes (1..groupNameBytesMax)
 * and two names are equal iff their bytes are equal, as corosync's
 * `group_matches` compares length + bytes. The application API speaks
 * strings; `encodeGroupName` turns one into its UTF-8 bytes at that boundary.
 * Matching never decodes bytes back to strings: UTF-8 decoding is lossy for
 * invalid sequences (every one becomes U+FFFD), so two different byte names
 * could compare equal as strings.
 */
import { groupCountMax, groupNameBytesMax } from '../limits.ts';
import { GroupError } from '../errors.ts';

const utf8 = new TextEncoder();

/** UTF-8 bytes of an application group name; throws GroupError when empty or too long. */
export function encodeGroupName(name: string): Uint8Array {
  const bytes = utf8.encode(name);
  checkGroupName(bytes);
  return bytes;
}

/** Encode a list of names; throws GroupError (too many, empty, too long). */
export function encodeGroupNames(names: readonly string[]): Uint8Array[] {
  if (names.length > groupCountMax) {
    throw new GroupError('ERR_EVS_TOO_MANY_GROUPS', `${names.length} groups; at most ${groupCountMax}`);
  }
  return names.map(encodeGroupName);
}

/** Throws GroupError unless 1 <= bytes.length <= groupNameBytesMax. */
export function checkGroupName(bytes: Uint8Array): void {
  if (bytes.length === 0) throw new GroupError('ERR_EVS_GROUP_NAME_EMPTY', 'a group name must not be empty');
  if (bytes.length > groupNameBytesMax) {
    throw new GroupError('ERR_EVS_GROUP_NAME_TOO_LONG', `group name of ${bytes.length} bytes; at most ${groupNameBytesMax}`);
  }
}

/**
 * A map key that is equal for two names iff their bytes are equal: one UTF-16
 * code unit per byte (0..255). Injective and cheap; not meant for display.
 */
export function groupKey(bytes: Uint8Array): string {
  let key = '';
  for (let i = 0; i < bytes.length; i++) key += String.fromCharCode(bytes[i]!);
  return key;
}

/** The groups one handle joined, compared as bytes. */
export class GroupSet {
  readonly #names = new Map<string, Uint8Array>();

  constructor(names: Iterable<string | Uint8Array> = []) {
    for (const name of names) this.add(name);
  }

  /** true when the name was not there yet. */
  add(name: string | Uint8Array): boolean {
    const bytes = typeof name === 'string' ? encodeGroupName(name) : name;
    checkGroupName(bytes);
    const key = groupKey(bytes);
    if (this.#names.has(key)) return false;
    this.#names.set(key, bytes.slice());
    return true;
  }

  /** true when the name was there. */
  delete(name: string | Uint8Array): boolean {
    const bytes = typeof name === 'string' ? utf8.encode(name) : name;
    return this.#names.delete(groupKey(bytes));
  }

  has(name: string | Uint8Array): boolean {
    const bytes = typeof name === 'string' ? utf8.encode(name) : name;
    return this.#names.has(groupKey(bytes));
  }

  get size(): number {
    return this.#names.size;
  }

  /** the joined names as bytes (copies), e.g. for `mcastJoined`. */
  names(): Uint8Array[] {
    return [...this.#names.values()].map((b) => b.slice());
  }
}

/**
 * Does a handle that joined `joined` receive a message sent to `messageGroups`?
 * True iff at least one message group equals (bytewise) a joined group. A
 * message with zero groups matches nobody (corosync quirk: `evs_mcast_joined`
 * on a handle that joined nothing sends such a message).
 */
export function groupsMatch(messageGroups: readonly Uint8Array[], joined: GroupSet): boolean {
  if (joined.size === 0) return false;
  for (const g of messageGroups) {
    if (joined.has(g)) return true;
  }
  return false;
}
