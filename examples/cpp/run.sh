#!/usr/bin/env bash
# Runs the C++ blog page example (ctest example_cpp_blog_page) twice: on a
# data directory in its own process, and against an `ormdb serve` started
# here; both must print the page.
# Usage: run.sh ORMDB_BINARY BLOG_PAGE_BINARY SOURCE_DIR
set -euo pipefail
ORMDB="$1" PAGE="$2" SRC="$3"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
expected='[{"user":"Ann","posts":[{"title":"Second","at":"2024-02-05T10:00:00Z","tags":[],"comments":0},{"title":"Hello","at":"2024-02-01T10:00:00Z","tags":["db"],"comments":1}]}]'
check() {
  [[ "$2" == "$expected" ]] || { echo "$1 got:  $2"; echo "expected: $expected"; exit 1; }
  echo "$1: $2"
}

# Embedded: the database in the example's process.
"$ORMDB" --data "$WORK/embedded" schema apply "$SRC/tests/data/blog.ormdb" >/dev/null
check embedded "$("$PAGE" --data "$WORK/embedded")"

# Remote: the same code through Database::Connect.
"$ORMDB" serve --data "$WORK/served" --listen tcp://127.0.0.1:0 --http-listen off >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
URL=""
for _ in $(seq 200); do
  URL="$(sed -n 's/^ormdb serving .* on //p' "$WORK/serve.log")"
  [[ -n "$URL" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.05
done
[[ -n "$URL" ]] || { cat "$WORK/serve.log"; echo "the server did not start"; exit 1; }
"$ORMDB" --connect "$URL" schema apply "$SRC/tests/data/blog.ormdb" >/dev/null
check remote "$("$PAGE" --connect "$URL")"
