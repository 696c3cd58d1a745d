#!/usr/bin/env bash
# scripts/suite-under-load.sh [RUNS] — issue 12's flake check: the whole suite
# (`npm test`: typecheck, lint, vitest) RUNS times in a row (default 10) while
# two CPU-bound processes run beside it on this 2-core machine. Stops at the
# first red run and says which; the burners are ended (by their PIDs) on exit.
# Prints one line per run (exit code, wall time, the vitest summary) and a last
# line: runs passed of runs.
#
# LOAD_CMD_1 / LOAD_CMD_2 replace the burners (default `node -e 'for (;;) {}'`)
# with other CPU-bound commands, e.g. two simulator ranges, so the load does
# useful work; each must be one process (its PID is what gets ended) and should
# outlast the runs. Their output goes to LOAD_LOG_1 / LOAD_LOG_2 (default /dev/null).
set -uo pipefail
RUNS=${1:-10}
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "suite-under-load: RUNS must be a positive integer (got '$RUNS')" >&2; exit 2; }
cd "$(dirname "$0")/.."
burners=()
spin="node -e 'for (;;) {}'"
for k in 1 2; do
  cmd_var="LOAD_CMD_$k"; log_var="LOAD_LOG_$k"
  bash -c "exec ${!cmd_var:-$spin}" > "${!log_var:-/dev/null}" 2>&1 & burners+=($!)
done
trap 'kill "${burners[@]}" 2>/dev/null' EXIT
echo "# $(date -Is): $RUNS runs of npm test beside 2 CPU-bound processes (pids ${burners[*]}: ${LOAD_CMD_1:-$spin}; ${LOAD_CMD_2:-$spin}), $(nproc) cores"
passed=0
for i in $(seq 1 "$RUNS"); do
  log=$(mktemp -t suite-run-XXXX.log)
  start=$(date +%s)
  npm test > "$log" 2>&1
  code=$?
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ +(Test Files|Tests) ' | tr -s ' ' | paste -sd ';' -)
  echo "run $i: exit $code, $(( $(date +%s) - start )) s, ${summary:-no vitest summary} (log $log)"
  if [ "$code" -ne 0 ]; then echo "# stopped: run $i failed; $passed of $RUNS passed"; exit 1; fi
  passed=$((passed + 1))
  rm -f "$log"
done
echo "# $passed of $RUNS runs passed"
