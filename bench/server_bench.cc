// server_bench: ormdb served over TCP loopback against PostgreSQL 15 over TCP
// loopback, on the same generated blog (bench/blog_data), with the same
// indexes and the same four graph fetches as fetch_bench:
//
//   user_page  User(where: id == $u) { name, posts(order: created_at desc,
//              limit: 10) { title, created_at, tags { name },
//              comments(order: created_at desc, limit: 5) { body, created_at,
//              author { name } } } }
//   feed       Post(where: status == "published", order: created_at desc,
//              limit: 20) { title, created_at, author { name }, tags { name } }
//   tag_page   Tag(where: id == $t) { name, posts(order: created_at desc,
//              limit: 20) { title, created_at, author { name },
//              comments(order: created_at desc, limit: 3) { body, created_at } } }
//   point      Post(where: id == $p) { title, status, created_at, author { name } }
//
// Strategies, each timed per query (BM_Server/<query>/<strategy>):
//   embedded     Database::Fetch on the served engine itself, in process
//                (what the wire adds is the other columns minus this one)
//   ormdb        Database::Fetch on a client from Database::Connect to an
//                ormdb server running in this process (server::Server over
//                nng, tcp://127.0.0.1), the result blocks in hand
//   direct       the same over the direct transport (ormdb://127.0.0.1)
//   direct_json  the same plus FetchResult::ToJson()
//   pg           PQexecPrepared of one statement that builds the whole
//                result as one JSON value (json_agg / json_build_object,
//                correlated subqueries with the per-parent LIMIT inside),
//                the JSON text in hand (not parsed), on a PostgreSQL 15
//                cluster this program starts on 127.0.0.1
// Both compute what ormdb's "<relation>@next" and root "next" say (whether
// more rows remain).
//
// Before timing, for every timed parameter and ORMDB_BENCH_EXTRA_CHECKS more
// per query, PostgreSQL's JSON and ormdb's ToJson() are parsed with
// ormdb's JSON parser and compared as trees (root ids in order, nested ids,
// fields; timestamps compared as instants; "@next" and "next" as null or
// not), and PostgreSQL's also with a reference computed in C++ from the
// generated rows; any difference stops the run.
//
// BM_Server/tcp_rtt/echo: a 64-byte round trip over a plain TCP loopback
// socket to an echo thread in this process (the floor any transport pays).
//
// Two more groups, ormdb only:
//   BM_OpenResult/<size>/fetch        a Fetch whose result is ~1 KB / ~10 MB
//   BM_OpenResult/<size>/first_field  from the FetchResult in hand to
//                                     roots()[0].Get("name") read
//   BM_ServerCommit/real_time/threads:N  durable single-row insert batches
//                                     (Database::Mutate), each client thread
//                                     with its own Database::Connect, on a
//                                     fresh data directory; commits/s
//
// Environment: ORMDB_BENCH_SCALE (default 1), ORMDB_BENCH_CACHE (default
// /tmp/ormdb_fetch_bench_cache: the JSONL files, shared with fetch_bench),
// ORMDB_BENCH_DIR (default /tmp: the ormdb data directories, removed at exit
// unless ORMDB_BENCH_KEEP=1), ORMDB_BENCH_PG_DIR (default ORMDB_BENCH_DIR:
// where the PostgreSQL cluster's temporary directory is made; always
// removed), ORMDB_BENCH_PG_BIN (default /usr/lib/postgresql/15/bin),
// ORMDB_BENCH_PG_ONLY=1 (no ormdb: PostgreSQL is checked against the
// reference and timed), ORMDB_BENCH_PG_EXPLAIN=1 (print PostgreSQL's plans),
// ORMDB_BENCH_EXTRA_CHECKS (default 32).
//
// Without the server library (the build defines ORMDB_BENCH_WITH_SERVER only
// when the ormdb_server target exists) the program runs the PostgreSQL side
// alone, as with ORMDB_BENCH_PG_ONLY=1.
#include <benchmark/benchmark.h>
#include <libpq-fe.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_util.h"
#include "bench/blog_data.h"
#include "bench/blog_queries.h"
#include "bench/pg_cluster.h"
#include "bench/tcp_echo.h"
#include "bench/timing.h"
#include "common/json.h"
#include "common/timestamp.h"
#include "ormdb/database.h"

#ifndef ORMDB_BENCH_WITH_SERVER
#define ORMDB_BENCH_WITH_SERVER 0
#endif
#if ORMDB_BENCH_WITH_SERVER
#include "server/server.h"
#endif

#ifndef ORMDB_BLOG_SCHEMA
#define ORMDB_BLOG_SCHEMA "tests/data/blog.ormdb"
#endif

namespace ormdb::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

size_t g_extra_checks = 32;  // checked, not timed (as fetch_bench)
bool g_keep = false;

// The blog in PostgreSQL: the tables of blog_data's SQLite schema ("user" is
// reserved: users), timestamps as timestamptz (microseconds, like ormdb),
// and after the load the same indexes as the SQLite side of fetch_bench:
// primary keys, unique email, name, post(author, created_at), comment(post),
// comment(author), unique tag name, post_tags both directions; then the
// foreign keys, VACUUM (FREEZE, ANALYZE).
constexpr const char* kPgTables = R"(
CREATE TABLE users (id bigint NOT NULL, email text NOT NULL, name text NOT NULL,
                    age integer, created_at timestamptz NOT NULL);
CREATE TABLE post (id bigint NOT NULL, title text NOT NULL CHECK (length(title) > 0),
                   status text NOT NULL, created_at timestamptz NOT NULL, author bigint NOT NULL);
CREATE TABLE comment (id bigint NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL,
                      post bigint NOT NULL, author bigint);
CREATE TABLE tag (id bigint NOT NULL, name text NOT NULL);
CREATE TABLE post_tags (post bigint NOT NULL, tag bigint NOT NULL);
)";

constexpr const char* kPgIndexes[] = {
    "ALTER TABLE users ADD PRIMARY KEY (id)",
    "CREATE UNIQUE INDEX users_email ON users (email)",
    "CREATE INDEX users_name ON users (name)",
    "ALTER TABLE post ADD PRIMARY KEY (id)",
    "CREATE INDEX post_author_created ON post (author, created_at)",
    "ALTER TABLE comment ADD PRIMARY KEY (id)",
    "CREATE INDEX comment_post ON comment (post)",
    "CREATE INDEX comment_author ON comment (author)",
    "ALTER TABLE tag ADD PRIMARY KEY (id)",
    "CREATE UNIQUE INDEX tag_name ON tag (name)",
    "ALTER TABLE post_tags ADD PRIMARY KEY (post, tag)",
    "CREATE INDEX post_tags_tag ON post_tags (tag, post)",
    "ALTER TABLE post ADD FOREIGN KEY (author) REFERENCES users (id) ON DELETE CASCADE",
    "ALTER TABLE comment ADD FOREIGN KEY (post) REFERENCES post (id) ON DELETE CASCADE",
    "ALTER TABLE comment ADD FOREIGN KEY (author) REFERENCES users (id) ON DELETE SET NULL",
    "ALTER TABLE post_tags ADD FOREIGN KEY (post) REFERENCES post (id) ON DELETE CASCADE",
    "ALTER TABLE post_tags ADD FOREIGN KEY (tag) REFERENCES tag (id) ON DELETE CASCADE",
};

