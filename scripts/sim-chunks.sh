#!/usr/bin/env bash
# scripts/sim-chunks.sh BASE COUNT CHUNK OUTDIR
#
# `npm run sim` over seeds BASE..BASE+COUNT-1 in chunks of CHUNK seeds (two
# jobs each), one file per chunk: OUTDIR/c-<first seed>.txt holds the commit,
# the run lines, the summary, the times and the exit code. A chunk whose file
# already ends well ("exit 0") is skipped, so the loop can be started again
# after a stop; a chunk cut off is run again whole. docs/SIM-RUNS.md records
# the chunks of the 100,000-seed count; `node scripts/sim-margins.mjs
# OUTDIR/c-*.txt` reads how close they came to the convergence bound.
set -u
if [ $# -ne 4 ]; then
  echo "usage: scripts/sim-chunks.sh BASE COUNT CHUNK OUTDIR" >&2
  exit 2
fi
base=$1; count=$2; chunk=$3; outdir=$(realpath -m "$4")
cd "$(dirname "$0")/.."
mkdir -p "$outdir"
TIMEFORMAT='wall %R s, user %U s, sys %S s'
end=$((base + count))
for ((b = base; b < end; b += chunk)); do
  out=$outdir/c-$b.txt
  [ -f "$out" ] && grep -q '^exit 0' "$out" && continue
  echo "# commit $(git rev-parse --short HEAD) seeds $b..$((b + chunk - 1)) started $(date -Is)" > "$out"
  { time node scripts/sim.mjs --seeds "$chunk" --base "$b" --jobs 2 ; } >> "$out" 2>&1
  echo "exit $?" >> "$out"
  echo "# ended $(date -Is)" >> "$out"
done
