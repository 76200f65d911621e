// Must compile (tsc --strict) against the client generated from
// tests/data/blog.ormdb: the row types of fetches are exactly what the
// selection asks for. `Equal` assertions fail to compile when a type is
// wider or narrower than written.
import { client, ops, param, ref, type Executor, type Status } from "./blog.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<T extends true>(): void {}

declare const executor: Executor;
const db = client(executor);

export async function rows() {
  const users = await db.User.fetch({
    where: { age: { gte: 30 } },
    orderBy: { name: "asc" },
    limit: 20,
    select: { name: true, posts: { limit: 5, orderBy: { created_at: "desc" }, select: { title: true } } },
  });
  assertType<Equal<typeof users, {
    id: number; name: string; posts: { id: number; title: string }[]; "posts@next": string | null;
  }[]>>();

  // Nullable fields, enums, to-one includes (nullable when the reference is
  // optional), a reference selected bare (its id), _version.
  const comments = await db.Comment.fetch({
    where: { post: { status: "published", author: { name: { like: "A%" } } }, author: null },
    select: { body: true, _version: true, post: true, author: { select: { age: true } } },
  });
  assertType<Equal<typeof comments, {
    id: number; body: string; _version: number; post: number; author: { id: number; age: number | null } | null;
  }[]>>();
  const posts = await db.Post.fetch({
    where: { OR: [{ status: "draft" }, { created_at: { gte: new Date("2024-02-05T00:00:00Z") } }] },
    select: { status: true, author: { select: { email: true } }, tags: { select: { name: true } } },
    aggregate: { comments_n: { count: "comments" }, commenters: { countDistinct: "comments.author" } },
  });
  assertType<Equal<typeof posts, {
    id: number; status: Status; author: { id: number; email: string };
    tags: { id: number; name: string }[]; comments_n: number; commenters: number;
  }[]>>();

  // Aggregates inside includes, a to-many include as `true` (ids only).
  const tags = await db.Tag.fetch({
    select: { posts: { select: { title: true }, aggregate: { n: { count: "comments" } } } },
  });
  assertType<Equal<typeof tags, { id: number; posts: { id: number; title: string; n: number }[] }[]>>();
  const ids = await db.User.fetch({ select: { posts: true } });
  assertType<Equal<typeof ids, { id: number; posts: { id: number }[] }[]>>();

  const page = await db.User.fetchPage({ limit: 2, select: { email: true } });
  const next: string | null = page.next;
  assertType<Equal<typeof page.data, { id: number; email: string }[]>>();
  const text: string = db.User.query({ where: { id: { in: [1, 2] } }, select: { name: true } });
  return [next, text];
}

// Params typed as the fields they are compared with (in the root's where,
// an include's, an aggregate's); ordering by a path through references and
// by aggregates; an aggregate's condition; min and max typed as the field.
export async function paramsAndOrders() {
  const users = await db.User.fetch({
    where: { age: { gte: param("min") }, name: { like: param("pattern") }, id: { in: [param("first"), 2] } },
    params: { min: 30, pattern: "A%", first: 1, status: "published", since: new Date(0) },
    orderBy: [{ posts_n: "desc" }, { name: "asc" }],
    select: {
      name: true,
      posts: {
        where: { status: param("status") }, orderBy: [{ author: { name: "asc" } }, { comments_n: "desc" }],
        select: { title: true },
        aggregate: { comments_n: { count: "comments", where: { created_at: { gt: param("since") } } } },
      },
    },
    aggregate: {
      posts_n: { count: "posts", where: { status: "published" } },
      last: { max: "posts.created_at" }, first_status: { min: "posts.status" },
    },
  });
  assertType<Equal<typeof users, {
    id: number; name: string; posts: { id: number; title: string; comments_n: number }[];
    posts_n: number; last: string | null; first_status: Status | null;
  }[]>>();
  const comments = await db.Comment.fetch({
    where: { post: { author: param("author") } }, params: { author: 1 },
    orderBy: [{ post: { author: { name: "desc" } } }, { author: "asc" }], select: { body: true },
  });
  assertType<Equal<typeof comments, { id: number; body: string }[]>>();
  return [users, comments];
}

export async function mutations() {
  const id: number = await db.User.insert({ email: "dee@example.com", name: "Dee" });
  await db.User.update(id, { age: 40 });
  await db.User.update(id, { age: null });
  const up: { id: number; inserted: boolean } = await db.Tag.upsert({ name: "c" }, { name: "c" });
  const changed: boolean = await db.Post.link("tags", 1, up.id);
  const result = await db.batch([
    ops.User.insert({ email: "eve@example.com", name: "Eve", created_at: "2024-03-01T00:00:00Z" }, "eve"),
    ops.Post.insert({ title: "Hi", author: ref("eve") }, "hi"),
    ops.Post.link("tags", ref("hi"), 1),
    ops.Post.update(ref("hi"), { status: "published" }, 3),
    ops.Comment.delete(1),
  ]);
  const version: number = result.version;
  return [changed, version];
}