void LoadPostgres(PGconn* c, const BlogData& d, double* copy_seconds, double* index_seconds,
                  double* vacuum_seconds) {
  auto start = Clock::now();
  PgExec(c, "BEGIN");
  PgExec(c, kPgTables);
  {
    CopyIn in(c, "COPY users (id, email, name, age, created_at) FROM STDIN");
    for (const BlogUser& u : d.users) {
      in.Int(u.id);
      in.Text(u.email);
      in.Text(u.name);
      if (u.has_age) {
        in.Int(u.age);
      } else {
        in.Null();
      }
      in.Text(FormatRfc3339(u.created_at));
      in.EndRow();
    }
    in.Finish();
  }
  {
    CopyIn in(c, "COPY tag (id, name) FROM STDIN");
    for (const BlogTag& t : d.tags) {
      in.Int(t.id);
      in.Text(t.name);
      in.EndRow();
    }
    in.Finish();
  }
  {
    CopyIn in(c, "COPY post (id, title, status, created_at, author) FROM STDIN");
    for (const BlogPost& p : d.posts) {
      in.Int(p.id);
      in.Text(p.title);
      in.Text(p.published ? "published" : "draft");
      in.Text(FormatRfc3339(p.created_at));
      in.Int(p.author);
      in.EndRow();
    }
    in.Finish();
  }
  {
    CopyIn in(c, "COPY post_tags (post, tag) FROM STDIN");
    for (const auto& [post, tag] : d.post_tags) {
      in.Int(post);
      in.Int(tag);
      in.EndRow();
    }
    in.Finish();
  }
  {
    CopyIn in(c, "COPY comment (id, body, created_at, post, author) FROM STDIN");
    for (const BlogComment& cm : d.comments) {
      in.Int(cm.id);
      in.Text(cm.body);
      in.Text(FormatRfc3339(cm.created_at));
      in.Int(cm.post);
      if (cm.author) {
        in.Int(cm.author);
      } else {
        in.Null();
      }
      in.EndRow();
    }
    in.Finish();
  }
  PgExec(c, "COMMIT");
  *copy_seconds = Since(start);
  start = Clock::now();
  for (const char* sql : kPgIndexes) PgExec(c, sql);
  *index_seconds = Since(start);
  start = Clock::now();
  PgExec(c, "VACUUM (FREEZE, ANALYZE)");
  PgExec(c, "CHECKPOINT");
  *vacuum_seconds = Since(start);
}

// ------------------------------------------------------------- queries

// The one-statement JSON form of each query. Every statement returns one
// row, one column: {"data": [...], "next": true|null}, "data" shaped like
// ormdb's (id, the selected fields, includes, "<relation>@next" after a
// limited include: true when more children remain, else null). Orders are
// ormdb's: the order keys, then id asc. Timestamps are timestamptz rendered
// by PostgreSQL's own JSON conversion (compared as instants).
constexpr const char* kPgAuthorOfPost =
    "(SELECT json_build_object('id', a.id, 'name', a.name) FROM users a WHERE a.id = p.author)";
constexpr const char* kPgAuthorOfComment =
    "(SELECT json_build_object('id', a.id, 'name', a.name) FROM users a WHERE a.id = c.author)";
// The tags of a post: each tag read by its primary key. (Written as a join,
// PostgreSQL 15 hashes the whole tag table for every post: 3x slower.)
constexpr const char* kPgTagsOfPost =
    "(SELECT coalesce(json_agg((SELECT json_build_object('id', t.id, 'name', t.name) FROM tag t"
    " WHERE t.id = pt.tag) ORDER BY pt.tag), '[]'::json) FROM post_tags pt WHERE pt.post = p.id)";

// true when `from_where` has more than n rows, else NULL: reads at most
// n + 1 index entries.
std::string PgMore(const std::string& from_where, int n) {
  return "CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM " + from_where + " LIMIT " +
         std::to_string(n + 1) + ") m) > " + std::to_string(n) + " THEN true END";
}

std::string PgSql(QueryKind kind) {
  switch (kind) {
    case QueryKind::kUserPage:
      return "SELECT json_build_object('data', coalesce(json_agg(json_build_object("
             "'id', u.id, 'name', u.name, "
             "'posts', (SELECT coalesce(json_agg(json_build_object("
             "'id', p.id, 'title', p.title, 'created_at', p.created_at, "
             "'tags', " +
             std::string(kPgTagsOfPost) +
             ", 'comments', (SELECT coalesce(json_agg(json_build_object("
             "'id', c.id, 'body', c.body, 'created_at', c.created_at, 'author', " +
             kPgAuthorOfComment +
             ") ORDER BY c.created_at DESC, c.id), '[]'::json)"
             " FROM (SELECT id, body, created_at, author FROM comment WHERE post = p.id"
             " ORDER BY created_at DESC, id LIMIT 5) c), "
             "'comments@next', " +
             PgMore("comment WHERE post = p.id", 5) +
             ") ORDER BY p.created_at DESC, p.id), '[]'::json)"
             " FROM (SELECT id, title, created_at FROM post WHERE author = u.id"
             " ORDER BY created_at DESC, id LIMIT 10) p), "
             "'posts@next', " +
             PgMore("post WHERE author = u.id", 10) +
             ")), '[]'::json), 'next', NULL::boolean) FROM users u WHERE u.id = $1";
    case QueryKind::kFeed:
      return "SELECT json_build_object('data', coalesce(json_agg(json_build_object("
             "'id', p.id, 'title', p.title, 'created_at', p.created_at, 'author', " +
             std::string(kPgAuthorOfPost) + ", 'tags', " + kPgTagsOfPost +
             ") ORDER BY p.created_at DESC, p.id), '[]'::json), "
             "'next', " +
             PgMore("post WHERE status = 'published'", 20) +
             ") FROM (SELECT id, title, created_at, author FROM post"
             " WHERE status = 'published' ORDER BY created_at DESC, id LIMIT 20) p";
    case QueryKind::kTagPage:
      return "SELECT json_build_object('data', coalesce(json_agg(json_build_object("
             "'id', g.id, 'name', g.name, "
             "'posts', (SELECT coalesce(json_agg(json_build_object("
             "'id', p.id, 'title', p.title, 'created_at', p.created_at, 'author', " +
             std::string(kPgAuthorOfPost) +
             ", 'comments', (SELECT coalesce(json_agg(json_build_object("
             "'id', c.id, 'body', c.body, 'created_at', c.created_at)"
             " ORDER BY c.created_at DESC, c.id), '[]'::json)"
             " FROM (SELECT id, body, created_at FROM comment WHERE post = p.id"
             " ORDER BY created_at DESC, id LIMIT 3) c), "
             "'comments@next', " +
             PgMore("comment WHERE post = p.id", 3) +
             ") ORDER BY p.created_at DESC, p.id), '[]'::json)"
             " FROM (SELECT p.id, p.title, p.created_at, p.author FROM post_tags pt"
             " JOIN post p ON p.id = pt.post WHERE pt.tag = g.id"
             " ORDER BY p.created_at DESC, p.id LIMIT 20) p), "
             "'posts@next', " +
             PgMore("post_tags WHERE tag = g.id", 20) +
             ")), '[]'::json), 'next', NULL::boolean) FROM tag g WHERE g.id = $1";
    case QueryKind::kPoint:
      return "SELECT json_build_object('data', coalesce(json_agg(json_build_object("
             "'id', p.id, 'title', p.title, 'status', p.status, 'created_at', p.created_at,"
             " 'author', " +
             std::string(kPgAuthorOfPost) +
             ")), '[]'::json), 'next', NULL::boolean) FROM post p WHERE p.id = $1";
  }
  return "";
}

