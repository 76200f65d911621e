#include "bench/blog_data.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "ormdb/database.h"

namespace ormdb::bench {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;
constexpr int64_t k2023 = 1'672'531'200;  // 2023-01-01T00:00:00Z, Unix seconds
constexpr int64_t k2024 = 1'704'067'200;  // 2024-01-01T00:00:00Z

constexpr uint64_t kSeed = 0x0b10'9da7'a5e7'0001ULL;

// Zipf–Mandelbrot ranks: P(rank k) proportional to 1/(k + q), with integer
// weights so that sampling is exact and platform-independent.
class ZipfSampler {
 public:
  ZipfSampler(uint64_t n, uint64_t q) {
    cumulative_.reserve(n);
    uint64_t total = 0;
    for (uint64_t k = 0; k < n; ++k) {
      total += (uint64_t{1} << 40) / (k + q);
      cumulative_.push_back(total);
    }
  }
  uint64_t Sample(SplitMix64& rng) const {
    uint64_t x = rng.Below(cumulative_.back());
    return static_cast<uint64_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), x) -
                                 cumulative_.begin());
  }

 private:
  std::vector<uint64_t> cumulative_;
};

// Ids 1..n in a shuffled order (rank -> id).
std::vector<int64_t> ShuffledIds(int64_t n, SplitMix64& rng) {
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = i + 1;
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(ids[static_cast<size_t>(i)],
              ids[static_cast<size_t>(rng.Below(static_cast<uint64_t>(i) + 1))]);
  }
  return ids;
}

// A fractional part: a third none, a third whole milliseconds, a third
// microseconds.
int64_t Fraction(SplitMix64& rng) {
  switch (rng.Below(3)) {
    case 0:
      return 0;
    case 1:
      return static_cast<int64_t>(rng.Below(1000)) * 1000;
    default:
      return static_cast<int64_t>(rng.Below(1'000'000));
  }
}

// A time in [start, start + days) with a random fractional part.
int64_t RandomTime(SplitMix64& rng, int64_t start_seconds, int64_t days) {
  int64_t s =
      start_seconds + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(days * kSecondsPerDay)));
  return s * kMicrosPerSecond + Fraction(rng);
}

const char* const kFirstNames[] = {"Ann",  "Bob",   "Chloé",  "Dmitri", "Eve",  "Fatima", "Gus",
                                   "Hana", "Ivan",  "José",   "Kai",    "Lena", "Mia",    "Noor",
                                   "Olaf", "Priya", "Quinn",  "Rosa",   "Sven", "Tariq",  "Uma",
                                   "Vera", "Wei",   "Xavier", "Yuki",   "Zoë",  "Łukasz", "Søren",
                                   "Ana",  "Ben",   "Cleo",   "Dan"};
const char* const kLastNames[] = {"Smith",  "O'Brien", "Müller", "Nguyen",  "García", "Kowalski",
                                  "Tanaka", "Okafor",  "Rossi",  "Dubois",  "Singh",  "Kim",
                                  "Novak",  "Jensen",  "Costa",  "Li",      "Ahmed",  "Berg",
                                  "Cruz",   "Diaz",    "Evans",  "Fischer", "Gray",   "Hall"};
// Words of titles and bodies; a few need escaping in JSON or are not ASCII.
const char* const kWords[] = {
    "graph",  "fetch",       "index",       "cursor",    "snapshot", "budget",  "naïve",   "C++",
    "<html>", "a \"quote\"", "back\\slash", "tab\there", "🚀",        "日本語",  "fast",    "slow",
    "batch",  "edge",        "row",         "tree",      "plan",     "cache",   "version", "schema",
    "order",  "limit",       "page",        "feed",      "tag",      "comment", "post",    "user",
    "join",   "window",      "json",        "query",     "database", "storage", "commit",  "lmdb"};

template <size_t N>
const char* Pick(const char* const (&words)[N], SplitMix64& rng) {
  return words[rng.Below(N)];
}

std::string Words(SplitMix64& rng, uint64_t min, uint64_t max) {
  std::string s;
  uint64_t n = min + rng.Below(max - min + 1);
  for (uint64_t i = 0; i < n; ++i) {
    if (i) s += ' ';
    s += Pick(kWords, rng);
  }
  return s;
}

