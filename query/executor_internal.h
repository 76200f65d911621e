// The fetch executor's class, shared by the files that implement it
// (query/executor.h describes what it does). Internal to query/:
//   executor.cc             Run, the row cache, and the runners (the root,
//                           one include)
//   executor_predicates.cc  predicates, order keys, cursors, and the quick
//                           test on encoded rows
//   executor_access.cc      index ranges, range scans, offering a row to a
//                           candidate list, id lookups
//   executor_emit.cc        entity blocks, budgets, emitting a parent's
//                           children
//   executor_aggregate.cc   aggregates, per parent or grouped by one scan
//
// Thread-safety: an Executor runs one fetch on one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "query/cursor.h"
#include "query/executor.h"
#include "storage/row_codec.h"

namespace ormdb::query::executor_internal {

using catalog::EntityInfo;
using catalog::FieldType;
using storage::ScanDirection;

// A predicate's three-valued truth (SQL's: null compares as unknown).
enum class Tri : uint8_t { kFalse, kTrue, kUnknown };

// A row decoded once per fetch.
struct RowData {
  catalog::DecodedRow row;
  Version version = 0;
};

// The rows one fetch decodes, at addresses that stay valid until Reset.
// An executor takes the arena its thread used last (TakeRowArena) and gives
// it back when done (ReturnRowArena): the rows' field vectors keep their
// capacity from one fetch to the next, so a page allocates no vector per row
// it decodes. What a thread keeps is bounded (kKeepChunks, kKeepList). The
// executor's per-node lists come with it (NodeLists), for the same reason.
class RowArena {
 public:
  // Per node: its distinct child rows in first-appearance order and how
  // often each is rendered (the next level's parents), and by row of its
  // block, the row's index in dist_rows + 1 (0: not among them yet). Then
  // the rows admitted to the blocks, by block, in order.
  struct NodeLists {
    std::vector<std::vector<uint32_t>> dist_rows;
    std::vector<std::vector<uint64_t>> dist_occ;
    std::vector<std::vector<uint32_t>> dist_of_row;
    std::vector<std::pair<int, const RowData*>> block_rows;
  };

  // A row with no fields, no uuid and version 0.
  RowData& Add() {
    if (size_ == chunks_.size() * kChunk) chunks_.push_back(std::make_unique<RowData[]>(kChunk));
    RowData& r = chunks_[size_ / kChunk][size_ % kChunk];
    ++size_;
    return r;
  }
  size_t size() const { return size_; }
  // At least `nodes` nodes' lists, each empty (as Reset leaves them).
  NodeLists& Lists(size_t nodes) {
    if (lists_.dist_rows.size() < nodes) {
      lists_.dist_rows.resize(nodes);
      lists_.dist_occ.resize(nodes);
      lists_.dist_of_row.resize(nodes);
    }
    return lists_;
  }
  // Empties every row handed out (their field vectors keep their capacity)
  // and every list, and frees the chunks beyond kKeepChunks and the lists
  // longer than kKeepList.
  void Reset();

