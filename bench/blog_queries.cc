#include "bench/blog_queries.h"

#include <utility>

namespace ormdb::bench {

std::vector<BlogQuery> MakeBlogQueries(const BlogData& d, size_t extra_checks) {
  std::vector<BlogQuery> out;
  SplitMix64 rng(0xfe7c4be7c4ULL);
  auto make = [&](QueryKind kind, const char* name, const char* text, const char* param,
                  std::vector<int64_t> params, std::vector<int64_t> extra) {
    BlogQuery q;
    q.kind = kind;
    q.name = name;
    q.text = text;
    q.param_name = param;
    q.params = std::move(params);
    q.check_params = q.params;
    q.check_params.insert(q.check_params.end(), extra.begin(), extra.end());
    for (int64_t v : q.check_params) {
      q.params_json.push_back(param ? "{\"" + std::string(param) + "\":" + std::to_string(v) + "}"
                                    : "{}");
      q.params_text.push_back(std::to_string(v));
    }
    out.push_back(std::move(q));
  };
  make(QueryKind::kUserPage, "user_page", kUserPageQuery, "u",
       VariedIds(d.users_by_rank, kParamsPerQuery, rng),
       VariedIds(d.users_by_rank, extra_checks, rng));
  make(QueryKind::kFeed, "feed", kFeedQuery, nullptr, {0}, {});
  make(QueryKind::kTagPage, "tag_page", kTagPageQuery, "t",
       VariedIds(d.tags_by_rank, kParamsPerQuery, rng),
       VariedIds(d.tags_by_rank, extra_checks, rng));
  // Point fetches: posts uniform over all ids.
  std::vector<int64_t> posts, extra;
  for (size_t i = 0; i < kParamsPerQuery; ++i) posts.push_back(1 + rng.Below(d.posts.size()));
  for (size_t i = 0; i < extra_checks; ++i) extra.push_back(1 + rng.Below(d.posts.size()));
  make(QueryKind::kPoint, "point", kPointQuery, "p", posts, extra);
  return out;
}

}  // namespace ormdb::bench
