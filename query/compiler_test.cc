// The compiler's name resolution, type rules and like patterns, on the blog
// schema; plan choices are tested through EXPLAIN in the fetch suite.
#include "query/compiler.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "catalog/catalog.h"
#include "query/parser.h"
#include "query/test_util.h"

namespace ormdb::query {
namespace {

TEST(LikePattern, Wildcards) {
  EXPECT_TRUE(LikePattern("A%").Matches("Ann"));
  EXPECT_TRUE(LikePattern("A%").Matches("A"));
  EXPECT_FALSE(LikePattern("A%").Matches("bA"));
  EXPECT_TRUE(LikePattern("%n").Matches("Ann"));
  EXPECT_TRUE(LikePattern("_nn").Matches("Ann"));
  EXPECT_FALSE(LikePattern("_nn").Matches("Annn"));
  EXPECT_TRUE(LikePattern("%a%b%").Matches("xxaxxbxx"));
  EXPECT_FALSE(LikePattern("%a%b%").Matches("xxbxxaxx"));
  EXPECT_TRUE(LikePattern("").Matches(""));
  EXPECT_FALSE(LikePattern("").Matches("a"));
  EXPECT_TRUE(LikePattern("%").Matches(""));
  // `_` is one code point, not one byte.
  EXPECT_TRUE(LikePattern("_").Matches("é"));
  EXPECT_TRUE(LikePattern("caf_").Matches("café"));
  EXPECT_FALSE(LikePattern("__").Matches("é"));
  // Case-sensitive, whole string.
  EXPECT_FALSE(LikePattern("ann").Matches("Ann"));
  EXPECT_FALSE(LikePattern("An").Matches("Ann"));
}

TEST(LikePattern, EscapesAndPrefix) {
  EXPECT_TRUE(LikePattern("100\\%").Matches("100%"));
  EXPECT_FALSE(LikePattern("100\\%").Matches("1000"));
  EXPECT_TRUE(LikePattern("a\\_b").Matches("a_b"));
  EXPECT_FALSE(LikePattern("a\\_b").Matches("axb"));
  EXPECT_TRUE(LikePattern("a\\\\b").Matches("a\\b"));
  EXPECT_EQ(LikePattern("ab\\%c%d").prefix(), "ab%c");
  EXPECT_EQ(LikePattern("%x").prefix(), "");
  // Backtracking over a repeated prefix.
  EXPECT_TRUE(LikePattern("%aab").Matches("aaab"));
  EXPECT_TRUE(LikePattern("a%a%a").Matches("aaa"));
  EXPECT_FALSE(LikePattern("a%a%a").Matches("aa"));
}

class CompilerTest : public testing::BlogDatabaseTest {
 protected:
  void SetUp() override {
    BlogDatabaseTest::SetUp();
    stats_ = std::make_unique<Statistics>(store_.get(), catalog_.get());
  }

  Status Compile(std::string_view text) {
    auto q = ParseFetchText(text);
    if (!q.ok()) return q.status();
    return CompileFetch(*q, catalog_->current(), stats_.get(), UINT64_MAX).status();
  }

  Status Bind(std::string_view text, std::string_view params = "{}") {
    auto q = ParseFetchText(text);
    if (!q.ok()) return q.status();
    auto plan = CompileFetch(*q, catalog_->current(), stats_.get(), UINT64_MAX);
    if (!plan.ok()) return plan.status();
    auto p = ParseJson(params);
    return BindSlots(**plan, *q, *p).status();
  }

  std::unique_ptr<Statistics> stats_;
};

void ExpectError(const Status& s, ErrorCode code, std::string_view text) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(text), std::string::npos) << s.ToString();
}

