#include "query/parser.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "query/parse_rules.h"
#include "query/policy.h"

namespace ormdb::query {
namespace {

// The example of DESIGN.md §4, as written there.
constexpr std::string_view kDesignExample =
    R"(User(where: age >= 30 and name like "A%", order: [name asc, id asc], limit: 20, )"
    R"(after: "<cursor>") {
  id, name,
  posts(where: status == "published", order: created_at desc, limit: 5) {
    title, created_at,
    tags { name },
    comments(order: created_at desc, limit: 3) { body, author { name } }
  }
}
)";

// Valid queries covering every construct; also the seeds of the fuzz tests.
const std::vector<std::string>& Corpus() {
  static const auto* corpus = new std::vector<std::string>{
      std::string(kDesignExample),
      "User { id }",
      "User { a b, c, }",
      "User(where: a == 1 or b == 2 and not c == 3) { id }",
      "User(where: (a == 1 or b == 2) and c == 3) { id }",
      "User(where: not (a == 1 and b != 2) or (c < 3 or d <= 4)) { id }",
      "User(where: not not a.b.c is not null and x is null) { id }",
      R"(User(where: x in [1, 2.5, "s", true, false, $p] and y not in [] and z like $pat) { id })",
      R"(User(where: -5 < $q and 1e3 > 2.5e-3 and "a" >= b.c) { id })",
      R"(User(where: s == "a\"b\\c\u00e9\n\t\/" and t like "50\\%%") { id })",
      "User(order: desc desc) { where, order, desc, and, limit }",
      "User(limit: 0) { posts(limit: 1), author { name } }",
      "Post(order: [author.name desc, id]) { id, title, author { name, age } }",
      R"(Post(after: "", limit: 9223372036854775807) { tags(where: name == $tag) { name } })",
      "Comment(where: post.author.name like \"J_n%\" and created_at >= $since) {\n"
      "  body\n  post { title author { name } }\n}",
      "T(where: a == 1 and (b == 2 and (c == 3 and d == 4))) { id }",
      "T(where: (a == 1 or b == 2) and (c == 3 or d == 4) and not (e == 5 or f == 6)) { x }",
      "T(where: x == true or x == false or y == -0.0 or z == 1.5e300) { x }",
      "Movie { title, n: count(reviews), avg_rating: avg(reviews.rating) }",
      "User(order: posts_n desc) { posts_n: count(posts where status == \"published\"), "
      "last: max(posts.created_at where title like $p), d: count_distinct(posts.author.name), "
      "s: sum(posts.score where score > 1 and not score in [2, $x]), lo: min(posts.score) }",
  };
  return *corpus;
}

FetchQuery MustParse(std::string_view text) {
  Result<FetchQuery> q = ParseFetchText(text);
  EXPECT_TRUE(q.ok()) << q.status().ToString() << "\nin: " << text;
  return q.ok() ? std::move(q).value() : FetchQuery{};
}

// The message of a text that must fail with INVALID_ARGUMENT.
std::string TextError(std::string_view text) {
  Result<FetchQuery> q = ParseFetchText(text);
  if (q.ok()) return "unexpectedly OK: " + FetchToText(*q);
  EXPECT_EQ(q.status().code(), ErrorCode::kInvalidArgument) << q.status().ToString();
  return q.status().message();
}

Json MustParseJson(std::string_view text) {
  Result<Json> j = ParseJson(text, JsonLimits{.max_depth = kMaxJsonIrDepth});
  EXPECT_TRUE(j.ok()) << j.status().ToString();
  return j.ok() ? std::move(j).value() : Json();
}

std::string JsonError(std::string_view json_text) {
  Result<FetchQuery> q = ParseFetchJson(MustParseJson(json_text));
  if (q.ok()) return "unexpectedly OK: " + FetchToText(*q);
  EXPECT_EQ(q.status().code(), ErrorCode::kInvalidArgument) << q.status().ToString();
  return q.status().message();
}

// A compact rendering of an expression tree that shows its structure:
// (or (== a 1) (and ...)).
std::string Tree(const Expr& e) {
  auto children = [&e] {
    std::string out;
    for (const auto& child : e.children) out += " " + Tree(*child);
    return out;
  };
  switch (e.kind) {
    case Expr::Kind::kLiteral:
      return ToJson(e.literal);
    case Expr::Kind::kParam:
      return "$" + e.name;
    case Expr::Kind::kPath: {
      std::string out;
      for (const std::string& name : e.path) out += (out.empty() ? "" : ".") + name;
      return out;
    }
    case Expr::Kind::kCompare: {
      constexpr const char* kOps[] = {"==", "!=", "<", "<=", ">", ">="};
      return std::string("(") + kOps[static_cast<int>(e.op)] + children() + ")";
    }
    case Expr::Kind::kIn: {
      Json list = Json::Array(e.list);
      return std::string(e.negated ? "(not_in" : "(in") + children() + " " + ToJson(list) + ")";
    }
    case Expr::Kind::kLike:
      return "(like" + children() + ")";
    case Expr::Kind::kIsNull:
      return std::string(e.negated ? "(is_not_null" : "(is_null") + children() + ")";
    case Expr::Kind::kAnd:
      return "(and" + children() + ")";
    case Expr::Kind::kOr:
      return "(or" + children() + ")";
    case Expr::Kind::kNot:
      return "(not" + children() + ")";
    case Expr::Kind::kExists:
      return "(exists " + parse_rules::JoinPath(e.path) + children() + ")";
  }
  return "?";
}

std::string WhereTree(std::string_view predicate) {
  const FetchQuery q = MustParse("T(where: " + std::string(predicate) + ") { id }");
  return q.root.where ? Tree(*q.root.where) : "<none>";
}

// Text and JSON round trips, and canonical printing as a fixed point.
::testing::AssertionResult RoundTrips(const FetchQuery& q) {
  const std::string text = FetchToText(q);
  Result<FetchQuery> from_text = ParseFetchText(text);
  if (!from_text.ok()) {
    return ::testing::AssertionFailure()
           << "canonical text does not parse: " << from_text.status().ToString() << "\n"
           << text;
  }
  if (!SameFetch(q, *from_text)) {
    return ::testing::AssertionFailure() << "canonical text parses differently: " << text;
  }
  if (FetchToText(*from_text) != text) {
    return ::testing::AssertionFailure() << "canonical text is not a fixed point: " << text;
  }
  const Json ir = FetchToJson(q);
  Result<FetchQuery> from_json = ParseFetchJson(ir);
  if (!from_json.ok()) {
    return ::testing::AssertionFailure()
           << "JSON IR does not parse: " << from_json.status().ToString() << "\n"
           << ToJson(ir);
  }
  if (!SameFetch(q, *from_json)) {
    return ::testing::AssertionFailure() << "JSON IR parses differently: " << ToJson(ir);
  }
  Result<Json> reread = ParseJson(ToJson(ir), JsonLimits{.max_depth = kMaxJsonIrDepth});
  if (!reread.ok() || !(*reread == ir)) {
    return ::testing::AssertionFailure() << "JSON IR text does not read back: " << ToJson(ir);
  }
  if (ShapeKey(*from_json) != ShapeKey(q) || LiftedLiterals(*from_json) != LiftedLiterals(q)) {
    return ::testing::AssertionFailure() << "shape changed through JSON: " << ShapeKey(q);
  }
  return ::testing::AssertionSuccess();
}

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// ===========================================================================
// The design's example
// ===========================================================================

TEST(ParseFetchTextTest, DesignExampleParsesToExpectedIr) {
  const FetchQuery q = MustParse(kDesignExample);
  const Json expected = MustParseJson(R"({
    "entity": "User",
    "where": {"op": "and", "args": [
      {"op": ">=", "args": [{"path": "age"}, {"value": 30}]},
      {"op": "like", "args": [{"path": "name"}, {"value": "A%"}]}]},
    "order": [{"path": "name", "desc": false}, {"path": "id", "desc": false}],
    "limit": 20,
    "after": "<cursor>",
    "select": ["id", "name",
      {"include": "posts",
       "where": {"op": "==", "args": [{"path": "status"}, {"value": "published"}]},
       "order": [{"path": "created_at", "desc": true}],
       "limit": 5,
       "select": ["title", "created_at",
         {"include": "tags", "select": ["name"]},
         {"include": "comments", "order": [{"path": "created_at", "desc": true}], "limit": 3,
          "select": ["body", {"include": "author", "select": ["name"]}]}]}]})");
  EXPECT_EQ(ToJson(FetchToJson(q)), ToJson(expected));

  // The same facts, read off the IR directly.
  const Selection& root = q.root;
  EXPECT_EQ(root.name, "User");
  EXPECT_FALSE(root.is_include);
  EXPECT_EQ(root.limit, 20);
  EXPECT_EQ(root.after, "<cursor>");
  ASSERT_EQ(root.children.size(), 3u);
  EXPECT_FALSE(root.children[0].is_include);
  const Selection& posts = root.children[2];
  EXPECT_TRUE(posts.is_include);
  EXPECT_EQ(posts.limit, 5);
  ASSERT_EQ(posts.order.size(), 1u);
  EXPECT_TRUE(posts.order[0].descending);
  const Selection& tags = posts.children[2];
  EXPECT_TRUE(tags.is_include);
  EXPECT_FALSE(tags.limit.has_value());
  EXPECT_EQ(tags.where, nullptr);
  const Selection& author = posts.children[3].children[1];
  EXPECT_EQ(author.name, "author");
  EXPECT_TRUE(author.is_include);
  EXPECT_TRUE(RoundTrips(q));
}

