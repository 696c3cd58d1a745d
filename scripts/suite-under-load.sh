#!/usr/bin/env bash
# scripts/suite-under-load.sh [RUNS] — issue 12's flake check: the whole suite
# (`npm test`: typecheck, lint, vitest) RUNS times in a row (default 10) while
# two CPU-bound processes run beside it on this 2-core machine. Stops at the
# first red run and says which; the burners are ended (by their PIDs) on exit.
# Prints one line per run (exit code, wall time, the vitest summary) and a last
# line: runs passed of runs.
set -uo pipefail
RUNS=${1:-10}
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "suite-under-load: RUNS must be a positive integer (got '$RUNS')" >&2; exit 2; }
cd "$(dirname "$0")/.."
burners=()
for _ in 1 2; do node -e 'for (;;) {}' & burners+=($!); done
trap 'kill "${burners[@]}" 2>/dev/null' EXIT
echo "# $(date -Is): $RUNS runs of npm test beside 2 CPU burners (pids ${burners[*]}), $(nproc) cores"
passed=0
for i in $(seq 1 "$RUNS"); do
  log=$(mktemp -t suite-run-XXXX.log)
  start=$(date +%s)
  npm test > "$log" 2>&1
  code=$?
  summary=$(grep -E '^ +(Test Files|Tests) ' "$log" | sed 's/\x1b\[[0-9;]*m//g' | tr -s ' ' | paste -sd ';' -)
  echo "run $i: exit $code, $(( $(date +%s) - start )) s, ${summary:-no vitest summary} (log $log)"
  if [ "$code" -ne 0 ]; then echo "# stopped: run $i failed; $passed of $RUNS passed"; exit 1; fi
  passed=$((passed + 1))
  rm -f "$log"
done
echo "# $passed of $RUNS runs passed"
