// The schema language's resolver, first half: the type namespace, enums,
// entities, fields and their attributes and defaults. Collections, indexes
// and relations are in sdl_relations.cc.
#include "catalog/sdl_resolver.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace ormdb::catalog::sdl {
namespace {

// Every entity has it in queries (DESIGN.md §9): a field may not take it.
constexpr std::string_view kVersionPseudoField = "_version";
// Words that @default(...) reads as something other than an enum value.
constexpr std::string_view kReservedEnumValues[] = {"true", "false", "null", "now", "uuid"};

// Type names of other languages, for "did you mean" when edit distance
// finds nothing: `int` is not a typo of `int64`, but it means it.
struct TypeAlias {
  std::string_view alias;
  std::string_view keyword;
};
constexpr TypeAlias kTypeAliases[] = {
    {"int", "int64"},      {"integer", "int64"},  {"long", "int64"},   {"bigint", "int64"},
    {"float", "float64"},  {"double", "float64"}, {"real", "float64"}, {"text", "string"},
    {"str", "string"},     {"varchar", "string"}, {"boolean", "bool"}, {"datetime", "timestamp"},
    {"date", "timestamp"}, {"blob", "bytes"},     {"binary", "bytes"}, {"object", "json"},
};

// " (did you mean 'int64'?)" for a known alias (any case), else "".
std::string AliasHint(std::string_view name) {
  for (const TypeAlias& a : kTypeAliases) {
    if (a.alias.size() == name.size() &&
        std::equal(name.begin(), name.end(), a.alias.begin(), [](char x, char y) {
          return (x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x) == y;
        })) {
      return " (did you mean '" + std::string(a.keyword) + "'?)";
    }
  }
  return "";
}

}  // namespace

const BuiltinType* FindBuiltin(std::string_view name) {
  for (const BuiltinType& b : kBuiltinTypes) {
    if (b.keyword == name) return &b;
  }
  return nullptr;
}

namespace {

// "a string field", "an enum field (Status)", "a reference to User".
std::string KindOf(const Field& f) {
  switch (f.type) {
    case FieldType::kEnum:
      return "an enum field (" + f.enum_name + ")";
    case FieldType::kRef:
      return "a reference to " + f.target;
    case FieldType::kInt32:
    case FieldType::kInt64:
      return "an " + std::string(BuiltinTypeKeyword(f.type)) + " field";
    default:
      return "a " + std::string(BuiltinTypeKeyword(f.type)) + " field";
  }
}

// "Post.title, a string field".
std::string DescribeField(std::string_view entity, const Field& f) {
  return Qualified(entity, f.name) + ", " + KindOf(f);
}

}  // namespace

// "Post.title is a string field".
std::string FieldIsA(std::string_view entity, const Field& f) {
  return Qualified(entity, f.name) + " is " + KindOf(f);
}

namespace {

// Types whose default may be written as a string.
bool TakesStringDefault(FieldType type) {
  switch (type) {
    case FieldType::kString:
    case FieldType::kBytes:
    case FieldType::kJson:
    case FieldType::kTimestamp:
    case FieldType::kUuid:
    case FieldType::kEnum:
      return true;
    default:
      return false;
  }
}

// The type as written in the schema: "int32", "Status", "User".
std::string TypeText(const Field& f) {
  if (f.type == FieldType::kEnum) return f.enum_name;
  if (f.type == FieldType::kRef) return f.target;
  return std::string(BuiltinTypeKeyword(f.type));
}

}  // namespace

Status Resolver::Resolve(Schema* out) {
  ORMDB_RETURN_IF_ERROR(DeclareTypes());
  for (const EnumDecl& e : decl_.enums) {
    ORMDB_RETURN_IF_ERROR(CheckEnumValues(e));
    Enum resolved;
    resolved.name = e.name.text;
    resolved.pos = e.name.pos;
    for (const Name& v : e.values) resolved.values.push_back(v.text);
    out->enums.push_back(std::move(resolved));
  }
  members_.resize(decl_.entities.size());
  out->entities.resize(decl_.entities.size());
  for (size_t i = 0; i < decl_.entities.size(); ++i) {
    ORMDB_RETURN_IF_ERROR(ResolveEntity(decl_.entities[i], &out->entities[i]));
  }
  ORMDB_RETURN_IF_ERROR(CheckInverses(*out));
  return BuildEdges(out);
}

