// Access policies: parsing and checking rule conditions, folding them for a
// principal (reads), and evaluating them on one row (writes, change
// streams). query/policy.h describes the rules.
#include "query/policy.h"

#include <algorithm>

#include "catalog/sdl_printer.h"
#include "common/lexer.h"
#include "common/suggest.h"
#include "query/compiler.h"
#include "query/parse_rules.h"
#include "query/text_parser.h"
#include "storage/key_encoding.h"

namespace ormdb::query {
namespace {

using catalog::PolicyRule;

class RuleParser : public text_parser::TextParser {
 public:
  explicit RuleParser(std::string_view text) : TextParser(text) { allow_auth_ = true; }

  Result<std::unique_ptr<Expr>> Run() {
    ORMDB_RETURN_IF_ERROR(Advance());
    text_parser::Node node;
    ORMDB_RETURN_IF_ERROR(ParseOr(&node));
    if (tok_.kind != text_parser::Tok::kEnd) {
      return Expected("'and', 'or' or the end of the condition", {"and", "or"});
    }
    return std::move(node.expr);
  }
};

bool IsAuthPath(const Expr& e) {
  return e.kind == Expr::Kind::kPath && !e.path.empty() && e.path[0] == "auth";
}
bool IsBeforePath(const Expr& e) {
  return e.kind == Expr::Kind::kPath && e.path.size() >= 2 && e.path[0] == "before";
}
bool IsHasRole(const Expr& e) {
  return e.kind == Expr::Kind::kPath && e.call == text_parser::kHasRoleCall;
}

std::unique_ptr<Expr> MakeExpr(Expr::Kind kind, QueryPos pos = {}) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->pos = pos;
  return e;
}

// `id is null` / `id is not null`: a predicate that never / always holds.
std::unique_ptr<Expr> Constant(bool value) {
  auto e = MakeExpr(Expr::Kind::kIsNull);
  e->negated = value;
  auto id = MakeExpr(Expr::Kind::kPath);
  id->path = {"id"};
  e->children.push_back(std::move(id));
  return e;
}

Value JsonToValue(const Json& j) {
  if (j.is_int()) return Value::Int64(j.as_int());
  if (j.is_double()) return Value::Float64(j.as_double());
  if (j.is_string()) return Value::String(j.as_string());
  if (j.is_bool()) return Value::Bool(j.as_bool());
  return Value();
}

// The principal's values, parsed once.
struct AuthValues {
  const Principal* principal = nullptr;
  Json id;
  Json claims = Json::Object();

  static Result<AuthValues> Of(const Principal& p) {
    AuthValues a;
    a.principal = &p;
    if (!p.authenticated) return a;
    ORMDB_ASSIGN_OR_RETURN(a.id, ParseJson(p.id_json));
    ORMDB_ASSIGN_OR_RETURN(a.claims, ParseJson(p.claims_json));
    if (!a.claims.is_object()) a.claims = Json::Object();
    return a;
  }
  // auth.<name>: null when absent (or anonymous).
  Json Get(const std::vector<std::string>& path) const {
    if (!principal->authenticated || path.size() != 2) return Json();
    if (path[1] == "id") return id;
    const Json* v = claims.Find(path[1]);
    return v ? *v : Json();
  }
};

// Three-valued constants of folding; kUnknown folds to false (see Fold).
enum class Tri : uint8_t { kFalse, kTrue, kUnknown };

Tri CompareJson(const Json& a, const Json& b, Expr::CompareOp op) {
  if (a.is_null() || b.is_null() || a.is_array() || b.is_array()) return Tri::kUnknown;
  ValueOrder order = CompareForPredicate(JsonToValue(a), JsonToValue(b));
  return Satisfies(order, op) ? Tri::kTrue : Tri::kFalse;
}

// A folded predicate: a constant or an expression.
struct Folded {
  bool constant = false;
  bool value = false;  // when constant
  std::unique_ptr<Expr> expr;

  static Folded Const(bool v) {
    Folded f;
    f.constant = true;
    f.value = v;
    return f;
  }
  static Folded Of(std::unique_ptr<Expr> e) {
    Folded f;
    f.expr = std::move(e);
    return f;
  }
};

// Folds a condition: negations pushed down to the comparisons (De Morgan,
// negated operators), auth terms replaced by their values, the remaining
// values made parameters. The result has no `not` above a comparison but
// for `not like`, so it is monotone in its comparisons: an unknown
// comparison can be folded to false without changing where the whole is
// true (a filter keeps only rows where it is true). `not exists(...)` is
// the other `not` left: an exists is never unknown, so negating it is
// exact, and its own condition is folded on its own (FoldExists).
//
// With `validating`, auth terms become parameters and role tests and
// `auth == null` a tautology, so that every path of the condition reaches
// the compiler's checks whatever the principal.
class Folder {
 public:
  Folder(const AuthValues* auth, Json* params, bool validating)
      : auth_(auth), params_(params), validating_(validating) {}

