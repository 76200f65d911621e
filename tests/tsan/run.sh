#!/usr/bin/env bash
# Runs the concurrency tests of a ThreadSanitizer build (make tsan):
#
#   tests/tsan/run.sh BUILD_DIR
#
# Each case must exit 0 and print no ThreadSanitizer report; a report makes
# the binary exit 66 (TSAN_OPTIONS exitcode). Prints a line per case and
# fails at the end if any case failed. tsan.supp beside this file silences
# third-party code only. Two cases run at a time.
set -uo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
export TSAN_OPTIONS=${TSAN_OPTIONS:-"halt_on_error=0 exitcode=66 second_deadlock_stack=1 history_size=4 suppressions=$here/tsan.supp"}
logs=$build/tsan-logs
mkdir -p "$logs"

# run NAME ALLOW_RSS_BOUND COMMAND...: writes its summary line to
# $logs/NAME.result, and $logs/NAME.failed when it failed.
run() {
  local name=$1 allow_rss=$2
  shift 2
  local log=$logs/$name.log start=$SECONDS
  rm -f "$logs/$name.result" "$logs/$name.failed"
  echo "=== tsan $name: $*"
  "$@" >"$log" 2>&1
  local rc=$? races
  races=$(grep -c "WARNING: ThreadSanitizer" "$log")
  local verdict=ok
  if [ "$races" -ne 0 ] || [ $rc -eq 66 ]; then
    verdict="FAILED: $races ThreadSanitizer reports"
  elif [ $rc -ne 0 ]; then
    # server_test's LoadTest bounds RSS growth at 128 MiB; TSan's shadow
    # memory (several times the application's) breaks that bound although
    # nothing leaks. Such a failure alone, with no race, is not a TSan
    # finding; any other failure is.
    local failures rss
    failures=$(grep -c ": Failure$" "$log")
    rss=$(grep -c "^RSS grew from" "$log")
    if [ "$allow_rss" = yes ] && [ "$failures" -gt 0 ] && [ "$failures" -eq "$rss" ]; then
      verdict="ok (no race; the RSS bound failed under TSan's shadow memory, see log)"
    else
      verdict="FAILED: exit $rc"
    fi
  fi
  [[ $verdict == ok* ]] || touch "$logs/$name.failed"
  printf '%-22s %4ss  %s\n' "$name" $((SECONDS - start)) "$verdict" >"$logs/$name.result"
}

# Two at a time (the CI machine has two cores): the longest case beside
# all the others, one after another.
names=(storage_test db_test server_test server_load_test server_stop_test watch_server_test
       fetch_pagination audit_log)
run storage_test no "$build/storage/storage_test" &
run db_test no "$build/db/db_test"
run server_test no "$build/server/server_test" --gtest_filter='-ServerStopTest.*:*LoadTest*'
run server_load_test no "$build/server/server_test" --gtest_filter='*LoadTest*'
run server_stop_test no "$build/server/server_test" --gtest_filter='ServerStopTest.*'
run watch_server_test no "$build/tests/watch_server_test"
run fetch_pagination no "$build/tests/fetch_test" --gtest_filter='FetchPaginationTest.*'
run audit_log no "$build/audit/audit_test"
wait

failed=()
results=()
for name in "${names[@]}"; do
  if [ ! -f "$logs/$name.result" ] || [ -f "$logs/$name.failed" ]; then
    failed+=("$name")
    tail -80 "$logs/$name.log"
    grep -n -A30 "WARNING: ThreadSanitizer" "$logs/$name.log" | head -150
  fi
  [ -f "$logs/$name.result" ] && results+=("$(cat "$logs/$name.result")")
done

echo "=== tsan summary (logs in $logs)"
printf '%s\n' "${results[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "tsan: failed: ${failed[*]}" >&2
  exit 1
fi
