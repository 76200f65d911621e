// A compiled graph fetch: the query resolved against one schema version, its
// literals lifted into slots, and an access path chosen for every step from
// the statistics. A Plan depends on the query's shape only (ShapeKey), never
// on its literal values, so the plan cache can reuse it for every query of
// that shape; the values are bound per run (query/binder.h).
//
// Nodes are the root (node 0) and the includes in pre-order; the executor
// runs them breadth first, level by level.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/compiled_schema.h"
#include "common/ids.h"
#include "common/value.h"
#include "query/ir.h"
#include "storage/txn.h"

namespace ormdb::query {

// What a predicate operand compares as. Values of a domain compare with each
// other (numbers across int32, int64 and float64).
enum class Domain : uint8_t { kNumber, kString, kBool, kTimestamp, kUuid, kBytes, kJson };
std::string_view DomainName(Domain d);

// A field, `id` or `_version` of an entity, possibly reached through to-one
// references ("author.name").
struct BoundPath {
  // kAggregate: an aggregate of the node (an order key), `field` its index
  // in Plan::aggregates.
  enum class Terminal : uint8_t { kField, kId, kVersion, kAggregate };
  std::vector<const catalog::EntityInfo*> entities;  // entities[0] is the node's entity
  std::vector<size_t> hops;                          // reference fields, one per hop
  Terminal terminal = Terminal::kField;
  size_t field = 0;  // kField: position in entities.back()->fields
  Domain domain = Domain::kNumber;
  const catalog::Enum* enum_def = nullptr;  // enum fields
  std::string text;                         // "author.name"
  ValueType key_type = ValueType::kInt64;   // the type its values have (for cursor keys)
};

// A literal or parameter, bound when the plan runs.
struct Slot {
  enum class Kind : uint8_t { kValue, kList, kPattern, kLimit, kAfter };
  Kind kind = Kind::kValue;
  std::string param;  // bound from $param (kValue, kPattern); empty for a literal
  int literal = -1;   // ordinal among the query's literals (CollectLiterals)
  // kList of an access rule's condition (not in the query's literals): its
  // elements, each a value or a {"$param": name} bound from the policy's
  // parameters.
  std::vector<Json> list;
  Domain domain = Domain::kNumber;          // kValue, kList: what the value converts to
  const catalog::Enum* enum_def = nullptr;  // for enum checks
  std::string subject;                      // "Post.status" for messages
  QueryPos pos;
};

struct CExpr {
  enum class Kind : uint8_t {
    kPath,
    kSlot,
    kCompare,
    kIn,
    kLike,
    kIsNull,
    kAnd,
    kOr,
    kNot,
    kExists,  // an access rule's exists(...): true when Plan::semijoins[semijoin] finds a row
  };
  Kind kind = Kind::kPath;
  Expr::CompareOp op = Expr::CompareOp::kEq;
  bool negated = false;
  // kPath: into Node::paths. kExists: -1 for the node's own row, or a path
  // (to-one hops, ending in `id`) to the row whose relation is read.
  int path = -1;
  int slot = -1;      // kSlot; kIn: the list; kLike: the pattern
  int semijoin = -1;  // kExists: into Plan::semijoins
  std::vector<CExpr> children;
};

struct OrderPlan {
  int path = -1;  // into Node::paths
  bool descending = false;
};

// How a node finds its rows.
enum class Access : uint8_t {
  kIdLookup,       // root: `id == x` or `id in [..]`
  kUniqueLookup,   // root: equality on every field of a unique index
  kIndexRange,     // root: an index range (equality prefix, then a range or order)
  kScan,           // root: every row in id order, filtered
  kRefLookup,      // to-one: batched lookups of the referenced rows
  kChildIndex,     // to-many inverse: per parent, a range of an index on the reference
  kChildScanHash,  // to-many inverse: one scan of the children, hashed by parent
  kEdgeRange,      // many-to-many: per parent, the edge range, then batched lookups
};
std::string_view AccessName(Access a);

// An index range: `eq` leading fields fixed (by slots, or for kChildIndex the
// first by the parent id), then optionally a range or a like prefix on the
// next field, scanned in `backward` or forward order.
struct IndexRangePlan {
  const catalog::IndexInfo* index = nullptr;
  std::vector<int> eq_slots;  // one per fixed leading field (kChildIndex: first is -1, the parent)
  int lower_slot = -1, upper_slot = -1;
  bool lower_inclusive = true, upper_inclusive = true;
  int like_slot = -1;
  bool backward = false;
  // Leading order keys the scan order provides; with a limit the scan stops
  // early once enough rows passed the filter.
  size_t order_covered = 0;
  // The entries hold every field the plan reads from the entity's rows
  // (Plan::decode_fields), in types the key stores exactly: rows are built
  // from the entries and none is read (but for an entry whose values were
  // too long for the key).
  bool index_only = false;
};

// One item of an object in the result, in selection order.
struct OutputItem {
  enum class Kind : uint8_t { kId, kVersion, kField, kInclude, kAggregate };
  Kind kind = Kind::kField;
  std::string name;
  size_t field = 0;    // kField
  int child = -1;      // kInclude: the child node
  int aggregate = -1;  // kAggregate: into Plan::aggregates
};

struct Node {
  enum class Kind : uint8_t { kRoot, kToOne, kInverse, kMany };
  Kind kind = Kind::kRoot;
  int parent = -1;
  int depth = 0;
  std::string path;      // "User", "User.posts", "User.posts.comments"
  std::string relation;  // the include's name in its parent ("posts")
  const catalog::EntityInfo* entity = nullptr;
  size_t ref_field = 0;  // kToOne: the parent's field; kInverse: the child's field
  RelationId edge{0};    // kMany
  bool edge_forward = true;

