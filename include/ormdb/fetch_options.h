// The options of a graph fetch (docs/reference/queries.md): its snapshot and its
// budget. Shared by the engine (query/) and the public API (ormdb/fetch.h),
// which re-exports them.
#pragma once

#include <cstdint>
#include <optional>

namespace ormdb {

// What to do when a fetch reaches a budget limit.
enum class OnExceed : uint8_t {
  kError,     // BUDGET_EXCEEDED naming the limit, the count and the include path
  kTruncate,  // a partial, consistent result with stats.truncated set
};

// Limits on one fetch (docs/reference/queries.md): distinct entities in the result (roots
// included), edges as rendered parent-child pairs, include levels below the
// root, and result bytes (the size of the ids and field values in the
// blocks), and the rows, index entries and edges the query's aggregates read
// (scanned rows: always an error when passed, since a partial aggregate
// would be a wrong number). A limit is inclusive.
struct FetchBudget {
  uint64_t max_entities = 100'000;
  uint64_t max_edges = 1'000'000;
  uint64_t max_depth = 16;
  uint64_t max_bytes = uint64_t{64} << 20;
  uint64_t max_scanned_rows = 10'000'000;
  OnExceed on_exceed = OnExceed::kError;
};

struct FetchOptions {
  // Read the database as of this version (nullopt: the current one).
  // HISTORY_LOST below retention; INVALID_ARGUMENT beyond the current
  // version. A cursor in the query carries its own version; giving a
  // different one here is INVALID_ARGUMENT.
  std::optional<uint64_t> as_of;
  // Per-query budget limits. They may only lower the database's (see
  // OpenOptions::budget); a larger value is INVALID_ARGUMENT.
  std::optional<uint64_t> max_entities, max_edges, max_depth, max_bytes, max_scanned_rows;
  std::optional<OnExceed> on_exceed;
};

}  // namespace ormdb