// Enums and entities share one namespace, which excludes the builtin types.
Status Resolver::DeclareTypes() {
  struct Declaration {
    const Name* name;
    bool is_enum;
  };
  std::vector<Declaration> in_order;
  for (const EnumDecl& e : decl_.enums) in_order.push_back({&e.name, true});
  for (const EntityDecl& e : decl_.entities) in_order.push_back({&e.name, false});
  std::stable_sort(in_order.begin(), in_order.end(),
                   [](const Declaration& a, const Declaration& b) {
                     return std::pair(a.name->pos.line, a.name->pos.column) <
                            std::pair(b.name->pos.line, b.name->pos.column);
                   });
  std::unordered_map<std::string_view, Declaration> seen;
  for (const Declaration& d : in_order) {
    const std::string kind = d.is_enum ? "enum" : "entity";
    if (FindBuiltin(d.name->text) != nullptr || d.name->text == kIdType) {
      return diag_.At(d.name->pos, Quote(d.name->text) + " is a builtin type; it cannot name " +
                                       (d.is_enum ? "an enum" : "an entity"));
    }
    auto [it, inserted] = seen.emplace(d.name->text, d);
    if (!inserted) {
      const Declaration& first = it->second;
      if (first.is_enum == d.is_enum) {
        return diag_.At(d.name->pos, "duplicate " + kind + " " + Quote(d.name->text) +
                                         " (first declared at " + FormatPos(first.name->pos) + ")");
      }
      return diag_.At(d.name->pos, kind + " " + Quote(d.name->text) + " has the same name as the " +
                                       (first.is_enum ? "enum" : "entity") + " declared at " +
                                       FormatPos(first.name->pos));
    }
  }
  for (const EnumDecl& e : decl_.enums) enums_.emplace(e.name.text, &e);
  for (size_t i = 0; i < decl_.entities.size(); ++i) {
    entities_.emplace(decl_.entities[i].name.text, i);
  }
  return Status::Ok();
}

Status Resolver::CheckEnumValues(const EnumDecl& decl) {
  if (decl.values.empty()) {
    return diag_.At(decl.name.pos, "enum " + decl.name.text + " has no values");
  }
  std::unordered_map<std::string_view, SourcePos> seen;
  for (const Name& v : decl.values) {
    for (std::string_view reserved : kReservedEnumValues) {
      if (v.text == reserved) {
        return diag_.At(v.pos, Quote(v.text) + " cannot be an enum value: @default(" + v.text +
                                   ") already means something else");
      }
    }
    auto [it, inserted] = seen.emplace(v.text, v.pos);
    if (!inserted) {
      return diag_.At(v.pos, "duplicate value " + Quote(v.text) + " in enum " + decl.name.text +
                                 " (first declared at " + FormatPos(it->second) + ")");
    }
  }
  return Status::Ok();
}

std::vector<std::string_view> Resolver::FieldNames(const EntityDecl& decl) const {
  std::vector<std::string_view> names;
  for (const MemberDecl& m : decl.members) {
    if (!m.type.collection && m.name.text != kIdMember) names.push_back(m.name.text);
  }
  return names;
}

std::vector<std::string_view> Resolver::EntityNames() const {
  std::vector<std::string_view> names;
  for (const EntityDecl& e : decl_.entities) names.push_back(e.name.text);
  return names;
}

