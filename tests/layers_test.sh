#!/usr/bin/env bash
# The module layering (README "Layout"): a module includes only modules below
# it, LMDB stays inside storage/, OpenSSL inside auth/ and audit/, and Cap'n Proto (<capnp/...>, <kj/...>, the
# generated ormdb.capnp.h) and nng (<nng/...>) stay inside protocol/. Fails
# naming every include that breaks a rule.
set -uo pipefail
ROOT="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$ROOT"
# Top to bottom. The public headers (include/ormdb, "ormdb/...") are usable
# everywhere; tests/, bench/ and examples/ stand outside the layers.
LAYERS=(tools codegen server client db protocol query catalog storage audit auth observability common)
rank() {
  local i
  for i in "${!LAYERS[@]}"; do [[ "${LAYERS[$i]}" == "$1" ]] && { echo "$i"; return; }; done
  echo -1
}
bad=0
while IFS= read -r line; do
  file="${line%%:*}"
  rest="${line#*:}"
  inc="$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$rest")"
  from="${file%%/*}"
  to="${inc%%/*}"
  [[ "$to" == "ormdb" || "$to" == "$from" ]] && continue
  rf="$(rank "$from")"
  rt="$(rank "$to")"
  [[ "$rf" -lt 0 || "$rt" -lt 0 ]] && continue
  if [[ "$rt" -lt "$rf" ]]; then
    echo "upward include: $file includes \"$inc\" ($from sits below $to)"
    bad=1
  fi
done < <(grep -rn --include=*.h --include=*.cc '^#include "' "${LAYERS[@]}" 2>/dev/null | sed -E 's/^([^:]+):[0-9]+:/\1:/')
while IFS= read -r line; do
  echo "LMDB outside storage/: $line"
  bad=1
done < <(grep -rln --include=*.h --include=*.cc '#include <lmdb.h>' "${LAYERS[@]}" 2>/dev/null | grep -v '^storage/')
while IFS= read -r line; do
  echo "OpenSSL outside auth/ and audit/: $line"
  bad=1
done < <(grep -rln --include=*.h --include=*.cc '#include <openssl/' "${LAYERS[@]}" 2>/dev/null |
         grep -vE '^(auth|audit)/' | grep -vE '_test\.cc$')
# Unit tests beside the code (*_test.cc, *_test_util.h) may speak raw frames
# to the server, as tests/ and bench/ may.
while IFS= read -r line; do
  echo "Cap'n Proto or nng outside protocol/: $line"
  bad=1
done < <(grep -rnE --include=*.h --include=*.cc \
           '^[[:space:]]*#[[:space:]]*include[[:space:]]*(<(capnp|kj|nng)/|[<"]([^">]*/)?ormdb\.capnp\.h[">])' \
           "${LAYERS[@]}" 2>/dev/null |
         grep -v '^protocol/' | grep -vE '^[^:]*_test(_util)?\.(cc|h):')
if [[ $bad -ne 0 ]]; then
  echo "layers_test: FAILED"
  exit 1
fi
echo "layers_test: ok"
