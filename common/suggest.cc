#include "common/suggest.h"

#include <algorithm>

namespace ormdb {

size_t EditDistance(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  const size_t n = a.size(), m = b.size();
  std::vector<size_t> d((n + 1) * (m + 1));
  auto at = [&](size_t i, size_t j) -> size_t& { return d[i * (m + 1) + j]; };
  for (size_t i = 0; i <= n; ++i) at(i, 0) = i;
  for (size_t j = 0; j <= m; ++j) at(0, j) = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
      }
    }
  }
  return at(n, m);
}

std::string NearestName(std::string_view name, const std::vector<std::string_view>& candidates) {
  constexpr size_t kMaxWork = size_t{8} << 20;  // edit-distance cells, ~10 ms
  size_t work = 0;
  size_t best_distance = std::string_view::npos;
  std::string_view best;
  for (std::string_view c : candidates) {
    if (c == name) return "";
    const size_t limit = std::max<size_t>(1, std::max(name.size(), c.size()) / 3);
    const size_t length_gap =
        c.size() > name.size() ? c.size() - name.size() : name.size() - c.size();
    // The length gap bounds the distance from below: skip the O(n*m) work
    // when it already rules the candidate out.
    if (length_gap > limit || length_gap >= best_distance) continue;
    work += (name.size() + 1) * (c.size() + 1);
    if (work > kMaxWork) break;
    const size_t distance = EditDistance(name, c);
    if (distance <= limit && distance < best_distance) {
      best_distance = distance;
      best = c;
    }
  }
  return std::string(best);
}

std::string NearestName(std::string_view name, const std::vector<std::string>& candidates) {
  std::vector<std::string_view> views(candidates.begin(), candidates.end());
  return NearestName(name, views);
}

}  // namespace ormdb
