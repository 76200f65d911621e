#!/usr/bin/env bash
# Runs every fuzz target of a libFuzzer build for a bounded time (make fuzz).
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# Each target starts from its seeds (tests/fuzz/corpus/NAME) and saved
# regressions (tests/fuzz/regressions/NAME) plus what earlier runs in this
# build directory found (BUILD_DIR/fuzz-corpus/NAME, where new inputs are
# written). A crash, a leak, a timeout or an out-of-memory leaves its input
# in BUILD_DIR/fuzz-artifacts/ and fails the run after the other targets
# have run. Prints executions per target.
#
# Environment: FUZZ_JOBS (targets fuzzed at once, default 2: one per core of
# the CI machine; each target still gets SECONDS of its own), FUZZ_RSS_MB
# (default 2048), FUZZ_TIMEOUT (seconds per input, default 10), FUZZ_MAX_LEN
# (bytes, default 65536).
set -uo pipefail

build=${1:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(frame schema query json mutation import); fi
src=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd)
rss=${FUZZ_RSS_MB:-2048}
timeout=${FUZZ_TIMEOUT:-10}
max_len=${FUZZ_MAX_LEN:-65536}
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

# Sanitizer options of the run: abort on the first report with a stack
# trace; UBSan prints its stack too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

jobs=${FUZZ_JOBS:-2}
results=$build/fuzz-results
rm -rf "$results"
mkdir -p "$results"

# Fuzzes one target; writes its summary line to $results/NAME.ok or
# $results/NAME.FAILED.
fuzz_one() {
  local t=$1
  local bin=$build/tests/fuzz/${t}_fuzz
  local work=$build/fuzz-corpus/$t
  mkdir -p "$work"
  local dirs=("$work" "$src/corpus/$t")
  [ -d "$src/regressions/$t" ] && dirs+=("$src/regressions/$t")
  local log=$build/fuzz-$t.log
  echo "=== fuzz $t: ${seconds}s"
  local start rc elapsed execs rate units result
  start=$(date +%s)
  "$bin" -max_total_time="$seconds" -rss_limit_mb="$rss" -timeout="$timeout" \
    -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
    "${dirs[@]}" >"$log" 2>&1
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(ls "$work" | wc -l)
  if [ $rc -ne 0 ]; then
    result="FAILED"
  else
    result="ok"
  fi
  printf '%-10s %10s execs %8s exec/s %6s corpus %5ss  %s\n' \
    "$t" "${execs:-?}" "${rate:-?}" "$units" "$elapsed" \
    "$result$([ $rc -ne 0 ] && echo " (exit $rc)")" >"$results/$t.$result"
}

for t in "${targets[@]}"; do
  if [ ! -x "$build/tests/fuzz/${t}_fuzz" ]; then
    echo "fuzz: $build/tests/fuzz/${t}_fuzz is missing (build the fuzz_targets target)" >&2
    exit 2
  fi
done
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait

failed=()
summary=()
for t in "${targets[@]}"; do
  if [ -f "$results/$t.ok" ]; then
    summary+=("$(cat "$results/$t.ok")")
  else
    failed+=("$t")
    [ -f "$results/$t.FAILED" ] && summary+=("$(cat "$results/$t.FAILED")")
    log=$build/fuzz-$t.log
    echo "--- $t failed; the end of its log ($log):"
    grep -n "ERROR\|FUZZ_CHECK\|SUMMARY\|Test unit written\|==.*==" "$log" | head -20
    tail -60 "$log"
  fi
done

echo "=== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: crashes in: ${failed[*]}; inputs in $artifacts" >&2
  exit 1
fi
