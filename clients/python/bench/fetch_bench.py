"""What a Python fetch adds over the C++ one, for a small and a ~1 MB
result, embedded and remote. Not a test: prints a table.

Usage (after a build of ormdb with the Python client, e.g. `make -C build
ormdb ormdb_python`):
    python3 clients/python/bench/fetch_bench.py [BUILD_DIR] [ITERATIONS]
BUILD_DIR (default build) holds the Python package (BUILD_DIR/python), the
ormdb binary (the server of the remote rows), and the static libraries that
bench/cpp_fetch.cc is linked against (the link line of the ormdb binary,
without mimalloc: the Python module runs on the C library's allocator, and
so does the C++ side here).

Both processes run with glibc's malloc set to keep what it frees
(GLIBC_TUNABLES mmap_threshold and trim_threshold; the script re-runs itself
with them, and the C++ process and the server inherit them):
otherwise a ~1 MB result's pages are returned to the kernel after each
fetch and faulted in again by the next, in a process whose heap is as fresh
as cpp_fetch's but not in one as fragmented as Python's, which measures the
heaps' histories rather than the clients. ORMDB_BENCH_MALLOC=default runs
with glibc's defaults.

Embedded: the C++ and the Python client open the data directory in turn
(one process holds it). Remote: both against one `ormdb serve` on TCP
loopback that this script starts, each on its own connection. Columns:
  fetch      the result in hand and freed again (C++: FetchResult; Python:
             the lazy Result, nothing read, dropped)
  + json     and rendered as JSON text (C++ ToJson(); Python to_json())
  + read     (Python) and every root's fields read through the lazy objects
  + dict     (Python) and converted with to_dict()
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

KEEP_FREED = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"
if os.environ.get("ORMDB_BENCH_MALLOC") != "default" and "GLIBC_TUNABLES" not in os.environ:
    os.execve(sys.executable, [sys.executable, *sys.argv],
              {**os.environ, "GLIBC_TUNABLES": KEEP_FREED})

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "../../.."))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SOURCE, "build"))
ITERATIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
# The clients take turns in ROUNDS rounds, so that load from elsewhere on the
# machine falls on both; each cell is the median of the rounds' medians.
ROUNDS = int(os.environ.get("ORMDB_BENCH_ROUNDS", "9"))
sys.path.insert(0, os.path.join(BUILD, "python"))

import ormdb  # noqa: E402


def build_cpp(out_dir):
    """bench/cpp_fetch.cc, linked as the ormdb binary is (without mimalloc)."""
    out = os.path.join(out_dir, "cpp_fetch")
    tools = os.path.join(BUILD, "tools")
    with open(os.path.join(tools, "CMakeFiles/ormdb.dir/link.txt"), encoding="utf-8") as f:
        words = f.read().split()
    libs = [w if w.startswith("/") else os.path.join(tools, w) for w in words
            if (w.endswith(".a") or re.search(r"\.so(\.|$)", w)) and "mimalloc" not in w]
    subprocess.run(["c++", "-std=c++20", "-O2", "-DNDEBUG", f"-I{SOURCE}/include",
                    os.path.join(HERE, "cpp_fetch.cc"), "-o", out, *libs, "-lpthread"], check=True)
    return out


def cpp_fetch(cpp, target, query, n, mode):
    out = subprocess.run([cpp, *target, query, str(n), mode], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def time_python(db, query, n, work):
    """The median microseconds of n fetches (after n/10 + 1 warm-up ones)."""
    samples = []
    warm = n // 10 + 1
    for i in range(n + warm):
        start = time.perf_counter_ns()
        work(db.fetch(query))
        us = (time.perf_counter_ns() - start) / 1000
        if i >= warm:
            samples.append(us)
    return statistics.median(samples)


def read_roots(result):
    for o in result:
        o.id
        o.body if o.entity == "Comment" else o.name


def load(path):
    with ormdb.open(path) as db:
        with open(os.path.join(SOURCE, "tests/data/blog.ormdb"), encoding="utf-8") as f:
            db.apply_schema(f.read())
        db.mutate([
            {"op": "insert", "entity": "User",
             "values": {"email": "ann@example.com", "name": "Ann", "age": 34}, "as": "ann"},
            {"op": "insert", "entity": "Post", "values": {"title": "Hello", "author": {"ref": "ann"}},
             "as": "p"},
            {"op": "insert", "entity": "Tag", "values": {"name": "cpp"}, "as": "t"},
            {"op": "link", "relation": "Post.tags", "from": {"ref": "p"}, "to": {"ref": "t"}},
        ])
        db.mutate([{"op": "insert", "entity": "Comment",
                    "values": {"body": f"{i} {'c' * 420}", "post": 1, "author": 1}}
                   for i in range(2000)])


QUERIES = [
    ("small", 'User(where: email == "ann@example.com") { name, age, posts { title, tags { name } } }',
     ITERATIONS),
    ("~1 MB", "Comment { body, created_at, author { name } }", max(50, ITERATIONS // 20)),
]


def measure(mode, cpp, target, open_db, close_db):
    rows = []
    for name, q, total in QUERIES:
        n = max(10, total // ROUNDS)
        cells = {k: [] for k in ("c", "cj", "pf", "pj", "pr", "pd")}
        c_bytes = 0
        for _ in range(ROUNDS):
            close_db()
            c = cpp_fetch(cpp, target, q, n, "blocks")
            cj = cpp_fetch(cpp, target, q, n, "json")
            db = open_db()
            cells["pf"].append(time_python(db, q, n, lambda r: None))
            cells["pj"].append(time_python(db, q, n, lambda r: r.to_json()))
            cells["pr"].append(time_python(db, q, n, read_roots))
            cells["pd"].append(time_python(db, q, n, lambda r: r.to_dict()))
            cells["c"].append(c["median_us"])
            cells["cj"].append(cj["median_us"])
            c_bytes = c["json_bytes"]
        py_bytes = len(open_db().fetch(q).to_json().encode())
        if py_bytes != c_bytes:
            raise SystemExit(f"the JSON differs: {py_bytes} bytes from Python, {c_bytes} from C++")
        rows.append(dict(mode=mode, name=name, bytes=py_bytes, n=n * ROUNDS,
                         **{k: statistics.median(v) for k, v in cells.items()}))
    close_db()
    return rows


def main():
    work = tempfile.mkdtemp(prefix="ormdb-py-bench-")
    server = None
    try:
        cpp = build_cpp(work)
        data = os.path.join(work, "data")
        load(data)

        held = {}

        def open_embedded():
            if "db" not in held:
                held["db"] = ormdb.open(data)
            return held["db"]

        def close_held():
            if "db" in held:
                held.pop("db").close()

        rows = measure("embedded", cpp, ["open", data], open_embedded, close_held)

        server = subprocess.Popen(
            [os.environ.get("ORMDB_BINARY", os.path.join(BUILD, "ormdb")), "serve", "--data", data,
             "--listen", "tcp://127.0.0.1:0", "--http-listen", "off"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        m = re.match(r"ormdb serving .* on (\S+)$", server.stdout.readline().strip())
        if not m:
            raise SystemExit("the server did not start")
        url = m.group(1)

        def open_remote():
            if "db" not in held:
                held["db"] = ormdb.connect(url)
            return held["db"]

        # The Python connection stays open while the C++ client runs.
        rows += measure("remote", cpp, ["connect", url], open_remote, lambda: None)
        close_held()
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)

    f = lambda x: f"{x:.0f}" if x >= 10 else f"{x:.1f}"  # noqa: E731
    print(f"Python {sys.version.split()[0]}; GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '')}; "
          f"µs per fetch, median of {ROUNDS} rounds' medians")
    print("| mode | result | JSON bytes | fetches | C++ fetch | Python fetch | added | "
          "C++ fetch + ToJson | Python fetch + to_json | added | Python fetch + read every root | "
          "Python fetch + to_dict |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['mode']} | {r['name']} | {r['bytes']} | {r['n']} | {f(r['c'])} | {f(r['pf'])} | "
              f"{f(r['pf'] - r['c'])} | {f(r['cj'])} | {f(r['pj'])} | {f(r['pj'] - r['cj'])} | "
              f"{f(r['pr'])} | {f(r['pd'])} |")


if __name__ == "__main__":
    main()