  Result<Folded> Fold(const Expr& e, bool neg) {
    switch (e.kind) {
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr: {
        const bool conj = (e.kind == Expr::Kind::kAnd) != neg;
        auto out = MakeExpr(conj ? Expr::Kind::kAnd : Expr::Kind::kOr, e.pos);
        for (const auto& child : e.children) {
          ORMDB_ASSIGN_OR_RETURN(Folded f, Fold(*child, neg));
          if (f.constant) {
            if (f.value != conj) return Folded::Const(!conj);  // false in and, true in or
            continue;
          }
          if (f.expr->kind == out->kind) {
            for (auto& c : f.expr->children) out->children.push_back(std::move(c));
          } else {
            out->children.push_back(std::move(f.expr));
          }
        }
        if (out->children.empty()) return Folded::Const(conj);
        if (out->children.size() == 1) return Folded::Of(std::move(out->children[0]));
        return Folded::Of(std::move(out));
      }
      case Expr::Kind::kNot:
        return Fold(*e.children[0], !neg);
      case Expr::Kind::kExists:
        return FoldExists(e, neg);
      case Expr::Kind::kLiteral:
        if (e.literal.is_bool()) return Folded::Const(e.literal.as_bool() != neg);
        return InvalidArgument(At(e.pos) + "a condition needs a comparison, not a value");
      case Expr::Kind::kParam:
        return InvalidArgument(At(e.pos) + "a rule condition takes no $parameters");
      case Expr::Kind::kPath:
        if (IsHasRole(e)) {
          if (validating_) return Folded::Of(Constant(true));
          return Folded::Const(auth_->principal->HasRole(e.path[2]) != neg);
        }
        return InvalidArgument(At(e.pos) + "a condition needs a comparison, not a path alone");
      case Expr::Kind::kCompare:
        return FoldCompare(e, neg);
      case Expr::Kind::kIn:
        return FoldIn(e, neg);
      case Expr::Kind::kLike: {
        ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<Expr> operand, FieldOperand(*e.children[0]));
        auto like = MakeExpr(Expr::Kind::kLike, e.pos);
        like->children.push_back(std::move(operand));
        like->children.push_back(ParamFor(e.children[1]->literal, "policy"));
        if (!neg) return Folded::Of(std::move(like));
        auto n = MakeExpr(Expr::Kind::kNot, e.pos);
        n->children.push_back(std::move(like));
        return Folded::Of(std::move(n));
      }
      case Expr::Kind::kIsNull: {
        const Expr& operand = *e.children[0];
        const bool is_null = e.negated == neg;  // the test, after negation
        if (IsAuthPath(operand)) {
          if (validating_) return Folded::Of(Constant(true));
          bool null = operand.path.size() == 1 ? !auth_->principal->authenticated
                                               : auth_->Get(operand.path).is_null();
          return Folded::Const(null == is_null);
        }
        ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<Expr> path, FieldOperand(operand));
        auto out = MakeExpr(Expr::Kind::kIsNull, e.pos);
        out->negated = !is_null;
        out->children.push_back(std::move(path));
        return Folded::Of(std::move(out));
      }
    }
    return Internal("unknown condition node");
  }

 private:
  static std::string At(const QueryPos& pos) {
    if (pos.line <= 0) return "";
    return "query:" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": ";
  }

  // exists(relation [where p]) is true or false, never unknown: true when
  // some related row makes p true. Its condition is folded on its own (an
  // unknown comparison in it folds to false: that row does not match), and
  // a negated exists stays a `not` over it, which is sound because it is
  // two-valued.
  Result<Folded> FoldExists(const Expr& e, bool neg) {
    auto out = MakeExpr(Expr::Kind::kExists, e.pos);
    out->path = e.path;
    if (!e.children.empty()) {
      ++exists_depth_;
      Result<Folded> inner = Fold(*e.children[0], false);
      --exists_depth_;
      ORMDB_RETURN_IF_ERROR(inner.status());
      if (inner->constant) {
        // Validating keeps the relation so that the compiler checks it.
        if (validating_) {
          out->children.push_back(Constant(inner->value));
        } else if (!inner->value) {
          return Folded::Const(neg);  // no related row can match
        }
      } else {
        out->children.push_back(std::move(inner->expr));
      }
    }
    if (!neg) return Folded::Of(std::move(out));
    auto n = MakeExpr(Expr::Kind::kNot, e.pos);
    n->children.push_back(std::move(out));
    return Folded::Of(std::move(n));
  }

  // A path to a field of the row: `before.x` becomes `x` (the caller
  // evaluates update rules on the right image).
  Result<std::unique_ptr<Expr>> FieldOperand(const Expr& e) {
    if (e.kind != Expr::Kind::kPath || IsHasRole(e)) {
      return InvalidArgument(At(e.pos) + "expected a field or a path here");
    }
    if (IsBeforePath(e) && exists_depth_ > 0) {
      return InvalidArgument(At(e.pos) +
                             "before.<field> cannot be used inside exists(...): its condition "
                             "reads the related rows");
    }
    if (IsAuthPath(e)) {
      return InvalidArgument(At(e.pos) + "auth." + (e.path.size() > 1 ? e.path[1] : "") +
                             " cannot be matched with like or tested here");
    }
    auto out = MakeExpr(Expr::Kind::kPath, e.pos);
    out->path =
        IsBeforePath(e) ? std::vector<std::string>(e.path.begin() + 1, e.path.end()) : e.path;
    return out;
  }

  std::unique_ptr<Expr> ParamFor(const Json& value, const std::string& name) {
    if (validating_ && name == "policy") {
      // Kept a literal, so that the compiler checks its type.
      auto lit = MakeExpr(Expr::Kind::kLiteral);
      lit->literal = value;
      return lit;
    }
    auto p = MakeExpr(Expr::Kind::kParam);
    if (name == "policy") {
      p->name = "policy." + std::to_string(next_++);
    } else {
      p->name = name;
    }
    params_->Set(p->name, value);
    return p;
  }

  // An auth operand as a constant or (validating) a parameter.
  Result<Json> AuthValue(const Expr& e) {
    if (e.path.size() > 2) {
      return InvalidArgument(At(e.pos) + "auth." + e.path[1] + " has no members (claims are " +
                             "strings, numbers, bools or lists)");
    }
    if (e.path.size() == 1) {
      return InvalidArgument(At(e.pos) +
                             "auth alone is only compared with null (auth == null, auth != null)");
    }
    if (validating_) return Json(int64_t{0});
    return auth_->Get(e.path);
  }

  Result<Folded> FoldCompare(const Expr& e, bool neg) {
    const Expr& a = *e.children[0];
    const Expr& b = *e.children[1];
    const Expr::CompareOp op = neg ? parse_rules::NegatedCompare(e.op) : e.op;
    // auth == null / auth != null
    auto bare_auth = [](const Expr& x) { return IsAuthPath(x) && x.path.size() == 1; };
    auto null_literal = [](const Expr& x) {
      return x.kind == Expr::Kind::kLiteral && x.literal.is_null();
    };
    if ((bare_auth(a) && null_literal(b)) || (bare_auth(b) && null_literal(a))) {
      if (validating_) return Folded::Of(Constant(true));
      const bool anonymous = !auth_->principal->authenticated;
      return Folded::Const(op == Expr::CompareOp::kEq ? anonymous : !anonymous);
    }
    auto is_value = [](const Expr& x) { return x.kind == Expr::Kind::kLiteral || IsAuthPath(x); };
    if (is_value(a) && is_value(b)) {
      if (validating_) return Folded::Of(Constant(true));
      Json va = a.kind == Expr::Kind::kLiteral ? a.literal : Json();
      Json vb = b.kind == Expr::Kind::kLiteral ? b.literal : Json();
      if (IsAuthPath(a)) {
        ORMDB_ASSIGN_OR_RETURN(va, AuthValue(a));
      }
      if (IsAuthPath(b)) {
        ORMDB_ASSIGN_OR_RETURN(vb, AuthValue(b));
      }
      return Folded::Const(CompareJson(va, vb, op) == Tri::kTrue);
    }
    for (const Expr* side : {&a, &b}) {
      if (side->kind == Expr::Kind::kParam) {
        return InvalidArgument(At(side->pos) + "a rule condition takes no $parameters");
      }
    }
    auto out = MakeExpr(Expr::Kind::kCompare, e.pos);
    out->op = op;
    for (const Expr* side : {&a, &b}) {
      if (side->kind == Expr::Kind::kLiteral) {
        out->children.push_back(ParamFor(side->literal, "policy"));
        out->children.back()->pos = side->pos;
      } else if (IsAuthPath(*side)) {
        ORMDB_ASSIGN_OR_RETURN(Json v, AuthValue(*side));
        if (!validating_ && (v.is_null() || v.is_array())) return Folded::Const(false);
        if (validating_) v = Json(int64_t{0});
        out->children.push_back(ParamFor(v, "auth." + side->path[1]));
        out->children.back()->pos = side->pos;
      } else {
        ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<Expr> path, FieldOperand(*side));
        out->children.push_back(std::move(path));
      }
    }
    return Folded::Of(std::move(out));
  }

  Result<Folded> FoldIn(const Expr& e, bool neg) {
    const Expr& operand = *e.children[0];
    const bool negated = e.negated != neg;
    if (e.children.size() == 2) return FoldInClaim(e, negated);
    if (IsAuthPath(operand)) {
      if (validating_) return Folded::Of(Constant(true));
      ORMDB_ASSIGN_OR_RETURN(Json v, AuthValue(operand));
      if (v.is_null()) return Folded::Const(false);
      bool found = false;
      for (const Json& item : e.list) {
        if (CompareJson(v, item, Expr::CompareOp::kEq) == Tri::kTrue) found = true;
      }
      return Folded::Const(found != negated);
    }
    ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<Expr> path, FieldOperand(operand));
    auto out = MakeExpr(Expr::Kind::kIn, e.pos);
    out->negated = negated;
    out->children.push_back(std::move(path));
    for (const Json& item : e.list) {
      std::unique_ptr<Expr> p = ParamFor(item, "policy");
      out->list.push_back(parse_rules::ParamElement(p->name));
    }
    return Folded::Of(std::move(out));
  }

  // `x in auth.<claim>`: the claim's values as parameters (a single value
  // is a list of one); a principal without the claim makes it unknown,
  // which matches no row.
  Result<Folded> FoldInClaim(const Expr& e, bool negated) {
    const Expr& operand = *e.children[0];
    if (IsAuthPath(operand)) {
      return InvalidArgument(At(operand.pos) + "compare a field with the claim: x in " +
                             parse_rules::ExprToText(*e.children[1]));
    }
    ORMDB_ASSIGN_OR_RETURN(Json claim, AuthValue(*e.children[1]));
    ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<Expr> path, FieldOperand(operand));
    auto out = MakeExpr(Expr::Kind::kIn, e.pos);
    out->negated = negated;
    out->children.push_back(std::move(path));
    if (validating_) {
      const std::string name = "auth." + e.children[1]->path[1];
      out->list.push_back(parse_rules::ParamElement(ParamFor(claim, name)->name));
      return Folded::Of(std::move(out));
    }
    if (claim.is_null()) return Folded::Const(false);
    std::vector<Json> items = claim.is_array() ? claim.as_array() : std::vector<Json>{claim};
    for (const Json& item : items) {
      if (item.is_null()) continue;  // `x in [null]` matches nothing
      out->list.push_back(parse_rules::ParamElement(ParamFor(item, "policy")->name));
    }
    return Folded::Of(std::move(out));
  }

  const AuthValues* auth_;
  Json* params_;
  bool validating_;
  int next_ = 0;
  int exists_depth_ = 0;  // inside the condition of an exists(...)
};

