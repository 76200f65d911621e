// The Python output: TypedDicts of the schema (rows, inserts, updates,
// conditions, selections, includes), Literal aliases of the enums, `META`
// (the relation names the runtime compiles with) and `Client`, whose
// members are the runtime's generic EntityClient bound to those types.
// Functional TypedDict syntax throughout: field names may be Python
// keywords, and results hold keys such as "posts@next".
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "codegen/codegen.h"
#include "query/parser.h"

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

std::string JoinQuoted(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + Quote(n);
  return out;
}

// The order keys of `e` through its references: "author", "author.name",
// ... down to `hops` references deep (deeper paths: asc("a.b.c.d")).
void OrderPaths(const Schema& schema, const Entity& e, const std::string& prefix, int hops,
                std::vector<std::string>* out) {
  for (const Field& f : e.fields) {
    if (f.type == FieldType::kJson) continue;  // json values have no order
    out->push_back(prefix + f.name);
    if (f.type != FieldType::kRef || hops == 0) continue;
    if (const Entity* t = schema.FindEntity(f.target)) {
      out->push_back(prefix + f.name + ".id");
      OrderPaths(schema, *t, prefix + f.name + ".", hops - 1, out);
    }
  }
}

bool IsNumber(const Field& f) {
  return f.type == FieldType::kInt32 || f.type == FieldType::kInt64 ||
         f.type == FieldType::kFloat64;
}

