#include "storage/change_log.h"

#include <gtest/gtest.h>

#include <random>

namespace ormdb::storage {
namespace {

ChangeSet Sample() {
  ChangeSet cs;
  cs.version = 42;
  cs.commit_time_micros = 1700000000123456;
  cs.records.emplace_back(RowDelta{EntityTypeId{1}, 7, std::nullopt, std::string("after\0x", 7)});
  cs.records.emplace_back(
      RowDelta{EntityTypeId{2}, 8, std::string("before"), std::string("after")});
  cs.records.emplace_back(RowDelta{EntityTypeId{2}, 9, std::string("gone"), std::nullopt});
  cs.records.emplace_back(EdgeDelta{RelationId{3}, 1, 2, true});
  cs.records.emplace_back(EdgeDelta{RelationId{3}, 1, 2, false});
  cs.records.emplace_back(Annotation{"schema:2"});
  return cs;
}

TEST(ChangeLog, RoundTrips) {
  ChangeSet cs = Sample();
  std::string bytes = EncodeChangeSet(cs);
  auto back = DecodeChangeSet(42, bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, cs);
  EXPECT_EQ(*PeekCommitTime(bytes), cs.commit_time_micros);
  // Unaligned copy decodes the same.
  std::string shifted = "x" + bytes;
  auto again = DecodeChangeSet(42, std::string_view(shifted).substr(1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, cs);
}

TEST(ChangeLog, EveryTruncationAndRandomDamageIsAnErrorOrValid) {
  std::string bytes = EncodeChangeSet(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = DecodeChangeSet(1, std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(r.ok()) << n;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
    }
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string damaged = bytes;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) damaged[rng() % damaged.size()] = static_cast<char>(rng());
    auto r = DecodeChangeSet(1, damaged);
    if (r.ok()) {
      EXPECT_EQ(DecodeChangeSet(1, EncodeChangeSet(*r))->records, r->records);
    }
  }
}

TEST(ChangeLog, HugeCountIsRejectedBeforeAllocating) {
  std::string bytes = EncodeChangeSet(ChangeSet{});
  bytes[9] = bytes[10] = bytes[11] = bytes[12] = '\xff';  // record count
  auto r = DecodeChangeSet(1, bytes);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace ormdb::storage
