// The schema language's resolver, declarations -> Schema: names, types,
// attributes (sdl_resolver.cc), then collections, indexes and relations
// (sdl_relations.cc). Internal to catalog/.
//
// Thread-safety: a Resolver resolves one SchemaDecl on one thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/sdl_ast.h"

namespace ormdb::catalog::sdl {

struct BuiltinType {
  std::string_view keyword;
  FieldType type;
};
inline constexpr BuiltinType kBuiltinTypes[] = {
    {"bool", FieldType::kBool},           {"int32", FieldType::kInt32},
    {"int64", FieldType::kInt64},         {"float64", FieldType::kFloat64},
    {"string", FieldType::kString},       {"bytes", FieldType::kBytes},
    {"timestamp", FieldType::kTimestamp}, {"uuid", FieldType::kUuid},
    {"json", FieldType::kJson},
};
// The type of the `id` member only; not a field type.
inline constexpr std::string_view kIdType = "id";
inline constexpr std::string_view kIdMember = "id";

// The builtin type named `name`; nullptr when there is none.
const BuiltinType* FindBuiltin(std::string_view name);

// "Post.title is a string field".
std::string FieldIsA(std::string_view entity, const Field& f);

class Resolver {
 public:
  Resolver(const SchemaDecl& decl, const Diagnostics& diag) : decl_(decl), diag_(diag) {}

  Status Resolve(Schema* out);

 private:
  // Where an entity's members are, by name, for lookups that must stay fast
  // on huge inputs. Keys view into decl_, which outlives the resolver.
  struct MemberIndex {
    std::unordered_map<std::string_view, size_t> fields;       // into Entity::fields
    std::unordered_map<std::string_view, size_t> collections;  // into Entity::collections
    std::vector<SourcePos> relation_arg_pos;  // per collection: its @inverse/@many argument
  };

  Status DeclareTypes();
  // The fields of @maintain(...) on `coll`: int32/int64 fields of its target.
  Status CheckMaintained(const Entity& entity, const Collection& coll, const Entity& target,
                         const MemberIndex& target_members, size_t target_index);
  Status CheckEnumValues(const EnumDecl& decl);
  Status ResolveEntity(const EntityDecl& decl, Entity* out);
  Status ResolveIdMember(const MemberDecl& member, Entity* out);
  Status ResolveField(const EntityDecl& entity, const MemberDecl& member, Field* out,
                      SourcePos* index_pos);
  Status ResolveFieldType(const MemberDecl& member, Field* out);
  Status ApplyFieldAttribute(const EntityDecl& entity, const FieldAttr& attr, Field* out,
                             SourcePos* index_pos);
  Status CheckDefault(const EntityDecl& entity, const Field& field, const DefaultSpec& spec);
  Status CheckIntegerDefault(const EntityDecl& entity, const Field& field, const DefaultSpec& spec);
  Status ResolveCollection(const EntityDecl& entity, const MemberDecl& member, Collection* out,
                           SourcePos* arg_pos);
  Status BuildIndexes(const EntityDecl& decl, const std::vector<SourcePos>& field_index_pos,
                      Entity* out);
  Status ResolveIndexFields(const EntityDecl& decl, const EntityAttrDecl& attr,
                            const Entity& entity, std::vector<std::string>* fields);
  Status CheckInverses(const Schema& schema);
  Status BuildEdges(Schema* schema);

  std::vector<std::string_view> FieldNames(const EntityDecl& decl) const;
  std::vector<std::string_view> EntityNames() const;

  const SchemaDecl& decl_;
  const Diagnostics& diag_;
  std::unordered_map<std::string_view, const EnumDecl*> enums_;
  std::unordered_map<std::string_view, size_t> entities_;  // into decl_.entities
  std::vector<MemberIndex> members_;                       // per entity
};

}  // namespace ormdb::catalog::sdl
