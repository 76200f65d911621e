// fetch_bench: graph fetches of the blog (tests/data/blog.ormdb) through the
// embedded Database::Fetch, against SQLite answering the same questions the
// two ways an ORM does, in the same run.
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
// Strategies, each timed per query:
//   ormdb_fetch        Database::Fetch (the result blocks)
//   ormdb_fetch_json   Database::Fetch + FetchResult::ToJson()
//   sqlite_per_level   one prepared statement per include level with IN (...)
//                      batches (padded to a power of two), the tree assembled
//                      in C++ structs; limited includes either per parent
//                      (`WHERE parent = ? ORDER BY .. LIMIT n+1`) or with
//                      ROW_NUMBER() OVER (PARTITION BY parent ..) over the
//                      batch, whichever was faster in this run
//   sqlite_json        one statement building the whole result as JSON with
//                      json_object / json_group_array and correlated subqueries
// Both SQLite strategies read one row more than each limit, so they know what
// ormdb's "<relation>@next" says (whether more children remain).
//
// Before timing, every strategy's result is rendered as a canonical JSON tree
// and compared with ormdb's ToJson() "data" (an "@next" cursor compares as
// non-null) for a list of parameters; any difference stops the run. Times
// are per fetch: each iteration is timed, the parameters cycle over a fixed
// pseudo-random list mixing large and small users, tags and posts, and p50
// and p95 are reported in microseconds. The console format ends with a
// table and the ratio of ormdb to the better SQLite strategy.
//
// Environment: ORMDB_BENCH_SCALE (default 1; 0.1 for a quick run),
// ORMDB_BENCH_DIR (default /tmp: the ormdb data directory, fresh each run,
// removed at exit unless ORMDB_BENCH_KEEP=1), ORMDB_BENCH_CACHE (default
// /tmp/ormdb_fetch_bench_cache: generated JSONL and the SQLite database,
// reused across runs by scale), ORMDB_BENCH_SQLITE_ONLY=1 (no ormdb: the
// SQLite strategies are checked against each other and timed),
// ORMDB_BENCH_EXTRA_CHECKS (default 32: parameters per query checked beyond
// the timed ones).
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/bench_util.h"
#include "bench/blog_data.h"
#include "bench/blog_queries.h"
#include "bench/json_canonical.h"
#include "bench/sqlite_conn.h"
#include "bench/timing.h"
#include "ormdb/database.h"

#ifndef ORMDB_BLOG_SCHEMA
#define ORMDB_BLOG_SCHEMA "tests/data/blog.ormdb"
#endif

namespace ormdb::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Bump when the generator or the SQLite schema changes: the cache key.
constexpr int kDataVersion = 1;
size_t g_extra_checks = 32;  // parameters checked but not timed, per query

std::string g_data_dir;  // the ormdb data directory's parent (a fresh temp dir)
bool g_keep = false;

void Cleanup() {
  if (!g_data_dir.empty() && !g_keep) {
    std::error_code ec;
    fs::remove_all(g_data_dir, ec);
  }
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "fetch_bench: %s\n", message.c_str());
  Cleanup();
  std::exit(1);
}

// ------------------------------------------------------ canonical JSON trees

// `json` in bench/json_canonical.h's canonical form; exits on bad JSON.
std::string Canonical(std::string_view json, const char* what) {
  std::string out;
  Canonicalizer c(json);
  if (!c.Document(&out)) Die(std::string("bad JSON from ") + what + ": " + c.error());
  return out;
}

// ----------------------------------------------------- the result trees

struct UserRef {
  int64_t id = 0;
  std::string name;
};

struct TagRef {
  int64_t id = 0;
  std::string name;
};

struct CommentNode {
  int64_t id = 0;
  std::string body;
  int64_t created_at = 0;
  int64_t author_id = 0;  // 0: null
  std::optional<UserRef> author;
};

struct PostNode {
  int64_t id = 0;
  std::string title;
  std::string status;
  int64_t created_at = 0;
  int64_t author_id = 0;
  std::optional<UserRef> author;
  std::vector<TagRef> tags;
  std::vector<CommentNode> comments;
  bool comments_more = false;
};

// A user or a tag with its posts.
struct Page {
  int64_t id = 0;
  std::string name;
  std::vector<PostNode> posts;
  bool posts_more = false;
};

// What the per-level strategy builds: pages (user_page, tag_page) or root
// posts (feed, point).
struct Tree {
  std::vector<Page> pages;
  std::vector<PostNode> posts;
  bool posts_more = false;  // the feed's root: more rows after the page
};

// How a limited to-many include is read.
enum class Form { kPerParent, kWindow };

const char* FormName(Form f) { return f == Form::kPerParent ? "per-parent LIMIT" : "window"; }

// --------------------------------------------- SQLite: one query per level

constexpr const char* kSqlUser = "SELECT id, name FROM user WHERE id = ?1";
constexpr const char* kSqlTag = "SELECT id, name FROM tag WHERE id = ?1";
constexpr const char* kSqlPoint =
    "SELECT id, title, status, created_at, author FROM post WHERE id = ?1";
constexpr const char* kSqlFeed =
    "SELECT id, title, created_at, author FROM post WHERE status = 'published'"
    " ORDER BY created_at DESC, id LIMIT ?1";
