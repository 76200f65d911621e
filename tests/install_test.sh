#!/usr/bin/env bash
# `cmake --install` into a throwaway prefix, then an application outside the
# tree (examples/outside) finds the package with find_package(ormdb), links
# ormdb::ormdb, and runs; the installed `ormdb` binary answers too.
set -euo pipefail
BUILD="$1"
SRC="$2"
APP_FLAGS="${3:-}"  # compile and link flags the application needs (a sanitized build's)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cmake --install "$BUILD" --prefix "$WORK/prefix" >"$WORK/install.log"
test -f "$WORK/prefix/include/ormdb/database.h"
test -x "$WORK/prefix/bin/ormdb"
# Only the public headers are installed.
extra="$(find "$WORK/prefix/include" -type f ! -path '*/include/ormdb/*' | head -1)"
if [[ -n "$extra" ]]; then echo "FAIL: a non-public header was installed: $extra"; exit 1; fi
cmake -S "$SRC/examples/outside" -B "$WORK/app" -DCMAKE_PREFIX_PATH="$WORK/prefix" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="$APP_FLAGS" -DCMAKE_EXE_LINKER_FLAGS="$APP_FLAGS" \
  >"$WORK/configure.log" 2>&1 || { cat "$WORK/configure.log"; exit 1; }
cmake --build "$WORK/app" -j2 >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
out="$("$WORK/app/outside" "$WORK/data")"
want='"data":[{"id":1,"text":"from outside"}]'
if [[ "$out" != *"$want"* ]]; then
  echo "FAIL: the outside application printed: $out"
  exit 1
fi
"$WORK/prefix/bin/ormdb" --data "$WORK/data" query 'Note { text }' --format json | grep -q 'from outside'
echo "install_test: ok"
