// The fetch compiler's class, shared by the files that implement it
// (query/compiler.h describes what it does). Internal to query/:
//   compiler.cc         names and validation: resolving the selection's
//                       entities, fields, relations and paths, typing the
//                       predicates, lifting literals into slots
//   compiler_access.cc  choosing each node's access path by estimated cost
//   compiler_bind.cc    binding parameter and literal values to slots
//
// Thread-safety: a Compiler compiles one query on one thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "query/compiler.h"

namespace ormdb::query::compiler_internal {

using catalog::EntityInfo;
using catalog::FieldInfo;
using catalog::FieldType;
using catalog::IndexInfo;

// "query:LINE:COL: " for a position in the query text, "" without one.
inline std::string At(const QueryPos& pos) {
  if (pos.line <= 0) return "";
  return "query:" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": ";
}

// How a message names a field's type: "int32", "string", an enum's or a
// referenced entity's name.
std::string TypeNameOf(const FieldInfo& f);

// How a message names the kind of a JSON literal ("an integer", ...).
inline std::string KindPhrase(const Json& v) {
  if (v.is_int()) return "an integer";
  if (v.is_double()) return "a float";
  if (v.is_string()) return "a string";
  if (v.is_bool()) return "a boolean";
  return "a " + std::string(v.TypeName());
}

// The cost model's units (query/compiler.h).
inline constexpr double kSeek = 2.0;
inline constexpr double kAdvance = 0.2;
inline constexpr double kFetch = 1.0;
inline constexpr double kScanRow = 0.6;

// One conjunct of a node's predicate, as the access path chooser sees it.
struct Conjunct {
  const CExpr* expr = nullptr;
  int path = -1;  // a direct field or id of the node's entity
  enum class Op : uint8_t { kEq, kLt, kLe, kGt, kGe, kIn, kLike, kOther } op = Op::kOther;
  int slot = -1;
};

// An operand: a path, or a literal / parameter slot whose domain is set
// later (`ordinal` is the literal's number, taken in query order).
struct Operand {
  const Expr* expr = nullptr;
  int path = -1;
  int ordinal = -1;
};

class Compiler {
 public:
  Compiler(std::shared_ptr<const catalog::CompiledSchema> schema, Statistics* stats,
           Version snapshot, const ReadPolicy* policy = nullptr)
      : schema_(std::move(schema)), stats_(stats), snapshot_(snapshot), policy_(policy) {}
  // Names and types only (CheckFetchNames); Run's first step.
  Status CompileNames(const FetchQuery& query);

  Result<std::shared_ptr<Plan>> Run(const FetchQuery& query);

 private:
  // ---- names, validation and slots (compiler.cc) ----
  Node& N(int i) { return plan_->nodes[i]; }

  int NewSlot(Slot s);

  Status CompileNode(const Selection& sel, int idx);

  const catalog::Entity* SchemaEntity(const EntityInfo* e);

  std::vector<std::string> RelationNames(const EntityInfo* e);

  Status CompileField(const Selection& item, int idx);

  Status CompileInclude(const Selection& item, int idx);

  // An aggregate item of node `idx` (compiler_aggregate.cc).
  Status CompileAggregate(const Selection& item, int idx);
  // Checks the aggregated path against the function; sets the result type.
  Status CheckAggregateValue(const Aggregate& agg, const Node& source, AggregatePlan* ap);
  // Resolves a to-many relation of node `idx`'s entity into an unrendered
  // include node (kInverse or kMany), for an aggregate.
  // `of`: the relation of that entity instead (reached from node `idx`
  // through to-one hops).
  Result<Node> RelationSource(int idx, const std::string& relation, const QueryPos& pos,
                              const EntityInfo* of = nullptr);
  // An access rule's exists(...) in a predicate of node `idx`
  // (Plan::semijoins).
  Result<CExpr> CompileExists(const Expr& e, int idx);
  // The semi-joins' per-row estimates (after the access paths).
  Status EstimateSemiJoins();
  // Chooses the aggregates' access paths (after the nodes').
  Status ChooseAggregates();
  // An index led by the reference that holds every field an aggregate reads,
  // when one exists and a range of it per parent is the cheaper path.
  Status ChooseCoveringIndex(AggregatePlan& ap);
  // Marks an aggregate the records of a @maintain relation answer.
  void ChooseMaintained(AggregatePlan& ap);
  // Fills Plan::decode_fields.
  void CollectDecodeFields();
  // Marks the index ranges whose entries hold every field the plan reads
  // from their entity's rows (IndexRangePlan::index_only); after
  // CollectDecodeFields.
  void ChooseIndexOnly();

