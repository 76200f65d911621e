#!/usr/bin/env bash
# The generated TypeScript client (ctest codegen_ts_test): generates it from
# tests/data/blog.ormdb, then
#   - typed_ok.ts must compile with tsc --strict (its row types asserted),
#   - typed_fail.ts must fail with exactly the diagnostics of
#     typed_fail.expected (a field that does not exist, a string compared
#     with a number, ...), not with any error,
#   - runtime_test.ts, compiled and run by node, fetches through the
#     generated builder via `ormdb query` and compares with the text form.
# tsc comes from tests/codegen/ts (npm ci, pinned by package-lock.json).
# Usage: run_ts.sh ORMDB_BINARY SOURCE_DIR
set -euo pipefail
ORMDB="$1"
SRC="$2"
TS="$SRC/tests/codegen/ts"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [[ ! -x "$TS/node_modules/.bin/tsc" || "$TS/package-lock.json" -nt "$TS/node_modules/.package-lock.json" ]]; then
  (cd "$TS" && npm ci --no-audit --no-fund --loglevel=error)
fi
"$ORMDB" codegen ts "$SRC/tests/data/blog.ormdb" -o "$WORK" >/dev/null
cp "$TS/typed_ok.ts" "$TS/typed_fail.ts" "$TS/runtime_test.ts" "$WORK/"
ln -s "$TS/node_modules" "$WORK/node_modules"
echo '{"type": "module"}' >"$WORK/package.json"
cd "$WORK"
TSC=(node_modules/.bin/tsc --strict --target es2022 --module nodenext --moduleResolution nodenext)

echo "== typed_ok.ts compiles"
"${TSC[@]}" --noEmit typed_ok.ts blog.ts

echo "== typed_fail.ts fails with the expected diagnostics"
if "${TSC[@]}" --noEmit typed_fail.ts >tsc.out 2>&1; then
  echo "typed_fail.ts compiled"; exit 1
fi
grep '^typed_fail' tsc.out >diagnostics || true
if ! diff -u "$TS/typed_fail.expected" diagnostics; then
  cat tsc.out; exit 1
fi

echo "== runtime_test.ts on a database through the command line"
"${TSC[@]}" --outDir js runtime_test.ts blog.ts
"$ORMDB" --data data schema apply "$SRC/tests/data/blog.ormdb" >/dev/null
sed -n '/```json file=seed.json/,/^```$/p' "$SRC/docs/reference/queries.md" | sed '1d;$d' >seed.json
"$ORMDB" --data data mutate seed.json >/dev/null
node js/runtime_test.js "$ORMDB" data
echo "codegen_ts_test: ok"