Status Resolver::ResolveEntity(const EntityDecl& decl, Entity* out) {
  out->name = decl.name.text;
  out->pos = decl.name.pos;
  MemberIndex& index = members_[&decl - decl_.entities.data()];
  std::unordered_map<std::string_view, SourcePos> names;
  std::vector<SourcePos> field_index_pos;  // per field: its first @unique/@index
  bool has_id = false;
  for (const MemberDecl& m : decl.members) {
    auto [it, inserted] = names.emplace(m.name.text, m.name.pos);
    if (!inserted) {
      return diag_.At(m.name.pos, "duplicate field " + Quote(m.name.text) + " in entity " +
                                      decl.name.text + " (first declared at " +
                                      FormatPos(it->second) + ")");
    }
    if (m.name.text == kIdMember) {
      ORMDB_RETURN_IF_ERROR(ResolveIdMember(m, out));
      has_id = true;
    } else if (m.name.text == kVersionPseudoField) {
      return diag_.At(m.name.pos, Quote(kVersionPseudoField) +
                                      " is reserved: every entity has it (the version of a row's "
                                      "last change)");
    } else if (m.type.collection) {
      Collection c;
      SourcePos arg_pos;
      ORMDB_RETURN_IF_ERROR(ResolveCollection(decl, m, &c, &arg_pos));
      index.collections.emplace(m.name.text, out->collections.size());
      index.relation_arg_pos.push_back(arg_pos);
      out->collections.push_back(std::move(c));
    } else {
      Field f;
      SourcePos index_pos;
      ORMDB_RETURN_IF_ERROR(ResolveField(decl, m, &f, &index_pos));
      index.fields.emplace(m.name.text, out->fields.size());
      field_index_pos.push_back(index_pos);
      out->fields.push_back(std::move(f));
    }
  }
  if (!has_id) {
    return diag_.At(decl.name.pos, "entity " + decl.name.text +
                                       " has no 'id' member: add 'id: id' (assigned by the "
                                       "database) or 'id: uuid'");
  }
  ORMDB_RETURN_IF_ERROR(BuildIndexes(decl, field_index_pos, out));
  for (const EntityAttrDecl& attr : decl.attrs) {
    if (attr.spec->kind == AttrKind::kAllow || attr.spec->kind == AttrKind::kDeny) {
      PolicyRule rule;
      ORMDB_RETURN_IF_ERROR(
          ResolveRule(attr.expr, attr.spec->kind == AttrKind::kAllow, true, diag_, &rule));
      rule.pos = attr.pos;
      out->rules.push_back(std::move(rule));
      continue;
    }
    if (attr.spec->kind != AttrKind::kEntityCheck) continue;
    out->checks.push_back(attr.expr.text);
    out->check_positions.push_back(attr.expr.pos);
  }
  return Status::Ok();
}

Status Resolver::ResolveIdMember(const MemberDecl& member, Entity* out) {
  const TypeExpr& type = member.type;
  if (type.collection || (type.name.text != kIdType && type.name.text != "uuid")) {
    const std::string written = type.collection ? "[" + type.name.text + "]" : type.name.text;
    return diag_.At(type.name.pos,
                    "the 'id' member must have type 'id' or 'uuid', found " + Quote(written));
  }
  if (type.optional) return diag_.At(type.optional_pos, "the 'id' member cannot be optional");
  if (!member.attrs.empty()) {
    return diag_.At(member.attrs.front().pos, "the 'id' member takes no attributes, found '" +
                                                  member.attrs.front().Written() + "'");
  }
  out->uuid_id = type.name.text == "uuid";
  return Status::Ok();
}

Status Resolver::ResolveField(const EntityDecl& entity, const MemberDecl& member, Field* out,
                              SourcePos* index_pos) {
  out->name = member.name.text;
  out->pos = member.name.pos;
  out->optional = member.type.optional;
  ORMDB_RETURN_IF_ERROR(ResolveFieldType(member, out));
  for (const FieldAttr& attr : member.attrs) {
    ORMDB_RETURN_IF_ERROR(ApplyFieldAttribute(entity, attr, out, index_pos));
  }
  return Status::Ok();
}