 private:
  static constexpr size_t kChunk = 64;
  static constexpr size_t kKeepChunks = 4;  // 256 rows
  static constexpr size_t kKeepList = 4096;
  std::vector<std::unique_ptr<RowData[]>> chunks_;
  size_t size_ = 0;
  NodeLists lists_;
};

// The arena this thread's last executor gave back, or a new one (a fetch
// run while another is running on the thread gets a new one).
std::unique_ptr<RowArena> TakeRowArena();
// Resets `arena` and keeps it for this thread's next executor (unless the
// thread keeps one already).
void ReturnRowArena(std::unique_ptr<RowArena> arena);

// The candidates of one list (the roots, or one parent's children).
struct Candidate {
  RowId id = 0;
  const RowData* row = nullptr;
  std::vector<Value> key;  // sort key
  Value ext_id;
};

// A range of an index's value parts, [lower, upper) (an empty upper: no
// bound); `empty` when no entry can fall in it.
struct Range {
  std::string lower, upper;
  bool empty = false;
};

// ---- a quick test on the encoded row ----
//
// Scans and many-row includes first test the predicate's simple conjuncts
// (a field of the row compared with a value) and, for a full top-N, the
// first sort key, directly on the encoded row: a row that fails is
// skipped without decoding. A row that passes goes through the full
// evaluation, so this only ever saves work.
struct QuickTest {
  size_t column = 0;
  ValueType type = ValueType::kNull;
  Expr::CompareOp op = Expr::CompareOp::kEq;
  bool flipped = false;  // the value is on the left
  int slot = -1;
  storage::RowView::FieldPeeker peeker;  // finds column
};

class Accumulator;  // executor_aggregate.cc

struct QuickPlan {
  std::vector<QuickTest> tests;
  int order_column = -1;  // the first order key's column, when a plain field
  bool order_desc = false;
  storage::RowView::FieldPeeker order_peeker;  // finds order_column
};

// What every run of a plan sets up alike, built once per plan
// (Plan::run_layout): the entity blocks with their columns, each node's
// block and item columns, and the fields each step decodes.
struct RunLayout {
  struct Block {
    const EntityInfo* entity = nullptr;
    std::vector<std::string> columns;
    // Per column: the aggregate (-1: a field or _version) and the entity's
    // field (or Executor::kVersionColumn / kAggregateColumn).
    std::vector<int> column_aggregate;
    std::vector<int> column_field;
  };
  std::vector<Block> blocks;
  std::vector<int> node_block;                  // per node
  std::vector<std::vector<int>> item_columns;   // per node (NodeBlock::item_columns)
  std::vector<std::vector<size_t>> wanted;      // per node: Executor::FilterFields
  std::vector<QuickPlan> quick;                 // per node
  std::vector<std::vector<size_t>> agg_wanted;  // per aggregate: AggregateFields
  // Per entity type id: Plan::decode_fields' list, or null for a whole row.
  std::vector<const std::vector<size_t>*> decode_fields;
  Status status;  // not ok when the plan names a column with no field
};

class Executor {
 public:
  Executor(std::shared_ptr<const Plan> plan, const std::vector<BoundSlot>& slots,
           storage::TxnReader& txn, const catalog::LayoutLookup& layouts,
           const ExecOptions& options, std::vector<NodeStats>* stats)
      : plan_(std::move(plan)),
        slots_(slots),
        txn_(txn),
        layouts_(layouts),
        opt_(options),
        stats_(stats),
        rows_(TakeRowArena()),
        lists_(rows_->Lists(plan_->nodes.size())) {}
  ~Executor() { ReturnRowArena(std::move(rows_)); }
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs the whole fetch (ExecutePlan).
  Result<std::shared_ptr<ResultBlocks>> Run();

  // Streams the root rows (VisitPlanRoots).
  Status VisitRoots(const RootVisitor& visit);

  // The plan's layout, built by its first run (thread-safe).
  static const RunLayout& LayoutOf(const Plan& p);

 private:
  // ---- rows (executor.cc) ----
  Result<const RowData*> GetRow(const EntityInfo& e, RowId id);

  Result<const RowData*> Decode(const EntityInfo& e, std::string_view bytes, Version version);

  // Caches a row read by a scan.
  Result<const RowData*> Remember(const EntityInfo& e, RowId id, const storage::RowRecord& rec);

  // Caches a row decoded by a scan (`data`, in rows_) for the rest of the
  // fetch; returns the cached row (an earlier copy if there is one).
  const RowData* Keep(const EntityInfo& e, RowId id, const RowData* data);

  // The fields a predicate or order of `n` reads from the node's own row
  // (the first hop of a path), plus the reference of an inverse include.
  static std::vector<size_t> FilterFields(const Node& n);

  Value ExternalId(const EntityInfo& e, RowId id, const RowData& row);

  // ---- predicates (executor_predicates.cc) ----
  Result<Value> EvalPath(const Node& n, int path, RowId id, const RowData& row);

  Result<Value> Operand(const Node& n, const CExpr& e, RowId id, const RowData& row);

  Result<Tri> Eval(const Node& n, const CExpr& e, RowId id, const RowData& row);

  Result<bool> Matches(const Node& n, RowId id, const RowData& row);

  // Whether semi-join `s` (Plan::semijoins) finds a related row of row
  // `at` that passes its condition; kept per row for the rest of the fetch.
  Result<bool> SemiJoin(int s, RowId at);

  // ---- order and cursors (executor_predicates.cc) ----
  Status MakeCandidate(const Node& n, RowId id, const RowData* row, Candidate* c);

  // <0 when (key, id) a comes before b in the node's order.
  static int CompareKeys(const Node& n, const std::vector<Value>& ka, const Value& ia,
                         const std::vector<Value>& kb, const Value& ib);

  // Sorts the candidates; with want >= 0 only the first `want` need order
  // (the rest are dropped).
  static void SortCandidates(const Node& n, std::vector<Candidate>* list, int64_t want = -1);

  ValueType IdType(const Node& n) const;

  Result<std::optional<CursorPosition>> NodeCursor(const Node& n);

  static bool AfterCursor(const Node& n, const Candidate& c, const CursorPosition& pos);