TEST(ParseFetchTextTest, PositionsAreLineAndColumn) {
  const FetchQuery q = MustParse(kDesignExample);
  auto at = [](QueryPos pos) {
    return std::to_string(pos.line) + ":" + std::to_string(pos.column);
  };
  EXPECT_EQ(at(q.root.pos), "1:1");
  EXPECT_EQ(at(q.root.where->pos), "1:13");               // the and chain starts at `age`
  EXPECT_EQ(at(q.root.where->children[1]->pos), "1:27");  // name like ...
  EXPECT_EQ(at(q.root.where->children[1]->children[1]->pos), "1:37");  // "A%"
  EXPECT_EQ(at(q.root.order[1].pos), "1:61");
  EXPECT_EQ(at(q.root.children[0].pos), "2:3");
  EXPECT_EQ(at(q.root.children[1].pos), "2:7");
  const Selection& posts = q.root.children[2];
  EXPECT_EQ(at(posts.pos), "3:3");
  EXPECT_EQ(at(posts.where->pos), "3:16");
  EXPECT_EQ(at(posts.children[2].pos), "5:5");
  EXPECT_EQ(at(posts.children[3].children[1].pos), "6:56");

  // Columns count characters, not bytes.
  const FetchQuery utf8 = MustParse(R"(T(where: a == "éé" and b == 1) { id })");
  EXPECT_EQ(at(utf8.root.where->children[1]->pos), "1:24");
  // JSON has no positions.
  const Result<FetchQuery> from_json = ParseFetchJson(FetchToJson(q));
  ASSERT_TRUE(from_json.ok());
  EXPECT_EQ(at(from_json->root.children[2].pos), "0:0");
}

// ===========================================================================
// Predicates
// ===========================================================================

TEST(ParseFetchTextTest, Comparisons) {
  EXPECT_EQ(WhereTree("a == 1"), "(== a 1)");
  EXPECT_EQ(WhereTree("a != 1"), "(!= a 1)");
  EXPECT_EQ(WhereTree("a < 1"), "(< a 1)");
  EXPECT_EQ(WhereTree("a <= 1"), "(<= a 1)");
  EXPECT_EQ(WhereTree("a > 1"), "(> a 1)");
  EXPECT_EQ(WhereTree("a >= 1"), "(>= a 1)");
  EXPECT_EQ(WhereTree("a>=1"), "(>= a 1)");
  EXPECT_EQ(WhereTree("author.name == \"x\""), "(== author.name \"x\")");
  EXPECT_EQ(WhereTree("30 <= age"), "(<= 30 age)");
  EXPECT_EQ(WhereTree("a == b"), "(== a b)");
  EXPECT_EQ(WhereTree("a == $min"), "(== a $min)");
}

TEST(ParseFetchTextTest, Literals) {
  EXPECT_EQ(WhereTree("a == -5"), "(== a -5)");
  EXPECT_EQ(WhereTree("a == 0"), "(== a 0)");
  EXPECT_EQ(WhereTree("a == 9223372036854775807"), "(== a 9223372036854775807)");
  EXPECT_EQ(WhereTree("a == -9223372036854775808"), "(== a -9223372036854775808)");
  EXPECT_EQ(WhereTree("a == 2.5"), "(== a 2.5)");
  EXPECT_EQ(WhereTree("a == 1e3"), "(== a 1000.0)");
  EXPECT_EQ(WhereTree("a == -1.5E-3"), "(== a -0.0015)");
  EXPECT_EQ(WhereTree("a == true"), "(== a true)");
  EXPECT_EQ(WhereTree("a == false"), "(== a false)");
  EXPECT_EQ(WhereTree(R"(a == "q\"b\\s\/\b\f\n\r\t\u00e9\ud83d\ude00")"),
            R"((== a "q\"b\\s/\b\f\n\r\té😀"))");
  EXPECT_EQ(WhereTree(R"(a == "")"), R"((== a ""))");
  // Integers stay ints and floats stay doubles.
  const FetchQuery q = MustParse("T(where: a == 1 and b == 1.0) { id }");
  EXPECT_TRUE(q.root.where->children[0]->children[1]->literal.is_int());
  EXPECT_TRUE(q.root.where->children[1]->children[1]->literal.is_double());
}

TEST(ParseFetchTextTest, InAndNotIn) {
  EXPECT_EQ(WhereTree(R"(x in [1, 2.5, "s", true, $p])"),
            R"((in x [1,2.5,"s",true,{"$param":"p"}]))");
  EXPECT_EQ(WhereTree("x not in [1]"), "(not_in x [1])");
  EXPECT_EQ(WhereTree("x in []"), "(in x [])");
  EXPECT_EQ(WhereTree("x not in []"), "(not_in x [])");
  EXPECT_EQ(WhereTree("author.id in [$a, $b]"),
            R"((in author.id [{"$param":"a"},{"$param":"b"}]))");
}

TEST(ParseFetchTextTest, LikeAndIsNull) {
  EXPECT_EQ(WhereTree(R"(name like "A%")"), R"((like name "A%"))");
  EXPECT_EQ(WhereTree(R"(name like "100\\%")"), R"((like name "100\\%"))");
  EXPECT_EQ(WhereTree("name like $pattern"), "(like name $pattern)");
  EXPECT_EQ(WhereTree("age is null"), "(is_null age)");
  EXPECT_EQ(WhereTree("author.age is not null"), "(is_not_null author.age)");
}

TEST(ParseFetchTextTest, Precedence) {
  // not > and > or; comparisons bind tighter than not.
  EXPECT_EQ(WhereTree("a == 1 or b == 2 and not c == 3"),
            "(or (== a 1) (and (== b 2) (not (== c 3))))");
  EXPECT_EQ(WhereTree("not a == 1 and b == 2"), "(and (not (== a 1)) (== b 2))");
  EXPECT_EQ(WhereTree("a == 1 and b == 2 or c == 3"), "(or (and (== a 1) (== b 2)) (== c 3))");
  EXPECT_EQ(WhereTree("(a == 1 or b == 2) and c == 3"), "(and (or (== a 1) (== b 2)) (== c 3))");
  EXPECT_EQ(WhereTree("not (a == 1 or b == 2)"), "(not (or (== a 1) (== b 2)))");
  EXPECT_EQ(WhereTree("not not a is null"), "(not (not (is_null a)))");
  EXPECT_EQ(WhereTree("not x in [1] or y like \"a\""), "(or (not (in x [1])) (like y \"a\"))");
  EXPECT_EQ(WhereTree("((a == 1))"), "(== a 1)");
}

TEST(ParseFetchTextTest, ChainsFlatten) {
  EXPECT_EQ(WhereTree("a == 1 and b == 2 and c == 3"), "(and (== a 1) (== b 2) (== c 3))");
  EXPECT_EQ(WhereTree("(a == 1 and b == 2) and c == 3"), "(and (== a 1) (== b 2) (== c 3))");
  EXPECT_EQ(WhereTree("a == 1 or (b == 2 or (c == 3 or d == 4))"),
            "(or (== a 1) (== b 2) (== c 3) (== d 4))");
  // Different operators do not merge.
  EXPECT_EQ(WhereTree("a == 1 and (b == 2 or c == 3) and d == 4"),
            "(and (== a 1) (or (== b 2) (== c 3)) (== d 4))");
}

// ===========================================================================
// Selections and arguments
// ===========================================================================

