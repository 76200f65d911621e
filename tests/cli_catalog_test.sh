#!/usr/bin/env bash
# End-to-end: schemas, migrations, mutations, import, export and get through
# the ormdb CLI, on the blog schema of DESIGN.md (tests/data/blog.ormdb is a
# verbatim copy of it).
set -u
source "$(dirname "$0")/cli_lib.sh"
D="$WORK/db"

# --- schema -----------------------------------------------------------------
expect "read commands do not create a directory" 1 "error: NOT_FOUND" \
  -- "$ORMDB" schema show --data "$WORK/missing"
[[ ! -e "$WORK/missing" ]] && ok || fail "schema show created the directory"

expect "the design's blog schema applies as written" 0 \
  $'grade: A\n\\[A\\] add enum Status\n\\[A\\] add entity User\n.*applied: schema version 1' \
  -- "$ORMDB" schema apply "$DATA_DIR/blog.ormdb" --data "$D"
expect "applying it again changes nothing" 0 "no changes" \
  -- "$ORMDB" --data "$D" schema apply "$DATA_DIR/blog.ormdb"

"$ORMDB" --data "$D" schema show > "$WORK/shown.ormdb"
expect "schema show round-trips through the parser" 0 "no changes" \
  -- "$ORMDB" --data "$D" schema apply "$WORK/shown.ormdb"
expect "schema show --json" 0 '^\{"version":1,"enums":\[\{"name":"Status","values":\["draft","published"\]\}\]' \
  -- "$ORMDB" --data "$D" schema show --json

printf 'entity User {\n  id: id\n  email: strng\n}\n' > "$WORK/typo.ormdb"
expect "schema errors give file:line:col and a suggestion" 1 \
  "error: SCHEMA_ERROR: typo.ormdb:3:10: .*'strng'.*did you mean 'string'" \
  -- "$ORMDB" --data "$D" schema apply "$WORK/typo.ormdb"

# A schema apply that fails on a missing directory leaves nothing behind (nor
# the parents it created); on an empty directory, leaves it empty. A dry run
# plans against an empty database and leaves nothing either.
expect "a bad schema on a missing directory" 1 "error: SCHEMA_ERROR: typo.ormdb:3:10" \
  -- "$ORMDB" --data "$WORK/fresh/nested/db" schema apply "$WORK/typo.ormdb"
[[ ! -e "$WORK/fresh" ]] && ok || fail "a failed schema apply left $(find "$WORK/fresh")"
mkdir "$WORK/empty"
expect "a bad schema on an empty directory" 1 "error: SCHEMA_ERROR: typo.ormdb:3:10" \
  -- "$ORMDB" --data "$WORK/empty" schema apply "$WORK/typo.ormdb"
[[ -d "$WORK/empty" && -z "$(ls -A "$WORK/empty")" ]] && ok ||
  fail "a failed schema apply left files in an empty directory: $(ls -A "$WORK/empty")"
expect "a dry run on a missing directory" 0 $'grade: A\n\\[A\\] add enum Status' \
  -- "$ORMDB" --data "$WORK/fresh/db" schema apply "$DATA_DIR/blog.ormdb" --dry-run
[[ ! -e "$WORK/fresh" ]] && ok || fail "a dry run left $(find "$WORK/fresh")"

