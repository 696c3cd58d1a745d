/**
 * Where CryptoPool's threads start: workers/crypto-task.ts from sources, its
 * .js when built. Resolved here, in the worker layer, and handed to
 * CryptoPool.create, so the crypto layer knows nothing of files or modes.
 */
import type { PoolThreadEntry } from '../crypto/crypto-pool.ts';
import { poolThreadEntry } from './spawn.ts';

const cryptoTaskUrl = new URL('../../../workers/crypto-task.ts', import.meta.url);

export function cryptoTaskEntry(): PoolThreadEntry {
  return poolThreadEntry(cryptoTaskUrl);
}