TEST(ParseFetchTextTest, SelectionForms) {
  const FetchQuery fields = MustParse("T { a b, c, d, }");
  ASSERT_EQ(fields.root.children.size(), 4u);
  EXPECT_EQ(fields.root.children[3].name, "d");

  const FetchQuery includes = MustParse("T { e(limit: 2), f { g }, h(order: x) { i } j }");
  ASSERT_EQ(includes.root.children.size(), 4u);
  EXPECT_TRUE(includes.root.children[0].is_include);  // parentheses only
  EXPECT_TRUE(includes.root.children[0].children.empty());
  EXPECT_TRUE(includes.root.children[1].is_include);  // braces only: a to-one include
  EXPECT_TRUE(includes.root.children[2].is_include);
  EXPECT_FALSE(includes.root.children[3].is_include);

  // Words are keywords only inside predicates.
  const FetchQuery words = MustParse("order(order: desc desc) { where, limit, and, not, null }");
  EXPECT_EQ(words.root.name, "order");
  EXPECT_EQ(words.root.order[0].path, std::vector<std::string>{"desc"});
  EXPECT_TRUE(words.root.order[0].descending);
  EXPECT_EQ(words.root.children[3].name, "not");
  // ...and a path may continue with one after a dot.
  EXPECT_EQ(WhereTree("a.in == 1"), "(== a.in 1)");
}

TEST(ParseFetchTextTest, Arguments) {
  const FetchQuery q =
      MustParse(R"(T(after: "c\"1", limit: 0, order: [a.b desc, c asc, d], where: x == 1) { id })");
  EXPECT_EQ(q.root.after, "c\"1");
  EXPECT_EQ(q.root.limit, 0);
  ASSERT_EQ(q.root.order.size(), 3u);
  EXPECT_EQ(q.root.order[0].path, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(q.root.order[0].descending);
  EXPECT_FALSE(q.root.order[1].descending);
  EXPECT_FALSE(q.root.order[2].descending);  // asc by default
  EXPECT_EQ(Tree(*q.root.where), "(== x 1)");

  const FetchQuery single = MustParse("T(order: name) { id }");
  ASSERT_EQ(single.root.order.size(), 1u);
  EXPECT_FALSE(single.root.order[0].descending);
  const FetchQuery whitespace = MustParse("\r\n\tT\n(\nlimit\n:\n5\n)\n{\nid\n}\n");
  EXPECT_EQ(whitespace.root.limit, 5);
}

// ===========================================================================
// Errors
// ===========================================================================

struct ErrorCase {
  std::string_view text;
  std::string_view message;
};

TEST(ParseFetchTextTest, SyntaxErrorsHaveExactMessages) {
  const ErrorCase kCases[] = {
      // Structure.
      {"", "query:1:1: expected an entity name, found end of query"},
      {"{ id }", "query:1:1: expected an entity name, found '{'"},
      {"User", "query:1:5: expected '(' or '{' after User, found end of query"},
      {"User id", "query:1:6: expected '(' or '{' after User, found 'id'"},
      {"User(limit: 1) id", "query:1:16: expected '{' after the arguments of User, found 'id'"},
      {"User { }", "query:1:8: expected a field or relation name, found '}'"},
      {"User {", "query:1:7: expected a field or relation name, found end of query"},
      {"User { id",
       "query:1:10: expected ',', '}' or a field or relation name, found end of query"},
      {"User { id,, name }", "query:1:11: expected a field or relation name or '}', found ','"},
      {"User { id, id }", "query:1:12: duplicate selection 'id' (first at 1:8)"},
      {"User { author.name }",
       "query:1:14: expected ',', '}' or a field or relation name, found '.' (select fields of a "
       "related entity with an include: author { name })"},
      {"User { posts() }",
       "query:1:14: expected an argument name (where, order, limit or after), found ')'"},
      {"User { id } extra", "query:1:13: expected end of query, found 'extra'"},
      {"User { id } }", "query:1:13: expected end of query, found '}'"},
      // Arguments.
      {"User(wher: a == 1) { id }",
       "query:1:6: expected an argument name (where, order, limit or after), found 'wher' (did "
       "you mean 'where'?)"},
      {"User { posts(limt: 1) { id } }",
       "query:1:14: expected an argument name (where, order, limit or after), found 'limt' (did "
       "you mean 'limit'?)"},
      {"User(sort: a) { id }",
       "query:1:6: expected an argument name (where, order, limit or after), found 'sort'"},
      {"User(where: a == 1, where: b == 2) { id }",
       "query:1:21: duplicate argument 'where' (first at 1:6)"},
      {"User(where a == 1) { id }", "query:1:12: expected ':' after 'where', found 'a'"},
      {"User(limit: 5,) { id }",
       "query:1:15: expected an argument name (where, order, limit or after), found ')'"},
      {"User(limit: 5 { id }", "query:1:15: expected ',' or ')', found '{'"},
      {"User(limit: -1) { id }",
       "query:1:13: expected a non-negative integer after 'limit:', found '-1'"},
      {"User(limit: 1.5) { id }",
       "query:1:13: expected a non-negative integer after 'limit:', found '1.5'"},
      {"User(limit: $n) { id }",
       "query:1:13: expected a non-negative integer after 'limit:', found '$n'"},
      {"User(after: 5) { id }", "query:1:13: expected a cursor string after 'after:', found '5'"},
      {"User(order: name ascc) { id }",
       "query:1:18: expected 'asc', 'desc', ',' or ')', found 'ascc' (did you mean 'asc'?)"},
      {"User(order: name desc x) { id }", "query:1:23: expected ',' or ')', found 'x'"},
      {"User(order: [name asc id]) { id }", "query:1:23: expected ',' or ']', found 'id'"},
      {"User(order: [name, ]) { id }",
       "query:1:20: expected an order key (a field name), found ']'"},
      {"User(order: []) { id }", "query:1:14: expected an order key (a field name), found ']'"},
      {"User(order: 5) { id }", "query:1:13: expected an order key (a field name), found '5'"},
      // Predicates.
      {"User(where: ) { id }",
       "query:1:13: expected a path, a value, a $param, 'not' or '(', found ')'"},
      {"User(where: and == 1) { id }",
       "query:1:13: expected a path, a value, a $param, 'not' or '(', found 'and'"},
      {"User(where: age >= 30 adn name == \"x\") { id }",
       "query:1:23: expected 'and', 'or', ',' or ')', found 'adn' (did you mean 'and'?)"},
      {"User(where: (age >= 30 oor x == 1)) { id }",
       "query:1:24: expected 'and', 'or' or ')', found 'oor' (did you mean 'or'?)"},
      {"User(where: (a == 1) { id }", "query:1:22: expected 'and', 'or', ',' or ')', found '{'"},
      {"User(where: name lik \"A%\") { id }",
       "query:1:18: expected '==', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'like' or 'is' "
       "after 'name', found 'lik' (did you mean 'like'?)"},
      {"User(where: active) { id }",
       "query:1:19: expected '==', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'like' or 'is' "
       "after 'active', found ')'"},
      {"User(where: a < b < c) { id }", "query:1:19: expected 'and', 'or', ',' or ')', found '<'"},
      {"User(where: a >= ) { id }",
       "query:1:18: expected a path, a value or a $param after '>=', found ')'"},
      {"User(where: a. == 1) { id }", "query:1:16: expected a name after '.', found '=='"},
      {"User(where: name is nul) { id }",
       "query:1:21: expected 'null' or 'not null' after 'is', found 'nul' (did you mean 'null'?)"},
      {"User(where: name is not nul) { id }",
       "query:1:25: expected 'null' after 'is not', found 'nul' (did you mean 'null'?)"},
      {"User(where: name not like \"A%\") { id }",
       "query:1:22: expected 'in' after 'not', found 'like' (negate the whole condition instead: "
       "not x like \"...\")"},
      {"User(where: x in 1) { id }", "query:1:18: expected '[' after 'in', found '1'"},
      {"User(where: x not in x) { id }", "query:1:22: expected '[' after 'not in', found 'x'"},
      {"User(where: x in [1 2]) { id }", "query:1:21: expected ',' or ']', found '2'"},
      {"User(where: x in [1,]) { id }", "query:1:21: expected a value or a $param, found ']'"},
      {"User(where: x in [a]) { id }",
       "query:1:19: expected a value or a $param (a list holds values, not paths), found 'a'"},
      {"User(where: x like 5) { id }",
       "query:1:20: expected a pattern string or a $param after 'like', found '5'"},
      // Mistakes that parse but would not mean what was written.
      {"User(where: x == null) { id }",
       "query:1:18: '== null' never matches: a comparison with null is unknown, never true (did "
       "you mean 'x is null'?)"},
      {"User(where: x != null) { id }",
       "query:1:18: '!= null' never matches: a comparison with null is unknown, never true (did "
       "you mean 'x is not null'?)"},
      {"User(where: null < author.age) { id }",
       "query:1:13: '< null' never matches: a comparison with null is unknown, never true (did "
       "you mean 'author.age is null'?)"},
      {"User(where: x not in [1, null]) { id }",
       "query:1:26: null in a list never matches: a comparison with null is unknown, never true "
       "(test for null with 'is null')"},
      {R"(User(where: x like "abc\\") { id })",
       "query:1:20: like pattern ends in an escape '\\' with nothing after it to escape"},
      // Tokens.
      {"User(where: a = 1) { id }", "query:1:15: unexpected character '=' (did you mean '=='?)"},
      {"User(where: a ! b) { id }",
       "query:1:15: unexpected character '!' (did you mean '!=' or 'not'?)"},
      {"User(where: a == 1 && b == 2) { id }",
       "query:1:20: unexpected character '&' (did you mean 'and'?)"},
      {"User(where: a == 1 || b == 2) { id }",
       "query:1:20: unexpected character '|' (did you mean 'or'?)"},
      {"User(where: a == 'x') { id }",
       "query:1:18: unexpected character \"'\" (strings are double-quoted)"},
      {"User { id # }", "query:1:11: unexpected character '#'"},
      {"User { id } é", "query:1:13: unexpected character 'é'"},
      {"User { id \xff }", "query:1:11: unexpected invalid UTF-8 byte 0xff"},
      {std::string_view("User { id \0 }", 13), "query:1:11: unexpected control character 0x00"},
      {"User(where: a == \"abc) { id }",
       "query:1:18: unterminated string: expected '\"' before the end of the line"},
      {"User(where: a == \"abc\n\") { id }",
       "query:1:18: unterminated string: expected '\"' before the end of the line"},
      {"User(where: a == \"a\\qb\") { id }",
       "query:1:21: expected an escape character (\" \\ / b f n r t u), found 'qb' in a string"},
      {"User(where: a == \"x\ty\") { id }",
       "query:1:20: expected a string character (control characters must be escaped), found "
       "byte 0x09 in a string"},
      {"User(where: a == \"\xc3\x28\") { id }",
       "query:1:19: expected valid UTF-8, found byte 0xC3 in a string"},
      {"User(where: a == 0123) { id }",
       "query:1:18: invalid number '0123': leading zeros are not allowed"},
      {"User(where: a == 12abc) { id }", "query:1:18: invalid number '12abc'"},
      {"User(where: a == 1.) { id }",
       "query:1:20: unexpected character ')' after '.' in a number: expected a digit"},
      {"User(where: a == 1e) { id }",
       "query:1:20: unexpected character ')' in the exponent of a number: expected a digit"},
      {"User(where: a == - 1) { id }", "query:1:18: unexpected character '-'"},
      {"User(where: a == 99999999999999999999) { id }",
       "query:1:18: integer '99999999999999999999' is out of the int64 range (write a float such "
       "as 1e19 if that is meant)"},
      {"User(where: a == 1e999) { id }", "query:1:18: number '1e999' is out of the float64 range"},
      {"User(where: a == $) { id }",
       "query:1:19: expected a parameter name after '$', found character ')'"},
      {"User(where: a == $1) { id }",
       "query:1:19: expected a parameter name after '$', found character '1'"},
      // Lines and columns on later lines.
      {"User {\n  id,\n  posts(limit: 5, limit: 6) { id }\n}",
       "query:3:19: duplicate argument 'limit' (first at 3:9)"},
      {"User {\n\tid\n\tposts(where: title == \"é\" an x == 1) { id }\n}",
       "query:3:28: expected 'and', 'or', ',' or ')', found 'an' (did you mean 'and'?)"},
  };
  for (const ErrorCase& c : kCases) {
    EXPECT_EQ(TextError(c.text), c.message) << "in: " << c.text;
  }
}

