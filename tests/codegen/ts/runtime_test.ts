// Runs the generated client (from tests/data/blog.ormdb) on a database
// through the `ormdb` command line: each typed fetch must return what the
// text form of the same query returns, and typed mutations must apply.
// Usage: node runtime_test.js ORMDB DATA_DIR
import { spawnSync } from "node:child_process";
import { deepStrictEqual, strictEqual } from "node:assert";
import { client, ops, param, ref, type Executor } from "./blog.js";

const [ormdb, data] = process.argv.slice(2);
function run(args: string[], input?: string): unknown {
  const r = spawnSync(ormdb, ["--data", data, ...args], { input, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ormdb ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
// The Executor contract over the command line.
const paramArgs = (params?: object) =>
  Object.entries(params ?? {}).flatMap(([name, value]) => ["--param", `${name}=${JSON.stringify(value)}`]);
const executor: Executor = {
  fetch: async (query, params) => run(["query", query, ...paramArgs(params)]),
  mutate: async (batch) => run(["mutate", "-"], typeof batch === "string" ? batch : JSON.stringify(batch)),
};
const db = client(executor);
let checked = 0;
async function same(page: Promise<unknown>, text: string, params?: object) {
  deepStrictEqual(await page, run(["query", text, ...paramArgs(params)]), text);
  checked++;
}

await same(db.User.fetchPage({
  where: { age: { gte: 30 } }, orderBy: { name: "asc" }, limit: 20,
  select: { name: true, posts: { limit: 5, orderBy: { created_at: "desc" }, select: { title: true } } },
}), "User(where: age >= 30, order: name, limit: 20) { name, posts(order: created_at desc, limit: 5) { title } }");
await same(db.Post.fetchPage({
  where: { status: "published", author: { name: "Ann" } }, orderBy: [{ created_at: "desc" }, { id: "asc" }],
  select: { title: true, status: true, author: { select: { email: true } }, tags: { orderBy: { name: "asc" }, select: { name: true } } },
  aggregate: { comments_n: { count: "comments" }, commenters: { countDistinct: "comments.author" } },
}), 'Post(where: status == "published" and author.name == "Ann", order: [created_at desc, id]) ' +
  "{ title, status, author { email }, tags(order: name) { name }, comments_n: count(comments), commenters: count_distinct(comments.author) }");
await same(db.User.fetchPage({
  where: { OR: [{ age: { lt: 30 } }, { age: null }], NOT: { name: { like: "Z%" } } },
  select: { name: true, age: true, _version: true },
}), 'User(where: (age < 30 or age is null) and not (name like "Z%")) { name, age, _version }');
await same(db.Comment.fetchPage({
  where: { post: { author: { age: { gt: 40 } } }, author: { isNull: false }, id: { in: [1, 2, 3, 4], notIn: [2] } },
  select: { body: true, post: true, author: { select: { name: true } } },
}), "Comment(where: post.author.age > 40 and author is not null and id in [1, 2, 3, 4] and id not in [2]) { body, post, author { name } }");
await same(db.Tag.fetchPage({
  where: { name: { ne: "x" } },
  select: { posts: { select: { title: true }, aggregate: { n: { count: "comments" } } } },
}), 'Tag(where: name != "x") { posts { title, n: count(comments) } }');
await same(db.User.fetchPage({ where: { id: 1 }, select: { posts: true } }), "User(where: id == 1) { posts { id } }");
// Params (root, include and aggregate conditions, in-lists, like), order by
// paths through references and by aggregates, aggregates with conditions.
await same(db.User.fetchPage({
  where: { age: { gte: param("min") }, name: { like: param("pattern") }, id: { in: [param("first"), 3] } },
  params: { min: 30, pattern: "A%", first: 1, status: "published", since: "2024-02-02T08:30:00Z" },
  orderBy: [{ posts_n: "desc" }, { name: "asc" }],
  select: {
    name: true,
    posts: {
      where: { status: param("status") }, orderBy: [{ comments_n: "desc" }, { author: { name: "asc" } }],
      select: { title: true },
      aggregate: { comments_n: { count: "comments", where: { created_at: { gt: param("since") } } } },
    },
  },
  aggregate: { posts_n: { count: "posts", where: { status: "published" } }, last: { max: "posts.created_at" } },
}), 'User(where: age >= $min and name like $pattern and id in [$first, 3], order: [posts_n desc, name]) ' +
  "{ name, posts(where: status == $status, order: [comments_n desc, author.name]) " +
  "{ title, comments_n: count(comments where created_at > $since) }, " +
  'posts_n: count(posts where status == "published"), last: max(posts.created_at) }',
  { min: 30, pattern: "A%", first: 1, status: "published", since: "2024-02-02T08:30:00Z" });
await same(db.Comment.fetchPage({
  where: { post: { author: param("author") } }, params: { author: 1 },
  orderBy: [{ post: { author: { name: "desc" } } }, { post: { title: "asc" } }, { id: "desc" }],
  select: { body: true },
}), "Comment(where: post.author == $author, order: [post.author.name desc, post.title, id desc]) { body }", { author: 1 });

// fetch returns the rows; query is the JSON IR the fetch sends.
deepStrictEqual(await db.Tag.fetch({ orderBy: { name: "desc" }, select: { name: true } }),
  [{ id: 2, name: "db" }, { id: 1, name: "cpp" }]);
deepStrictEqual(JSON.parse(db.User.query({ where: { age: { gte: 30 } }, select: { name: true } })),
  { entity: "User", where: { op: ">=", args: [{ path: "age" }, { value: 30 }] }, select: ["name"] });

// Mutations: one op at a time, and a batch with refs.
const dee = await db.User.insert({ email: "dee@example.com", name: "Dee", created_at: new Date("2024-03-01T00:00:00Z") });
strictEqual(await db.User.update(dee, { age: 44 }), dee);
const up = await db.Tag.upsert({ name: "ts" }, { name: "ts" });
strictEqual(up.inserted, true);
const result = await db.batch([
  ops.Post.insert({ title: "Typed", author: dee, status: "published" }, "typed"),
  ops.Post.link("tags", ref("typed"), up.id),
  ops.Comment.insert({ body: "First", post: ref("typed") }, "c"),
  ops.Comment.update(ref("c"), { body: "First!" }),
]);
const typed = result.refs.typed as number;
strictEqual(await db.Post.link("tags", typed, up.id), false);
deepStrictEqual(await db.User.fetch({ where: { email: "dee@example.com" }, select: {
  name: true, age: true, created_at: true, posts: { select: { title: true, tags: { select: { name: true } }, comments: { select: { body: true } } } },
} }), [{ id: dee, name: "Dee", age: 44, created_at: "2024-03-01T00:00:00Z",
  posts: [{ id: typed, title: "Typed", tags: [{ id: up.id, name: "ts" }], comments: [{ id: 5, body: "First!" }] }] }]);
strictEqual(await db.Post.unlink("tags", typed, up.id), true);
deepStrictEqual(await db.User.delete(dee), { id: dee, cascaded: 2 });
strictEqual((await db.User.fetch({ where: { email: "dee@example.com" } })).length, 0);
console.log(`runtime_test: ${checked} fetches as the text form, mutations applied`);