Status Resolver::ResolveFieldType(const MemberDecl& member, Field* out) {
  const Name& type = member.type.name;
  if (type.text == kIdType) {
    return diag_.At(type.pos,
                    "type 'id' is only for the 'id' member; a reference to another entity is "
                    "written as the entity's name, e.g. 'owner: User'");
  }
  if (const BuiltinType* builtin = FindBuiltin(type.text)) {
    out->type = builtin->type;
  } else if (enums_.count(type.text) != 0) {
    out->type = FieldType::kEnum;
    out->enum_name = type.text;
  } else if (entities_.count(type.text) != 0) {
    out->type = FieldType::kRef;
    out->target = type.text;
  } else {
    std::vector<std::string_view> candidates;
    for (const BuiltinType& b : kBuiltinTypes) candidates.push_back(b.keyword);
    for (const EnumDecl& e : decl_.enums) candidates.push_back(e.name.text);
    for (const EntityDecl& e : decl_.entities) candidates.push_back(e.name.text);
    std::string hint = DidYouMean(type.text, candidates);
    if (hint.empty()) hint = AliasHint(type.text);
    return diag_.At(type.pos, "unknown type " + Quote(type.text) + hint);
  }
  return Status::Ok();
}

Status Resolver::ApplyFieldAttribute(const EntityDecl& entity, const FieldAttr& attr, Field* out,
                                     SourcePos* index_pos) {
  const std::string& entity_name = entity.name.text;
  switch (attr.spec->kind) {
    case AttrKind::kUnique:
    case AttrKind::kIndex:
      (attr.spec->kind == AttrKind::kUnique ? out->unique : out->indexed) = true;
      if (index_pos->line == 0) *index_pos = attr.pos;
      return Status::Ok();
    case AttrKind::kDefault:
      if (out->type == FieldType::kRef) {
        return diag_.At(attr.pos, "@default does not apply to " + DescribeField(entity_name, *out));
      }
      ORMDB_RETURN_IF_ERROR(CheckDefault(entity, *out, attr.literal));
      out->default_value = attr.literal;
      return Status::Ok();
    case AttrKind::kCheck:
      out->check = attr.arg.text;
      out->check_pos = attr.arg.pos;
      return Status::Ok();
    case AttrKind::kOnDelete:
      if (out->type != FieldType::kRef) {
        return diag_.At(attr.pos, "@on_delete applies to reference fields only; " +
                                      FieldIsA(entity_name, *out));
      }
      if (attr.on_delete == OnDelete::kSetNull && !out->optional) {
        return diag_.At(attr.arg.pos, "@on_delete(set_null) needs an optional reference: declare " +
                                          Qualified(entity_name, out->name) + " as '" +
                                          out->target + "?'");
      }
      out->on_delete = attr.on_delete;
      out->on_delete_declared = true;
      return Status::Ok();
    case AttrKind::kInverse:
    case AttrKind::kMany:
    case AttrKind::kMaintain:
      return diag_.At(attr.pos, attr.Written() + " applies to collections ('[Entity]') only; " +
                                    FieldIsA(entity_name, *out));
    case AttrKind::kAllow:
    case AttrKind::kDeny: {
      PolicyRule rule;
      ORMDB_RETURN_IF_ERROR(
          ResolveRule(attr.arg, attr.spec->kind == AttrKind::kAllow, false, diag_, &rule));
      rule.pos = attr.pos;
      out->rules.push_back(std::move(rule));
      return Status::Ok();
    }
    case AttrKind::kEntityIndex:
    case AttrKind::kEntityUnique:
    case AttrKind::kEntityCheck:
      break;  // never on a field: the parser reads '@@' attributes as members
  }
  return Status::Ok();
}

namespace {

// The position `offset` bytes into a text that starts at `start`.
SourcePos Advanced(SourcePos start, std::string_view text, size_t offset) {
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++start.line;
      start.column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++start.column;
    }
  }
  return start;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

