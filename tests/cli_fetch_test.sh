#!/usr/bin/env bash
# End-to-end: `ormdb query` and `ormdb explain` through the CLI on the blog
# schema of DESIGN.md, including the design's example query as written.
set -u
source "$(dirname "$0")/cli_lib.sh"
D="$WORK/db"

"$ORMDB" --data "$D" schema apply "$DATA_DIR/blog.ormdb" >/dev/null || fail "schema apply"
cat >"$WORK/m.json" <<'JSON'
{"ops": [
  {"op": "insert", "entity": "User", "values": {"email": "ann@x", "name": "Ann", "age": 34}, "as": "ann"},
  {"op": "insert", "entity": "User", "values": {"email": "bob@x", "name": "Bob"}, "as": "bob"},
  {"op": "insert", "entity": "User", "values": {"email": "al@x", "name": "Al", "age": 51}, "as": "al"},
  {"op": "insert", "entity": "Post", "values": {"title": "Hello", "status": "published", "author": {"ref": "ann"}, "created_at": "2024-01-01T00:00:00Z"}, "as": "p1"},
  {"op": "insert", "entity": "Post", "values": {"title": "Second", "status": "published", "author": {"ref": "ann"}, "created_at": "2024-02-01T00:00:00Z"}, "as": "p2"},
  {"op": "insert", "entity": "Post", "values": {"title": "Draft", "author": {"ref": "ann"}, "created_at": "2024-03-01T00:00:00Z"}, "as": "p3"},
  {"op": "insert", "entity": "Tag", "values": {"name": "cpp"}, "as": "t1"},
  {"op": "insert", "entity": "Tag", "values": {"name": "db"}, "as": "t2"},
  {"op": "link", "relation": "Post.tags", "from": {"ref": "p1"}, "to": {"ref": "t2"}},
  {"op": "link", "relation": "Post.tags", "from": {"ref": "p1"}, "to": {"ref": "t1"}},
  {"op": "link", "relation": "Post.tags", "from": {"ref": "p2"}, "to": {"ref": "t2"}},
  {"op": "insert", "entity": "Comment", "values": {"body": "nice", "post": {"ref": "p1"}, "author": {"ref": "bob"}, "created_at": "2024-01-02T00:00:00Z"}},
  {"op": "insert", "entity": "Comment", "values": {"body": "thanks", "post": {"ref": "p1"}, "author": {"ref": "ann"}, "created_at": "2024-01-03T00:00:00Z"}},
  {"op": "insert", "entity": "Comment", "values": {"body": "anon", "post": {"ref": "p1"}, "created_at": "2024-01-04T00:00:00Z"}}
]}
JSON
"$ORMDB" --data "$D" mutate "$WORK/m.json" >/dev/null || fail "mutate"

# The example of DESIGN.md §4, as written (without its placeholder cursor).
DESIGN_QUERY='User(where: age >= 30 and name like "A%", order: [name asc, id asc], limit: 20) {
  id, name,
  posts(where: status == "published", order: created_at desc, limit: 5) {
    title, created_at,
    tags { name },
    comments(order: created_at desc, limit: 3) { body, author { name } }
  }
}'
WANT='{"version":2,"data":[{"id":3,"name":"Al","posts":[],"posts@next":null},{"id":1,"name":"Ann","posts":[{"id":2,"title":"Second","created_at":"2024-02-01T00:00:00Z","tags":[{"id":2,"name":"db"}],"comments":[],"comments@next":null},{"id":1,"title":"Hello","created_at":"2024-01-01T00:00:00Z","tags":[{"id":1,"name":"cpp"},{"id":2,"name":"db"}],"comments":[{"id":3,"body":"anon","author":null},{"id":2,"body":"thanks","author":{"id":1,"name":"Ann"}},{"id":1,"body":"nice","author":{"id":2,"name":"Bob"}}],"comments@next":null}],"posts@next":null}],"next":null,"stats":{"entities":10,"edges":10,"truncated":false}}'
out="$("$ORMDB" --data "$D" query "$DESIGN_QUERY" --format json)"
[[ "$out" == "$WANT" ]] && ok || fail "design query: $out"

# Options before or after the command; params as JSON literals or strings.
expect "params" 0 '"data":\[\{"id":1,"name":"Ann"\}\]' \
  -- "$ORMDB" query 'User(where: age > $a and name == $n) { name }' --param a=30 --param n=Ann --data "$D" --format json
expect "missing param" 1 'error: INVALID_ARGUMENT: .*missing parameter \$a' \
  -- "$ORMDB" --data "$D" query 'User(where: age > $a) { name }'
expect "query from stdin" 0 '"name":"Bob"' \
  -- bash -c "echo 'User(where: id == 2) { name }' | '$ORMDB' --data '$D' query - --format json"
