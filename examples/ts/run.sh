#!/usr/bin/env bash
# Runs the TypeScript blog page example (ctest example_ts_blog_page):
# builds the TypeScript client (clients/ts) in a copy of its own under the
# build directory (npm ci from its committed lock, only when the lock
# changed; tsc), generates the typed client with `ormdb codegen ts`, compiles
# the page with tsc --strict against both, starts `ormdb serve`, and checks
# what the page prints.
# Usage: run.sh ORMDB_BINARY BUILD_DIR SOURCE_DIR
set -euo pipefail
ORMDB="$1" BUILD="$2" SRC="$3"
PKG="$BUILD/examples/ts/ormdb-client"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== the TypeScript client in $PKG"
mkdir -p "$PKG"
rm -rf "$PKG/src" "$PKG/dist"
cp -r "$SRC/clients/ts/src" "$PKG/"
cp "$SRC/clients/ts/package.json" "$SRC/clients/ts/package-lock.json" "$SRC/clients/ts/tsconfig.json" \
  "$SRC/clients/ts/README.md" "$PKG/"
lock="$(sha256sum "$PKG/package-lock.json" | cut -d' ' -f1)"
if [[ "$(cat "$PKG/node_modules/.ormdb-lock" 2>/dev/null)" != "$lock" ]]; then
  (cd "$PKG" && npm ci --prefer-offline --no-audit --no-fund >"$WORK/npm-ci.log" 2>&1) \
    || { cat "$WORK/npm-ci.log"; echo "example_ts_blog_page: npm ci failed (the npm registry is needed once)"; exit 1; }
  echo "$lock" >"$PKG/node_modules/.ormdb-lock"
fi
(cd "$PKG" && node_modules/.bin/tsc -p tsconfig.json)

echo "== the generated client, and the page compiled with tsc --strict"
"$ORMDB" codegen ts "$SRC/tests/data/blog.ormdb" -o "$WORK" >/dev/null
cp "$SRC/examples/ts/blog_page.ts" "$WORK/"
echo '{"type": "module", "private": true}' >"$WORK/package.json"
mkdir "$WORK/node_modules"
ln -s "$PKG" "$WORK/node_modules/ormdb"
(cd "$WORK" && "$PKG/node_modules/.bin/tsc" --strict --target es2022 --module nodenext \
  --moduleResolution nodenext --types node --typeRoots "$PKG/node_modules/@types" --outDir js \
  blog_page.ts blog.ts)

echo "== the page against ormdb serve"
"$ORMDB" serve --data "$WORK/data" --listen tcp://127.0.0.1:0 --http-listen off >"$WORK/serve.log" 2>&1 &
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
out="$(cd "$WORK" && node js/blog_page.js "$URL")"
expected='[{"user":"Ann","posts":[{"title":"Second","at":"2024-02-05T10:00:00Z","tags":[],"comments":0},{"title":"Hello","at":"2024-02-01T10:00:00Z","tags":["db"],"comments":1}]}]'
[[ "$out" == "$expected" ]] || { echo "got:      $out"; echo "expected: $expected"; exit 1; }
echo "$out"