Status ResolveRule(const Name& arg, bool allow, bool entity_level, const Diagnostics& diag,
                   PolicyRule* out) {
  const std::string_view text = arg.text;
  const std::string written = std::string(entity_level ? "@@" : "@") + (allow ? "allow" : "deny");
  static constexpr std::pair<std::string_view, uint8_t> kOps[] = {{"read", kPolicyRead},
                                                                  {"create", kPolicyCreate},
                                                                  {"update", kPolicyUpdate},
                                                                  {"delete", kPolicyDelete},
                                                                  {"all", kPolicyAll}};
  const std::string_view expected = entity_level
                                        ? "read, create, update, delete, all or a list of them"
                                        : "read, update or all (a field rule)";
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && IsSpace(text[i])) ++i;
  };
  auto word = [&](uint8_t* bits) -> Status {
    skip_space();
    size_t start = i;
    while (i < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) {
      ++i;
    }
    std::string_view w = text.substr(start, i - start);
    for (const auto& [name, bit] : kOps) {
      if (name == w &&
          (entity_level || (bit & (kPolicyCreate | kPolicyDelete)) == 0 || bit == kPolicyAll)) {
        *bits |= bit;
        return Status::Ok();
      }
    }
    std::vector<std::string_view> names;
    for (const auto& [name, bit] : kOps) names.push_back(name);
    std::string hint = w.empty() ? "" : DidYouMean(std::string(w), names);
    return diag.At(Advanced(arg.pos, text, start),
                   "expected an operation in " + written + "(...): " + std::string(expected) +
                       (w.empty() ? "" : ", found " + Quote(std::string(w))) + hint);
  };
  uint8_t bits = 0;
  skip_space();
  if (i < text.size() && text[i] == '[') {
    ++i;
    while (true) {
      ORMDB_RETURN_IF_ERROR(word(&bits));
      skip_space();
      if (i < text.size() && text[i] == ']') {
        ++i;
        break;
      }
      if (i >= text.size() || text[i] != ',') {
        return diag.At(Advanced(arg.pos, text, i),
                       "expected ',' or ']' in the operations of " + written + "(...)");
      }
      ++i;
    }
  } else {
    ORMDB_RETURN_IF_ERROR(word(&bits));
  }
  skip_space();
  if (i >= text.size() || text[i] != ',') {
    return diag.At(Advanced(arg.pos, text, i),
                   "expected ',' and a condition after the operations of " + written +
                       "(...), as in " + written + "(read, owner == auth.id)");
  }
  ++i;
  skip_space();
  size_t end = text.size();
  while (end > i && IsSpace(text[end - 1])) --end;
  if (end == i)
    return diag.At(Advanced(arg.pos, text, i), "empty condition in " + written + "(...)");
  out->allow = allow;
  out->ops = bits;
  out->condition = std::string(text.substr(i, end - i));
  out->condition_pos = Advanced(arg.pos, text, i);
  return Status::Ok();
}

