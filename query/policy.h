// Access policies (docs/reference/policies.md): the rules of a schema
// (@@allow / @@deny on entities, @allow / @deny on fields) parsed and
// checked against it, and folded for one principal into what the fetch
// compiler and the write path apply.
//
// A rule's condition is a predicate of the query language (docs/QUERIES.md)
// over the entity's fields and paths through its to-one relations, plus
//   auth == null, auth != null       the request is anonymous / is not
//   auth.id, auth.<claim>            the principal's id and claims
//   auth.has_role("r")               the principal holds role r
//   before.<field>                   update rules: the row as it was
//   exists(rel [where p])            some row related through the to-many
//                                    relation rel (after any to-one hops)
//                                    makes p true; two-valued; the related
//                                    rows are read as stored, not filtered
//                                    by their own entity's rules
// Evaluation (the schema's rules for one entity and one operation):
// allowed exactly when some allow holds and no deny holds, SQL's
// three-valued logic throughout, so a condition that is unknown (a null
// claim, a null field) neither allows nor lets a deny pass: it fails
// closed. An entity without a rule for an operation is open to it.
//
// Folding for reads: every `auth` term is replaced by its value for the
// principal (a role test or `auth == null` by true or false), negations are
// pushed down to the comparisons, and every remaining value becomes a
// parameter ($auth.<claim>, $policy.<n>) bound per run, so plans are keyed
// by the policy's shape and never by a principal's values.
//
// Thread-safety: a PolicySet and a ReadPolicy are immutable once built.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/compiled_schema.h"
#include "catalog/rows.h"
#include "common/json.h"
#include "ormdb/principal.h"
#include "ormdb/status.h"
#include "query/ir.h"
#include "storage/txn.h"

namespace ormdb::query {

// Parses a rule condition (the grammar above). INVALID_ARGUMENT with
// "query:1:C: ..." positions relative to `text`.
Result<std::unique_ptr<Expr>> ParseRuleCondition(std::string_view text);

struct ParsedRule {
  const catalog::PolicyRule* rule = nullptr;  // into the schema
  std::shared_ptr<const Expr> condition;
  std::string entity;  // for messages
  std::string field;   // a field rule's field
  int line = 0;        // in the schema as `schema show` prints it (0: not found)
};

struct EntityPolicy {
  std::vector<ParsedRule> rules;                     // the entity's own
  std::vector<std::vector<ParsedRule>> field_rules;  // by field position
  uint8_t ruled_ops = 0;                             // operations with an entity rule
  bool any_field_rules = false;
};

class PolicySet {
 public:
  // Parses and checks every rule of `schema` (names, types, operations):
  // SCHEMA_ERROR "FILE:LINE:COL: ..." at the rule's condition. An empty
  // set when the schema has no rule.
  static Result<std::shared_ptr<const PolicySet>> Build(
      std::shared_ptr<const catalog::CompiledSchema> schema, std::string_view file_name);

  bool empty() const { return by_entity_.empty(); }
  // nullptr when the entity has no rule at all.
  const EntityPolicy* For(EntityTypeId entity) const;
  const catalog::CompiledSchema& schema() const { return *schema_; }

 private:
  std::shared_ptr<const catalog::CompiledSchema> schema_;
  std::unordered_map<uint32_t, EntityPolicy> by_entity_;
};

// What one principal reads of one entity.
struct EntityRead {
  // Rows the principal may read: nullptr = every row. A filter that can
  // never hold is `id is null`.
  std::unique_ptr<Expr> filter;
  // Per field position: nullptr = readable; else the condition under which
  // the field's value is shown (null otherwise).
  std::vector<std::unique_ptr<Expr>> masks;
  bool any_mask = false;
};

class ReadPolicy {
 public:
  // nullptr when the entity is open to the principal and has no field mask.
  const EntityRead* For(EntityTypeId entity) const;
  // Values of the folded filters' parameters: merge into the query's.
  const Json& params() const { return params_; }
  // The folded filters and masks as text, parameters unbound: part of the
  // plan cache key.
  const std::string& key() const { return key_; }
  bool empty() const { return by_entity_.empty(); }

 private:
  friend Result<std::shared_ptr<const ReadPolicy>> FoldReadPolicy(const PolicySet&,
                                                                  const Principal&);
  std::unordered_map<uint32_t, EntityRead> by_entity_;
  Json params_ = Json::Object();
  std::string key_;
};

// Folds the read rules of `set` for `principal` (who must not be an admin:
// admins bypass policies and need no ReadPolicy).
Result<std::shared_ptr<const ReadPolicy>> FoldReadPolicy(const PolicySet& set,
                                                         const Principal& principal);

// One row as a write check sees it: a field's (or a path's) value by its
// path from the entity ("title", "author.tenant", "id"), and the rows
// related to it through a to-many relation (for exists(...)); `before` for
// `before.<field>` in update rules (may be empty otherwise).
struct RowLookup {
  using ValueFn = std::function<Result<Value>(const std::vector<std::string>& path)>;
  // Called with each related row's lookup until it returns true.
  using Visit = std::function<Result<bool>(const RowLookup& related)>;
  // Visits the rows related through `path` (to-one hops, then a to-many
  // relation: ["members"], ["owner", "projects"]); returns whether a visit
  // returned true (false when there is no such row).
  using RelatedFn =
      std::function<Result<bool>(const std::vector<std::string>& path, const Visit& visit)>;

  ValueFn value;
  RelatedFn related;  // empty: the row has no related rows

  RowLookup() = default;
  RowLookup(ValueFn v, RelatedFn r = nullptr) : value(std::move(v)), related(std::move(r)) {}
  Result<Value> operator()(const std::vector<std::string>& path) const { return value(path); }
  explicit operator bool() const { return static_cast<bool>(value); }
};

// The RowLookup of a stored row `row` (row `id` of `entity`): fields by
// name, `id`, and paths through references, read in `txn`; a reference to
// a uuid entity reads as the referenced uuid. Related rows are read in
// `txn` too (an index led by the reference, or the edges of a
// many-to-many relation), so a write transaction sees its own writes. The
// lookup keeps references to its arguments: they must outlive it.
RowLookup StoredRowLookup(storage::TxnReader& txn, const catalog::CompiledSchema& schema,
                          const catalog::LayoutLookup& layouts, const catalog::EntityInfo& entity,
                          RowId id, const catalog::DecodedRow& row);

// Whether `principal` may do `op` (a catalog::PolicyOp bit) to a row of
// `entity`: the entity's rules for the operation over `row` (and `before`
// for update rules that name it). OK or PERMISSION_DENIED naming the
// operation, the entity and the rule that decided (never row data).
Status CheckRowAccess(const PolicySet& set, const Principal& principal,
                      const catalog::EntityInfo& entity, uint8_t op, const RowLookup& row,
                      const RowLookup& before);
// The field rules for `op` (read or update) of field `field` over `row`.
Status CheckFieldAccess(const PolicySet& set, const Principal& principal,
                        const catalog::EntityInfo& entity, size_t field, uint8_t op,
                        const RowLookup& row, const RowLookup& before);
// Whether the entity's read rules hold for the row (false, not an error,
// when they do not): change streams and row reads use it.
Result<bool> RowReadable(const PolicySet& set, const Principal& principal,
                         const catalog::EntityInfo& entity, const RowLookup& row);
Result<bool> FieldReadable(const PolicySet& set, const Principal& principal,
                           const catalog::EntityInfo& entity, size_t field, const RowLookup& row);

}  // namespace ormdb::query
