// Schema: the resolved model of one schema version (entities, fields,
// relations, indexes, enums), as produced by the schema language parser
// (catalog/sdl_parser.h) and kept by the catalog (catalog/catalog.h).
//
// Names are the identity a user sees; ids are the identity storage sees. The
// parser leaves every id at 0; the catalog assigns them when a schema is
// applied, reusing the id of the same-named object of the previous version so
// that ids are stable across versions (see docs/CATALOG.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "common/lexer.h"
#include "common/value.h"

namespace ormdb::catalog {

// Where a construct starts in the schema text (1-based); 0/0 when unknown
// (a schema loaded from the database rather than parsed).
using SourcePos = TextPos;

// The declared type of a scalar field.
enum class FieldType : uint8_t {
  kBool,
  kInt32,
  kInt64,
  kFloat64,
  kString,
  kBytes,
  kTimestamp,
  kUuid,
  kJson,
  kEnum,  // Field::enum_name names the enum; stored as its value's name (string)
  kRef,   // a many-to-one relation: Field::target names the entity; stored as the target's row id
};

// The literal of @default(...), kept as written; the catalog converts it to
// the field's type (and reports a literal that does not fit).
struct DefaultSpec {
  enum class Kind : uint8_t {
    kNone,
    kNow,     // @default(now): the commit time (timestamp fields)
    kUuid,    // @default(uuid): a random v4 uuid (uuid fields)
    kInt,     // 42, -7
    kFloat,   // 1.5, -2e3
    kString,  // "text" (unescaped)
    kBool,    // true / false
    kIdent,   // an enum value: draft
    kNull,    // null
  };
  Kind kind = Kind::kNone;
  std::string text;  // the literal: digits, the unescaped string, the identifier
  SourcePos pos;
};

enum class OnDelete : uint8_t { kRestrict, kCascade, kSetNull };

// The operations an access rule governs (a bit set; DESIGN of the rules in
// docs/reference/policies.md).
enum PolicyOp : uint8_t {
  kPolicyRead = 1,
  kPolicyCreate = 2,
  kPolicyUpdate = 4,
  kPolicyDelete = 8,
  kPolicyAll = 15,
};

// An access rule: @@allow / @@deny on an entity, @allow / @deny on a field.
// The condition is kept as written (trimmed); the query layer parses and
// checks it against the schema (query/policy.h).
struct PolicyRule {
  bool allow = true;
  uint8_t ops = 0;        // PolicyOp bits
  std::string condition;  // the predicate
  SourcePos pos;          // of the rule's '@'
  SourcePos condition_pos;

  // "@@allow(read, owner == auth.id)" (entity) or "@allow(...)" (field):
  // the operations as "all", one name, or a list ("[create, update]").
  std::string Text(bool entity_level) const;
};

// A stored field: a scalar or a many-to-one reference (kRef).
struct Field {
  FieldId id{0};
  std::string name;
  FieldType type = FieldType::kInt64;
  std::string enum_name;  // kEnum only
  std::string target;     // kRef only: the referenced entity
  bool optional = false;  // declared with `?`
  bool unique = false;    // @unique
  bool indexed = false;   // @index
  DefaultSpec default_value;
  std::string check;  // @check(expr): the expression text; empty when none
  SourcePos check_pos;
  OnDelete on_delete = OnDelete::kRestrict;  // kRef only
  bool on_delete_declared = false;           // kRef only: @on_delete was written
  std::vector<PolicyRule> rules;             // @allow / @deny, in order
  SourcePos pos;
};

// A to-many navigation: stores nothing in the row.
struct Collection {
  std::string name;
  std::string target;  // the entity of the elements
  enum class Kind : uint8_t {
    kInverse,  // @inverse(f): the rows of `target` whose to-one field f points here
    kMany,     // @many(edge): the edge relation named `edge`
  };
  Kind kind = Kind::kInverse;
  std::string inverse_field;  // kInverse: the kRef field of `target`
  std::string edge;           // kMany: the edge relation's name (post_tags)
  // @maintain: the database keeps, per parent, the count of its related rows
  // and, for each field listed (int32 or int64 fields of `target`), the sum
  // and the count of non-null values, so count/sum/avg read one record.
  bool maintained = false;
  std::vector<std::string> maintained_fields;
  std::vector<SourcePos> maintained_pos;  // of each listed field
  SourcePos pos;
};

// A secondary index, declared (@index, @unique, @@index, @@unique) or
// automatic (one per kRef field not already the first field of another index).
struct Index {
  IndexId id{0};
  std::vector<std::string> fields;  // field names, in key order
  bool unique = false;
  bool automatic = false;  // created for a reference field
  SourcePos pos;
};

struct Entity {
  EntityTypeId id{0};
  std::string name;
  bool uuid_id = false;       // `id: uuid` (else `id: id`, an int64 the database assigns)
  std::vector<Field> fields;  // stored fields in declaration order, without `id`
  std::vector<Collection> collections;
  std::vector<Index> indexes;  // @index/@unique fields first, then @@index/@@unique, then automatic
  std::vector<std::string> checks;  // @@check(expr) texts
  std::vector<SourcePos> check_positions;
  std::vector<PolicyRule> rules;  // @@allow / @@deny, in order
  SourcePos pos;

  // nullptr when absent.
  const Field* FindField(std::string_view name) const;
  const Collection* FindCollection(std::string_view name) const;
};

struct Enum {
  std::string name;
  std::vector<std::string> values;
  SourcePos pos;
};

// A many-to-many relation of the edge store, declared by a pair of @many(name)
// collections. The forward side is the entity that comes first in the schema
// text (for a self relation, the collection declared first).
struct EdgeRelation {
  RelationId id{0};
  std::string name;                          // post_tags
  std::string from_entity, from_collection;  // Post, tags
  std::string to_entity, to_collection;      // Tag, posts
};

struct Schema {
  std::vector<Enum> enums;
  std::vector<Entity> entities;
  std::vector<EdgeRelation> edges;

  // nullptr when absent.
  const Entity* FindEntity(std::string_view name) const;
  const Enum* FindEnum(std::string_view name) const;
  const EdgeRelation* FindEdge(std::string_view name) const;
};

// True when a and b declare the same schema: every member of every struct is
// equal, in the same order, except SourcePos values (Entity/Field/Collection/
// Index/Enum::pos, DefaultSpec::pos, Field::check_pos,
// Entity::check_positions), which say where a text came from rather than
// what it declares. Ids are compared. Used to check that printing and
// re-parsing a schema changes nothing.
bool SameDefinition(const Schema& a, const Schema& b);

}  // namespace ormdb::catalog
