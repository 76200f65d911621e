// The rules and messages both readers of a fetch query share, the text
// parser (query/parser.cc) and the JSON IR reader (query/ir_json.cc), with
// the printers (query/printer.cc): keywords, argument names, operators, and
// the messages for what both refuse. Internal to query/.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/lexer.h"
#include "common/suggest.h"
#include "common/utf8.h"
#include "query/ir.h"

namespace ormdb::query::parse_rules {

// " (did you mean 'x'?)" for a misspelt keyword, or "".
inline std::string DidYouMean(std::string_view word,
                              const std::vector<std::string_view>& candidates) {
  const std::string best = NearestName(word, candidates);
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

// Words that mean something in a predicate; a path cannot start with one.
inline constexpr std::string_view kPredicateKeywords[] = {"and", "or",   "not",  "in",   "like",
                                                          "is",  "null", "true", "false"};

inline bool IsPredicateKeyword(std::string_view word) {
  return std::find(std::begin(kPredicateKeywords), std::end(kPredicateKeywords), word) !=
         std::end(kPredicateKeywords);
}

enum class Arg : uint8_t { kWhere, kOrder, kLimit, kAfter };
inline constexpr std::string_view kArgNames[] = {"where", "order", "limit", "after"};
inline constexpr std::string_view kArgList = "where, order, limit or after";

// Aggregate functions, in Aggregate::Fn order.
inline constexpr std::string_view kAggregateFns[] = {"count", "count_distinct", "sum", "avg", "min",
                                                     "max"};
inline constexpr std::string_view kAggregateFnList = "count, count_distinct, sum, avg, min or max";

inline std::string_view AggregateFnName(Aggregate::Fn fn) {
  return kAggregateFns[static_cast<int>(fn)];
}

// The message for an aggregate without a field where one is needed.
inline std::string AggregateNeedsField(Aggregate::Fn fn, std::string_view relation) {
  return std::string(AggregateFnName(fn)) + " needs a field: " + std::string(AggregateFnName(fn)) +
         "(" + std::string(relation) + ".<field>)";
}

inline constexpr std::string_view kCompareOps[] = {"==", "!=", "<", "<=", ">", ">="};

inline std::string_view CompareOpText(Expr::CompareOp op) {
  return kCompareOps[static_cast<int>(op)];
}

// The message for a comparison with a null literal. Under three-valued logic
// it is never true, which is never what the writer meant.
inline std::string NullComparisonMessage(Expr::CompareOp op, std::string_view other) {
  const std::string test = op == Expr::CompareOp::kNe ? "is not null" : "is null";
  return "'" + std::string(CompareOpText(op)) +
         " null' never matches: a comparison with null is unknown, never true (did you mean '" +
         Shorten(other) + " " + test + "'?)";
}

inline constexpr std::string_view kNullInListMessage =
    "null in a list never matches: a comparison with null is unknown, never true (test for null "
    "with 'is null')";

// DESIGN.md §9: a backslash escapes the next pattern character, so one at
// the very end escapes nothing.
inline constexpr std::string_view kLoneEscapeMessage =
    "like pattern ends in an escape '\\' with nothing after it to escape";

inline bool IsValidUtf8(std::string_view s) { return FindInvalidUtf8(s) == std::string_view::npos; }

inline std::string JoinPath(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& name : path) {
    if (!out.empty()) out += '.';
    out += name;
  }
  return out;
}

// The comparison that holds exactly where `op` does not, for non-null
// operands (== and !=, < and >=, <= and >).
inline Expr::CompareOp NegatedCompare(Expr::CompareOp op) {
  switch (op) {
    case Expr::CompareOp::kEq:
      return Expr::CompareOp::kNe;
    case Expr::CompareOp::kNe:
      return Expr::CompareOp::kEq;
    case Expr::CompareOp::kLt:
      return Expr::CompareOp::kGe;
    case Expr::CompareOp::kLe:
      return Expr::CompareOp::kGt;
    case Expr::CompareOp::kGt:
      return Expr::CompareOp::kLe;
    case Expr::CompareOp::kGe:
      return Expr::CompareOp::kLt;
  }
  return op;
}

inline std::unique_ptr<Expr> MakeExpr(Expr::Kind kind, QueryPos pos) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->pos = pos;
  return e;
}

inline Json ParamElement(std::string name) {
  Json param = Json::Object();
  param.Set("$param", std::move(name));
  return param;
}

// An expression in the text form, as the printer writes it (printer.cc).
std::string ExprToText(const Expr& e);

}  // namespace ormdb::query::parse_rules
