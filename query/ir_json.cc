// The JSON IR of a fetch query (docs/reference/queries.md "JSON IR"): the
// writer (FetchToJson) and the reader (ParseFetchJson), which enforces the
// text parser's rules (query/parse_rules.h) and reports each problem at its
// JSON path ("root.where.args[1]: ...").
#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/like_pattern.h"
#include "query/parse_rules.h"
#include "query/parser.h"

namespace ormdb::query {
namespace {

using namespace parse_rules;

// ---------------------------------------------------------------------------
// JSON IR writer

constexpr std::string_view kInOps[] = {"in", "not_in"};
constexpr std::string_view kIsNullOps[] = {"is_null", "is_not_null"};

Json ExprToJson(const Expr& e) {
  Json out = Json::Object();
  auto args = [&e] {
    Json a = Json::Array();
    for (const auto& child : e.children) {
      if (child) a.Push(ExprToJson(*child));
    }
    return a;
  };
  switch (e.kind) {
    case Expr::Kind::kLiteral:
      out.Set("value", e.literal);
      break;
    case Expr::Kind::kParam:
      out.Set("param", e.name);
      break;
    case Expr::Kind::kPath:
      out.Set("path", JoinPath(e.path));
      break;
    case Expr::Kind::kCompare:
      out.Set("op", CompareOpText(e.op)).Set("args", args());
      break;
    case Expr::Kind::kIn: {
      Json list = Json::Array();
      for (const Json& element : e.list) {
        const Json* param = element.is_object() ? element.Find("$param") : nullptr;
        if (param) {
          list.Push(Json::Object().Set("param", *param));
        } else {
          list.Push(element);
        }
      }
      out.Set("op", kInOps[e.negated]).Set("args", args()).Set("list", std::move(list));
      break;
    }
    case Expr::Kind::kLike:
      out.Set("op", "like").Set("args", args());
      break;
    case Expr::Kind::kIsNull:
      out.Set("op", kIsNullOps[e.negated]).Set("args", args());
      break;
    case Expr::Kind::kAnd:
      out.Set("op", "and").Set("args", args());
      break;
    case Expr::Kind::kOr:
      out.Set("op", "or").Set("args", args());
      break;
    case Expr::Kind::kNot:
      out.Set("op", "not").Set("args", args());
      break;
    case Expr::Kind::kExists:  // rule conditions only; never in a query's IR
      out.Set("op", "exists").Set("path", JoinPath(e.path)).Set("args", args());
      break;
  }
  return out;
}

Json SelectionToJson(const Selection& sel, bool root) {
  Json out = Json::Object();
  out.Set(root ? "entity" : "include", sel.name);
  if (sel.where) out.Set("where", ExprToJson(*sel.where));
  if (!sel.order.empty()) {
    Json order = Json::Array();
    for (const OrderKey& key : sel.order) {
      order.Push(Json::Object().Set("path", JoinPath(key.path)).Set("desc", key.descending));
    }
    out.Set("order", std::move(order));
  }
  if (sel.limit) out.Set("limit", *sel.limit);
  if (sel.after) out.Set("after", *sel.after);
  if (root || !sel.children.empty()) {
    Json select = Json::Array();
    for (const Selection& child : sel.children) {
      if (child.aggregate) {
        const Aggregate& agg = *child.aggregate;
        Json a = Json::Object();
        a.Set("aggregate", AggregateFnName(agg.fn)).Set("name", child.name);
        a.Set("path", JoinPath(agg.path));
        if (agg.where) a.Set("where", ExprToJson(*agg.where));
        select.Push(std::move(a));
        continue;
      }
      select.Push(child.is_include ? SelectionToJson(child, false) : Json(child.name));
    }
    out.Set("select", std::move(select));
  }
  return out;
}

// ===========================================================================
// JSON IR reader
// ===========================================================================

constexpr std::string_view kExprMembers[] = {"op", "args", "list", "path", "value", "param"};
constexpr std::string_view kLeafMembers[] = {"path", "value", "param"};
constexpr std::string_view kOps[] = {"==",          "!=",  "<",      "<=",   ">",
                                     ">=",          "in",  "not_in", "like", "is_null",
                                     "is_not_null", "and", "or",     "not"};

std::string MemberPath(const std::string& path, std::string_view member) {
  return path.empty() ? std::string(member) : path + "." + std::string(member);
}

std::string IndexPath(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string JsonQuote(std::string_view s) { return QuoteForMessage(s, 40); }

class JsonReader {
 public:
  Status ReadQuery(const Json& ir, FetchQuery* out) {
    return ReadSelection(ir, "", /*root=*/true, 0, &out->root);
  }

 private:
  static Status Error(const std::string& path, std::string_view message) {
    return InvalidArgument((path.empty() ? std::string("query") : path) + ": " +
                           std::string(message));
  }
  static Status WrongType(const std::string& path, std::string_view expected, const Json& found) {
    return Error(path,
                 "expected " + std::string(expected) + ", found " + std::string(found.TypeName()));
  }
  // Every member of `object` must be one of `allowed`.
  static Status CheckMembers(const Json& object, const std::string& path,
                             const std::vector<std::string_view>& allowed);

  Status ReadSelection(const Json& j, const std::string& path, bool root, int depth,
                       Selection* out);
  Status ReadSelect(const Json& j, const std::string& path, int depth, Selection* out);
  Status ReadAggregate(const Json& j, const std::string& path, Selection* out);
  Status ReadName(const Json& j, const std::string& path, std::string* out);
  Status ReadPath(const Json& j, const std::string& path, bool in_predicate,
                  std::vector<std::string>* out);
  Status ReadOrder(const Json& j, const std::string& path, std::vector<OrderKey>* out);
  Status ReadPredicate(const Json& j, const std::string& path, int depth,
                       std::unique_ptr<Expr>* out);
  Status ReadOperand(const Json& j, const std::string& path, int depth, std::unique_ptr<Expr>* out);
  Status ReadLiteral(const Json& j, const std::string& path, Json* out);
  Status ReadArgs(const Json& object, const std::string& path, std::string_view op, size_t min,
                  size_t max, const Json** args);
};

Status JsonReader::CheckMembers(const Json& object, const std::string& path,
                                const std::vector<std::string_view>& allowed) {
  for (const auto& [key, value] : object.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    const std::string best = NearestName(key, allowed);
    return Error(path, "unknown member " + JsonQuote(key) +
                           (best.empty() ? "" : " (did you mean \"" + best + "\"?)"));
  }
  return Status::Ok();
}

Status JsonReader::ReadName(const Json& j, const std::string& path, std::string* out) {
  if (!j.is_string()) return WrongType(path, "a name (a string)", j);
  const std::string& s = j.as_string();
  if (s.size() > kMaxNameBytes) {
    return Error(path, "name " + JsonQuote(s) + " is " + std::to_string(s.size()) +
                           " bytes long; the limit is " + std::to_string(kMaxNameBytes));
  }
  if (!IsName(s)) {
    return Error(path,
                 "expected a name (letters, digits and '_', not starting with a digit), "
                 "found " +
                     JsonQuote(s));
  }
  *out = s;
  return Status::Ok();
}

Status JsonReader::ReadPath(const Json& j, const std::string& path, bool in_predicate,
                            std::vector<std::string>* out) {
  if (!j.is_string()) return WrongType(path, "a path (a string such as \"author.name\")", j);
  const std::string_view s = j.as_string();
  size_t begin = 0;
  while (true) {
    const size_t dot = std::min(s.find('.', begin), s.size());
    if (out->size() >= kMaxPathNames) {
      return Error(path, "a path has at most " + std::to_string(kMaxPathNames) + " names");
    }
    const std::string_view name = s.substr(begin, dot - begin);
    if (name.size() > kMaxNameBytes) {
      return Error(path, "name " + JsonQuote(name) + " is " + std::to_string(name.size()) +
                             " bytes long; the limit is " + std::to_string(kMaxNameBytes));
    }
    if (!IsName(name)) {
      return Error(path, "expected a path (names joined by '.'), found " + JsonQuote(s));
    }
    out->emplace_back(name);
    if (dot == s.size()) break;
    begin = dot + 1;
  }
  if (in_predicate && IsPredicateKeyword(out->front())) {
    return Error(path,
                 "a path in a predicate cannot start with the keyword " + JsonQuote(out->front()));
  }
  return Status::Ok();
}

Status JsonReader::ReadSelection(const Json& j, const std::string& path, bool root, int depth,
                                 Selection* out) {
  if (!j.is_object()) {
    return WrongType(path, root ? "an object" : "a field name (a string) or an include (an object)",
                     j);
  }
  const std::string_view name_key = root ? "entity" : "include";
  ORMDB_RETURN_IF_ERROR(
      CheckMembers(j, path, {name_key, "where", "order", "limit", "after", "select"}));
  const Json* name = j.Find(name_key);
  if (!name) return Error(path, "missing member \"" + std::string(name_key) + "\"");
  ORMDB_RETURN_IF_ERROR(ReadName(*name, MemberPath(path, name_key), &out->name));
  out->is_include = !root;
  if (const Json* where = j.Find("where")) {
    ORMDB_RETURN_IF_ERROR(ReadPredicate(*where, MemberPath(path, "where"), 1, &out->where));
  }
  if (const Json* order = j.Find("order")) {
    ORMDB_RETURN_IF_ERROR(ReadOrder(*order, MemberPath(path, "order"), &out->order));
  }
  if (const Json* limit = j.Find("limit")) {
    if (!limit->is_int() || limit->as_int() < 0) {
      return Error(MemberPath(path, "limit"),
                   "expected a non-negative integer, found " +
                       (limit->is_number() ? ToJson(*limit) : std::string(limit->TypeName())));
    }
    out->limit = limit->as_int();
  }
  if (const Json* after = j.Find("after")) {
    if (!after->is_string()) return WrongType(MemberPath(path, "after"), "a cursor string", *after);
    if (!IsValidUtf8(after->as_string())) {
      return Error(MemberPath(path, "after"), "string is not valid UTF-8");
    }
    out->after = after->as_string();
  }
  const Json* select = j.Find("select");
  if (select) {
    ORMDB_RETURN_IF_ERROR(ReadSelect(*select, MemberPath(path, "select"), depth, out));
  } else if (root) {
    return Error(path, "missing member \"select\"");
  } else if (!out->where && out->order.empty() && !out->limit && !out->after) {
    return Error(path,
                 "an include needs \"select\" or an argument (where, order, limit or after); "
                 "a field is written as a plain string");
  }
  return Status::Ok();
}

Status JsonReader::ReadAggregate(const Json& j, const std::string& path, Selection* out) {
  ORMDB_RETURN_IF_ERROR(CheckMembers(j, path, {"aggregate", "name", "path", "where"}));
  const Json* fn = j.Find("aggregate");
  const std::string fn_path = MemberPath(path, "aggregate");
  if (!fn->is_string()) return WrongType(fn_path, "an aggregate function name (a string)", *fn);
  const auto found = std::find(std::begin(kAggregateFns), std::end(kAggregateFns), fn->as_string());
  if (found == std::end(kAggregateFns)) {
    const std::vector<std::string_view> fns(std::begin(kAggregateFns), std::end(kAggregateFns));
    return Error(fn_path, "expected an aggregate (" + std::string(kAggregateFnList) + "), found " +
                              JsonQuote(fn->as_string()) + DidYouMean(fn->as_string(), fns));
  }
  Aggregate agg;
  agg.fn = static_cast<Aggregate::Fn>(found - std::begin(kAggregateFns));
  const Json* name = j.Find("name");
  if (!name) return Error(path, "missing member \"name\"");
  ORMDB_RETURN_IF_ERROR(ReadName(*name, MemberPath(path, "name"), &out->name));
  const Json* rel = j.Find("path");
  if (!rel) return Error(path, "missing member \"path\"");
  ORMDB_RETURN_IF_ERROR(ReadPath(*rel, MemberPath(path, "path"), false, &agg.path));
  if (agg.path.size() == 1 && agg.fn != Aggregate::Fn::kCount) {
    return Error(MemberPath(path, "path"), AggregateNeedsField(agg.fn, agg.path[0]));
  }
  if (const Json* where = j.Find("where")) {
    ORMDB_RETURN_IF_ERROR(ReadPredicate(*where, MemberPath(path, "where"), 1, &agg.where));
  }
  out->aggregate = std::move(agg);
  return Status::Ok();
}

Status JsonReader::ReadSelect(const Json& j, const std::string& path, int depth, Selection* out) {
  if (!j.is_array()) return WrongType(path, "an array of fields and includes", j);
  const Json::Elements& items = j.as_array();
  if (items.empty()) return Error(path, "expected at least one field or include, found []");
  if (items.size() > kMaxListLength) {
    return Error(path, "more than " + std::to_string(kMaxListLength) + " items in one selection");
  }
  std::unordered_map<std::string, size_t> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string item_path = IndexPath(path, i);
    Selection item;
    if (items[i].is_string()) {
      ORMDB_RETURN_IF_ERROR(ReadName(items[i], item_path, &item.name));
    } else {
      if (items[i].is_object() && depth + 1 > kMaxIncludeDepth) {
        return Error(item_path,
                     "includes nest deeper than " + std::to_string(kMaxIncludeDepth) + " levels");
      }
      if (items[i].is_object() && items[i].Find("aggregate")) {
        ORMDB_RETURN_IF_ERROR(ReadAggregate(items[i], item_path, &item));
      } else {
        ORMDB_RETURN_IF_ERROR(ReadSelection(items[i], item_path, false, depth + 1, &item));
      }
    }
    if (const auto [it, added] = seen.emplace(item.name, i); !added) {
      return Error(item_path, "duplicate selection " + JsonQuote(item.name) + " (first at " +
                                  IndexPath(path, it->second) + ")");
    }
    out->children.push_back(std::move(item));
  }
  return Status::Ok();
}

Status JsonReader::ReadOrder(const Json& j, const std::string& path, std::vector<OrderKey>* out) {
  if (!j.is_array()) return WrongType(path, "an array of order keys", j);
  const Json::Elements& keys = j.as_array();
  if (keys.empty()) return Error(path, "expected at least one order key, found []");
  if (keys.size() > kMaxListLength) {
    return Error(path, "more than " + std::to_string(kMaxListLength) + " keys in one order");
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string key_path = IndexPath(path, i);
    const Json& k = keys[i];
    if (!k.is_object())
      return WrongType(key_path, "an order key {\"path\": ..., \"desc\": ...}", k);
    ORMDB_RETURN_IF_ERROR(CheckMembers(k, key_path, {"path", "desc"}));
    OrderKey key;
    const Json* key_name = k.Find("path");
    if (!key_name) return Error(key_path, "missing member \"path\"");
    ORMDB_RETURN_IF_ERROR(ReadPath(*key_name, MemberPath(key_path, "path"), false, &key.path));
    if (const Json* desc = k.Find("desc")) {
      if (!desc->is_bool()) return WrongType(MemberPath(key_path, "desc"), "a boolean", *desc);
      key.descending = desc->as_bool();
    }
    out->push_back(std::move(key));
  }
  return Status::Ok();
}

Status JsonReader::ReadLiteral(const Json& j, const std::string& path, Json* out) {
  switch (j.kind()) {
    case Json::Kind::kDouble:
      if (!std::isfinite(j.as_double())) return Error(path, "expected a finite number");
      break;
    case Json::Kind::kString:
      if (!IsValidUtf8(j.as_string())) return Error(path, "string is not valid UTF-8");
      break;
    case Json::Kind::kArray:
    case Json::Kind::kObject:
      return WrongType(path, "a literal (null, a boolean, a number or a string)", j);
    default:
      break;
  }
  *out = j;
  return Status::Ok();
}

// The "args" of an operator node, with their count checked.
Status JsonReader::ReadArgs(const Json& object, const std::string& path, std::string_view op,
                            size_t min, size_t max, const Json** args) {
  const Json* a = object.Find("args");
  if (!a) return Error(path, "missing member \"args\"");
  if (!a->is_array()) return WrongType(MemberPath(path, "args"), "an array", *a);
  const size_t n = a->size();
  if (n < min || n > max) {
    std::string count = std::to_string(min);
    if (max == SIZE_MAX) {
      count += " or more";
    } else if (max != min) {
      count += " to " + std::to_string(max);
    }
    return Error(MemberPath(path, "args"), "expected " + count + " operands for \"" +
                                               std::string(op) + "\", found " + std::to_string(n));
  }
  if (n > kMaxListLength) {
    return Error(MemberPath(path, "args"), "more than " + std::to_string(kMaxListLength) +
                                               " operands of \"" + std::string(op) + "\"");
  }
  *args = a;
  return Status::Ok();
}

Status JsonReader::ReadPredicate(const Json& j, const std::string& path, int depth,
                                 std::unique_ptr<Expr>* out) {
  if (depth > kMaxExprDepth) {
    return Error(path, "expression nests deeper than " + std::to_string(kMaxExprDepth) + " levels");
  }
  if (!j.is_object()) return WrongType(path, "a predicate (an object with \"op\")", j);
  ORMDB_RETURN_IF_ERROR(CheckMembers(
      j, path, std::vector<std::string_view>(std::begin(kExprMembers), std::end(kExprMembers))));
  const Json* op_json = j.Find("op");
  if (!op_json) {
    return Error(path, "expected a predicate (an object with \"op\"), found an operand");
  }
  if (!op_json->is_string()) return WrongType(MemberPath(path, "op"), "an operator name", *op_json);
  const std::string& op = op_json->as_string();
  const auto known = std::find(std::begin(kOps), std::end(kOps), op);
  if (known == std::end(kOps)) {
    const std::string best =
        NearestName(op, std::vector<std::string_view>(std::begin(kOps), std::end(kOps)));
    return Error(MemberPath(path, "op"),
                 "unknown operator " + JsonQuote(op) +
                     (best.empty() ? "" : " (did you mean \"" + best + "\"?)"));
  }
  for (const std::string_view leaf : kLeafMembers) {
    if (j.Find(leaf)) {
      return Error(path, "unexpected member \"" + std::string(leaf) + "\" beside \"op\"");
    }
  }
  const bool is_in = op == "in" || op == "not_in";
  if (j.Find("list") && !is_in) {
    return Error(path, "member \"list\" belongs to \"in\" and \"not_in\" only");
  }
  const std::string args_path = MemberPath(path, "args");
  auto e = MakeExpr(Expr::Kind::kCompare, {});
  const Json* args = nullptr;
  if (op == "and" || op == "or") {
    e->kind = op == "and" ? Expr::Kind::kAnd : Expr::Kind::kOr;
    ORMDB_RETURN_IF_ERROR(ReadArgs(j, path, op, 2, SIZE_MAX, &args));
    for (size_t i = 0; i < args->size(); ++i) {
      std::unique_ptr<Expr> child;
      ORMDB_RETURN_IF_ERROR(
          ReadPredicate(args->as_array()[i], IndexPath(args_path, i), depth + 1, &child));
      // As in the text, a nested chain of the same operator joins this one.
      if (child->kind == e->kind) {
        for (auto& grandchild : child->children) e->children.push_back(std::move(grandchild));
      } else {
        e->children.push_back(std::move(child));
      }
    }
    if (e->children.size() > kMaxListLength) {
      return Error(args_path, "more than " + std::to_string(kMaxListLength) + " operands of \"" +
                                  op + "\" in one chain");
    }
  } else if (op == "not") {
    e->kind = Expr::Kind::kNot;
    ORMDB_RETURN_IF_ERROR(ReadArgs(j, path, op, 1, 1, &args));
    std::unique_ptr<Expr> child;
    ORMDB_RETURN_IF_ERROR(
        ReadPredicate(args->as_array()[0], IndexPath(args_path, 0), depth + 1, &child));
    e->children.push_back(std::move(child));
  } else {
    const bool binary = !is_in && op != "is_null" && op != "is_not_null";
    ORMDB_RETURN_IF_ERROR(ReadArgs(j, path, op, binary ? 2 : 1, binary ? 2 : 1, &args));
    for (size_t i = 0; i < args->size(); ++i) {
      std::unique_ptr<Expr> operand;
      ORMDB_RETURN_IF_ERROR(
          ReadOperand(args->as_array()[i], IndexPath(args_path, i), depth + 1, &operand));
      e->children.push_back(std::move(operand));
    }
    if (is_in) {
      e->kind = Expr::Kind::kIn;
      e->negated = op == "not_in";
      const Json* list = j.Find("list");
      const std::string list_path = MemberPath(path, "list");
      if (!list) return Error(path, "missing member \"list\"");
      if (!list->is_array()) return WrongType(list_path, "an array of values", *list);
      if (list->size() > kMaxListLength) {
        return Error(list_path,
                     "more than " + std::to_string(kMaxListLength) + " elements in one list");
      }
      for (size_t i = 0; i < list->size(); ++i) {
        const Json& element = list->as_array()[i];
        const std::string element_path = IndexPath(list_path, i);
        if (element.is_null()) return Error(element_path, kNullInListMessage);
        if (element.is_object()) {
          ORMDB_RETURN_IF_ERROR(CheckMembers(element, element_path, {"param"}));
          const Json* param = element.Find("param");
          if (!param) return Error(element_path, "missing member \"param\"");
          std::string name;
          ORMDB_RETURN_IF_ERROR(ReadName(*param, MemberPath(element_path, "param"), &name));
          e->list.push_back(ParamElement(std::move(name)));
          continue;
        }
        Json literal;
        if (element.is_array())
          return WrongType(element_path, "a value or {\"param\": name}", element);
        ORMDB_RETURN_IF_ERROR(ReadLiteral(element, element_path, &literal));
        e->list.push_back(std::move(literal));
      }
    } else if (op == "like") {
      e->kind = Expr::Kind::kLike;
      const Expr& pattern = *e->children[1];
      const std::string pattern_path = IndexPath(args_path, 1);
      if (pattern.kind == Expr::Kind::kPath ||
          (pattern.kind == Expr::Kind::kLiteral && !pattern.literal.is_string())) {
        return Error(pattern_path,
                     "expected a pattern ({\"value\": string} or {\"param\": name}), found " +
                         (pattern.kind == Expr::Kind::kPath
                              ? std::string("a path")
                              : "a value of type " + std::string(pattern.literal.TypeName())));
      }
      if (pattern.kind == Expr::Kind::kLiteral &&
          LikePattern::EndsInLoneEscape(pattern.literal.as_string())) {
        return Error(MemberPath(pattern_path, "value"), kLoneEscapeMessage);
      }
    } else if (op == "is_null" || op == "is_not_null") {
      e->kind = Expr::Kind::kIsNull;
      e->negated = op == "is_not_null";
    } else {
      e->kind = Expr::Kind::kCompare;
      e->op = static_cast<Expr::CompareOp>(known - std::begin(kOps));
      for (size_t i = 0; i < 2; ++i) {
        const Expr& side = *e->children[i];
        if (side.kind == Expr::Kind::kLiteral && side.literal.is_null()) {
          const std::string other = ExprToText(*e->children[1 - i]);
          return Error(MemberPath(IndexPath(args_path, i), "value"),
                       NullComparisonMessage(e->op, other));
        }
      }
    }
  }
  *out = std::move(e);
  return Status::Ok();
}

Status JsonReader::ReadOperand(const Json& j, const std::string& path, int depth,
                               std::unique_ptr<Expr>* out) {
  if (depth > kMaxExprDepth) {
    return Error(path, "expression nests deeper than " + std::to_string(kMaxExprDepth) + " levels");
  }
  constexpr std::string_view kExpected =
      "an operand ({\"path\": ...}, {\"value\": ...} or {\"param\": ...})";
  if (!j.is_object()) return WrongType(path, kExpected, j);
  ORMDB_RETURN_IF_ERROR(CheckMembers(
      j, path, std::vector<std::string_view>(std::begin(kExprMembers), std::end(kExprMembers))));
  if (const Json* op = j.Find("op")) {
    return Error(path, "expected " + std::string(kExpected) + ", found the operator " +
                           (op->is_string() ? JsonQuote(op->as_string()) : "\"op\""));
  }
  if (j.size() != 1) {
    return Error(path, "expected " + std::string(kExpected) + " with one member, found " +
                           std::to_string(j.size()) + " members");
  }
  const auto& [key, value] = j.as_object().front();
  const std::string value_path = MemberPath(path, key);
  if (key == "path") {
    *out = MakeExpr(Expr::Kind::kPath, {});
    return ReadPath(value, value_path, true, &(*out)->path);
  }
  if (key == "param") {
    *out = MakeExpr(Expr::Kind::kParam, {});
    return ReadName(value, value_path, &(*out)->name);
  }
  if (key == "value") {
    *out = MakeExpr(Expr::Kind::kLiteral, {});
    return ReadLiteral(value, value_path, &(*out)->literal);
  }
  return Error(path, "expected " + std::string(kExpected) + ", found member \"" + key + "\"");
}

}  // namespace

Result<FetchQuery> ParseFetchJson(const Json& ir) {
  FetchQuery query;
  JsonReader reader;
  ORMDB_RETURN_IF_ERROR(reader.ReadQuery(ir, &query));
  return query;
}

Json FetchToJson(const FetchQuery& query) { return SelectionToJson(query.root, /*root=*/true); }

}  // namespace ormdb::query