# --- data -------------------------------------------------------------------
# 2000 users, 4000 posts, 50 tags, 4000 links, 3000 comments, generated
# deterministically in the form export writes (every field, ids given).
awk 'BEGIN {
  for (i = 1; i <= 2000; i++)
    printf "{\"id\":%d,\"email\":\"user%d@example.com\",\"name\":\"User %d\",\"age\":%s,\"created_at\":\"2024-01-01T00:00:%02dZ\"}\n",
      i, i, i, (i % 7 == 0 ? "null" : 20 + i % 50), i % 60
}' > "$WORK/users.jsonl"
awk 'BEGIN {
  for (i = 1; i <= 4000; i++)
    printf "{\"id\":%d,\"title\":\"Post %d\",\"status\":\"%s\",\"created_at\":\"2024-02-01T10:%02d:00.500Z\",\"author\":%d}\n",
      i, i, (i % 3 == 0 ? "draft" : "published"), i % 60, 1 + i % 2000
}' > "$WORK/posts.jsonl"
awk 'BEGIN {
  print "id,name"
  for (i = 1; i <= 50; i++) printf "%d,\"tag, %d\"\n", i, i
}' > "$WORK/tags.csv"
awk 'BEGIN { for (i = 1; i <= 4000; i++) printf "{\"from\":%d,\"to\":%d}\n", i, 1 + i % 50 }' \
  > "$WORK/post_tags.jsonl"
awk 'BEGIN {
  for (i = 1; i <= 3000; i++)
    printf "{\"id\":%d,\"body\":\"Comment %d\",\"created_at\":\"2024-03-01T00:00:00Z\",\"post\":%d,\"author\":%s}\n",
      i, i, 1 + i % 4000, (i % 5 == 0 ? "null" : 1 + i % 2000)
}' > "$WORK/comments.jsonl"

expect "import users" 0 '"rows": 2000' -- "$ORMDB" --data "$D" import User "$WORK/users.jsonl"
expect "import posts" 0 '"rows": 4000' -- "$ORMDB" --data "$D" import Post "$WORK/posts.jsonl"
expect "import tags from csv" 0 '"rows": 50' -- "$ORMDB" --data "$D" import Tag "$WORK/tags.csv"
expect "import relation pairs" 0 '"rows": 4000' -- "$ORMDB" --data "$D" import Post.tags "$WORK/post_tags.jsonl"
expect "import comments" 0 '"rows": 3000' -- "$ORMDB" --data "$D" import Comment "$WORK/comments.jsonl"

"$ORMDB" --data "$D" export User > "$WORK/users.out"
same "export User equals what was imported" "$WORK/users.jsonl" "$WORK/users.out"
"$ORMDB" --data "$D" export Post > "$WORK/posts.out"
same "export Post equals what was imported" "$WORK/posts.jsonl" "$WORK/posts.out"
"$ORMDB" --data "$D" export Comment > "$WORK/comments.out"
same "export Comment equals what was imported" "$WORK/comments.jsonl" "$WORK/comments.out"
"$ORMDB" --data "$D" export Post.tags > "$WORK/post_tags.out"
same "export Post.tags equals what was imported" "$WORK/post_tags.jsonl" "$WORK/post_tags.out"
expect "csv quoting survives" 0 '^\{"id":7,"name":"tag, 7"\}$' -- "$ORMDB" --data "$D" get Tag 7

# A bad line stops the import with its line number; nothing is written.
before="$("$ORMDB" --data "$D" stats)"
awk 'BEGIN { for (i = 1; i <= 9; i++) printf "{\"id\":%d,\"email\":\"new%d@x\",\"name\":\"n\"}\n", 10000 + i, i
             print "{\"id\":99999,\"email\":\"x\",\"name\":5}" }' > "$WORK/bad.jsonl"
expect "a bad line reports its number" 1 \
  'error: CONSTRAINT_VIOLATION: line 10 \(insert User\): field User.name: 5 is not a string' \
  -- "$ORMDB" --data "$D" import User "$WORK/bad.jsonl"
printf '{"id":50000,"email":"ok@x","name":"ok"}\n{"id": 50001, "email": \n' > "$WORK/broken.jsonl"
expect "malformed JSON reports its line" 1 'error: INVALID_ARGUMENT: line 2: invalid JSON' \
  -- "$ORMDB" --data "$D" import User "$WORK/broken.jsonl"
