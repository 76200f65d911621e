#!/usr/bin/env bash
# End-to-end: the storage commands of the ormdb CLI, their output and exit codes.
set -u
source "$(dirname "$0")/cli_lib.sh"

# Read commands, and vacuum, on a missing data directory: NOT_FOUND, exit 1,
# and the directory (or its parent) is not created (DESIGN.md §9).
read_commands=("query" "A { n }" / "explain" "A { n }" / "get" "A" "1" / "export" "A" / "stats" /
  "check" / "schema" "show" / "schema" "history" / "watch" / "vacuum" /)
cmd=()
for word in "${read_commands[@]}"; do
  if [[ "$word" != / ]]; then
    cmd+=("$word")
    continue
  fi
  expect "${cmd[*]} on a missing directory" 1 "^error: NOT_FOUND: data directory .*/missing/d does not exist$" \
    -- timeout 10 "$ORMDB" --data "$WORK/missing/d" "${cmd[@]}"
  [[ ! -e "$WORK/missing" ]] && ok || fail "${cmd[*]} created the directory"
  expect "${cmd[*]} on an empty directory" 1 "^error: NOT_FOUND: data directory .*/empty holds no ormdb database$" \
    -- bash -c 'mkdir -p "$0/empty" && timeout 10 "$1" --data "$0/empty" "${@:2}"' "$WORK" "$ORMDB" "${cmd[@]}"
  [[ -z "$(ls -A "$WORK/empty")" ]] && ok || fail "${cmd[*]} wrote into an empty directory: $(ls -A "$WORK/empty")"
  cmd=()
done

: >"$WORK/empty.ormdb"
# An empty schema file needs consent (it would drop every entity).
expect "schema apply creates the directory" 0 'applied: schema version 1 at commit version 1' \
  -- "$ORMDB" --data "$WORK/d" schema apply "$WORK/empty.ormdb" --allow-destructive
expect "stats reports version 1" 0 '"current_version":1' -- "$ORMDB" --data "$WORK/d" stats
expect "options after the command" 0 '"current_version":1' -- "$ORMDB" stats --data "$WORK/d"
expect "check on a fresh store" 0 "^ok: version 1" -- "$ORMDB" check --data "$WORK/d"
expect "vacuum on a fresh store" 0 '"horizon":0' -- "$ORMDB" vacuum --data "$WORK/d"
expect "unknown command is a usage error" 2 "unknown command frobnicate" -- "$ORMDB" frobnicate --data "$WORK/d"
expect "unknown option is a usage error" 2 "unknown option --bogus" -- "$ORMDB" stats --bogus
expect "no command is a usage error" 2 "no command given" -- "$ORMDB" --data "$WORK/d"

mkdir -p "$WORK/garbage"
head -c 65536 /dev/urandom > "$WORK/garbage/data.mdb"
expect "garbage data file is refused" 1 "error: INTERNAL: .*not an ormdb data file" -- "$ORMDB" check --data "$WORK/garbage"

finish cli_storage_test
