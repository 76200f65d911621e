// The Node.js client against an `ormdb serve` the test starts: every call,
// its results compared with the C++ client's (the CLI through --connect).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import * as ormdb from "../dist/index.js";
import { startServer, TEST_DATA } from "./server.mjs";

const BLOG = readFileSync(join(TEST_DATA, "blog.ormdb"), "utf8");

const SEED = [
  { op: "insert", entity: "User", values: { email: "ann@example.com", name: "Ann", age: 34, created_at: "2024-01-10T09:00:00Z" }, as: "ann" },
  { op: "insert", entity: "User", values: { email: "bob@example.com", name: "Bob", created_at: "2024-01-11T09:00:00.25Z" }, as: "bob" },
  { op: "insert", entity: "User", values: { email: "al@example.com", name: "Al", age: 51, created_at: "2024-01-12T09:00:00.000123Z" }, as: "al" },
  { op: "insert", entity: "Post", values: { title: "Hello", status: "published", author: { ref: "ann" }, created_at: "2024-02-01T10:00:00Z" }, as: "hello" },
  { op: "insert", entity: "Post", values: { title: "Second", status: "published", author: { ref: "ann" }, created_at: "2024-02-05T10:00:00Z" }, as: "second" },
  { op: "insert", entity: "Post", values: { title: "Draft \"quoted\" é ✓", author: { ref: "ann" }, created_at: "2024-02-09T10:00:00Z" } },
  { op: "insert", entity: "Post", values: { title: "100% sure", status: "published", author: { ref: "al" }, created_at: "2024-02-07T10:00:00Z" }, as: "sure" },
  { op: "insert", entity: "Tag", values: { name: "cpp" }, as: "cpp" },
  { op: "insert", entity: "Tag", values: { name: "db" }, as: "db" },
  { op: "link", relation: "Post.tags", from: { ref: "hello" }, to: { ref: "cpp" } },
  { op: "link", relation: "Post.tags", from: { ref: "hello" }, to: { ref: "db" } },
  { op: "link", relation: "Post.tags", from: { ref: "second" }, to: { ref: "db" } },
  { op: "insert", entity: "Comment", values: { body: "Nice", post: { ref: "hello" }, author: { ref: "bob" }, created_at: "2024-02-02T08:00:00Z" } },
  { op: "insert", entity: "Comment", values: { body: "Anon", post: { ref: "hello" }, created_at: "2024-02-02T09:00:00Z" } },
];

let server;
let db;
before(async () => {
  server = await startServer();
  db = await ormdb.connect(server.url);
  await db.applySchema(BLOG, { fileName: "blog.ormdb" });
  await db.mutate(SEED);
});
after(async () => {
  db?.close();
  await server?.stop();
});

const NESTED = "User(order: name) { name, age, created_at, posts(order: created_at desc, limit: 2) " +
  "{ title, status, author { name }, tags(order: name) { name }, comments { body, author { name } } }, " +
  "n: count(posts), published: count(posts where status == \"published\"), newest: max(posts.created_at) }";

test("a fetch with nested includes and aggregates renders as the C++ client does", async () => {
  const r = await db.fetch(NESTED);
  assert.equal(r.toJSONText(), server.cli(["query", NESTED, "--format", "json"]));
  assert.equal(r.length, 3);
  assert.deepEqual(r.roots().map((u) => u.name), ["Al", "Ann", "Bob"]);
  const ann = r.at(1);
  assert.equal(ann.entity, "User");
  assert.equal(ann.id, 1);
  assert.equal(ann.age, 34);
  assert.equal(ann.n, 3);
  assert.equal(ann.published, 2);
  assert.ok(ann.created_at instanceof Date);
  assert.equal(ann.created_at.toISOString(), "2024-01-10T09:00:00.000Z");
  assert.equal(r.at(2).age, null);
  const posts = ann.posts;
  assert.deepEqual(posts.map((p) => p.title), ["Draft \"quoted\" é ✓", "Second"]);
  assert.equal(typeof ann["posts@next"], "string");
  assert.equal(posts[1].author.name, "Ann");
  assert.deepEqual(posts[1].tags.map((t) => t.name), ["db"]);
  assert.equal(ann.get("nope"), undefined);
  assert.deepEqual(ann.toJSON(), JSON.parse(server.cli(["query", NESTED, "--format", "json"])).data[1]);
  assert.deepEqual(ann.keys(), ["id", "name", "age", "created_at", "posts", "posts@next", "n", "published", "newest"]);
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r.toJSON());
  assert.equal(r.stats.truncated, false);
  assert.equal(r.version, await db.currentVersion());
});