  std::string CursorAfter(const Node& n, RowId parent, const Candidate* last,
                          const std::optional<CursorPosition>& from);

  int64_t Limit(const Node& n) const { return n.limit_slot < 0 ? -1 : slots_[n.limit_slot].limit; }

  // ---- access paths: index ranges, scans, id lookups (executor_access.cc) ----
  // The value-part range of `r` given the values of its equality fields.
  Range BuildRange(const Node& n, const IndexRangePlan& r, const std::vector<Value>& eq,
                   const std::optional<CursorPosition>& cursor);

  // Scans an index range, collecting the rows that match the filter (and
  // come after the cursor). With the scan giving the first `covered` order
  // keys and `want` >= 0, stops once `want` rows matched and the order
  // prefix moved past the last of them.
  Status ScanRange(const Node& n, int idx, const IndexRangePlan& r, const Range& range,
                   const std::optional<CursorPosition>& cursor, int64_t want,
                   std::vector<Candidate>* out, NodeStats* ns);

  // Builds the row `id` from the values of its index entry and caches it
  // (IndexRangePlan::index_only); a row already cached is kept.
  Status RowFromEntry(const Node& n, const IndexRangePlan& r, RowId id, std::string_view values);

  // Decodes the first `count` fields of an index entry's values into the
  // row's fields (sized to the entity's).
  static Status DecodeEntry(const EntityInfo& e, const catalog::IndexInfo& ix, size_t count,
                            std::string_view values, catalog::DecodedRow* row);

  // Offers a row to a candidate list: decodes only what the predicate and
  // the order need, tests the predicate and the cursor, and keeps the row
  // (decoded in full) when it can be among the first `want` rows; with
  // `top_n` the list is a bounded max-heap (worst first) of at most `want`.
  // A row already decoded by this fetch is used as it is.
  Status Offer(const Node& n, int idx, RowId id, const CursorPosition* cursor, int64_t want,
               bool top_n, std::vector<Candidate>* list);

  // The row id of an external id value (an int64, or a uuid through the id
  // index); nullopt when no such row can exist.
  Result<std::optional<RowId>> ResolveId(const EntityInfo& e, const Value& v);

  // ---- the quick test on encoded rows (executor_predicates.cc) ----
  static QuickPlan MakeQuickPlan(const Node& n);

  // True when the encoded row surely fails the predicate or cannot enter a
  // full top-N list `heap` (worst on top).
  bool QuickRejects(const Node& n, int idx, std::string_view bytes,
                    const std::vector<Candidate>* heap, int64_t want);

  // ---- entity blocks and budgets (executor_emit.cc) ----
  static std::shared_ptr<const RunLayout> BuildLayout(const Plan& p);
  // The result's blocks, empty, as the layout has them.
  Status SetUpBlocks();

  // The value of block column `c` for a row.
  Result<Value> ColumnValue(const EntityBlock& b, size_t c, const RowData& row);
  // The field mask of column `c` of block `b` (Plan::masks): its node and
  // condition, or nulls when the column is not masked.
  std::pair<const Node*, const CExpr*> ColumnMask(const EntityBlock& b, size_t c) const;

  // The bytes a row adds to its block (see docs/QUERIES.md, "Budgets"),
  // without copying its values.
  uint64_t RowBytes(const EntityBlock& b, const RowData& row);

  void MarkTruncated(const std::string& path);

  // Adds a row under node `idx` (occurring `occ` times); false when a budget
  // stops it (truncate mode), BUDGET_EXCEEDED in error mode.
  Result<bool> Admit(int idx, const Candidate& c, uint64_t occ, bool is_edge, uint32_t* row_out);

  Status FillColumns();

  // Sizes node `idx`'s slots and children, its distinct rows and its
  // block's rows for `parents` parents (of `parent_rows` in their block)
  // and `children` rows, so Emit appends without regrowing.
  void ReserveOutput(int idx, size_t parents, size_t parent_rows, size_t children);
  // The rows emitting `lists` (one per parent) adds at most.
  size_t ChildrenToEmit(int idx, const std::vector<std::vector<Candidate>>& lists) const;

  // Emits one parent's ordered children into node `idx`: applies the limit,
  // the @next cursor and the budget. `parent_row` is the parent's row in
  // its block (0 for the root), `parent_id` its row id.
  Status Emit(int idx, uint32_t parent_row, RowId parent_id, uint64_t occ,
              std::vector<Candidate>& list, const std::optional<CursorPosition>& cursor);