bool WriteFile(const std::string& path, const std::string& content, std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    *error = "cannot create " + path;
    return false;
  }
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) *error = "cannot write " + path;
  return ok;
}

void AppendInt(std::string* out, int64_t v) { *out += std::to_string(v); }

bool Exec(sqlite3* db, const char* sql, std::string* error) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    *error = std::string("sqlite: ") + (msg ? msg : "?") + " in: " + sql;
    sqlite3_free(msg);
    return false;
  }
  return true;
}

}  // namespace

int64_t ScaledCount(int64_t base, double scale) {
  return std::max<int64_t>(1, std::llround(static_cast<double>(base) * scale));
}

BlogData GenerateBlog(double scale) {
  BlogData d;
  d.scale = scale;
  const int64_t n_users = ScaledCount(10'000, scale);
  const int64_t n_posts = ScaledCount(100'000, scale);
  const int64_t n_comments = ScaledCount(500'000, scale);
  const int64_t n_tags = std::max<int64_t>(5, ScaledCount(500, scale));
  SplitMix64 rng(kSeed);

  d.users_by_rank = ShuffledIds(n_users, rng);
  d.posts_by_rank = ShuffledIds(n_posts, rng);
  d.tags_by_rank = ShuffledIds(n_tags, rng);

  d.users.reserve(static_cast<size_t>(n_users));
  for (int64_t i = 1; i <= n_users; ++i) {
    BlogUser u;
    u.id = i;
    u.email = "user" + std::to_string(i) + "@example.com";
    u.name = std::string(Pick(kFirstNames, rng)) + " " + Pick(kLastNames, rng);
    u.has_age = !rng.Percent(10);
    if (u.has_age) u.age = static_cast<int32_t>(18 + rng.Below(63));
    u.created_at = RandomTime(rng, k2023, 365);
    d.users.push_back(std::move(u));
  }

  d.tags.reserve(static_cast<size_t>(n_tags));
  for (int64_t i = 1; i <= n_tags; ++i) {
    d.tags.push_back({i, "tag-" + std::to_string(i) + "-" + Pick(kWords, rng)});
  }

  // Posts: authors skewed over users, tags skewed over tags.
  const ZipfSampler user_zipf(static_cast<uint64_t>(n_users), 5);
  const ZipfSampler tag_zipf(static_cast<uint64_t>(n_tags), 2);
  std::vector<int64_t> last_post_time(static_cast<size_t>(n_users) + 1, -1);
  d.posts.reserve(static_cast<size_t>(n_posts));
  d.post_tags.reserve(static_cast<size_t>(n_posts) * 3);
  for (int64_t i = 1; i <= n_posts; ++i) {
    BlogPost p;
    p.id = i;
    p.author = d.users_by_rank[user_zipf.Sample(rng)];
    p.published = rng.Percent(80);
    p.title = "Post " + std::to_string(i) + ": " + Words(rng, 1, 6);
    int64_t& last = last_post_time[static_cast<size_t>(p.author)];
    if (last >= 0 && rng.Percent(5)) {
      p.created_at = last;  // a tie within the author's posts
    } else if (i > 1 && rng.Percent(3)) {
      p.created_at = d.posts.back().created_at;  // a tie in the global order
    } else {
      p.created_at = RandomTime(rng, k2024, 366);
    }
    last = p.created_at;
    int64_t chosen[5];
    uint64_t k = 1 + rng.Below(5), have = 0;
    while (have < k) {
      int64_t t = d.tags_by_rank[tag_zipf.Sample(rng)];
      if (std::find(chosen, chosen + have, t) == chosen + have) chosen[have++] = t;
    }
    std::sort(chosen, chosen + have);
    for (uint64_t j = 0; j < have; ++j) d.post_tags.emplace_back(i, chosen[j]);
    d.posts.push_back(std::move(p));
  }

  // Comments: posts skewed, authors uniform (10% null).
  const ZipfSampler post_zipf(static_cast<uint64_t>(n_posts), 10);
  std::vector<int64_t> last_comment_time(static_cast<size_t>(n_posts) + 1, -1);
  d.comments.reserve(static_cast<size_t>(n_comments));
  for (int64_t i = 1; i <= n_comments; ++i) {
    BlogComment c;
    c.id = i;
    c.post = d.posts_by_rank[post_zipf.Sample(rng)];
    c.author =
        rng.Percent(10) ? 0 : 1 + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(n_users)));
    c.body = "Comment " + std::to_string(i) + ": " + Words(rng, 2, 12);
    int64_t& last = last_comment_time[static_cast<size_t>(c.post)];
    if (last >= 0 && rng.Percent(10)) {
      c.created_at = last;
    } else {
      int64_t base = d.posts[static_cast<size_t>(c.post - 1)].created_at / kMicrosPerSecond;
      c.created_at = RandomTime(rng, base, 30);
    }
    last = c.created_at;
    d.comments.push_back(std::move(c));
  }
  return d;
}

std::string FormatRfc3339(int64_t micros) {
  int64_t seconds = micros / kMicrosPerSecond, fraction = micros % kMicrosPerSecond;
  if (fraction < 0) {
    fraction += kMicrosPerSecond;
    --seconds;
  }
  int64_t days = seconds / kSecondsPerDay, sod = seconds % kSecondsPerDay;
  if (sod < 0) {
    sod += kSecondsPerDay;
    --days;
  }
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t dd = doy - (153 * mp + 2) / 5 + 1;
  int64_t mm = mp < 10 ? mp + 3 : mp - 9;
  if (mm <= 2) ++y;
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                        static_cast<long long>(y), static_cast<long long>(mm),
                        static_cast<long long>(dd), static_cast<long long>(sod / 3600),
                        static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60));
  if (fraction != 0) {
    if (fraction % 1000 == 0) {
      n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%03lld",
                         static_cast<long long>(fraction / 1000));
    } else {
      n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%06lld",
                         static_cast<long long>(fraction));
    }
  }
  buf[n++] = 'Z';
  return std::string(buf, static_cast<size_t>(n));
}

