// CheckExpr: the expression language of schema check constraints
// (@check(expr) on a field, @@check(expr) on an entity; DESIGN.md §3, §9).
//
//   length(title) > 0
//   age >= 0 and age < 150
//   status in ["draft", "published"]
//   not (a == b) or c is null
//   email like "%@%"
//
// Grammar, loosest binding first:
//   or_expr    := and_expr ("or" and_expr)*
//   and_expr   := not_expr ("and" not_expr)*
//   not_expr   := "not" not_expr | predicate
//   predicate  := sum [ ("==" | "!=" | "<" | "<=" | ">" | ">=") sum
//                     | ["not"] "in" "[" [literal ("," literal)*] "]"
//                     | ["not"] "like" string
//                     | "is" ["not"] "null" ]
//   sum        := product (("+" | "-") product)*
//   product    := unary (("*" | "/") unary)*
//   unary      := "-" unary | primary
//   primary    := literal | field | function "(" or_expr ")" | "(" or_expr ")"
//   literal    := integer | float | string | true | false | null   (numbers as in JSON,
//                 strings double-quoted with JSON escapes; "-" before a number makes a literal)
//   function   := length | lower | upper | abs
// Keywords are lowercase and cannot be field names. Comparisons do not chain
// (a < b < c is an error).
//
// Besides syntax, the parser rejects what can only be a mistake: an operand
// of and/or/not (or the whole expression) that cannot be a boolean (a + 1,
// "text", length(s)), arithmetic on a string or boolean literal, comparing
// literals of different types (length(s) == "3"), and `== null` / `!= null`
// (always unknown under three-valued logic: `is null` is meant). Field types
// are the catalog's business: it checks FieldNames() against the entity.
//
// Evaluation follows SQL (DESIGN.md §9): three-valued logic, where any
// comparison with null is unknown (null), `!=` and `not in` included; and/or/
// not follow the SQL truth tables; only `is null` / `is not null` test for
// null. A check passes unless it evaluates to false (CheckPasses).
//
// Thread-safety: a parsed CheckExpr is immutable; concurrent Evaluate calls
// are safe as long as the lookup function is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/like_pattern.h"
#include "common/value.h"
#include "ormdb/status.h"

namespace ormdb::catalog {

// The longest accepted expression text, in bytes.
inline constexpr size_t kMaxCheckExprSize = 64 * 1024;
// The deepest accepted nesting: parentheses may nest at most this deep, and
// the expression tree may have at most this many levels (a field or literal
// alone is one level; each operator, function call or `not` adds one, while a
// chain of `and` or of `or` counts as a single level). Bounding the tree
// bounds the recursion of Evaluate and ToString.
inline constexpr int kMaxCheckExprDepth = 64;

class CheckExprParser;

// One node of a parsed expression; the root is the whole expression.
class CheckExpr {
 public:
  enum class Kind : uint8_t {
    kLiteral,  // literal()
    kField,    // field()
    kCall,     // function() applied to operands()[0]
    kNot,      // operands()[0]
    kNeg,      // unary minus of operands()[0]
    kAnd,      // all operands() (two or more)
    kOr,       // any of operands() (two or more)
    kEq,       // operands()[0] == operands()[1], likewise kNe .. kGe
    kNe,
    kLt,
    kLe,
    kGt,
    kGe,
    kAdd,  // operands()[0] + operands()[1], likewise kSub .. kDiv
    kSub,
    kMul,
    kDiv,
    kIn,         // operands()[0] in list()
    kNotIn,      // operands()[0] not in list()
    kLike,       // operands()[0] like pattern()
    kNotLike,    // operands()[0] not like pattern()
    kIsNull,     // operands()[0] is null
    kIsNotNull,  // operands()[0] is not null
  };
  enum class Function : uint8_t {
    kLength,  // code points of a string, bytes of a bytes value
    kLower,   // ASCII lowercase of a string (other characters unchanged)
    kUpper,   // ASCII uppercase of a string
    kAbs,     // absolute value of a number
  };

