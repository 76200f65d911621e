// blog_data: a deterministic blog data set for the fetch benchmark
// (bench/fetch_bench.cc), in the shape of tests/data/blog.ormdb.
//
// At scale S: 10,000·S users, 100,000·S posts, 500,000·S comments and
// 500·S tags (at least 5), each post with 1 to 5 distinct tags. Posts per
// user, comments per post and posts per tag are skewed (Zipf–Mandelbrot
// weights 1/(rank+q), ranks shuffled over the ids), so a few users, posts and
// tags are large and most are small. Comment authors are random users, 10%
// null. 80% of posts are published. Timestamps spread over 2024 (users over
// 2023, comments up to 30 days after their post), a third whole seconds, a
// third whole milliseconds, a third with microseconds, and with deliberate
// ties (a post repeating its author's previous timestamp or the previous
// post's, a comment repeating the previous comment of its post) so orders
// depend on the `id asc` tie-break.
//
// The generator uses only integer arithmetic and its own PRNG (splitmix64),
// so the data is identical on every platform and compiler.
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace ormdb {
class Database;
}

namespace ormdb::bench {

// splitmix64 (Steele, Lea, Flood 2014): a tiny PRNG with a fixed output for a
// fixed seed on every platform.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) (multiply-shift; n > 0).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // True with probability percent/100.
  bool Percent(uint64_t percent) { return Below(100) < percent; }

 private:
  uint64_t state_;
};

struct BlogUser {
  int64_t id = 0;
  std::string email;
  std::string name;
  int32_t age = 0;  // meaningful when has_age
  bool has_age = false;
  int64_t created_at = 0;  // UTC microseconds
};

struct BlogPost {
  int64_t id = 0;
  std::string title;
  bool published = false;  // status: "published" or "draft"
  int64_t created_at = 0;
  int64_t author = 0;
};

struct BlogComment {
  int64_t id = 0;
  std::string body;
  int64_t created_at = 0;
  int64_t post = 0;
  int64_t author = 0;  // 0: null
};

struct BlogTag {
  int64_t id = 0;
  std::string name;
};

struct BlogData {
  double scale = 1;
  std::vector<BlogUser> users;                         // users[i].id == i + 1
  std::vector<BlogPost> posts;                         // posts[i].id == i + 1
  std::vector<BlogComment> comments;                   // comments[i].id == i + 1
  std::vector<BlogTag> tags;                           // tags[i].id == i + 1
  std::vector<std::pair<int64_t, int64_t>> post_tags;  // (post, tag), by post then tag
  // Ids from the most to the least popular by weight (the expected share of
  // posts, comments, tagged posts): the benchmark picks parameters of
  // varied sizes from them.
  std::vector<int64_t> users_by_rank, posts_by_rank, tags_by_rank;
};

// Row counts at a scale: round(base · scale), at least 1 (tags: at least 5).
int64_t ScaledCount(int64_t base, double scale);

// Generates the data set at `scale` (> 0). Same scale, same data.
BlogData GenerateBlog(double scale);

// RFC 3339 in UTC as ormdb renders timestamps: fractional seconds only when
// non-zero, 3 digits for whole milliseconds and 6 otherwise.
std::string FormatRfc3339(int64_t micros);

// Appends `s` as a JSON string literal (quotes included).
void AppendJsonString(std::string* out, const std::string& s);

// Writes users.jsonl, posts.jsonl, comments.jsonl, tags.jsonl and
// post_tags.jsonl ({"from": post, "to": tag}) into `dir` (which must exist),
// one JSON object per line with explicit ids, in the form `ormdb export`
// writes and `ormdb import` / Database::Import read. False with *error set
// on an I/O error.
bool WriteBlogJsonl(const BlogData& data, const std::string& dir, std::string* error);

// The SQLite schema of the blog, with the indexes of tests/data/blog.ormdb:
// unique email, index on name, (author, created_at) on post, comment(post),
// comment(author), unique tag name, post_tags both directions. Timestamps are
// INTEGER microseconds, status is TEXT.
extern const char* const kBlogSqliteSchema;

// Creates the schema in `db` (an empty database) and inserts `data` in one
// transaction, then runs ANALYZE. False with *error set on failure.
bool LoadBlogSqlite(const BlogData& data, sqlite3* db, std::string* error);

// The version of the generated data: part of the name of the cache
// directory of generated files, so bump it whenever GenerateBlog or the file
// formats change. fetch_bench's kDataVersion has the same value (its cache
// directory also holds its SQLite database).
inline constexpr int kBlogDataVersion = 1;

// The cache directory of one scale under `root`: "<root>/scale-<S>-v<N>",
// the layout fetch_bench uses (ORMDB_BENCH_CACHE).
std::string BlogCacheDir(const std::string& root, double scale);

// Makes sure `dir` holds the JSONL files of WriteBlogJsonl for `data`: keeps
// them when an earlier run completed them (fetch_bench's stamp "complete"
// or this function's "jsonl-complete"), else creates `dir` and writes them
// and the stamp. *reused says which. False with *error set on failure.
bool EnsureBlogJsonl(const BlogData& data, const std::string& dir, bool* reused,
                     std::string* error);

// Applies the schema file `schema_path` (tests/data/blog.ormdb) to `db`, an
// empty database, then loads the JSONL files of `dir` with Database::Import,
// one call (one transaction) per file, parents first. *detail gets the time
// of each file ("User 0.31 s, Tag 0.01 s, ..."). False with *error set on
// failure.
bool ImportBlogJsonl(Database* db, const std::string& dir, const std::string& schema_path,
                     std::string* detail, std::string* error);

}  // namespace ormdb::bench
