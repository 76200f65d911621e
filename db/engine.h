// db::Engine: the database engine in this process — the storage engine,
// the catalog and the query layer behind the ormdb::Database API. It is what
// Database::Open returns, and what `ormdb serve` serves: the server takes an
// Engine (not any Database), so it reaches the engine's own forms of
// results, such as a fetch's result blocks, which it copies into its reply
// without a FetchResult in between.
//
// Thread-safety: as Database, every method may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ormdb/database.h"
#include "query/result_blocks.h"
#include "query/select_result.h"
#include "storage/store.h"

namespace ormdb::db {

// What the engine counts about itself, for the server's metrics
// (docs/reference/observability.md).
struct EngineMetrics {
  storage::StoreStats store;
  // Graph fetches run (Fetch and FetchBlocks; not EXPLAIN), and what their
  // results held: entities, edges, bytes of ids and values, and the rows,
  // index entries and edges their aggregates read (fetch_scanned_rows) and
  // the whole fetch read (fetch_reads).
  uint64_t fetches = 0;
  uint64_t fetch_entities = 0;
  uint64_t fetch_edges = 0;
  uint64_t fetch_bytes = 0;
  uint64_t fetch_scanned_rows = 0;
  uint64_t fetch_reads = 0;
  uint64_t fetches_truncated = 0;
  // The fetch plan cache.
  uint64_t plan_cache_hits = 0;
  uint64_t plan_cache_misses = 0;
  uint64_t plan_cache_entries = 0;
  // Named change-stream subscribers with a pin, and the versions the
  // slowest is behind the current one.
  uint64_t subscribers = 0;
  uint64_t subscriber_max_lag = 0;
};

class Engine : public Database {
 public:
  // Opens (creating if allowed) the data directory `dir`; errors as
  // Database::Open.
  static Result<std::unique_ptr<Engine>> Open(const std::string& dir,
                                              const OpenOptions& options = {});

  // Database::Fetch, returning the engine's result blocks themselves.
  virtual Result<std::shared_ptr<const query::ResultBlocks>> FetchBlocks(
      std::string_view query, std::string_view params_json, const FetchOptions& options) = 0;

  // The engine's counters now; cheap (no scan): fit for every scrape.
  virtual EngineMetrics Metrics() = 0;

  // Database::As, as an engine (what a server serves a request with).
  virtual Result<std::unique_ptr<Engine>> AsEngine(const Principal& principal) = 0;
  // Database::Select, returning the engine's columnar block itself.
  virtual Result<std::shared_ptr<const query::SelectBlock>> SelectBlock(
      std::string_view text, std::string_view params_json, const SelectOptions& options) = 0;
};

}  // namespace ormdb::db