// ===========================================================================
// Limits
// ===========================================================================

TEST(ParseFetchTextTest, TextSizeLimit) {
  std::string text = "T { id }";
  text.resize(kMaxQueryTextBytes, ' ');
  EXPECT_TRUE(ParseFetchText(text).ok());
  text.push_back(' ');
  EXPECT_EQ(TextError(text), "query:1:1: query text is 1048577 bytes long; the limit is 1048576");
}

TEST(ParseFetchTextTest, IncludeDepthLimit) {
  auto nested = [](size_t levels) {
    return "A { " + Repeat("r { ", levels) + "x" + Repeat(" }", levels + 1);
  };
  const FetchQuery deepest = MustParse(nested(kMaxIncludeDepth));
  EXPECT_TRUE(RoundTrips(deepest));
  // The 65th 'r' starts at column 4 + 64 * 4 + 1.
  EXPECT_EQ(TextError(nested(kMaxIncludeDepth + 1)),
            "query:1:261: includes nest deeper than 64 levels");
  // Far too deep is refused the same way, without exhausting the stack.
  EXPECT_EQ(TextError(nested(100000)), "query:1:261: includes nest deeper than 64 levels");
  EXPECT_EQ(TextError("A { " + Repeat("r(limit: 1) { ", 65) + "x"),
            "query:1:901: includes nest deeper than 64 levels");
}

TEST(ParseFetchTextTest, ExpressionDepthLimit) {
  auto nots = [](size_t n) { return "T(where: " + Repeat("not ", n) + "x == 1) { id }"; };
  // 62 nots above a comparison above its operands: 64 levels.
  EXPECT_TRUE(RoundTrips(MustParse(nots(kMaxExprDepth - 2))));
  EXPECT_EQ(TextError(nots(kMaxExprDepth - 1)),
            "query:1:10: expression nests deeper than 64 levels");
  EXPECT_EQ(TextError(nots(200000)), "query:1:266: expression nests deeper than 64 levels");

  auto parens = [](size_t n) {
    return "T(where: " + Repeat("(", n) + "x == 1" + Repeat(")", n) + ") { id }";
  };
  EXPECT_TRUE(ParseFetchText(parens(kMaxExprDepth)).ok());
  EXPECT_EQ(TextError(parens(kMaxExprDepth + 1)),
            "query:1:74: expression nests deeper than 64 levels");
  EXPECT_EQ(TextError(parens(300000)), "query:1:74: expression nests deeper than 64 levels");

  // or > and > not > (...) adds three levels per parenthesis, so the tree
  // gets too deep long before the parentheses do.
  std::string levels = "x == 0";
  for (int i = 0; i < 22; ++i) levels = "x == 1 or x == 2 and not (" + levels + ")";
  // After 21 of them the or chain is level 65; the outermost one is fine.
  EXPECT_EQ(TextError("T(where: " + levels + ") { id }"),
            "query:1:36: expression nests deeper than 64 levels");
}

TEST(ParseFetchTextTest, ListLengthLimits) {
  auto list = [](size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += (i ? ", " : "") + std::to_string(i);
    return out;
  };
  const FetchQuery q = MustParse("T(where: x in [" + list(kMaxListLength) + "]) { id }");
  EXPECT_EQ(q.root.where->list.size(), kMaxListLength);
  EXPECT_TRUE(RoundTrips(q));
  const std::string too_long = "T(where: x in [" + list(kMaxListLength + 1) + "]) { id }";
  EXPECT_EQ(TextError(too_long), "query:1:" + std::to_string(too_long.find(" 10000]") + 2) +
                                     ": more than 10000 elements in one list");

  auto fields = [](size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += " f" + std::to_string(i);
    return out;
  };
  EXPECT_TRUE(ParseFetchText("T {" + fields(kMaxListLength) + " }").ok());
  EXPECT_NE(TextError("T {" + fields(kMaxListLength + 1) + " }")
                .find(": more than 10000 items in one selection"),
            std::string::npos);

  auto keys = [](size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += (i ? ", k" : "k") + std::to_string(i);
    return out;
  };
  EXPECT_TRUE(ParseFetchText("T(order: [" + keys(kMaxListLength) + "]) { id }").ok());
  EXPECT_NE(TextError("T(order: [" + keys(kMaxListLength + 1) + "]) { id }")
                .find(": more than 10000 keys in one order"),
            std::string::npos);

  auto chain = [](size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += (i ? " or x == " : "x == ") + std::to_string(i);
    return out;
  };
  const FetchQuery ors = MustParse("T(where: " + chain(kMaxListLength) + ") { id }");
  EXPECT_EQ(ors.root.where->children.size(), kMaxListLength);
  EXPECT_NE(TextError("T(where: " + chain(kMaxListLength + 1) + ") { id }")
                .find(": more than 10000 operands of 'or' in one chain"),
            std::string::npos);
}

