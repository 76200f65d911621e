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

namespace ormdb::db {

class Engine : public Database {
 public:
  // Opens (creating if allowed) the data directory `dir`; errors as
  // Database::Open.
  static Result<std::unique_ptr<Engine>> Open(const std::string& dir,
                                              const OpenOptions& options = {});

  // Database::Fetch, returning the engine's result blocks themselves.
  virtual Result<std::shared_ptr<const query::ResultBlocks>> FetchBlocks(
      std::string_view query, std::string_view params_json, const FetchOptions& options) = 0;

  // Database::Select, returning the engine's columnar block itself.
  virtual Result<std::shared_ptr<const query::SelectBlock>> SelectBlock(
      std::string_view text, std::string_view params_json, const SelectOptions& options) = 0;
};

}  // namespace ormdb::db