# Input is streamed: a line past the limit (64 MiB) is refused as soon as it
# passes it, naming its line, with memory bounded by the limit, not by the
# input (1 GiB here, a sparse file of NUL bytes after two good lines).
printf '{"id":60001,"email":"s1@x","name":"s"}\n{"id":60002,"email":"s2@x","name":"s"}\n' >"$WORK/huge.jsonl"
truncate -s 1G "$WORK/huge.jsonl"
# The bound on the import's peak memory: well under the 1 GiB it must not
# buffer. Under AddressSanitizer freed buffers wait in its quarantine (256 MB
# by default), so the sanitizer build allows that much more.
rss_limit_kb=262144
[[ -n "${ORMDB_SANITIZED:-}" ]] && rss_limit_kb=$((262144 + 262144))
expect "a line past the limit is refused with its number" 1 \
  '^error: INVALID_ARGUMENT: line 3: longer than 67108864 bytes, the longest line an import reads' \
  -- /usr/bin/time -f '%M' -o "$WORK/huge.rss" "$ORMDB" --data "$D" import User "$WORK/huge.jsonl"
rss_kb="$(tail -1 "$WORK/huge.rss")"
[[ "$rss_kb" =~ ^[0-9]+$ && "$rss_kb" -lt "$rss_limit_kb" ]] && ok || fail "import of a 1 GiB line took $rss_kb KB"
rm -f "$WORK/huge.jsonl"
# The same from a pipe: the import stops reading, whatever follows.
expect "a line past the limit, from a pipe" 1 \
  '^error: INVALID_ARGUMENT: line 2: longer than 67108864 bytes' \
  -- bash -c "{ printf '{\"id\":60003}\n'; head -c 1G /dev/zero; } |
    /usr/bin/time -f '%M' -o '$WORK/pipe.rss' '$ORMDB' --data '$D' import User -"
rss_kb="$(tail -1 "$WORK/pipe.rss")"
[[ "$rss_kb" =~ ^[0-9]+$ && "$rss_kb" -lt "$rss_limit_kb" ]] && ok || fail "import of a 1 GiB line from a pipe took $rss_kb KB"
printf 'id,email,name\n' >"$WORK/huge.csv"
truncate -s 1G "$WORK/huge.csv"
expect "a CSV record past the limit" 1 '^error: INVALID_ARGUMENT: line 2: longer than 67108864 bytes' \
  -- "$ORMDB" --data "$D" import User "$WORK/huge.csv"
rm -f "$WORK/huge.csv"
after="$("$ORMDB" --data "$D" stats)"
[[ "$before" == "$after" ]] && ok || fail "a failed import changed the database"
expect "no partial batch" 1 "NOT_FOUND" -- "$ORMDB" --data "$D" get User 10001

# --- mutate -----------------------------------------------------------------
cat > "$WORK/batch.json" <<'EOF'
{"ops": [
  {"op": "insert", "entity": "User", "values": {"email": "ann@example.com", "name": "Ann", "created_at": "2024-05-01T12:30:00Z"}, "as": "ann"},
  {"op": "insert", "entity": "Post", "values": {"title": "Hello", "author": {"ref": "ann"}, "created_at": 1714566600000000}, "as": "hello"},
  {"op": "update", "entity": "User", "id": 5, "set": {"name": "Bo"}},
  {"op": "upsert", "entity": "Tag", "key": {"name": "cpp"}, "values": {"name": "cpp"}},
  {"op": "link", "relation": "Post.tags", "from": {"ref": "hello"}, "to": 3},
  {"op": "delete", "entity": "Post", "id": 9}
]}
EOF
expect "mutate a batch" 0 \
  '^\{"version":[0-9]+,"refs":\{"ann":2001,"hello":4001\},"results":\[\{"id":2001\},\{"id":4001\},\{"id":5\},\{"id":51,"inserted":true\},\{"changed":true\},\{"id":9,"cascaded":1\}\]\}$' \
  -- "$ORMDB" --data "$D" mutate "$WORK/batch.json"
