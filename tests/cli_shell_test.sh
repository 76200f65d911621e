#!/usr/bin/env bash
# End-to-end: what the command line does for a person: --version, help and
# usage errors, `ormdb shell` (driven through standard input, through a
# pseudo-terminal, and on a server), tree tables with wide and combining
# characters, the quoting hint of --param, the empty schema guard, and the
# row counts of stats and check.
set -u
source "$(dirname "$0")/cli_lib.sh"
SERVER_PID=""
cleanup() { [[ -n "$SERVER_PID" ]] && kill -9 "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
D="$WORK/db"

# --version, help, usage errors.
expect "version" 0 '^ormdb [0-9]+\.[0-9]+\.[0-9]+$' -- "$ORMDB" --version
expect "help lists every command" 0 '^usage: ormdb .*commands:.*shell .*query .*stats .*ORMDB_URL' \
  -- "$ORMDB" help
expect "--help alone" 0 '^usage: ormdb .*commands:' -- "$ORMDB" --help
expect "help COMMAND" 0 "^usage: ormdb query 'TEXT' .*--param NAME=VALUE .*example:"$'\n'"  \\$ ormdb query" \
  -- "$ORMDB" help query
expect "COMMAND --help" 0 '^usage: ormdb schema apply FILE .*--allow-destructive .*example:' \
  -- "$ORMDB" schema apply --help
expect "schema --help" 0 '^usage: ormdb schema apply .*ormdb schema show .*ormdb schema history' \
  -- "$ORMDB" schema --help
expect "help of a misspelled command" 2 "unknown command qurey \\(did you mean 'query'\\?\\)" \
  -- "$ORMDB" help qurey
expect "misspelled command" 2 "^ormdb: unknown command stat \\(did you mean 'stats'\\?\\)"$'\n'"usage: ormdb \\[--data" \
  -- "$ORMDB" stat
# A usage error is its cause and that command's usage: three lines, not the
# whole help.
out="$("$ORMDB" --data "$D" get User 2>&1)"
status=$?
want="ormdb: get needs ENTITY and ID
usage: ormdb get ENTITY ID
run \`ormdb help get\` for the options and an example"
[[ $status -eq 2 && "$out" == "$want" ]] && ok || fail "usage error: status $status: $out"
expect "flag of another command" 2 '^ormdb: --analyze does not apply to query'$'\n''usage: ormdb query ' \
  -- "$ORMDB" --data "$D" query 'User { name }' --analyze
expect "no command without a terminal" 2 '^ormdb: no command given' \
  -- bash -c "'$ORMDB' < /dev/null"

# An empty schema file (whitespace and comments) is refused, and creates no
# directory.
printf '// to be written\n\n/* later */\n  \n' >"$WORK/empty.ormdb"
expect "empty schema" 1 'error: INVALID_ARGUMENT: apply schema .*empty.ormdb: the schema file is empty .*--allow-destructive' \
  -- "$ORMDB" --data "$D" schema apply "$WORK/empty.ormdb"
[[ ! -e "$D" ]] && ok || fail "the refused empty schema created $D"
"$ORMDB" --data "$D" schema apply "$DATA_DIR/blog.ormdb" >/dev/null || fail "schema apply"
expect "empty schema on a database" 1 'the schema file is empty' \
  -- "$ORMDB" --data "$D" schema apply "$WORK/empty.ormdb" --dry-run
expect "empty schema, consented" 0 'grade: D.*drop entity User' \
  -- "$ORMDB" --data "$D" schema apply "$WORK/empty.ormdb" --dry-run --allow-destructive

# Wide (CJK), precomposed and combining characters.
cat >"$WORK/m.json" <<'JSON'
{"ops": [
  {"op": "insert", "entity": "User", "values": {"email": "ann@x", "name": "Ann", "age": 34}, "as": "ann"},
  {"op": "insert", "entity": "User", "values": {"email": "yamada@x", "name": "山田太郎", "age": 51}, "as": "yamada"},
  {"op": "insert", "entity": "User", "values": {"email": "zoe@x", "name": "Zoë"}},
  {"op": "insert", "entity": "User", "values": {"email": "jose@x", "name": "Jose\u0301 Núñez", "age": 7}},
  {"op": "insert", "entity": "Post", "values": {"title": "日本語の記事", "author": {"ref": "yamada"}, "created_at": "2024-01-01T00:00:00Z"}, "as": "p1"},
  {"op": "insert", "entity": "Post", "values": {"title": "Crème brûlée", "author": {"ref": "yamada"}, "created_at": "2024-01-02T00:00:00Z"}},
  {"op": "insert", "entity": "Post", "values": {"title": "Hi", "author": {"ref": "ann"}, "created_at": "2024-01-03T00:00:00Z"}},
  {"op": "insert", "entity": "Tag", "values": {"name": "データ"}, "as": "t1"},
  {"op": "link", "relation": "Post.tags", "from": {"ref": "p1"}, "to": {"ref": "t1"}},
  {"op": "insert", "entity": "Comment", "values": {"body": "anonymous", "post": {"ref": "p1"}, "created_at": "2024-01-04T00:00:00Z"}},
  {"op": "insert", "entity": "Comment", "values": {"body": "signed", "post": {"ref": "p1"}, "author": {"ref": "ann"}, "created_at": "2024-01-05T00:00:00Z"}}
]}
JSON
"$ORMDB" --data "$D" mutate "$WORK/m.json" >/dev/null || fail "mutate"

"$ORMDB" --data "$D" query 'User(order: id) { name, age, posts(order: created_at, limit: 1) { title, tags { name } } }' \
  --format table >"$WORK/table.txt"
cat >"$WORK/table.want" <<'EOF'
User (4 rows)
id | name       | age
---+------------+-----
1  | Ann        | 34
  posts (1 row)
  id | title
  ---+-------------
  3  | Hi
    tags (0 rows)
2  | 山田太郎   | 51
  posts (1 row, more follow)
  id | title
  ---+-------------
  1  | 日本語の記事
    tags (1 row)
    id | name
    ---+-------
    1  | データ
3  | Zoë        | null
  posts (0 rows)
4  | José Núñez | 7
  posts (0 rows)

version 2, 7 entities, 3 edges
EOF
same "tree table" "$WORK/table.want" "$WORK/table.txt"
# Every row of a table puts its '|' in the same display columns.
python3 - "$WORK/table.txt" <<'PY' && ok || fail "table columns do not line up"
import sys, unicodedata
def width(s):
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in s)
bars = {}
for line in open(sys.argv[1], encoding="utf-8").read().split("\n"):
    indent = len(line) - len(line.lstrip(" "))
    if "|" in line or "+" in line:
        cols, w = [], 0
        for c in line:
            if c in "|+":
                cols.append(w)
            w += width(c)
        bars.setdefault(indent, set()).add(tuple(cols))
# One layout per nesting level here (each level is one include path).
sys.exit(0 if all(len(v) == 1 for v in bars.values()) else 1)
PY

# A to-one include that is null, and one that is not.
expect "to-one include" 0 '^Comment \(2 rows\)
id \| body
---\+----------
1  \| anonymous
  author: null
2  \| signed
  author \(1 row\)
  id \| name
  ---\+-----
  1  \| Ann
' -- "$ORMDB" --data "$D" query 'Comment(order: id) { body, author { name } }' --format table
expect "no rows" 0 '^User \(0 rows\)'$'\n\n''version 2, 0 entities, 0 edges$' \
  -- "$ORMDB" --data "$D" query 'User(where: id == 99) { name }' --format table

# --param: a JSON literal that meets a string field names the parameter and
# says how to quote.
expect "param number for a string" 1 "error: INVALID_ARGUMENT: .*\\\$n.*--param n='\"1\"'" \
  -- "$ORMDB" --data "$D" query 'User(where: name == $n) { name }' --param n=1
expect "param quoted" 0 '"data":\[\]' \
  -- "$ORMDB" --data "$D" query 'User(where: name == $n) { name }' --param n='"1"' --format json
expect "param true for a string" 1 "\\\$flag.*--param flag='\"true\"'" \
  -- "$ORMDB" --data "$D" query 'User(where: email == $flag) { name }' --param flag=true

# Row counts: kept by the store, listed by stats, recounted by check.
expect "stats rows" 0 '"rows":\{"User":4,"Post":3,"Comment":2,"Tag":1\}' -- "$ORMDB" --data "$D" stats
"$ORMDB" --data "$D" mutate - >/dev/null <<<'{"ops": [{"op": "delete", "entity": "Post", "id": 2}, {"op": "insert", "entity": "Tag", "values": {"name": "x"}}]}'
expect "stats after a delete" 0 '"rows":\{"User":4,"Post":2,"Comment":2,"Tag":2\}' -- "$ORMDB" --data "$D" stats
expect "check recounts" 0 '^ok: version 3, .* 10 live rows$' -- "$ORMDB" --data "$D" check

# The shell, reading statements from standard input.
cat >"$WORK/session.txt" <<'EOF'
User(where: id == 1)
  { name };
\format table
Tag(order: id) {
  name
}

{"ops": [{"op": "insert", "entity": "Tag", "values": {"name": "db"}}]}
\timing
Tag(where: id == 3) { name };
\timing off
\explain User(where: email == "ann@x") { name }
Usr { name };
\nope
\format xml
\q
User { name };
EOF
"$ORMDB" --data "$D" shell --format json <"$WORK/session.txt" >"$WORK/session.out" 2>&1
status=$?
sed -E 's/time: [0-9.]+ ms/time: <t> ms/' "$WORK/session.out" >"$WORK/session.norm"
cat >"$WORK/session.want" <<'EOF'
{"version":3,"data":[{"id":1,"name":"Ann"}],"next":null,"stats":{"entities":1,"edges":0,"truncated":false}}
Tag (2 rows)
id | name
---+-------
1  | データ
2  | x

version 3, 2 entities, 0 edges
{"version":4,"refs":{},"results":[{"id":3}]}
timing on
Tag (1 row)
id | name
---+-----
3  | db

version 4, 1 entities, 0 edges
time: <t> ms
timing off
fetch User at version 4, schema 1
plan cache: miss (compiled)
budget: entities 100000, edges 1000000, depth 16, bytes 67108864, on exceed error
estimate: 1 entities, 0 edges, depth 0
1. User where
   operation: unique lookup on User(email)
   why: equality on every field of unique index User(email)
   estimated: 1 rows, 1 reads, cost 1
error: SCHEMA_ERROR: unknown entity 'Usr' (did you mean 'User'?)
ormdb: unknown command \nope; \help lists the commands
ormdb: \format is table, json or blocks, not 'xml'
EOF
same "shell session" "$WORK/session.want" "$WORK/session.norm"
[[ $status -eq 1 ]] && ok || fail "a session with errors exits $status, not 1"
expect "shell: \\schema and \\help" 0 '^enum Status \{.*entity User \{.*\\explain QUERY' \
  -- bash -c "printf '\\\\schema\\n\\\\help\\n' | '$ORMDB' --data '$D' shell"
expect "shell: a statement without an end" 0 '"name":"Ann"' \
  -- bash -c "printf 'User(where: id == 1) { name }' | '$ORMDB' --data '$D' shell --format json"
expect "shell: bad format flag" 2 'format is json, table or blocks' \
  -- "$ORMDB" --data "$D" shell --format xml

# The shell on a terminal: prompts, line editing and the history file.
python3 - "$ORMDB" "$D" "$WORK/history" >"$WORK/pty.out" 2>&1 <<'PY'
import os, pty, select, sys, time
ormdb, data, history = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.environ["ORMDB_HISTORY"] = history
    os.execv(ormdb, [ormdb, "--data", data])  # no command on a terminal: the shell
out = b""
def read_until(marker, timeout=10):
    global out
    end = time.time() + timeout
    while marker not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
read_until(b"ormdb> ")
os.write(fd, b"Tag(where: id == 2)\r")
read_until(b"...> ")
os.write(fd, b"{ name };\r")
read_until(b"2 rows" if False else b"version 4")
os.write(fd, b"\\q\r")
read_until(b"\x00", timeout=3)
os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
PY
pty_out="$(tr -d '\r' <"$WORK/pty.out")"
[[ "$pty_out" == *"shell on $D"*"ormdb> "*"  ...> "*"Tag (1 row)"*"2  | x"* ]] && ok || fail "pty shell: $pty_out"
grep -q 'Tag(where:.*id.*==.*2).*{.*name.*};' "$WORK/history" 2>/dev/null && ok ||
  fail "history file: $(cat "$WORK/history" 2>&1)"

# The shell on a server: the same statements through --connect.
"$ORMDB" serve --data "$D" --listen "ipc://$WORK/s.sock" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do grep -q '^ormdb serving' "$WORK/serve.log" && break; sleep 0.05; done
expect "shell on a server" 0 '^\{"version":4,"data":\[\{"id":3,"name":"db"\}\]' \
  -- bash -c "echo 'Tag(where: id == 3) { name };' | '$ORMDB' --connect 'ipc://$WORK/s.sock' shell --format json"
kill -TERM "$SERVER_PID" && wait "$SERVER_PID"
SERVER_PID=""

finish cli_shell_test