// A blog query (bench/blog_queries, as fetch_bench runs it) and its
// PostgreSQL statement.
struct Query : BlogQuery {
  std::string pg_sql;
  std::string pg_statement;  // the prepared statement's name
};

// ----------------------------------------------- the reference results

// The four queries answered in C++ from the generated rows, rendered as
// ormdb renders them: {"data": [...], "next": true|null}. PostgreSQL is
// checked against it (always) and ormdb against PostgreSQL, so a wrong
// answer on either side is caught even with ORMDB_BENCH_PG_ONLY.
class Reference {
 public:
  explicit Reference(const BlogData& d) : d_(d) {
    posts_of_user_.resize(d.users.size() + 1);
    posts_of_tag_.resize(d.tags.size() + 1);
    comments_of_post_.resize(d.posts.size() + 1);
    tags_of_post_.resize(d.posts.size() + 1);
    for (const BlogPost& p : d.posts) {
      posts_of_user_[static_cast<size_t>(p.author)].push_back(p.id);
      if (p.published) published_.push_back(p.id);
    }
    for (const auto& [post, tag] : d.post_tags) {
      posts_of_tag_[static_cast<size_t>(tag)].push_back(post);
      tags_of_post_[static_cast<size_t>(post)].push_back(tag);
    }
    for (const BlogComment& c : d.comments) {
      comments_of_post_[static_cast<size_t>(c.post)].push_back(c.id);
    }
    auto by_post_time = [&](int64_t a, int64_t b) {
      int64_t ta = Post(a).created_at, tb = Post(b).created_at;
      return ta != tb ? ta > tb : a < b;
    };
    auto by_comment_time = [&](int64_t a, int64_t b) {
      int64_t ta = Comment(a).created_at, tb = Comment(b).created_at;
      return ta != tb ? ta > tb : a < b;
    };
    for (auto& v : posts_of_user_) std::sort(v.begin(), v.end(), by_post_time);
    for (auto& v : posts_of_tag_) std::sort(v.begin(), v.end(), by_post_time);
    for (auto& v : comments_of_post_) std::sort(v.begin(), v.end(), by_comment_time);
    for (auto& v : tags_of_post_) std::sort(v.begin(), v.end());
    std::sort(published_.begin(), published_.end(), by_post_time);
  }

  Json Run(QueryKind kind, int64_t param) const {
    Json data = Json::Array();
    bool more = false;
    switch (kind) {
      case QueryKind::kUserPage:
        if (param >= 1 && param <= static_cast<int64_t>(d_.users.size())) {
          const BlogUser& u = d_.users[static_cast<size_t>(param - 1)];
          Json posts = Json::Array();
          const auto& ids = posts_of_user_[static_cast<size_t>(u.id)];
          for (size_t i = 0; i < ids.size() && i < 10; ++i) {
            const BlogPost& p = Post(ids[i]);
            Json o = Json::Object();
            o.Set("id", p.id).Set("title", p.title).Set("created_at", FormatRfc3339(p.created_at));
            o.Set("tags", Tags(p.id));
            AddComments(&o, p.id, 5, /*with_author=*/true);
            posts.Push(std::move(o));
          }
          Json o = Json::Object();
          o.Set("id", u.id).Set("name", u.name).Set("posts", std::move(posts));
          o.Set("posts@next", More(ids.size() > 10));
          data.Push(std::move(o));
        }
        break;
      case QueryKind::kFeed:
        for (size_t i = 0; i < published_.size() && i < 20; ++i) {
          const BlogPost& p = Post(published_[i]);
          Json o = Json::Object();
          o.Set("id", p.id).Set("title", p.title).Set("created_at", FormatRfc3339(p.created_at));
          o.Set("author", UserRef(p.author)).Set("tags", Tags(p.id));
          data.Push(std::move(o));
        }
        more = published_.size() > 20;
        break;
      case QueryKind::kTagPage:
        if (param >= 1 && param <= static_cast<int64_t>(d_.tags.size())) {
          const BlogTag& t = d_.tags[static_cast<size_t>(param - 1)];
          Json posts = Json::Array();
          const auto& ids = posts_of_tag_[static_cast<size_t>(t.id)];
          for (size_t i = 0; i < ids.size() && i < 20; ++i) {
            const BlogPost& p = Post(ids[i]);
            Json o = Json::Object();
            o.Set("id", p.id).Set("title", p.title).Set("created_at", FormatRfc3339(p.created_at));
            o.Set("author", UserRef(p.author));
            AddComments(&o, p.id, 3, /*with_author=*/false);
            posts.Push(std::move(o));
          }
          Json o = Json::Object();
          o.Set("id", t.id).Set("name", t.name).Set("posts", std::move(posts));
          o.Set("posts@next", More(ids.size() > 20));
          data.Push(std::move(o));
        }
        break;
      case QueryKind::kPoint:
        if (param >= 1 && param <= static_cast<int64_t>(d_.posts.size())) {
          const BlogPost& p = Post(param);
          Json o = Json::Object();
          o.Set("id", p.id).Set("title", p.title);
          o.Set("status", p.published ? "published" : "draft");
          o.Set("created_at", FormatRfc3339(p.created_at)).Set("author", UserRef(p.author));
          data.Push(std::move(o));
        }
        break;
    }
    Json doc = Json::Object();
    doc.Set("data", std::move(data)).Set("next", More(more));
    return doc;
  }

