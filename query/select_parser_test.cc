#include "query/select_parser.h"

#include <gtest/gtest.h>

#include "query/parse_rules.h"

namespace ormdb::query {
namespace {

SelectQuery Parse(std::string_view text) {
  auto q = ParseSelectText(text);
  EXPECT_TRUE(q.ok()) << text << ": " << q.status().ToString();
  return q.ok() ? std::move(*q) : SelectQuery{};
}

std::string Error(std::string_view text) {
  auto q = ParseSelectText(text);
  EXPECT_FALSE(q.ok()) << text << " parsed";
  if (q.ok()) return "";
  EXPECT_EQ(q.status().code(), ErrorCode::kInvalidArgument);
  return q.status().message();
}

TEST(SelectParser, TheDesignExample) {
  SelectQuery q = Parse(R"(select author.name, count() as posts, max(created_at) as last
from Post where status == "published"
group by author.name having count() > 2
order by posts desc, author.name limit 10)");
  ASSERT_EQ(q.items.size(), 3u);
  EXPECT_FALSE(q.items[0].term.is_aggregate);
  EXPECT_EQ(q.items[0].term.path, (std::vector<std::string>{"author", "name"}));
  EXPECT_EQ(q.items[0].name(), "author.name");
  EXPECT_TRUE(q.items[1].term.is_aggregate);
  EXPECT_EQ(q.items[1].term.fn, Aggregate::Fn::kCount);
  EXPECT_TRUE(q.items[1].term.path.empty());
  EXPECT_EQ(q.items[1].term.text, "count()");
  EXPECT_EQ(q.items[1].name(), "posts");
  EXPECT_EQ(q.items[2].term.fn, Aggregate::Fn::kMax);
  EXPECT_EQ(q.items[2].term.text, "max(created_at)");
  EXPECT_EQ(q.items[2].alias, "last");
  EXPECT_EQ(q.entity, "Post");
  EXPECT_EQ(q.entity_pos.line, 2);
  EXPECT_EQ(q.entity_pos.column, 6);
  ASSERT_TRUE(q.where);
  EXPECT_EQ(parse_rules::ExprToText(*q.where), R"(status == "published")");
  ASSERT_EQ(q.group_by.size(), 1u);
  EXPECT_EQ(q.group_by[0].text, "author.name");
  ASSERT_TRUE(q.having);
  EXPECT_EQ(parse_rules::ExprToText(*q.having), "count() > 2");
  ASSERT_EQ(q.order.size(), 2u);
  EXPECT_EQ(q.order[0].term.path, (std::vector<std::string>{"posts"}));
  EXPECT_TRUE(q.order[0].descending);
  EXPECT_FALSE(q.order[1].descending);
  EXPECT_EQ(q.limit, 10);
  EXPECT_FALSE(q.after);
}

TEST(SelectParser, MinimalAndEveryClause) {
  SelectQuery q = Parse("select title from Post");
  EXPECT_EQ(q.items.size(), 1u);
  EXPECT_FALSE(q.where);
  EXPECT_FALSE(q.limit);
  q = Parse(R"(select title, tags.name from Post where id in [1, $x] and title like "A%"
               order by title asc limit 0 after "abc")");
  EXPECT_EQ(q.items[1].term.text, "tags.name");
  EXPECT_EQ(q.limit, 0);
  EXPECT_EQ(q.after, "abc");
  EXPECT_EQ(parse_rules::ExprToText(*q.where), R"(id in [1, $x] and title like "A%")");
}

TEST(SelectParser, AggregateCalls) {
  SelectQuery q = Parse(
      "select count(tags.name), count_distinct(tags.name), sum(views), avg(views), min(title) "
      "from Post having sum(views) > $n or not (count() in [1, 2]) order by min(title) desc");
  EXPECT_EQ(q.items[0].term.text, "count(tags.name)");
  EXPECT_EQ(q.items[1].term.fn, Aggregate::Fn::kCountDistinct);
  EXPECT_EQ(q.items[3].term.fn, Aggregate::Fn::kAvg);
  EXPECT_EQ(parse_rules::ExprToText(*q.having), "sum(views) > $n or not count() in [1, 2]");
  EXPECT_TRUE(q.order[0].term.is_aggregate);
  EXPECT_EQ(q.order[0].term.text, "min(title)");
}

TEST(SelectParser, ClauseWordsAreNamesElsewhere) {
  SelectQuery q = Parse("select group, limit.order from T where group == 1 group by group");
  EXPECT_EQ(q.items[0].term.text, "group");
  EXPECT_EQ(q.items[1].term.text, "limit.order");
  EXPECT_EQ(q.group_by[0].text, "group");
}

TEST(SelectParser, Errors) {
  EXPECT_EQ(Error("selct title from Post"),
            "query:1:1: expected 'select', found 'selct' (did you mean 'select'?)");
  EXPECT_EQ(Error("select title form Post"),
            "query:1:14: expected 'as', ',' or 'from', found 'form' (did you mean 'from'?)");
  EXPECT_EQ(Error("select from Post"), "query:1:13: expected 'as', ',' or 'from', found 'Post'");
  EXPECT_EQ(Error("select title from Post wher id == 1"),
            "query:1:24: expected 'where', 'group by', 'having', 'order by', 'limit', 'after' "
            "or end of query, found 'wher' (did you mean 'where'?)");
  EXPECT_EQ(Error("select title from Post order title"),
            "query:1:30: expected 'by' after 'order', found 'title'");
  EXPECT_EQ(Error("select title from Post where count() > 1"),
            "query:1:30: an aggregate cannot be used in where, which filters rows before they "
            "are grouped (use having)");
  EXPECT_EQ(Error("select cnt() from Post"),
            "query:1:8: unknown aggregate 'cnt' (count, count_distinct, sum, avg, min or max)");
  EXPECT_EQ(Error("select sum() from Post"), "query:1:8: sum needs a field: sum(<field>)");
  EXPECT_EQ(Error("select title from Post group by count()"),
            "query:1:33: cannot group by an aggregate (count())");
  EXPECT_EQ(Error("select title from Post limit -1"),
            "query:1:30: expected a non-negative integer after 'limit', found '-1'");
  EXPECT_EQ(Error("select title from Post limit 1 order by title"),
            "query:1:32: 'order by' is out of place: the clauses come in the order where, group "
            "by, having, order by, limit, after");
  EXPECT_EQ(Error("select title from Post limit 1 offset 2"),
            "query:1:32: expected 'after' or end of query, found 'offset'");
  EXPECT_EQ(Error("select title from Post where title = \"x\""),
            "query:1:36: unexpected character '=' (did you mean '=='?)");
  EXPECT_EQ(Error("select title from Post where title == null"),
            "query:1:39: '== null' never matches: a comparison with null is unknown, never true "
            "(did you mean 'title is null'?)");
}

TEST(SelectParser, IsSelectText) {
  EXPECT_TRUE(IsSelectText("select title from Post"));
  EXPECT_TRUE(IsSelectText("  \nselect\n  title from Post"));
  EXPECT_FALSE(IsSelectText("select { id }"));
  EXPECT_FALSE(IsSelectText("select(limit: 1) { id }"));
  EXPECT_FALSE(IsSelectText("selection { id }"));
  EXPECT_FALSE(IsSelectText("Post { id }"));
}

}  // namespace
}  // namespace ormdb::query
