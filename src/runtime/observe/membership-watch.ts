/**
 * The node's regular configuration as the main thread last heard of it, and
 * `waitForMembers` on top of it: a wait resolves when a configuration change
 * reported by the protocol worker (observe channel) contains every id asked
 * for. No polling: each change checks the waits once.
 *
 * Reports may arrive out of order with the answer of a control call (two
 * ports): a configuration is taken only if its ring seq is newer, and ring
 * seqs of regular configurations only grow.
 */
import { EvsError } from '../../errors.ts';
import type { Membership } from '../../types.ts';

interface Waiter {
  readonly ids: readonly number[];
  readonly resolve: (membership: Membership) => void;
  readonly reject: (error: EvsError) => void;
}

export interface WaitForMembersOptions {
  /** gives up with ERR_EVS_ABORTED. */
  readonly signal?: AbortSignal;
  /** gives up with ERR_EVS_TIMEOUT after this many milliseconds. */
  readonly timeoutMs?: number;
}

export class MembershipWatch {
  readonly #nodeId: number;
  #current: Membership | null = null;
  readonly #waiters = new Set<Waiter>();
  #closed: EvsError | null = null;

  constructor(nodeId: number) {
    this.#nodeId = nodeId;
  }

  get current(): Membership | null {
    return this.#current;
  }

  /** a regular configuration (from the observe channel or a membership() answer). */
  update(ringId: Membership['ringId'], members: readonly number[]): void {
    const c = this.#current;
    if (c !== null && ringId.seq <= c.ringId.seq) return;
    const membership: Membership = { localNodeId: this.#nodeId, ringId, members: [...members] };
    this.#current = membership;
    for (const w of this.#waiters) {
      if (w.ids.every((id) => membership.members.includes(id))) w.resolve(membership);
    }
  }

  wait(ids: readonly number[], options: WaitForMembersOptions = {}): Promise<Membership> {
    if (!Array.isArray(ids) || ids.some((id) => !Number.isInteger(id) || id < 1 || id > 0xffffffff)) {
      return Promise.reject(new EvsError('ERR_EVS_INVALID_ARGUMENT', 'ids must be an array of node ids (integers 1..2^32-1)'));
    }
    const { signal, timeoutMs } = options;
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
      return Promise.reject(new EvsError('ERR_EVS_INVALID_ARGUMENT', `timeoutMs must be a number >= 0 (got ${String(timeoutMs)})`));
    }
    if (this.#closed !== null) return Promise.reject(this.#closed);
    if (signal?.aborted === true) return Promise.reject(aborted(signal));
    const c = this.#current;
    if (c !== null && ids.every((id) => c.members.includes(id))) return Promise.resolve(c);
    return new Promise<Membership>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => done(() => reject(aborted(signal as AbortSignal)));
      const done = (settle: () => void): void => {
        this.#waiters.delete(waiter);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      const waiter: Waiter = {
        ids: [...ids],
        resolve: (m) => done(() => resolve(m)),
        reject: (e) => done(() => reject(e)),
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => waiter.reject(new EvsError('ERR_EVS_TIMEOUT',
          `node ${this.#nodeId}: members ${JSON.stringify(ids)} not all in the ring after ${timeoutMs} ms (last: ${JSON.stringify(this.#current?.members ?? [])})`)), timeoutMs);
      }
    });
  }

  /** the node stopped or died: every wait rejects with `error`, and later ones at once. */
  close(error: EvsError): void {
    this.#closed ??= error;
    for (const w of [...this.#waiters]) w.reject(error);
  }
}

function aborted(signal: AbortSignal): EvsError {
  return new EvsError('ERR_EVS_ABORTED', 'waitForMembers was aborted', { cause: signal.reason });
}
