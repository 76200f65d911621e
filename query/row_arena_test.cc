#include <gtest/gtest.h>

#include <vector>

#include "query/compiler.h"
#include "query/executor.h"
#include "query/executor_internal.h"
#include "query/parser.h"
#include "query/result_blocks.h"
#include "query/test_util.h"

namespace ormdb::query::executor_internal {
namespace {

TEST(RowArena, RowsStayPutAndComeBackEmptyWithTheirCapacity) {
  RowArena arena;
  std::vector<RowData*> rows;
  for (int i = 0; i < 300; ++i) {
    RowData& r = arena.Add();
    EXPECT_TRUE(r.row.fields.empty());
    r.row.fields.resize(5);
    r.row.fields[1] = Value::String(std::string(40, 'x'));
    r.row.uuid = Value::Int64(i);
    r.row.unconvertible.push_back(2);
    r.version = 7;
    rows.push_back(&r);
  }
  // Addresses handed out earlier are still the rows written through them.
  for (int i = 0; i < 300; ++i) EXPECT_EQ(rows[i]->row.uuid, Value::Int64(i));
  EXPECT_EQ(arena.size(), 300u);
  arena.Reset();
  EXPECT_EQ(arena.size(), 0u);
  for (int i = 0; i < 256; ++i) {
    RowData& r = arena.Add();
    EXPECT_EQ(&r, rows[i]) << "the kept chunks are reused in order";
    EXPECT_TRUE(r.row.fields.empty());
    EXPECT_GE(r.row.fields.capacity(), 5u) << "the field vector keeps its capacity";
    EXPECT_TRUE(r.row.uuid.is_null());
    EXPECT_TRUE(r.row.unconvertible.empty());
    EXPECT_EQ(r.version, 0u);
  }
  // Rows past the kept chunks are new.
  RowData& fresh = arena.Add();
  EXPECT_TRUE(fresh.row.fields.empty());
  EXPECT_EQ(fresh.row.fields.capacity(), 0u);
}

TEST(RowArena, AThreadKeepsOneArenaAndANestedFetchGetsItsOwn) {
  std::unique_ptr<RowArena> outer = TakeRowArena();
  RowData* first = &outer->Add();
  first->row.fields.resize(3);
  // A fetch run while this one runs (an access rule's sub-fetch) must not
  // share the outer fetch's rows.
  std::unique_ptr<RowArena> inner = TakeRowArena();
  ASSERT_NE(inner.get(), outer.get());
  EXPECT_EQ(inner->size(), 0u);
  RowArena* outer_raw = outer.get();
  ReturnRowArena(std::move(outer));
  ReturnRowArena(std::move(inner));  // the thread keeps one already: freed
  std::unique_ptr<RowArena> again = TakeRowArena();
  EXPECT_EQ(again.get(), outer_raw);
  EXPECT_EQ(again->size(), 0u);
  EXPECT_EQ(&again->Add(), first);
  EXPECT_TRUE(first->row.fields.empty());
  ReturnRowArena(std::move(again));
}

TEST(RowArena, NodeListsComeBackEmptyAndKeepOnlySmallCapacity) {
  RowArena arena;
  RowArena::NodeLists& lists = arena.Lists(3);
  ASSERT_EQ(lists.dist_rows.size(), 3u);
  lists.dist_rows[0] = {4, 5, 6};
  lists.dist_occ[1] = {1, 2};
  lists.dist_of_row[2].assign(10, 7);
  lists.dist_of_row[0].assign(100000, 1);  // past what an arena keeps
  lists.block_rows.push_back({0, nullptr});
  const uint32_t* kept = lists.dist_rows[0].data();
  arena.Reset();
  // A plan with fewer nodes sees at least its nodes' lists, all empty.
  RowArena::NodeLists& again = arena.Lists(2);
  EXPECT_EQ(&again, &lists);
  ASSERT_GE(again.dist_rows.size(), 2u);
  for (size_t i = 0; i < again.dist_rows.size(); ++i) {
    EXPECT_TRUE(again.dist_rows[i].empty());
    EXPECT_TRUE(again.dist_occ[i].empty());
    EXPECT_TRUE(again.dist_of_row[i].empty());
  }
  EXPECT_TRUE(again.block_rows.empty());
  EXPECT_EQ(again.dist_rows[0].data(), kept) << "a small list keeps its memory";
  EXPECT_EQ(again.dist_of_row[0].capacity(), 0u) << "a long one is freed";
  EXPECT_EQ(arena.Lists(5).dist_rows.size(), 5u);
}

TEST(NodeBlockSlots, ParentRowsWithoutASlotHaveNone) {
  NodeBlock nb;
  EXPECT_FALSE(nb.SlotOf(0));
  nb.SetSlot(5, 0);
  nb.SetSlot(2, 1);
  EXPECT_EQ(nb.SlotOf(5), 0u);
  EXPECT_EQ(nb.SlotOf(2), 1u);
  for (uint32_t row : {0u, 1u, 3u, 4u, 6u, 1000u}) EXPECT_FALSE(nb.SlotOf(row)) << row;
}

class RunLayoutTest : public query::testing::BlogDatabaseTest {};

TEST_F(RunLayoutTest, BuiltOnceAPlanRunsAlikeEveryTime) {
  Mutate(R"({"ops": [
    {"op": "insert", "entity": "User", "values": {"email": "a@x", "name": "Ann"}, "as": "a"},
    {"op": "insert", "entity": "User", "values": {"email": "b@x", "name": "Bob"}, "as": "b"},
    {"op": "insert", "entity": "Post", "values": {"author": {"ref": "a"}, "title": "P1"}, "as": "p"},
    {"op": "insert", "entity": "Post", "values": {"author": {"ref": "a"}, "title": "P2"}},
    {"op": "insert", "entity": "Comment",
     "values": {"post": {"ref": "p"}, "author": {"ref": "b"}, "body": "hi"}}]})");
  // Users at the root and as the comments' authors share one block.
  auto q = ParseFetchText(
      "User(order: name) { name, posts(order: title) { title, comments { body, author { name, "
      "email } } } }");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  Statistics stats(store_.get(), catalog_.get());
  auto plan = CompileFetch(*q, catalog_->current(), &stats, UINT64_MAX);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::shared_ptr<const Plan> shared = *plan;
  auto slots = BindSlots(*shared, *q, Json::Object());
  ASSERT_TRUE(slots.ok()) << slots.status().ToString();
  catalog::LayoutLookup layouts = catalog_->layouts();
  std::string first;
  for (int run = 0; run < 3; ++run) {
    auto txn = store_->BeginRead();
    ASSERT_TRUE(txn.ok());
    auto r = ExecutePlan(shared, *slots, **txn, layouts, ExecOptions{});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const RunLayout* layout = shared->run_layout.get();
    ASSERT_NE(layout, nullptr);
    EXPECT_EQ(&Executor::LayoutOf(*shared), layout) << "built by the first run only";
    const ResultBlocks& b = **r;
    ASSERT_EQ(b.entities.size(), 3u);  // User, Post, Comment
    EXPECT_EQ(b.nodes[0].block, b.nodes[3].block);
    EXPECT_EQ(b.entities[b.nodes[0].block].columns, (std::vector<std::string>{"name", "email"}));
    EXPECT_EQ(b.nodes[3].item_columns, (std::vector<int>{0, 1}));
    std::string text;
    for (const EntityBlock& e : b.entities) {
      for (const auto& column : e.values) {
        for (const Value& v : column) text += v.DebugString() + " ";
      }
      text += "| ";
    }
    if (run == 0) {
      first = text;
      EXPECT_NE(first.find("\"Ann\""), std::string::npos) << first;
      EXPECT_NE(first.find("\"hi\""), std::string::npos) << first;
    }
    EXPECT_EQ(text, first) << "run " << run;
  }
}

}  // namespace
}  // namespace ormdb::query::executor_internal