bool UsesBefore(const Expr& e) {
  if (IsBeforePath(e)) return true;
  return std::any_of(e.children.begin(), e.children.end(),
                     [](const auto& c) { return UsesBefore(*c); });
}

// "query:1:C: message" about a condition -> "FILE:LINE:COL: message".
Status AtCondition(const Status& st, const PolicyRule& rule, std::string_view file_name,
                   std::string_view prefix) {
  std::string m = st.message();
  TextPos pos = rule.condition_pos;
  if (m.starts_with("query:")) {
    size_t a = m.find(':', 6);
    size_t b = a == std::string::npos ? a : m.find(':', a + 1);
    if (b != std::string::npos) {
      int line = std::atoi(m.c_str() + 6);
      int col = std::atoi(m.c_str() + a + 1);
      if (line == 1) {
        pos.column += col - 1;
      } else if (line > 1) {
        pos.line += line - 1;
        pos.column = col;
      }
      m = m.substr(b + 1);
      while (!m.empty() && m[0] == ' ') m.erase(0, 1);
    }
  }
  return SchemaError(FormatAt(file_name, pos, std::string(prefix) + m));
}

struct Decision {
  bool allowed = false;
  const ParsedRule* rule = nullptr;  // the deny that held, or nullptr
};

// Three-valued evaluation of a rule condition on one row.
class RowEvaluator {
 public:
  RowEvaluator(const AuthValues& auth, const RowLookup& row, const RowLookup& before)
      : auth_(auth), row_(row), before_(before) {}

