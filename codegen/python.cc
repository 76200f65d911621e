// The Python output: TypedDicts of the schema (rows, inserts, updates,
// conditions, selections, includes), Literal aliases of the enums, `META`
// (the relation names the runtime compiles with) and `Client`, whose
// members are the runtime's generic EntityClient bound to those types.
// Functional TypedDict syntax throughout: field names may be Python
// keywords, and results hold keys such as "posts@next".
#include <string>
#include <vector>

#include "codegen/codegen.h"

namespace ormdb::codegen {
namespace {

using catalog::Collection;
using catalog::Entity;
using catalog::Field;
using catalog::FieldType;
using catalog::Schema;

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string IdType(const Schema& schema, std::string_view entity) {
  const Entity* e = schema.FindEntity(entity);
  return e != nullptr && e->uuid_id ? "str" : "int";
}

// A field's value as results give it (docs/reference/json.md), without None.
std::string OutputType(const Schema& schema, const Field& f) {
  switch (f.type) {
    case FieldType::kBool:
      return "bool";
    case FieldType::kInt32:
    case FieldType::kInt64:
      return "int";
    case FieldType::kFloat64:
      return "float";
    case FieldType::kString:
    case FieldType::kBytes:      // base64
    case FieldType::kTimestamp:  // RFC 3339, UTC
    case FieldType::kUuid:
      return "str";
    case FieldType::kJson:
      return "JsonValue";
    case FieldType::kEnum:
      return f.enum_name;
    case FieldType::kRef:
      return IdType(schema, f.target);
  }
  return "Any";
}

// A field's value as mutations and conditions take it, without None.
std::string InputType(const Schema& schema, const Field& f) {
  switch (f.type) {
    case FieldType::kTimestamp:
      return "TimestampIn";
    case FieldType::kBytes:
      return "Union[str, bytes]";
    case FieldType::kRef:
      return "Union[" + IdType(schema, f.target) + ", Ref]";
    default:
      return OutputType(schema, f);
  }
}

std::string FilterType(const Schema& schema, const Field& f) {
  switch (f.type) {
    case FieldType::kBool:
      return "BoolFilter";
    case FieldType::kInt32:
    case FieldType::kInt64:
      return "IntFilter";
    case FieldType::kFloat64:
      return "FloatFilter";
    case FieldType::kTimestamp:
      return "TimestampFilter";
    case FieldType::kJson:
      return "JsonFilter";
    case FieldType::kEnum:
      return f.enum_name + "Filter";
    case FieldType::kRef:
      return IdType(schema, f.target) == "int" ? "IntFilter" : "StrFilter";
    default:
      return "StrFilter";
  }
}

std::string Optional(const std::string& type, bool optional) {
  return optional ? "Optional[" + type + "]" : type;
}

// NAME = TypedDict("NAME", {items}, total=...)
std::string TypedDict(const std::string& name, const std::vector<std::string>& items, bool total) {
  std::string out = name + " = TypedDict(" + Quote(name) + ", {";
  for (const std::string& item : items) out += "\n    " + item + ",";
  out += items.empty() ? "}" : "\n}";
  out += total ? ")\n" : ", total=False)\n";
  return out;
}

std::string Item(std::string_view key, const std::string& type) { return Quote(key) + ": " + type; }

void EmitEntity(const Schema& schema, const Entity& e, std::string* out) {
  const std::string& n = e.name;
  const std::string id = e.uuid_id ? "str" : "int";
  std::vector<std::string> row{Item("id", id), Item("_version", "int")};
  std::vector<std::string> insert{Item("id", "NotRequired[" + id + "]")};
  std::vector<std::string> update;
  std::vector<std::string> where{
      Item("id", "Union[" + id + ", " + (e.uuid_id ? "StrFilter" : "IntFilter") + "]")};
  std::vector<std::string> order{Item("id", "Direction")};
  std::vector<std::string> select{Item("id", "bool"), Item("_version", "bool")};
  std::vector<std::string> agg_paths, links;
  for (const Field& f : e.fields) {
    std::string in = Optional(InputType(schema, f), f.optional);
    bool may_omit = f.optional || f.default_value.kind != catalog::DefaultSpec::Kind::kNone;
    insert.push_back(Item(f.name, may_omit ? "NotRequired[" + in + "]" : in));
    update.push_back(Item(f.name, in));
    order.push_back(Item(f.name, "Direction"));
    std::string value = OutputType(schema, f);
    std::string filter =
        "Union[" + value + (f.optional ? ", None, " : ", ") + FilterType(schema, f);
    if (f.type == FieldType::kRef) {
      row.push_back(
          Item(f.name, Optional("Union[" + value + ", " + Quote(f.target) + "]", f.optional)));
      // A condition on the referenced row is a plain Mapping: mypy 1.0 takes
      // minutes on dict literals checked against recursive TypedDicts.
      where.push_back(Item(f.name, filter + ", Mapping[str, Any]]"));
      select.push_back(Item(f.name, "Union[bool, " + Quote(f.target + "One") + "]"));
    } else {
      if (f.type == FieldType::kTimestamp) {
        filter =
            "Union[TimestampIn" + std::string(f.optional ? ", None, " : ", ") + "TimestampFilter";
      }
      row.push_back(Item(f.name, Optional(value, f.optional)));
      where.push_back(Item(f.name, filter + "]"));
      select.push_back(Item(f.name, "bool"));
    }
  }
  for (const Collection& c : e.collections) {
    row.push_back(Item(c.name, "List[" + Quote(c.target) + "]"));
    row.push_back(Item(c.name + "@next", "Optional[str]"));
    select.push_back(Item(c.name, "Union[bool, " + Quote(c.target + "Include") + "]"));
    agg_paths.push_back(Quote(c.name));
    if (const Entity* t = schema.FindEntity(c.target)) {
      for (const Field& f : t->fields) agg_paths.push_back(Quote(c.name + "." + f.name));
    }
    if (c.kind == Collection::Kind::kMany) links.push_back(Quote(c.name));
  }
  where.push_back(Item("AND", "Sequence[Mapping[str, Any]]"));
  where.push_back(Item("OR", "Sequence[Mapping[str, Any]]"));
  where.push_back(Item("NOT", "Mapping[str, Any]"));

  out->append("# " + n + "\n");
  out->append(TypedDict(n, row, false));
  out->append(TypedDict(n + "Insert", insert, true));
  out->append(TypedDict(n + "Update", update, false));
  out->append(TypedDict(n + "Where", where, false));
  out->append(TypedDict(n + "Order", order, false));
  out->append(TypedDict(n + "Select", select, false));
  out->append(TypedDict(n + "One", {Item("select", Quote(n + "Select"))}, true));
  std::string paths;
  for (const std::string& p : agg_paths) paths += (paths.empty() ? "" : ", ") + p;
  out->append(n + "AggPath = " + (paths.empty() ? "Never" : "Literal[" + paths + "]") + "\n");
  std::vector<std::string> agg;
  for (const char* kind : {"count", "count_distinct", "sum", "avg", "min", "max"}) {
    agg.push_back(Item(kind, n + "AggPath"));
  }
  out->append(TypedDict(n + "Aggregate", agg, false));
  out->append(TypedDict(
      n + "Include",
      {Item("where", Quote(n + "Where")),
       Item("order_by", "Union[" + Quote(n + "Order") + ", Sequence[" + Quote(n + "Order") + "]]"),
       Item("limit", "int"), Item("after", "str"), Item("select", Quote(n + "Select")),
       Item("aggregate", "Mapping[str, " + Quote(n + "Aggregate") + "]")},
      false));
  std::vector<std::string> uniques;
  for (const catalog::Index& ix : e.indexes) {
    if (!ix.unique) continue;
    std::vector<std::string> key;
    for (const std::string& name : ix.fields) {
      if (const Field* f = e.FindField(name)) key.push_back(Item(name, InputType(schema, *f)));
    }
    std::string name = n + "Unique" + std::to_string(uniques.size() + 1);
    out->append(TypedDict(name, key, true));
    uniques.push_back(name);
  }
  std::string unique;
  for (const std::string& u : uniques) unique += (unique.empty() ? "" : ", ") + u;
  out->append(n + "Unique = " +
              (uniques.empty()       ? std::string("Never")
               : uniques.size() == 1 ? unique
                                     : "Union[" + unique + "]") +
              "\n");
  std::string link;
  for (const std::string& l : links) link += (link.empty() ? "" : ", ") + l;
  out->append(n + "Link = " + (links.empty() ? "Never" : "Literal[" + link + "]") + "\n\n");
}

}  // namespace

std::string GeneratePython(const catalog::CompiledSchema& compiled, std::string_view source_name) {
  const Schema& schema = compiled.schema();
  std::string out;
  out += "\"\"\"Generated by `ormdb codegen python " + std::string(source_name) +
         "`: the typed client of this schema.\n\n"
         "Do not edit: run the command again after a schema change.\n"
         "The API and the type mapping: docs/reference/codegen.md.\n\"\"\"\n\n";
  out.append(PythonRuntime());
  out += "\n\n# ---- the schema ----\n\n";
  for (const catalog::Enum& en : schema.enums) {
    std::string values;
    for (const std::string& v : en.values) values += (values.empty() ? "" : ", ") + Quote(v);
    out += en.name + " = " + (values.empty() ? "Never" : "Literal[" + values + "]") + "\n";
    std::vector<std::string> filter;
    for (const char* op : {"eq", "ne", "lt", "lte", "gt", "gte"})
      filter.push_back(Item(op, en.name));
    filter.push_back(Item("in", "Sequence[" + en.name + "]"));
    filter.push_back(Item("not_in", "Sequence[" + en.name + "]"));
    filter.push_back(Item("like", "str"));
    filter.push_back(Item("is_null", "bool"));
    out += TypedDict(en.name + "Filter", filter, false) + "\n";
  }
  for (const Entity& e : schema.entities) EmitEntity(schema, e, &out);

  out += "# The relations by name, for compiling to the JSON IR.\n";
  out += "META: Dict[str, Dict[str, Dict[str, str]]] = {\n";
  for (const Entity& e : schema.entities) {
    std::string refs, many;
    for (const Field& f : e.fields) {
      if (f.type == FieldType::kRef) {
        refs += (refs.empty() ? "" : ", ") + Quote(f.name) + ": " + Quote(f.target);
      }
    }
    for (const Collection& c : e.collections) {
      many += (many.empty() ? "" : ", ") + Quote(c.name) + ": " + Quote(c.target);
    }
    out += "    " + Quote(e.name) + ": {\"refs\": {" + refs + "}, \"many\": {" + many + "}},\n";
  }
  out += "}\n\n\n";
  out +=
      "class Client:\n"
      "    \"\"\"The typed client over an ormdb.Database (ormdb.open or ormdb.connect).\"\"\"\n\n"
      "    def __init__(self, db: ormdb.Database) -> None:\n"
      "        self.db = db\n";
  for (const Entity& e : schema.entities) {
    const std::string& n = e.name;
    out += "        self." + n + " = EntityClient[" + n + ", " + n + "Select, " + n + "Where, " +
           n + "Order, " + n + "Aggregate, " + n + "Insert, " + n + "Update, " + n + "Unique, " +
           n + "Link, " + (e.uuid_id ? "str" : "int") + "](db, " + Quote(n) + ")\n";
  }
  out +=
      "\n"
      "    def batch(self, ops: Sequence[Op]) -> MutationResult:\n"
      "        \"\"\"Applies ops (from ``db.Post.insert_op(...)``, ...) as one transaction.\"\"\"\n"
      "        return self.db.mutate(list(ops))\n";
  return out;
}

}  // namespace ormdb::codegen