  const std::vector<int64_t>& posts_of_tag(int64_t tag) const {
    return posts_of_tag_[static_cast<size_t>(tag)];
  }
  const std::vector<int64_t>& comments_of_post(int64_t post) const {
    return comments_of_post_[static_cast<size_t>(post)];
  }
  const BlogPost& Post(int64_t id) const { return d_.posts[static_cast<size_t>(id - 1)]; }
  const BlogComment& Comment(int64_t id) const { return d_.comments[static_cast<size_t>(id - 1)]; }
  const BlogUser& User(int64_t id) const { return d_.users[static_cast<size_t>(id - 1)]; }

 private:
  static Json More(bool more) { return more ? Json(true) : Json(); }

  Json UserRef(int64_t id) const {
    if (id == 0) return Json();
    Json o = Json::Object();
    o.Set("id", id).Set("name", User(id).name);
    return o;
  }

  Json Tags(int64_t post) const {
    Json tags = Json::Array();
    for (int64_t t : tags_of_post_[static_cast<size_t>(post)]) {
      Json o = Json::Object();
      o.Set("id", t).Set("name", d_.tags[static_cast<size_t>(t - 1)].name);
      tags.Push(std::move(o));
    }
    return tags;
  }

  void AddComments(Json* post, int64_t post_id, size_t limit, bool with_author) const {
    Json comments = Json::Array();
    const auto& ids = comments_of_post_[static_cast<size_t>(post_id)];
    for (size_t i = 0; i < ids.size() && i < limit; ++i) {
      const BlogComment& c = Comment(ids[i]);
      Json o = Json::Object();
      o.Set("id", c.id).Set("body", c.body).Set("created_at", FormatRfc3339(c.created_at));
      if (with_author) o.Set("author", UserRef(c.author));
      comments.Push(std::move(o));
    }
    post->Set("comments", std::move(comments));
    post->Set("comments@next", More(ids.size() > limit));
  }

  const BlogData& d_;
  std::vector<std::vector<int64_t>> posts_of_user_, posts_of_tag_, comments_of_post_, tags_of_post_;
  std::vector<int64_t> published_;
};

// ------------------------------------------------- comparing two results

bool LooksLikeTimestamp(const std::string& s) {
  return s.size() >= 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':';
}

std::string Short(const Json& v) {
  std::string s = ToJson(v);
  return s.size() > 200 ? s.substr(0, 200) + "..." : s;
}

// The first difference between two result documents, or "" when they are
// the same tree: arrays element by element in order; objects by member name
// (member order is not compared); a member named "<relation>@next" or the
// root "next" only as null or not (a cursor against true); strings that are
// RFC 3339 timestamps on both sides as instants (ormdb writes "...123Z",
// PostgreSQL "...123+00:00"); everything else exactly.
std::string Difference(const Json& a, const Json& b, const std::string& path) {
  if (a.is_string() && b.is_string()) {
    const std::string &x = a.as_string(), &y = b.as_string();
    if (x == y) return "";
    if (LooksLikeTimestamp(x) && LooksLikeTimestamp(y)) {
      auto tx = ParseTimestamp(x), ty = ParseTimestamp(y);
      if (tx.ok() && ty.ok() && *tx == *ty) return "";
    }
    return path + ": " + Short(a) + " vs " + Short(b);
  }
  if (a.kind() != b.kind()) return path + ": " + Short(a) + " vs " + Short(b);
  if (a.is_array()) {
    const auto &x = a.as_array(), &y = b.as_array();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      std::string d = Difference(x[i], y[i], path + "[" + std::to_string(i) + "]");
      if (!d.empty()) return d;
    }
    if (x.size() != y.size()) {
      return path + ": " + std::to_string(x.size()) + " elements vs " + std::to_string(y.size());
    }
    return "";
  }
  if (a.is_object()) {
    for (const auto& [name, value] : a.as_object()) {
      const Json* other = b.Find(name);
      std::string p = path + "." + name;
      if (!other) return p + ": missing on the second side";
      bool cursor = name == "next" ? path == "$" : name.ends_with("@next");
      if (cursor) {
        if (value.is_null() != other->is_null()) {
          return p + ": " + Short(value) + " vs " + Short(*other) + " (more rows or not)";
        }
        continue;
      }
      std::string d = Difference(value, *other, p);
      if (!d.empty()) return d;
    }
    for (const auto& [name, value] : b.as_object()) {
      if (!a.Find(name)) return path + "." + name + ": missing on the first side";
    }
    return "";
  }
  return a == b ? "" : path + ": " + Short(a) + " vs " + Short(b);
}

// {"data", "next"} of a whole result text (ormdb's ToJson() or PostgreSQL's
// document).
Json ResultDoc(std::string_view text, const char* what) {
  auto parsed = ParseJson(text);
  if (!parsed.ok()) {
    Die(std::string("bad JSON from ") + what + ": " + parsed.status().ToString() + "\n" +
        std::string(text.substr(0, 500)));
  }
  const Json& j = *parsed;
  if (!j.is_object() || !j.Find("data") || !j.Find("next")) {
    Die(std::string("no \"data\" and \"next\" in the result from ") + what + ": " +
        std::string(text.substr(0, 500)));
  }
  Json doc = Json::Object();
  doc.Set("data", *j.Find("data")).Set("next", *j.Find("next"));
  return doc;
}

// ------------------------------------------------------------- the state

#if ORMDB_BENCH_WITH_SERVER
// One query of the "open result" group.
struct OpenCase {
  std::string label;  // "1KB", "10MB"
  std::string text;
  std::string params = "{}";
  std::string field = "name";  // read from roots()[0]
  uint64_t json_bytes = 0, block_bytes = 0, entities = 0;
  double fetch_seconds = 0;  // one fetch during calibration
};
#endif

struct Bench {
  double scale = 1;
  BlogData data;
  std::unique_ptr<Reference> reference;
  PgCluster cluster;
  PGconn* pg = nullptr;
  std::vector<Query> queries;
  std::map<std::string, LatencyStat> stats;  // "query/strategy" or "open/<label>/<what>"
  // Every iteration's time per key, across repetitions.
  std::map<std::string, LatencySamples> samples;
  std::map<int, double> commit_rates;  // client threads -> commits/s
  std::vector<std::pair<std::string, std::string>> context;
  bool with_ormdb = false;
#if ORMDB_BENCH_WITH_SERVER
  std::unique_ptr<server::Server> server;         // the blog, for the fetches
  db::Engine* engine = nullptr;                   // served by `server`
  std::unique_ptr<Database> client;               // connected to `server` over nng
  std::unique_ptr<Database> direct;               // connected over ormdb://
  std::unique_ptr<server::Server> commit_server;  // a fresh directory, for the commits
  std::vector<std::unique_ptr<Database>> writers;
  std::vector<OpenCase> open_cases;
#endif
};