constexpr const char* kSqlUserPostsOne =
    "SELECT id, title, created_at, author FROM post WHERE author = ?1"
    " ORDER BY created_at DESC, id LIMIT ?2";
constexpr const char* kSqlUserPostsWindow =
    "SELECT author, id, title, created_at, author FROM (SELECT id, title, created_at, author,"
    " ROW_NUMBER() OVER (PARTITION BY author ORDER BY created_at DESC, id) AS rn"
    " FROM post WHERE author IN (@IN)) WHERE rn <= ? ORDER BY author, rn";
constexpr const char* kSqlTagPostsOne =
    "SELECT p.id, p.title, p.created_at, p.author FROM post_tags pt JOIN post p ON p.id = pt.post"
    " WHERE pt.tag = ?1 ORDER BY p.created_at DESC, p.id LIMIT ?2";
constexpr const char* kSqlTagPostsWindow =
    "SELECT tag, id, title, created_at, author FROM (SELECT pt.tag AS tag, p.id AS id,"
    " p.title AS title, p.created_at AS created_at, p.author AS author,"
    " ROW_NUMBER() OVER (PARTITION BY pt.tag ORDER BY p.created_at DESC, p.id) AS rn"
    " FROM post_tags pt JOIN post p ON p.id = pt.post WHERE pt.tag IN (@IN))"
    " WHERE rn <= ? ORDER BY tag, rn";
constexpr const char* kSqlCommentsOne =
    "SELECT id, body, created_at, author FROM comment WHERE post = ?1"
    " ORDER BY created_at DESC, id LIMIT ?2";
constexpr const char* kSqlCommentsWindow =
    "SELECT post, id, body, created_at, author FROM (SELECT post, id, body, created_at, author,"
    " ROW_NUMBER() OVER (PARTITION BY post ORDER BY created_at DESC, id) AS rn"
    " FROM comment WHERE post IN (@IN)) WHERE rn <= ? ORDER BY post, rn";
constexpr const char* kSqlTagsOfPosts =
    "SELECT pt.post, t.id, t.name FROM post_tags pt JOIN tag t ON t.id = pt.tag"
    " WHERE pt.post IN (@IN) ORDER BY pt.post, pt.tag";
constexpr const char* kSqlUsersIn = "SELECT id, name FROM user WHERE id IN (@IN)";

class PerLevel {
 public:
  explicit PerLevel(Sqlite& db) : db_(db) {}

  Tree Run(QueryKind kind, int64_t param, Form form) {
    Tree t;
    switch (kind) {
      case QueryKind::kUserPage: {
        if (!Root(kSqlUser, param, &t.pages)) return t;
        LoadPosts(false, &t.pages, 10, form);
        std::vector<PostNode*> posts = PostsOf(&t.pages);
        LoadTags(posts);
        LoadComments(posts, 5, form);
        std::vector<CommentNode*> comments;
        for (PostNode* p : posts) {
          for (CommentNode& c : p->comments) comments.push_back(&c);
        }
        LoadCommentAuthors(comments);
        return t;
      }
      case QueryKind::kFeed: {
        sqlite3_stmt* s = db_.Prepare(kSqlFeed);
        sqlite3_bind_int64(s, 1, 21);
        Rows(db_, s, [&](sqlite3_stmt* r) {
          if (t.posts.size() < 20) {
            t.posts.push_back(ReadPost(r, 0));
          } else {
            t.posts_more = true;
          }
        });
        std::vector<PostNode*> posts;
        for (PostNode& p : t.posts) posts.push_back(&p);
        LoadPostAuthors(posts);
        LoadTags(posts);
        return t;
      }
      case QueryKind::kTagPage: {
        if (!Root(kSqlTag, param, &t.pages)) return t;
        LoadPosts(true, &t.pages, 20, form);
        std::vector<PostNode*> posts = PostsOf(&t.pages);
        LoadPostAuthors(posts);
        LoadComments(posts, 3, form);
        return t;
      }
      case QueryKind::kPoint: {
        sqlite3_stmt* s = db_.Prepare(kSqlPoint);
        sqlite3_bind_int64(s, 1, param);
        Rows(db_, s, [&](sqlite3_stmt* r) {
          PostNode p;
          p.id = sqlite3_column_int64(r, 0);
          p.title = Text(r, 1);
          p.status = Text(r, 2);
          p.created_at = sqlite3_column_int64(r, 3);
          p.author_id = sqlite3_column_int64(r, 4);
          t.posts.push_back(std::move(p));
        });
        std::vector<PostNode*> posts;
        for (PostNode& p : t.posts) posts.push_back(&p);
        LoadPostAuthors(posts);
        return t;
      }
    }
    return t;
  }

 private:
  bool Root(const char* sql, int64_t id, std::vector<Page>* pages) {
    sqlite3_stmt* s = db_.Prepare(sql);
    sqlite3_bind_int64(s, 1, id);
    Rows(db_, s, [&](sqlite3_stmt* r) {
      Page p;
      p.id = sqlite3_column_int64(r, 0);
      p.name = Text(r, 1);
      pages->push_back(std::move(p));
    });
    return !pages->empty();
  }

