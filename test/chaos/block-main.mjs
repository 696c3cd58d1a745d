// Preloaded into each chaos node (`node --import`): SIGUSR2 busy-waits the
// main thread for the milliseconds written in $CHAOS_BLOCK_FILE — an
// application that hogs its event loop. The node's workers run on; its
// deliveries wait in the deliver ring until the loop is free again.
import { readFileSync } from 'node:fs';

const file = process.env.CHAOS_BLOCK_FILE;
if (file !== undefined) {
  process.on('SIGUSR2', () => {
    let ms = 0;
    try {
      ms = Number(readFileSync(file, 'utf8'));
    } catch {
      return;
    }
    const until = performance.now() + ms;
    while (performance.now() < until) { /* blocked */ }
    process.stderr.write(`[chaos] main thread blocked ${ms} ms\n`);
  });
}
