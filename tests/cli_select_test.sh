#!/usr/bin/env bash
# End-to-end: `ormdb select` (relational mode) through the CLI: json, table
# and csv output, params, as-of, cursors, budgets, explain, the shell, and
# errors; embedded and through a server.
set -u
source "$(dirname "$0")/cli_lib.sh"
D="$WORK/db"

"$ORMDB" --data "$D" schema apply "$DATA_DIR/blog.ormdb" >/dev/null || fail "schema apply"
cat >"$WORK/m.json" <<'JSON'
{"ops": [
  {"op": "insert", "entity": "User", "values": {"email": "ann@x", "name": "Ann", "age": 34}, "as": "ann"},
  {"op": "insert", "entity": "User", "values": {"email": "bob@x", "name": "Bob, Jr."}, "as": "bob"},
  {"op": "insert", "entity": "Post", "values": {"title": "Hello", "status": "published", "author": {"ref": "ann"}, "created_at": "2024-01-01T00:00:00Z"}, "as": "p1"},
  {"op": "insert", "entity": "Post", "values": {"title": "Second", "status": "published", "author": {"ref": "ann"}, "created_at": "2024-02-01T00:00:00Z"}},
  {"op": "insert", "entity": "Post", "values": {"title": "Say \"hi\"", "status": "published", "author": {"ref": "bob"}, "created_at": "2024-03-01T00:00:00Z"}},
  {"op": "insert", "entity": "Post", "values": {"title": "Draft", "author": {"ref": "ann"}, "created_at": "2024-04-01T00:00:00Z"}},
  {"op": "insert", "entity": "Tag", "values": {"name": "cpp"}, "as": "t1"},
  {"op": "link", "relation": "Post.tags", "from": {"ref": "p1"}, "to": {"ref": "t1"}}
]}
JSON
"$ORMDB" --data "$D" mutate "$WORK/m.json" >/dev/null || fail "mutate"

REPORT='select author.name, count() as posts, max(created_at) as last
from Post where status == "published"
group by author.name having count() > 0
order by posts desc, author.name limit 10'
WANT='{"version":2,"columns":["author.name","posts","last"],"rows":[["Ann",2,"2024-02-01T00:00:00Z"],["Bob, Jr.",1,"2024-03-01T00:00:00Z"]],"next":null}'
out="$("$ORMDB" --data "$D" select "$REPORT" --format json)"
[[ "$out" == "$WANT" ]] && ok || fail "report json: $out"

# table: aligned, then the version
"$ORMDB" --data "$D" select "$REPORT" --format table >"$WORK/table.out"
cat >"$WORK/table.want" <<'EOF2'
select (2 rows)
author.name | posts | last
------------+-------+---------------------
Ann         | 2     | 2024-02-01T00:00:00Z
Bob, Jr.    | 1     | 2024-03-01T00:00:00Z

version 2
EOF2
same "report table" "$WORK/table.want" "$WORK/table.out"

# csv: RFC 4180 quoting, nulls as empty fields
"$ORMDB" --data "$D" select 'select title, tags.name, author.age from Post order by title' \
  --format csv >"$WORK/csv.out"
printf 'title,tags.name,author.age\nDraft,,34\nHello,cpp,34\n"Say ""hi""",,\nSecond,,34\n' \
  >"$WORK/csv.want"
same "csv" "$WORK/csv.want" "$WORK/csv.out"

# the leading `select` may be left out; params; stdin
expect "abbreviated" 0 '"rows":\[\["Hello"\]\]' \
  -- "$ORMDB" --data "$D" select 'title from Post where id == $i' --param i=1 --format json
expect "stdin" 0 '"rows":\[\[4\]\]' \
  -- bash -c "echo 'select count() from Post' | '$ORMDB' --data '$D' select - --format json"
expect "as-of" 0 '"version":1,"columns":\["count\(\)"\],"rows":\[\[0\]\]' \
  -- "$ORMDB" --data "$D" select 'select count() from Post' --as-of 1 --format json

# a cursor: the next page
next="$("$ORMDB" --data "$D" select 'select title from Post order by title limit 2' --format json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["next"])')"
expect "next page" 0 '"rows":\[\["Say \\"hi\\""\],\["Second"\]\],"next":null' \
  -- "$ORMDB" --data "$D" select "select title from Post order by title limit 2 after \"$next\"" --format json

# budgets
expect "budget rows" 1 'error: BUDGET_EXCEEDED: .*rows limit of 3' \
  -- "$ORMDB" --data "$D" select 'select title from Post' --budget-rows 3
expect "budget scanned" 1 'error: BUDGET_EXCEEDED: .*scanned rows limit' \
  -- "$ORMDB" --data "$D" select 'select count() from Post' --budget-scanned 2

# explain
expect "explain" 0 'select from Post at version 2.*operation: scan.*group by: author.name' \
  -- "$ORMDB" --data "$D" explain "$REPORT"
expect "explain analyze" 0 'actual: 2 groups from 3 rows.*actual: 2 rows' \
  -- "$ORMDB" --data "$D" explain --analyze "$REPORT"
expect "explain json" 0 '^\{"entity":"Post","version":2,' \
  -- "$ORMDB" --data "$D" explain --format json "$REPORT"

# errors
expect "syntax" 1 "error: INVALID_ARGUMENT: query:1:14: expected 'as', ',' or 'from', found 'form'" \
  -- "$ORMDB" --data "$D" select 'select title form Post'
expect "unknown field" 1 "error: SCHEMA_ERROR: .*did you mean 'title'" \
  -- "$ORMDB" --data "$D" select 'select titel from Post'
expect "not grouped" 1 "error: INVALID_ARGUMENT: .*neither in group by nor an aggregate" \
  -- "$ORMDB" --data "$D" select 'select title, count() from Post'
expect "bad format" 2 '--format is json, table or csv' \
  -- "$ORMDB" --data "$D" select 'select title from Post' --format blocks
expect "fetch flag" 2 '--budget-entities does not apply to select' \
  -- "$ORMDB" --data "$D" select 'select title from Post' --budget-entities 3
expect "help" 0 'usage: ormdb select' -- "$ORMDB" help select

# the shell runs a line starting with select
expect "shell" 0 '"columns":\["count\(\)"\],"rows":\[\[4\]\]' \
  -- bash -c "printf 'select count() from Post;\n' | '$ORMDB' --data '$D' shell --format json"
expect "shell explain" 0 'group by: status' \
  -- bash -c "printf '\\\\explain select status, count() from Post group by status\n' | '$ORMDB' --data '$D' shell"

# through a server: the same bytes
PORT=$((20000 + RANDOM % 20000))
"$ORMDB" serve --data "$D" --listen "tcp://127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do
  "$ORMDB" --connect "tcp://127.0.0.1:$PORT" stats >/dev/null 2>&1 && break
  sleep 0.1
done
out="$("$ORMDB" --connect "tcp://127.0.0.1:$PORT" select "$REPORT" --format json)"
[[ "$out" == "$WANT" ]] && ok || fail "report over the server: $out"
expect "server error" 1 "error: SCHEMA_ERROR: .*did you mean 'title'" \
  -- "$ORMDB" --connect "tcp://127.0.0.1:$PORT" select 'select titel from Post'
kill "$SERVER" 2>/dev/null
wait "$SERVER" 2>/dev/null

finish cli_select_test
