// What a Node fetch adds over the C++ remote fetch, for a small and a
// ~1 MB result. Not a test: prints a table.
//
// Usage (from clients/ts, after `npm ci && npm run build` and a build of ormdb):
//   ORMDB_BINARY=../../build/ormdb node bench/fetch_bench.mjs [BUILD_DIR] [ITERATIONS]
// BUILD_DIR (default ../../build) holds the static libraries that
// bench/cpp_fetch.cc is linked against (the link line of the ormdb binary).
//
// Both clients run against one `ormdb serve` on TCP loopback that this
// script starts, one at a time, each on its own connection. Columns:
//   fetch      the result in hand (C++: FetchResult, freed in the timed part;
//              Node: FetchResult, nothing read)
//   + json     and rendered as JSON text (C++ ToJson(); Node toJSONText())
//   + read     (Node) and every root's fields read through the lazy objects
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import * as ormdb from "../dist/index.js";
import { startServer, TEST_DATA } from "../test/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const BUILD = resolve(process.argv[2] ?? join(here, "../../../build"));
const ITERATIONS = Number(process.argv[3] ?? 2000);
const SOURCE = resolve(here, "../../..");

// bench/cpp_fetch.cc, linked as the ormdb binary is.
function buildCpp() {
  const out = join(tmpdir(), "ormdb_cpp_fetch");
  const linkTxt = readFileSync(join(BUILD, "tools/CMakeFiles/ormdb.dir/link.txt"), "utf8");
  const libs = linkTxt.split(/\s+/).filter((w) => w.endsWith(".a") || /\.so(\.|$)/.test(w))
    .map((w) => (w.startsWith("/") ? w : join(BUILD, "tools", w)));
  execFileSync("c++", ["-std=c++20", "-O2", "-DNDEBUG", `-I${SOURCE}/include`, join(here, "cpp_fetch.cc"), "-o", out,
    ...libs, "-lpthread"], { stdio: "inherit" });
  return out;
}

function stats(samples) {
  samples.sort((a, b) => a - b);
  return { median: samples[samples.length >> 1], mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

async function timeNode(db, query, iterations, work) {
  const samples = [];
  const warm = Math.floor(iterations / 10) + 1;
  for (let i = 0; i < iterations + warm; i++) {
    const start = process.hrtime.bigint();
    const r = await db.fetch(query);
    work(r);
    const us = Number(process.hrtime.bigint() - start) / 1000;
    if (i >= warm) samples.push(us);
  }
  return stats(samples);
}

const cpp = buildCpp();
const server = await startServer();
const db = await ormdb.connect(server.url);
await db.applySchema(readFileSync(join(TEST_DATA, "blog.ormdb"), "utf8"));
await db.mutate([
  { op: "insert", entity: "User", values: { email: "ann@example.com", name: "Ann", age: 34 }, as: "ann" },
  { op: "insert", entity: "Post", values: { title: "Hello", author: { ref: "ann" } }, as: "p" },
  { op: "insert", entity: "Tag", values: { name: "cpp" }, as: "t" },
  { op: "link", relation: "Post.tags", from: { ref: "p" }, to: { ref: "t" } },
]);
const ops = [];
for (let i = 0; i < 2000; i++) {
  ops.push({ op: "insert", entity: "Comment", values: { body: `${i} ${"c".repeat(420)}`, post: 1, author: 1 } });
}
await db.mutate(ops);

const queries = [
  ["small", 'User(where: email == "ann@example.com") { name, age, posts { title, tags { name } } }', ITERATIONS],
  ["~1 MB", "Comment { body, created_at, author { name } }", Math.max(50, Math.floor(ITERATIONS / 20))],
];
// The clients take turns in ROUNDS rounds, so that load from elsewhere on
// the machine falls on both; each cell is the median of the rounds' medians.
const ROUNDS = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = [];
for (const [name, q, total] of queries) {
  const n = Math.max(10, Math.floor(total / ROUNDS));
  const cells = { c: [], cj: [], nf: [], nj: [], nr: [] };
  let cBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const c = JSON.parse(execFileSync(cpp, [server.url, q, String(n), "blocks"], { encoding: "utf8" }));
    cells.nf.push((await timeNode(db, q, n, () => {})).median);
    const cj = JSON.parse(execFileSync(cpp, [server.url, q, String(n), "json"], { encoding: "utf8" }));
    cells.nj.push((await timeNode(db, q, n, (r) => r.toJSONText())).median);
    cells.nr.push((await timeNode(db, q, n, (r) => {
      for (const o of r) {
        o.id;
        o.body ?? o.name;
      }
    })).median);
    cells.c.push(c.median_us);
    cells.cj.push(cj.median_us);
    cBytes = c.json_bytes;
  }
  const bytes = (await db.fetch(q)).toJSONText().length;
  if (bytes !== cBytes) throw new Error(`the JSON differs: ${bytes} bytes from Node, ${cBytes} from C++`);
  rows.push({ name, bytes, n: n * ROUNDS, ...Object.fromEntries(Object.entries(cells).map(([k, v]) => [k, median(v)])) });
}
db.close();
await server.stop();

const f = (x) => x.toFixed(0);
console.log(`node ${process.versions.node}; µs per fetch, median of ${ROUNDS} rounds' medians`);
console.log("| result | JSON bytes | fetches | C++ fetch | Node fetch | added | C++ fetch + ToJson | Node fetch + toJSONText | added | Node fetch + read every root |");
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(`| ${r.name} | ${r.bytes} | ${r.n} | ${f(r.c)} | ${f(r.nf)} | ${f(r.nf - r.c)} | ${f(r.cj)} | ${f(r.nj)} | ` +
    `${f(r.nj - r.cj)} | ${f(r.nr)} |`);
}
if (!existsSync(cpp)) process.exitCode = 1;
