#!/usr/bin/env bash
# End-to-end: the storage commands of the ormdb CLI, their output and exit codes.
set -u
source "$(dirname "$0")/cli_lib.sh"

expect "read command on a missing directory" 1 "error: NOT_FOUND: data directory .*/missing does not exist" \
  -- "$ORMDB" check --data "$WORK/missing"
[[ ! -e "$WORK/missing" ]] && ok || fail "check created the directory"

expect "stats creates and reports version 0" 0 '"current_version":0' -- "$ORMDB" --data "$WORK/d" stats
expect "options after the command" 0 '"current_version":0' -- "$ORMDB" stats --data "$WORK/d"
expect "check on a fresh store" 0 "^ok: version 0" -- "$ORMDB" check --data "$WORK/d"
expect "vacuum on a fresh store" 0 '"horizon":0' -- "$ORMDB" vacuum --data "$WORK/d"
expect "unknown command is a usage error" 2 "unknown command frobnicate" -- "$ORMDB" frobnicate --data "$WORK/d"
expect "unknown option is a usage error" 2 "unknown option --bogus" -- "$ORMDB" stats --bogus
expect "no command is a usage error" 2 "no command given" -- "$ORMDB" --data "$WORK/d"

mkdir -p "$WORK/garbage"
head -c 65536 /dev/urandom > "$WORK/garbage/data.mdb"
expect "garbage data file is refused" 1 "error: INTERNAL: .*not an ormdb data file" -- "$ORMDB" check --data "$WORK/garbage"

finish cli_storage_test
