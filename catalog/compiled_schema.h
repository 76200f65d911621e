// CompiledSchema: one schema version with ids assigned and everything the
// write and read paths need precomputed: physical row layouts, converted
// defaults, parsed check expressions, index key fields, and the reverse
// references that on_delete walks.
//
// Ids and layouts (the catalog's invariants, see docs/CATALOG.md):
//   - an entity, field, index or edge relation keeps its id for as long as an
//     object of that name (and, for an index, of those fields and uniqueness)
//     exists in consecutive versions; ids are never reused;
//   - an entity's physical columns only grow: a new field appends a column, a
//     dropped field leaves its column in place as kNull, a type change keeps
//     the column and changes its type from that version on. A row is decoded
//     with the layout of the version it was written under, then converted.
//
// Immutable once built; shared across threads by shared_ptr<const ...>.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/check_expr.h"
#include "catalog/schema.h"
#include "common/ids.h"
#include "common/value.h"
#include "ormdb/status.h"

namespace ormdb::catalog {

// The physical type a declared field type is stored as.
ValueType PhysicalType(FieldType t);
// "int32", "string", "Status" (an enum), "User" (a reference), ...
std::string FieldTypeName(const Field& f);

// One physical column of an entity's rows.
struct Column {
  FieldId field{0};  // 0: a dropped field's column, always null
  ValueType type = ValueType::kNull;
  uint32_t added_in = 0;        // the schema version that appended it
  int64_t added_at_micros = 0;  // its commit time: what @default(now) backfills
};

struct FieldInfo {
  FieldId id{0};
  std::string name;
  FieldType type = FieldType::kInt64;
  ValueType physical = ValueType::kInt64;
  size_t column = 0;  // into EntityInfo::columns
  bool optional = false;
  DefaultSpec::Kind default_kind = DefaultSpec::Kind::kNone;
  Value default_value;  // a literal default, converted to the physical type
  // Rows written before the column existed read this (the literal default,
  // or for @default(now) the commit time of the version that added it).
  Value backfill_value;
  std::shared_ptr<const CheckExpr> check;
  std::string check_text;
  const Enum* enum_def = nullptr;  // kEnum: into CompiledSchema::schema
  EntityTypeId ref_target{0};      // kRef
  std::string ref_target_name;     // kRef
  OnDelete on_delete = OnDelete::kRestrict;
};

struct IndexInfo {
  IndexId id{0};
  std::string name;            // User(email), Post(author, created_at)
  std::vector<size_t> fields;  // positions in EntityInfo::fields; empty for the uuid id index
  bool unique = false;
  bool automatic = false;
  bool id_index = false;  // the unique index of a uuid entity's id
  bool ready = true;      // false while a background build runs
  // The commit that finished a background build (0: the index was complete
  // from its schema version on). A read at an older snapshot must not use
  // it: rows indexed by the build are missing there.
  Version ready_at = 0;
};

// A reference field of some entity pointing at this one.
struct ReferenceIn {
  EntityTypeId from_entity{0};
  size_t field = 0;  // position in that entity's fields
};

// One end of an edge relation as seen from an entity.
struct EdgeEnd {
  RelationId relation{0};
  bool forward = true;  // this entity is the relation's `from` side
};

// A collection declared with @maintain, as seen from the related (child)
// entity whose rows it counts: each write of a child row changes the record
// of its parent (catalog/maintained.h).
struct MaintainedInfo {
  EntityTypeId parent{0};
  std::string collection;       // "Movie.reviews"
  size_t ref_field = 0;         // position of the reference in the child's fields
  std::vector<size_t> fields;   // positions of the summed fields in the child's fields
  EntityTypeId record_type{0};  // the derived row type holding the records
  std::string definition;       // the field ids, as the records' marker holds them
};

struct EntityInfo {
  EntityTypeId id{0};
  std::string name;
  bool uuid_id = false;
  FieldId id_field{0};            // uuid entities: the column holding the uuid
  size_t id_column = 0;           // uuid entities
  std::vector<FieldInfo> fields;  // declaration order (as Entity::fields)
  std::vector<Column> columns;
  std::vector<ValueType> layout;  // columns[i].type
  std::vector<IndexInfo> indexes;
  std::vector<std::shared_ptr<const CheckExpr>> checks;
  std::vector<std::string> check_texts;
  std::vector<ReferenceIn> referenced_by;
  std::vector<EdgeEnd> edges;
  std::vector<MaintainedInfo> maintained;  // @maintain collections over this entity's rows

  // The @maintain collection that counts this entity's rows by the
  // reference at `ref_field`, or null.
  const MaintainedInfo* MaintainedBy(size_t ref_field) const;