Bench* g = nullptr;

void Note(const std::string& key, const std::string& value) {
  std::fprintf(stderr, "  %-30s %s\n", key.c_str(), value.c_str());
  g->context.emplace_back(key, value);
}

// ------------------------------------------------------- PostgreSQL side

// Runs a query's prepared statement; the result holds one row, one column.
PGresult* PgRun(const Query& q, size_t i) {
  const char* values[1] = {q.params_text[i].c_str()};
  PGresult* r = PQexecPrepared(g->pg, q.pg_statement.c_str(), q.param_name ? 1 : 0,
                               q.param_name ? values : nullptr, nullptr, nullptr, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQnfields(r) != 1) {
    std::string m = PQerrorMessage(g->pg);
    PQclear(r);
    Die("PostgreSQL " + q.name + " (" + q.params_text[i] + "): " + m);
  }
  return r;
}

std::string PgJson(const Query& q, size_t i) {
  PGresult* r = PgRun(q, i);
  std::string s(PQgetvalue(r, 0, 0), static_cast<size_t>(PQgetlength(r, 0, 0)));
  PQclear(r);
  return s;
}

void StartPostgres() {
  g->pg = StartPgCluster(g->cluster, Note);

  double copy_s = 0, index_s = 0, vacuum_s = 0;
  LoadPostgres(g->pg, g->data, &copy_s, &index_s, &vacuum_s);
  Note("PostgreSQL load", "COPY " + FormatSeconds(copy_s) + ", indexes + foreign keys " +
                              FormatSeconds(index_s) + ", VACUUM (FREEZE, ANALYZE) + CHECKPOINT " +
                              FormatSeconds(vacuum_s));
  Note("PostgreSQL data size",
       Mb(std::stoull(PgValue(g->pg, "SELECT pg_database_size(current_database())"))));
}

void PreparePostgres() {
  for (Query& q : g->queries) {
    q.pg_sql = PgSql(q.kind);
    q.pg_statement = q.name;
    PGresult* r = PQprepare(g->pg, q.pg_statement.c_str(), q.pg_sql.c_str(), 0, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      std::string m = PQerrorMessage(g->pg);
      PQclear(r);
      Die("PostgreSQL cannot prepare " + q.name + ": " + m + "in: " + q.pg_sql);
    }
    PQclear(r);
  }
  if (Env("ORMDB_BENCH_PG_EXPLAIN", "0") == "1") {
    for (const Query& q : g->queries) {
      std::string sql = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE " + q.pg_statement;
      if (q.param_name) sql += "(" + q.params_text[0] + ")";
      std::fprintf(stderr, "\n-- %s, %s:\n%s\n%s\n", q.name.c_str(),
                   q.param_name ? (std::string(q.param_name) + " = " + q.params_text[0]).c_str()
                                : "no parameter",
                   q.pg_sql.c_str(), PgValue(g->pg, sql, /*all_rows=*/true).c_str());
    }
  }
}

// ------------------------------------------------------------ ormdb side

#if ORMDB_BENCH_WITH_SERVER

// Starts a server for `db` on 127.0.0.1, port 0: the system picks a free
// port and url() names it.
std::unique_ptr<server::Server> StartServer(std::unique_ptr<db::Engine> db) {
  server::ServerOptions options;
  options.listen = "tcp://127.0.0.1:0";
  options.listen_direct = "ormdb://127.0.0.1:0";
  // ORMDB_BENCH_INLINE_READS=0 measures the read pool instead.
  if (const char* v = std::getenv("ORMDB_BENCH_INLINE_READS")) options.inline_reads = *v != '0';
  auto started = server::Server::Start(std::move(db), options);
  if (!started.ok()) Die("cannot start an ormdb server: " + started.status().ToString());
  return std::move(started).value();
}

std::unique_ptr<Database> ConnectClient(const std::string& url) {
  auto c = Database::Connect(url, ConnectOptions{});
  if (!c.ok()) Die("Database::Connect(" + url + "): " + c.status().ToString());
  return std::move(c).value();
}

// Budgets high enough for the ~10 MB "open result" fetch (the defaults
// allow 100,000 entities).
OpenOptions BenchOpenOptions() {
  OpenOptions o;
  o.budget.max_entities = 50'000'000;
  o.budget.max_edges = 50'000'000;
  o.budget.max_bytes = uint64_t{4} << 30;
  return o;
}

std::unique_ptr<db::Engine> OpenOrDie(const std::string& dir, const OpenOptions& options) {
  auto opened = db::Engine::Open(dir, options);
  if (!opened.ok()) Die("open " + dir + ": " + opened.status().ToString());
  return std::move(opened).value();
}

void StartOrmdb(const std::string& cache) {
  auto start = Clock::now();
  bool reused = false;
  std::string error, detail;
  if (!EnsureBlogJsonl(g->data, cache, &reused, &error)) Die(error);
  Note("JSONL cache",
       cache + (reused ? " (reused)" : " (written, " + FormatSeconds(Since(start)) + ")"));

  const std::string parent = Env("ORMDB_BENCH_DIR", "/tmp");
  auto tmp = MakeTempDir(parent, "ormdb_server_bench_");
  if (!tmp) Die("cannot create a directory in " + parent);
  AddTempDir(*tmp);
  const std::string dir = *tmp + "/db";
  Note("ormdb data_dir", dir + " (" + FilesystemName(*tmp) + ")");
  start = Clock::now();
  {
    std::unique_ptr<Database> db = OpenOrDie(dir, BenchOpenOptions());
    if (!ImportBlogJsonl(db.get(), cache, ORMDB_BLOG_SCHEMA, &detail, &error)) Die(error);
  }
  Note("ormdb import", FormatSeconds(Since(start)) + " (" + detail + ")");
  Note("ormdb data size", Mb(DirectoryBytes(dir)));

  {
    auto engine = OpenOrDie(dir, BenchOpenOptions());
    g->engine = engine.get();
    g->server = StartServer(std::move(engine));
  }
  g->client = ConnectClient(g->server->url());
  g->direct = ConnectClient(g->server->direct_url());
  Note("ormdb server", g->server->url() + " and " + g->server->direct_url() + " (in this process)");

  // The commits get a fresh directory and a server of their own.
  const std::string commit_dir = *tmp + "/commits";
  {
    std::unique_ptr<Database> db = OpenOrDie(commit_dir, OpenOptions{});
    std::ifstream schema_file(ORMDB_BLOG_SCHEMA);
    std::stringstream schema;
    schema << schema_file.rdbuf();
    auto applied = db->ApplySchema(schema.str());
    if (!applied.ok()) Die("schema: " + applied.status().ToString());
  }
  g->commit_server = StartServer(OpenOrDie(commit_dir, OpenOptions{}));
  for (int i = 0; i < 32; ++i) g->writers.push_back(ConnectClient(g->commit_server->url()));
  Note("ormdb commit server",
       g->commit_server->url() + ", 32 client connections, data_dir " + commit_dir);
}

