// Must NOT compile: each statement below is one mistake the generated
// types catch. tests/codegen/run_ts.sh compares tsc's diagnostics with
// typed_fail.expected, so each must fail for its own reason.
import { client, param, type Executor } from "./blog.js";

declare const executor: Executor;
const db = client(executor);

export async function mistakes() {
  // A field that does not exist, at the root and in an include.
  await db.User.fetch({ select: { nmae: true } });
  await db.User.fetch({ select: { posts: { select: { titel: true } } } });
  // A string compared with a number, and a number with a string.
  await db.User.fetch({ where: { age: { gte: "30" } }, select: { name: true } });
  await db.Post.fetch({ where: { title: 3 } });
  // A value that is not of the enum.
  await db.Post.fetch({ where: { status: "archived" } });
  // like on a number.
  await db.User.fetch({ where: { age: { like: "3%" } } });
  // Ordering by a relation that is not a field.
  await db.User.fetch({ orderBy: { posts: "asc" } });
  // Reading a field the selection did not ask for.
  const users = await db.User.fetch({ select: { name: true } });
  users[0].email;
  // An insert without a required field; an update of an unknown field.
  await db.User.insert({ email: "x@example.com" });
  await db.Post.update(1, { titel: "x" });
  // Linking a relation that is not many-to-many.
  await db.Post.link("comments", 1, 2);
  // An aggregate over something that is not a to-many relation.
  await db.Post.fetch({ aggregate: { n: { count: "author" } } });
  // Ordering through a to-many relation, at the root and in an include.
  await db.Comment.fetch({ orderBy: { post: { comments: "asc" } } });
  await db.User.fetch({ select: { posts: { orderBy: { tags: "asc" } } } });
  // Ordering by an aggregate the selection does not name.
  await db.User.fetch({ orderBy: { posts_n: "desc" } });
  // A param given a value of the wrong type; a param without a value.
  await db.User.fetch({ where: { age: { gte: param("min") } }, params: { min: "30" } });
  await db.User.fetch({ where: { name: param("n") } });
  // An aggregate's condition comparing a string with a number.
  await db.User.fetch({ aggregate: { n: { count: "posts", where: { title: 3 } } } });
  // An aggregate count compared with a string.
  const counts = await db.User.fetch({ aggregate: { n: { count: "posts" } } });
  if (counts[0].n === "3") return;
}