  std::vector<BoundPath> paths;
  bool has_where = false;
  CExpr where;
  // The access policy's row filter (query/policy.h), ANDed into `where`;
  // its text for EXPLAIN, empty when the node has none.
  std::string policy;
  std::vector<int> semijoins;    // into Plan::semijoins: the exists(...) of its predicate
  std::vector<OrderPlan> order;  // without the implicit id tie-break
  bool order_is_id_only = true;  // no keys, or only `id`
  int limit_slot = -1;
  int after_slot = -1;
  uint64_t cursor_shape = 0;
  std::vector<ValueType> cursor_key_types;

  std::vector<OutputItem> items;
  std::vector<int> children;

  Access access = Access::kScan;
  std::vector<int> id_slots;  // kIdLookup: one value slot or one list slot
  IndexRangePlan range;
  std::string reason;  // why this access path

  // Estimates: rows per parent (the root: rows) before the limit, the rows
  // this node returns in all, and the rows its access path reads.
  double est_rows_per_parent = 0;
  double est_rows = 0;
  double est_examined = 0;
  double est_cost = 0;
};

// A named aggregate (DESIGN.md §11): per row of its holder node, `fn` over
// the rows of a to-many relation that pass `source.where`. `source` is the
// relation compiled as an include of the holder (kind, entity, reference
// field or edge, predicate paths, access path); it is never rendered.
struct AggregatePlan {
  Aggregate::Fn fn = Aggregate::Fn::kCount;
  std::string name;
  std::string text;  // "avg(reviews.rating where ...)" for EXPLAIN
  int holder = -1;   // the node whose rows it is computed for
  Node source;
  int value_path = -1;  // into source.paths; -1: count the rows
  // The type of its values: Int64 (counts, sums of integers), Float64 (avg,
  // sums of floats), or the field's for min and max.
  ValueType result = ValueType::kInt64;
  bool value_is_float = false;  // the aggregated field is a float64
  // A count of every related row: index entries or edges are counted
  // without reading a row.
  bool count_only = false;
  // The per-parent index holds every field the aggregate reads (its
  // reference, where and value): values are decoded from the index entries
  // and no row is read (but for an entry whose values were too long for
  // the key).
  bool index_only = false;
  // The relation is declared with @maintain and the aggregate is one its
  // records answer (a count, or a count, sum or avg of a summed field, with
  // no where and no policy filter): one record per holder row is read
  // wherever the records exist at the snapshot; `source` is the plan for a
  // snapshot before they were built. `maintained_field`: the position in
  // maintained->fields, -1 for a count of rows.
  const catalog::MaintainedInfo* maintained = nullptr;
  int maintained_field = -1;
  // For EXPLAIN: rows (or entries) read per holder row on average.
  double est_examined_per_parent = 0;
};

// An access rule's `exists(relation [where p])` (query/policy.h), evaluated
// per candidate row: the rows related to it through a to-many relation are
// read (a range of an index led by the inverse relation's reference, or the
// edge range of a many-to-many relation) until one passes `source.where`.
// The related rows are not filtered by their own entity's rules. `source`
// holds the condition's paths and is never run as a node.
struct SemiJoinPlan {
  Node source;                                 // kInverse or kMany
  std::string text;                            // "exists(members where ...)" for EXPLAIN
  std::string holder;                          // the entity whose rows it filters, for EXPLAIN
  const catalog::EntityInfo* owner = nullptr;  // the entity whose relation it reads
  // Estimates per row tested: related rows read at most (the average
  // fanout), and their cost.
  double est_fanout = 0;
  double est_cost_per_row = 0;
};

// The field masks of one entity under an access policy: a field's value is
// rendered only where its condition holds (null elsewhere). `node` holds the
// conditions' paths and is never run.
struct EntityMasks {
  EntityTypeId entity{0};
  Node node;
  std::vector<std::pair<size_t, CExpr>> fields;  // field position, condition
};

namespace executor_internal {
struct RunLayout;  // query/executor_internal.h
}

struct Plan {
  std::shared_ptr<const catalog::CompiledSchema> schema;
  std::vector<EntityMasks> masks;
  std::string shape_key;
  std::vector<Node> nodes;
  std::vector<AggregatePlan> aggregates;
  std::vector<SemiJoinPlan> semijoins;
  double est_scanned = 0;  // rows the aggregates read in all
  // Per entity the plan reads, the fields any step needs: selected fields,
  // predicate and order paths (each hop's reference and the terminal
  // field), references followed to includes. Rows are decoded that far and
  // no further (uuid entities whole).
  std::vector<std::pair<EntityTypeId, std::vector<size_t>>> decode_fields;
  std::vector<Slot> slots;
  int max_depth = 0;
  double est_entities = 0;
  double est_edges = 0;
  // Row counts the plan's choices assumed, per entity; the cache recompiles
  // when one has drifted by more than a factor of two.
  std::vector<std::pair<EntityTypeId, uint64_t>> assumed_rows;
  // What every run of the plan sets up alike (its entity blocks' columns,
  // the fields each step decodes), built by the first run.
  mutable std::once_flag run_layout_once;
  mutable std::shared_ptr<const executor_internal::RunLayout> run_layout;
};

}  // namespace ormdb::query
