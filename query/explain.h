// EXPLAIN and EXPLAIN ANALYZE of a fetch plan, as text or JSON: per step
// (a plan node) the operation, the index and direction, the estimated rows
// and reads, the reason the access path was chosen, and with ANALYZE what
// running it did (rows, reads, batches, parents, time) and the budget used.
#pragma once

#include <string>
#include <vector>

#include "ormdb/fetch_options.h"
#include "query/executor.h"
#include "query/plan.h"
#include "query/result_blocks.h"

namespace ormdb::query {

struct ExplainInput {
  const Plan* plan = nullptr;
  bool cache_hit = false;
  Version snapshot = 0;
  FetchBudget budget;
  // ANALYZE only:
  const std::vector<NodeStats>* stats = nullptr;
  const ResultBlocks* result = nullptr;
  double total_micros = 0;
};

std::string ExplainText(const ExplainInput& in);
std::string ExplainJson(const ExplainInput& in);

}  // namespace ormdb::query