  // Resolves a path from node `idx`'s entity; returns its index in paths.
  Result<int> ResolvePath(int idx, const std::vector<std::string>& names, const QueryPos& pos);

  std::string Subject(int idx, int path);

  std::string Describe(int idx, int path);

  Result<Operand> StartOperand(const Expr& e, int idx);

  // The slot of a literal or parameter operand compared with path `path`.
  Result<CExpr> FinishOperand(const Operand& o, int idx, int against, Slot::Kind kind);

  Status TypeError(const QueryPos& pos, int idx, int path, const Json& literal);

  // A slot whose value is compared with path `path` of node `idx`.
  Slot SlotAgainst(int idx, int path, Slot::Kind kind, const QueryPos& pos);

  static CExpr PathExpr(int path);

  // An operand that must be a field path (`what` names it in the error).
  Result<int> FieldOperand(const Expr& e, int idx, std::string_view what);

  Result<CExpr> CompileExpr(const Expr& e, int idx);
  // ---- access policies ----
  // ANDs the policy's row filter of node `idx`'s entity into its where.
  Status AddPolicyFilter(int idx);
  // The mask of a selected field, compiled into Plan::masks once per field.
  Status AddFieldMask(const EntityInfo* e, size_t field);
  // PERMISSION_DENIED when a user's path reads a masked field, or orders or
  // aggregates through a to-one relation whose target has a row filter.
  Status CheckReadable(const BoundPath& p, const QueryPos& pos) const;
  // A user's predicate over node entity `e` as the principal must see it:
  // negations pushed down to the comparisons (literals keep their order),
  // and each comparison through a to-one relation whose target has a row
  // filter ANDed with that filter (seen from the node), so that an
  // unreadable target reads as null. `is null` through one is
  // PERMISSION_DENIED. nullptr: no policy applies, use `where` as is.
  Result<std::unique_ptr<Expr>> GuardHops(const Expr& where, const EntityInfo* e, bool neg);
  // The read filters of the targets of path `names`' hops, seen from `e`.
  void HopFilters(const EntityInfo* e, const std::vector<std::string>& names,
                  std::vector<std::unique_ptr<Expr>>* out) const;
  bool user_order_ = false;  // resolving an order key or aggregate value path

  // ---- access paths (compiler_access.cc) ----
  std::vector<Conjunct> Conjuncts(const Node& n);

  // Whether path `p` of node `n` is index field `field` of its entity.
  static bool IsField(const Node& n, int p, size_t field);

  // Order keys of `n` provided by scanning `ix` from field `from` on;
  // *backward receives the direction.
  static size_t OrderCovered(const Node& n, const IndexInfo& ix, size_t from, bool* backward);

  // Complete at the snapshot the plan reads.
  bool Usable(const IndexInfo& ix) const { return ix.ready && ix.ready_at <= snapshot_; }

  double SortCost(double rows) const { return rows > 1 ? 0.05 * rows * std::log2(rows) : 0; }

  Status ChooseAccess();

  Status ChooseRoot(Node& n, uint64_t rows_u, const std::vector<Conjunct>& cj, double limit);

  Status ChooseInclude(Node& n, uint64_t rows_u, const std::vector<Conjunct>& cj, double sel,
                       double limit);

  std::shared_ptr<const catalog::CompiledSchema> schema_;
  Statistics* stats_;
  Version snapshot_;
  std::shared_ptr<Plan> plan_;
  int literal_count_ = 0;
  const ReadPolicy* policy_ = nullptr;
  bool compiling_policy_ = false;  // paths of policy conditions may read masked fields
};

}  // namespace ormdb::query::compiler_internal
