#!/usr/bin/env bash
# The generated Python client (ctest codegen_python_test): generates it from
# tests/data/blog.ormdb as module `blog`, then
#   - mypy --strict passes on typed_ok.py,
#   - mypy fails on typed_fail.py with exactly the errors of
#     typed_fail.expected (a field that does not exist, a string compared
#     with a number, ...), not with any error,
#   - with the named queries of blog_queries.ormdbq (--queries), mypy
#     passes on queries_ok.py and fails on queries_fail.py with exactly the
#     errors of queries_fail.expected (reading a field not selected, ...),
#   - pytest runs test_generated.py: typed fetches and named queries against
#     the text form, mutations and batches, on an embedded database.
# Each mypy run prints its time: Debian's mypy 1.0 is slow on the builder's
# recursive TypedDicts (about 13 s for typed_ok.py), fast on the named
# queries' flat ones (about 1 s for blog.py and queries_ok.py).
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
"$ORMDB" codegen python "$SRC/tests/data/blog.ormdb" --queries "$HERE/blog_queries.ormdbq" \
  -o "$WORK" >/dev/null
cp "$HERE/typed_ok.py" "$HERE/typed_fail.py" "$HERE/queries_ok.py" "$HERE/queries_fail.py" "$WORK/"
cd "$WORK"
MYPY=(env MYPYPATH="$BUILD/python:$WORK" "$PYTHON" -m mypy --strict --cache-dir="$WORK/mypy-cache")

# must_fail NAME: mypy fails on NAME.py with exactly NAME.expected.
must_fail() {
  if "${MYPY[@]}" "$1.py" >mypy.out 2>&1; then
    echo "$1.py passed mypy"; exit 1
  fi
  grep "^$1" mypy.out >errors || true
  if ! diff -u "$HERE/$1.expected" errors; then
    cat mypy.out; exit 1
  fi
}
TIMEFORMAT='   (%R s)'

echo "== mypy --strict: blog.py and queries_ok.py (named queries)"
time "${MYPY[@]}" blog.py queries_ok.py

echo "== mypy: queries_fail.py fails with the expected errors"
time must_fail queries_fail

echo "== mypy --strict: typed_ok.py (the builder)"
time "${MYPY[@]}" typed_ok.py

echo "== mypy: typed_fail.py fails with the expected errors"
time must_fail typed_fail

echo "== pytest: the generated client on an embedded database"
PYTHONPATH="$BUILD/python:$WORK" "$PYTHON" -m pytest -q -p no:cacheprovider \
  --basetemp="$WORK/pytest" "$HERE/test_generated.py"
echo "codegen_python_test: ok"
