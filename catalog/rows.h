// Rows of an entity as the upper layers see them: one Value per declared
// field (EntityInfo::fields order), decoded from whatever schema version the
// row was written under, and encoded under the current one.
//
// Reading an older row: its columns are decoded with the layout of its own
// version, then each current field takes its column's value converted to the
// field's current type (int32 widened to int64, ...). A column the row does
// not have (the field was added later) reads the field's backfill value: its
// literal default, the commit time of the adding version for
// @default(now), else null.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/compiled_schema.h"
#include "common/value.h"
#include "ormdb/status.h"
#include "storage/row_codec.h"

namespace ormdb::catalog {

// The entity as it was in schema version `number` (for old rows' layouts);
// nullptr when that version is unknown.
using LayoutLookup = std::function<const EntityInfo*(uint32_t number, EntityTypeId entity)>;

struct DecodedRow {
  std::vector<Value> fields;  // one per EntityInfo::fields
  Value uuid;                 // uuid entities: the id
  // Fields whose stored value did not convert to the current type (a
  // narrowing change); they read as null. A validating migration reports them.
  std::vector<size_t> unconvertible;
};

// Decodes a row of `entity` written under any schema version.
// INTERNAL on a corrupted row or an unknown schema version.
Result<DecodedRow> DecodeEntityRow(std::string_view row, const EntityInfo& entity,
                                   uint32_t current_number, const LayoutLookup& layouts);

// Decodes only the fields at positions `wanted` (EntityInfo::fields order)
// into *out, whose other fields are left as they were; for scans that test a
// predicate before keeping a row. `view` is scratch space reused across
// calls. Errors as DecodeEntityRow.
Status DecodeEntityFields(std::string_view row, const EntityInfo& entity, uint32_t current_number,
                          const LayoutLookup& layouts, const std::vector<size_t>& wanted,
                          storage::RowView* view, DecodedRow* out);

// Encodes `fields` (one per EntityInfo::fields) and the uuid id under
// `number`. REQUIRES: the values have the fields' physical types or are null.
Result<std::string> EncodeEntityRow(const EntityInfo& entity, uint32_t number,
                                    const std::vector<Value>& fields, const Value& uuid);

// Converts a stored value to another physical type without loss; false
// (and *out untouched) when the value does not fit or the types do not
// convert.
bool ConvertStored(const Value& v, ValueType to, Value* out);

// The encoded key values of `index` for a row (AppendKey of each field, in
// index order). *any_null is set when a key field is null: such a row is
// indexed but never clashes in a unique index (nulls are distinct).
std::string IndexKeyValues(const IndexInfo& index, const DecodedRow& row, bool* any_null);

// The row-level rules of the entity on decoded values: required fields are
// set, enum values are declared values, every field and entity check passes
// (a null result passes: SQL rules). CONSTRAINT_VIOLATION naming the field,
// the value and the rule; unconvertible fields (see DecodedRow) fail too.
// `id` is the row's external id as a Value (for checks naming `id`).
Status CheckRowConstraints(const EntityInfo& entity, const DecodedRow& row, const Value& id);

// "Post.title = \"\"" style rendering of a field value for messages.
std::string DescribeField(const EntityInfo& entity, size_t field, const Value& v);

}  // namespace ormdb::catalog
