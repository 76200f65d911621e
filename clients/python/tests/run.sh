#!/usr/bin/env bash
# The Python client's test (ctest python_client_test): pytest embedded and
# through servers it starts, mypy --strict on the package and on a typed
# usage file, and `pip install` of clients/python into a scratch directory.
# Usage: run.sh PYTHON ORMDB_BINARY BUILD_DIR SOURCE_DIR
set -euo pipefail
PYTHON="$1"
export ORMDB_BINARY="$2"
BUILD="$3"
SRC="$4"
export ORMDB_TEST_DATA="$SRC/tests/data"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export PYTHONDONTWRITEBYTECODE=1

echo "== pytest"
PYTHONPATH="$BUILD/python" "$PYTHON" -m pytest -q -p no:cacheprovider \
  --basetemp="$WORK/pytest" "$SRC/clients/python/tests"

echo "== mypy --strict"
(cd "$BUILD/python" && MYPYPATH="$BUILD/python" "$PYTHON" -m mypy --strict \
  --cache-dir="$WORK/mypy-cache" ormdb "$SRC/clients/python/tests/typed_usage.py")

echo "== pip install ./clients/python"
# Offline (--no-index): the package's backend builds with the system's
# setuptools and wheel; the module comes from this build. Once with the
# system Python into a scratch directory, once into a fresh virtual
# environment that sees no system packages (pip's build isolation on).
(cd "$SRC" && ORMDB_BUILD_DIR="$BUILD" "$PYTHON" -m pip install --quiet --no-index \
  --no-deps --target "$WORK/site" ./clients/python >"$WORK/pip.log" 2>&1) \
  || { cat "$WORK/pip.log"; exit 1; }
"$PYTHON" -m venv "$WORK/venv"
(cd "$SRC" && ORMDB_BUILD_DIR="$BUILD" "$WORK/venv/bin/pip" install --quiet --no-index \
  ./clients/python >"$WORK/venv-pip.log" 2>&1) \
  || { cat "$WORK/venv-pip.log"; exit 1; }
(cd "$WORK" && "$WORK/venv/bin/python" -c 'import ormdb, sys; assert "/venv/" in ormdb.__file__, ormdb.__file__')
rm -rf "$SRC/clients/python/build" "$SRC/clients/python/ormdb.egg-info"
test -f "$WORK/site/ormdb/py.typed"
test -f "$WORK/site/ormdb/_ormdb.pyi"
(cd "$WORK" && PYTHONPATH="$WORK/site" "$PYTHON" - "$WORK/installed" <<'PY'
import sys
import ormdb
assert "/site/ormdb/" in ormdb.__file__, ormdb.__file__
with ormdb.open(sys.argv[1]) as db:
    db.apply_schema("entity Note { id: id\n text: string }")
    db.mutate([{"op": "insert", "entity": "Note", "values": {"text": "installed"}}])
    assert [n.text for n in db.fetch("Note { text }")] == ["installed"]
print("the installed package works")
PY
)
echo "python_client_test: ok"
