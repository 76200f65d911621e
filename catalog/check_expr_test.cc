#include "catalog/check_expr.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/timestamp.h"
#include "common/uuid.h"

namespace ormdb::catalog {
namespace {

using Row = std::map<std::string, Value, std::less<>>;

std::unique_ptr<CheckExpr> MustParse(std::string_view text) {
  Result<std::unique_ptr<CheckExpr>> r = ParseCheckExpr(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::string ParseError(std::string_view text) {
  Result<std::unique_ptr<CheckExpr>> r = ParseCheckExpr(text);
  EXPECT_FALSE(r.ok()) << "parsed: " << text << " as " << (*r)->ToString();
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  return r.status().message();
}

std::string Normalized(std::string_view text) {
  auto e = MustParse(text);
  return e ? e->ToString() : "<error>";
}

// Evaluates `text` over `row`; a field missing from the row is null.
Value Eval(std::string_view text, const Row& row = {}) {
  auto e = MustParse(text);
  if (!e) return Value::String("<parse error>");
  return e->Evaluate([&](std::string_view field) {
    auto it = row.find(field);
    return it == row.end() ? Value::Null() : it->second;
  });
}

const Value kTrue = Value::Bool(true);
const Value kFalse = Value::Bool(false);
const Value kNull = Value::Null();

TEST(CheckExprTest, DesignExamples) {
  for (const char* text : {
           "length(title) > 0",
           "age >= 0 and age < 150",
           "status in [\"draft\", \"published\"]",
           "not (a == b) or c is null",
           "email like \"%@%\"",
       }) {
    EXPECT_EQ(Normalized(text), text);
  }
}

TEST(CheckExprTest, Normalization) {
  EXPECT_EQ(Normalized("  a>=1 and(b<2)"), "a >= 1 and b < 2");
  EXPECT_EQ(Normalized("a>b and\"x\"==c"), "a > b and \"x\" == c");
  EXPECT_EQ(Normalized("((a)) == (1)"), "a == 1");
  EXPECT_EQ(Normalized("a + (b * c) > 0"), "a + b * c > 0");
  EXPECT_EQ(Normalized("(a + b) * c > 0"), "(a + b) * c > 0");
  EXPECT_EQ(Normalized("a - (b - c) > 0"), "a - (b - c) > 0");
  EXPECT_EQ(Normalized("(a - b) - c > 0"), "a - b - c > 0");
  EXPECT_EQ(Normalized("a / (b / c) > 0"), "a / (b / c) > 0");
  EXPECT_EQ(Normalized("not(a)"), "not a");
  EXPECT_EQ(Normalized("not a == b"), "not (a == b)");
  EXPECT_EQ(Normalized("not not a"), "not not a");
  EXPECT_EQ(Normalized("not (a and b)"), "not (a and b)");
  EXPECT_EQ(Normalized("a or (b or c)"), "a or (b or c)");
  EXPECT_EQ(Normalized("(a or b) or c"), "(a or b) or c");
  EXPECT_EQ(Normalized("a or b or c"), "a or b or c");
  EXPECT_EQ(Normalized("a and b or c and d"), "a and b or c and d");
  EXPECT_EQ(Normalized("a and (b or c)"), "a and (b or c)");
  EXPECT_EQ(Normalized("-x < 0"), "-x < 0");
  EXPECT_EQ(Normalized("- 5 < x"), "-5 < x");
  EXPECT_EQ(Normalized("-(5) < x"), "-(5) < x");
  EXPECT_EQ(Normalized("--x < 0"), "-(-x) < 0");
  EXPECT_EQ(Normalized("-(-5) < x"), "-(-5) < x");
  EXPECT_EQ(Normalized("x - -5 > 0"), "x - -5 > 0");
  EXPECT_EQ(Normalized("x > 1.0"), "x > 1.0");
  EXPECT_EQ(Normalized("x > 1e2"), "x > 100.0");
  EXPECT_EQ(Normalized("x > 2.5E-3"), "x > 0.0025");
  EXPECT_EQ(Normalized("x > 9223372036854775808"), "x > 9223372036854775808.0");  // a double
  EXPECT_EQ(Normalized("x > -9223372036854775808"), "x > -9223372036854775808");
  EXPECT_EQ(Normalized("x == \"a\\u0041\\n\\/\""), "x == \"aA\\n/\"");
  EXPECT_EQ(Normalized("x in []"), "x in []");
  EXPECT_EQ(Normalized("x not in [1,-2,2.5,\"s\",true,false,null]"),
            "x not in [1, -2, 2.5, \"s\", true, false, null]");
  EXPECT_EQ(Normalized("x not like \"a\\\\%\""), "x not like \"a\\\\%\"");
  EXPECT_EQ(Normalized("x is not null"), "x is not null");
  EXPECT_EQ(Normalized("(a == b) == c"), "(a == b) == c");
  EXPECT_EQ(Normalized("(not a) == b"), "(not a) == b");
  EXPECT_EQ(Normalized("(a is null) is null"), "(a is null) is null");
  EXPECT_EQ(Normalized("length(lower(x)) > abs(-y)"), "length(lower(x)) > abs(-y)");
  EXPECT_EQ(Normalized("\ta\n==\r\n1"), "a == 1");
  EXPECT_EQ(Normalized("true"), "true");
  EXPECT_EQ(Normalized("flag"), "flag");
}

TEST(CheckExprTest, Precedence) {
  using K = CheckExpr::Kind;
  auto e = MustParse("a or b and c");
  ASSERT_EQ(e->kind(), K::kOr);
  EXPECT_EQ(e->operands()[1]->kind(), K::kAnd);

  e = MustParse("not a and b");
  ASSERT_EQ(e->kind(), K::kAnd);
  EXPECT_EQ(e->operands()[0]->kind(), K::kNot);

  e = MustParse("not a == b");
  ASSERT_EQ(e->kind(), K::kNot);
  EXPECT_EQ(e->operands()[0]->kind(), K::kEq);

  e = MustParse("a + b * c > d");
  ASSERT_EQ(e->kind(), K::kGt);
  ASSERT_EQ(e->operands()[0]->kind(), K::kAdd);
  EXPECT_EQ(e->operands()[0]->operands()[1]->kind(), K::kMul);

  e = MustParse("-a * b > 0");
  ASSERT_EQ(e->operands()[0]->kind(), K::kMul);
  EXPECT_EQ(e->operands()[0]->operands()[0]->kind(), K::kNeg);

  e = MustParse("a - b - c > 0");  // left-associative
  ASSERT_EQ(e->operands()[0]->kind(), K::kSub);
  EXPECT_EQ(e->operands()[0]->operands()[0]->kind(), K::kSub);

  e = MustParse("a and b and c or d");  // chains are flat
  ASSERT_EQ(e->kind(), K::kOr);
  EXPECT_EQ(e->operands().size(), 2u);
  EXPECT_EQ(e->operands()[0]->operands().size(), 3u);

  e = MustParse("x > -9223372036854775808");
  ASSERT_EQ(e->operands()[1]->kind(), K::kLiteral);
  EXPECT_EQ(e->operands()[1]->literal(), Value::Int64(std::numeric_limits<int64_t>::min()));

  e = MustParse("x like \"a\\\\%\"");
  ASSERT_EQ(e->kind(), K::kLike);
  EXPECT_EQ(e->pattern(), "a\\%");
  EXPECT_EQ(e->column(), 1);
  EXPECT_EQ(MustParse("  x > 1")->column(), 3);

  // Keyword semantics for a value precedence would otherwise mix up:
  // `not` applies to the whole comparison.
  EXPECT_EQ(Eval("not a == 1", {{"a", Value::Int64(2)}}), kTrue);
  EXPECT_EQ(Eval("true or false and false"), kTrue);
  EXPECT_EQ(Eval("(true or false) and false"), kFalse);
  EXPECT_EQ(Eval("2 + 3 * 4 == 14"), kTrue);
  EXPECT_EQ(Eval("(2 + 3) * 4 == 20"), kTrue);
  EXPECT_EQ(Eval("10 - 4 - 3 == 3"), kTrue);
  EXPECT_EQ(Eval("-2 * -3 == 6"), kTrue);
}

TEST(CheckExprTest, FieldNames) {
  auto e = MustParse("a > 0 and length(b) < a or c is null or lower(d) in [\"x\"]");
  EXPECT_EQ(e->FieldNames(), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(MustParse("length > 0")->FieldNames(), std::vector<std::string>{"length"});
  EXPECT_TRUE(MustParse("1 < 2")->FieldNames().empty());
  EXPECT_EQ(MustParse("_x1 == X_2")->FieldNames(), (std::vector<std::string>{"_x1", "X_2"}));
}

TEST(CheckExprTest, SyntaxErrors) {
  EXPECT_EQ(ParseError(""), "column 1: expected an expression, found end of expression");
  EXPECT_EQ(ParseError("   "), "column 4: expected an expression, found end of expression");
  EXPECT_EQ(ParseError("a >"),
            "column 4: expected an operand (a field, literal, function call or '('), found end of "
            "expression");
  EXPECT_EQ(ParseError("a = 1"), "column 3: expected '==' to compare, found '='");
  EXPECT_EQ(ParseError("a ! b"), "column 3: expected '!=' (or 'not' to negate), found '!'");
  EXPECT_EQ(ParseError("(a > 1"), "column 7: expected ')', found end of expression");
  EXPECT_EQ(ParseError("a < b < c"),
            "column 7: expected 'and' or 'or' (comparisons do not chain), found '<'");
  EXPECT_EQ(ParseError("a is null is null"),
            "column 11: expected 'and' or 'or' (comparisons do not chain), found 'is'");
  EXPECT_EQ(ParseError("a b"),
            "column 3: expected 'and', 'or' or the end of the expression, found 'b'");
  EXPECT_EQ(ParseError("a not b"),
            "column 3: expected 'and', 'or' or the end of the expression, found 'not'");
  EXPECT_EQ(ParseError("a > 1)"),
            "column 6: expected 'and', 'or' or the end of the expression, found ')'");
  EXPECT_EQ(ParseError("and"),
            "column 1: expected an operand (a field, literal, function call or '('), found 'and'");
  EXPECT_EQ(ParseError("a # b"),
            "column 3: expected a field, literal, operator or parenthesis, found '#'");
  EXPECT_EQ(ParseError("a > \xC3\xA9"),
            "column 5: expected a field, literal, operator or parenthesis, found byte 0xC3");
  EXPECT_EQ(ParseError("a >= .5"),
            "column 6: expected a field, literal, operator or parenthesis, found '.'");
  EXPECT_EQ(ParseError("1and"), "column 2: expected an operator after the number, found 'a'");
  EXPECT_EQ(ParseError("A AND b"),
            "column 3: expected 'and', 'or' or the end of the expression, found 'AND'");
}

TEST(CheckExprTest, LiteralErrors) {
  EXPECT_EQ(ParseError("a > 01"), "column 5: expected a number without leading zeros, found '1'");
  EXPECT_EQ(ParseError("a > 1."), "column 7: expected a digit after '.', found end of expression");
  EXPECT_EQ(ParseError("a > 1.x"), "column 7: expected a digit after '.', found 'x'");
  EXPECT_EQ(ParseError("a > 1e+"),
            "column 8: expected a digit in the exponent, found end of expression");
  EXPECT_EQ(ParseError("a > 1x"), "column 6: expected an operator after the number, found 'x'");
  EXPECT_EQ(ParseError("a > 1.5.2"), "column 8: expected an operator after the number, found '.'");
  EXPECT_EQ(ParseError("a > 1e999"),
            "column 5: expected a number within the range of a double, found number 1e999");
  EXPECT_EQ(ParseError("a == \"abc"),
            "column 10: expected '\"' to close the string, found end of input");
  EXPECT_EQ(ParseError("a == \"x\\q\""),
            "column 9: expected an escape character (\" \\ / b f n r t u), found 'q'");
  EXPECT_EQ(
      ParseError("a == \"\\ud800\""),
      "column 13: expected a low surrogate escape (\\uDC00-\\uDFFF) after \\uD800, found '\"'");
  EXPECT_NE(ParseError("a == \"\xFF\"").find("column 7: expected valid UTF-8"), std::string::npos);
  EXPECT_NE(ParseError("a == \"tab\there\"").find("column 10: expected a string character"),
            std::string::npos);
}

TEST(CheckExprTest, StructureErrors) {
  EXPECT_EQ(ParseError("foo(a) > 1"),
            "column 1: expected a function (length, lower, upper, abs), found 'foo'");
  EXPECT_EQ(ParseError("length(a, b) > 1"),
            "column 9: expected ')' after the one argument of length, found ','");
  EXPECT_EQ(ParseError("length() > 1"),
            "column 8: expected an operand (a field, literal, function call or '('), found ')'");
  EXPECT_EQ(ParseError("a in [b]"),
            "column 7: expected a literal (number, string, true, false or null) in the list, "
            "found 'b'");
  EXPECT_EQ(ParseError("a in [1,]"),
            "column 9: expected a literal (number, string, true, false or null) in the list, "
            "found ']'");
  EXPECT_EQ(ParseError("a in [1 2]"), "column 9: expected ',' or ']', found number 2");
  EXPECT_EQ(ParseError("a in 1"), "column 6: expected '[' to start the list, found number 1");
  EXPECT_EQ(ParseError("a not in (1)"), "column 10: expected '[' to start the list, found '('");
  EXPECT_EQ(ParseError("a like b"), "column 8: expected a string pattern after 'like', found 'b'");
  EXPECT_EQ(ParseError("a like \"x\\\\\""),
            "column 8: expected a character after the final '\\' of the like pattern, found end "
            "of pattern");
  EXPECT_EQ(ParseError("a is 5"),
            "column 6: expected 'null' or 'not null' after 'is', found number 5");
  EXPECT_EQ(ParseError("a is not true"), "column 10: expected 'null' after 'is not', found 'true'");
}

TEST(CheckExprTest, MistakesCaughtAtParse) {
  EXPECT_EQ(ParseError("a == null"),
            "column 3: expected 'is null' or 'is not null' to test for null, found '== null' "
            "(always unknown)");
  EXPECT_NE(ParseError("null != a").find("'!= null'"), std::string::npos);
  EXPECT_EQ(ParseError("a + 1"),
            "column 1: expected a condition (a comparison, in, like, is null, and, or, not), "
            "found number 'a + 1'");
  EXPECT_EQ(ParseError("a and 5"),
            "column 7: expected a condition (a comparison, in, like, is null, and, or, not), "
            "found number '5'");
  EXPECT_NE(ParseError("not \"x\"").find("found string '\"x\"'"), std::string::npos);
  EXPECT_NE(ParseError("length(a)").find("found number 'length(a)'"), std::string::npos);
  EXPECT_EQ(ParseError("\"x\" + 1 > 0"),
            "column 1: expected a number in arithmetic, found string '\"x\"'");
  EXPECT_NE(ParseError("a + true > 0").find("expected a number in arithmetic, found boolean"),
            std::string::npos);
  EXPECT_NE(ParseError("-\"x\" > 0").find("expected a number after unary '-'"), std::string::npos);
  EXPECT_NE(ParseError("(a > 1) + 1 > 0").find("found boolean 'a > 1'"), std::string::npos);
  EXPECT_EQ(ParseError("length(5) > 0"),
            "column 8: expected a string for length, found number '5'");
  EXPECT_NE(ParseError("upper(a > b) == \"X\"").find("expected a string for upper"),
            std::string::npos);
  EXPECT_NE(ParseError("length(x or y) > 0").find("expected a string for length, found boolean"),
            std::string::npos);
  EXPECT_NE(ParseError("abs(\"x\") > 0").find("expected a number for abs"), std::string::npos);
  EXPECT_EQ(ParseError("length(s) == \"3\""),
            "column 11: expected operands of the same type, found number == string");
  EXPECT_NE(ParseError("true < 1").find("found boolean < number"), std::string::npos);
  EXPECT_NE(ParseError("5 like \"x\"").find("expected a string to match with like"),
            std::string::npos);
  // Long operands are cut short in messages.
  std::string long_sum = "a";
  for (int i = 0; i < 30; ++i) long_sum += " + a";
  EXPECT_NE(ParseError(long_sum).find("'a + a + a + a + a + a + a + a + a + a + ...'"),
            std::string::npos);
}

TEST(CheckExprTest, Limits) {
  auto parens = [](int n) { return std::string(n, '(') + "a" + std::string(n, ')'); };
  EXPECT_TRUE(ParseCheckExpr(parens(64)).ok());
  EXPECT_EQ(ParseError(parens(65)),
            "column 65: expected at most 64 levels of nesting, found deeper nesting");
  EXPECT_NE(ParseError(std::string(60000, '(')).find("levels of nesting"), std::string::npos);
  EXPECT_NE(ParseError(std::string(60000, '-') + "a > 0").find("levels of nesting"),
            std::string::npos);

  auto nots = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "not ";
    return s + "a";
  };
  EXPECT_TRUE(ParseCheckExpr(nots(63)).ok());  // 63 nots + the field: 64 levels
  EXPECT_NE(ParseError(nots(64)).find("levels of nesting"), std::string::npos);
  EXPECT_NE(ParseError(nots(15000)).find("levels of nesting"), std::string::npos);

  auto sum = [](int terms) {
    std::string s = "a";
    for (int i = 1; i < terms; ++i) s += "+a";
    return s + " > 0";
  };
  EXPECT_TRUE(ParseCheckExpr(sum(63)).ok());  // 62 additions + leaf + comparison
  EXPECT_NE(ParseError(sum(64)).find("levels of nesting"), std::string::npos);
  EXPECT_NE(ParseError(sum(30000)).find("levels of nesting"), std::string::npos);

  // A long flat chain of `or` is one level.
  std::string chain = "a == 0";
  for (int i = 1; i < 3000; ++i) chain += " or a == " + std::to_string(i);
  auto e = MustParse(chain);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->Evaluate([](std::string_view) { return Value::Int64(2999); }), kTrue);

  std::string big = "a in [" + std::string(kMaxCheckExprSize, ' ') + "]";
  EXPECT_EQ(ParseError(big), "column 1: expected an expression of at most 65536 bytes, found " +
                                 std::to_string(big.size()) + " bytes");
}

// The SQL truth tables, with t/f/n fields holding true/false/null.
TEST(CheckExprTest, ThreeValuedLogic) {
  const Row row = {{"t", kTrue}, {"f", kFalse}, {"n", kNull}};
  struct Case {
    const char* text;
    Value want;
  };
  const Case cases[] = {
      {"t and t", kTrue},
      {"t and f", kFalse},
      {"t and n", kNull},
      {"f and t", kFalse},
      {"f and f", kFalse},
      {"f and n", kFalse},
      {"n and t", kNull},
      {"n and f", kFalse},
      {"n and n", kNull},
      {"t or t", kTrue},
      {"t or f", kTrue},
      {"t or n", kTrue},
      {"f or t", kTrue},
      {"f or f", kFalse},
      {"f or n", kNull},
      {"n or t", kTrue},
      {"n or f", kNull},
      {"n or n", kNull},
      {"not t", kFalse},
      {"not f", kTrue},
      {"not n", kNull},
      {"n is null", kTrue},
      {"t is null", kFalse},
      {"n is not null", kFalse},
      {"f is not null", kTrue},
      {"t and t and n", kNull},
      {"n and t and f", kFalse},
      {"f or n or t", kTrue},
      {"not (n and f)", kTrue},
      {"not (n or t)", kFalse},
      // Any comparison with null is unknown, != and not in included.
      {"x == 1", kNull},
      {"x != 1", kNull},
      {"x < 1", kNull},
      {"1 >= x", kNull},
      {"x in [1, 2]", kNull},
      {"x not in [1, 2]", kNull},
      {"x like \"%\"", kNull},
      {"x not like \"%\"", kNull},
      {"x + 1 > 0", kNull},
      {"-x < 0", kNull},
      {"length(x) > 0", kNull},
      {"x is null", kTrue},
      {"x is not null", kFalse},
      {"n == n", kNull},
      {"x == 1 or x is null", kTrue},
  };
  for (const Case& c : cases) EXPECT_EQ(Eval(c.text, row), c.want) << c.text;
}

TEST(CheckExprTest, InWithNulls) {
  auto x = [](int64_t v) { return Row{{"x", Value::Int64(v)}}; };
  EXPECT_EQ(Eval("x in [1, null]", x(1)), kTrue);
  EXPECT_EQ(Eval("x in [1, null]", x(2)), kNull);
  EXPECT_EQ(Eval("x not in [1, null]", x(1)), kFalse);
  EXPECT_EQ(Eval("x not in [1, null]", x(2)), kNull);
  EXPECT_EQ(Eval("x in []", x(2)), kFalse);
  EXPECT_EQ(Eval("x not in []", x(2)), kTrue);
  EXPECT_EQ(Eval("x in [1, 2.0, \"s\"]", x(2)), kTrue);  // numeric across types
  EXPECT_EQ(Eval("x in [-1]", x(-1)), kTrue);
  EXPECT_EQ(Eval("x not in [\"a\", \"b\"]", x(1)), kTrue);  // incompatible: no element equal
  EXPECT_EQ(Eval("status in [\"draft\", \"published\"]", {{"status", Value::String("draft")}}),
            kTrue);
  EXPECT_EQ(Eval("status in [\"draft\", \"published\"]", {{"status", Value::String("gone")}}),
            kFalse);
}

TEST(CheckExprTest, CheckPasses) {
  EXPECT_TRUE(CheckPasses(kTrue));
  EXPECT_TRUE(CheckPasses(kNull));
  EXPECT_FALSE(CheckPasses(kFalse));
  // Evaluate only returns Bool or Null: a non-boolean result is false.
  EXPECT_EQ(Eval("title", {{"title", Value::String("x")}}), kFalse);
  EXPECT_EQ(Eval("flag", {{"flag", kTrue}}), kTrue);
  EXPECT_EQ(Eval("flag"), kNull);
  EXPECT_EQ(Eval("flag and true", {{"flag", Value::Int64(1)}}), kFalse);
  EXPECT_EQ(Eval("not flag", {{"flag", Value::Int64(1)}}), kTrue);
}

TEST(CheckExprTest, NumericComparisons) {
  const Row row = {
      {"i32", Value::Int32(5)},
      {"i64", Value::Int64(5)},
      {"f", Value::Float64(5.0)},
      {"half", Value::Float64(5.5)},
      {"ts", Value::Timestamp(5)},
      {"big", Value::Int64((int64_t{1} << 53) + 1)},
      {"big_f", Value::Float64(static_cast<double>(int64_t{1} << 53))},
      {"max", Value::Int64(std::numeric_limits<int64_t>::max())},
      {"nan", Value::Float64(std::nan(""))},
      {"inf", Value::Float64(std::numeric_limits<double>::infinity())},
  };
  EXPECT_EQ(Eval("i32 == i64", row), kTrue);
  EXPECT_EQ(Eval("i32 == f", row), kTrue);
  EXPECT_EQ(Eval("f == i64", row), kTrue);
  EXPECT_EQ(Eval("ts == i32", row), kTrue);
  EXPECT_EQ(Eval("i64 < half", row), kTrue);
  EXPECT_EQ(Eval("half > i32", row), kTrue);
  EXPECT_EQ(Eval("half <= 5", row), kFalse);
  EXPECT_EQ(Eval("-6 < -half", row), kTrue);
  // Exact: 2^53 + 1 is not equal to 2^53 even though it rounds to it.
  EXPECT_EQ(Eval("big > big_f", row), kTrue);
  EXPECT_EQ(Eval("big != big_f", row), kTrue);
  EXPECT_EQ(Eval("max < 9223372036854775808", row), kTrue);
  EXPECT_EQ(Eval("max > 9.2e18", row), kTrue);
  EXPECT_EQ(Eval("max < inf", row), kTrue);
  EXPECT_EQ(Eval("-9223372036854775808 > -inf", row), kTrue);
  // NaN is unordered.
  EXPECT_EQ(Eval("nan == nan", row), kFalse);
  EXPECT_EQ(Eval("nan != nan", row), kTrue);
  EXPECT_EQ(Eval("nan < 1", row), kFalse);
  EXPECT_EQ(Eval("nan >= 1", row), kFalse);
  EXPECT_EQ(Eval("i64 != nan", row), kTrue);
  EXPECT_EQ(Eval("1 <= 1 and 1 >= 1 and not 1 < 1 and not 1 > 1", row), kTrue);
}

TEST(CheckExprTest, OtherComparisons) {
  Uuid u = *ParseUuid("123e4567-e89b-12d3-a456-426614174000");
  const Row row = {
      {"s", Value::String("abc")},
      {"upper", Value::String("B")},
      {"accent", Value::String("\xC3\xA9")},
      {"bytes", Value::Bytes("abc")},
      {"yes", kTrue},
      {"no", kFalse},
      {"ts", Value::Timestamp(*ParseTimestamp("2024-05-01T12:00:00Z"))},
      {"id", Value::MakeUuid(u)},
      {"i", Value::Int64(1)},
  };
  EXPECT_EQ(Eval("s == \"abc\"", row), kTrue);
  EXPECT_EQ(Eval("s < \"abd\"", row), kTrue);
  EXPECT_EQ(Eval("s < \"ab\"", row), kFalse);
  EXPECT_EQ(Eval("upper < s", row), kTrue);       // bytewise: 'B' < 'a'
  EXPECT_EQ(Eval("accent > \"z\"", row), kTrue);  // bytewise: 0xC3 > 'z'
  EXPECT_EQ(Eval("no < yes", row), kTrue);
  EXPECT_EQ(Eval("yes == true", row), kTrue);
  EXPECT_EQ(Eval("ts > \"2024-05-01\"", row), kTrue);
  EXPECT_EQ(Eval("ts == \"2024-05-01T14:00:00+02:00\"", row), kTrue);
  EXPECT_EQ(Eval("\"2025-01-01\" > ts", row), kTrue);
  EXPECT_EQ(Eval("id == \"123E4567-E89B-12D3-A456-426614174000\"", row), kTrue);
  EXPECT_EQ(Eval("id < \"ffffffff-ffff-ffff-ffff-ffffffffffff\"", row), kTrue);
  // Incompatible types are false for every operator, != included.
  EXPECT_EQ(Eval("s == 1", row), kFalse);
  EXPECT_EQ(Eval("s != 1", row), kFalse);
  EXPECT_EQ(Eval("s < i", row), kFalse);
  EXPECT_EQ(Eval("bytes == s", row), kFalse);
  EXPECT_EQ(Eval("bytes != s", row), kFalse);
  EXPECT_EQ(Eval("yes == i", row), kFalse);
  EXPECT_EQ(Eval("ts == \"not a time\"", row), kFalse);
  EXPECT_EQ(Eval("id != \"not a uuid\"", row), kFalse);
}

TEST(CheckExprTest, Arithmetic) {
  const Row row = {
      {"a", Value::Int64(7)},
      {"b", Value::Int32(2)},
      {"z", Value::Int64(0)},
      {"f", Value::Float64(2.0)},
      {"max", Value::Int64(std::numeric_limits<int64_t>::max())},
      {"min", Value::Int64(std::numeric_limits<int64_t>::min())},
      {"s", Value::String("x")},
  };
  EXPECT_EQ(Eval("a + b == 9", row), kTrue);
  EXPECT_EQ(Eval("a - b == 5", row), kTrue);
  EXPECT_EQ(Eval("a * b == 14", row), kTrue);
  EXPECT_EQ(Eval("a / b == 3", row), kTrue);  // integer division truncates
  EXPECT_EQ(Eval("-a / b == -3", row), kTrue);
  EXPECT_EQ(Eval("a / f == 3.5", row), kTrue);
  EXPECT_EQ(Eval("a * 0.5 == 3.5", row), kTrue);
  EXPECT_EQ(Eval("-f == -2", row), kTrue);
  EXPECT_EQ(Eval("-b == -2", row), kTrue);
  // Overflow, division by zero and non-numbers are unknown: the check passes.
  EXPECT_EQ(Eval("max + 1 > 0", row), kNull);
  EXPECT_EQ(Eval("min - 1 < 0", row), kNull);
  EXPECT_EQ(Eval("max * 2 > 0", row), kNull);
  EXPECT_EQ(Eval("min / -1 > 0", row), kNull);
  EXPECT_EQ(Eval("-min > 0", row), kNull);
  EXPECT_EQ(Eval("a / z > 0", row), kNull);
  EXPECT_EQ(Eval("a / 0.0 > 0", row), kNull);
  EXPECT_EQ(Eval("s + 1 > 0", row), kNull);
  EXPECT_EQ(Eval("-s < 0", row), kNull);
  EXPECT_EQ(Eval("max + 1.0 > 0", row), kTrue);  // double arithmetic does not overflow
}

TEST(CheckExprTest, Functions) {
  const Row row = {
      {"s", Value::String("h\xC3\xA9llo \xF0\x9F\x98\x80")},
      {"bin", Value::Bytes(std::string("\xC3\xA9\x00", 3))},
      {"mixed", Value::String("MiXeD \xC3\x89")},
      {"n", Value::Int64(-5)},
      {"i32", Value::Int32(std::numeric_limits<int32_t>::min())},
      {"f", Value::Float64(-2.5)},
      {"min", Value::Int64(std::numeric_limits<int64_t>::min())},
      {"i", Value::Int64(3)},
  };
  EXPECT_EQ(Eval("length(s) == 7", row), kTrue);  // code points, not bytes
  EXPECT_EQ(Eval("length(bin) == 3", row), kTrue);
  EXPECT_EQ(Eval("length(\"\") == 0", row), kTrue);
  EXPECT_EQ(Eval("lower(mixed) == \"mixed \xC3\x89\"", row), kTrue);  // ASCII only
  EXPECT_EQ(Eval("upper(mixed) == \"MIXED \xC3\x89\"", row), kTrue);
  EXPECT_EQ(Eval("abs(n) == 5", row), kTrue);
  EXPECT_EQ(Eval("abs(i32) == 2147483648", row), kTrue);
  EXPECT_EQ(Eval("abs(f) == 2.5", row), kTrue);
  EXPECT_EQ(Eval("abs(min) > 0", row), kNull);
  EXPECT_EQ(Eval("length(i) > 0", row), kNull);  // wrong type: unknown
  EXPECT_EQ(Eval("lower(i) == \"3\"", row), kNull);
  EXPECT_EQ(Eval("abs(s) > 0", row), kNull);
  EXPECT_EQ(Eval("length(missing) > 0", row), kNull);
  EXPECT_EQ(Eval("length(title) > 0", {{"title", Value::String("")}}), kFalse);
  EXPECT_EQ(Eval("length(title) > 0", {{"title", Value::String("Hi")}}), kTrue);
}

TEST(CheckExprTest, Like) {
  struct Case {
    std::string subject, pattern;
    bool match;
  };
  const Case cases[] = {
      {"abc", "abc", true},
      {"abc", "ab", false},
      {"abc", "abcd", false},
      {"abc", "a%", true},
      {"abc", "%c", true},
      {"abc", "%b%", true},
      {"abc", "%", true},
      {"", "%", true},
      {"", "", true},
      {"a", "", false},
      {"", "_", false},
      {"abc", "a_c", true},
      {"abc", "___", true},
      {"abc", "__", false},
      {"abc", "ABC", false},    // case-sensitive
      {"\xC3\xA9", "_", true},  // one character, two bytes
      {"a\xC3\xA9z", "a_z", true},
      {"\xF0\x9F\x98\x80", "_", true},
      {"\xC3\xA9", "__", false},
      {"a%c", "a\\%c", true},
      {"abc", "a\\%c", false},
      {"a_c", "a\\_c", true},
      {"abc", "a\\_c", false},
      {"a\\b", "a\\\\b", true},
      {"ab", "\\a\\b", true},  // escaping an ordinary character is allowed
      {"aaa", "%a%a%a%", true},
      {"aa", "%a%a%a%", false},
      {"mississippi", "m%iss%pi", true},
      {"mississippi", "m%iss%pix", false},
      {"xyz", "%%", true},
      {"ann@example.com", "%@%", true},
      {"example.com", "%@%", false},
      {"abcabc", "%abc", true},
      {"abcab", "%abc", false},
      {"h\xC3\xA9llo", "h%o", true},
      {"h\xC3\xA9llo", "h_llo", true},
  };
  for (const Case& c : cases) {
    std::string pattern;
    AppendJsonString(&pattern, c.pattern);
    const Row row = {{"x", Value::String(c.subject)}};
    EXPECT_EQ(Eval("x like " + pattern, row), Value::Bool(c.match))
        << "'" << c.subject << "' like '" << c.pattern << "'";
    EXPECT_EQ(Eval("x not like " + pattern, row), Value::Bool(!c.match))
        << "'" << c.subject << "' not like '" << c.pattern << "'";
  }
  // A non-string operand is false either way.
  EXPECT_EQ(Eval("x like \"%\"", {{"x", Value::Int64(1)}}), kFalse);
  EXPECT_EQ(Eval("x not like \"%\"", {{"x", Value::Int64(1)}}), kFalse);
  EXPECT_EQ(Eval("x like \"%\"", {{"x", Value::Bytes("a")}}), kFalse);
  EXPECT_EQ(Eval("lower(x) like \"ab%\"", {{"x", Value::String("ABC")}}), kTrue);

  // Adversarial patterns stay fast (one backtrack point, no exponential
  // search).
  const Row long_a = {{"x", Value::String(std::string(20000, 'a'))}};
  EXPECT_EQ(Eval("x like \"%a%a%a%a%a%a%a%a%b\"", long_a), kFalse);
  EXPECT_EQ(Eval("x like \"%a%a%a%a%a%a%a%a%\"", long_a), kTrue);
}

// Parsing what ToString prints gives back the same tree, printed the same.
TEST(CheckExprTest, ToStringRoundTrips) {
  const char* corpus[] = {
      "length(title) > 0",
      "age >= 0 and age < 150 or age is null",
      "status in [\"draft\", \"published\"] and not (a == b) or c is null",
      "email like \"%@%\" and email not like \"% %\"",
      "-(-(5)) < x and -x * 2 - (3 - y) / 4 >= 1.5e-7",
      "not not (a or b) and (c or d) and not e",
      "x in [-1, 0.5, \"\\u00e9\\n\", true, false, null] or x not in []",
      "upper(lower(s)) == \"A\\\"B\\\\C\" and abs(n - 1) <= 2",
      "(a == b) == (c != d)",
      "a or (b or (c or d))",
      "((a and b) and c) and d",
  };
  for (const char* text : corpus) {
    auto first = MustParse(text);
    ASSERT_NE(first, nullptr) << text;
    std::string printed = first->ToString();
    auto second = MustParse(printed);
    ASSERT_NE(second, nullptr) << printed;
    EXPECT_EQ(second->ToString(), printed) << text;
    EXPECT_EQ(second->FieldNames(), first->FieldNames());
  }
}

// A lookup that gives each field a value chosen by its name, so random
// expressions meet all kinds of values.
Value FuzzValue(std::string_view field) {
  static const Value kValues[] = {
      Value::Null(),
      Value::Bool(true),
      Value::Bool(false),
      Value::Int32(-3),
      Value::Int64(std::numeric_limits<int64_t>::min()),
      Value::Int64(42),
      Value::Float64(2.5),
      Value::Float64(std::nan("")),
      Value::String("h\xC3\xA9llo"),
      Value::String(""),
      Value::Bytes(std::string("\x00\xFF", 2)),
      Value::Timestamp(0),
      Value::MakeUuid(Uuid{}),
      Value::Json("{}"),
  };
  size_t h = std::hash<std::string_view>()(field);
  return kValues[h % std::size(kValues)];
}

// Random edits of valid expressions: every result is a parse or a clean
// INVALID_ARGUMENT; every parse prints, re-parses to the same text and
// evaluates to Bool or Null.
TEST(CheckExprTest, MutationFuzzNeverCrashes) {
  const std::vector<std::string> seeds = {
      "length(title) > 0",
      "age >= 0 and age < 150",
      "status in [\"draft\", \"published\"]",
      "not (a == b) or c is null",
      "email like \"%@%\"",
      "-x * (y + 2.5e3) / z != abs(w) and upper(s) not like \"A\\\\_%\"",
      "a not in [1, -2, null] or b is not null and not not c",
  };
  const std::string alphabet = "()[]\"\\,.+-*/=!<>%_ abcnotiul0123456789eE\t\x80\xC3\xA9";
  std::mt19937 rng(2024);
  int parsed = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    std::string text = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % (text.size() + 1);
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 5) {
        case 0:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(pos), c);
          break;
        case 1:
          if (pos < text.size()) text.erase(pos, 1);
          break;
        case 2:
          if (pos < text.size()) text[pos] = c;
          break;
        case 3:  // duplicate a slice: grows nesting and chains
          if (pos < text.size()) {
            size_t len = 1 + rng() % 12;
            text.insert(pos, text.substr(pos, len));
          }
          break;
        case 4:  // keywords
          text.insert(pos, std::string(" ") +
                               std::vector<const char*>{"not", "and", "or", "in", "is", "null",
                                                        "like", "true", "("}[rng() % 9] +
                               " ");
          break;
      }
    }
    Result<std::unique_ptr<CheckExpr>> r = ParseCheckExpr(text);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
      EXPECT_EQ(r.status().message().rfind("column ", 0), 0u) << r.status().message();
      continue;
    }
    ++parsed;
    const CheckExpr& e = **r;
    std::string printed = e.ToString();
    Result<std::unique_ptr<CheckExpr>> again = ParseCheckExpr(printed);
    ASSERT_TRUE(again.ok()) << text << " printed as " << printed << ": "
                            << again.status().ToString();
    EXPECT_EQ((*again)->ToString(), printed) << text;
    Value v = e.Evaluate(FuzzValue);
    EXPECT_TRUE(v.is_null() || v.type() == ValueType::kBool) << text;
    EXPECT_EQ((*again)->Evaluate(FuzzValue), v) << text;
    (void)e.FieldNames();
  }
  RecordProperty("parsed", parsed);
  EXPECT_GT(parsed, 100);
}

}  // namespace
}  // namespace ormdb::catalog