std::string OrmdbJson(const Query& q, size_t i) {
  auto r = g->client->Fetch(q.text, q.params_json[i]);
  if (!r.ok()) {
    Die("ormdb Fetch failed: " + r.status().ToString() + "\n  query: " + q.text +
        "\n  params: " + q.params_json[i]);
  }
  return (*r)->ToJson();
}

// The two "open result" queries: a user with 8 posts (about 1 KB), and the
// largest tags with all their posts and comments (about 10 MB; at most a
// few root objects, so roots() stays small). Sizes are measured and
// reported; the 10 MB case uses fewer tags or a per-tag post limit to stay
// near its target.
void CalibrateOpenCases() {
  const BlogData& d = g->data;
  OpenCase small;
  small.label = "1KB";
  small.text =
      "User(where: id == $u) { name, email, posts(order: created_at desc, limit: 8) { title, "
      "created_at } }";
  small.params = "{\"u\":" + std::to_string(d.users_by_rank[0]) + "}";

  // Estimated JSON bytes of one post of the large query with its comments.
  const Reference& ref = *g->reference;
  auto post_bytes = [&](int64_t post) {
    const BlogPost& p = ref.Post(post);
    size_t n = 110 + p.title.size() + ref.User(p.author).name.size();
    for (int64_t c : ref.comments_of_post(post)) n += 75 + ref.Comment(c).body.size();
    return n;
  };
  constexpr size_t kTarget = 10'000'000;
  std::vector<int64_t> tags;
  size_t estimate = 0;
  std::optional<size_t> limit;
  const auto& top = ref.posts_of_tag(d.tags_by_rank[0]);
  size_t top_bytes = 0;
  for (int64_t p : top) top_bytes += post_bytes(p);
  if (top_bytes >= kTarget) {
    tags.push_back(d.tags_by_rank[0]);
    size_t k = 0;
    while (k < top.size() && estimate < kTarget) estimate += post_bytes(top[k++]);
    limit = k;
  } else {
    for (int64_t t : d.tags_by_rank) {
      if (estimate >= kTarget) break;
      tags.push_back(t);
      for (int64_t p : ref.posts_of_tag(t)) estimate += post_bytes(p);
    }
  }
  OpenCase large;
  large.label = "10MB";
  std::string ids;
  for (int64_t t : tags) ids += (ids.empty() ? "" : ", ") + std::to_string(t);
  large.text = "Tag(where: id in [" + ids +
               "], order: id asc) { name, posts(order: created_at desc" +
               (limit ? ", limit: " + std::to_string(*limit) : std::string()) +
               ") { title, created_at, author { name }, comments(order: created_at desc) { body, "
               "created_at } } }";

  for (OpenCase* c : {&small, &large}) {
    auto start = Clock::now();
    auto r = g->client->Fetch(c->text, c->params);
    c->fetch_seconds = Since(start);
    if (!r.ok()) {
      Die("open-result fetch failed: " + r.status().ToString() + "\n  query: " + c->text);
    }
    c->json_bytes = (*r)->ToJson().size();
    FetchStats st = (*r)->stats();
    c->block_bytes = st.bytes;
    c->entities = st.entities;
    auto roots = (*r)->roots();
    if (roots.empty() || !roots[0].Get(c->field) || roots[0].Get(c->field)->is_null()) {
      Die("open-result fetch " + c->label + ": no roots()[0]." + c->field);
    }
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "%" PRIu64 " bytes of JSON, %" PRIu64 " in blocks, %" PRIu64
                  " entities, %zu roots, first fetch %.1f ms",
                  c->json_bytes, c->block_bytes, c->entities, roots.size(), c->fetch_seconds * 1e3);
    Note("open result " + c->label, buf);
  }
  Note("open result 10MB query", large.text);
  g->open_cases = {small, large};
}

#endif  // ORMDB_BENCH_WITH_SERVER

// ------------------------------------------------------------- checks

[[noreturn]] void Mismatch(const Query& q, size_t i, const std::string& a_name, const Json& a,
                           const std::string& b_name, const Json& b, const std::string& where) {
  std::string base = Env("ORMDB_BENCH_DIR", "/tmp") + "/server_bench_mismatch_" + q.name;
  std::ofstream(base + "_" + a_name + ".json") << ToJson(a) << "\n";
  std::ofstream(base + "_" + b_name + ".json") << ToJson(b) << "\n";
  std::fprintf(stderr,
               "\nRESULTS DIFFER: query %s, parameter %s: %s and %s differ at\n  %s\n"
               "  ormdb query: %s\n  PostgreSQL: %s\n  both documents: %s_{%s,%s}.json\n",
               q.name.c_str(), q.params_json[i].c_str(), a_name.c_str(), b_name.c_str(),
               where.c_str(), q.text.c_str(), q.pg_sql.c_str(), base.c_str(), a_name.c_str(),
               b_name.c_str());
  Die("results differ; not timing anything");
}

// PostgreSQL against the reference, and ormdb against PostgreSQL, for every
// check parameter. Doubles as the warm-up.
void CheckResults() {
  auto start = Clock::now();
  size_t compared = 0, nonempty = 0;
  for (const Query& q : g->queries) {
    for (size_t i = 0; i < q.check_params.size(); ++i) {
      Json ref = g->reference->Run(q.kind, q.check_params[i]);
      Json pg = ResultDoc(PgJson(q, i), "PostgreSQL");
      std::string diff = Difference(ref, pg, "$");
      if (!diff.empty()) Mismatch(q, i, "reference", ref, "postgres", pg, diff);
      ++compared;
      nonempty += !ref.Find("data")->as_array().empty();
#if ORMDB_BENCH_WITH_SERVER
      if (g->with_ormdb) {
        Json orm = ResultDoc(OrmdbJson(q, i), "ormdb");
        diff = Difference(orm, pg, "$");
        if (!diff.empty()) {
          bool orm_ok = Difference(orm, ref, "$").empty();
          Mismatch(q, i, "ormdb", orm, "postgres", pg,
                   diff + (orm_ok ? " (ormdb matches the reference)"
                                  : " (ormdb differs from the reference too)"));
        }
        ++compared;
      }
#endif
    }
  }
  Note("results checked", std::to_string(compared) + " comparisons, " + std::to_string(nonempty) +
                              " non-empty results, all equal (" + FormatSeconds(Since(start)) +
                              ")");
}

