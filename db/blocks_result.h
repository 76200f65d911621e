// ormdb::FetchResult over the engine's in-memory result blocks (embedded use).
#pragma once

#include <memory>

#include "ormdb/fetch.h"
#include "query/result_blocks.h"

namespace ormdb {

std::unique_ptr<FetchResult> MakeBlocksResult(std::shared_ptr<const query::ResultBlocks> blocks);

}  // namespace ormdb