test("a to-one include that is null, and comments without an author", async () => {
  const q = "Comment(order: body) { body, author { name }, post { title } }";
  const r = await db.fetch(q);
  assert.equal(r.toJSONText(), server.cli(["query", q, "--format", "json"]));
  assert.equal(r.at(0).body, "Anon");
  assert.equal(r.at(0).author, null);
  assert.equal(r.at(1).author.name, "Bob");
  assert.equal(r.at(-1).post.title, "Hello");
});

test("params bind, and the JSON IR is a query too", async () => {
  const q = "User(where: age >= $min, order: name) { name, email }";
  const r = await db.fetch(q, { min: 40 });
  assert.equal(r.toJSONText(), server.cli(["query", q, "--param", "min=40", "--format", "json"]));
  assert.deepEqual([...r].map((u) => u.name), ["Al"]);
  const ir = {
    entity: "User",
    where: { op: ">=", args: [{ path: "age" }, { param: "min" }] },
    order: [{ path: "name" }],
    select: ["name", "email"],
  };
  assert.equal((await db.fetch(ir, { min: 40 })).toJSONText(), r.toJSONText());
  const t = await db.fetch("Post(where: created_at > $t, order: created_at) { title }", { t: new Date("2024-02-06T00:00:00Z") });
  assert.deepEqual([...t].map((p) => p.title), ["100% sure", "Draft \"quoted\" é ✓"]);
});

test("cursors: the next page of roots and of an include", async () => {
  const q = "Post(order: title, limit: 2) { title }";
  const first = await db.fetch(q);
  assert.equal(first.length, 2);
  assert.equal(typeof first.next, "string");
  const page = (cursor) => `Post(order: title, limit: 2, after: ${JSON.stringify(cursor)}) { title }`;
  const second = await db.fetch(page(first.next));
  assert.equal(second.toJSONText(), server.cli(["query", page(first.next), "--format", "json"]));
  const titles = [...first, ...second].map((p) => p.title);
  assert.deepEqual(titles, ["100% sure", "Draft \"quoted\" é ✓", "Hello", "Second"]);
  assert.equal(second.next, null);

  const ann = (await db.fetch("User(where: name == \"Ann\") { posts(order: title, limit: 1) { title } }")).at(0);
  const cursor = ann["posts@next"];
  assert.equal(typeof cursor, "string");
  const rest = await db.fetch(`User(where: name == "Ann") { posts(order: title, limit: 5, after: ${JSON.stringify(cursor)}) { title } }`);
  assert.deepEqual(rest.at(0).posts.map((p) => p.title), ["Hello", "Second"]);
});

test("budgets: over the budget is BUDGET_EXCEEDED, or a truncated result", async () => {
  await assert.rejects(db.fetch(NESTED, {}, { maxEntities: 2 }), (e) => {
    assert.ok(e instanceof ormdb.BudgetExceededError);
    assert.ok(e instanceof ormdb.OrmdbError);
    assert.equal(e.code, "BUDGET_EXCEEDED");
    return true;
  });
  const r = await db.fetch(NESTED, {}, { maxEntities: 4, onExceed: "truncate" });
  assert.equal(r.stats.truncated, true);
  assert.equal(r.toJSONText(),
    server.cli(["query", NESTED, "--budget-entities", "4", "--on-exceed", "truncate", "--format", "json"]));
  await assert.rejects(db.fetch(NESTED, {}, { maxDepth: 1 }), ormdb.BudgetExceededError);
});

