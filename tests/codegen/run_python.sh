#!/usr/bin/env bash
# The generated Python client (ctest codegen_python_test): generates it from
# tests/data/blog.ormdb as module `blog`, then
#   - mypy --strict passes on typed_ok.py,
#   - mypy fails on typed_fail.py with exactly the errors of
#     typed_fail.expected (a field that does not exist, a string compared
#     with a number, ...), not with any error,
#   - pytest runs test_generated.py: typed fetches against the text form,
#     mutations and batches, on an embedded database.
# Usage: run_python.sh PYTHON ORMDB_BINARY BUILD_DIR SOURCE_DIR
set -euo pipefail
PYTHON="$1"
ORMDB="$2"
BUILD="$3"
SRC="$4"
HERE="$SRC/tests/codegen/python"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export PYTHONDONTWRITEBYTECODE=1 ORMDB_SOURCE_DIR="$SRC"
"$ORMDB" codegen python "$SRC/tests/data/blog.ormdb" -o "$WORK" >/dev/null
cp "$HERE/typed_ok.py" "$HERE/typed_fail.py" "$WORK/"
cd "$WORK"
MYPY=(env MYPYPATH="$BUILD/python:$WORK" "$PYTHON" -m mypy --strict --cache-dir="$WORK/mypy-cache")

echo "== mypy --strict: blog.py and typed_ok.py"
"${MYPY[@]}" blog.py typed_ok.py

echo "== mypy: typed_fail.py fails with the expected errors"
if "${MYPY[@]}" typed_fail.py >mypy.out 2>&1; then
  echo "typed_fail.py passed mypy"; exit 1
fi
grep '^typed_fail' mypy.out >errors || true
if ! diff -u "$HERE/typed_fail.expected" errors; then
  cat mypy.out; exit 1
fi

echo "== pytest: the generated client on an embedded database"
PYTHONPATH="$BUILD/python:$WORK" "$PYTHON" -m pytest -q -p no:cacheprovider \
  --basetemp="$WORK/pytest" "$HERE/test_generated.py"
echo "codegen_python_test: ok"
