// A compiled select statement (relational mode). Internal to query/: built
// by select_compile.cc, run by select_exec.cc, driven by select_engine.cc.
//
// How a select runs: its rows are read by one graph fetch that the compiler
// builds from the statement (the root entity with the where; an include per
// relation its paths go through; a field per path end), so the select has
// the fetch's access paths (index or scan, chosen by cost), predicates,
// snapshots and budgets. The executor then walks the fetch's result blocks:
// one row per root row, or per root row and child of the one to-many
// relation the paths may expand (a left join: a root row without children
// gives one row with nulls); groups and aggregates them, filters the groups
// with having, sorts, and cuts the page at the cursor and the limit.
//
// A select with no aggregates, no group by and no to-many path hands its
// order, limit and cursor to the fetch as well ("pushed down"), so an index
// that provides the order stops the scan at the limit, and its cursor is
// the fetch's own.
//
// A grouped select whose paths are all fields (or the id) of the root
// entity does not build result blocks: the fetch streams its root rows
// (FetchEngine::VisitRoots) straight into the groups ("streamed").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/like_pattern.h"
#include "common/value.h"
#include "query/fetch_engine.h"
#include "query/select_ir.h"
#include "query/select_result.h"

namespace ormdb::query::select_plan {

// A path the select reads, located in the fetch's plan.
struct Column {
  std::vector<std::string> path;
  std::string text;  // "author.name"
  QueryPos pos;
  // The fetch plan nodes the path goes through, below the root (empty for
  // a field of the root), and the item of the last node (or the root) that
  // holds the value.
  std::vector<int> nodes;
  int item = -1;
  bool is_id = false;         // the entity's id
  bool is_reference = false;  // a to-one field read as the related row's id
  ValueType type = ValueType::kNull;
  const catalog::Enum* enum_def = nullptr;
  bool expands = false;  // goes through the to-many node
};

struct AggregateTerm {
  Aggregate::Fn fn = Aggregate::Fn::kCount;
  int column = -1;   // -1: count() of the rows
  std::string text;  // "sum(views)"
  ValueType result = ValueType::kInt64;
  bool float_input = false;  // sum/avg over a float64 column
};

// A value of an output row: a column (read or grouped) or an aggregate.
struct Ref {
  bool aggregate = false;
  int index = -1;  // into columns or aggregates
};

// The having predicate, compiled: operands are refs or bound values.
struct HavingExpr {
  enum class Kind : uint8_t { kRef, kValue, kCompare, kIn, kLike, kIsNull, kAnd, kOr, kNot };
  Kind kind = Kind::kRef;
  Expr::CompareOp op = Expr::CompareOp::kEq;
  bool negated = false;
  Ref ref;                               // kRef
  Value value;                           // kValue
  std::vector<Value> list;               // kIn
  std::shared_ptr<LikePattern> pattern;  // kLike
  std::vector<HavingExpr> children;
};

struct OrderKey {
  Ref ref;
  bool descending = false;
  std::string text;  // "posts desc" for EXPLAIN
};

struct Plan {
  FetchEngine::Prepared fetch;
  std::string entity;
  std::vector<Column> columns;
  std::vector<AggregateTerm> aggregates;
  int many_node = -1;     // the to-many fetch node rows expand over, or -1
  std::string many_path;  // its relation path ("tags")
  bool grouped = false;   // aggregates or group by
  bool pushdown = false;  // order, limit and after run in the fetch
  // Grouped straight from the root rows the fetch reads (FetchEngine::
  // VisitRoots), without result blocks: a grouped select whose columns are
  // all fields or the id of the root entity.
  bool streamed = false;
  // A streamed select grouped by one required reference whose relation is
  // declared with @maintain, whose aggregates the relation's records answer
  // (count(), and count, sum or avg of a field the records keep), with no
  // where and no policy filter: its groups are read from the records, one
  // per parent, wherever they exist at the snapshot (else it streams the
  // rows). `maintained_slots`: per aggregate, -1 for a count of rows, else
  // the field's position in maintained->fields.
  const catalog::MaintainedInfo* maintained = nullptr;
  std::vector<int> maintained_slots;
  std::vector<int> group_columns;
  std::vector<Ref> items;
  std::vector<std::string> names;  // column names of the result
  std::vector<OrderKey> order;
  bool has_having = false;
  HavingExpr having;
  std::string where_text, having_text;  // for EXPLAIN
  std::optional<int64_t> limit;
  std::optional<std::string> after;
  uint64_t cursor_shape = 0;
  std::string secret;  // the cursor checksum key
  uint64_t max_scanned_rows = 0, max_rows = 0;
};

// Compiles `text`: parses, builds and prepares the fetch, resolves every
// name against its plan, and binds the having's values. Errors as
// Database::Select.
Result<std::unique_ptr<Plan>> Compile(FetchEngine& fetch, std::string_view secret,
                                      std::string_view text, std::string_view params_json,
                                      const SelectOptions& options,
                                      const Principal* principal = nullptr);

// What running a plan did (EXPLAIN ANALYZE).
struct RunStats {
  std::vector<NodeStats> fetch;  // per fetch node
  uint64_t scanned = 0;          // index entries, edges and rows the fetch read
  uint64_t root_rows = 0;        // rows the fetch returned at the root
  uint64_t joined_rows = 0;      // rows after the to-many expansion
  uint64_t groups = 0;           // groups formed
  uint64_t kept = 0;             // groups (or rows) after having
  uint64_t returned = 0;
  double fetch_micros = 0, total_micros = 0;
  std::shared_ptr<ResultBlocks> blocks;  // the fetch's result
};

// Runs a compiled plan. BUDGET_EXCEEDED past max_scanned_rows or max_rows,
// INVALID_ARGUMENT for a bad cursor or a sum past int64.
Result<std::shared_ptr<SelectBlock>> Run(FetchEngine& fetch, const Plan& plan, RunStats* stats);

}  // namespace ormdb::query::select_plan