test("as of an older version", async () => {
  const v = await db.currentVersion();
  await db.mutate([{ op: "insert", entity: "Tag", values: { name: "later" } }]);
  const old = await db.fetch("Tag(order: name) { name }", {}, { asOf: v });
  assert.deepEqual([...old].map((t) => t.name), ["cpp", "db"]);
  assert.equal(old.version, v);
  assert.equal(old.toJSONText(), server.cli(["query", "Tag(order: name) { name }", "--as-of", String(v), "--format", "json"]));
  const now = await db.fetch("Tag(order: name) { name }");
  assert.deepEqual([...now].map((t) => t.name), ["cpp", "db", "later"]);
});

test("mutate with refs, a constraint violation, and a request key", async () => {
  const r = await db.mutate({
    ops: [
      { op: "insert", entity: "User", values: { email: "dee@example.com", name: "Dee" }, as: "dee" },
      { op: "insert", entity: "Post", values: { title: "By Dee", author: { ref: "dee" } }, as: "p" },
    ],
  });
  assert.equal(typeof r.version, "number");
  assert.deepEqual(Object.keys(r.refs), ["dee", "p"]);
  const dee = await db.fetch("User(where: email == \"dee@example.com\") { posts { title } }");
  assert.equal(dee.at(0).id, r.refs.dee);
  assert.deepEqual(dee.at(0).posts.map((p) => p.id), [r.refs.p]);
  await assert.rejects(db.mutate([{ op: "insert", entity: "User", values: { email: "dee@example.com", name: "Dee 2" } }]),
    (e) => e instanceof ormdb.ConstraintViolationError && e.code === "CONSTRAINT_VIOLATION");
  const op = [{ op: "insert", entity: "Tag", values: { name: "once" } }];
  const a = await db.mutate(op, { requestKey: "tag-once" });
  const b = await db.mutate(op, { requestKey: "tag-once" });
  assert.deepEqual(b, a);
  assert.equal((await db.fetch("Tag(where: name == \"once\") { name }")).length, 1);
  const text = await db.mutate(JSON.stringify({ ops: [{ op: "update", entity: "Tag", id: a.results[0].id, set: { name: "twice" } }] }));
  assert.equal(typeof text.version, "number");
});

test("get: a row as JSON values, or null", async () => {
  assert.deepEqual(await db.get("User", 1), JSON.parse(server.cli(["get", "User", "1"])));
  assert.equal(await db.get("User", 999), null);
  await assert.rejects(db.get("Nope", 1), ormdb.SchemaError);
});

test("select: rows, columns, and the C++ JSON", async () => {
  const q = "select author.name, count() as posts from Post group by author.name order by posts desc";
  const s = await db.select(q);
  assert.equal(s.toJSONText(), server.cli(["select", q, "--format", "json"]));
  assert.deepEqual(s.columns, ["author.name", "posts"]);
  assert.deepEqual(s.at(0), ["Ann", 3]);
  assert.deepEqual(s.dicts()[0], { "author.name": "Ann", posts: 3 });
  const limited = await db.select("select title from Post where title != $t order by title limit 1", { t: "x" });
  assert.equal(limited.length, 1);
  assert.equal(typeof limited.next, "string");
  await assert.rejects(db.select("select title from Post", {}, { maxRows: 1 }), ormdb.OrmdbError);
});

test("explain: the plan as the CLI prints it", async () => {
  const q = "User(where: email == \"ann@example.com\") { name }";
  const plan = (text) => text.replace(/^plan cache: .*\n/m, "").trimEnd();
  assert.equal(plan(await db.explain(q)), plan(server.cli(["explain", q])));
  const json = JSON.parse(await db.explain(q, {}, { json: true }));
  assert.equal(typeof json, "object");
  assert.match(await db.explain(q, {}, { analyze: true }), /actual/);
  assert.match(await db.explainSelect("select title from Post"), /Post/);
});