  static PostNode ReadPost(sqlite3_stmt* r, int col) {
    PostNode p;
    p.id = sqlite3_column_int64(r, col);
    p.title = Text(r, col + 1);
    p.created_at = sqlite3_column_int64(r, col + 2);
    p.author_id = sqlite3_column_int64(r, col + 3);
    return p;
  }

  static CommentNode ReadComment(sqlite3_stmt* r, int col) {
    CommentNode c;
    c.id = sqlite3_column_int64(r, col);
    c.body = Text(r, col + 1);
    c.created_at = sqlite3_column_int64(r, col + 2);
    c.author_id = sqlite3_column_int64(r, col + 3);  // NULL reads as 0
    return c;
  }

  static std::vector<PostNode*> PostsOf(std::vector<Page>* pages) {
    std::vector<PostNode*> out;
    for (Page& pg : *pages) {
      for (PostNode& p : pg.posts) out.push_back(&p);
    }
    return out;
  }

  // The posts of users (by author) or of tags (through post_tags), `limit`
  // per page, newest first.
  void LoadPosts(bool of_tags, std::vector<Page>* pages, size_t limit, Form form) {
    if (form == Form::kPerParent) {
      sqlite3_stmt* s = db_.Prepare(of_tags ? kSqlTagPostsOne : kSqlUserPostsOne);
      for (Page& pg : *pages) {
        sqlite3_bind_int64(s, 1, pg.id);
        sqlite3_bind_int64(s, 2, static_cast<int64_t>(limit) + 1);
        Rows(db_, s, [&](sqlite3_stmt* r) {
          if (pg.posts.size() < limit) {
            pg.posts.push_back(ReadPost(r, 0));
          } else {
            pg.posts_more = true;
          }
        });
      }
      return;
    }
    std::vector<int64_t> ids;
    for (const Page& pg : *pages) ids.push_back(pg.id);
    size_t padded;
    sqlite3_stmt* s =
        db_.PrepareIn(of_tags ? kSqlTagPostsWindow : kSqlUserPostsWindow, ids.size(), &padded);
    BindIn(s, ids, padded);
    sqlite3_bind_int64(s, static_cast<int>(padded + 1), static_cast<int64_t>(limit) + 1);
    Rows(db_, s, [&](sqlite3_stmt* r) {
      int64_t parent = sqlite3_column_int64(r, 0);
      for (Page& pg : *pages) {
        if (pg.id != parent) continue;
        if (pg.posts.size() < limit) {
          pg.posts.push_back(ReadPost(r, 1));
        } else {
          pg.posts_more = true;
        }
      }
    });
  }

  // Posts by id, for attaching children: (id, node) sorted by id.
  static std::vector<std::pair<int64_t, PostNode*>> ById(const std::vector<PostNode*>& posts) {
    std::vector<std::pair<int64_t, PostNode*>> v;
    v.reserve(posts.size());
    for (PostNode* p : posts) v.emplace_back(p->id, p);
    std::sort(v.begin(), v.end());
    return v;
  }

  template <class F>
  static void ForPost(const std::vector<std::pair<int64_t, PostNode*>>& by_id, int64_t id, F&& f) {
    auto it = std::lower_bound(by_id.begin(), by_id.end(), std::make_pair(id, (PostNode*)nullptr));
    for (; it != by_id.end() && it->first == id; ++it) f(it->second);
  }

  static std::vector<int64_t> Ids(const std::vector<std::pair<int64_t, PostNode*>>& by_id) {
    std::vector<int64_t> ids;
    for (const auto& [id, p] : by_id) {
      if (ids.empty() || ids.back() != id) ids.push_back(id);
    }
    return ids;
  }

  void LoadTags(const std::vector<PostNode*>& posts) {
    if (posts.empty()) return;
    auto by_id = ById(posts);
    std::vector<int64_t> ids = Ids(by_id);
    size_t padded;
    sqlite3_stmt* s = db_.PrepareIn(kSqlTagsOfPosts, ids.size(), &padded);
    BindIn(s, ids, padded);
    Rows(db_, s, [&](sqlite3_stmt* r) {
      ForPost(by_id, sqlite3_column_int64(r, 0), [&](PostNode* p) {
        p->tags.push_back({sqlite3_column_int64(r, 1), Text(r, 2)});
      });
    });
  }

  void LoadComments(const std::vector<PostNode*>& posts, size_t limit, Form form) {
    if (posts.empty()) return;
    if (form == Form::kPerParent) {
      sqlite3_stmt* s = db_.Prepare(kSqlCommentsOne);
      for (PostNode* p : posts) {
        sqlite3_bind_int64(s, 1, p->id);
        sqlite3_bind_int64(s, 2, static_cast<int64_t>(limit) + 1);
        Rows(db_, s, [&](sqlite3_stmt* r) {
          if (p->comments.size() < limit) {
            p->comments.push_back(ReadComment(r, 0));
          } else {
            p->comments_more = true;
          }
        });
      }
      return;
    }
    auto by_id = ById(posts);
    std::vector<int64_t> ids = Ids(by_id);
    size_t padded;
    sqlite3_stmt* s = db_.PrepareIn(kSqlCommentsWindow, ids.size(), &padded);
    BindIn(s, ids, padded);
    sqlite3_bind_int64(s, static_cast<int>(padded + 1), static_cast<int64_t>(limit) + 1);
    Rows(db_, s, [&](sqlite3_stmt* r) {
      ForPost(by_id, sqlite3_column_int64(r, 0), [&](PostNode* p) {
        if (p->comments.size() < limit) {
          p->comments.push_back(ReadComment(r, 1));
        } else {
          p->comments_more = true;
        }
      });
    });
  }