  Result<Tri> Eval(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr: {
        const bool conj = e.kind == Expr::Kind::kAnd;
        Tri acc = conj ? Tri::kTrue : Tri::kFalse;
        for (const auto& c : e.children) {
          ORMDB_ASSIGN_OR_RETURN(Tri t, Eval(*c));
          if (conj) {
            if (t == Tri::kFalse) return Tri::kFalse;
            if (t == Tri::kUnknown) acc = Tri::kUnknown;
          } else {
            if (t == Tri::kTrue) return Tri::kTrue;
            if (t == Tri::kUnknown) acc = Tri::kUnknown;
          }
        }
        return acc;
      }
      case Expr::Kind::kNot: {
        ORMDB_ASSIGN_OR_RETURN(Tri t, Eval(*e.children[0]));
        if (t == Tri::kUnknown) return t;
        return t == Tri::kTrue ? Tri::kFalse : Tri::kTrue;
      }
      case Expr::Kind::kLiteral:
        return e.literal.is_bool() && e.literal.as_bool() ? Tri::kTrue : Tri::kFalse;
      case Expr::Kind::kPath:
        if (IsHasRole(e)) return auth_.principal->HasRole(e.path[2]) ? Tri::kTrue : Tri::kFalse;
        return Tri::kFalse;
      case Expr::Kind::kParam:
        return Tri::kFalse;
      case Expr::Kind::kCompare: {
        const Expr& a = *e.children[0];
        const Expr& b = *e.children[1];
        auto bare_auth = [](const Expr& x) { return IsAuthPath(x) && x.path.size() == 1; };
        if (bare_auth(a) || bare_auth(b)) {
          const bool anonymous = !auth_.principal->authenticated;
          return (e.op == Expr::CompareOp::kEq) == anonymous ? Tri::kTrue : Tri::kFalse;
        }
        ORMDB_ASSIGN_OR_RETURN(Value va, Operand(a));
        ORMDB_ASSIGN_OR_RETURN(Value vb, Operand(b));
        if (va.is_null() || vb.is_null()) return Tri::kUnknown;
        return Satisfies(CompareForPredicate(va, vb), e.op) ? Tri::kTrue : Tri::kFalse;
      }
      case Expr::Kind::kIn: {
        ORMDB_ASSIGN_OR_RETURN(Value v, Operand(*e.children[0]));
        if (v.is_null()) return Tri::kUnknown;
        std::vector<Json> list = e.list;
        if (e.children.size() == 2) {  // x in auth.<claim>
          Json claim = auth_.Get(e.children[1]->path);
          if (claim.is_null()) return Tri::kUnknown;
          list = claim.is_array() ? claim.as_array() : std::vector<Json>{claim};
        }
        bool found = false;
        for (const Json& item : list) {
          if (Satisfies(CompareForPredicate(v, JsonToValue(item)), CompareOp::kEq)) found = true;
        }
        return found != e.negated ? Tri::kTrue : Tri::kFalse;
      }
      case Expr::Kind::kLike: {
        ORMDB_ASSIGN_OR_RETURN(Value v, Operand(*e.children[0]));
        if (v.is_null()) return Tri::kUnknown;
        if (v.type() != ValueType::kString) return Tri::kFalse;
        LikePattern pattern(e.children[1]->literal.as_string());
        return pattern.Matches(v.as_string()) ? Tri::kTrue : Tri::kFalse;
      }
      case Expr::Kind::kIsNull: {
        ORMDB_ASSIGN_OR_RETURN(Value v, Operand(*e.children[0]));
        return v.is_null() != e.negated ? Tri::kTrue : Tri::kFalse;
      }
      case Expr::Kind::kExists: {
        // Two-valued: some related row makes the condition true.
        if (!row_.related) return Tri::kFalse;
        const Expr* cond = e.children.empty() ? nullptr : e.children[0].get();
        ORMDB_ASSIGN_OR_RETURN(bool found,
                               row_.related(e.path, [&](const RowLookup& related) -> Result<bool> {
                                 if (cond == nullptr) return true;
                                 const RowLookup none;
                                 RowEvaluator inner(auth_, related, none);
                                 ORMDB_ASSIGN_OR_RETURN(Tri t, inner.Eval(*cond));
                                 return t == Tri::kTrue;
                               }));
        return found ? Tri::kTrue : Tri::kFalse;
      }
    }
    return Internal("unknown condition node");
  }

 private:
  Result<Value> Operand(const Expr& e) {
    if (e.kind == Expr::Kind::kLiteral) return JsonToValue(e.literal);
    if (IsAuthPath(e)) return JsonToValue(auth_.Get(e.path));
    if (IsBeforePath(e)) {
      if (!before_) return Value();
      return before_(std::vector<std::string>(e.path.begin() + 1, e.path.end()));
    }
    if (e.kind == Expr::Kind::kPath) return row_(e.path);
    return Value();
  }

  const AuthValues& auth_;
  const RowLookup& row_;
  const RowLookup& before_;
};

