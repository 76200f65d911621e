// A blog API page with the generated client over the TypeScript client: a
// user with their newest posts, each post's tags and comment count. The
// same app as examples/python/blog_page.py and examples/cpp/blog_page.cc.
//
//   ormdb codegen ts tests/data/blog.ormdb -o examples/ts    # writes blog.ts
//   tsc ... && node blog_page.js tcp://127.0.0.1:7411         # run.sh does both
import { connect } from "ormdb";

import { client, ops, ref, type Client } from "./blog.js";

// The page's rows are typed from the selection: p.tags is { id, name }[],
// comments_n a number; reading a field the query did not select does not
// compile.
async function userPage(db: Client, email: string) {
  const users = await db.User.fetch({
    where: { email },
    select: {
      name: true,
      posts: {
        orderBy: { created_at: "desc" }, limit: 3,
        select: { title: true, created_at: true, tags: { select: { name: true } } },
        aggregate: { comments_n: { count: "comments" } },
      },
    },
  });
  return users.map((u) => ({
    user: u.name,
    posts: u.posts.map((p) => ({
      title: p.title, at: p.created_at, tags: p.tags.map((t) => t.name), comments: p.comments_n,
    })),
  }));
}

const url = process.argv[2] ?? "tcp://127.0.0.1:7411";
const conn = await connect(url, { key: process.env.ORMDB_KEY });
try {
  const db = client(conn);  // the TypeScript client is the generated client's executor
  const result = await db.batch([
    ops.User.insert({ email: "ann@example.com", name: "Ann" }, "ann"),
    ops.Tag.insert({ name: "db" }, "db"),
    ops.Post.insert({ title: "Hello", author: ref("ann"), created_at: new Date("2024-02-01T10:00:00Z") }, "hello"),
    ops.Post.insert({ title: "Second", author: ref("ann"), created_at: new Date("2024-02-05T10:00:00Z") }),
    ops.Post.link("tags", ref("hello"), ref("db")),
    ops.Comment.insert({ body: "Nice", post: ref("hello") }),
  ]);
  if (result.refs.ann !== 1) throw new Error(`unexpected refs: ${JSON.stringify(result.refs)}`);
  console.log(JSON.stringify(await userPage(db, "ann@example.com")));
} finally {
  conn.close();
}