void AppendJsonString(std::string* out, const std::string& s) {
  *out += '"';
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          *out += ch;
        }
    }
  }
  *out += '"';
}

bool WriteBlogJsonl(const BlogData& d, const std::string& dir, std::string* error) {
  std::string s;
  s.reserve(d.users.size() * 120);
  for (const BlogUser& u : d.users) {
    s += "{\"id\":";
    AppendInt(&s, u.id);
    s += ",\"email\":";
    AppendJsonString(&s, u.email);
    s += ",\"name\":";
    AppendJsonString(&s, u.name);
    s += ",\"age\":";
    if (u.has_age) {
      AppendInt(&s, u.age);
    } else {
      s += "null";
    }
    s += ",\"created_at\":";
    AppendJsonString(&s, FormatRfc3339(u.created_at));
    s += "}\n";
  }
  if (!WriteFile(dir + "/users.jsonl", s, error)) return false;

  s.clear();
  for (const BlogTag& t : d.tags) {
    s += "{\"id\":";
    AppendInt(&s, t.id);
    s += ",\"name\":";
    AppendJsonString(&s, t.name);
    s += "}\n";
  }
  if (!WriteFile(dir + "/tags.jsonl", s, error)) return false;

  s.clear();
  s.reserve(d.posts.size() * 120);
  for (const BlogPost& p : d.posts) {
    s += "{\"id\":";
    AppendInt(&s, p.id);
    s += ",\"title\":";
    AppendJsonString(&s, p.title);
    s += p.published ? ",\"status\":\"published\"" : ",\"status\":\"draft\"";
    s += ",\"created_at\":";
    AppendJsonString(&s, FormatRfc3339(p.created_at));
    s += ",\"author\":";
    AppendInt(&s, p.author);
    s += "}\n";
  }
  if (!WriteFile(dir + "/posts.jsonl", s, error)) return false;

  s.clear();
  for (const auto& [post, tag] : d.post_tags) {
    s += "{\"from\":";
    AppendInt(&s, post);
    s += ",\"to\":";
    AppendInt(&s, tag);
    s += "}\n";
  }
  if (!WriteFile(dir + "/post_tags.jsonl", s, error)) return false;

  s.clear();
  s.reserve(d.comments.size() * 130);
  for (const BlogComment& c : d.comments) {
    s += "{\"id\":";
    AppendInt(&s, c.id);
    s += ",\"body\":";
    AppendJsonString(&s, c.body);
    s += ",\"created_at\":";
    AppendJsonString(&s, FormatRfc3339(c.created_at));
    s += ",\"post\":";
    AppendInt(&s, c.post);
    s += ",\"author\":";
    if (c.author) {
      AppendInt(&s, c.author);
    } else {
      s += "null";
    }
    s += "}\n";
  }
  return WriteFile(dir + "/comments.jsonl", s, error);
}