expect "JSON IR" 0 '"data":\[\{"id":2,"name":"Bob"\}\]' \
  -- "$ORMDB" --data "$D" query '{"entity": "User", "where": {"op": "==", "args": [{"path": "id"}, {"value": 2}]}, "select": ["name"]}' --format json

# Pagination: follow next to the end.
page1="$("$ORMDB" --data "$D" query 'User(order: name asc, limit: 2) { name }' --format json)"
cursor="$(sed -E 's/.*"next":"([^"]*)".*/\1/' <<<"$page1")"
[[ "$page1" == *'"name":"Al"'*'"name":"Ann"'* && -n "$cursor" && "$cursor" != "$page1" ]] && ok || fail "page 1: $page1"
expect "page 2 ends" 0 '"data":\[\{"id":2,"name":"Bob"\}\],"next":null' \
  -- "$ORMDB" --data "$D" query "User(order: name asc, limit: 2, after: \"$cursor\") { name }" --format json
c="${cursor:10:1}"
[[ "$c" == "x" ]] && r=y || r=x
expect "tampered cursor" 1 'error: INVALID_ARGUMENT: invalid cursor' \
  -- "$ORMDB" --data "$D" query "User(order: name asc, limit: 2, after: \"${cursor:0:10}$r${cursor:11}\") { name }" --format json
expect "cursor of another order" 1 'error: INVALID_ARGUMENT: invalid cursor: it belongs to another query' \
  -- "$ORMDB" --data "$D" query "User(order: name desc, limit: 2, after: \"$cursor\") { name }" --format json

# Cursors of one query must come from one snapshot.
inc1="$("$ORMDB" --data "$D" query 'User(where: id == 1) { posts(limit: 1) { title } }' --format json)"
inc_cursor="$(sed -E 's/.*"posts@next":"([^"]*)".*/\1/' <<<"$inc1")"
[[ -n "$inc_cursor" && "$inc_cursor" != "$inc1" ]] && ok || fail "include cursor: $inc1"
expect "include cursor continues its parent" 0 '"posts":\[\{"id":2,"title":"Second"\}\]' \
  -- "$ORMDB" --data "$D" query "User(where: id == 1) { posts(limit: 1, after: \"$inc_cursor\") { title } }" --format json
"$ORMDB" --data "$D" mutate - >/dev/null <<<'{"ops": [{"op": "insert", "entity": "Tag", "values": {"name": "later"}}]}'
inc3="$("$ORMDB" --data "$D" query 'User(where: id == 1) { posts(limit: 1) { title } }' --format json)"
later_cursor="$(sed -E 's/.*"posts@next":"([^"]*)".*/\1/' <<<"$inc3")"
expect "cursors from two snapshots" 1 'INVALID_ARGUMENT: invalid cursor: the cursors of one query must come from one snapshot \(2 and 3\)' \
  -- "$ORMDB" --data "$D" query "User(order: name asc, limit: 2, after: \"$cursor\") { posts(limit: 1, after: \"$later_cursor\") { title } }"
expect "cursor and as-of disagree" 1 'INVALID_ARGUMENT: invalid cursor: it reads version 2 but as_of asks for 3' \
  -- "$ORMDB" --data "$D" query "User(order: name asc, limit: 2, after: \"$cursor\") { name }" --as-of 3

# as_of reads the past; every result reports its version.
"$ORMDB" --data "$D" mutate - >/dev/null <<<'{"ops": [{"op": "update", "entity": "User", "id": 2, "set": {"name": "Robert"}}]}'
expect "as-of" 0 '"version":2,"data":\[\{"id":2,"name":"Bob"\}\]' \
  -- "$ORMDB" --data "$D" query 'User(where: id == 2) { name }' --as-of 2 --format json
expect "current" 0 '"version":4,"data":\[\{"id":2,"name":"Robert"\}\]' \
  -- "$ORMDB" --data "$D" query 'User(where: id == 2) { name }' --format json
expect "as-of beyond current" 1 'error: INVALID_ARGUMENT: version 9 is beyond the current version 4' \
  -- "$ORMDB" --data "$D" query 'User { name }' --as-of 9

# Budgets in both modes.
expect "budget error" 1 'error: BUDGET_EXCEEDED: budget exceeded: 5 entities is over the limit of 4 at User.posts' \
  -- "$ORMDB" --data "$D" query 'User(order: id asc) { posts { title } }' --budget-entities 4
expect "budget truncate" 0 '"stats":\{"entities":4,"edges":1,"truncated":true,"truncated_at":"User.posts"\}' \
  -- "$ORMDB" --data "$D" query 'User(order: id asc) { posts { title } }' --budget-entities 4 --on-exceed truncate --format json
expect "depth budget" 1 'BUDGET_EXCEEDED: budget exceeded: depth 2 is over the limit of 1 at User.posts.tags' \
  -- "$ORMDB" --data "$D" query 'User { posts { tags { name } } }' --budget-depth 1
expect "budget above the database's" 1 'INVALID_ARGUMENT: budget entities 100000000 is above' \
  -- "$ORMDB" --data "$D" query 'User { name }' --budget-entities 100000000

# Aggregates, and the scanned rows budget they count toward.
expect "aggregates" 0 '"data":\[\{"id":1,"name":"Ann","n":3,"last":"2024-03-01T00:00:00Z"\}' \
  -- "$ORMDB" --data "$D" query 'User(order: [n desc, id]) { name, n: count(posts), last: max(posts.created_at) }'
expect "scanned rows budget" 1 'error: BUDGET_EXCEEDED: budget exceeded: [0-9]+ scanned rows is over the limit of 1 at User.n' \
  -- "$ORMDB" --data "$D" query 'User { n: count(posts) }' --budget-scanned 1
expect "aggregate of a field" 1 'error: INVALID_ARGUMENT: query:1:11: sum needs a number field' \
  -- "$ORMDB" --data "$D" query 'User { n: sum(posts.title) }'

# Formats.
expect "blocks" 0 '"entities":\{"User":\{"ids":\[1,2,3\],"fields":\{"name":\["Ann","Robert","Al"\]\}' \
  -- "$ORMDB" --data "$D" query 'User { name }' --format blocks
expect "table" 0 'User \(3 rows\).*id \| name' \
  -- "$ORMDB" --data "$D" query 'User { name }' --format table

# Errors.
expect "syntax error" 1 'error: INVALID_ARGUMENT: query:1:6: ' \
  -- "$ORMDB" --data "$D" query 'User(wher: 1) { name }'
expect "unknown field" 1 "error: SCHEMA_ERROR: query:1:8: unknown field 'nme' of User \\(did you mean 'name'\\?\\)" \
  -- "$ORMDB" --data "$D" query 'User { nme }'
expect "bad format" 2 'format is json, table or blocks' \
  -- "$ORMDB" --data "$D" query 'User { name }' --format xml
expect "bad number" 2 'budget-edges needs a whole number' \
  -- "$ORMDB" --data "$D" query 'User { name }' --budget-edges lots
expect "analyze only for explain" 2 '--analyze does not apply to query' \
  -- "$ORMDB" --data "$D" query 'User { name }' --analyze
expect "missing directory" 1 'error: NOT_FOUND' \
  -- "$ORMDB" --data "$WORK/none" query 'User { name }'

# EXPLAIN says why.
expect "explain unique" 0 'operation: unique lookup on User\(email\).*why: equality on every field of unique index User\(email\)' \
  -- "$ORMDB" --data "$D" explain 'User(where: email == "ann@x") { name }'
expect "explain include" 0 'User.posts order \[created_at desc\] limit.*operation: per-parent index range on Post\(author, created_at\) backward' \
  -- "$ORMDB" --data "$D" explain 'User(where: id == 1) { posts(order: created_at desc, limit: 2) { title } }'
expect "explain analyze" 0 'actual: 1 rows, .*budget used: entities 3/100000' \
  -- "$ORMDB" --data "$D" explain --analyze 'User(where: id == 1) { posts(order: created_at desc, limit: 2) { title } }'
expect "explain json" 0 '^\{"version":4,"schema":1,"plan_cache":"miss".*"steps":\[\{"step":1,"path":"User"' \
  -- "$ORMDB" --data "$D" explain --format json 'User { name }'

# An index added to existing rows is built online after its schema commit:
# a read at that commit must not use it (the rows are not in it yet).
sed 's/  age: int32?/  age: int32? @index/' "$DATA_DIR/blog.ormdb" >"$WORK/v2.ormdb"
applied="$("$ORMDB" --data "$D" schema apply "$WORK/v2.ormdb")"
C="$(sed -nE 's/.*at commit version ([0-9]+).*/\1/p' <<<"$applied")"
[[ -n "$C" ]] && ok || fail "schema v2: $applied"
expect "as-of the schema commit: no index yet" 0 'operation: scan' \
  -- "$ORMDB" --data "$D" explain "User(where: age == 34) { name }" --as-of "$C"
expect "as-of the schema commit: the rows" 0 '"data":\[\{"id":1,"name":"Ann"\}\]' \
  -- "$ORMDB" --data "$D" query "User(where: age == 34) { name }" --as-of "$C" --format json
expect "now: the index" 0 'operation: index range on User\(age\)' \
  -- "$ORMDB" --data "$D" explain "User(where: age == 34) { name }"
expect "now: the rows" 0 '"data":\[\{"id":1,"name":"Ann"\}\]' \
  -- "$ORMDB" --data "$D" query "User(where: age == 34) { name }" --format json

finish cli_fetch_test