Result<Decision> Decide(const std::vector<ParsedRule>& rules, uint8_t op, const AuthValues& auth,
                        const RowLookup& row, const RowLookup& before) {
  RowEvaluator eval(auth, row, before);
  Decision d;
  bool any_allow = false;
  for (const ParsedRule& r : rules) {
    if ((r.rule->ops & op) == 0) continue;
    ORMDB_ASSIGN_OR_RETURN(Tri t, eval.Eval(*r.condition));
    if (r.rule->allow) {
      if (t == Tri::kTrue) any_allow = true;
    } else if (t != Tri::kFalse) {
      d.rule = &r;  // a deny that holds or is unknown: fails closed
      return d;
    }
  }
  d.allowed = any_allow;
  return d;
}

std::string_view OpName(uint8_t op) {
  switch (op) {
    case catalog::kPolicyRead:
      return "read";
    case catalog::kPolicyCreate:
      return "create";
    case catalog::kPolicyUpdate:
      return "update";
    case catalog::kPolicyDelete:
      return "delete";
  }
  return "access";
}

Status Denied(uint8_t op, const std::string& what, const Decision& d, bool entity_level) {
  std::string m = "permission denied: " + std::string(OpName(op)) + " " + what;
  if (d.rule != nullptr) {
    m += " refused by " + d.rule->rule->Text(entity_level);
  } else {
    m += ": no @" + std::string(entity_level ? "@" : "") + "allow rule for " +
         std::string(OpName(op)) + " holds";
  }
  if (d.rule != nullptr && d.rule->line > 0) {
    m += " (schema line " + std::to_string(d.rule->line) + ")";
  }
  return {ErrorCode::kPermissionDenied, std::move(m)};
}

}  // namespace

