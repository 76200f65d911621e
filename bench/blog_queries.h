// blog_queries: the four blog queries every fetch benchmark runs
// (bench/fetch_bench.cc against SQLite, bench/server_bench.cc against
// PostgreSQL) and their parameters, built once here so the two cannot drift:
// the same texts, the same ids drawn from the same seeded sequence.
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/blog_data.h"

namespace ormdb::bench {

// Picks n ids of varied sizes: a quarter from the top 1% by rank, a quarter
// from the top 10%, half uniform over all ids. With the same seed and counts
// every benchmark gets the same parameters.
inline std::vector<int64_t> VariedIds(const std::vector<int64_t>& by_rank, size_t n,
                                      SplitMix64& rng) {
  std::vector<int64_t> out;
  const uint64_t all = by_rank.size();
  for (size_t i = 0; i < n; ++i) {
    uint64_t range = i % 4 == 0   ? std::max<uint64_t>(1, all / 100)
                     : i % 4 == 1 ? std::max<uint64_t>(1, all / 10)
                                  : all;
    out.push_back(by_rank[rng.Below(range)]);
  }
  return out;
}

// The four blog queries every fetch benchmark runs (fetch_bench against
// SQLite, server_bench against PostgreSQL), so their texts cannot drift.
inline constexpr const char* kUserPageQuery =
    "User(where: id == $u) { name, posts(order: created_at desc, limit: 10) { title, "
    "created_at, tags { name }, comments(order: created_at desc, limit: 5) { body, "
    "created_at, author { name } } } }";
inline constexpr const char* kFeedQuery =
    "Post(where: status == \"published\", order: created_at desc, limit: 20) { title, "
    "created_at, author { name }, tags { name } }";
inline constexpr const char* kTagPageQuery =
    "Tag(where: id == $t) { name, posts(order: created_at desc, limit: 20) { title, "
    "created_at, author { name }, comments(order: created_at desc, limit: 3) { body, "
    "created_at } } }";
inline constexpr const char* kPointQuery =
    "Post(where: id == $p) { title, status, created_at, author { name } }";

enum class QueryKind { kUserPage, kFeed, kTagPage, kPoint };

// Parameters per query that are timed (cycled through).
inline constexpr size_t kParamsPerQuery = 64;

// One query with its parameters.
struct BlogQuery {
  QueryKind kind = QueryKind::kPoint;
  std::string name;                      // "user_page"
  std::string text;                      // the ormdb fetch
  const char* param_name = nullptr;      // nullptr: no parameter
  std::vector<int64_t> params;           // timed, cycled (kParamsPerQuery, or {0})
  std::vector<int64_t> check_params;     // compared before timing (params + extra)
  std::vector<std::string> params_json;  // per check param: {"u":17}, or {}
  std::vector<std::string> params_text;  // per check param: "17" (SQL parameters)
};

// user_page, feed, tag_page and point over `data`: user and tag ids of
// varied sizes (VariedIds), post ids uniform; each with `extra_checks`
// more parameters that are checked but not timed.
std::vector<BlogQuery> MakeBlogQueries(const BlogData& data, size_t extra_checks);

}  // namespace ormdb::bench