TEST(ParseFetchTextTest, NameAndPathLimits) {
  const std::string longest(kMaxNameBytes, 'n');
  EXPECT_TRUE(ParseFetchText(longest + " { " + longest + " }").ok());
  EXPECT_EQ(TextError(longest + "n { id }"),
            "query:1:1: name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...' is 129 bytes long; the "
            "limit is 128");
  EXPECT_EQ(TextError("T(where: x == $" + longest + "p) { id }"),
            "query:1:15: parameter name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...' is 129 "
            "bytes long; the limit is 128");

  auto path = [](size_t names) {
    std::string out = "a";
    for (size_t i = 1; i < names; ++i) out += ".a";
    return out;
  };
  EXPECT_TRUE(RoundTrips(MustParse("T(where: " + path(kMaxPathNames) + " == 1) { id }")));
  EXPECT_EQ(TextError("T(where: " + path(kMaxPathNames + 1) + " == 1) { id }"),
            "query:1:137: a path has at most 64 names");
  EXPECT_EQ(TextError("T(order: " + path(kMaxPathNames + 1) + ") { id }"),
            "query:1:137: a path has at most 64 names");
}

// ===========================================================================
// JSON IR
// ===========================================================================

TEST(ParseFetchJsonTest, MirrorsTheTextForm) {
  const Json ir = MustParseJson(R"({
    "select": ["id", "name", {"include": "posts", "limit": 5, "select": ["title"]},
               {"include": "author", "select": ["name"]}],
    "entity": "User",
    "limit": 20,
    "order": [{"path": "name", "desc": false}, {"path": "author.id"}],
    "where": {"op": "or", "args": [
      {"op": ">=", "args": [{"path": "age"}, {"value": 30}]},
      {"op": "and", "args": [
        {"op": "not_in", "args": [{"path": "x"}], "list": [1, "a", {"param": "p"}]},
        {"op": "not", "args": [{"op": "is_null", "args": [{"path": "author.name"}]}]},
        {"op": "like", "args": [{"path": "name"}, {"param": "pat"}]}]}]}})");
  const Result<FetchQuery> q = ParseFetchJson(ir);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  const FetchQuery text = MustParse(
      R"(User(where: age >= 30 or x not in [1, "a", $p] and not author.name is null and
              name like $pat, order: [name, author.id], limit: 20)
         { id name posts(limit: 5) { title } author { name } })");
  EXPECT_TRUE(SameFetch(*q, text)) << FetchToText(*q);
  EXPECT_TRUE(RoundTrips(*q));
}

TEST(ParseFetchTextTest, Aggregates) {
  const FetchQuery q = MustParse(
      "Movie { title, avg_rating: avg(reviews.rating where rating > 2), "
      "n: count(reviews) reviews(limit: 2) { body } }");
  ASSERT_EQ(q.root.children.size(), 4u);
  const Selection& avg = q.root.children[1];
  EXPECT_EQ(avg.name, "avg_rating");
  EXPECT_FALSE(avg.is_include);
  ASSERT_TRUE(avg.aggregate);
  EXPECT_EQ(avg.aggregate->fn, Aggregate::Fn::kAvg);
  EXPECT_EQ(avg.aggregate->path, (std::vector<std::string>{"reviews", "rating"}));
  ASSERT_TRUE(avg.aggregate->where);
  EXPECT_EQ(Tree(*avg.aggregate->where), "(> rating 2)");
  EXPECT_EQ(avg.aggregate->pos.column, 28u);
  const Selection& n = q.root.children[2];
  ASSERT_TRUE(n.aggregate);
  EXPECT_EQ(n.aggregate->fn, Aggregate::Fn::kCount);
  EXPECT_FALSE(n.aggregate->where);
  EXPECT_TRUE(q.root.children[3].is_include);
  EXPECT_FALSE(q.root.children[3].aggregate);
  EXPECT_TRUE(RoundTrips(q));
  // The where literals are lifted in selection order, like an include's.
  EXPECT_EQ(ShapeKey(MustParse("M(where: a == 1) { n: count(r where x == 2), b(where: y == 3) }")),
            "M(where: a == ?i) { n: count(r where x == ?i), b(where: y == ?i) }");
  EXPECT_EQ(
      ToJson(Json::Array(LiftedLiterals(MustParse("M(where: a == 1) { n: count(r where x == 2), "
                                                  "b(where: y == 3) }")))),
      "[1,2,3]");
}

TEST(ParseFetchTextTest, AggregateErrors) {
  EXPECT_EQ(TextError("M { n: total(r) }"),
            "query:1:8: expected an aggregate (count, count_distinct, sum, avg, min or max), "
            "found 'total'");
  EXPECT_EQ(TextError("M { n: cont(r) }"),
            "query:1:8: expected an aggregate (count, count_distinct, sum, avg, min or max), "
            "found 'cont' (did you mean 'count'?)");
  EXPECT_EQ(TextError("M { n: count r }"), "query:1:14: expected '(' after 'count', found 'r'");
  EXPECT_EQ(TextError("M { n: count() }"), "query:1:14: expected a relation name, found ')'");
  EXPECT_EQ(TextError("M { n: avg(r) }"), "query:1:8: avg needs a field: avg(r.<field>)");
  EXPECT_EQ(TextError("M { n: count(r x) }"), "query:1:16: expected 'where' or ')', found 'x'");
  EXPECT_EQ(TextError("M { n: count(r where a == 1 b) }"),
            "query:1:29: expected 'and', 'or' or ')', found 'b'");
  EXPECT_EQ(TextError("M { n: count(r where) }"),
            "query:1:21: expected a path, a value, a $param, 'not' or '(', found ')'");
  EXPECT_EQ(TextError("M { n: count(r), n: count(s) }"),
            "query:1:18: duplicate selection 'n' (first at 1:5)");
}

TEST(ParseFetchJsonTest, Aggregates) {
  const Result<FetchQuery> q = ParseFetchJson(MustParseJson(R"({"entity": "Movie", "select": [
      "title",
      {"aggregate": "avg", "name": "r", "path": "reviews.rating",
       "where": {"op": ">", "args": [{"path": "rating"}, {"value": 2}]}},
      {"name": "n", "aggregate": "count", "path": "reviews"}]})"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_TRUE(SameFetch(*q, MustParse("Movie { title, r: avg(reviews.rating where rating > 2), "
                                      "n: count(reviews) }")));
  EXPECT_TRUE(RoundTrips(*q));
  const std::string prefix = R"({"entity":"M","select":[)";
  EXPECT_EQ(JsonError(prefix + R"({"aggregate":"avg","name":"a","path":"r"}]})"),
            "select[0].path: avg needs a field: avg(r.<field>)");
  EXPECT_EQ(JsonError(prefix + R"({"aggregate":"mean","name":"a","path":"r.x"}]})"),
            "select[0].aggregate: expected an aggregate (count, count_distinct, sum, avg, min or "
            "max), found \"mean\"");
  EXPECT_EQ(JsonError(prefix + R"({"aggregate":"count","path":"r"}]})"),
            "select[0]: missing member \"name\"");
  EXPECT_EQ(JsonError(prefix + R"({"aggregate":"count","name":"a"}]})"),
            "select[0]: missing member \"path\"");
  EXPECT_EQ(JsonError(prefix + R"({"aggregate":"count","name":"a","path":"r","limit":1}]})"),
            "select[0]: unknown member \"limit\"");
  EXPECT_EQ(JsonError(prefix + R"({"aggregate":3,"name":"a","path":"r"}]})"),
            "select[0].aggregate: expected an aggregate function name (a string), found integer");
}

TEST(ParseFetchJsonTest, NestedChainsFlatten) {
  const Result<FetchQuery> q = ParseFetchJson(MustParseJson(R"({"entity": "T", "select": ["id"],
    "where": {"op": "and", "args": [
      {"op": "and", "args": [{"op": "is_null", "args": [{"path": "a"}]},
                             {"op": "is_null", "args": [{"path": "b"}]}]},
      {"op": "is_null", "args": [{"path": "c"}]}]}})"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(Tree(*q->root.where), "(and (is_null a) (is_null b) (is_null c))");
}

// A query whose where is `predicate` (JSON text).
std::string WhereIr(std::string_view predicate) {
  return R"({"entity":"User","select":["id"],"where":)" + std::string(predicate) + "}";
}

