// Embedded use of ormdb from C++: open a data directory in this process,
// apply a schema, write a batch, read a row back, fetch a graph and walk it. Built and run by the
// tests (ctest: example_embedded), and quoted in README.md.
#include <cstdio>

#include "ormdb/database.h"

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : "./ormdb-example";
  auto db = ormdb::Database::Open(dir);  // one process holds a data directory
  if (!db.ok()) {
    std::fprintf(stderr, "error: %s\n", db.status().ToString().c_str());
    return 1;
  }
  auto plan = (*db)->ApplySchema(R"(
    entity User {
      id: id
      email: string @unique
      name: string
      posts: [Post] @inverse(author)
    }
    entity Post {
      id: id
      title: string
      author: User @on_delete(cascade)
    }
  )");
  if (!plan.ok()) return std::fprintf(stderr, "%s\n", plan.status().ToString().c_str()), 1;
  std::printf("%s", plan->ToText().c_str());  // grade: A, [A] add entity User, ...

  auto r = (*db)->Mutate(R"({"ops": [
    {"op": "upsert", "entity": "User", "key": {"email": "ann@example.com"},
     "values": {"name": "Ann"}, "as": "ann"},
    {"op": "insert", "entity": "Post", "values": {"title": "Hello", "author": {"ref": "ann"}}}
  ]})");
  if (!r.ok()) return std::fprintf(stderr, "%s\n", r.status().ToString().c_str()), 1;
  std::printf("%s\n", r->json.c_str());  // {"version":2,"refs":{"ann":1},"results":[...]}

  auto user = (*db)->Get("User", "1");  // the row as JSON, or nullopt
  if (!user.ok() || !*user) return 1;
  std::printf("%s\n", (*user)->c_str());  // {"id":1,"email":"ann@example.com","name":"Ann"}

  // A graph fetch: users with their newest posts, in one call on one snapshot.
  auto users = (*db)->Fetch("User(where: email like $domain) { name, posts(limit: 5) { title } }",
                            R"({"domain": "%@example.com"})");
  if (!users.ok()) return std::fprintf(stderr, "%s\n", users.status().ToString().c_str()), 1;
  for (const ormdb::ResultObject& u : (*users)->roots()) {
    std::printf("%.*s:", static_cast<int>(u.Get("name")->string_value.size()),
                u.Get("name")->string_value.data());
    for (const ormdb::ResultObject& p : u.Related("posts")) {
      std::printf(" %s", p.Get("title")->ToJson().c_str());  // "Hello"
    }
    std::printf("\n");
  }
  std::printf("%s\n", (*users)->ToJson().c_str());  // {"version":2,"data":[...],...}
  auto plan_text = (*db)->Explain("User(where: email == \"ann@example.com\") { name }");
  if (!plan_text.ok()) return 1;
  std::printf("%s", plan_text->c_str());  // ... operation: unique lookup on User(email) ...
  return 0;
}
