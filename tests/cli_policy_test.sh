#!/usr/bin/env bash
# End-to-end: principals through the command line (DESIGN.md §10). `--as`
# on an embedded data directory; on a server, a key that names its
# principal, `--token` (an HS256 JWT signed here with openssl), `--as` with
# and without the server role impersonate, and the audit log `ormdb serve`
# writes, checked with `ormdb audit verify`.
# Usage: cli_policy_test.sh ORMDB
source "$(dirname "$0")/cli_lib.sh"
SERVER_PID=""
cleanup() { [[ -n "$SERVER_PID" ]] && kill -9 "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

cat >"$WORK/schema.ormdb" <<'EOF'
entity Project {
  id: id
  name: string
  tenant: string @index
  @@deny(all, tenant != auth.tenant)
  @@allow(all, true)
}
EOF
cat >"$WORK/rows.json" <<'EOF'
{"ops": [
  {"op": "insert", "entity": "Project", "values": {"name": "anvil", "tenant": "acme"}},
  {"op": "insert", "entity": "Project", "values": {"name": "rocket", "tenant": "acme"}},
  {"op": "insert", "entity": "Project", "values": {"name": "hammock", "tenant": "globex"}}
]}
EOF
D="$WORK/data"
"$ORMDB" --data "$D" schema apply "$WORK/schema.ormdb" >/dev/null || fail "schema apply"
"$ORMDB" --data "$D" mutate "$WORK/rows.json" >/dev/null || fail "mutate"

ACME='{"id": 1, "roles": ["user"], "tenant": "acme"}'
Q='Project(order: [name asc]) { name }'

# Embedded: the owner sees every row; --as filters.
expect "embedded owner" 0 '"anvil".*"hammock".*"rocket"' -- "$ORMDB" --data "$D" query "$Q" --format json
expect "embedded --as acme" 0 '^\{"version":2,"data":\[\{"id":1,"name":"anvil"\},\{"id":2,"name":"rocket"\}\]' \
  -- "$ORMDB" --data "$D" --as "$ACME" query "$Q" --format json
expect "embedded --as after the command" 0 '"hammock"' \
  -- "$ORMDB" query "$Q" --format json --data "$D" --as '{"id": 2, "tenant": "globex"}'
expect "embedded --as refuses another tenant's row" 1 '^error: PERMISSION_DENIED: .*create Project' \
  -- "$ORMDB" --data "$D" --as "$ACME" mutate - <<<'{"ops": [{"op": "insert", "entity": "Project", "values": {"name": "x", "tenant": "globex"}}]}'
expect "embedded --as: export needs admin" 1 '^error: PERMISSION_DENIED: permission denied: export needs the admin role' \
  -- "$ORMDB" --data "$D" --as "$ACME" export Project
expect "embedded --token" 1 '^error: INVALID_ARGUMENT: --token: a token is verified by a server' \
  -- "$ORMDB" --data "$D" --token abc query "$Q"
expect "--as not a principal" 1 '^error: INVALID_ARGUMENT: --as: ' \
  -- "$ORMDB" --data "$D" --as '[1]' query "$Q"
expect "serve takes no --as" 2 'does not apply to serve' -- "$ORMDB" serve --data "$D" --as "$ACME"

# A server with keys, a JWT secret and the audit log on.
SECRET="0123456789abcdef0123456789abcdef-cli-secret"
cat >"$WORK/config.json" <<EOF
{"listen": "tcp://127.0.0.1:0", "http_listen": "",
 "keys": [
   {"key": "acme-key-0123456789", "principal": {"id": 1, "roles": ["user"], "tenant": "acme"},
    "roles": ["read", "write"]},
   {"key": "backend-key-0123456789", "principal": "backend", "roles": ["read", "write", "impersonate"]},
   {"key": "reader-key-0123456789", "principal": "reader", "roles": ["read"]}],
 "jwt": {"hs256_secret": "$SECRET", "audience": "ormdb"},
 "audit": true}
EOF
"$ORMDB" serve --data "$D" --config "$WORK/config.json" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
URL=""
for _ in $(seq 100); do
  URL="$(sed -n 's/^ormdb serving .* on //p' "$WORK/serve.log")"
  [[ -n "$URL" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.05
done
[[ -n "$URL" ]] || { cat "$WORK/serve.log"; fail "the server did not start"; finish cli_policy_test; exit 1; }

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
# token PAYLOAD: an HS256 JWT signed with the server's secret.
token() {
  local input
  input="$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url).$(printf '%s' "$1" | b64url)"
  printf '%s.%s' "$input" "$(printf '%s' "$input" | openssl dgst -sha256 -hmac "$SECRET" -binary | b64url)"
}
EXP=$(($(date +%s) + 3600))
GLOBEX="$(token "{\"sub\":\"2\",\"roles\":[\"user\"],\"tenant\":\"globex\",\"aud\":\"ormdb\",\"exp\":$EXP}")"
EXPIRED="$(token "{\"sub\":\"2\",\"tenant\":\"globex\",\"aud\":\"ormdb\",\"exp\":$(($(date +%s) - 3600))}")"
WRONG_AUD="$(token "{\"sub\":\"2\",\"tenant\":\"globex\",\"aud\":\"other\",\"exp\":$EXP}")"
NONE="$(printf '%s' '{"alg":"none"}' | b64url).$(printf '%s' "{\"sub\":\"2\",\"tenant\":\"globex\",\"aud\":\"ormdb\",\"exp\":$EXP}" | b64url)."

expect "a key acting for acme" 0 '"anvil".*"rocket"' \
  -- env ORMDB_KEY=acme-key-0123456789 "$ORMDB" --connect "$URL" query "$Q" --format json
out="$(ORMDB_KEY=acme-key-0123456789 "$ORMDB" --connect "$URL" query "$Q" --format json)"
[[ "$out" != *hammock* ]] && ok || fail "the acme key read a globex row: $out"
expect "a token for globex (no key)" 0 '"data":\[\{"id":3,"name":"hammock"\}\]' \
  -- "$ORMDB" --connect "$URL" --token "$GLOBEX" query "$Q" --format json
expect "ORMDB_TOKEN" 0 '"data":\[\{"id":3,"name":"hammock"\}\]' \
  -- env ORMDB_TOKEN="$GLOBEX" "$ORMDB" --connect "$URL" query "$Q" --format json
expect "an expired token" 1 '^error: UNAUTHENTICATED: .*expired' \
  -- "$ORMDB" --connect "$URL" --token "$EXPIRED" query "$Q"
expect "a token for another audience" 1 '^error: UNAUTHENTICATED: .*audience' \
  -- "$ORMDB" --connect "$URL" --token "$WRONG_AUD" query "$Q"
expect "alg none" 1 '^error: UNAUTHENTICATED: ' -- "$ORMDB" --connect "$URL" --token "$NONE" query "$Q"
expect "--as without impersonate" 1 '^error: PERMISSION_DENIED: .*impersonate' \
  -- env ORMDB_KEY=reader-key-0123456789 "$ORMDB" --connect "$URL" --as "$ACME" query "$Q"
expect "--as with impersonate" 0 '"data":\[\{"id":1,"name":"anvil"\},\{"id":2,"name":"rocket"\}\]' \
  -- env ORMDB_KEY=backend-key-0123456789 "$ORMDB" --connect "$URL" --as "$ACME" query "$Q" --format json
expect "a write acting for acme" 0 '"results":\[\{"id":4\}\]' \
  -- env ORMDB_KEY=backend-key-0123456789 "$ORMDB" --connect "$URL" --as "$ACME" mutate - \
  <<<'{"ops": [{"op": "insert", "entity": "Project", "values": {"name": "drill", "tenant": "acme"}}]}'

kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "the server did not stop cleanly"
SERVER_PID=""

# Every request left a line; the chain verifies.
expect "audit verify" 0 '^ok: [0-9]+ lines in 1 file' -- "$ORMDB" audit verify "$D/audit"
lines="$("$ORMDB" audit tail "$D/audit" -n 100)"
[[ "$lines" == *'"principal":{"id":1,"roles":["user"],"tenant":"acme"},"operation":"fetch","entities":["Project"]'* ]] &&
  ok || fail "no fetch line for acme: $lines"
[[ "$lines" == *'"operation":"mutate","entities":["Project"],"fields":[],"rows":1,'*'"outcome":"ok"'* ]] &&
  ok || fail "no mutate line: $lines"
[[ "$lines" == *'"principal":{"id":2,"roles":["user"],"tenant":"globex"}'* ]] &&
  ok || fail "no line for the token's principal: $lines"
[[ "$lines" == *'"outcome":"denied"'* ]] && ok || fail "no denied line: $lines"
# --as through the backend's key: the line names the principal and the key.
[[ "$lines" == *'"principal":{"id":1,"roles":["user"],"tenant":"acme"},"impersonator":{"key":"backend"},"operation":"mutate"'* ]] &&
  ok || fail "no line naming the impersonating key: $lines"

finish cli_policy_test