TEST(ParseFetchJsonTest, ErrorsNameTheJsonPath) {
  const struct {
    std::string text;
    std::string_view message;
  } kCases[] = {
      {"[]", "query: expected an object, found array"},
      {"{}", "query: missing member \"entity\""},
      {R"({"entity":"User"})", "query: missing member \"select\""},
      {R"({"entity":"User","select":[]})",
       "select: expected at least one field or include, found []"},
      {R"({"entity":5,"select":["id"]})", "entity: expected a name (a string), found integer"},
      {R"({"entity":"1User","select":["id"]})",
       "entity: expected a name (letters, digits and '_', not starting with a digit), found "
       "\"1User\""},
      {R"({"entity":"User","select":["id"],"wher":{}})",
       "query: unknown member \"wher\" (did you mean \"where\"?)"},
      {R"({"entity":"User","select":["id",5]})",
       "select[1]: expected a field name (a string) or an include (an object), found integer"},
      {R"({"entity":"User","select":["id","id"]})",
       "select[1]: duplicate selection \"id\" (first at select[0])"},
      {R"({"entity":"User","select":["id",{"entity":"posts"}]})",
       "select[1]: unknown member \"entity\""},
      {R"({"entity":"User","select":["id",{"include":"posts"}]})",
       "select[1]: an include needs \"select\" or an argument (where, order, limit or after); a "
       "field is written as a plain string"},
      {R"({"entity":"User","select":["id",{"include":"posts","select":["x"],"limit":-1}]})",
       "select[1].limit: expected a non-negative integer, found -1"},
      {R"({"entity":"User","select":["id",{"include":"posts","select":["x"],"limit":2.0}]})",
       "select[1].limit: expected a non-negative integer, found 2.0"},
      {R"({"entity":"User","select":["id",{"include":"posts","select":["x"],"after":1}]})",
       "select[1].after: expected a cursor string, found integer"},
      {R"({"entity":"User","select":["id"],"order":{}})",
       "order: expected an array of order keys, found object"},
      {R"({"entity":"User","select":["id"],"order":[]})",
       "order: expected at least one order key, found []"},
      {R"({"entity":"User","select":["id"],"order":[{"path":"a..b"}]})",
       "order[0].path: expected a path (names joined by '.'), found \"a..b\""},
      {R"({"entity":"User","select":["id"],"order":[{"path":"a","desc":"yes"}]})",
       "order[0].desc: expected a boolean, found string"},
      {R"({"entity":"User","select":["id"],"order":[{"pth":"a"}]})",
       "order[0]: unknown member \"pth\" (did you mean \"path\"?)"},
      {WhereIr(R"({"path":"x"})"),
       "where: expected a predicate (an object with \"op\"), found an operand"},
      {WhereIr(R"({"op":"=","args":[]})"),
       "where.op: unknown operator \"=\" (did you mean \"==\"?)"},
      {WhereIr(R"({"op":5,"args":[]})"), "where.op: expected an operator name, found integer"},
      {WhereIr(R"({"op":"is_null"})"), "where: missing member \"args\""},
      {WhereIr(R"({"op":"is_null","args":{}})"), "where.args: expected an array, found object"},
      {WhereIr(R"({"op":"==","args":[{"path":"x"}]})"),
       "where.args: expected 2 operands for \"==\", found 1"},
      {WhereIr(R"({"op":"and","args":[{"op":"is_null","args":[{"path":"x"}]}]})"),
       "where.args: expected 2 or more operands for \"and\", found 1"},
      {WhereIr(R"({"op":"==","args":[{"path":"x"},{"value":null}]})"),
       "where.args[1].value: '== null' never matches: a comparison with null is unknown, never "
       "true (did you mean 'x is null'?)"},
      {WhereIr(R"({"op":"==","args":[{"path":"x"},{"op":"and"}]})"),
       "where.args[1]: expected an operand ({\"path\": ...}, {\"value\": ...} or {\"param\": "
       "...}), found the operator \"and\""},
      {WhereIr(R"({"op":"==","args":[{"path":"x"},{"value":[1]}]})"),
       "where.args[1].value: expected a literal (null, a boolean, a number or a string), found "
       "array"},
      {WhereIr(R"({"op":"==","args":[{"path":"null"},{"value":1}]})"),
       "where.args[0].path: a path in a predicate cannot start with the keyword \"null\""},
      {WhereIr(R"({"op":"is_null","args":[{"path":"x","value":1}]})"),
       "where.args[0]: expected an operand ({\"path\": ...}, {\"value\": ...} or {\"param\": ...}) "
       "with one member, found 2 members"},
      {WhereIr(R"({"op":"is_null","args":[{"param":"$p"}]})"),
       "where.args[0].param: expected a name (letters, digits and '_', not starting with a "
       "digit), found \"$p\""},
      {WhereIr(R"({"op":"in","args":[{"path":"x"}]})"), "where: missing member \"list\""},
      {WhereIr(R"({"op":"in","args":[{"path":"x"}],"list":[1,null]})"),
       "where.list[1]: null in a list never matches: a comparison with null is unknown, never "
       "true (test for null with 'is null')"},
      {WhereIr(R"({"op":"in","args":[{"path":"x"}],"list":[1,{"parm":"p"}]})"),
       "where.list[1]: unknown member \"parm\" (did you mean \"param\"?)"},
      {WhereIr(R"({"op":"in","args":[{"path":"x"}],"list":[[2]]})"),
       "where.list[0]: expected a value or {\"param\": name}, found array"},
      {WhereIr(R"({"op":"==","args":[{"path":"x"},{"value":1}],"list":[]})"),
       "where: member \"list\" belongs to \"in\" and \"not_in\" only"},
      {WhereIr(R"({"op":"not","args":[{"op":"is_null","args":[{"path":"x"}]}],"path":"x"})"),
       "where: unexpected member \"path\" beside \"op\""},
      {WhereIr(R"({"op":"like","args":[{"path":"x"},{"value":1}]})"),
       "where.args[1]: expected a pattern ({\"value\": string} or {\"param\": name}), found a "
       "value of type integer"},
      {WhereIr(R"({"op":"like","args":[{"path":"x"},{"path":"y"}]})"),
       "where.args[1]: expected a pattern ({\"value\": string} or {\"param\": name}), found a "
       "path"},
      {WhereIr(R"({"op":"like","args":[{"path":"x"},{"value":"a\\"}]})"),
       "where.args[1].value: like pattern ends in an escape '\\' with nothing after it to escape"},
      {R"({"entity":"User","select":["id",{"include":"p","select":[)"
       R"({"include":"q","where":{"op":"or","args":[5,{}]}}]}]})",
       "select[1].select[0].where.args[0]: expected a predicate (an object with \"op\"), found "
       "integer"},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(JsonError(c.text), c.message) << "in: " << c.text;
  }
}

TEST(ParseFetchJsonTest, Limits) {
  // Includes.
  Json deepest = Json::Object().Set("include", "r").Set("select", Json::Array().Push("x"));
  for (int i = 1; i < kMaxIncludeDepth; ++i) {
    deepest = Json::Object().Set("include", "r").Set("select", Json::Array().Push(deepest));
  }
  Json root = Json::Object().Set("entity", "A").Set("select", Json::Array().Push(deepest));
  EXPECT_TRUE(ParseFetchJson(root).ok());
  root =
      Json::Object()
          .Set("entity", "A")
          .Set("select",
               Json::Array().Push(
                   Json::Object().Set("include", "r").Set("select", Json::Array().Push(deepest))));
  const Result<FetchQuery> too_deep = ParseFetchJson(root);
  ASSERT_FALSE(too_deep.ok());
  EXPECT_EQ(too_deep.status().message(), Repeat("select[0].", kMaxIncludeDepth) +
                                             "select[0]: includes nest deeper than 64 levels");

  // Expressions: 63 nots above a comparison are 64 levels of "op" objects.
  Json predicate = Json::Object()
                       .Set("op", "is_null")
                       .Set("args", Json::Array().Push(Json::Object().Set("path", "x")));
  for (int i = 0; i < kMaxExprDepth - 2; ++i) {
    predicate = Json::Object().Set("op", "not").Set("args", Json::Array().Push(predicate));
  }
  auto with_where = [](const Json& where) {
    return Json::Object()
        .Set("entity", "T")
        .Set("where", where)
        .Set("select", Json::Array().Push("id"));
  };
  EXPECT_TRUE(ParseFetchJson(with_where(predicate)).ok());
  predicate = Json::Object().Set("op", "not").Set("args", Json::Array().Push(predicate));
  const Result<FetchQuery> too_nested = ParseFetchJson(with_where(predicate));
  ASSERT_FALSE(too_nested.ok());
  EXPECT_EQ(too_nested.status().message(), "where" + Repeat(".args[0]", kMaxExprDepth) +
                                               ": expression nests deeper than 64 levels");

  // Names and lists.
  const Json long_name = Json::Object()
                             .Set("entity", std::string(kMaxNameBytes + 1, 'n'))
                             .Set("select", Json::Array().Push("id"));
  EXPECT_EQ(ParseFetchJson(long_name).status().message(),
            "entity: name \"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...\" is 129 bytes long; the "
            "limit is 128");
  Json list = Json::Array();
  for (size_t i = 0; i <= kMaxListLength; ++i) list.Push(static_cast<int64_t>(i));
  const Json in = Json::Object()
                      .Set("op", "in")
                      .Set("args", Json::Array().Push(Json::Object().Set("path", "x")))
                      .Set("list", list);
  EXPECT_EQ(ParseFetchJson(with_where(in)).status().message(),
            "where.list: more than 10000 elements in one list");
  // Not representable as JSON text, but a Json value can hold them.
  const Json nan = Json::Object()
                       .Set("op", "==")
                       .Set("args", Json::Array()
                                        .Push(Json::Object().Set("path", "x"))
                                        .Push(Json::Object().Set("value", std::nan(""))));
  EXPECT_EQ(ParseFetchJson(with_where(nan)).status().message(),
            "where.args[1].value: expected a finite number");
  const Json bad_utf8 = Json::Object()
                            .Set("op", "==")
                            .Set("args", Json::Array()
                                             .Push(Json::Object().Set("path", "x"))
                                             .Push(Json::Object().Set("value", "\xff")));
  EXPECT_EQ(ParseFetchJson(with_where(bad_utf8)).status().message(),
            "where.args[1].value: string is not valid UTF-8");
}