  // The users with the given ids, sorted by id.
  std::vector<UserRef> Users(std::vector<int64_t> ids) {
    std::vector<UserRef> users;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (ids.empty()) return users;
    size_t padded;
    sqlite3_stmt* s = db_.PrepareIn(kSqlUsersIn, ids.size(), &padded);
    BindIn(s, ids, padded);
    Rows(db_, s, [&](sqlite3_stmt* r) {
      users.push_back({sqlite3_column_int64(r, 0), Text(r, 1)});
    });
    std::sort(users.begin(), users.end(),
              [](const UserRef& a, const UserRef& b) { return a.id < b.id; });
    return users;
  }

  static std::optional<UserRef> Find(const std::vector<UserRef>& users, int64_t id) {
    auto it = std::lower_bound(users.begin(), users.end(), id,
                               [](const UserRef& u, int64_t v) { return u.id < v; });
    if (it == users.end() || it->id != id) return std::nullopt;
    return *it;
  }

  void LoadPostAuthors(const std::vector<PostNode*>& posts) {
    std::vector<int64_t> ids;
    for (PostNode* p : posts) ids.push_back(p->author_id);
    std::vector<UserRef> users = Users(std::move(ids));
    for (PostNode* p : posts) p->author = Find(users, p->author_id);
  }

  void LoadCommentAuthors(const std::vector<CommentNode*>& comments) {
    std::vector<int64_t> ids;
    for (CommentNode* c : comments) {
      if (c->author_id) ids.push_back(c->author_id);
    }
    std::vector<UserRef> users = Users(std::move(ids));
    for (CommentNode* c : comments) {
      if (c->author_id) c->author = Find(users, c->author_id);
    }
  }

  Sqlite& db_;
};

// The per-level tree as ormdb renders "data" (DESIGN.md §5, QUERIES.md):
// id first, then the selection in order; "<relation>@next" after a limited
// include.
void RenderUser(std::string* o, const std::optional<UserRef>& u) {
  if (!u) {
    *o += "null";
    return;
  }
  *o += "{\"id\":" + std::to_string(u->id) + ",\"name\":";
  AppendJsonString(o, u->name);
  *o += '}';
}

void RenderTime(std::string* o, int64_t micros) { AppendJsonString(o, FormatRfc3339(micros)); }

void RenderPost(std::string* o, QueryKind kind, const PostNode& p) {
  *o += "{\"id\":" + std::to_string(p.id) + ",\"title\":";
  AppendJsonString(o, p.title);
  if (kind == QueryKind::kPoint) {
    *o += ",\"status\":";
    AppendJsonString(o, p.status);
  }
  *o += ",\"created_at\":";
  RenderTime(o, p.created_at);
  if (kind != QueryKind::kUserPage) {
    *o += ",\"author\":";
    RenderUser(o, p.author);
  }
  if (kind == QueryKind::kUserPage || kind == QueryKind::kFeed) {
    *o += ",\"tags\":[";
    for (size_t i = 0; i < p.tags.size(); ++i) {
      if (i) *o += ',';
      *o += "{\"id\":" + std::to_string(p.tags[i].id) + ",\"name\":";
      AppendJsonString(o, p.tags[i].name);
      *o += '}';
    }
    *o += ']';
  }
  if (kind == QueryKind::kUserPage || kind == QueryKind::kTagPage) {
    *o += ",\"comments\":[";
    for (size_t i = 0; i < p.comments.size(); ++i) {
      const CommentNode& c = p.comments[i];
      if (i) *o += ',';
      *o += "{\"id\":" + std::to_string(c.id) + ",\"body\":";
      AppendJsonString(o, c.body);
      *o += ",\"created_at\":";
      RenderTime(o, c.created_at);
      if (kind == QueryKind::kUserPage) {
        *o += ",\"author\":";
        RenderUser(o, c.author);
      }
      *o += '}';
    }
    *o += "],\"comments@next\":";
    *o += p.comments_more ? "true" : "null";
  }
  *o += '}';
}

std::string RenderTree(QueryKind kind, const Tree& t) {
  std::string o = "[";
  if (kind == QueryKind::kUserPage || kind == QueryKind::kTagPage) {
    for (size_t i = 0; i < t.pages.size(); ++i) {
      const Page& pg = t.pages[i];
      if (i) o += ',';
      o += "{\"id\":" + std::to_string(pg.id) + ",\"name\":";
      AppendJsonString(&o, pg.name);
      o += ",\"posts\":[";
      for (size_t j = 0; j < pg.posts.size(); ++j) {
        if (j) o += ',';
        RenderPost(&o, kind, pg.posts[j]);
      }
      o += "],\"posts@next\":";
      o += pg.posts_more ? "true" : "null";
      o += '}';
    }
  } else {
    for (size_t i = 0; i < t.posts.size(); ++i) {
      if (i) o += ',';
      RenderPost(&o, kind, t.posts[i]);
    }
  }
  o += ']';
  return o;
}

