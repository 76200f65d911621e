#include "observability/explain.h"

#include <gtest/gtest.h>

namespace ormdb::observability {
namespace {

ExplainReport TwoSteps() {
  ExplainReport r;
  r.entity = "User";
  r.version = 12;
  r.schema = 1;
  r.budget = {100, 1000, 16, 4096, true};
  r.estimated_entities = 11;
  r.estimated_edges = 10;
  r.max_depth = 1;
  ExplainStep root;
  root.path = "User";
  root.arguments = "where";
  root.operation = "unique lookup";
  root.index = "User(email)";
  root.reason = "equality on every field of unique index User(email)";
  root.estimated_rows = 1;
  root.estimated_reads = 1;
  root.estimated_cost = 1;
  ExplainStep posts;
  posts.path = "User.posts";
  posts.depth = 1;
  posts.arguments = "order [created_at desc] limit";
  posts.operation = "per-parent index range";
  posts.index = "Post(author, created_at)";
  posts.backward = true;
  posts.reason = "the index gives the order";
  posts.estimated_rows = 10;
  posts.estimated_reads = 10.5;
  posts.estimated_cost = 0.25;
  r.steps = {root, posts};
  return r;
}

TEST(ExplainTest, Text) {
  EXPECT_EQ(RenderExplainText(TwoSteps()),
            "fetch User at version 12, schema 1\n"
            "plan cache: miss (compiled)\n"
            "budget: entities 100, edges 1000, depth 16, bytes 4096, on exceed error\n"
            "estimate: 11 entities, 10 edges, depth 1\n"
            "1. User where\n"
            "   operation: unique lookup on User(email)\n"
            "   why: equality on every field of unique index User(email)\n"
            "   estimated: 1 rows, 1 reads, cost 1\n"
            "2.   User.posts order [created_at desc] limit\n"
            "     operation: per-parent index range on Post(author, created_at) backward\n"
            "     why: the index gives the order\n"
            "     estimated: 10 rows, 10 reads, cost 0.25\n");
}

TEST(ExplainTest, TextWithNotesSortAndAnalyze) {
  ExplainReport r = TwoSteps();
  r.cache_hit = true;
  r.budget.on_exceed_error = false;
  r.steps[1].index.clear();
  r.steps[1].operation = "edge range + batched lookup";
  r.steps[1].note = "(forward)";
  r.steps[1].sort = true;
  r.steps[0].actual = ExplainActual{true, 1, 1, 1, 1, 12};
  r.steps[1].actual = ExplainActual{};
  r.used = ExplainUsage{3, 2, 100, true, "User.posts", 2500};
  const std::string text = RenderExplainText(r);
  EXPECT_NE(text.find("plan cache: hit\n"), std::string::npos) << text;
  EXPECT_NE(text.find("on exceed truncate\n"), std::string::npos) << text;
  EXPECT_NE(text.find("operation: edge range + batched lookup (forward), then sort\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("   actual: 1 rows, 1 reads, 1 parents, 1 batch, 0.012 ms\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("     actual: not run (the fetch stopped before it)\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("budget used: entities 3/100, edges 2/1000, bytes 100/4096, truncated at "
                      "User.posts\ntotal: 2.500 ms\n"),
            std::string::npos)
      << text;
}

TEST(ExplainTest, Json) {
  ExplainReport r = TwoSteps();
  r.steps.resize(1);
  r.steps[0].actual = ExplainActual{true, 1, 2, 1, 1, 1500};
  r.used = ExplainUsage{1, 0, 40, false, "", 2000};
  EXPECT_EQ(RenderExplainJson(r),
            R"j({"version":12,"schema":1,"plan_cache":"miss","budget":{"entities":100,)j"
            R"j("edges":1000,"depth":16,"bytes":4096,"on_exceed":"error"},"estimate":)j"
            R"j({"entities":11.0,"edges":10.0},"steps":[{"step":1,"path":"User","depth":0,)j"
            R"j("operation":"unique lookup","index":"User(email)","direction":"forward",)j"
            R"j("sort":false,"reason":"equality on every field of unique index User(email)",)j"
            R"j("estimated_rows":1.0,"estimated_reads":1.0,"estimated_cost":1.0,"actual":)j"
            R"j({"run":true,"rows":1,"reads":2,"parents":1,"batches":1,"time_ms":1.5}}],)j"
            R"j("budget_used":{"entities":1,"edges":0,"bytes":40,"truncated":false},)j"
            R"j("time_ms":2.0})j");
}

}  // namespace
}  // namespace ormdb::observability