// Mirrors what the catalog can convert (ConvertDefault), so that a schema
// that parses is not refused later for a literal's kind.
Status Resolver::CheckDefault(const EntityDecl& entity, const Field& field,
                              const DefaultSpec& spec) {
  const std::string described = DescribeField(entity.name.text, field);
  const std::string is_a = FieldIsA(entity.name.text, field);
  auto does_not_fit = [&](std::string_view literal_kind) {
    return diag_.At(spec.pos,
                    "a " + std::string(literal_kind) + " default does not fit " + described);
  };
  const FieldType type = field.type;
  switch (spec.kind) {
    case DefaultSpec::Kind::kNone:
      return Status::Ok();
    case DefaultSpec::Kind::kNow:
      if (type == FieldType::kTimestamp) return Status::Ok();
      return diag_.At(spec.pos, "@default(now) needs a timestamp field; " + is_a);
    case DefaultSpec::Kind::kUuid:
      if (type == FieldType::kUuid) return Status::Ok();
      return diag_.At(spec.pos, "@default(uuid) needs a uuid field; " + is_a);
    case DefaultSpec::Kind::kNull:
      if (field.optional) return Status::Ok();
      return diag_.At(spec.pos, "@default(null) needs an optional field: declare " +
                                    Qualified(entity.name.text, field.name) + " as '" +
                                    TypeText(field) + "?'");
    case DefaultSpec::Kind::kBool:
      if (type == FieldType::kBool) return Status::Ok();
      return does_not_fit("bool");
    case DefaultSpec::Kind::kInt:
      return CheckIntegerDefault(entity, field, spec);
    case DefaultSpec::Kind::kFloat: {
      if (type != FieldType::kFloat64) return does_not_fit("float");
      double value = 0;
      const char* end = spec.text.data() + spec.text.size();
      auto [ptr, ec] = std::from_chars(spec.text.data(), end, value);
      if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
        return diag_.At(spec.pos,
                        "default " + Shorten(spec.text) + " is out of range for " + described);
      }
      return Status::Ok();
    }
    case DefaultSpec::Kind::kString:
      if (!TakesStringDefault(type)) return does_not_fit("string");
      if (type != FieldType::kEnum) return Status::Ok();
      [[fallthrough]];  // an enum's string default must name a value, as a bare name does
    case DefaultSpec::Kind::kIdent: {
      if (type != FieldType::kEnum) {
        std::string hint;
        if (TakesStringDefault(type)) hint = " (write \"" + Shorten(spec.text) + "\" for a string)";
        return diag_.At(spec.pos, "a bare name is a default for enum fields only; " + is_a + hint);
      }
      const EnumDecl& e = *enums_.at(field.enum_name);
      std::vector<std::string_view> values;
      for (const Name& v : e.values) {
        if (v.text == spec.text) return Status::Ok();
        values.push_back(v.text);
      }
      // A string default is shown as a string: it may hold anything, even a line break.
      const std::string shown = spec.kind == DefaultSpec::Kind::kString
                                    ? QuoteString(Shorten(spec.text))
                                    : Quote(spec.text);
      return diag_.At(spec.pos, shown + " is not a value of enum " + e.name.text +
                                    DidYouMean(spec.text, values));
    }
  }
  return Status::Ok();
}

Status Resolver::CheckIntegerDefault(const EntityDecl& entity, const Field& field,
                                     const DefaultSpec& spec) {
  const std::string described = DescribeField(entity.name.text, field);
  switch (field.type) {
    case FieldType::kInt32:
    case FieldType::kInt64:
    case FieldType::kFloat64:
    case FieldType::kTimestamp:
      break;
    default:
      return diag_.At(spec.pos, "an integer default does not fit " + described);
  }
  int64_t value = 0;
  const char* end = spec.text.data() + spec.text.size();
  auto [ptr, ec] = std::from_chars(spec.text.data(), end, value);
  const bool fits =
      ec == std::errc() && ptr == end &&
      (field.type != FieldType::kInt32 || (value >= std::numeric_limits<int32_t>::min() &&
                                           value <= std::numeric_limits<int32_t>::max()));
  if (!fits) {
    return diag_.At(spec.pos,
                    "default " + Shorten(spec.text) + " is out of range for " + described);
  }
  return Status::Ok();
}

Status ResolveDeclarations(const SchemaDecl& decl, const Diagnostics& diag, Schema* out) {
  return Resolver(decl, diag).Resolve(out);
}

}  // namespace ormdb::catalog::sdl

namespace ormdb::catalog {

std::string_view BuiltinTypeKeyword(FieldType type) {
  for (const sdl::BuiltinType& b : sdl::kBuiltinTypes) {
    if (b.type == type) return b.keyword;
  }
  assert(false && "BuiltinTypeKeyword: an enum or reference type has no keyword");
  return "";
}

}  // namespace ormdb::catalog
