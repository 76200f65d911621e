# Shared by the CLI end-to-end tests: counters, a scratch directory and
# assertions. Source it with the ormdb binary as $1; end with `finish NAME`.
ORMDB="$1"
DATA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/data" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

expect() {  # expect NAME WANT_STATUS WANT_OUTPUT_REGEX -- COMMAND...
  local name="$1" want_status="$2" want_re="$3"
  shift 4
  local out status
  out="$("$@" 2>&1)"
  status=$?
  if [[ $status -eq $want_status && "$out" =~ $want_re ]]; then
    ok
  else
    fail "$name: status $status (want $want_status), output: $out"
  fi
}

same() {  # same NAME EXPECTED_FILE ACTUAL_FILE
  if cmp -s "$2" "$3"; then ok; else fail "$1: differs:"; diff "$2" "$3" | head -20; fi
}

finish() {  # finish NAME: prints the counts; the exit status says whether all passed
  echo "$1: $passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}
