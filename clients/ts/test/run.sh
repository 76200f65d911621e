#!/usr/bin/env bash
# The TypeScript client's test (ctest ts_client_test): builds a copy of
# clients/ts in the build directory (npm ci from the committed lock, only
# when the lock changed; tsc), runs node's test runner against servers the
# tests start, and checks that `npm pack` makes a package that installs and
# type-checks in a project of its own.
# Usage: run.sh ORMDB_BINARY BUILD_DIR SOURCE_DIR
set -euo pipefail
export ORMDB_BINARY="$1"
BUILD="$2"
SRC="$3"
export ORMDB_TEST_DATA="$SRC/tests/data"
export ORMDB_TS_DOC="$SRC/docs/reference/typescript.md"
PKG="$BUILD/clients/ts"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "ts_client_test: $tool is not installed (make deps installs nodejs and npm)"; exit 1; }
done
major="$(node -p 'process.versions.node.split(".")[0]')"
[[ "$major" -ge 18 ]] || { echo "ts_client_test: node $major is too old (18 or newer)"; exit 1; }

echo "== a copy of clients/ts in $PKG"
mkdir -p "$PKG"
rm -rf "$PKG/src" "$PKG/test" "$PKG/bench" "$PKG/dist"
cp -r "$SRC/clients/ts/src" "$SRC/clients/ts/test" "$SRC/clients/ts/bench" "$PKG/"
cp "$SRC/clients/ts/package.json" "$SRC/clients/ts/package-lock.json" "$SRC/clients/ts/tsconfig.json" \
  "$SRC/clients/ts/README.md" "$PKG/"
cd "$PKG"
lock="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ "$(cat node_modules/.ormdb-lock 2>/dev/null)" != "$lock" ]]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund >"$WORK/npm-ci.log" 2>&1 \
    || { cat "$WORK/npm-ci.log"; echo "ts_client_test: npm ci failed (the npm registry is needed once)"; exit 1; }
  echo "$lock" >node_modules/.ormdb-lock
fi

echo "== tsc"
npx --no-install tsc -p tsconfig.json

echo "== node --test"
node --test test/*.test.mjs

echo "== npm pack, installed into a project of its own"
npm pack --silent --pack-destination "$WORK" >"$WORK/pack.log"
tarball="$WORK/$(tail -n1 "$WORK/pack.log")"
tar -tzf "$tarball" | sort >"$WORK/files"
grep -qx 'package/dist/index.js' "$WORK/files"
grep -qx 'package/dist/index.d.ts' "$WORK/files"
if grep -q 'package/\(src\|test\|node_modules\)/' "$WORK/files"; then
  echo "the package holds more than dist/:"; cat "$WORK/files"; exit 1
fi
mkdir "$WORK/app"
cd "$WORK/app"
echo '{"name": "app", "version": "1.0.0", "type": "module", "private": true}' >package.json
npm install --no-audit --no-fund --offline "$tarball" >"$WORK/install.log" 2>&1 \
  || { cat "$WORK/install.log"; exit 1; }
cat >usage.ts <<'TS'
import { connect, BudgetExceededError, type FetchResult } from "ormdb";

export async function names(url: string): Promise<string[]> {
  const db = await connect(url, { key: "k" });
  const users: FetchResult = await db.fetch("User { name }", {}, { maxEntities: 10 });
  const out = users.roots().map((u) => String(u.name));
  db.close();
  return out;
}
export const budget: string = new BudgetExceededError("x").code;
TS
"$PKG/node_modules/.bin/tsc" --strict --noEmit --module nodenext --moduleResolution nodenext \
  --target es2022 --types node --typeRoots "$PKG/node_modules/@types" usage.ts
node --input-type=module -e '
import * as ormdb from "ormdb";
for (const name of ["connect", "Database", "FetchResult", "OrmdbError", "SchemaError", "WatchEvents"]) {
  if (typeof ormdb[name] !== "function") throw new Error(`the installed package lacks ${name}`);
}'
echo "ts_client_test: ok"