// --------------------------------------------------------------- setup

void Setup(double scale) {
  g->scale = scale;
  auto start = Clock::now();
  g->data = GenerateBlog(scale);
  char buf[200];
  std::snprintf(buf, sizeof buf, "%zu users, %zu posts, %zu comments, %zu tags, %zu post_tags",
                g->data.users.size(), g->data.posts.size(), g->data.comments.size(),
                g->data.tags.size(), g->data.post_tags.size());
  Note("scale " + ScaleText(scale), buf);
  Note("generate (in memory)", FormatSeconds(Since(start)));
  start = Clock::now();
  g->reference = std::make_unique<Reference>(g->data);
  Note("reference results (C++)", "indexed in " + FormatSeconds(Since(start)));

  StartPostgres();

#if ORMDB_BENCH_WITH_SERVER
  g->with_ormdb = Env("ORMDB_BENCH_PG_ONLY", "0") != "1";
  if (g->with_ormdb) {
    StartOrmdb(BlogCacheDir(Env("ORMDB_BENCH_CACHE", "/tmp/ormdb_fetch_bench_cache"), scale));
  } else {
    Note("ormdb", "skipped (ORMDB_BENCH_PG_ONLY=1)");
  }
#else
  Note("ormdb", "skipped: built without the server library (no ormdb_server target)");
#endif

  for (BlogQuery& b : MakeBlogQueries(g->data, g_extra_checks)) {
    Query q;
    static_cast<BlogQuery&>(q) = std::move(b);
    g->queries.push_back(std::move(q));
  }
  PreparePostgres();
  CheckResults();
#if ORMDB_BENCH_WITH_SERVER
  if (g->with_ormdb) CalibrateOpenCases();
#endif
}

void Teardown() {
#if ORMDB_BENCH_WITH_SERVER
  g->writers.clear();
  g->client.reset();
  g->direct.reset();
  if (g->server) g->server->Stop();
  if (g->commit_server) g->commit_server->Stop();
  g->server.reset();
  g->commit_server.reset();
#endif
  if (g->pg) PQfinish(g->pg);
  g->pg = nullptr;
  Cleanup();
}

// ------------------------------------------------------------ benchmarks

// Times each iteration alone (manual time) and records p50 / p95 under
// `key`, over every repetition of the benchmark (bench/timing.h).
template <class F>
void TimeEach(benchmark::State& state, const std::string& key, F&& run) {
  std::optional<LatencyStat> st = TimeEachIteration(state, &g->samples[key], run);
  if (st) g->stats[key] = *st;
}

#if ORMDB_BENCH_WITH_SERVER
std::atomic<uint64_t> g_commit_seq{0};