const char* const kBlogSqliteSchema = R"(
CREATE TABLE user (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL,
                   age INTEGER, created_at INTEGER NOT NULL);
CREATE UNIQUE INDEX user_email ON user(email);
CREATE INDEX user_name ON user(name);
CREATE TABLE post (id INTEGER PRIMARY KEY, title TEXT NOT NULL CHECK (length(title) > 0),
                   status TEXT NOT NULL, created_at INTEGER NOT NULL,
                   author INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE);
CREATE INDEX post_author_created ON post(author, created_at);
CREATE TABLE comment (id INTEGER PRIMARY KEY, body TEXT NOT NULL, created_at INTEGER NOT NULL,
                      post INTEGER NOT NULL REFERENCES post(id) ON DELETE CASCADE,
                      author INTEGER REFERENCES user(id) ON DELETE SET NULL);
CREATE INDEX comment_post ON comment(post);
CREATE INDEX comment_author ON comment(author);
CREATE TABLE tag (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE UNIQUE INDEX tag_name ON tag(name);
CREATE TABLE post_tags (post INTEGER NOT NULL REFERENCES post(id) ON DELETE CASCADE,
                        tag INTEGER NOT NULL REFERENCES tag(id) ON DELETE CASCADE,
                        PRIMARY KEY (post, tag)) WITHOUT ROWID;
CREATE INDEX post_tags_tag ON post_tags(tag, post);
)";