expect "get the inserted user" 0 \
  '^\{"id":2001,"email":"ann@example.com","name":"Ann","age":null,"created_at":"2024-05-01T12:30:00Z"\}$' \
  -- "$ORMDB" --data "$D" get User 2001
expect "get the inserted post (defaults applied)" 0 \
  '^\{"id":4001,"title":"Hello","status":"draft","created_at":"2024-05-01T12:30:00Z","author":2001\}$' \
  -- "$ORMDB" --data "$D" get Post 4001
expect "the deleted post is gone" 1 "NOT_FOUND: Post 9 does not exist" -- "$ORMDB" --data "$D" get Post 9
expect "mutate from stdin" 0 '"results":\[\{"id":4001\}\]' \
  -- bash -c "echo '{\"ops\":[{\"op\":\"update\",\"entity\":\"Post\",\"id\":4001,\"set\":{\"status\":\"published\"}}]}' | '$ORMDB' --data '$D' mutate -"
expect "restrict-free cascade: deleting a user removes its posts and their comments" 0 '"cascaded":' \
  -- bash -c "echo '{\"ops\":[{\"op\":\"delete\",\"entity\":\"User\",\"id\":1}]}' | '$ORMDB' --data '$D' mutate -"
expect "constraint errors name op, entity, field and value" 1 \
  'error: CONSTRAINT_VIOLATION: ops\[0\] \(insert User\): unique User\(email\): User.email = "user2@example.com" is already held by User 2' \
  -- bash -c "echo '{\"ops\":[{\"op\":\"insert\",\"entity\":\"User\",\"values\":{\"email\":\"user2@example.com\",\"name\":\"x\"}}]}' | '$ORMDB' --data '$D' mutate -"
expect "malformed batch" 1 'error: INVALID_ARGUMENT' -- bash -c "echo '{\"ops\": [' | '$ORMDB' --data '$D' mutate -"

# --- migrations -------------------------------------------------------------
sed 's/  age: int32?/  age: int32?\n  bio: string?/' "$DATA_DIR/blog.ormdb" > "$WORK/v2.ormdb"
expect "grade A: add an optional field" 0 $'grade: A\n\\[A\\] add field User.bio \\(optional\\)\napplied: schema version 2' \
  -- "$ORMDB" --data "$D" schema apply "$WORK/v2.ormdb"
sed 's/  title: string @check(length(title) > 0)/  title: string @check(length(title) > 0) @index/' "$WORK/v2.ormdb" > "$WORK/v3.ormdb"
expect "grade B: an index built online over existing rows" 0 \
  $'grade: B\n\\[B\\] add index Post\\(title\\) \\(built online\\)\napplied: schema version 3 at commit version [0-9]+ \\(1 index\\(es\\) built, [0-9]+ rows\\)' \
  -- "$ORMDB" --data "$D" schema apply "$WORK/v3.ormdb"
sed 's/  name: string @index/  name: string @unique/' "$WORK/v3.ormdb" > "$WORK/v4.ormdb"
"$ORMDB" --data "$D" mutate - > /dev/null <<'EOF'
{"ops": [{"op": "update", "entity": "User", "id": 3, "set": {"name": "User 4"}}]}
EOF
expect "grade B: a unique index that data violates is refused with the rows" 1 \
  'error: CONSTRAINT_VIOLATION: 1 row violates a new unique index of User; nothing was changed:.*ids 3 and 4 hold the same value' \
  -- "$ORMDB" --data "$D" schema apply "$WORK/v4.ormdb"
sed 's/  age: int32?/  age: int32/' "$WORK/v3.ormdb" > "$WORK/v5.ormdb"
expect "grade C: making a field with nulls required is refused" 1 \
  'error: CONSTRAINT_VIOLATION: [0-9]+ rows violate the new schema of User; nothing was changed:.*User 7: field User.age is required' \
  -- "$ORMDB" --data "$D" schema apply "$WORK/v5.ormdb"
