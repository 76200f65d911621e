// The fetch executor: runs a compiled plan with its bound slots on one
// snapshot, breadth first. The root rows come first; then each level of
// includes, one batch per include: the parents' distinct rows are expanded
// together (batched lookups in id order for to-one, a per-parent index or
// edge range or one hashed scan for to-many), never one query round per
// parent. Rows are decoded once per fetch (a row cache) and entities are
// deduplicated across the whole result. Budgets are counted as rows are
// added (docs/QUERIES.md, "Budgets").
//
// Thread-safety: a call uses only its arguments; the plan is shared
// read-only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "catalog/rows.h"
#include "ormdb/fetch_options.h"
#include "query/compiler.h"
#include "query/plan.h"
#include "query/result_blocks.h"
#include "storage/txn.h"

namespace ormdb::query {

struct ExecOptions {
  FetchBudget budget;
  std::string secret;  // cursor checksum key (the database id)
};

// What running a node did (EXPLAIN ANALYZE).
struct NodeStats {
  uint64_t parents = 0;   // distinct parent rows expanded
  uint64_t examined = 0;  // index entries, edges or rows read
  uint64_t rows = 0;      // rows returned
  uint64_t batches = 0;   // batches of lookups
  double micros = 0;
  bool run = false;
};

// Runs `plan` on `txn`'s snapshot. The caller has checked that the cursors'
// version is the snapshot's. Errors: BUDGET_EXCEEDED (error mode),
// INVALID_ARGUMENT (a bad cursor), storage errors.
Result<std::shared_ptr<ResultBlocks>> ExecutePlan(std::shared_ptr<const Plan> plan,
                                                  const std::vector<BoundSlot>& slots,
                                                  storage::TxnReader& txn,
                                                  const catalog::LayoutLookup& layouts,
                                                  const ExecOptions& options,
                                                  std::vector<NodeStats>* stats = nullptr);

// Streams the root rows of `plan` (a plan with no includes and no
// aggregates, for relational mode) instead of building result blocks:
// `visit(id, row)` is called for every row the root's access path reads that
// matches its where, in the order the path reads them (no order, limit or
// cursor is applied), with the row decoded as far as Plan::decode_fields
// says (other fields are null). An index whose entries hold every field read
// is scanned without reading rows. BUDGET_EXCEEDED once more than
// `options.budget.max_scanned_rows` rows or entries were read; stats[0]
// receives the counts.
using RootVisitor = std::function<Status(RowId id, const catalog::DecodedRow& row)>;
Status VisitPlanRoots(std::shared_ptr<const Plan> plan, const std::vector<BoundSlot>& slots,
                      storage::TxnReader& txn, const catalog::LayoutLookup& layouts,
                      const ExecOptions& options, std::vector<NodeStats>* stats,
                      const RootVisitor& visit);

// The snapshot version named by the cursors of a bound query (0 when it has
// none). INVALID_ARGUMENT when cursors disagree or do not verify.
Result<Version> CursorVersion(const Plan& plan, const std::vector<BoundSlot>& slots,
                              std::string_view secret);

}  // namespace ormdb::query