TEST_F(CompilerTest, UnknownNamesSuggest) {
  ExpectError(Compile("Usr { name }"), ErrorCode::kSchemaError, "did you mean 'User'");
  ExpectError(Compile("User { nme }"), ErrorCode::kSchemaError, "did you mean 'name'");
  ExpectError(Compile("User { pots { title } }"), ErrorCode::kSchemaError, "did you mean 'posts'");
  ExpectError(Compile("User(where: agee > 1) { name }"), ErrorCode::kSchemaError,
              "query:1:13: unknown field 'agee' of User (did you mean 'age'?)");
  ExpectError(Compile("Post(where: author.nme == \"x\") { title }"), ErrorCode::kSchemaError,
              "did you mean 'name'");
}

TEST_F(CompilerTest, MisusedRelations) {
  ExpectError(Compile("User { posts }"), ErrorCode::kInvalidArgument, "select it with braces");
  ExpectError(Compile("User { name { x } }"), ErrorCode::kInvalidArgument, "not a relation");
  ExpectError(Compile("Post { author(limit: 1) { name } }"), ErrorCode::kInvalidArgument,
              "to-one relation");
  ExpectError(Compile("User(where: posts.title == \"x\") { name }"), ErrorCode::kInvalidArgument,
              "paths go through to-one relations only");
  ExpectError(Compile("User { name, name }"), ErrorCode::kInvalidArgument, "duplicate selection");
}

TEST_F(CompilerTest, TypeRules) {
  EXPECT_TRUE(Compile("User(where: age > 30) { name }").ok());
  EXPECT_TRUE(Compile("User(where: age > 29.5) { name }").ok());
  EXPECT_TRUE(Compile("User(where: created_at > \"2024-01-01T00:00:00Z\") { name }").ok());
  EXPECT_TRUE(Compile("User(where: created_at > 1700000000000000) { name }").ok());
  EXPECT_TRUE(Compile("Comment(where: author == 3) { body }").ok());
  ExpectError(Compile("User(where: age == \"30\") { name }"), ErrorCode::kInvalidArgument,
              "cannot compare User.age (int32) with a string");
  ExpectError(Compile("User(where: name == 3) { name }"), ErrorCode::kInvalidArgument,
              "cannot compare User.name (string) with an integer");
  ExpectError(Compile("User(where: name == age) { name }"), ErrorCode::kInvalidArgument,
              "cannot compare");
  ExpectError(Compile("User(where: age like \"3%\") { name }"), ErrorCode::kInvalidArgument,
              "like applies to string and enum fields");
  ExpectError(Compile("User(where: 1 == 1) { name }"), ErrorCode::kInvalidArgument,
              "needs a field on one side");
  ExpectError(Compile("User(where: 1 in [1]) { name }"), ErrorCode::kInvalidArgument,
              "query:1:13: the left side of in must be a field");
  ExpectError(Compile("User(where: \"a\" like \"a\") { name }"), ErrorCode::kInvalidArgument,
              "the left side of like must be a field");
  ExpectError(Compile("User(where: 1 is null) { name }"), ErrorCode::kInvalidArgument,
              "the operand of is null must be a field");
}

TEST_F(CompilerTest, BindingChecksValuesAndParameters) {
  ExpectError(Bind("Post(where: status == \"publishd\") { title }"), ErrorCode::kInvalidArgument,
              "did you mean 'published'");
  ExpectError(Bind("User(where: created_at > \"yesterday\") { name }"), ErrorCode::kInvalidArgument,
              "not an RFC 3339 timestamp");
  ExpectError(Bind("User(where: age > $a) { name }"), ErrorCode::kInvalidArgument,
              "missing parameter $a");
  ExpectError(Bind("User(where: age > $a) { name }", R"({"a": 1, "b": 2})"),
              ErrorCode::kInvalidArgument, "parameter $b is not used");
  ExpectError(Bind("User(where: age > $a) { name }", R"({"a": "x"})"), ErrorCode::kInvalidArgument,
              "cannot compare User.age");
  ExpectError(Bind("User(where: name like $p) { name }", R"({"p": "a\\"})"),
              ErrorCode::kInvalidArgument, "lone backslash");
  EXPECT_TRUE(Bind("User(where: age in [$a, 3]) { name }", R"({"a": 1})").ok());
}

}  // namespace
}  // namespace ormdb::query
