// A blog API page from C++: a user with their newest posts, each post's tags
// and comment count, in one fetch on one snapshot. The same app as
// examples/python/blog_page.py and examples/ts/blog_page.ts, embedded or
// against a server with the same code (ormdb::Database is both).
//
//   blog_page --data DIR       the database in this process
//   blog_page --connect URL    a server (`ormdb serve`)
//
// The schema is tests/data/blog.ormdb, applied beforehand (run.sh does:
// `ormdb schema apply`). Run by the tests (ctest: example_cpp_blog_page).
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "ormdb/database.h"

namespace {

// The page: the fetch names what the page shows, and nothing else is read.
constexpr const char* kUserPage = R"(
  User(where: email == $email) {
    name,
    posts(order: created_at desc, limit: 3) {
      title, created_at,
      tags { name },
      comments_n: count(comments)
    }
  })";

// The page's own JSON shape, built from the objects of the result (read in
// place from its blocks). `params`: {"email": ...}.
ormdb::Result<std::string> UserPage(ormdb::Database& db, const std::string& params) {
  ORMDB_ASSIGN_OR_RETURN(auto users, db.Fetch(kUserPage, params));
  std::string out = "[";
  for (const ormdb::ResultObject& u : users->roots()) {
    if (out.size() > 1) out += ",";
    out += R"({"user":)" + u.Get("name")->ToJson() + R"(,"posts":[)";
    bool first_post = true;
    for (const ormdb::ResultObject& p : u.Related("posts")) {
      out += first_post ? "" : ",";
      first_post = false;
      out += R"({"title":)" + p.Get("title")->ToJson() + R"(,"at":)" +
             p.Get("created_at")->ToJson() + R"(,"tags":[)";
      bool first_tag = true;
      for (const ormdb::ResultObject& t : p.Related("tags")) {
        out += (first_tag ? "" : ",") + t.Get("name")->ToJson();
        first_tag = false;
      }
      out += R"(],"comments":)" + p.Get("comments_n")->ToJson() + "}";
    }
    out += "]}";
  }
  return out + "]";
}

int Fail(const ormdb::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 ||
      (std::strcmp(argv[1], "--data") != 0 && std::strcmp(argv[1], "--connect") != 0)) {
    std::fprintf(stderr, "usage: blog_page --data DIR | --connect URL\n");
    return 2;
  }
  auto db = std::strcmp(argv[1], "--data") == 0 ? ormdb::Database::Open(argv[2])
                                                : ormdb::Database::Connect(argv[2]);
  if (!db.ok()) return Fail(db.status());

  // One batch, one transaction: refs name the rows it inserts.
  auto written = (*db)->Mutate(R"({"ops": [
    {"op": "insert", "entity": "User", "values": {"email": "ann@example.com", "name": "Ann"}, "as": "ann"},
    {"op": "insert", "entity": "Tag", "values": {"name": "db"}, "as": "db"},
    {"op": "insert", "entity": "Post", "values": {"title": "Hello", "author": {"ref": "ann"},
                                                  "created_at": "2024-02-01T10:00:00Z"}, "as": "hello"},
    {"op": "insert", "entity": "Post", "values": {"title": "Second", "author": {"ref": "ann"},
                                                  "created_at": "2024-02-05T10:00:00Z"}},
    {"op": "link", "relation": "Post.tags", "from": {"ref": "hello"}, "to": {"ref": "db"}},
    {"op": "insert", "entity": "Comment", "values": {"body": "Nice", "post": {"ref": "hello"}}}
  ]})");
  if (!written.ok()) return Fail(written.status());

  auto page = UserPage(**db, R"({"email": "ann@example.com"})");
  if (!page.ok()) return Fail(page.status());
  std::printf("%s\n", page->c_str());
  return 0;
}
