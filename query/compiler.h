// The fetch compiler: resolves a parsed query (query/ir.h) against a schema
// version, type-checks its predicates (docs/QUERIES.md, "Types"), lifts its
// literals into slots and chooses an access path for every node from the
// statistics, with the reason for each choice (EXPLAIN shows it).
//
// Cost model, in units of one row fetched and decoded:
//   a seek (index or row lookup)       2
//   an index entry or edge advanced    0.2
//   a row fetched by id                1
//   a row read by a sequential scan    0.6
//   sorting n rows                     0.05 * n * log2(n)
// Selectivity: equality on an index's leading field 1/distinct, equality on
// a further field 0.1, a range 0.3, a like prefix 0.1, any other conjunct
// 0.5. A plan is shared by every query of its shape, so a limit's value is
// unknown when costing: costs assume 20 rows.
//
// Thread-safety: pure functions; Statistics is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "catalog/compiled_schema.h"
#include "common/json.h"
#include "common/like_pattern.h"
#include "ormdb/status.h"
#include "query/ir.h"
#include "query/plan.h"
#include "query/policy.h"
#include "query/statistics.h"

namespace ormdb::query {

// Compiles `query`. INVALID_ARGUMENT for type errors and misuse (a to-one
// include with arguments, a path through a to-many relation), SCHEMA_ERROR
// for unknown names (with the nearest valid name), each with the position.
// `snapshot` is the version the plan will read: indexes whose background
// build finished after it are not used.
// `policy` (may be null): the principal's folded read policy, compiled in
// as filters and field masks; a where, order or aggregate that names a
// masked field is PERMISSION_DENIED.
Result<std::shared_ptr<Plan>> CompileFetch(const FetchQuery& query,
                                           std::shared_ptr<const catalog::CompiledSchema> schema,
                                           Statistics* stats, Version snapshot,
                                           const ReadPolicy* policy = nullptr);

// Resolves names and types only (no statistics, no access paths): what a
// schema's rule conditions are checked with (query/policy.h).
Status CheckFetchNames(const FetchQuery& query,
                       std::shared_ptr<const catalog::CompiledSchema> schema);

// One lifted literal of a query, in slot order (Slot::literal).
struct LiteralRef {
  const Json* value = nullptr;              // a comparison or like literal
  const std::vector<Json>* list = nullptr;  // an in-list
  int64_t limit = -1;                       // a limit
  const std::string* after = nullptr;       // a cursor
};
// The literals of a query in the order the compiler numbers them. Two
// queries with the same ShapeKey have lists of the same length and kinds.
std::vector<LiteralRef> CollectLiterals(const FetchQuery& query);

// The value of a slot for one run.
struct BoundSlot {
  Value value;                           // kValue
  std::vector<Value> list;               // kList
  std::shared_ptr<LikePattern> pattern;  // kPattern
  int64_t limit = -1;                    // kLimit
  std::string after;                     // kAfter
};

// Binds the slots of `plan` from the literals of `query` (same shape) and
// `params` (a JSON object). INVALID_ARGUMENT for a missing or unused
// parameter, or a value that does not convert (an enum value that is not
// declared, a malformed timestamp or uuid), naming the field and position.
Result<std::vector<BoundSlot>> BindSlots(const Plan& plan, const FetchQuery& query,
                                         const Json& params);

// Converts a JSON value to a predicate value of `domain` (numbers as Int64 or
// Float64). `subject` names the field for messages.
Result<Value> ConvertForDomain(const Json& v, Domain domain, const catalog::Enum* enum_def,
                               std::string_view subject);

}  // namespace ormdb::query
