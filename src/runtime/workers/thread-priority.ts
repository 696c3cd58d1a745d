/**
 * Runs the calling worker thread at a lower OS priority (a higher nice value)
 * than the main thread, so that on a busy machine the scheduler prefers the
 * application's event loop. Linux only: a thread finds its own id through
 * /proc/thread-self, and setpriority(PRIO_PROCESS, tid) changes that one
 * thread. Anywhere else, or when the kernel refuses, nothing changes.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** this thread's kernel id, or null where /proc/thread-self does not exist. */
export function threadId(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/**
 * Adds `niceDelta` to this thread's nice value (clamped to 19). Answers the
 * nice value in force afterwards, or null when it could not be changed.
 */
export function lowerThreadPriority(niceDelta: number): number | null {
  if (niceDelta <= 0) return null;
  const tid = threadId();
  if (tid === null) return null;
  try {
    const nice = Math.min(19, getPriority(tid) + niceDelta);
    setPriority(tid, nice);
    return getPriority(tid);
  } catch {
    return null;
  }
}