bool LoadBlogSqlite(const BlogData& d, sqlite3* db, std::string* error) {
  if (!Exec(db, kBlogSqliteSchema, error) || !Exec(db, "BEGIN", error)) return false;
  auto prepare = [&](const char* sql, sqlite3_stmt** stmt) {
    if (sqlite3_prepare_v2(db, sql, -1, stmt, nullptr) != SQLITE_OK) {
      *error = std::string("sqlite: ") + sqlite3_errmsg(db) + " in: " + sql;
      return false;
    }
    return true;
  };
  auto step = [&](sqlite3_stmt* stmt) {
    if (sqlite3_step(stmt) != SQLITE_DONE) {
      *error = std::string("sqlite insert: ") + sqlite3_errmsg(db);
      return false;
    }
    sqlite3_reset(stmt);
    return true;
  };
  auto text = [](sqlite3_stmt* stmt, int i, const std::string& s) {
    sqlite3_bind_text(stmt, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
  };
  sqlite3_stmt *su = nullptr, *st = nullptr, *sp = nullptr, *spt = nullptr, *sc = nullptr;
  bool ok = prepare("INSERT INTO user VALUES (?,?,?,?,?)", &su) &&
            prepare("INSERT INTO tag VALUES (?,?)", &st) &&
            prepare("INSERT INTO post VALUES (?,?,?,?,?)", &sp) &&
            prepare("INSERT INTO post_tags VALUES (?,?)", &spt) &&
            prepare("INSERT INTO comment VALUES (?,?,?,?,?)", &sc);
  for (size_t i = 0; ok && i < d.users.size(); ++i) {
    const BlogUser& u = d.users[i];
    sqlite3_bind_int64(su, 1, u.id);
    text(su, 2, u.email);
    text(su, 3, u.name);
    if (u.has_age) {
      sqlite3_bind_int(su, 4, u.age);
    } else {
      sqlite3_bind_null(su, 4);
    }
    sqlite3_bind_int64(su, 5, u.created_at);
    ok = step(su);
  }
  for (size_t i = 0; ok && i < d.tags.size(); ++i) {
    sqlite3_bind_int64(st, 1, d.tags[i].id);
    text(st, 2, d.tags[i].name);
    ok = step(st);
  }
  for (size_t i = 0; ok && i < d.posts.size(); ++i) {
    const BlogPost& p = d.posts[i];
    sqlite3_bind_int64(sp, 1, p.id);
    text(sp, 2, p.title);
    sqlite3_bind_text(sp, 3, p.published ? "published" : "draft", -1, SQLITE_STATIC);
    sqlite3_bind_int64(sp, 4, p.created_at);
    sqlite3_bind_int64(sp, 5, p.author);
    ok = step(sp);
  }
  for (size_t i = 0; ok && i < d.post_tags.size(); ++i) {
    sqlite3_bind_int64(spt, 1, d.post_tags[i].first);
    sqlite3_bind_int64(spt, 2, d.post_tags[i].second);
    ok = step(spt);
  }
  for (size_t i = 0; ok && i < d.comments.size(); ++i) {
    const BlogComment& c = d.comments[i];
    sqlite3_bind_int64(sc, 1, c.id);
    text(sc, 2, c.body);
    sqlite3_bind_int64(sc, 3, c.created_at);
    sqlite3_bind_int64(sc, 4, c.post);
    if (c.author) {
      sqlite3_bind_int64(sc, 5, c.author);
    } else {
      sqlite3_bind_null(sc, 5);
    }
    ok = step(sc);
  }
  for (sqlite3_stmt* s : {su, st, sp, spt, sc}) sqlite3_finalize(s);
  if (!ok) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return false;
  }
  return Exec(db, "COMMIT", error) && Exec(db, "ANALYZE", error);
}

std::string BlogCacheDir(const std::string& root, double scale) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "/scale-%g-v%d", scale, kBlogDataVersion);
  return root + buf;
}

bool EnsureBlogJsonl(const BlogData& data, const std::string& dir, bool* reused,
                     std::string* error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir + "/complete", ec) || fs::exists(dir + "/jsonl-complete", ec)) {
    *reused = true;
    return true;
  }
  *reused = false;
  fs::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create " + dir + ": " + ec.message();
    return false;
  }
  if (!WriteBlogJsonl(data, dir, error)) return false;
  return WriteFile(dir + "/jsonl-complete", "ok\n", error);
}

bool ImportBlogJsonl(Database* db, const std::string& dir, const std::string& schema_path,
                     std::string* detail, std::string* error) {
  using Clock = std::chrono::steady_clock;
  std::ifstream schema_file(schema_path);
  if (!schema_file) {
    *error = "cannot read the blog schema " + schema_path;
    return false;
  }
  std::stringstream schema;
  schema << schema_file.rdbuf();
  auto applied = db->ApplySchema(schema.str());
  if (!applied.ok()) {
    *error = "schema: " + applied.status().ToString();
    return false;
  }
  const std::pair<const char*, const char*> files[] = {{"User", "users.jsonl"},
                                                       {"Tag", "tags.jsonl"},
                                                       {"Post", "posts.jsonl"},
                                                       {"Post.tags", "post_tags.jsonl"},
                                                       {"Comment", "comments.jsonl"}};
  detail->clear();
  for (const auto& [what, file] : files) {
    auto start = Clock::now();
    std::ifstream in(dir + "/" + file, std::ios::binary);
    if (!in) {
      *error = "cannot read " + dir + "/" + file;
      return false;
    }
    auto r = db->Import(what, in);
    if (!r.ok()) {
      *error = std::string("import ") + what + ": " + r.status().ToString();
      return false;
    }
    char part[96];
    std::snprintf(part, sizeof part, "%s%s %.2f s", detail->empty() ? "" : ", ", what,
                  std::chrono::duration<double>(Clock::now() - start).count());
    *detail += part;
  }
  return true;
}

}  // namespace ormdb::bench
