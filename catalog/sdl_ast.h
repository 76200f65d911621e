// The schema language's declarations: the parse tree the parser
// (catalog/sdl_parser.cc) builds, syntax only, and the resolver
// (catalog/sdl_resolver.cc, sdl_relations.cc) turns into a Schema. Keeping
// resolution out of the parser lets a declaration refer to one that comes
// later in the file. Internal to catalog/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/schema.h"
#include "catalog/sdl_lexer.h"

namespace ormdb::catalog::sdl {

// ===========================================================================
// Declarations: the parse tree, before names are resolved
// ===========================================================================

struct Name {
  std::string text;
  SourcePos pos;
};

struct TypeExpr {
  Name name;                // the type or element type as written
  bool collection = false;  // [name]
  bool optional = false;    // name?
  SourcePos optional_pos;
};

enum class AttrKind : uint8_t {
  kUnique,
  kIndex,
  kDefault,
  kCheck,
  kOnDelete,
  kInverse,
  kMany,
  kEntityIndex,
  kEntityUnique,
  kEntityCheck,
  kAllow,     // @allow / @@allow
  kDeny,      // @deny / @@deny
  kMaintain,  // @maintain / @maintain(a, b) on an inverse collection
};

// What follows an attribute's name.
enum class ArgForm : uint8_t {
  kNone,
  kLiteral,           // @default(42)
  kExpression,        // @check(length(title) > 0): kept as text
  kWord,              // @on_delete(cascade)
  kNameList,          // @@index(a, b)
  kOptionalNameList,  // @maintain or @maintain(a, b)
};

struct AttrSpec {
  std::string_view name;  // without the '@' / '@@'
  AttrKind kind;
  ArgForm form;
};

inline constexpr AttrSpec kFieldAttrs[] = {
    {"unique", AttrKind::kUnique, ArgForm::kNone},
    {"index", AttrKind::kIndex, ArgForm::kNone},
    {"default", AttrKind::kDefault, ArgForm::kLiteral},
    {"check", AttrKind::kCheck, ArgForm::kExpression},
    {"on_delete", AttrKind::kOnDelete, ArgForm::kWord},
    {"inverse", AttrKind::kInverse, ArgForm::kWord},
    {"many", AttrKind::kMany, ArgForm::kWord},
    {"allow", AttrKind::kAllow, ArgForm::kExpression},
    {"deny", AttrKind::kDeny, ArgForm::kExpression},
    {"maintain", AttrKind::kMaintain, ArgForm::kOptionalNameList},
};
inline constexpr AttrSpec kEntityAttrs[] = {
    {"index", AttrKind::kEntityIndex, ArgForm::kNameList},
    {"unique", AttrKind::kEntityUnique, ArgForm::kNameList},
    {"check", AttrKind::kEntityCheck, ArgForm::kExpression},
    {"allow", AttrKind::kAllow, ArgForm::kExpression},
    {"deny", AttrKind::kDeny, ArgForm::kExpression},
};

struct OnDeleteSpec {
  std::string_view keyword;
  OnDelete action;
};
inline constexpr OnDeleteSpec kOnDeleteActions[] = {
    {"cascade", OnDelete::kCascade},
    {"restrict", OnDelete::kRestrict},
    {"set_null", OnDelete::kSetNull},
};

template <size_t N>
const AttrSpec* FindAttr(const AttrSpec (&specs)[N], std::string_view name) {
  for (const AttrSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

template <size_t N>
std::vector<std::string_view> AttrNames(const AttrSpec (&specs)[N]) {
  std::vector<std::string_view> names;
  for (const AttrSpec& spec : specs) names.push_back(spec.name);
  return names;
}

struct FieldAttr {
  const AttrSpec* spec = nullptr;
  SourcePos pos;        // of the '@'
  DefaultSpec literal;  // @default
  Name arg;             // @check: the expression; @on_delete/@inverse/@many: the word
  OnDelete on_delete = OnDelete::kRestrict;
  std::vector<Name> names;  // @maintain(a, b)

  std::string Written() const { return "@" + std::string(spec->name); }
};

struct MemberDecl {
  Name name;
  TypeExpr type;
  std::vector<FieldAttr> attrs;
};

struct EntityAttrDecl {
  const AttrSpec* spec = nullptr;
  SourcePos pos;             // of the '@@'
  std::vector<Name> fields;  // @@index / @@unique
  Name expr;                 // @@check, @@allow, @@deny
};

// Splits the text of @allow(...) / @@allow(...) (and deny) into its
// operations and condition (sdl_resolver.cc): "read, owner == auth.id",
// "[create, update], ...". Field rules take read, update or all.
Status ResolveRule(const Name& arg, bool allow, bool entity_level, const Diagnostics& diag,
                   PolicyRule* out);

struct EntityDecl {
  Name name;
  std::vector<MemberDecl> members;
  std::vector<EntityAttrDecl> attrs;
};

struct EnumDecl {
  Name name;
  std::vector<Name> values;
};

struct SchemaDecl {
  std::vector<EnumDecl> enums;
  std::vector<EntityDecl> entities;
};

// Parses `text` into declarations, syntax only (sdl_parser.cc).
// SCHEMA_ERROR at the first syntax error.
Status ParseDeclarations(std::string_view text, const Diagnostics& diag, SchemaDecl* out);

// Resolves the declarations into a Schema (sdl_resolver.cc): names, types,
// attributes, indexes and relations. SCHEMA_ERROR at the first problem.
Status ResolveDeclarations(const SchemaDecl& decl, const Diagnostics& diag, Schema* out);

}  // namespace ormdb::catalog::sdl
