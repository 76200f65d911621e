// The TypeScript output: the schema's types (entity rows, inserts,
// updates, enums), the `Model` type the runtime's mapped and conditional
// types read, and `META`, the relation names the runtime compiles with.
#include <string>

#include "codegen/codegen.h"

namespace ormdb::codegen {
namespace {

using catalog::Collection;
using catalog::Entity;
using catalog::Field;
using catalog::FieldType;
using catalog::Schema;

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The type of an entity's ids: a number (`id: id`, an int64) or a string
// (`id: uuid`).
std::string IdType(const Schema& schema, std::string_view entity) {
  const Entity* e = schema.FindEntity(entity);
  return e != nullptr && e->uuid_id ? "string" : "number";
}

// A field's value as results give it (docs/reference/json.md), without null.
std::string OutputType(const Schema& schema, const Field& f) {
  switch (f.type) {
    case FieldType::kBool:
      return "boolean";
    case FieldType::kInt32:
    case FieldType::kInt64:
    case FieldType::kFloat64:
      return "number";
    case FieldType::kString:
    case FieldType::kBytes:      // base64
    case FieldType::kTimestamp:  // RFC 3339, UTC
    case FieldType::kUuid:
      return "string";
    case FieldType::kJson:
      return "Json";
    case FieldType::kEnum:
      return f.enum_name;
    case FieldType::kRef:
      return IdType(schema, f.target);
  }
  return "unknown";
}

// A field's value as mutations and conditions take it, without null.
std::string InputType(const Schema& schema, const Field& f) {
  if (f.type == FieldType::kTimestamp) return "string | number | Date";
  if (f.type == FieldType::kRef) return IdType(schema, f.target) + " | Ref";
  return OutputType(schema, f);
}

std::string Nullable(std::string type, bool optional) { return optional ? type + " | null" : type; }

bool HasDefault(const Field& f) {
  return f.default_value.kind != catalog::DefaultSpec::Kind::kNone;
}

void Line(std::string* out, std::string_view indent, std::string_view text) {
  out->append(indent);
  out->append(text);
  out->push_back('\n');
}

void EmitEntityTypes(const Schema& schema, const Entity& e, std::string* out) {
  const std::string id = e.uuid_id ? "string" : "number";
  Line(out, "", "/** A " + e.name + " row with every stored field (references as ids). */");
  Line(out, "", "export interface " + e.name + " {");
  Line(out, "  ", "id: " + id + ";");
  for (const Field& f : e.fields) {
    Line(out, "  ", f.name + ": " + Nullable(OutputType(schema, f), f.optional) + ";");
  }
  Line(out, "", "}");
  Line(out, "",
       "/** The values of a " + e.name +
           " insert: optional fields and fields with a default may be left out. */");
  Line(out, "", "export interface " + e.name + "Insert {");
  Line(out, "  ", "id?: " + id + ";");
  for (const Field& f : e.fields) {
    std::string opt = f.optional || HasDefault(f) ? "?" : "";
    Line(out, "  ", f.name + opt + ": " + Nullable(InputType(schema, f), f.optional) + ";");
  }
  Line(out, "", "}");
  Line(out, "", "/** The fields a " + e.name + " update may set. */");
  Line(out, "", "export interface " + e.name + "Update {");
  for (const Field& f : e.fields) {
    Line(out, "  ", f.name + "?: " + Nullable(InputType(schema, f), f.optional) + ";");
  }
  Line(out, "", "}");
  out->push_back('\n');
}

void EmitModel(const Schema& schema, const Entity& e, std::string* out) {
  Line(out, "  ", e.name + ": {");
  Line(out, "    ", std::string("id: ") + (e.uuid_id ? "string" : "number") + ";");
  std::string scalars, inputs, refs, many, links, unique;
  for (const Field& f : e.fields) {
    if (f.type == FieldType::kRef) {
      refs += " " + f.name + ": { target: " + Quote(f.target) +
              "; value: " + Nullable(IdType(schema, f.target), f.optional) + " };";
      continue;
    }
    scalars += " " + f.name + ": " + Nullable(OutputType(schema, f), f.optional) + ";";
    inputs += " " + f.name + ": " + Nullable(InputType(schema, f), f.optional) + ";";
  }
  for (const Collection& c : e.collections) {
    many += " " + c.name + ": " + Quote(c.target) + ";";
    if (c.kind == Collection::Kind::kMany) links += " " + c.name + ": " + Quote(c.target) + ";";
  }
  for (const catalog::Index& ix : e.indexes) {
    if (!ix.unique) continue;
    std::string key;
    for (const std::string& name : ix.fields) {
      const Field* f = e.FindField(name);
      if (f != nullptr) key += " " + name + ": " + InputType(schema, *f) + ";";
    }
    unique += (unique.empty() ? "" : " | ") + std::string("{") + key + " }";
  }
  Line(out, "    ", "scalars: {" + scalars + " };");
  Line(out, "    ", "inputs: {" + inputs + " };");
  Line(out, "    ", "refs: {" + refs + " };");
  Line(out, "    ", "many: {" + many + " };");
  Line(out, "    ", "links: {" + links + " };");
  Line(out, "    ", "insert: " + e.name + "Insert;");
  Line(out, "    ", "update: " + e.name + "Update;");
  Line(out, "    ", "unique: " + (unique.empty() ? std::string("never") : unique) + ";");
  Line(out, "  ", "};");
}

}  // namespace

std::string GenerateTypeScript(const catalog::CompiledSchema& compiled,
                               std::string_view source_name) {
  const Schema& schema = compiled.schema();
  std::string out;
  Line(&out, "",
       "// Generated by `ormdb codegen ts " + std::string(source_name) +
           "`: the typed client of this schema.");
  Line(&out, "", "// Do not edit: run the command again after a schema change.");
  Line(&out, "", "// The API and the type mapping: docs/reference/codegen.md.");
  out.push_back('\n');
  for (const catalog::Enum& en : schema.enums) {
    std::string values, list;
    for (const std::string& v : en.values) {
      values += (values.empty() ? "" : " | ") + Quote(v);
      list += (list.empty() ? "" : ", ") + Quote(v);
    }
    Line(&out, "", "export type " + en.name + " = " + (values.empty() ? "never" : values) + ";");
    Line(&out, "", "export const " + en.name + "Values = [" + list + "] as const;");
  }
  if (!schema.enums.empty()) out.push_back('\n');
  for (const Entity& e : schema.entities) EmitEntityTypes(schema, e, &out);

  Line(&out, "", "/** The schema as types: what the runtime's mapped types read. */");
  Line(&out, "", "export interface Model {");
  for (const Entity& e : schema.entities) EmitModel(schema, e, &out);
  Line(&out, "", "}");
  out.push_back('\n');
  Line(&out, "", "/** The relations by name, for compiling to the JSON IR. */");
  Line(&out, "",
       "export const META: { readonly [E in keyof Model]: { refs: { [name: string]: keyof Model };"
       " many: { [name: string]: keyof Model } } } = {");
  for (const Entity& e : schema.entities) {
    std::string refs, many;
    for (const Field& f : e.fields) {
      if (f.type == FieldType::kRef) refs += " " + f.name + ": " + Quote(f.target) + ",";
    }
    for (const Collection& c : e.collections) many += " " + c.name + ": " + Quote(c.target) + ",";
    Line(&out, "  ", e.name + ": { refs: {" + refs + " }, many: {" + many + " } },");
  }
  Line(&out, "", "};");
  out.push_back('\n');
  out.append(TypeScriptRuntime());
  return out;
}

}  // namespace ormdb::codegen
