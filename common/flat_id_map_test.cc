#include "common/flat_id_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace ormdb {
namespace {

TEST(FlatIdMap, AgreesWithStdMapOnRandomKeys) {
  FlatIdMap<std::string> flat;
  std::map<std::pair<uint32_t, uint64_t>, std::string> expected;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50000; ++i) {
    // Few spaces, ids dense, sparse and huge, so keys collide on one half.
    uint32_t space = static_cast<uint32_t>(rng() % 4);
    uint64_t id = rng() % 3 == 0 ? rng() : rng() % 2000;
    std::string value = std::to_string(i);
    auto [slot, inserted] = flat.Emplace(space, id, value);
    auto [it, expected_inserted] = expected.emplace(std::pair{space, id}, value);
    ASSERT_EQ(inserted, expected_inserted);
    ASSERT_EQ(*slot, it->second);
    if (rng() % 7 == 0) *slot = it->second = "changed" + value;  // written through the slot
  }
  EXPECT_EQ(flat.size(), expected.size());
  for (const auto& [key, value] : expected) {
    const std::string* found = flat.Find(key.first, key.second);
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(*found, value);
  }
  // The same id in another space is another key.
  EXPECT_EQ(flat.Find(9, 1), nullptr);
  EXPECT_FALSE(flat.contains(4, 1));
}

TEST(FlatIdMap, EmptyFindsNothingAndZeroIsAKey) {
  FlatIdMap<int> flat;
  EXPECT_EQ(flat.Find(0, 0), nullptr);
  EXPECT_TRUE(flat.empty());
  EXPECT_TRUE(flat.Emplace(0, 0, 5).second);
  EXPECT_FALSE(flat.Emplace(0, 0, 6).second);
  EXPECT_EQ(*flat.Find(0, 0), 5);
  EXPECT_EQ(flat.size(), 1u);
}

TEST(FlatIdMap, ReserveKeepsEntriesAndMakesRoom) {
  FlatIdMap<int> flat;
  flat.Reserve(0);
  EXPECT_EQ(flat.Find(1, 1), nullptr);
  for (int i = 0; i < 20; ++i) flat.Emplace(1, static_cast<uint64_t>(i) * 977, i);
  flat.Reserve(5000);  // smaller than what it holds after: a rehash keeping all
  for (int i = 0; i < 20; ++i) {
    const int* v = flat.Find(1, static_cast<uint64_t>(i) * 977);
    ASSERT_NE(v, nullptr) << i;
    EXPECT_EQ(*v, i);
  }
  // Filling up to the reservation finds every entry again.
  for (int i = 20; i < 5000; ++i) flat.Emplace(1, static_cast<uint64_t>(i) * 977, i);
  EXPECT_EQ(flat.size(), 5000u);
  for (int i = 0; i < 5000; i += 37) EXPECT_EQ(*flat.Find(1, static_cast<uint64_t>(i) * 977), i);
  EXPECT_EQ(flat.Find(2, 977), nullptr);
}

}  // namespace
}  // namespace ormdb
