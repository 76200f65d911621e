#include "catalog/sdl_printer.h"

#include "catalog/sdl_parser.h"

namespace ormdb::catalog {
namespace {

constexpr std::string_view kIndent = "  ";

// A JSON string literal: the schema language's strings use JSON escapes.
void AppendQuoted(std::string_view s, std::string* out) {
  constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default: {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20) {
          *out += "\\u00";
          out->push_back(kHex[byte >> 4]);
          out->push_back(kHex[byte & 0xF]);
        } else {
          out->push_back(c);
        }
      }
    }
  }
  out->push_back('"');
}

void AppendDefault(const DefaultSpec& d, std::string* out) {
  *out += " @default(";
  switch (d.kind) {
    case DefaultSpec::Kind::kNone:  // not called for kNone
    case DefaultSpec::Kind::kNull: *out += "null"; break;
    case DefaultSpec::Kind::kNow: *out += "now"; break;
    case DefaultSpec::Kind::kUuid: *out += "uuid"; break;
    case DefaultSpec::Kind::kBool: *out += d.text == "true" ? "true" : "false"; break;
    case DefaultSpec::Kind::kString: AppendQuoted(d.text, out); break;
    case DefaultSpec::Kind::kInt:
    case DefaultSpec::Kind::kFloat:
    case DefaultSpec::Kind::kIdent: *out += d.text; break;
  }
  *out += ')';
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
  if (f.default_value.kind != DefaultSpec::Kind::kNone) AppendDefault(f.default_value, out);
  if (!f.check.empty()) *out += " @check(" + f.check + ")";
  if (f.type == FieldType::kRef && f.on_delete_declared) {
    *out += " @on_delete(" + std::string(OnDeleteKeyword(f.on_delete)) + ")";
  }
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
  *out += '\n';
}

// True when the index is the one a field's @unique / @index declares (a field
// with both declares one unique index); those print with the field.
bool DeclaredByFieldAttribute(const Entity& e, const Index& index) {
  if (index.automatic || index.fields.size() != 1) return false;
  const Field* f = e.FindField(index.fields.front());
  if (f == nullptr) return false;
  return f->unique ? index.unique : (f->indexed && !index.unique);
}

void AppendEntity(const Entity& e, std::string* out) {
  *out += "entity " + e.name + " {\n";
  *out += kIndent;
  *out += e.uuid_id ? "id: uuid\n" : "id: id\n";
  for (const Field& f : e.fields) AppendField(f, out);
  for (const Collection& c : e.collections) AppendCollection(c, out);
  for (const Index& index : e.indexes) {
    if (index.automatic || DeclaredByFieldAttribute(e, index)) continue;
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
