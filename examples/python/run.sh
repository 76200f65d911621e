#!/usr/bin/env bash
# Runs the blog page example (ctest codegen_python_example): generates the
# client, applies the blog schema, checks the page with mypy and runs it.
# Usage: run.sh PYTHON ORMDB_BINARY BUILD_DIR SOURCE_DIR
set -euo pipefail
PYTHON="$1" ORMDB="$2" BUILD="$3" SRC="$4"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export PYTHONDONTWRITEBYTECODE=1
"$ORMDB" codegen python "$SRC/tests/data/blog.ormdb" -o "$WORK" >/dev/null
cp "$SRC/examples/python/blog_page.py" "$WORK/"
"$ORMDB" --data "$WORK/data" schema apply "$SRC/tests/data/blog.ormdb" >/dev/null
(cd "$WORK" && MYPYPATH="$BUILD/python:$WORK" "$PYTHON" -m mypy --strict --cache-dir="$WORK/mc" blog_page.py)
out="$(cd "$WORK" && PYTHONPATH="$BUILD/python:$WORK" "$PYTHON" blog_page.py "$WORK/data")"
expected='[{"user": "Ann", "posts": [{"title": "Second", "at": "2024-02-05T10:00:00Z", "tags": [], "comments": 0}, {"title": "Hello", "at": "2024-02-01T10:00:00Z", "tags": ["db"], "comments": 1}]}]'
[[ "$out" == "$expected" ]] || { echo "got:      $out"; echo "expected: $expected"; exit 1; }
echo "$out"