TEST(ParseFetchJsonTest, DeepestQueryFitsKMaxJsonIrDepth) {
  // 64 nested includes; the deepest has a where of 64 levels ending in an
  // in-list with a parameter, the deepest JSON FetchToJson can produce.
  const std::string where = "where: " + Repeat("not ", kMaxExprDepth - 2) + "x in [$p]";
  const std::string text = "A { " + Repeat("r { ", kMaxIncludeDepth - 1) + "r(" + where +
                           ") { x }" + Repeat(" }", kMaxIncludeDepth);
  const FetchQuery q = MustParse(text);
  EXPECT_TRUE(RoundTrips(q));
  const std::string json_text = ToJson(FetchToJson(q));
  EXPECT_TRUE(ParseJson(json_text, JsonLimits{.max_depth = kMaxJsonIrDepth}).ok());
  EXPECT_FALSE(ParseJson(json_text, JsonLimits{.max_depth = kMaxJsonIrDepth - 1}).ok());
}

// ===========================================================================
// Printing and round trips
// ===========================================================================

TEST(FetchToTextTest, CanonicalForm) {
  EXPECT_EQ(FetchToText(MustParse(kDesignExample)),
            R"(User(where: age >= 30 and name like "A%", order: [name asc, id asc], limit: 20, )"
            R"(after: "<cursor>") { id, name, posts(where: status == "published", order: )"
            R"(created_at desc, limit: 5) { title, created_at, tags { name }, comments(order: )"
            R"(created_at desc, limit: 3) { body, author { name } } } })");
  EXPECT_EQ(FetchToText(MustParse("T(where:(a==1 or b==2)and not(c==3 and d==4)) {x y}")),
            "T(where: (a == 1 or b == 2) and not (c == 3 and d == 4)) { x, y }");
  EXPECT_EQ(FetchToText(MustParse(R"(T(where: s == "\u00e9\t\"" and f == 1e2) { x })")),
            R"(T(where: s == "é\t\"" and f == 100.0) { x })");
  EXPECT_EQ(FetchToText(MustParse("T(order: a) { r(limit: 2), s(after: \"c\") }")),
            "T(order: a asc) { r(limit: 2), s(after: \"c\") }");
}

TEST(FetchToTextTest, CorpusRoundTrips) {
  for (const std::string& text : Corpus()) {
    EXPECT_TRUE(RoundTrips(MustParse(text))) << "in: " << text;
  }
}

TEST(FetchToTextTest, HandBuiltNestingKeepsItsTree) {
  // An IR built by hand may nest an and directly in an and; the printer
  // keeps the grouping rather than silently changing the tree.
  FetchQuery q;
  q.root.name = "T";
  q.root.children.emplace_back().name = "id";
  auto leaf = [](std::string name) {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kIsNull;
    auto path = std::make_unique<Expr>();
    path->kind = Expr::Kind::kPath;
    path->path = {std::move(name)};
    e->children.push_back(std::move(path));
    return e;
  };
  auto inner = std::make_unique<Expr>();
  inner->kind = Expr::Kind::kAnd;
  inner->children.push_back(leaf("a"));
  inner->children.push_back(leaf("b"));
  q.root.where = std::make_unique<Expr>();
  q.root.where->kind = Expr::Kind::kAnd;
  q.root.where->children.push_back(std::move(inner));
  q.root.where->children.push_back(leaf("c"));
  EXPECT_EQ(FetchToText(q), "T(where: (a is null and b is null) and c is null) { id }");
}

// ===========================================================================
// Shape keys
// ===========================================================================

std::string Shape(std::string_view text) { return ShapeKey(MustParse(text)); }

TEST(ShapeKeyTest, LiteralsAreLifted) {
  const FetchQuery q = MustParse(kDesignExample);
  EXPECT_EQ(ShapeKey(q),
            "User(where: age >= ?i and name like ?s, order: [name asc, id asc], limit: ?, after: "
            "?) { id, name, posts(where: status == ?s, order: created_at desc, limit: ?) { title, "
            "created_at, tags { name }, comments(order: created_at desc, limit: ?) { body, "
            "author { name } } } }");
  const std::vector<Json> lifted = LiftedLiterals(q);
  ASSERT_EQ(lifted.size(), 7u);
  EXPECT_EQ(ToJson(Json::Array(lifted)), R"([30,"A%",20,"<cursor>","published",5,3])");

  const FetchQuery in = MustParse(R"(T(where: x in [1, "a", $p, 2] and y == 2.5) { id })");
  EXPECT_EQ(ShapeKey(in), "T(where: x in ?[isp] and y == ?f) { id }");
  EXPECT_EQ(ToJson(Json::Array(LiftedLiterals(in))), R"([[1,"a",{"$param":"p"},2],2.5])");
  EXPECT_EQ(Shape("T(where: x in [] and b == true) { id }"),
            "T(where: x in ?[] and b == ?b) { id }");
}

TEST(ShapeKeyTest, SameShapeForDifferentLiterals) {
  const std::string_view kPairs[][2] = {
      {"T(where: age >= 30) { id }", "T(where: age >= 40) { id }"},
      {"T(where: age >= -1 and n == \"a\") { id }", "T(where: age >= 7 and n == \"zz\") { id }"},
      {"T(where: x in [1, 2, 3]) { id }", "T(where: x in [9]) { id }"},
      {"T(where: name like \"A%\") { id }", "T(where: name like \"%b\") { id }"},
      {"T(limit: 5, after: \"x\") { id }", "T(limit: 50, after: \"y\") { id }"},
      {"T { r(limit: 1) { s(where: v < 1.5) { id } } }",
       "T { r(limit: 2) { s(where: v < 0.25) { id } } }"},
      {"T(where: f == true) { id }", "T(where: f == false) { id }"},
      {kDesignExample.data(),
       R"(User(where: age >= 18 and name like "B%", order: [name asc, id asc], limit: 50,
          after: "zzz") { id, name, posts(where: status == "draft", order: created_at desc,
          limit: 10) { title, created_at, tags { name }, comments(order: created_at desc,
          limit: 1) { body, author { name } } } })"},
  };
  for (const auto& [a, b] : kPairs) {
    const FetchQuery qa = MustParse(a), qb = MustParse(b);
    EXPECT_EQ(ShapeKey(qa), ShapeKey(qb)) << a << "\n" << b;
    EXPECT_EQ(LiftedLiterals(qa).size(), LiftedLiterals(qb).size());
    EXPECT_NE(LiftedLiterals(qa), LiftedLiterals(qb));
  }
}

