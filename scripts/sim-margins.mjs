// How close runs came to invariant 16's bound: reads `npm run sim` run lines
// (files named on the command line, or stdin) and prints the distribution of
// converged / bound, the closest runs first.
//
//   npm run sim -- --seeds 5000 --base 1000000 > runs.txt; node scripts/sim-margins.mjs runs.txt
import { readFileSync } from 'node:fs';

const text = process.argv.length > 2 ? process.argv.slice(2).map((f) => readFileSync(f, 'utf8')).join('\n') : readFileSync(0, 'utf8');
const runs = [];
let never = 0;
for (const line of text.split('\n')) {
  if (/^seed=\d+ .* converged=no /.test(line)) never += 1;
  const converged = /converged=(\d+)ms\/(\d+)ms/.exec(line);
  if (converged === null) continue;
  runs.push({
    share: Number(converged[1]) / Number(converged[2]),
    seed: /^seed=(\d+)/.exec(line)?.[1] ?? '?',
    nodes: /nodes=(\d+)/.exec(line)?.[1] ?? '?',
    text: `${converged[1]} ms of ${converged[2]}`,
  });
}
runs.sort((a, b) => b.share - a.share);
const above = (share) => runs.filter((r) => r.share > share).length;
const median = runs.length === 0 ? NaN : runs[Math.floor(runs.length / 2)].share;
console.log(`${runs.length} converged runs, ${never} never converged; converged / bound: median ${median.toFixed(3)}, ` +
  `above 0.3: ${above(0.3)}, above 0.5: ${above(0.5)}, above 0.7: ${above(0.7)}, above 0.9: ${above(0.9)}, above 1: ${above(1)}`);
for (const r of runs.slice(0, 5)) console.log(`  ${r.share.toFixed(3)}  seed ${r.seed}, ${r.nodes} processors: ${r.text}`);
