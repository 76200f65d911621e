// The pieces the three text languages share: scanners, positions, the
// like matcher and the predicate comparison.
#include "common/lexer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/like_pattern.h"
#include "common/value_compare.h"

namespace ormdb {
namespace {

TEST(LexerTest, PositionsCountCodePoints) {
  const std::string_view text = "ab\n\xC3\xA9x";
  EXPECT_EQ(PositionOf(text, 0).column, 1);
  EXPECT_EQ(PositionOf(text, 3).line, 2);
  EXPECT_EQ(PositionOf(text, 5).column, 2);  // after the two-byte 'é'
  EXPECT_EQ(FormatAt("q", PositionOf(text, 5), "m"), "q:2:2: m");
  TextCursor c("\xEF\xBB\xBFx");
  c.SkipByteOrderMark();
  EXPECT_EQ(c.Peek(), 'x');
  EXPECT_EQ(c.Here().column, 1);
}

TEST(LexerTest, DescribesCharacters) {
  EXPECT_EQ(DescribeCharAt("\n", 0), "end of line");
  EXPECT_EQ(DescribeCharAt("\x07", 0), "control character 0x07");
  EXPECT_EQ(DescribeCharAt("'", 0), "character \"'\"");
  EXPECT_EQ(DescribeCharAt("x", 0), "character 'x'");
  EXPECT_EQ(DescribeCharAt("\xC3\xA9", 0), "character '\xC3\xA9'");
  EXPECT_EQ(DescribeCharAt("\xC3", 0), "invalid UTF-8 byte 0xc3");
  EXPECT_EQ(Shorten(std::string(50, 'a')), std::string(40, 'a') + "...");
}

TEST(LexerTest, ScansNumbersWithJsonSyntax) {
  NumberScan s = ScanNumber("-12.5e3)", 0);
  EXPECT_EQ(s.problem, NumberScan::Problem::kNone);
  EXPECT_EQ(s.end, 7u);
  EXPECT_TRUE(s.is_float);
  EXPECT_TRUE(ScanNumber("012", 0).leading_zero);
  EXPECT_FALSE(ScanNumber("0.12", 0).leading_zero);
  EXPECT_EQ(ScanNumber("1.x", 0).problem, NumberScan::Problem::kFractionDigit);
  EXPECT_EQ(ScanNumber("1.x", 0).error_offset, 2u);
  EXPECT_EQ(ScanNumber("1e+", 0).problem, NumberScan::Problem::kExponentDigit);
  s = ScanNumber("12ab.c d", 0);
  EXPECT_EQ(s.problem, NumberScan::Problem::kTrailing);
  EXPECT_EQ(s.error_offset, 2u);
  EXPECT_EQ(s.end, 6u);
}

TEST(LexerTest, ScansStringsWithJsonEscapes) {
  StringScan s = ScanString(R"(x "a\n\u00e9" y)", 2);
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.value, "a\n\xC3\xA9");
  EXPECT_EQ(s.end, 13u);
  s = ScanString("\"abc\nd\"", 0);
  EXPECT_FALSE(s.ok);
  EXPECT_TRUE(s.unterminated);
  s = ScanString(R"("a\qb")", 0);
  EXPECT_FALSE(s.ok);
  EXPECT_FALSE(s.unterminated);
  EXPECT_EQ(s.error_offset, 3u);
  EXPECT_NE(s.message.find("escape"), std::string::npos);
  EXPECT_EQ(ScanName("ab_1 c", 0), 4u);
  EXPECT_TRUE(IsName("_a1"));
  EXPECT_FALSE(IsName("1a"));
}

TEST(LikePatternTest, Wildcards) {
  EXPECT_TRUE(LikePattern("a%").Matches("abc"));
  EXPECT_TRUE(LikePattern("a%").Matches("a"));
  EXPECT_FALSE(LikePattern("a%").Matches("ba"));
  EXPECT_TRUE(LikePattern("%b%").Matches("abc"));
  EXPECT_TRUE(
      LikePattern("a_c").Matches("a\xC3\xA9"
                                 "c"));  // '_' is one character
  EXPECT_FALSE(LikePattern("__").Matches("\xC3\xA9"));
  EXPECT_TRUE(LikePattern("100\\%").Matches("100%"));
  EXPECT_FALSE(LikePattern("100\\%").Matches("1000"));
  EXPECT_TRUE(LikePattern("%%a%%").Matches("xax"));
  EXPECT_TRUE(LikePattern("").Matches(""));
  EXPECT_FALSE(LikePattern("").Matches("a"));
  EXPECT_EQ(LikePattern("ab\\_c%d").prefix(), "ab_c");
  EXPECT_TRUE(LikePattern::EndsInLoneEscape("ab\\"));
  EXPECT_FALSE(LikePattern::EndsInLoneEscape("ab\\\\"));
}

TEST(LikePatternTest, NeverExponential) {
  const std::string text(2000, 'a');
  EXPECT_FALSE(LikePattern("%a%a%a%a%a%a%a%a%b").Matches(text));
}

TEST(ValueCompareTest, NumbersAcrossTypesExactly) {
  EXPECT_EQ(CompareForPredicate(Value::Int32(3), Value::Int64(3)), ValueOrder::kEqual);
  EXPECT_EQ(CompareForPredicate(Value::Int64(3), Value::Float64(3.5)), ValueOrder::kLess);
  EXPECT_EQ(CompareForPredicate(Value::Float64(3.5), Value::Int64(3)), ValueOrder::kGreater);
  // 2^53 + 1 is not a double: comparing through double would say equal.
  const int64_t big = (int64_t{1} << 53) + 1;
  EXPECT_EQ(CompareForPredicate(Value::Int64(big), Value::Float64(9007199254740992.0)),
            ValueOrder::kGreater);
  const Value nan = Value::Float64(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(CompareForPredicate(nan, Value::Float64(1)), ValueOrder::kUnordered);
  EXPECT_TRUE(Satisfies(ValueOrder::kUnordered, CompareOp::kNe));
  EXPECT_FALSE(Satisfies(ValueOrder::kUnordered, CompareOp::kEq));
  EXPECT_FALSE(Satisfies(ValueOrder::kUnordered, CompareOp::kLe));
}

TEST(ValueCompareTest, StringsBytesAndOtherTypes) {
  EXPECT_EQ(CompareForPredicate(Value::String("a"), Value::String("b")), ValueOrder::kLess);
  // Unsigned bytes: 'é' (0xC3 ...) sorts after 'z'.
  EXPECT_EQ(CompareForPredicate(Value::String("\xC3\xA9"), Value::String("z")),
            ValueOrder::kGreater);
  EXPECT_EQ(CompareForPredicate(Value::Bool(false), Value::Bool(true)), ValueOrder::kLess);
  EXPECT_EQ(CompareForPredicate(Value::String("1"), Value::Int64(1)), ValueOrder::kIncompatible);
  EXPECT_FALSE(Satisfies(ValueOrder::kIncompatible, CompareOp::kNe));
  EXPECT_EQ(CompareForPredicate(Value::Timestamp(0), Value::String("1970-01-01T00:00:00Z")),
            ValueOrder::kEqual);
  EXPECT_EQ(CompareForPredicate(Value::Timestamp(0), Value::String("not a time")),
            ValueOrder::kIncompatible);
}

}  // namespace
}  // namespace ormdb