// ------------------------------------------------ SQLite: one JSON statement

constexpr const char* kJsonAuthor =
    "(SELECT json_object('id', a.id, 'name', a.name) FROM user a WHERE a.id = %s)";
constexpr const char* kJsonTags =
    "(SELECT json_group_array(json_object('id', t.id, 'name', t.name)) FROM"
    " (SELECT t.id AS id, t.name AS name FROM post_tags pt JOIN tag t ON t.id = pt.tag"
    " WHERE pt.post = p.id ORDER BY pt.tag) t)";

std::string Fill(const char* pattern, const char* arg) {
  std::string s = pattern;
  s.replace(s.find("%s"), 2, arg);
  return s;
}

// "CASE WHEN <more than n rows of `from_where`> THEN true END": the @next of
// a limited include, counting at most n + 1 index entries.
std::string MoreThan(const std::string& from_where, int n) {
  return "CASE WHEN (SELECT count(*) FROM (SELECT 1 " + from_where + " LIMIT " +
         std::to_string(n + 1) + ")) > " + std::to_string(n) + " THEN json('true') END";
}

std::string JsonSql(QueryKind kind) {
  switch (kind) {
    case QueryKind::kUserPage:
      return "SELECT json_group_array(json_object('id', u.id, 'name', u.name, 'posts',"
             " (SELECT json_group_array(json_object('id', p.id, 'title', p.title,"
             " 'created_at', rfc3339(p.created_at), 'tags', " +
             std::string(kJsonTags) +
             ", 'comments', (SELECT json_group_array(json_object('id', c.id, 'body', c.body,"
             " 'created_at', rfc3339(c.created_at), 'author', " +
             Fill(kJsonAuthor, "c.author") +
             ")) FROM (SELECT id, body, created_at, author FROM comment WHERE post = p.id"
             " ORDER BY created_at DESC, id LIMIT 5) c), 'comments@next', " +
             MoreThan("FROM comment WHERE post = p.id", 5) +
             ")) FROM (SELECT id, title, created_at FROM post WHERE author = u.id"
             " ORDER BY created_at DESC, id LIMIT 10) p), 'posts@next', " +
             MoreThan("FROM post WHERE author = u.id", 10) + ")) FROM user u WHERE u.id = ?1";
    case QueryKind::kFeed:
      return "SELECT json_group_array(json_object('id', p.id, 'title', p.title,"
             " 'created_at', rfc3339(p.created_at), 'author', " +
             Fill(kJsonAuthor, "p.author") + ", 'tags', " + kJsonTags +
             ")) FROM (SELECT id, title, created_at, author FROM post WHERE status = 'published'"
             " ORDER BY created_at DESC, id LIMIT 20) p";
    case QueryKind::kTagPage:
      return "SELECT json_group_array(json_object('id', g.id, 'name', g.name, 'posts',"
             " (SELECT json_group_array(json_object('id', p.id, 'title', p.title,"
             " 'created_at', rfc3339(p.created_at), 'author', " +
             Fill(kJsonAuthor, "p.author") +
             ", 'comments', (SELECT json_group_array(json_object('id', c.id, 'body', c.body,"
             " 'created_at', rfc3339(c.created_at))) FROM (SELECT id, body, created_at FROM comment"
             " WHERE post = p.id ORDER BY created_at DESC, id LIMIT 3) c), 'comments@next', " +
             MoreThan("FROM comment WHERE post = p.id", 3) +
             ")) FROM (SELECT p.id AS id, p.title AS title, p.created_at AS created_at,"
             " p.author AS author FROM post_tags pt JOIN post p ON p.id = pt.post"
             " WHERE pt.tag = g.id ORDER BY p.created_at DESC, p.id LIMIT 20) p), 'posts@next', " +
             MoreThan("FROM post_tags WHERE tag = g.id", 20) + ")) FROM tag g WHERE g.id = ?1";
    case QueryKind::kPoint:
      return "SELECT json_group_array(json_object('id', p.id, 'title', p.title, 'status',"
             " p.status, 'created_at', rfc3339(p.created_at), 'author', " +
             Fill(kJsonAuthor, "p.author") + ")) FROM post p WHERE p.id = ?1";
  }
  return "";
}

class JsonStrategy {
 public:
  explicit JsonStrategy(Sqlite& db) : db_(db) {
    for (QueryKind k :
         {QueryKind::kUserPage, QueryKind::kFeed, QueryKind::kTagPage, QueryKind::kPoint}) {
      sql_[static_cast<int>(k)] = JsonSql(k);
      stmt_[static_cast<int>(k)] = db_.Prepare(sql_[static_cast<int>(k)].c_str());
    }
  }

  std::string Run(QueryKind kind, int64_t param) {
    sqlite3_stmt* s = stmt_[static_cast<int>(kind)];
    if (kind != QueryKind::kFeed) sqlite3_bind_int64(s, 1, param);
    std::string out;
    Rows(db_, s, [&](sqlite3_stmt* r) { out = Text(r, 0); });
    return out;
  }

