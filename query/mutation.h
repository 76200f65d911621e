// Mutations: the JSON write batch of DESIGN.md §4, applied as one
// transaction (all or nothing) with every constraint enforced inside it.
//
//   {"ops": [{"op": "insert", "entity": "User", "values": {...}, "as": "ann"},
//            {"op": "update", "entity": "User", "id": 5, "set": {...}, "if_version": 41},
//            {"op": "upsert", "entity": "Tag", "key": {"name": "cpp"}, "values": {...}},
//            {"op": "delete", "entity": "Post", "id": 9},
//            {"op": "link" | "unlink", "relation": "Post.tags", "from": 9, "to": 3}]}
//   -> {"version": 58, "refs": {"ann": 12}, "results": [{"id": 12}, ...]}
//
// Errors name the op (ops[i], 0-based) and carry the codes of §9:
// INVALID_ARGUMENT for a malformed batch or an unknown ref, SCHEMA_ERROR for
// an unknown entity, field or relation, NOT_FOUND for a row that does not
// exist, CONSTRAINT_VIOLATION for a type, range, required, unique, check or
// restrict failure, CONFLICT when if_version fails.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog/compiled_schema.h"
#include "catalog/rows.h"
#include "common/json.h"
#include "ormdb/status.h"
#include "query/policy.h"
#include "storage/txn.h"

namespace ormdb::query {

// A batch whose shape has been checked (op kinds, required and unknown keys,
// JSON types); names are checked against the schema when it is applied.
struct MutationBatch {
  Json ops;  // an array of op objects
  // How errors name each op; empty: "ops[i]". Import uses "line N".
  std::vector<std::string> labels;
};

// INVALID_ARGUMENT (with ops[i] and the key at fault) on a malformed batch.
Result<MutationBatch> ParseMutationBatch(std::string_view text);
Result<MutationBatch> MutationBatchFromJson(Json doc);

struct MutationResult {
  Version version = 0;
  Json refs = Json::Object();    // "as" name -> id
  Json results = Json::Array();  // one object per op
  // {"version":58,"refs":{"ann":12},"results":[{"id":12},...]}
  std::string ToJsonText() const;
};

// Applies `batch` inside `txn` under `schema`; on error the caller's
// transaction must be rolled back (Store does so when the function returns
// the error). Fills result->refs and result->results (not the version).
// `txn` may be replayed by the store, so *result is reset first.
// `policy` (may be null: no checks): the access rules and the principal
// the batch is checked for (docs/reference/policies.md): create on the new
// row; update on the row before (read and update) and after (update, and
// the field rules of each changed field); delete on the row before (read
// and delete); link and unlink as an update of both ends. Rows that a
// cascade deletes or sets to null are not checked: the referential action
// follows from the delete that was. A violation is PERMISSION_DENIED.
struct WritePolicy {
  const PolicySet* set = nullptr;
  const Principal* principal = nullptr;
};
Status ApplyMutations(storage::WriteTxn& txn, const catalog::CompiledSchema& schema,
                      const catalog::LayoutLookup& layouts, const MutationBatch& batch,
                      MutationResult* result, const WritePolicy* policy = nullptr);

// The JSON object of a row: "id" first, then every field in declaration
// order, references as the referenced row's id (or null). This is the form
// `ormdb get` prints and `export` writes.
Result<Json> RowToJson(storage::TxnReader& txn, const catalog::CompiledSchema& schema,
                       const catalog::LayoutLookup& layouts, const catalog::EntityInfo& entity,
                       RowId id, const catalog::DecodedRow& row);

// Resolves an external id (an integer, or a uuid string for `id: uuid`
// entities) to the row id. NOT_FOUND when no such row is visible;
// INVALID_ARGUMENT when the id has the wrong form.
Result<RowId> ResolveExternalId(storage::TxnReader& txn, const catalog::EntityInfo& entity,
                                const Json& id);

}  // namespace ormdb::query