test("errors: one class per code, with .code and the server's message", async () => {
  await assert.rejects(db.fetch("Nope { x }"), (e) => {
    assert.ok(e instanceof ormdb.SchemaError);
    assert.equal(e.code, "SCHEMA_ERROR");
    assert.match(e.message, /Nope/);
    assert.equal(String(e), `SCHEMA_ERROR: ${e.message}`);
    return true;
  });
  await assert.rejects(db.fetch("User { name"), (e) => e instanceof ormdb.InvalidArgumentError && e.code === "INVALID_ARGUMENT");
  await assert.rejects(db.fetch("User(where: age > $x) { name }"), ormdb.InvalidArgumentError);
  await assert.rejects(db.fetch("User { name }", {}, { asOf: 10 ** 9 }), ormdb.OrmdbError);
  await assert.rejects(db.applySchema("entity {"), (e) => e instanceof ormdb.OrmdbError && e.code !== undefined);
  await assert.rejects(db.fetch("User { name }", {}, { onExceed: "drop" }), ormdb.InvalidArgumentError);
  await assert.rejects(ormdb.connect("localhost:1"), ormdb.InvalidArgumentError);
  await assert.rejects(ormdb.connect("tcp://127.0.0.1:1", { timeout: 2000 }), (e) => e instanceof ormdb.UnavailableError && e.retryable);
});

test("schema, history and stats", async () => {
  assert.equal((await db.schema()).trimEnd(), server.cli(["schema", "show"]));
  assert.ok(JSON.parse(await db.schema({ json: true })));
  const h = await db.schemaHistory();
  assert.equal(h[0].schemaVersion, 1);
  const dry = await db.applySchema(BLOG + "\nentity Extra { id: id\n name: string }\n", { dryRun: true });
  assert.equal(dry.applied, false);
  assert.equal(dry.grade, "A");
  assert.match(dry.changes.map((c) => c.description).join("\n"), /Extra/);
  const stats = await db.stats();
  assert.equal(stats.current_version, await db.currentVersion());
  assert.equal(stats.server.unaligned_copies, 0);
});

test("watch: events after a version, resumed from the token", async () => {
  const start = await db.currentVersion();
  const events = db.watch(["Tag"], { after: start, wait: 2000 });
  await db.mutate([{ op: "insert", entity: "Tag", values: { name: "w1" } }]);
  await db.mutate([{ op: "insert", entity: "Comment", values: { body: "not watched", post: 1 } }]);
  const seen = [];
  for await (const e of events) {
    seen.push(e);
    break;
  }
  assert.equal(seen[0].entity, "Tag");
  assert.equal(seen[0].op, "insert");
  const token = events.token;
  assert.ok(token > start);
  await db.mutate([{ op: "insert", entity: "Tag", values: { name: "w2" } }]);
  const resumed = db.watch(["Tag"], { after: token, wait: 2000 });
  const batch = await resumed.poll();
  assert.equal(batch.length, 1);
  assert.equal(batch[0].values?.name ?? batch[0].after?.name ?? JSON.stringify(batch[0]).includes("w2"), batch[0].values?.name ?? batch[0].after?.name ?? true);
  assert.ok(JSON.stringify(batch[0]).includes("w2"));
  assert.deepEqual(await resumed.poll(200), []);
});

test("watch: a stop in the middle of a transaction resumes at that transaction", async () => {
  const start = await db.currentVersion();
  await db.mutate([{ op: "insert", entity: "Tag", values: { name: "t1" } }]);
  await db.mutate([
    { op: "insert", entity: "Tag", values: { name: "t2a" } },
    { op: "insert", entity: "Tag", values: { name: "t2b" } },
  ]);
  await db.mutate([{ op: "insert", entity: "Tag", values: { name: "t3" } }]);
  const name = (e) => e.after.name;
  // One poll returns the three transactions; the token follows what was handed out.
  const events = db.watch(["Tag"], { after: start, wait: 2000 });
  const tokens = [];
  const seen = [];
  for await (const e of events) {
    seen.push(name(e));
    tokens.push(events.token);
    if (seen.length === 2) break;  // after t2a, before t2b
  }
  assert.deepEqual(seen, ["t1", "t2a"]);
  assert.equal(tokens[0], start + 1);  // t1's transaction is whole
  assert.equal(tokens[1], start + 1);  // t2's is not
  const resumed = db.watch(["Tag"], { after: events.token, wait: 2000 });
  const again = [];
  for await (const e of resumed) {
    again.push(name(e));
    if (again.length === 3) break;
  }
  assert.deepEqual(again, ["t2a", "t2b", "t3"]);
  assert.equal(resumed.token, start + 3);
});