  const std::string& sql(QueryKind kind) const { return sql_[static_cast<int>(kind)]; }

 private:
  Sqlite& db_;
  std::string sql_[4];
  sqlite3_stmt* stmt_[4] = {};
};

// ------------------------------------------------------------- the queries

// A blog query (bench/blog_queries) and how the per-level strategy reads it.
struct Query : BlogQuery {
  Form form = Form::kPerParent;  // the per-level form timed
};

// ------------------------------------------------------------- the state

using Stat = LatencyStat;

struct Bench {
  double scale = 1;
  BlogData data;
  std::unique_ptr<Sqlite> sqlite;
  std::unique_ptr<PerLevel> per_level;
  std::unique_ptr<JsonStrategy> json;
  std::unique_ptr<Database> db;  // null with ORMDB_BENCH_SQLITE_ONLY
  std::vector<Query> queries;
  std::map<std::string, Stat> stats;  // "query/strategy"
  // Every iteration's time per "query/strategy", across repetitions.
  std::map<std::string, LatencySamples> samples;
  std::vector<std::pair<std::string, std::string>> context;
};

Bench* g = nullptr;

void Note(const std::string& key, const std::string& value) {
  std::fprintf(stderr, "  %-28s %s\n", key.c_str(), value.c_str());
  g->context.emplace_back(key, value);
}

// The cache of generated files: JSONL for ormdb and the SQLite database.
void PrepareCache(const std::string& dir) {
  const std::string stamp = dir + "/complete";
  if (fs::exists(stamp)) {
    Note("cache", dir + " (reused: generated files and SQLite database)");
    return;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) Die("cannot create " + dir + ": " + ec.message());
  Note("cache", dir + " (new)");

  auto start = Clock::now();
  std::string error;
  if (!WriteBlogJsonl(g->data, dir, &error)) Die(error);
  Note("write JSONL", FormatSeconds(Since(start)));

  start = Clock::now();
  {
    Sqlite s(dir + "/blog.sqlite", Die);
    s.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    if (!LoadBlogSqlite(g->data, s.db(), &error)) Die(error);
    s.Exec("PRAGMA wal_checkpoint(TRUNCATE);");
  }
  Note("SQLite load (1 txn + ANALYZE)", FormatSeconds(Since(start)));
  std::ofstream(stamp) << "ok\n";
}

void ImportOrmdb(const std::string& cache) {
  std::string pattern = Env("ORMDB_BENCH_DIR", "/tmp") + "/ormdb_fetch_bench_XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) Die("mkdtemp " + pattern + " failed");
  g_data_dir = buf.data();
  const std::string dir = g_data_dir + "/db";
  Note("ormdb data_dir", dir + " (" + ormdb::bench::FilesystemName(g_data_dir) + ")");

  auto opened = Database::Open(dir);
  if (!opened.ok()) Die("open " + dir + ": " + opened.status().ToString());
  g->db = std::move(opened).value();
  std::ifstream schema_file(ORMDB_BLOG_SCHEMA);
  if (!schema_file) Die(std::string("cannot read the blog schema ") + ORMDB_BLOG_SCHEMA);
  std::stringstream schema;
  schema << schema_file.rdbuf();
  auto applied = g->db->ApplySchema(schema.str());
  if (!applied.ok()) Die("schema: " + applied.status().ToString());

  const std::pair<const char*, const char*> files[] = {{"User", "users.jsonl"},
                                                       {"Tag", "tags.jsonl"},
                                                       {"Post", "posts.jsonl"},
                                                       {"Post.tags", "post_tags.jsonl"},
                                                       {"Comment", "comments.jsonl"}};
  auto all = Clock::now();
  std::string detail;
  for (const auto& [what, file] : files) {
    auto start = Clock::now();
    std::ifstream in(cache + "/" + file, std::ios::binary);
    if (!in) Die("cannot read " + cache + "/" + file);
    auto r = g->db->Import(what, in);
    if (!r.ok()) Die(std::string("import ") + what + ": " + r.status().ToString());
    char part[96];
    std::snprintf(part, sizeof part, "%s%s %.2f s", detail.empty() ? "" : ", ", what, Since(start));
    detail += part;
  }
  Note("ormdb import", FormatSeconds(Since(all)) + " (" + detail + ")");
  Note("ormdb data size", Mb(DirectoryBytes(dir)));
}

std::string OrmdbData(const Query& q, size_t i, std::optional<bool>* has_next = nullptr) {
  auto r = g->db->Fetch(q.text, q.params_json[i]);
  if (!r.ok()) {
    Die("ormdb Fetch failed: " + r.status().ToString() + "\n  query: " + q.text +
        "\n  params: " + q.params_json[i]);
  }
  if (has_next) *has_next = (*r)->next().has_value();
  std::string json = (*r)->ToJson();
  std::string data;
  Canonicalizer c(json);
  if (!c.Member("data", &data)) Die("bad ToJson() from ormdb: " + c.error() + "\n" + json);
  return data;
}

