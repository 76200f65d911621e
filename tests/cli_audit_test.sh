#!/usr/bin/env bash
# `ormdb audit verify` and `ormdb audit tail` on logs written by
# audit::AuditLog (through tests/audit_test_writer), then tampered with.
# Usage: cli_audit_test.sh ORMDB AUDIT_TEST_WRITER
source "$(dirname "$0")/cli_lib.sh"
WRITER="$2"
LOG="$WORK/audit"

"$WRITER" "$LOG" 5 || fail "the writer failed"
expect "verify a good log" 0 '^ok: 5 lines in 1 file
last hash: [0-9a-f]{64}$' -- "$ORMDB" audit verify "$LOG"
expect "tail -n 2" 0 '"rows":3.*
.*"rows":4' -- "$ORMDB" audit tail "$LOG" -n 2
[[ "$("$ORMDB" audit tail "$LOG" | wc -l)" -eq 5 ]] && ok || fail "tail prints every line of a short log"

# The chain is plain SHA-256 of each line's bytes: sha256sum agrees.
line1="$(sed -n 1p "$LOG/audit-000001.jsonl")"
prev2="$(sed -n 2p "$LOG/audit-000001.jsonl" | sed 's/.*"prev":"\([0-9a-f]*\)".*/\1/')"
[[ "$(printf '%s' "$line1" | sha256sum | cut -d' ' -f1)" == "$prev2" ]] && ok ||
  fail "line 2's prev is not sha256sum of line 1"
[[ "$line1" == *'"prev":"0000000000000000000000000000000000000000000000000000000000000000"}' ]] &&
  ok || fail "the first line's prev is 64 zeros: $line1"

# Altering a line breaks the chain at the line after it.
cp -r "$LOG" "$WORK/altered"
sed -i '2s/"rows":1,/"rows":100,/' "$WORK/altered/audit-000001.jsonl"
expect "verify an altered log" 1 \
  'line 3 of audit-000001.jsonl: chain broken \(a line was removed, altered or reordered before it\)' \
  -- "$ORMDB" audit verify "$WORK/altered"

# So does removing one.
cp -r "$LOG" "$WORK/removed"
sed -i '4d' "$WORK/removed/audit-000001.jsonl"
expect "verify a log with a line removed" 1 'line 4 of audit-000001.jsonl: chain broken' \
  -- "$ORMDB" audit verify "$WORK/removed"

# And a line that is not JSON is named as such.
cp -r "$LOG" "$WORK/garbled"
sed -i '5s/^{/[/' "$WORK/garbled/audit-000001.jsonl"
expect "verify a garbled line" 1 'line 5 of audit-000001.jsonl: not JSON' \
  -- "$ORMDB" audit verify "$WORK/garbled"

# Rotation: the chain runs across files; a missing middle file is named.
"$WRITER" "$WORK/rotated" 10 800 || fail "the writer failed"
expect "verify a rotated log" 0 '^ok: 10 lines in [2-9] files' \
  -- "$ORMDB" audit verify "$WORK/rotated"
"$WRITER" "$WORK/rotated" 2 800 || fail "reopening the log failed"
expect "reopened log still verifies" 0 '^ok: 12 lines in ' -- "$ORMDB" audit verify "$WORK/rotated"
expect "tail across files" 0 '"rows":9.*
.*"rows":0.*
.*"rows":1' -- "$ORMDB" audit tail "$WORK/rotated" -n 3
rm "$WORK/rotated/audit-000002.jsonl"
expect "verify with a missing file" 1 \
  'audit-000002.jsonl is missing \(audit-000001.jsonl is followed by audit-000003.jsonl\)' \
  -- "$ORMDB" audit verify "$WORK/rotated"

# Usage and errors.
expect "audit alone" 2 'audit needs verify or tail' -- "$ORMDB" audit
expect "verify without DIR" 2 'usage: ormdb audit verify DIR' -- "$ORMDB" audit verify
expect "tail with a bad -n" 2 '-n needs a number of lines' -- "$ORMDB" audit tail "$LOG" -n x
expect "unknown subcommand" 2 'unknown audit command check' -- "$ORMDB" audit check "$LOG"
expect "no such directory" 1 'error: NOT_FOUND: audit log: no directory' \
  -- "$ORMDB" audit verify "$WORK/nope"
expect "help audit" 0 'ormdb audit verify DIR' -- "$ORMDB" help audit

finish cli_audit_test