  // Lets only the parser construct nodes while keeping construction
  // in std::make_unique.
  class Key {
    friend class CheckExprParser;
    Key() = default;
  };
  CheckExpr(Key, Kind kind, int column) : kind_(kind), column_(column) {}
  CheckExpr(const CheckExpr&) = delete;
  CheckExpr& operator=(const CheckExpr&) = delete;

  Kind kind() const { return kind_; }
  // Where this node starts in the parsed text: 1 + its byte offset.
  int column() const { return column_; }
  const std::vector<std::unique_ptr<CheckExpr>>& operands() const { return operands_; }
  // kLiteral: null, bool, int64, float64 or string.
  const Value& literal() const { return literal_; }
  // kField: the field's name.
  const std::string& field() const { return name_; }
  // kCall.
  Function function() const { return function_; }
  // kIn / kNotIn: the literals of the list.
  const std::vector<Value>& list() const { return list_; }
  // kLike / kNotLike: the pattern, unescaped from its string literal.
  const std::string& pattern() const { return pattern_; }

  // Every field name the expression uses, each once, in order of first use.
  std::vector<std::string> FieldNames() const;

  // Evaluates the expression for one row; `lookup` returns a field's value
  // (null when the row has none). Returns Bool or Null (unknown); a result of
  // another type (`@check(title)` on a string field) counts as Bool(false).
  // Semantics, beyond the SQL three-valued logic described above:
  // - Numbers (int32, int64, float64, timestamp) compare with each other by
  //   value, exactly (no rounding of large int64s through double); NaN is
  //   unordered (every comparison false except !=). Strings, bytes and json
  //   compare bytewise, bools false < true, uuids bytewise. A string compares
  //   with a timestamp or uuid by parsing it as one (ParseTimestamp,
  //   ParseUuid). Comparing any other mix of types is false for every
  //   operator, `!=` included: a check that compares mismatched types is a
  //   schema mistake, better failing loudly than passing silently.
  // - `in` is true when an element compares equal, else null when the list
  //   holds a null, else false; `not in` is its negation under 3VL.
  // - `like` matches the whole string, case-sensitive: `%` any run, `_` one
  //   UTF-8 character, `\` makes the next character literal. A non-string
  //   operand is false for `like` and `not like`.
  // - Arithmetic on int32/int64/timestamp is exact int64 (division truncates
  //   toward zero); with a float64 operand it is double. Null, a non-number
  //   operand, integer overflow and division by zero all yield null.
  // - length/lower/upper/abs of null or of the wrong type yield null.
  Value Evaluate(const std::function<Value(std::string_view field)>& lookup) const;

  // The expression in a normalized form that parses back to the same tree:
  // single spaces around operators, only the parentheses precedence needs
  // (plus around a `not` operand that is not a single term), literals in
  // canonical form (1.0 for a float, JSON string escapes).
  std::string ToString() const;

 private:
  friend class CheckExprParser;

  Value Eval(const std::function<Value(std::string_view)>& lookup) const;
  void Print(std::string* out, int min_precedence) const;
  void CollectFields(std::vector<std::string>* names) const;

  Kind kind_;
  int column_;
  int height_ = 1;  // levels of the subtree rooted here
  std::vector<std::unique_ptr<CheckExpr>> operands_;
  Value literal_;
  std::string name_;  // kField: the field; kCall: the function as written
  Function function_ = Function::kLength;
  std::vector<Value> list_;
  std::string pattern_;
  std::optional<LikePattern> like_;  // kLike, kNotLike
};

// Parses a check expression (the text between the parentheses of @check).
// Errors: INVALID_ARGUMENT "column C: expected ..., found ..." where C is 1 +
// the byte offset in `text`, so the caller can map it to a position in the
// schema file; also for text longer than kMaxCheckExprSize or nested deeper
// than kMaxCheckExprDepth.
Result<std::unique_ptr<CheckExpr>> ParseCheckExpr(std::string_view text);

// The SQL rule for check constraints: only a definite false fails; null
// (unknown) passes.
inline bool CheckPasses(const Value& v) { return !(v.type() == ValueType::kBool && !v.as_bool()); }

}  // namespace ormdb::catalog