[[noreturn]] void Mismatch(const Query& q, size_t i, const std::string& ref_name,
                           const std::string& ref, const std::string& name,
                           const std::string& got) {
  size_t at = 0;
  while (at < ref.size() && at < got.size() && ref[at] == got[at]) ++at;
  size_t from = at > 300 ? at - 300 : 0;
  std::string base = Env("ORMDB_BENCH_DIR", "/tmp") + "/fetch_bench_mismatch_" + q.name;
  std::ofstream(base + "_" + ref_name + ".json") << ref << "\n";
  std::ofstream(base + "_" + name + ".json") << got << "\n";
  std::fprintf(stderr,
               "\nRESULTS DIFFER: query %s, params %s: %s and %s differ at byte %zu\n"
               "  query: %s\n"
               "  %s: ...%s\n"
               "  %s: ...%s\n"
               "  full canonical results: %s_{%s,%s}.json\n",
               q.name.c_str(), q.params_json[i].c_str(), ref_name.c_str(), name.c_str(), at,
               q.text.c_str(), ref_name.c_str(), ref.substr(from, at - from + 300).c_str(),
               name.c_str(), got.substr(from, at - from + 300).c_str(), base.c_str(),
               ref_name.c_str(), name.c_str());
  Die("results differ; not timing anything");
}

// Every strategy against ormdb (or, without ormdb, against the per-level
// per-parent form) for every check parameter. Doubles as the warm-up.
void CheckResults() {
  auto start = Clock::now();
  size_t compared = 0, nonempty = 0;
  for (const Query& q : g->queries) {
    for (size_t i = 0; i < q.check_params.size(); ++i) {
      int64_t p = q.check_params[i];
      std::string per_parent = Canonical(
          RenderTree(q.kind, g->per_level->Run(q.kind, p, Form::kPerParent)), "per-level");
      std::string window =
          Canonical(RenderTree(q.kind, g->per_level->Run(q.kind, p, Form::kWindow)), "window");
      std::string json = Canonical(g->json->Run(q.kind, p), "sqlite json");
      std::string ref = per_parent, ref_name = "sqlite_per_parent";
      if (g->db) {
        std::optional<bool> has_next;
        ref = OrmdbData(q, i, &has_next);
        ref_name = "ormdb";
        if (q.kind == QueryKind::kFeed) {
          bool more = g->per_level->Run(q.kind, p, Form::kPerParent).posts_more;
          if (*has_next != more) {
            Die(std::string("feed: ormdb's root next is ") + (*has_next ? "a cursor" : "null") +
                " but " + (more ? "more" : "no more") + " published posts remain");
          }
        }
        if (ref != per_parent) Mismatch(q, i, ref_name, ref, "sqlite_per_parent", per_parent);
        compared += 1;
      }
      if (ref != window) Mismatch(q, i, ref_name, ref, "sqlite_window", window);
      if (ref != json) Mismatch(q, i, ref_name, ref, "sqlite_json", json);
      compared += 2;
      nonempty += ref != "[]";
    }
  }
  Note("results checked", std::to_string(compared) + " comparisons, " + std::to_string(nonempty) +
                              " non-empty results, all equal (" + FormatSeconds(Since(start)) +
                              ")");
}

// Picks the faster per-level form for the queries with limited includes.
void ChooseForms() {
  for (Query& q : g->queries) {
    if (q.kind != QueryKind::kUserPage && q.kind != QueryKind::kTagPage) continue;
    double t[2] = {0, 0};
    for (int round = 0; round < 3; ++round) {
      for (Form f : {Form::kPerParent, Form::kWindow}) {
        auto start = Clock::now();
        for (int64_t p : q.params) benchmark::DoNotOptimize(g->per_level->Run(q.kind, p, f));
        t[static_cast<int>(f)] += Since(start);
      }
    }
    q.form = t[0] <= t[1] ? Form::kPerParent : Form::kWindow;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s (per-parent %.0f us, window %.0f us per fetch)",
                  FormName(q.form), t[0] / 3 / q.params.size() * 1e6,
                  t[1] / 3 / q.params.size() * 1e6);
    Note("per-level form, " + q.name, buf);
  }
}

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

  char key[64];
  std::snprintf(key, sizeof key, "/scale-%s-v%d", ScaleText(scale).c_str(), kDataVersion);
  const std::string cache = Env("ORMDB_BENCH_CACHE", "/tmp/ormdb_fetch_bench_cache") + key;
  PrepareCache(cache);
  Note("SQLite size", Mb(fs::file_size(cache + "/blog.sqlite")) + ", " + SQLITE_VERSION);

  g->sqlite = std::make_unique<Sqlite>(cache + "/blog.sqlite", Die);
  // WAL (in the file already); reads through mmap with a large page cache,
  // as LMDB reads through its map.
  g->sqlite->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA mmap_size=17179869184; PRAGMA cache_size=-1048576;");
  g->per_level = std::make_unique<PerLevel>(*g->sqlite);
  g->json = std::make_unique<JsonStrategy>(*g->sqlite);

  if (Env("ORMDB_BENCH_SQLITE_ONLY", "0") != "1") ImportOrmdb(cache);

  for (BlogQuery& b : MakeBlogQueries(g->data, g_extra_checks)) {
    Query q;
    static_cast<BlogQuery&>(q) = std::move(b);
    g->queries.push_back(std::move(q));
  }
  CheckResults();
  ChooseForms();
}

