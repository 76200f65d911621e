#include "catalog/sdl_printer.h"

#include <string_view>
#include <unordered_map>

#include "catalog/sdl_lexer.h"
#include "catalog/sdl_parser.h"

namespace ormdb::catalog {
namespace {

constexpr std::string_view kIndent = "  ";

// The literal inside @default(...).
std::string DefaultLiteral(const DefaultSpec& d) {
  switch (d.kind) {
    case DefaultSpec::Kind::kNow:
      return "now";
    case DefaultSpec::Kind::kUuid:
      return "uuid";
    case DefaultSpec::Kind::kBool:
      return d.text == "true" ? "true" : "false";
    case DefaultSpec::Kind::kString:
      return QuoteString(d.text);
    case DefaultSpec::Kind::kInt:
    case DefaultSpec::Kind::kFloat:
    case DefaultSpec::Kind::kIdent:
      return d.text;  // as written
    case DefaultSpec::Kind::kNone:
    case DefaultSpec::Kind::kNull:
      break;
  }
  return "null";
}

std::string TypeName(const Field& f) {
  if (f.type == FieldType::kEnum) return f.enum_name;
  if (f.type == FieldType::kRef) return f.target;
  return std::string(BuiltinTypeKeyword(f.type));
}

void AppendField(const Field& f, std::string* out) {
  *out += kIndent;
  *out += f.name + ": " + TypeName(f);
  if (f.optional) *out += '?';
  if (f.unique) *out += " @unique";
  if (f.indexed) *out += " @index";
  if (f.default_value.kind != DefaultSpec::Kind::kNone) {
    *out += " @default(" + DefaultLiteral(f.default_value) + ")";
  }
  if (!f.check.empty()) *out += " @check(" + f.check + ")";
  if (f.type == FieldType::kRef && f.on_delete_declared) {
    *out += " @on_delete(" + std::string(OnDeleteKeyword(f.on_delete)) + ")";
  }
  for (const PolicyRule& rule : f.rules) *out += " " + rule.Text(false);
  *out += '\n';
}

void AppendCollection(const Collection& c, std::string* out) {
  *out += kIndent;
  *out += c.name + ": [" + c.target + "]";
  if (c.kind == Collection::Kind::kInverse) {
    *out += " @inverse(" + c.inverse_field + ")";
  } else {
    *out += " @many(" + c.edge + ")";
  }
  if (c.maintained) {
    *out += " @maintain";
    if (!c.maintained_fields.empty()) *out += "(" + sdl::JoinNames(c.maintained_fields) + ")";
  }
  *out += '\n';
}

// True when the index is the one a field's @unique / @index declares (a field
// with both declares one unique index); those print with the field.
bool DeclaredByFieldAttribute(const std::unordered_map<std::string_view, const Field*>& fields,
                              const Index& index) {
  if (index.automatic || index.fields.size() != 1) return false;
  auto it = fields.find(index.fields.front());
  if (it == fields.end()) return false;
  const Field& f = *it->second;
  return f.unique ? index.unique : (f.indexed && !index.unique);
}

void AppendEntity(const Entity& e, std::string* out) {
  *out += "entity " + e.name + " {\n";
  *out += kIndent;
  *out += e.uuid_id ? "id: uuid\n" : "id: id\n";
  // By name, so that a huge entity does not print in quadratic time.
  std::unordered_map<std::string_view, const Field*> fields;
  for (const Field& f : e.fields) {
    fields.emplace(f.name, &f);
    AppendField(f, out);
  }
  for (const Collection& c : e.collections) AppendCollection(c, out);
  for (const Index& index : e.indexes) {
    if (index.automatic || DeclaredByFieldAttribute(fields, index)) continue;
    *out += kIndent;
    *out += index.unique ? "@@unique(" : "@@index(";
    for (size_t i = 0; i < index.fields.size(); ++i) {
      if (i > 0) *out += ", ";
      *out += index.fields[i];
    }
    *out += ")\n";
  }
  for (const std::string& check : e.checks) {
    *out += kIndent;
    *out += "@@check(" + check + ")\n";
  }
  for (const PolicyRule& rule : e.rules) {
    *out += kIndent;
    *out += rule.Text(true) + "\n";
  }
  *out += "}\n";
}

void AppendEnum(const Enum& e, std::string* out) {
  *out += "enum " + e.name + " {\n";
  for (const std::string& value : e.values) {
    *out += kIndent;
    *out += value + "\n";
  }
  *out += "}\n";
}

}  // namespace

std::string PrintSchema(const Schema& schema) {
  std::string out;
  for (const Enum& e : schema.enums) {
    if (!out.empty()) out += '\n';
    AppendEnum(e, &out);
  }
  for (const Entity& e : schema.entities) {
    if (!out.empty()) out += '\n';
    AppendEntity(e, &out);
  }
  return out;
}

}  // namespace ormdb::catalog