expect "a dry run exits 0 whatever the grade" 0 $'grade: D\n\\[D\\] drop field User.bio' \
  -- "$ORMDB" --data "$D" schema apply "$DATA_DIR/blog.ormdb" --dry-run
expect "a dry run in JSON" 0 '^\{"grade":"D","changes":\[\{"grade":"D","change":"drop field User.bio \(its data is lost\)"\}' \
  -- "$ORMDB" --data "$D" schema apply "$DATA_DIR/blog.ormdb" --dry-run --format json
expect "grade D is refused without consent" 1 'error: MIGRATION_REFUSED: .*\[D\] drop field User.bio' \
  -- "$ORMDB" --data "$D" schema apply "$DATA_DIR/blog.ormdb"
expect "grade D with consent" 0 'applied: schema version 4' \
  -- "$ORMDB" --data "$D" schema apply "$DATA_DIR/blog.ormdb" --allow-destructive
expect "history lists every version" 0 \
  $'version +commit +time +grade +summary\n1 .* A +6 changes: add enum Status.*\n2 .* A +1 change: add field User.bio.*\n3 .* B +1 change: add index Post\\(title\\).*\n4 .* D +2 changes: drop field User.bio.*' \
  -- "$ORMDB" --data "$D" schema history
expect "rows survive the migrations" 0 '^\{"id":2,"email":"user2@example.com","name":"User 2","age":22,' \
  -- "$ORMDB" --data "$D" get User 2

# --- usage ------------------------------------------------------------------
expect "a flag of another command is refused" 2 "--dry-run does not apply to get" \
  -- "$ORMDB" --data "$D" get User 2 --dry-run
expect "--format takes text or json" 2 "--format is text or json" \
  -- "$ORMDB" --data "$D" schema show --format yaml
expect "a CSV timestamp may be integer microseconds" 0 '"rows": 1' \
  -- bash -c "printf 'id,email,name,created_at\n90001,csv@x,C,1714566600000000\n' > '$WORK/ts.csv' && '$ORMDB' --data '$D' import User '$WORK/ts.csv'"
expect "and reads back as RFC 3339" 0 '"created_at":"2024-05-01T12:30:00Z"' -- "$ORMDB" --data "$D" get User 90001

# CSV cells: invalid UTF-8 is refused like in JSON lines (nothing is
# replaced), naming the line and the field; a quoted empty cell is the empty
# string, an unquoted one null.
printf 'id,email,name\n90002,u1@x,ok\n90003,u2@x,"b\377d"\n' >"$WORK/bad_utf8.csv"
expect "invalid UTF-8 in a CSV cell" 1 \
  '^error: INVALID_ARGUMENT: line 3, field 3 \(name\): expected valid UTF-8, found byte 0xff at byte 2 of the field$' \
  -- "$ORMDB" --data "$D" import User "$WORK/bad_utf8.csv"
expect "nothing of it was written" 1 "NOT_FOUND" -- "$ORMDB" --data "$D" get User 90002
printf 'id,em\303ail,name\n' >"$WORK/bad_header.csv"
expect "invalid UTF-8 in a CSV header" 1 \
  '^error: INVALID_ARGUMENT: line 1, field 2 of the header: expected valid UTF-8, found byte 0xc3' \
  -- "$ORMDB" --data "$D" import User "$WORK/bad_header.csv"
printf 'id,email,name,age\n90004,"u4@x","",\n90005,u5@x,"say ""hi""",""\n' >"$WORK/empty_age.csv"
expect "a quoted empty cell is not a number" 1 \
  '^error: CONSTRAINT_VIOLATION: line 3: field User.age: "" \(a quoted empty cell, the empty string\) is not a int32; an empty cell without quotes is null$' \
  -- "$ORMDB" --data "$D" import User "$WORK/empty_age.csv"