// ------------------------------------------------------------- benchmarks

using RunFn = std::function<void(const Query& q, size_t i)>;

void TimeFetches(benchmark::State& state, const Query& q, const std::string& key,
                 const RunFn& run) {
  // Over every repetition of this benchmark (bench/timing.h).
  std::optional<Stat> st =
      TimeEachIteration(state, &g->samples[key], [&](size_t i) { run(q, i % q.params.size()); });
  if (st) g->stats[key] = *st;
}

const char* const kStrategies[] = {"ormdb_fetch", "ormdb_fetch_json", "sqlite_per_level",
                                   "sqlite_json"};

void Register() {
  RunFn runs[4] = {
      [](const Query& q, size_t i) {
        auto r = g->db->Fetch(q.text, q.params_json[i]);
        if (!r.ok()) Die("ormdb Fetch: " + r.status().ToString());
        benchmark::DoNotOptimize(r->get());
      },
      [](const Query& q, size_t i) {
        auto r = g->db->Fetch(q.text, q.params_json[i]);
        if (!r.ok()) Die("ormdb Fetch: " + r.status().ToString());
        std::string json = (*r)->ToJson();
        benchmark::DoNotOptimize(json.data());
      },
      [](const Query& q, size_t i) {
        Tree t = g->per_level->Run(q.kind, q.params[i], q.form);
        benchmark::DoNotOptimize(&t);
      },
      [](const Query& q, size_t i) {
        std::string json = g->json->Run(q.kind, q.params[i]);
        benchmark::DoNotOptimize(json.data());
      },
  };
  for (size_t qi = 0; qi < g->queries.size(); ++qi) {
    for (int s = 0; s < 4; ++s) {
      if (s < 2 && !g->db) continue;
      std::string key = g->queries[qi].name + "/" + kStrategies[s];
      RunFn run = runs[s];
      benchmark::RegisterBenchmark(
          ("BM_Fetch/" + key).c_str(),
          [qi, key, run](benchmark::State& state) { TimeFetches(state, g->queries[qi], key, run); })
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
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
               "over %zu values):\n",
               ScaleText(g->scale).c_str(), kParamsPerQuery);
  std::fprintf(out, "%-10s %-20s %-20s %-20s %-20s %-12s %-12s\n", "query", "ormdb Fetch",
               "ormdb Fetch+ToJson", "SQLite per-level", "SQLite JSON", "Fetch/best",
               "+ToJson/best");
  for (const Query& q : g->queries) {
    auto p50 = [&](const char* s) -> std::optional<double> {
      auto it = g->stats.find(q.name + "/" + s);
      if (it == g->stats.end()) return std::nullopt;
      return it->second.p50;
    };
    std::optional<double> a = p50("sqlite_per_level"), b = p50("sqlite_json");
    std::optional<double> best = a && b ? std::min(*a, *b) : a ? a : b;
    auto ratio = [&](const char* s) {
      std::optional<double> v = p50(s);
      if (!v || !best || *best <= 0) return std::string("-");
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2fx", *v / *best);
      return std::string(buf);
    };
    std::string level = Cell(q.name + "/sqlite_per_level");
    if ((q.kind == QueryKind::kUserPage || q.kind == QueryKind::kTagPage) && level != "-") {
      level += q.form == Form::kWindow ? " (w)" : " (pp)";
    }
    std::fprintf(out, "%-10s %-20s %-20s %-20s %-20s %-12s %-12s\n", q.name.c_str(),
                 Cell(q.name + "/ormdb_fetch").c_str(), Cell(q.name + "/ormdb_fetch_json").c_str(),
                 level.c_str(), Cell(q.name + "/sqlite_json").c_str(), ratio("ormdb_fetch").c_str(),
                 ratio("ormdb_fetch_json").c_str());
  }
  std::fprintf(out,
               "Ratios: ormdb p50 / p50 of the better SQLite strategy (above 1: ormdb is "
               "slower). (pp) per-parent LIMIT, (w) ROW_NUMBER() window.\n");
}

}  // namespace
}  // namespace ormdb::bench

int main(int argc, char** argv) {
  using namespace ormdb::bench;
  bool console = ConsoleOutput(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::optional<double> scale_or = BenchScale("fetch_bench");
  if (!scale_or) return 2;
  double scale = *scale_or;
  g_keep = Env("ORMDB_BENCH_KEEP", "0") == "1";
  g_extra_checks = std::strtoull(Env("ORMDB_BENCH_EXTRA_CHECKS", "32").c_str(), nullptr, 10);
  Bench bench;
  g = &bench;
  std::fprintf(stderr, "fetch_bench setup:\n");
  Setup(scale);
  for (const auto& [k, v] : bench.context) benchmark::AddCustomContext(k, v);
  Register();

  RunBenchmarks(console, Summary);
  benchmark::Shutdown();
  bench.db.reset();
  bench.json.reset();
  bench.per_level.reset();
  bench.sqlite.reset();
  if (g_keep) std::fprintf(stderr, "kept %s\n", g_data_dir.c_str());
  Cleanup();
  return 0;
}