void BM_ServerCommit(benchmark::State& state) {
  Database* db = g->writers[static_cast<size_t>(state.thread_index())].get();
  Clock::time_point start;
  bool first = true;
  for (auto _ : state) {
    if (first) {
      start = Clock::now();
      first = false;
    }
    uint64_t n = g_commit_seq.fetch_add(1, std::memory_order_relaxed);
    std::string batch =
        "{\"ops\":[{\"op\":\"insert\",\"entity\":\"User\",\"values\":{\"email\":\"writer" +
        std::to_string(n) + "@example.com\",\"name\":\"Writer " +
        std::to_string(state.thread_index()) + "\"}}]}";
    auto r = db->Mutate(batch);
    if (!r.ok()) {
      state.SkipWithError(("Mutate: " + r.status().ToString()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());  // summed over the threads
  // The loop ends with a barrier: every thread has finished its commits.
  if (state.thread_index() == 0 && !first) {
    double s = Since(start);
    if (s > 0) {
      g->commit_rates[state.threads()] =
          static_cast<double>(state.iterations()) * state.threads() / s;
    }
  }
}
#endif

enum Strategy { kEmbedded, kNng, kDirect, kDirectJson, kPg, kStrategyCount };
const char* const kStrategies[] = {"embedded", "ormdb", "direct", "direct_json", "pg"};

void Register() {
  benchmark::RegisterBenchmark("BM_Server/tcp_rtt/echo",
                               [](benchmark::State& state) {
                                 LoopbackEcho echo;
                                 TimeEach(state, "tcp_rtt", [&](size_t) { echo.RoundTrip(); });
                               })
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
  for (size_t qi = 0; qi < g->queries.size(); ++qi) {
    for (int s = 0; s < kStrategyCount; ++s) {
      if (s != kPg && !g->with_ormdb) continue;
      std::string key = g->queries[qi].name + "/" + kStrategies[s];
      benchmark::RegisterBenchmark(("BM_Server/" + key).c_str(),
                                   [qi, s, key](benchmark::State& state) {
                                     const Query& q = g->queries[qi];
                                     TimeEach(state, key, [&](size_t n) {
                                       size_t i = n % q.params.size();
                                       if (s == kPg) {
                                         PGresult* r = PgRun(q, i);
                                         benchmark::DoNotOptimize(PQgetvalue(r, 0, 0));
                                         PQclear(r);
                                         return;
                                       }
#if ORMDB_BENCH_WITH_SERVER
                                       Database* db = s == kEmbedded ? g->engine
                                                      : s == kNng    ? g->client.get()
                                                                     : g->direct.get();
                                       auto r = db->Fetch(q.text, q.params_json[i]);
                                       if (!r.ok()) Die("ormdb Fetch: " + r.status().ToString());
                                       if (s == kDirectJson) {
                                         std::string json = (*r)->ToJson();
                                         benchmark::DoNotOptimize(json.data());
                                       } else {
                                         benchmark::DoNotOptimize(r->get());
                                       }
#endif
                                     });
                                   })
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
#if ORMDB_BENCH_WITH_SERVER
  if (!g->with_ormdb) return;
  for (size_t ci = 0; ci < g->open_cases.size(); ++ci) {
    const OpenCase& c = g->open_cases[ci];
    // (i) The whole Fetch call; the result is destroyed outside the timing.
    benchmark::RegisterBenchmark(("BM_OpenResult/" + c.label + "/fetch").c_str(),
                                 [ci](benchmark::State& state) {
                                   const OpenCase& c = g->open_cases[ci];
                                   std::unique_ptr<FetchResult> keep;
                                   TimeEach(state, "open/" + c.label + "/fetch", [&](size_t) {
                                     keep.reset();
                                     auto r = g->client->Fetch(c.text, c.params);
                                     if (!r.ok()) Die("ormdb Fetch: " + r.status().ToString());
                                     keep = std::move(r).value();
                                   });
                                   keep.reset();
                                   state.counters["result_json_bytes"] =
                                       static_cast<double>(c.json_bytes);
                                 })
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    // (ii) From the FetchResult in hand to the first root's field read; the
    // Fetch itself is outside the timing, so the iteration count is fixed
    // (the run takes about as long as `iterations` fetches).
    int64_t iterations =
        std::clamp<int64_t>(static_cast<int64_t>(2.0 / std::max(c.fetch_seconds, 1e-6)), 20, 5000);
    benchmark::RegisterBenchmark(
        ("BM_OpenResult/" + c.label + "/first_field").c_str(),
        [ci](benchmark::State& state) {
          const OpenCase& c = g->open_cases[ci];
          LatencySamples samples;
          for (auto _ : state) {
            auto r = g->client->Fetch(c.text, c.params);
            if (!r.ok()) Die("ormdb Fetch: " + r.status().ToString());
            std::unique_ptr<FetchResult> result = std::move(r).value();
            auto start = Clock::now();
            std::vector<ResultObject> roots = result->roots();
            std::optional<ResultValue> v = roots[0].Get(c.field);
            benchmark::DoNotOptimize(v->string_value.data());
            benchmark::DoNotOptimize(v->string_value.size());
            double s = std::chrono::duration<double>(Clock::now() - start).count();
            state.SetIterationTime(s);
            samples.AddSeconds(s);
          }
          LatencyStat st{samples.PercentileMicros(0.5), samples.PercentileMicros(0.95),
                         samples.size()};
          state.counters["p50_us"] = st.p50;
          state.counters["p95_us"] = st.p95;
          state.counters["result_json_bytes"] = static_cast<double>(c.json_bytes);
          g->stats["open/" + c.label + "/first_field"] = st;
        })
        ->UseManualTime()
        ->Iterations(iterations)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_ServerCommit", BM_ServerCommit)
      ->Threads(1)
      ->Threads(8)
      ->Threads(32)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
#endif
}

std::string Cell(const std::string& key) {
  auto it = g->stats.find(key);
  if (it == g->stats.end()) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f / %.1f", it->second.p50, it->second.p95);
  return buf;
}

void Summary(std::FILE* out) {
  std::fprintf(out,
               "\nFetch latency in microseconds, p50 / p95 per fetch (scale %s; parameters cycle "
               "over %zu values). embedded: the served engine in process; ormdb: over nng "
               "(tcp://127.0.0.1); direct: over ormdb://127.0.0.1; PostgreSQL over TCP "
               "loopback:\n",
               ScaleText(g->scale).c_str(), kParamsPerQuery);
  std::fprintf(out, "%-10s %-18s %-18s %-18s %-18s %-18s %-9s %-9s %-10s\n", "query", "embedded",
               "ormdb (nng)", "direct", "direct+ToJson", "PostgreSQL JSON", "nng/pg", "direct/pg",
               "wire/rtt");
  auto p50 = [&](const std::string& key) -> std::optional<double> {
    auto it = g->stats.find(key);
    if (it == g->stats.end()) return std::nullopt;
    return it->second.p50;
  };
  auto ratio = [](std::optional<double> a, std::optional<double> b) {
    if (!a || !b || *b <= 0) return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2fx", *a / *b);
    return std::string(buf);
  };
  std::optional<double> rtt = p50("tcp_rtt");
  for (const Query& q : g->queries) {
    std::optional<double> wire;
    if (auto d = p50(q.name + "/direct"), e = p50(q.name + "/embedded"); d && e) wire = *d - *e;
    std::fprintf(
        out, "%-10s %-18s %-18s %-18s %-18s %-18s %-9s %-9s %-10s\n", q.name.c_str(),
        Cell(q.name + "/embedded").c_str(), Cell(q.name + "/ormdb").c_str(),
        Cell(q.name + "/direct").c_str(), Cell(q.name + "/direct_json").c_str(),
        Cell(q.name + "/pg").c_str(), ratio(p50(q.name + "/ormdb"), p50(q.name + "/pg")).c_str(),
        ratio(p50(q.name + "/direct"), p50(q.name + "/pg")).c_str(), ratio(wire, rtt).c_str());
  }
  std::fprintf(out,
               "Plain TCP loopback round trip (64 bytes): %s us p50 / p95.\n"
               "Ratios: p50 / PostgreSQL p50 (above 1: ormdb is slower); wire/rtt: (direct p50 - "
               "embedded p50) / the TCP round trip p50. PostgreSQL's time ends with the JSON "
               "text in hand, unparsed.\n",
               Cell("tcp_rtt").c_str());
#if ORMDB_BENCH_WITH_SERVER
  if (!g->open_cases.empty()) {
    std::fprintf(out, "\nOpening a result, microseconds p50 / p95:\n");
    std::fprintf(out, "%-6s %-12s %-22s %-26s\n", "size", "JSON bytes", "Fetch",
                 "roots()[0].Get(field)");
    for (const OpenCase& c : g->open_cases) {
      std::fprintf(out, "%-6s %-12" PRIu64 " %-22s %-26s\n", c.label.c_str(), c.json_bytes,
                   Cell("open/" + c.label + "/fetch").c_str(),
                   Cell("open/" + c.label + "/first_field").c_str());
    }
  }
  if (!g->commit_rates.empty()) {
    std::fprintf(out,
                 "\nDurable single-row insert commits over TCP loopback (one connection "
                 "per client thread):\n");
    for (const auto& [threads, rate] : g->commit_rates) {
      std::fprintf(out, "  %2d client threads  %10.0f commits/s\n", threads, rate);
    }
  }
#endif
}

}  // namespace
}  // namespace ormdb::bench

int main(int argc, char** argv) {
  using namespace ormdb::bench;
  // Before any thread exists: the signals go to the cleanup thread only.
  StartSignalThread();
  SetProgramName("server_bench");

  bool console = ConsoleOutput(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::optional<double> scale_or = BenchScale("server_bench");
  if (!scale_or) return 2;
  double scale = *scale_or;
  g_keep = Env("ORMDB_BENCH_KEEP", "0") == "1";
  SetKeepTempDirs(g_keep);
  g_extra_checks = std::strtoull(Env("ORMDB_BENCH_EXTRA_CHECKS", "32").c_str(), nullptr, 10);
  static Bench bench;  // never destroyed before Cleanup
  g = &bench;
  RegisterCluster(&bench.cluster);
  std::fprintf(stderr, "server_bench setup:\n");
  Setup(scale);
  for (const auto& [k, v] : bench.context) benchmark::AddCustomContext(k, v);
  Register();

  RunBenchmarks(console, Summary);
  benchmark::Shutdown();
  if (g_keep) {
    for (const std::string& d : TempDirs()) std::fprintf(stderr, "kept %s\n", d.c_str());
  }
  Teardown();
  return 0;
}