namespace {

// The row a path of to-one hops (`hops`, reference names) reaches from row
// `id` of `entity`: its entity, id and decoded row, or a null entity when a
// reference on the way is null or dangling.
struct Reached {
  const catalog::EntityInfo* entity = nullptr;
  RowId id = 0;
  const catalog::DecodedRow* row = nullptr;
};

Result<Reached> FollowHops(storage::TxnReader& txn, const catalog::CompiledSchema& schema,
                           const catalog::LayoutLookup& layouts, const catalog::EntityInfo& entity,
                           RowId id, const catalog::DecodedRow& row,
                           const std::vector<std::string>& hops, size_t count,
                           std::optional<catalog::DecodedRow>* storage) {
  Reached at{&entity, id, &row};
  for (size_t i = 0; i < count; ++i) {
    int f = at.entity->FieldIndex(hops[i]);
    if (f < 0 || at.entity->fields[f].type != catalog::FieldType::kRef) return Reached{};
    const Value& v = at.row->fields[f];
    if (v.is_null()) return Reached{};
    const catalog::EntityInfo* target = schema.EntityById(at.entity->fields[f].ref_target);
    const RowId next = static_cast<RowId>(v.as_int64());
    ORMDB_ASSIGN_OR_RETURN(auto rec, txn.Get(target->id, next));
    if (!rec) return Reached{};
    ORMDB_ASSIGN_OR_RETURN(
        *storage, catalog::DecodeEntityRow(rec->bytes_in_txn, *target, schema.number(), layouts));
    at = Reached{target, next, &**storage};
  }
  return at;
}

// Visits the rows of `relation` (a to-many relation of `entity`) related to
// row `id`, each decoded, until `visit` returns true.
Result<bool> VisitRelated(storage::TxnReader& txn, const catalog::CompiledSchema& schema,
                          const catalog::LayoutLookup& layouts, const catalog::EntityInfo& entity,
                          RowId id, const std::string& relation, const RowLookup::Visit& visit) {
  const catalog::Collection* coll = nullptr;
  for (const catalog::Entity& se : schema.schema().entities) {
    if (se.name != entity.name) continue;
    for (const catalog::Collection& c : se.collections) {
      if (c.name == relation) coll = &c;
    }
  }
  if (coll == nullptr) return false;
  const catalog::EntityInfo* target = schema.FindEntity(coll->target);
  if (target == nullptr) return false;
  std::vector<RowId> ids;
  if (coll->kind == catalog::Collection::Kind::kInverse) {
    const int ref = target->FieldIndex(coll->inverse_field);
    if (ref < 0) return false;
    const catalog::IndexInfo* index = nullptr;
    for (const catalog::IndexInfo& ix : target->indexes) {
      if (ix.ready && !ix.fields.empty() && ix.fields[0] == static_cast<size_t>(ref)) {
        index = &ix;
        break;
      }
    }
    if (index != nullptr) {
      std::string lower;
      storage::AppendKey(&lower, Value::Int64(static_cast<int64_t>(id)));
      const std::string upper = storage::PrefixSuccessor(lower);
      ORMDB_RETURN_IF_ERROR(txn.ScanIndex(index->id, lower, upper, storage::ScanDirection::kForward,
                                          [&](const storage::IndexEntry& e) {
                                            ids.push_back(e.id);
                                            return true;
                                          }));
    } else {
      // No complete index led by the reference (one is being built): every
      // row of the related entity, tested on its reference.
      std::vector<std::pair<RowId, std::string>> rows;
      ORMDB_RETURN_IF_ERROR(txn.ScanRows(target->id, 0, storage::ScanDirection::kForward,
                                         [&](RowId rid, const storage::RowRecord& rec) {
                                           rows.emplace_back(rid, std::string(rec.bytes_in_txn));
                                           return true;
                                         }));
      for (const auto& [rid, bytes] : rows) {
        ORMDB_ASSIGN_OR_RETURN(catalog::DecodedRow r,
                               catalog::DecodeEntityRow(bytes, *target, schema.number(), layouts));
        const Value& v = r.fields[ref];
        if (!v.is_null() && static_cast<RowId>(v.as_int64()) == id) ids.push_back(rid);
      }
    }
  } else {
    const catalog::EdgeInfo* edge = nullptr;
    bool forward = true;
    for (const catalog::EdgeInfo& e : schema.edges()) {
      if (e.from_entity == entity.name && e.from_collection == coll->name) {
        edge = &e;
        forward = true;
      } else if (e.to_entity == entity.name && e.to_collection == coll->name) {
        edge = &e;
        forward = false;
      }
    }
    if (edge == nullptr) return false;
    ORMDB_RETURN_IF_ERROR(txn.ScanEdges(
        edge->id, forward ? storage::EdgeDirection::kForward : storage::EdgeDirection::kBackward,
        id, [&](RowId to) {
          ids.push_back(to);
          return true;
        }));
  }
  for (RowId rid : ids) {
    ORMDB_ASSIGN_OR_RETURN(auto rec, txn.Get(target->id, rid));
    if (!rec) continue;
    ORMDB_ASSIGN_OR_RETURN(
        catalog::DecodedRow r,
        catalog::DecodeEntityRow(rec->bytes_in_txn, *target, schema.number(), layouts));
    RowLookup lookup = StoredRowLookup(txn, schema, layouts, *target, rid, r);
    ORMDB_ASSIGN_OR_RETURN(bool done, visit(lookup));
    if (done) return true;
  }
  return false;
}

}  // namespace

RowLookup StoredRowLookup(storage::TxnReader& txn, const catalog::CompiledSchema& schema,
                          const catalog::LayoutLookup& layouts, const catalog::EntityInfo& entity,
                          RowId id, const catalog::DecodedRow& row) {
  RowLookup::ValueFn value = [&txn, &schema, &layouts, &entity, id,
                              &row](const std::vector<std::string>& path) -> Result<Value> {
    if (path.empty()) return Value();
    std::optional<catalog::DecodedRow> hop;
    const std::string& last = path.back();
    // A reference at the end: its value (a row id), or the uuid of a uuid
    // entity's row.
    ORMDB_ASSIGN_OR_RETURN(
        Reached at, FollowHops(txn, schema, layouts, entity, id, row, path, path.size() - 1, &hop));
    if (at.entity == nullptr) return Value();
    if (last == "id") {
      return at.entity->uuid_id ? at.row->uuid : Value::Int64(static_cast<int64_t>(at.id));
    }
    int f = at.entity->FieldIndex(last);
    if (f < 0) return Value();
    const Value& v = at.row->fields[f];
    const catalog::FieldInfo& fi = at.entity->fields[f];
    if (fi.type != catalog::FieldType::kRef || v.is_null()) return v;
    const catalog::EntityInfo* target = schema.EntityById(fi.ref_target);
    if (!target->uuid_id) return v;
    ORMDB_ASSIGN_OR_RETURN(auto rec, txn.Get(target->id, static_cast<RowId>(v.as_int64())));
    if (!rec) return Value();
    ORMDB_ASSIGN_OR_RETURN(
        catalog::DecodedRow t,
        catalog::DecodeEntityRow(rec->bytes_in_txn, *target, schema.number(), layouts));
    return t.uuid;  // a reference to a uuid entity is its uuid
  };
  RowLookup::RelatedFn related = [&txn, &schema, &layouts, &entity, id, &row](
                                     const std::vector<std::string>& path,
                                     const RowLookup::Visit& visit) -> Result<bool> {
    if (path.empty()) return false;
    std::optional<catalog::DecodedRow> hop;
    ORMDB_ASSIGN_OR_RETURN(
        Reached at, FollowHops(txn, schema, layouts, entity, id, row, path, path.size() - 1, &hop));
    if (at.entity == nullptr) return false;
    return VisitRelated(txn, schema, layouts, *at.entity, at.id, path.back(), visit);
  };
  return RowLookup(std::move(value), std::move(related));
}

