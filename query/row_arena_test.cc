#include <gtest/gtest.h>

#include <vector>

#include "query/executor_internal.h"

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

}  // namespace
}  // namespace ormdb::query::executor_internal