void EmitEntity(const Schema& schema, const Entity& e, std::string* out) {
  const std::string& n = e.name;
  const std::string id = e.uuid_id ? "str" : "int";
  std::vector<std::string> row{Item("id", id), Item("_version", "int")};
  std::vector<std::string> insert{Item("id", "NotRequired[" + id + "]")};
  std::vector<std::string> update;
  std::vector<std::string> where{
      Item("id", "Union[" + id + ", " + (e.uuid_id ? "StrFilter" : "IntFilter") + "]")};
  // An include's condition: the same names, values typed, operators a
  // plain mapping. mypy 1.0 takes about a minute per dict literal checked
  // against a selection whose includes hold the filter TypedDicts.
  std::vector<std::string> include_where{
      Item("id", "Union[" + id + ", Param[" + id + "], Mapping[str, Any]]")};
  std::vector<std::string> order{Item("id", "Direction")};
  {
    std::vector<std::string> paths;
    OrderPaths(schema, e, "", 2, &paths);
    for (const std::string& path : paths) order.push_back(Item(path, "Direction"));
  }
  std::vector<std::string> select{Item("id", "bool"), Item("_version", "bool")};
  std::vector<std::string> links, all_paths, field_paths, number_paths;
  std::set<std::string> targets;
  for (const Field& f : e.fields) {
    std::string in = Optional(InputType(schema, f), f.optional);
    bool may_omit = f.optional || f.default_value.kind != catalog::DefaultSpec::Kind::kNone;
    insert.push_back(Item(f.name, may_omit ? "NotRequired[" + in + "]" : in));
    update.push_back(Item(f.name, in));
    std::string value = OutputType(schema, f);
    std::string filter = "Union[" + value + ", Param[" + value + "]" +
                         (f.optional ? ", None, " : ", ") + FilterType(schema, f);
    if (f.type == FieldType::kRef) {
      row.push_back(
          Item(f.name, Optional("Union[" + value + ", " + Quote(f.target) + "]", f.optional)));
      // A condition on the referenced row is a plain Mapping: mypy 1.0 takes
      // minutes on dict literals checked against recursive TypedDicts.
      where.push_back(Item(f.name, filter + ", Mapping[str, Any]]"));
      include_where.push_back(Item(f.name, "Union[" + value + ", Param[" + value + "]" +
                                               (f.optional ? ", None" : "") +
                                               ", Mapping[str, Any]]"));
      select.push_back(Item(f.name, "Union[bool, " + Quote(f.target + "One") + "]"));
    } else {
      if (f.type == FieldType::kTimestamp) {
        filter = "Union[TimestampIn, Param[TimestampIn]" +
                 std::string(f.optional ? ", None, " : ", ") + "TimestampFilter";
      }
      row.push_back(Item(f.name, Optional(value, f.optional)));
      where.push_back(Item(f.name, filter + "]"));
      const std::string in_value = f.type == FieldType::kTimestamp ? "TimestampIn" : value;
      include_where.push_back(Item(f.name, "Union[" + in_value + ", Param[" + in_value + "]" +
                                               (f.optional ? ", None" : "") +
                                               ", Mapping[str, Any]]"));
      select.push_back(Item(f.name, "bool"));
    }
  }
  for (const Collection& c : e.collections) {
    row.push_back(Item(c.name, "List[" + Quote(c.target) + "]"));
    row.push_back(Item(c.name + "@next", "Optional[str]"));
    select.push_back(Item(c.name, "Union[bool, " + Quote(c.target + "Include") + "]"));
    if (c.kind == Collection::Kind::kMany) links.push_back(Quote(c.name));
    // The aggregates over this relation: its paths per function.
    all_paths.push_back(c.name);
    if (const Entity* t = schema.FindEntity(c.target)) {
      for (const Field& f : t->fields) {
        field_paths.push_back(c.name + "." + f.name);
        if (IsNumber(f)) number_paths.push_back(c.name + "." + f.name);
      }
    }
    targets.insert(c.target);
  }
  for (auto* w : {&where, &include_where}) {
    w->push_back(Item("AND", "Sequence[Mapping[str, Any]]"));
    w->push_back(Item("OR", "Sequence[Mapping[str, Any]]"));
    w->push_back(Item("NOT", "Mapping[str, Any]"));
  }

  out->append("# " + n + "\n");
  out->append(TypedDict(n, row, false));
  out->append(TypedDict(n + "Insert", insert, true));
  out->append(TypedDict(n + "Update", update, false));
  out->append(TypedDict(n + "Where", where, false));
  out->append(TypedDict(n + "IncludeWhere", include_where, false));
  out->append(TypedDict(n + "Order", order, false));
  out->append(TypedDict(n + "Select", select, false));
  out->append(TypedDict(n + "One", {Item("select", Quote(n + "Select"))}, true));
  // One TypedDict for the aggregates over every relation: mypy 1.0 does not
  // pick a member of a union of TypedDicts for a dict literal. The
  // condition is typed when the relations all lead to one entity.
  all_paths.insert(all_paths.end(), field_paths.begin(), field_paths.end());
  std::vector<std::string> agg;
  auto add = [&agg](const char* kind, const std::vector<std::string>& paths) {
    if (!paths.empty()) agg.push_back(Item(kind, "Literal[" + JoinQuoted(paths) + "]"));
  };
  add("count", all_paths);
  add("count_distinct", field_paths);
  add("sum", number_paths);
  add("avg", number_paths);
  add("min", field_paths);
  add("max", field_paths);
  if (!targets.empty()) {
    agg.push_back(Item("where", targets.size() == 1 ? Quote(*targets.begin() + "Where")
                                                    : std::string("Mapping[str, Any]")));
  }
  out->append(TypedDict(n + "Aggregate", agg, false));
  out->append(
      TypedDict(n + "Include",
                {Item("where", Quote(n + "IncludeWhere")),
                 Item("order_by", "Union[" + Quote(n + "Order") + ", OrderKey, Sequence[Union[" +
                                      Quote(n + "Order") + ", OrderKey]]]"),
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

// ---- named queries (`--queries FILE`) ----

using query::Expr;
using query::Selection;

// The entity and field a path ends at, from `entity` through references;
// field null for `id`. Null entity when the path does not resolve (the
// queries were checked, so only for a caller's bug).
struct PathEnd {
  const Entity* entity = nullptr;
  const Field* field = nullptr;
};
PathEnd Resolve(const Schema& schema, const Entity* entity, const std::vector<std::string>& path) {
  PathEnd end{entity, nullptr};
  for (size_t i = 0; i < path.size() && end.entity != nullptr; ++i) {
    if (path[i] == "id" && i + 1 == path.size()) return end;
    const Field* f = end.entity->FindField(path[i]);
    if (f == nullptr) return PathEnd{};
    if (i + 1 == path.size()) {
      end.field = f;
      return end;
    }
    if (f->type != FieldType::kRef) return PathEnd{};
    end.entity = schema.FindEntity(f->target);
  }
  return end;
}

// The Python type of a parameter compared with the value at `end`.
std::string ParamType(const Schema& schema, const PathEnd& end) {
  if (end.field == nullptr) return end.entity->uuid_id ? "str" : "int";
  if (end.field->type == FieldType::kRef) return IdType(schema, end.field->target);
  return InputType(schema, *end.field);
}

struct ParamInfo {
  std::string name, type;
  query::QueryPos pos;
};

class QueryEmitter {
 public:
  QueryEmitter(const Schema& schema, std::string_view file_name)
      : schema_(schema), file_name_(file_name) {}

  Status CollectParams(const Selection& sel, const Entity* entity) {
    if (sel.where) ORMDB_RETURN_IF_ERROR(CollectExpr(*sel.where, entity));
    for (const Selection& child : sel.children) {
      if (child.aggregate) {
        const Entity* target = ManyTarget(entity, child.aggregate->path[0]);
        if (child.aggregate->where && target != nullptr) {
          ORMDB_RETURN_IF_ERROR(CollectExpr(*child.aggregate->where, target));
        }
      } else if (child.is_include) {
        const Entity* target = IncludeTarget(entity, child.name);
        if (target != nullptr) ORMDB_RETURN_IF_ERROR(CollectParams(child, target));
      }
    }
    return Status::Ok();
  }

  // Appends the TypedDict `name` of the rows of `sel` (nested ones first).
  void EmitRow(const Selection& sel, const Entity* entity, const std::string& name,
               std::string* out) {
    std::vector<std::string> items{Item("id", entity->uuid_id ? "str" : "int")};
    for (const Selection& child : sel.children) {
      if (child.name == "id" && !child.is_include && !child.aggregate) continue;
      if (child.aggregate) {
        items.push_back(Item(child.name, AggregateType(entity, *child.aggregate)));
      } else if (child.is_include) {
        const std::string nested = name + "_" + child.name;
        const Entity* target = IncludeTarget(entity, child.name);
        if (target == nullptr) continue;
        EmitRow(child, target, nested, out);
        const Field* ref = entity->FindField(child.name);
        if (ref != nullptr) {
          items.push_back(Item(child.name, Optional(nested, ref->optional)));
        } else {
          items.push_back(Item(child.name, "List[" + nested + "]"));
          if (child.limit) items.push_back(Item(child.name + "@next", "Optional[str]"));
        }
      } else if (child.name == "_version") {
        items.push_back(Item(child.name, "int"));
      } else if (const Field* f = entity->FindField(child.name)) {
        items.push_back(Item(child.name, Optional(OutputType(schema_, *f), f->optional)));
      }
    }
    *out += TypedDict(name, items, true);
  }

  const std::vector<ParamInfo>& params() const { return params_; }

  // The paths of the to-many includes of `sel` that have a limit.
  void LimitedIncludes(const Selection& sel, const Entity* entity,
                       const std::vector<std::string>& prefix,
                       std::vector<std::vector<std::string>>* out) const {
    for (const Selection& child : sel.children) {
      if (!child.is_include || child.aggregate) continue;
      const Entity* target = IncludeTarget(entity, child.name);
      if (target == nullptr) continue;
      std::vector<std::string> path = prefix;
      path.push_back(child.name);
      if (child.limit && entity->FindField(child.name) == nullptr) out->push_back(path);
      LimitedIncludes(child, target, path, out);
    }
  }

  const Entity* IncludeTarget(const Entity* entity, const std::string& name) const {
    if (const Field* f = entity->FindField(name); f != nullptr && f->type == FieldType::kRef) {
      return schema_.FindEntity(f->target);
    }
    return ManyTarget(entity, name);
  }

 private:
  const Entity* ManyTarget(const Entity* entity, const std::string& name) const {
    for (const Collection& c : entity->collections) {
      if (c.name == name) return schema_.FindEntity(c.target);
    }
    return nullptr;
  }

  std::string AggregateType(const Entity* entity, const query::Aggregate& agg) {
    using Fn = query::Aggregate::Fn;
    if (agg.fn == Fn::kCount || agg.fn == Fn::kCountDistinct) return "int";
    if (agg.fn == Fn::kAvg) return "Optional[float]";
    const Entity* target = ManyTarget(entity, agg.path[0]);
    PathEnd end =
        Resolve(schema_, target, std::vector<std::string>(agg.path.begin() + 1, agg.path.end()));
    if (end.entity == nullptr) return "Any";
    if (end.field == nullptr) return end.entity->uuid_id ? "Optional[str]" : "Optional[int]";
    return "Optional[" + OutputType(schema_, *end.field) + "]";
  }

  Status Use(const std::string& name, const std::string& type, const query::QueryPos& pos) {
    for (const ParamInfo& p : params_) {
      if (p.name != name) continue;
      if (p.type == type) return Status::Ok();
      return InvalidArgument(At(pos) + "$" + name + " is compared with a " + type +
                             " value here and with a " + p.type + " value at line " +
                             std::to_string(p.pos.line) + ": use two parameters");
    }
    params_.push_back(ParamInfo{name, type, pos});
    return Status::Ok();
  }

  Status CollectExpr(const Expr& e, const Entity* entity) {
    switch (e.kind) {
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr:
      case Expr::Kind::kNot:
        for (const auto& child : e.children) {
          if (child) ORMDB_RETURN_IF_ERROR(CollectExpr(*child, entity));
        }
        return Status::Ok();
      case Expr::Kind::kCompare: {
        const Expr& a = *e.children[0];
        const Expr& b = *e.children[1];
        for (const auto& [p, other] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
          if (p->kind != Expr::Kind::kParam) continue;
          if (other->kind != Expr::Kind::kPath) {
            return InvalidArgument(At(p->pos) + "$" + p->name +
                                   " is not compared with a field: its type cannot be told");
          }
          PathEnd end = Resolve(schema_, entity, other->path);
          if (end.entity == nullptr) return InvalidArgument(At(p->pos) + "unresolved path");
          ORMDB_RETURN_IF_ERROR(Use(p->name, ParamType(schema_, end), p->pos));
        }
        return Status::Ok();
      }
      case Expr::Kind::kIn: {
        PathEnd end = Resolve(schema_, entity, e.children[0]->path);
        for (const Json& element : e.list) {
          const Json* param = element.is_object() ? element.Find("$param") : nullptr;
          if (param == nullptr) continue;
          if (end.entity == nullptr) {
            return InvalidArgument(At(e.pos) + "$" + param->as_string() +
                                   " is not compared with a field: its type cannot be told");
          }
          ORMDB_RETURN_IF_ERROR(Use(param->as_string(), ParamType(schema_, end), e.pos));
        }
        return Status::Ok();
      }
      case Expr::Kind::kLike:
        if (e.children[1]->kind == Expr::Kind::kParam) {
          return Use(e.children[1]->name, "str", e.children[1]->pos);
        }
        return Status::Ok();
      default:
        return Status::Ok();
    }
  }

  std::string At(const query::QueryPos& pos) const {
    return std::string(file_name_) + ":" + std::to_string(pos.line) + ":" +
           std::to_string(pos.column) + ": ";
  }

  const Schema& schema_;
  std::string_view file_name_;
  std::vector<ParamInfo> params_;
};

// "user_page" -> "UserPage".
std::string CamelCase(std::string_view name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    upper = false;
  }
  return out;
}

// A Python string literal of `s` (double-quoted, escapes for \, " and
// control characters).
std::string PyString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

bool IsPythonKeyword(std::string_view name) {
  static constexpr std::string_view kKeywords[] = {
      "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
      "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
      "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
      "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield"};
  for (std::string_view k : kKeywords) {
    if (k == name) return true;
  }
  return false;
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
    const std::string v = "Union[" + en.name + ", Param[" + en.name + "]]";
    for (const char* op : {"eq", "ne", "lt", "lte", "gt", "gte"}) filter.push_back(Item(op, v));
    filter.push_back(Item("in", "Sequence[" + v + "]"));
    filter.push_back(Item("not_in", "Sequence[" + v + "]"));
    filter.push_back(Item("like", "StrV"));
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

Result<std::string> GeneratePythonQueries(const catalog::CompiledSchema& compiled,
                                          const std::vector<NamedQuery>& queries,
                                          std::string_view file_name) {
  const Schema& schema = compiled.schema();
  std::string out = "\n\n# ---- named queries (from " + std::string(file_name) + ") ----\n";
  for (const NamedQuery& q : queries) {
    const Selection& root = q.fetch.root;
    const Entity* entity = schema.FindEntity(root.name);
    if (entity == nullptr) return InvalidArgument("unknown entity " + root.name);
    QueryEmitter emitter(schema, file_name);
    ORMDB_RETURN_IF_ERROR(emitter.CollectParams(root, entity));
    const std::string at = std::string(file_name) + ":" + std::to_string(q.line) + ": ";
    if (IsPythonKeyword(q.name)) {
      return InvalidArgument(at + "query '" + q.name +
                             "': a Python keyword cannot name a function");
    }
    std::string args;
    std::string bind;
    for (const ParamInfo& p : emitter.params()) {
      if (IsPythonKeyword(p.name) || p.name == "db" || p.name == "after") {
        return InvalidArgument(at + "query '" + q.name + "': $" + p.name +
                               " cannot be a Python argument (a keyword, or db or after): "
                               "rename it");
      }
      args += ", " + p.name + ": " + p.type;
      bind += (bind.empty() ? "" : ", ") + Quote(p.name) + ": " + p.name;
    }
    if (root.limit) args += ", after: Optional[str] = None";
    // A limited to-many include takes its cursor ("posts@next") as
    // posts_after (posts_comments_after a level deeper).
    std::vector<std::vector<std::string>> cursors;
    emitter.LimitedIncludes(root, entity, {}, &cursors);
    std::string include_after;
    for (const auto& path : cursors) {
      std::string arg, dotted;
      for (const std::string& name : path) {
        arg += name + "_";
        dotted += (dotted.empty() ? "" : ".") + name;
      }
      arg += "after";
      for (const ParamInfo& p : emitter.params()) {
        if (p.name == arg) {
          return InvalidArgument(at + "query '" + q.name + "': $" + p.name +
                                 " is the name of the cursor argument of " + dotted +
                                 ": rename it");
        }
      }
      args += ", " + arg + ": Optional[str] = None";
      include_after += (include_after.empty() ? "" : ", ") + Quote(dotted) + ": " + arg;
    }
    const std::string row = CamelCase(q.name) + "Row";
    out += "\n";
    emitter.EmitRow(root, entity, row, &out);
    out += "_QUERY_" + q.name + ": Dict[str, Any] = json.loads(" +
           PyString(ToJson(query::FetchToJson(q.fetch))) + ")\n\n\n";
    out += "def " + q.name + "(db: Union[ormdb.Database, \"Client\"], *" + args + ") -> Page[" +
           row + "]:\n";
    out += "    \"\"\"" + std::string(file_name) + ":" + std::to_string(q.line) + ": the rows of " +
           root.name + " with exactly the selected fields (" + row + ").\"\"\"\n";
    out += "    return run_named(db, _QUERY_" + q.name + ", {" + bind + "}, " +
           (root.limit ? "after" : "None") +
           (include_after.empty() ? "" : ", {" + include_after + "}") + ")\n\n";
  }
  return out;
}

}  // namespace ormdb::codegen
