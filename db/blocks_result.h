// ormdb::FetchResult over the engine's in-memory result blocks (embedded use).
#pragma once

#include <memory>

#include "ormdb/fetch.h"
#include "query/result_blocks.h"

namespace ormdb {

std::unique_ptr<FetchResult> MakeBlocksResult(std::shared_ptr<const query::ResultBlocks> blocks);

}  // namespace ormdb

namespace ormdb {

// The engine's blocks behind a result of MakeBlocksResult (the server builds
// its replies from them); nullptr for any other FetchResult.
const query::ResultBlocks* BlocksOf(const FetchResult& result);

}  // namespace ormdb