test("a result of about 1 MB", async () => {
  const ops = [];
  for (let i = 0; i < 2000; i++) {
    ops.push({ op: "insert", entity: "Tag", values: { name: `big-${String(i).padStart(5, "0")}-${"x".repeat(480)}` } });
  }
  await db.mutate(ops);
  const q = "Tag(where: name like \"big-%\", order: name) { name, posts { title } }";
  const r = await db.fetch(q, {}, { maxBytes: 64 << 20 });
  assert.equal(r.length, 2000);
  const text = r.toJSONText();
  assert.ok(text.length > 1000000, `${text.length} bytes`);
  assert.equal(text, server.cli(["query", q, "--format", "json"]));
  assert.equal(r.at(1999).name.slice(0, 9), "big-01999");
});

test("concurrent requests on one connection", async () => {
  const names = ["Al", "Ann", "Bob"];
  const results = await Promise.all(Array.from({ length: 60 }, (_, i) =>
    db.fetch("User(where: name == $n) { name, posts { title } }", { n: names[i % 3] })));
  results.forEach((r, i) => assert.equal(r.at(0).name, names[i % 3]));
  const mixed = await Promise.all([db.get("User", 2), db.select("select name from User order by name"), db.currentVersion()]);
  assert.equal(mixed[0].name, "Bob");
  assert.equal(mixed[1].at(0)[0], "Al");
});

test("every value type renders as the C++ client renders it", async () => {
  await db.applySchema(BLOG + `
entity Sample {
  id: uuid
  b: bool?
  i32: int32?
  i64: int64?
  f: float64?
  s: string?
  raw: bytes?
  at: timestamp?
  u: uuid?
  doc: json?
}
`);
  await db.mutate([
    { op: "insert", entity: "Sample", values: { b: true, i32: -7, i64: 9007199254740993n, f: 0.1, s: "tab\tnl\n\u0001 é", raw: "aGVsbG8=", at: "1969-12-31T23:59:59.999999Z", u: "0F8FAD5B-D9CB-469F-A165-70867728950E", doc: { b: [1, 2.0, 1e21, "x", null, { c: true }], a: 1.5e-7 } } },
    { op: "insert", entity: "Sample", values: { b: false, i32: 0, i64: -9007199254740993n, f: 1e21, s: "", raw: "", at: "2024-02-03T10:00:00.5Z", doc: 123456789 } },
    { op: "insert", entity: "Sample", values: { f: 100, doc: "text" } },
    { op: "insert", entity: "Sample", values: { f: -0.0001 } },
  ]);
  const q = "Sample(order: f) { b, i32, i64, f, s, raw, at, u, doc }";
  const r = await db.fetch(q);
  assert.equal(r.toJSONText(), server.cli(["query", q, "--format", "json"]));
  const rows = [...r];
  const first = rows.find((x) => x.i32 === -7);
  assert.equal(first.i64, 9007199254740993n);
  assert.equal(first.u, "0f8fad5b-d9cb-469f-a165-70867728950e");
  assert.equal(first.raw.toString(), "hello");
  assert.equal(first.b, true);
  assert.deepEqual(first.doc.b[5], { c: true });
  assert.match(first.id, /^[0-9a-f-]{36}$/);
  const s = await db.select("select i64, f, at, doc from Sample order by f");
  assert.equal(s.toJSONText(), server.cli(["select", "select i64, f, at, doc from Sample order by f", "--format", "json"]));
});

test("a closed connection fails its calls with UNAVAILABLE", async () => {
  const other = await ormdb.connect(server.url);
  const pending = other.watch([], { wait: 5000 }).poll();
  other.close();
  await assert.rejects(pending, ormdb.UnavailableError);
  await assert.rejects(other.currentVersion(), ormdb.UnavailableError);
});