Result<std::unique_ptr<Expr>> ParseRuleCondition(std::string_view text) {
  return RuleParser(text).Run();
}

Result<std::shared_ptr<const PolicySet>> PolicySet::Build(
    std::shared_ptr<const catalog::CompiledSchema> schema, std::string_view file_name) {
  auto set = std::make_shared<PolicySet>();
  set->schema_ = schema;
  // Lines of the canonical text (`schema show`), where messages point.
  std::vector<std::string_view> lines;
  const std::string canonical = catalog::PrintSchema(schema->schema());
  for (size_t i = 0; i <= canonical.size();) {
    size_t nl = canonical.find('\n', i);
    if (nl == std::string::npos) nl = canonical.size();
    lines.push_back(std::string_view(canonical).substr(i, nl - i));
    i = nl + 1;
  }
  auto line_of = [&](const std::string& entity, const std::string& rule_text) {
    bool inside = false;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i] == "entity " + entity + " {") inside = true;
      if (inside && lines[i].find(rule_text) != std::string_view::npos)
        return static_cast<int>(i + 1);
      if (inside && lines[i] == "}") inside = false;
    }
    return 0;
  };
  for (const catalog::Entity& se : schema->schema().entities) {
    const catalog::EntityInfo* info = schema->FindEntity(se.name);
    if (info == nullptr) return Internal("policy: entity " + se.name + " not compiled");
    EntityPolicy ep;
    ep.field_rules.resize(info->fields.size());
    auto parse = [&](const PolicyRule& rule, const std::string& field) -> Result<ParsedRule> {
      const std::string what = field.empty() ? se.name : se.name + "." + field;
      const std::string prefix = "in " + rule.Text(field.empty()) + " of " + what + ": ";
      auto cond = ParseRuleCondition(rule.condition);
      if (!cond.ok()) return AtCondition(cond.status(), rule, file_name, prefix);
      if (UsesBefore(**cond) && rule.ops != catalog::kPolicyUpdate) {
        return AtCondition(
            InvalidArgument("before.<field> is only for update rules (" +
                            std::string(rule.allow ? "@@allow" : "@@deny") + "(update, ...))"),
            rule, file_name, prefix);
      }
      // Check names and types: the condition, folded with its auth terms
      // as parameters, compiled as a filter of the entity.
      Json params = Json::Object();
      Folder folder(nullptr, &params, true);
      auto folded = folder.Fold(**cond, false);
      if (!folded.ok()) return AtCondition(folded.status(), rule, file_name, prefix);
      if (!folded->constant) {
        FetchQuery probe;
        probe.root.name = se.name;
        probe.root.where = std::move(folded->expr);
        Selection id;
        id.name = "id";
        probe.root.children.push_back(std::move(id));
        Status st = CheckFetchNames(probe, schema);
        if (!st.ok()) return AtCondition(st, rule, file_name, prefix);
      }
      ParsedRule pr;
      pr.rule = &rule;
      pr.condition = std::shared_ptr<const Expr>(std::move(*cond));
      pr.entity = se.name;
      pr.field = field;
      pr.line = line_of(se.name, rule.Text(field.empty()));
      return pr;
    };
    for (const PolicyRule& rule : se.rules) {
      ORMDB_ASSIGN_OR_RETURN(ParsedRule pr, parse(rule, ""));
      ep.ruled_ops |= rule.ops;
      ep.rules.push_back(std::move(pr));
    }
    for (size_t f = 0; f < se.fields.size(); ++f) {
      int pos = info->FieldIndex(se.fields[f].name);
      if (pos < 0) return Internal("policy: field " + se.fields[f].name + " not compiled");
      for (const PolicyRule& rule : se.fields[f].rules) {
        ORMDB_ASSIGN_OR_RETURN(ParsedRule pr, parse(rule, se.fields[f].name));
        ep.field_rules[pos].push_back(std::move(pr));
        ep.any_field_rules = true;
      }
    }
    if (!ep.rules.empty() || ep.any_field_rules)
      set->by_entity_.emplace(info->id.value, std::move(ep));
  }
  return std::shared_ptr<const PolicySet>(std::move(set));
}

const EntityPolicy* PolicySet::For(EntityTypeId entity) const {
  auto it = by_entity_.find(entity.value);
  return it == by_entity_.end() ? nullptr : &it->second;
}

const EntityRead* ReadPolicy::For(EntityTypeId entity) const {
  auto it = by_entity_.find(entity.value);
  return it == by_entity_.end() ? nullptr : &it->second;
}