  // Position in fields, or -1.
  int FieldIndex(std::string_view name) const;
};

struct EdgeInfo {
  RelationId id{0};
  std::string name;
  EntityTypeId from{0}, to{0};
  std::string from_entity, from_collection, to_entity, to_collection;
};

// The id counters of the catalog: the next id of each kind. Ids are never
// reused, so the counters live beside the schema and only grow.
struct IdCounters {
  uint32_t next_entity = 1;
  uint32_t next_field = 1;
  uint32_t next_index = 1;
  uint32_t next_relation = 1;
};

class CompiledSchema {
 public:
  uint32_t number() const { return number_; }
  const Schema& schema() const { return schema_; }
  const IdCounters& counters() const { return counters_; }
  const std::vector<EntityInfo>& entities() const { return entities_; }
  const std::vector<EdgeInfo>& edges() const { return edges_; }

  const EntityInfo* FindEntity(std::string_view name) const;
  const EntityInfo* EntityById(EntityTypeId id) const;
  const EdgeInfo* EdgeById(RelationId id) const;
  // A relation named from either side ("Post.tags" or "Tag.posts"): the
  // edge, and whether the name is its forward side. SCHEMA_ERROR with a
  // suggestion when no such relation exists.
  Result<std::pair<const EdgeInfo*, bool>> FindRelation(std::string_view qualified) const;
  // SCHEMA_ERROR "unknown entity 'X' (did you mean 'Y'?)" when absent.
  Result<const EntityInfo*> RequireEntity(std::string_view name) const;

  // Builds version `number` from `schema` (as parsed: ids 0). Objects that
  // also exist in `previous` keep their ids and columns; new ones take ids
  // from the previous counters. `commit_time_micros` is the time of the
  // version (for @default(now) backfills). Ready flags of indexes carried over
  // from `previous` are kept; a new index of an existing entity starts not
  // ready (it is built in the background), one of a new entity is ready.
  // SCHEMA_ERROR when a default does not convert or a check does not parse
  // or names an unknown field (with file:line:col when positions are known).
  static Result<std::shared_ptr<CompiledSchema>> Build(Schema schema,
                                                       const CompiledSchema* previous,
                                                       uint32_t number, int64_t commit_time_micros,
                                                       std::string_view file_name);

  // Rebuilds a stored version from its ids, columns and counters (see
  // schema_json.h); no id assignment happens.
  // `columns` and `id_fields` are keyed by entity name; `building` lists the
  // indexes whose background build has not finished.
  static Result<std::shared_ptr<CompiledSchema>> Restore(
      Schema schema, uint32_t number, IdCounters counters,
      std::map<std::string, std::vector<Column>> columns, std::map<std::string, FieldId> id_fields,
      std::vector<IndexId> building);

  // The stored form's parts (see Restore).
  const std::map<std::string, std::vector<Column>>& columns_by_entity() const { return columns_; }
  const std::map<std::string, FieldId>& id_fields() const { return id_fields_; }
  std::vector<IndexId> building_indexes() const;

  // A copy with the named index marked ready (a finished background build).
  std::shared_ptr<CompiledSchema> WithIndexReady(IndexId id) const;
  // Records the commit that finished an index's build (IndexInfo::ready_at).
  // REQUIRES: the schema is not yet shared (right after Restore or
  // WithIndexReady).
  void SetReadyAt(IndexId id, Version version);
  const std::map<uint32_t, Version>& ready_versions() const { return ready_at_; }

 private:
  Status Derive(std::string_view file_name);

  uint32_t number_ = 0;
  Schema schema_;
  IdCounters counters_;
  std::map<std::string, std::vector<Column>> columns_;
  std::map<std::string, FieldId> id_fields_;
  std::vector<IndexId> building_;
  std::map<uint32_t, Version> ready_at_;  // by index id
  std::vector<EntityInfo> entities_;
  std::vector<EdgeInfo> edges_;
  std::unordered_map<std::string, size_t> entity_by_name_;
  std::unordered_map<uint32_t, size_t> entity_by_id_;
};

// The identity of an index across versions: "Post(author, created_at)", plus
// " unique" for a unique one.
std::string IndexIdentity(const Entity& e, const Index& ix);

// Converts a @default literal to the field's physical value.
// SCHEMA_ERROR naming the field when it does not fit.
Result<Value> ConvertDefault(const Field& f, const Enum* enum_def);

// "did you mean 'x'?" helper: the candidate nearest to `name` by edit
// distance, or empty when none is close.
std::string NearestName(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace ormdb::catalog
