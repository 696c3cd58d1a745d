import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // beforeAll hooks start whole clusters and wait up to 15 s for a ring (startRing): the 10 s default
    // timed out under load (backpressure, cryptoThreads 1, at load average 30)
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