printf 'id,email,name,age\n90004,"u4@x","",\n90005,u5@x,"say ""hi""",7\n' >"$WORK/empty.csv"
expect "quoted and unquoted empty cells" 0 '"rows": 2' -- "$ORMDB" --data "$D" import User "$WORK/empty.csv"
expect "a quoted empty cell is the empty string, an unquoted one null" 0 \
  '^\{"id":90004,"email":"u4@x","name":"","age":null,' -- "$ORMDB" --data "$D" get User 90004
printf 'id,email,name\n90006,u6@x,\n' >"$WORK/null_name.csv"
expect "an unquoted empty cell is null, so a required field refuses it" 1 \
  'error: CONSTRAINT_VIOLATION: line 2 \(insert User\): field User.name is required' \
  -- "$ORMDB" --data "$D" import User "$WORK/null_name.csv"
expect "get needs two arguments" 2 "get needs ENTITY and ID" -- "$ORMDB" --data "$D" get User
expect "unknown entity" 1 "SCHEMA_ERROR: unknown entity 'Usr' \(did you mean 'User'\?\)" \
  -- "$ORMDB" --data "$D" export Usr
expect "check is clean after it all" 0 "^ok: version" -- "$ORMDB" --data "$D" check

# --- @maintain ------------------------------------------------------------------
M="$WORK/maintain"
printf 'entity Movie {\n  id: id\n  title: string\n  reviews: [Review] @inverse(movie)\n}\nentity Review {\n  id: id\n  rating: int32?\n  movie: Movie @on_delete(cascade)\n}\n' > "$WORK/m1.ormdb"
sed 's/@inverse(movie)/@inverse(movie) @maintain(rating)/' "$WORK/m1.ormdb" > "$WORK/m2.ormdb"
"$ORMDB" --data "$M" schema apply "$WORK/m1.ormdb" > /dev/null
printf '{"ops": [{"op": "insert", "entity": "Movie", "values": {"id": 1, "title": "a"}}, {"op": "insert", "entity": "Review", "values": {"rating": 4, "movie": 1}}, {"op": "insert", "entity": "Review", "values": {"rating": 1, "movie": 1}}, {"op": "insert", "entity": "Review", "values": {"rating": null, "movie": 1}}]}' > "$WORK/m.json"
"$ORMDB" --data "$M" mutate "$WORK/m.json" > /dev/null
expect "adding @maintain to a populated relation is graded B" 0 \
  $'grade: B\n\\[B\\] maintain Movie.reviews \\(count, rating\\): a record per Movie is built' \
  -- "$ORMDB" --data "$M" schema apply "$WORK/m2.ormdb"
expect "schema show prints @maintain" 0 "reviews: \\[Review\\] @inverse\\(movie\\) @maintain\\(rating\\)" \
  -- "$ORMDB" --data "$M" schema show
expect "schema show --json lists the maintained fields" 0 '"name":"reviews","target":"Review","kind":"inverse","inverse":"movie","maintain":\["rating"\]' \
  -- "$ORMDB" --data "$M" schema show --json
expect "count and avg of a maintained relation" 0 '"n":3,"a":2.5' \
  -- "$ORMDB" --data "$M" query 'Movie { n: count(reviews), a: avg(reviews.rating) }'
expect "explain names the maintained record" 0 "operation: aggregate: maintained record per parent" \
  -- "$ORMDB" --data "$M" explain 'Movie { a: avg(reviews.rating) }'
expect "as_of before the records were built computes from the rows" 0 '"n":3,"a":2.5' \
  -- "$ORMDB" --data "$M" query 'Movie { n: count(reviews), a: avg(reviews.rating) }' --as-of 2
expect "check accepts the records" 0 "^ok" -- "$ORMDB" --data "$M" check
expect "dropping @maintain is graded A" 0 $'grade: A\n\\[A\\] stop maintaining Movie.reviews' \
  -- "$ORMDB" --data "$M" schema apply "$WORK/m1.ormdb"

finish cli_catalog_test