namespace {

// allow_1 or allow_2 ... and not deny_1 and not deny_2 ..., folded.
Result<Folded> FoldRules(const std::vector<ParsedRule>& rules, uint8_t op, Folder* folder) {
  auto all = MakeExpr(Expr::Kind::kAnd);
  auto allows = MakeExpr(Expr::Kind::kOr);
  for (const ParsedRule& r : rules) {
    if ((r.rule->ops & op) == 0) continue;
    // Copy the condition: Fold reads it and builds a new tree.
    ORMDB_ASSIGN_OR_RETURN(Folded f, folder->Fold(*r.condition, !r.rule->allow));
    if (r.rule->allow) {
      if (f.constant) {
        if (f.value) allows = nullptr;  // always allowed
        if (!f.value) continue;
      } else if (allows) {
        allows->children.push_back(std::move(f.expr));
      }
    } else {
      if (f.constant) {
        if (!f.value) return Folded::Const(false);  // the deny holds (or is unknown)
        continue;
      }
      all->children.push_back(std::move(f.expr));
    }
  }
  if (allows) {
    if (allows->children.empty()) return Folded::Const(false);
    if (allows->children.size() == 1) {
      all->children.push_back(std::move(allows->children[0]));
    } else {
      all->children.push_back(std::move(allows));
    }
  }
  if (all->children.empty()) return Folded::Const(true);
  if (all->children.size() == 1) return Folded::Of(std::move(all->children[0]));
  return Folded::Of(std::move(all));
}

}  // namespace

Result<std::shared_ptr<const ReadPolicy>> FoldReadPolicy(const PolicySet& set,
                                                         const Principal& principal) {
  auto out = std::make_shared<ReadPolicy>();
  ORMDB_ASSIGN_OR_RETURN(AuthValues auth, AuthValues::Of(principal));
  Folder folder(&auth, &out->params_, false);
  for (const catalog::EntityInfo& e : set.schema().entities()) {
    const EntityPolicy* ep = set.For(e.id);
    if (ep == nullptr) continue;
    EntityRead er;
    std::string key;
    if (ep->ruled_ops & catalog::kPolicyRead) {
      ORMDB_ASSIGN_OR_RETURN(Folded f, FoldRules(ep->rules, catalog::kPolicyRead, &folder));
      if (f.constant) {
        if (!f.value) er.filter = Constant(false);
      } else {
        er.filter = std::move(f.expr);
      }
      if (er.filter) key += " rows: " + parse_rules::ExprToText(*er.filter);
    }
    er.masks.resize(e.fields.size());
    for (size_t i = 0; i < ep->field_rules.size(); ++i) {
      bool has_read =
          std::any_of(ep->field_rules[i].begin(), ep->field_rules[i].end(),
                      [](const ParsedRule& r) { return r.rule->ops & catalog::kPolicyRead; });
      if (!has_read) continue;
      ORMDB_ASSIGN_OR_RETURN(Folded f,
                             FoldRules(ep->field_rules[i], catalog::kPolicyRead, &folder));
      if (f.constant && f.value) continue;
      er.masks[i] = f.constant ? Constant(false) : std::move(f.expr);
      er.any_mask = true;
      key += " " + e.fields[i].name + ": " + parse_rules::ExprToText(*er.masks[i]);
    }
    if (!er.filter && !er.any_mask) continue;
    out->key_ += e.name + key + "\n";
    out->by_entity_.emplace(e.id.value, std::move(er));
  }
  return std::shared_ptr<const ReadPolicy>(std::move(out));
}

Status CheckRowAccess(const PolicySet& set, const Principal& principal,
                      const catalog::EntityInfo& entity, uint8_t op, const RowLookup& row,
                      const RowLookup& before) {
  const EntityPolicy* ep = set.For(entity.id);
  if (ep == nullptr || (ep->ruled_ops & op) == 0) return Status::Ok();
  ORMDB_ASSIGN_OR_RETURN(AuthValues auth, AuthValues::Of(principal));
  ORMDB_ASSIGN_OR_RETURN(Decision d, Decide(ep->rules, op, auth, row, before));
  if (d.allowed) return Status::Ok();
  return Denied(op, entity.name, d, true);
}

Status CheckFieldAccess(const PolicySet& set, const Principal& principal,
                        const catalog::EntityInfo& entity, size_t field, uint8_t op,
                        const RowLookup& row, const RowLookup& before) {
  const EntityPolicy* ep = set.For(entity.id);
  if (ep == nullptr || field >= ep->field_rules.size()) return Status::Ok();
  const std::vector<ParsedRule>& rules = ep->field_rules[field];
  if (std::none_of(rules.begin(), rules.end(),
                   [&](const ParsedRule& r) { return (r.rule->ops & op) != 0; })) {
    return Status::Ok();
  }
  ORMDB_ASSIGN_OR_RETURN(AuthValues auth, AuthValues::Of(principal));
  ORMDB_ASSIGN_OR_RETURN(Decision d, Decide(rules, op, auth, row, before));
  if (d.allowed) return Status::Ok();
  return Denied(op, entity.name + "." + entity.fields[field].name, d, false);
}

Result<bool> RowReadable(const PolicySet& set, const Principal& principal,
                         const catalog::EntityInfo& entity, const RowLookup& row) {
  Status st = CheckRowAccess(set, principal, entity, catalog::kPolicyRead, row, RowLookup());
  if (st.ok()) return true;
  if (st.code() == ErrorCode::kPermissionDenied) return false;
  return st;
}

Result<bool> FieldReadable(const PolicySet& set, const Principal& principal,
                           const catalog::EntityInfo& entity, size_t field, const RowLookup& row) {
  Status st =
      CheckFieldAccess(set, principal, entity, field, catalog::kPolicyRead, row, RowLookup());
  if (st.ok()) return true;
  if (st.code() == ErrorCode::kPermissionDenied) return false;
  return st;
}

}  // namespace ormdb::query
