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
  cs.records.emplace_back(RequestRecord{"client-7/req-19"});
  cs.records.emplace_back(RequestRecord{std::string("\0bin\xff", 5)});
  return cs;
}

std::vector<std::string> RequestKeysOf(const ChangeSet& cs) {
  std::vector<std::string> keys;
  for (const ChangeRecord& r : cs.records) {
    if (const auto* req = std::get_if<RequestRecord>(&r)) keys.push_back(req->key);
  }
  return keys;
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

TEST(ChangeLog, RequestRecordsRoundTripAndPeekWithoutDecoding) {
  ChangeSet cs = Sample();
  std::string bytes = EncodeChangeSet(cs);
  auto keys = PeekRequestKeys(42, bytes);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(*keys, (std::vector<std::string>{"client-7/req-19", std::string("\0bin\xff", 5)}));
  EXPECT_EQ(*keys, RequestKeysOf(cs));
  // An entry without request records, and one with nothing but one.
  ChangeSet plain;
  plain.records.emplace_back(RowDelta{EntityTypeId{1}, 1, std::nullopt, std::string("r")});
  EXPECT_TRUE(PeekRequestKeys(1, EncodeChangeSet(plain))->empty());
  ChangeSet only;
  only.records.emplace_back(RequestRecord{"k"});
  auto back = DecodeChangeSet(0, EncodeChangeSet(only));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, only);
  // The record kind byte 4 follows the header (1 + 8 + 4 bytes).
  EXPECT_EQ(EncodeChangeSet(only)[13], '\x04');
}

TEST(ChangeLog, EveryTruncationAndRandomDamageIsAnErrorOrValid) {
  std::string bytes = EncodeChangeSet(Sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = DecodeChangeSet(1, std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(r.ok()) << n;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
    }
    auto keys = PeekRequestKeys(1, std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(keys.ok()) << n;
    if (!keys.ok()) {
      EXPECT_EQ(keys.status().code(), ErrorCode::kInternal);
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
    // The peek accepts exactly what the decoder accepts, with the same keys.
    auto keys = PeekRequestKeys(1, damaged);
    ASSERT_EQ(keys.ok(), r.ok()) << i;
    if (r.ok()) {
      EXPECT_EQ(*keys, RequestKeysOf(*r));
    }
  }
}

TEST(ChangeLog, HugeCountIsRejectedBeforeAllocating) {
  std::string bytes = EncodeChangeSet(ChangeSet{});
  bytes[9] = bytes[10] = bytes[11] = bytes[12] = '\xff';  // record count
  auto r = DecodeChangeSet(1, bytes);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(PeekRequestKeys(1, bytes).ok());
}

TEST(ChangeLog, ADamagedRequestRecordIsAnError) {
  ChangeSet cs;
  cs.records.emplace_back(RequestRecord{"abc"});
  std::string bytes = EncodeChangeSet(cs);
  // The key's length runs past the end.
  std::string longer = bytes;
  longer[14] = '\x09';
  EXPECT_FALSE(DecodeChangeSet(1, longer).ok());
  EXPECT_FALSE(PeekRequestKeys(1, longer).ok());
  // An unknown record kind.
  std::string unknown = bytes;
  unknown[13] = '\x05';
  auto r = DecodeChangeSet(1, unknown);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown record kind"), std::string::npos);
  EXPECT_FALSE(PeekRequestKeys(1, unknown).ok());
}

}  // namespace
}  // namespace ormdb::storage
