#!/usr/bin/env bash
# The examples of the user documentation (docs/**/*.md), run with the built
# ormdb and compared with the output the pages show (see docs_examples.py).
#   docs_examples_test.sh ORMDB DOCS_DIR [PAGE.md ...]
set -u
if [[ $# -lt 2 ]]; then
  echo "usage: $0 ORMDB DOCS_DIR [PAGE.md ...]" >&2
  exit 2
fi
if ! command -v python3 > /dev/null; then
  echo "docs_examples_test needs python3 (Debian package python3-minimal)" >&2
  exit 1
fi
exec python3 "$(dirname "$0")/docs_examples.py" "$@"
