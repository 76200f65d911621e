// The arithmetic of limits, budgets and estimates. A limit may be any value
// from 0 to INT64_MAX (query/parser.h), a budget any uint64, and an
// estimate any double: nothing here may overflow, and nothing may turn a
// large value into a small one (a wrapped `limit + 1` once made
// `limit: 9223372036854775807` return a single row).
//
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ormdb::query {

// The rows a limited list collects: one more than the limit, to tell whether
// a next page exists; -1 without a limit (a negative `limit`). INT64_MAX
// saturates: no fetch holds that many rows, so the extra one is never needed.
inline int64_t WantFor(int64_t limit) {
  if (limit < 0) return -1;
  return limit == INT64_MAX ? INT64_MAX : limit + 1;
}

// a + b, or UINT64_MAX when that does not fit. Occurrence and edge counts
// multiply along include paths (a row under many parents, each under many
// grandparents); a wrapped count would slip under any budget.
inline uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

// Rows read per chunk by a root scan that stops after `want` rows (-1: it
// does not stop): twice that, within [64, 4096], so a large limit never
// sizes a buffer.
inline size_t ScanChunk(int64_t want) {
  if (want < 0 || want >= 2048) return 4096;
  return std::max<size_t>(64, static_cast<size_t>(want) * 2);
}

// Index entries read per batch by a range scan that gives the order and
// stops after `want` rows: the wanted rows and a few more; SIZE_MAX (no
// batching) without a limit or for one too large to matter.
inline size_t RangeBatch(int64_t want) {
  if (want < 0 || want >= (int64_t{1} << 40)) return SIZE_MAX;
  return static_cast<size_t>(want) + 8;
}

// The next batch size after a resume: doubled, saturating at SIZE_MAX.
inline size_t DoubleBatch(size_t batch) { return batch > SIZE_MAX / 2 ? SIZE_MAX : batch * 2; }

// An estimate as a whole number for a message; from 10^15 on (where a double
// no longer holds every integer, and past 2^63 converting it to an integer
// would overflow) with three significant digits: "1.2e+21", "inf".
inline std::string EstimateText(double est) {
  if (!(est < 1e15)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", est);
    return buf;
  }
  return std::to_string(static_cast<uint64_t>(std::llround(std::max(0.0, est))));
}

}  // namespace ormdb::query
