#!/usr/bin/env bash
# The web console in headless Chromium: serves the blog schema with a post,
# loads the console with a query link (#query=...: the console runs it on
# load), and checks the rendered page: the plan tree has one node per plan
# step with its estimated and actual rows, the result tree has the rows,
# the schema diagram has every entity. Takes a screenshot (SCREENSHOT, or
# into the scratch directory). Usage: console_test.sh ORMDB CHROMIUM ROOT
source "$(dirname "$0")/cli_lib.sh"
CHROMIUM="$2"
ROOT="$3"
SCREENSHOT="${SCREENSHOT:-$WORK/console.png}"
SERVER_PID=""
cleanup() { [[ -n "$SERVER_PID" ]] && kill -9 "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

"$ORMDB" serve --data "$WORK/data" --listen tcp://127.0.0.1:0 --http-listen http://127.0.0.1:0 \
  >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
  URL="$(sed -n 's/^ormdb serving .* on //p' "$WORK/serve.log")"
  HTTP="$(sed -n 's/^ormdb metrics and console on //p' "$WORK/serve.log")"
  [[ -n "$URL" && -n "$HTTP" ]] && break
  sleep 0.05
done
[[ -n "$HTTP" ]] || { echo "server did not start:"; cat "$WORK/serve.log"; exit 1; }
export ORMDB_URL="$URL"
"$ORMDB" schema apply "$DATA_DIR/blog.ormdb" >/dev/null || fail "schema apply"
"$ORMDB" mutate "$ROOT/examples/batch.json" >/dev/null || fail "mutate"

QUERY='User { name, posts { title, tags { name } } }'
LINK="$HTTP/#query=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$QUERY")"
chrome() {
  "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --user-data-dir="$WORK/profile" --window-size=1400,1000 --virtual-time-budget=5000 "$@" \
    2>>"$WORK/chromium.log"
}
chrome --dump-dom "$LINK" >"$WORK/dom.html"
dom="$(cat "$WORK/dom.html")"

# The plan: User, User.posts, User.posts.tags, each with estimated and actual rows.
n="$(grep -o 'class="plan-node[^"]*"' "$WORK/dom.html" | wc -l)"
[[ "$n" -eq 3 ]] && ok || fail "plan nodes: $n, want 3: $(grep -o 'plan-tree.*' "$WORK/dom.html" | head -c 2000)"
for path in '>User<' '>User.posts<' '>User.posts.tags<'; do
  [[ "$dom" == *"$path"* ]] && ok || fail "plan tree lacks $path"
done
[[ "$dom" =~ rows:\ estimated\ [0-9]+\ ·\ actual\ \<span[^\>]*\>1\</span\> ]] && ok ||
  fail "no step with its actual rows"
# Each step's share of the budget: User.posts returned one row, one entity
# of 100000 and one edge of 1000000.
[[ "$dom" == *'class="step-budget">budget entities &lt;0.1%, edges &lt;0.1%<'* ]] && ok ||
  fail "no step with its budget use: $(grep -o 'step-budget[^<]*' "$WORK/dom.html")"
# The result: one root row (Ann), her post and its tag.
n="$(grep -o 'class="result-row"' "$WORK/dom.html" | wc -l)"
[[ "$n" -eq 1 ]] && ok || fail "result rows: $n, want 1"
for text in '"Ann"' '"Hello"' '"cpp"' 'posts (1)'; do
  [[ "$dom" == *"$text"* ]] && ok || fail "result tree lacks $text"
done
# The schema diagram: every entity of the blog schema.
for e in User Post Comment Tag; do
  [[ "$dom" == *"data-entity=\"$e\""* ]] && ok || fail "schema diagram lacks $e"
done
# The metrics charts and the change stream's position.
[[ "$dom" == *'id="chart-requests"'* ]] && ok || fail "no metrics charts"
[[ "$dom" =~ after\ version\ [0-9]+ ]] && ok || fail "no change stream position"

chrome --screenshot="$SCREENSHOT" "$LINK" >/dev/null
[[ "$(head -c 8 "$SCREENSHOT" | od -An -tx1 | tr -d ' \n')" == "89504e470d0a1a0a" ]] && ok ||
  fail "no PNG screenshot at $SCREENSHOT"

kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=""
finish console_test