TEST(ShapeKeyTest, DifferentShapesDiffer) {
  const std::string_view kPairs[][2] = {
      {"T(where: age >= 30) { id }", "T(where: age > 30) { id }"},
      {"T(where: age >= 30) { id }", "T(where: size >= 30) { id }"},
      {"T(where: age >= 30) { id }", "T(where: age >= \"30\") { id }"},
      {"T(where: age >= 30) { id }", "T(where: age >= 30.0) { id }"},
      {"T(where: age >= 30) { id }", "T(where: age >= $a) { id }"},
      {"T(where: age >= $a) { id }", "T(where: age >= $b) { id }"},
      {"T(where: age >= 30) { id }", "T(where: 30 <= age) { id }"},
      {"T(where: x in [1]) { id }", "T(where: x not in [1]) { id }"},
      {"T(where: x in [1]) { id }", "T(where: x in [\"1\"]) { id }"},
      {"T(where: x in [1]) { id }", "T(where: x in [$p]) { id }"},
      {"T(where: a == 1 and b == 2) { id }", "T(where: a == 1 or b == 2) { id }"},
      {"T(where: a == 1 or b == 2 and c == 3) { id }",
       "T(where: (a == 1 or b == 2) and c == 3) { id }"},
      {"T(where: x is null) { id }", "T(where: x is not null) { id }"},
      {"T(where: n like \"a\") { id }", "T(where: n like $p) { id }"},
      {"T(limit: 5) { id }", "T { id }"},
      {"T(after: \"c\") { id }", "T { id }"},
      {"T(order: a) { id }", "T(order: a desc) { id }"},
      {"T(order: [a, b]) { id }", "T(order: [b, a]) { id }"},
      {"T { id, name }", "T { id }"},
      {"T { id, name }", "T { name, id }"},
      {"T { r { id } }", "T { r(limit: 1) { id } }"},
      {"T { r { id } }", "U { r { id } }"},
      {"T { r(limit: 1) }", "T { r(limit: 1) { id } }"},
  };
  for (const auto& [a, b] : kPairs) EXPECT_NE(Shape(a), Shape(b)) << a << "\n" << b;
}

// ===========================================================================
// Fuzzing
// ===========================================================================

bool HasQueryPosition(const std::string& message) {
  // "query:LINE:COL: " with LINE and COL positive integers.
  size_t i = 6;
  if (message.compare(0, i, "query:") != 0) return false;
  for (int part = 0; part < 2; ++part) {
    const size_t begin = i;
    while (i < message.size() && message[i] >= '0' && message[i] <= '9') ++i;
    if (i == begin || message[begin] == '0' || i >= message.size() || message[i] != ':') {
      return false;
    }
    ++i;
  }
  return i < message.size() && message[i] == ' ';
}

TEST(ParserFuzzTest, MutatedTextIsAcceptedOrRejectedCleanly) {
  std::mt19937 rng(20240611);
  const std::vector<std::string_view> kTokens = {
      "and ",
      "or ",
      "not ",
      " in ",
      "like ",
      "is ",
      "null",
      "true",
      "(",
      ")",
      "{",
      "}",
      "[",
      "]",
      ",",
      ":",
      ".",
      "==",
      "<=",
      "!=",
      "\"",
      "\\",
      "$p",
      "-",
      "1e",
      "0.5",
      "007",
      "where",
      "order",
      "limit",
      "after",
      "asc",
      "desc",
      "\xc3",
      "\xe2\x82\xac",
      "\n",
      "99999999999999999999",
      "\"a\\u00\"",
      "x in [",
      "is not null",
      "$",
  };
  auto random_index = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  const std::vector<std::string>& corpus = Corpus();
  int accepted = 0, rejected = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string text = corpus[random_index(corpus.size())];
    const size_t mutations = 1 + random_index(4);
    for (size_t m = 0; m < mutations; ++m) {
      const size_t at = random_index(text.size() + 1);
      switch (rng() % 6) {
        case 0:  // delete a few bytes
          text.erase(at, 1 + random_index(3));
          break;
        case 1:  // insert a random byte
          text.insert(at, 1, static_cast<char>(rng() & 0xFF));
          break;
        case 2:  // overwrite a byte
          if (at < text.size()) text[at] = static_cast<char>(rng() & 0xFF);
          break;
        case 3:  // insert a token
          text.insert(at, kTokens[random_index(kTokens.size())]);
          break;
        case 4: {  // duplicate a slice
          const size_t length = random_index(16);
          text.insert(at, text.substr(random_index(text.size() + 1), length));
          break;
        }
        default:  // truncate
          text.resize(at);
          break;
      }
    }
    const Result<FetchQuery> q = ParseFetchText(text);
    if (q.ok()) {
      ++accepted;
      ASSERT_TRUE(RoundTrips(*q)) << "in: " << text;
    } else {
      ++rejected;
      ASSERT_EQ(q.status().code(), ErrorCode::kInvalidArgument) << "in: " << text;
      ASSERT_TRUE(HasQueryPosition(q.status().message()))
          << q.status().message() << "\nin: " << text;
    }
  }
  RecordProperty("accepted", accepted);
  RecordProperty("rejected", rejected);
  // Both outcomes are exercised, not just one.
  EXPECT_GT(accepted, 500);
  EXPECT_GT(rejected, 5000);
}

// Replaces random parts of valid JSON IR with other JSON: ParseFetchJson
// must check every kind before it reads a value (Json's accessors throw on a
// mismatch) and every accepted result must round-trip.
TEST(ParserFuzzTest, MutatedJsonIrIsAcceptedOrRejectedCleanly) {
  std::mt19937 rng(7);
  const std::vector<Json> kReplacements = {
      Json(),
      Json(true),
      Json(0),
      Json(-3),
      Json(2.5),
      Json(""),
      Json("x"),
      Json("a.b"),
      Json("in"),
      Json::Array(),
      Json::Object(),
      MustParseJson(R"({"path": "x"})"),
      MustParseJson(R"({"value": null})"),
      MustParseJson(R"({"param": "p"})"),
      MustParseJson(R"({"op": "and", "args": []})"),
      MustParseJson(R"({"op": "is_null", "args": [{"path": "x"}]})"),
      MustParseJson(R"({"include": "r", "select": ["x"]})"),
      MustParseJson(R"(["id", {"include": "r", "limit": 1}])"),
  };
  std::vector<Json> seeds;
  for (const std::string& text : Corpus()) seeds.push_back(FetchToJson(MustParse(text)));
  int accepted = 0, rejected = 0;
  for (int iteration = 0; iteration < 5000; ++iteration) {
    Json ir = seeds[rng() % seeds.size()];
    // Every value in the tree, to pick one to change.
    std::vector<Json*> nodes;
    std::function<void(Json*)> collect = [&](Json* j) {
      nodes.push_back(j);
      if (j->is_array()) {
        for (Json& e : j->as_array()) collect(&e);
      } else if (j->is_object()) {
        for (auto& member : j->as_object()) collect(&member.second);
      }
    };
    collect(&ir);
    Json* target = nodes[rng() % nodes.size()];
    if (target->is_object() && target->size() > 0 && rng() % 3 == 0) {
      auto& members = target->as_object();
      members.erase(members.begin() + static_cast<std::ptrdiff_t>(rng() % members.size()));
    } else if (target->is_array() && target->size() > 0 && rng() % 3 == 0) {
      auto& elements = target->as_array();
      elements.erase(elements.begin() + static_cast<std::ptrdiff_t>(rng() % elements.size()));
    } else {
      *target = kReplacements[rng() % kReplacements.size()];
    }
    const Result<FetchQuery> q = ParseFetchJson(ir);
    if (q.ok()) {
      ++accepted;
      ASSERT_TRUE(RoundTrips(*q)) << ToJson(ir);
    } else {
      ++rejected;
      ASSERT_EQ(q.status().code(), ErrorCode::kInvalidArgument) << ToJson(ir);
    }
  }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(rejected, 1000);
}

TEST(ParseRuleConditionTest, ExistsParsesAndPrintsBack) {
  for (const char* text : {
           "exists(members)",
           "exists(members where id == auth.id)",
           "not exists(tasks where done == false and exists(tags where name == \"x\"))",
           "exists(project.members where id == auth.id) or owner == auth.id",
       }) {
    auto e = ParseRuleCondition(text);
    ASSERT_TRUE(e.ok()) << text << ": " << e.status().ToString();
    EXPECT_EQ(parse_rules::ExprToText(**e), text);
  }
  auto tree = ParseRuleCondition("exists(members where id == auth.id)");
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(Tree(**tree), "(exists members (== id auth.id))");
  // Errors point into the condition.
  for (const auto& [text, want] : std::vector<std::pair<std::string, std::string>>{
           {"exists()", "query:1:8: expected a to-many relation in exists(...)"},
           {"exists(members", "expected 'where' or ')' in exists(...)"},
           {"exists(members where id == 1", "')' after the condition of exists(...)"},
           {"exists(members wher id == 1)", "did you mean 'where'?"},
       }) {
    auto e = ParseRuleCondition(text);
    ASSERT_FALSE(e.ok()) << text;
    EXPECT_NE(e.status().message().find(want), std::string::npos) << e.status().ToString();
  }
  // Only rule conditions know exists: a query's where does not.
  EXPECT_FALSE(ParseFetchText("T(where: exists(members)) { id }").ok());
}

}  // namespace
}  // namespace ormdb::query