  // ---- aggregates (executor_aggregate.cc) ----
  // The value of aggregate `a` for holder row `parent`, computed when first
  // asked for and kept.
  Result<Value> AggregateValue(int a, RowId parent);
  // Computes every aggregate for its holder's rows (the output).
  Status ComputeAggregates();
  // One parent's value through its per-parent access path.
  Result<Value> AggregateOne(int a, RowId parent);
  // The value from the parent's @maintain record; nullopt when the records
  // do not exist at the snapshot (then it is computed from the rows).
  Result<std::optional<Value>> AggregateMaintained(int a, RowId parent);
  // One parent's value from a covering index's entries (AggregatePlan::index_only).
  Result<Value> AggregateFromIndex(int a, RowId parent);
  // The position in the covering index of a plain field aggregated (0 for a
  // count of rows), or -1.
  static int ValuePosition(const AggregatePlan& ap);
  // Every parent's value by one scan of the related entity.
  Status AggregateAllGroups(int a);
  // A related row, decoded as far as the aggregate needs (cached rows as
  // they are); nullptr when it does not exist.
  Result<const RowData*> AggregateRow(int a, RowId id);
  Status Accumulate(int a, RowId id, const RowData& row, Accumulator* acc);
  // Counts `n` reads toward the scanned rows budget.
  Status CountScanned(int a, uint64_t n);
  static std::vector<size_t> AggregateFields(const AggregatePlan& a);

  // ---- the runners (executor.cc) ----
  // Sets up the per-node and per-entity state both runs need.
  Status Prepare();

  Status RunRoot();

  // The root rows that match, after the cursor, the best `want` of them
  // when the access path cannot stop early (unsorted).
  Status CollectRoots(const std::optional<CursorPosition>& cursor, int64_t want,
                      std::vector<Candidate>* list, NodeStats* ns);

  // VisitRoots for a scan of the rows and for a range of an index whose
  // entries hold every field read.
  Status StreamScan(const RootVisitor& visit, NodeStats* ns);
  Status StreamIndexOnly(const RootVisitor& visit, NodeStats* ns);
  // Counts a row or entry VisitRoots read; BUDGET_EXCEEDED past the
  // scanned rows budget (OverScanned).
  Status CountRead(NodeStats* ns);
  // One index entry, edge or row read by a step (EXPLAIN ANALYZE's reads).
  void CountEntry(NodeStats* ns) {
    ++reads_;
    if (ns) ++ns->examined;
  }
  Status OverScanned() const;
  // Called before looking up ids[j] in a long run of row lookups: the row
  // cache's slots of the lookups a stride ahead start loading
  // (TxnReader::PrefetchRowSlots).
  void PrefetchAhead(EntityTypeId type, std::span<const RowId> ids, size_t j) const;

  static double Micros(std::chrono::steady_clock::time_point start);
  // Now, when the run keeps stats (EXPLAIN ANALYZE); an unread zero otherwise.
  std::chrono::steady_clock::time_point StatsClock() const {
    return stats_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  }

  Status RunInclude(int idx);

  std::shared_ptr<const Plan> plan_;
  const std::vector<BoundSlot>& slots_;
  storage::TxnReader& txn_;
  const catalog::LayoutLookup& layouts_;
  const ExecOptions& opt_;
  std::vector<NodeStats>* stats_;
  std::shared_ptr<ResultBlocks> out_;
  std::unique_ptr<RowArena> rows_;
  // Rows read, by (entity type, id); null for an id with no visible row.
  FlatIdMap<const RowData*> cache_;
  // The per-node lists, kept with rows_.
  RowArena::NodeLists& lists_;
  bool stopped_ = false;
  const RunLayout* run_ = nullptr;  // the plan's (Prepare)
  // Scratch space for rows decoded only in part (Offer).
  RowData probe_;
  storage::RowView view_;
  Candidate scratch_;
  // Aggregates: values per holder row id, whether grouped by a scan, the
  // fields each decodes, and the rows read in all.
  std::vector<std::unordered_map<RowId, Value>> agg_values_;
  std::vector<bool> agg_grouped_;
  // Per aggregate with AggregatePlan::maintained: whether the records exist
  // at the snapshot (-1: not looked up yet).
  std::vector<int8_t> maintained_ok_;
  RowData agg_probe_;
  storage::RowView agg_view_;
  uint64_t scanned_ = 0;
  // Index entries, edges and rows the steps read (the aggregates' are scanned_).
  uint64_t reads_ = 0;
  // Semi-joins (access rules' exists): per semi-join, the answer per row id.
  std::vector<std::unordered_map<RowId, bool>> semi_values_;
  storage::RowView decode_view_;

 public:
  // RunLayout::Block::column_field for a column that is no field.
  static constexpr int kVersionColumn = -1, kAggregateColumn = -2;
};

}  // namespace ormdb::query::executor_internal
