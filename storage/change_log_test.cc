#include "storage/change_log.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>

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
  // Damage may turn an image into one named by reference: this reader has
  // every one.
  const RowImageReader any_image = [](EntityTypeId, RowId,
                                      Version) -> Result<std::optional<std::string>> {
    return std::optional<std::string>("image");
  };
  for (int i = 0; i < 20000; ++i) {
    std::string damaged = bytes;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) damaged[rng() % damaged.size()] = static_cast<char>(rng());
    auto r = DecodeChangeSet(1, damaged, &any_image);
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

TEST(ChangeLog, ImagesTheRowsTableHoldsAreNamedNotCopied) {
  ChangeSet cs;
  cs.version = 10;
  cs.records.emplace_back(RowDelta{EntityTypeId{1}, 7, std::nullopt, std::string("inserted")});
  cs.records.emplace_back(RowDelta{EntityTypeId{2}, 8, std::string("old"), std::string("new")});
  cs.records.emplace_back(RowDelta{EntityTypeId{2}, 9, std::string("deleted"), std::nullopt});
  // Written three times in one transaction: only the first before and the
  // last after image are the rows table's.
  cs.records.emplace_back(RowDelta{EntityTypeId{3}, 5, std::string("v0"), std::string("mid1")});
  cs.records.emplace_back(EdgeDelta{RelationId{3}, 1, 2, true});
  cs.records.emplace_back(RowDelta{EntityTypeId{3}, 5, std::string("mid1"), std::string("mid2")});
  cs.records.emplace_back(RowDelta{EntityTypeId{3}, 5, std::string("mid2"), std::string("v3")});
  // The rows table: (type, id, as of version) -> bytes.
  std::map<std::tuple<uint32_t, RowId, Version>, std::string> table = {
      {{1, 7, 10}, "inserted"}, {{2, 8, 9}, "old"}, {{2, 8, 10}, "new"},
      {{2, 9, 9}, "deleted"},   {{3, 5, 9}, "v0"},  {{3, 5, 10}, "v3"}};
  std::vector<std::tuple<uint32_t, RowId, Version>> reads;
  const RowImageReader rows = [&](EntityTypeId type, RowId id,
                                  Version at) -> Result<std::optional<std::string>> {
    reads.emplace_back(type.value, id, at);
    auto it = table.find({type.value, id, at});
    if (it == table.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  };

  std::string named = EncodeChangeSet(cs, true);
  std::string copied = EncodeChangeSet(cs);
  for (const char* image : {"inserted", "old", "new", "deleted", "v0", "v3"}) {
    EXPECT_EQ(named.find(image), std::string::npos) << image;
    EXPECT_NE(copied.find(image), std::string::npos) << image;
  }
  EXPECT_NE(named.find("mid1"), std::string::npos);
  EXPECT_NE(named.find("mid2"), std::string::npos);

  auto back = DecodeChangeSet(10, named, &rows);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, cs);
  EXPECT_EQ(reads.size(), 6u);
  EXPECT_EQ(*PeekRequestKeys(10, named), std::vector<std::string>{});

  // Without the rows, or with a row version gone: an error, never a wrong image.
  auto no_reader = DecodeChangeSet(10, named);
  ASSERT_FALSE(no_reader.ok());
  EXPECT_EQ(no_reader.status().code(), ErrorCode::kInternal);
  EXPECT_NE(no_reader.status().message().find("no reader"), std::string::npos);
  table.erase({2, 8, 9});
  auto gone = DecodeChangeSet(10, named, &rows);
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find("row 8 of type 2 as of version 9 is gone"),
            std::string::npos)
      << gone.status().message();
  // Every truncation is an error.
  for (size_t n = 0; n < named.size(); ++n) {
    EXPECT_FALSE(DecodeChangeSet(10, std::string_view(named).substr(0, n), &rows).ok()) << n;
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
