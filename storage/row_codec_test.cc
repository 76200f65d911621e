#include "storage/row_codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

namespace ormdb::storage {
namespace {

constexpr ValueType kAllTypes[] = {ValueType::kBool,      ValueType::kInt32,  ValueType::kInt64,
                                   ValueType::kFloat64,   ValueType::kString, ValueType::kBytes,
                                   ValueType::kTimestamp, ValueType::kUuid,   ValueType::kJson};

// Copies bytes into an exactly-sized heap block at an odd address, so ASan flags any
// read past the end and any alignment assumption shows up under UBSan.
class OddBuffer {
 public:
  explicit OddBuffer(std::string_view bytes)
      : size_(bytes.size()), data_(new char[bytes.size() + 1]) {
    if (size_ > 0) std::memcpy(data_.get() + 1, bytes.data(), size_);
  }
  std::string_view view() const { return {data_.get() + 1, size_}; }

 private:
  size_t size_;
  std::unique_ptr<char[]> data_;
};

Uuid MakeUuid(uint8_t seed) {
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = static_cast<uint8_t>(seed + i * 17);
  return u;
}

Value RandomValue(ValueType type, std::mt19937_64& rng) {
  if (rng() % 5 == 0) return Value::Null();
  switch (type) {
    case ValueType::kNull:
      return Value::Null();
    case ValueType::kBool:
      return Value::Bool(rng() & 1);
    case ValueType::kInt32:
      return Value::Int32(static_cast<int32_t>(rng()));
    case ValueType::kInt64:
      return Value::Int64(static_cast<int64_t>(rng()));
    case ValueType::kTimestamp:
      return Value::Timestamp(static_cast<int64_t>(rng()));
    case ValueType::kFloat64:
      return Value::Float64(std::bit_cast<double>(static_cast<uint64_t>(rng())));
    case ValueType::kUuid:
      return Value::MakeUuid(MakeUuid(static_cast<uint8_t>(rng())));
    case ValueType::kString:
    case ValueType::kBytes:
    case ValueType::kJson: {
      std::string s(rng() % 12, '\0');
      for (char& c : s) c = static_cast<char>(rng());
      if (type == ValueType::kString) return Value::String(std::move(s));
      if (type == ValueType::kBytes) return Value::Bytes(std::move(s));
      return Value::Json(std::move(s));
    }
  }
  return Value::Null();
}

std::vector<ValueType> RandomLayout(std::mt19937_64& rng, size_t max_fields) {
  std::vector<ValueType> layout(rng() % (max_fields + 1));
  for (ValueType& t : layout) t = kAllTypes[rng() % std::size(kAllTypes)];
  return layout;
}

TEST(RowCodecTest, RoundTripEveryType) {
  const std::vector<ValueType> layout(std::begin(kAllTypes), std::end(kAllTypes));
  const std::vector<Value> values = {
      Value::Bool(true),
      Value::Int32(std::numeric_limits<int32_t>::min()),
      Value::Int64(std::numeric_limits<int64_t>::max()),
      Value::Float64(-0.0),
      Value::String("héllo"),
      Value::Bytes(std::string("\x00\xff\x00", 3)),
      Value::Timestamp(-1),
      Value::MakeUuid(MakeUuid(3)),
      Value::Json(R"({"a": [1, 2]})"),
  };
  Result<std::string> row = EncodeRow(17, layout, values);
  ASSERT_TRUE(row.ok()) << row.status().ToString();

  Result<std::vector<Value>> decoded = DecodeRow(*row, layout);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, values);
  EXPECT_TRUE(std::signbit(decoded->at(3).as_float64()));  // -0.0 kept exactly in rows

  Result<uint32_t> version = PeekRowSchemaVersion(*row);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 17u);

  Result<RowView> view = RowView::Parse(*row, layout);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->schema_version(), 17u);
  EXPECT_EQ(view->stored_field_count(), layout.size());
  // Borrowed: the view points into the row's own bytes.
  std::string_view s = view->GetStringView(4);
  EXPECT_EQ(s, "héllo");
  EXPECT_GE(s.data(), row->data());
  EXPECT_LE(s.data() + s.size(), row->data() + row->size());
}

TEST(RowCodecTest, NaNPayloadRoundTripsBitwise) {
  const std::vector<ValueType> layout = {ValueType::kFloat64};
  const std::vector<Value> values = {
      Value::Float64(std::bit_cast<double>(uint64_t{0xFFF0000000000123}))};
  Result<std::string> row = EncodeRow(1, layout, values);
  ASSERT_TRUE(row.ok());
  Result<std::vector<Value>> decoded = DecodeRow(*row, layout);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, values);  // Value == is bitwise for float64
}

TEST(RowCodecTest, GoldenLayout) {
  // The on-disk format documented in row_codec.h.
  const std::vector<ValueType> layout = {ValueType::kInt32, ValueType::kString, ValueType::kBool,
                                         ValueType::kBytes};
  Result<std::string> row = EncodeRow(
      0x01020304, layout,
      std::vector<Value>{Value::Int32(-2), Value::String("ab"), Value::Null(), Value::Bytes("c")});
  ASSERT_TRUE(row.ok());
  const std::string expected(
      "\x04\x03\x02\x01"  // schema version
      "\x04\x00"          // 4 fields
      "\x04"              // field 2 is null
      "\xfe\xff\xff\xff"  // int32 -2
      "\x02\x00\x00\x00"  // "ab" ends at 2
      "\x03\x00\x00\x00"  // "c" ends at 3
      "abc",
      22);
  EXPECT_EQ(*row, expected);
}

TEST(RowCodecTest, NullsTakeNoSpace) {
  const std::vector<ValueType> layout = {ValueType::kUuid, ValueType::kString, ValueType::kInt64};
  const std::vector<Value> values = {Value::Null(), Value::Null(), Value::Null()};
  Result<std::string> row = EncodeRow(2, layout, values);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->size(), 6u + 1u);  // header + bitmap
  Result<RowView> view = RowView::Parse(*row, layout);
  ASSERT_TRUE(view.ok());
  for (size_t i = 0; i < layout.size(); ++i) {
    EXPECT_TRUE(view->IsNull(i));
    EXPECT_TRUE(view->Get(i).is_null());
  }
  EXPECT_EQ(view->GetStringView(1), "");
}

TEST(RowCodecTest, EmptyRow) {
  Result<std::string> row = EncodeRow(5, {}, {});
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->size(), 6u);
  Result<std::vector<Value>> decoded = DecodeRow(*row, {});
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
  // An empty stored row read with a later, larger layout: all null.
  const std::vector<ValueType> later = {ValueType::kInt32, ValueType::kJson};
  decoded = DecodeRow(*row, later);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, (std::vector<Value>{Value::Null(), Value::Null()}));
}

TEST(RowCodecTest, UnalignedBuffer) {
  const std::vector<ValueType> layout = {ValueType::kBool,  ValueType::kInt64, ValueType::kFloat64,
                                         ValueType::kInt32, ValueType::kUuid,  ValueType::kString};
  const std::vector<Value> values = {Value::Bool(false),           Value::Int64(-123456789012345),
                                     Value::Float64(3.25),         Value::Int32(7),
                                     Value::MakeUuid(MakeUuid(9)), Value::String("x")};
  Result<std::string> row = EncodeRow(3, layout, values);
  ASSERT_TRUE(row.ok());
  OddBuffer buffer(*row);
  ASSERT_EQ(reinterpret_cast<uintptr_t>(buffer.view().data()) % 2, 1u);
  Result<std::vector<Value>> decoded = DecodeRow(buffer.view(), layout);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, values);
  Result<uint32_t> version = PeekRowSchemaVersion(buffer.view());
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 3u);
}

TEST(RowCodecTest, FewerStoredFieldsThanLayoutReadAsNull) {
  const std::vector<ValueType> v1 = {ValueType::kInt32, ValueType::kString};
  const std::vector<ValueType> v2 = {ValueType::kInt32, ValueType::kString, ValueType::kBool,
                                     ValueType::kBytes};
  Result<std::string> row =
      EncodeRow(1, v1, std::vector<Value>{Value::Int32(4), Value::String("s")});
  ASSERT_TRUE(row.ok());
  Result<RowView> view = RowView::Parse(*row, v2);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->stored_field_count(), 2u);
  EXPECT_EQ(view->layout_field_count(), 4u);
  EXPECT_EQ(view->Get(0), Value::Int32(4));
  EXPECT_EQ(view->Get(1), Value::String("s"));
  EXPECT_TRUE(view->IsNull(2));
  EXPECT_TRUE(view->Get(3).is_null());
  EXPECT_EQ(view->GetStringView(3), "");
}

TEST(RowCodecTest, MoreStoredFieldsThanLayoutIsCorruption) {
  const std::vector<ValueType> layout = {ValueType::kInt32, ValueType::kInt32};
  Result<std::string> row =
      EncodeRow(1, layout, std::vector<Value>{Value::Int32(1), Value::Int32(2)});
  ASSERT_TRUE(row.ok());
  Result<RowView> view = RowView::Parse(*row, std::span(layout).first(1));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().code(), ErrorCode::kInternal);
  EXPECT_NE(view.status().message().find("corrupted row: "), std::string::npos);
}

TEST(RowCodecTest, TypeMismatchIsInvalidArgument) {
  const std::vector<ValueType> layout = {ValueType::kInt32, ValueType::kInt32};
  Result<std::string> row =
      EncodeRow(1, layout, std::vector<Value>{Value::Int32(1), Value::String("two")});
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), ErrorCode::kInvalidArgument);
  const std::string& message = row.status().message();
  EXPECT_NE(message.find("field 1"), std::string::npos) << message;
  EXPECT_NE(message.find("int32"), std::string::npos) << message;
  EXPECT_NE(message.find("string"), std::string::npos) << message;

  // Timestamp and int64 share a representation but are different types.
  row = EncodeRow(1, std::vector<ValueType>{ValueType::kTimestamp},
                  std::vector<Value>{Value::Int64(1)});
  EXPECT_EQ(row.status().code(), ErrorCode::kInvalidArgument);
}

TEST(RowCodecTest, SizeMismatchIsInvalidArgument) {
  const std::vector<ValueType> layout = {ValueType::kInt32, ValueType::kInt32};
  Result<std::string> row = EncodeRow(1, layout, std::vector<Value>{Value::Int32(1)});
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), ErrorCode::kInvalidArgument);
}

TEST(RowCodecTest, PeekRowSchemaVersionTooShort) {
  Result<uint32_t> version = PeekRowSchemaVersion(std::string_view("\x01\x02\x03", 3));
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.status().code(), ErrorCode::kInternal);
}

TEST(RowCodecTest, RandomRowsRoundTrip) {
  std::mt19937_64 rng(0xA11CE);
  for (int i = 0; i < 3000; ++i) {
    const std::vector<ValueType> layout = RandomLayout(rng, 20);
    std::vector<Value> values;
    for (ValueType t : layout) values.push_back(RandomValue(t, rng));
    const auto version = static_cast<uint32_t>(rng());
    Result<std::string> row = EncodeRow(version, layout, values);
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    OddBuffer buffer(*row);
    Result<RowView> view = RowView::Parse(buffer.view(), layout);
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    EXPECT_EQ(view->schema_version(), version);
    for (size_t f = 0; f < layout.size(); ++f) {
      ASSERT_EQ(view->Get(f), values[f]) << "row " << i << " field " << f;
      ASSERT_EQ(view->IsNull(f), values[f].is_null());
    }
  }
}

// Every proper prefix of a valid row is rejected: the header fixes the row's length.
TEST(RowCodecTest, EveryTruncationIsAnError) {
  std::mt19937_64 rng(0xBEEF);
  for (int i = 0; i < 300; ++i) {
    const std::vector<ValueType> layout = RandomLayout(rng, 12);
    std::vector<Value> values;
    for (ValueType t : layout) values.push_back(RandomValue(t, rng));
    Result<std::string> row = EncodeRow(9, layout, values);
    ASSERT_TRUE(row.ok());
    for (size_t len = 0; len < row->size(); ++len) {
      OddBuffer buffer(std::string_view(*row).substr(0, len));
      Result<RowView> view = RowView::Parse(buffer.view(), layout);
      ASSERT_FALSE(view.ok()) << "row " << i << " truncated to " << len << " of " << row->size();
      EXPECT_EQ(view.status().code(), ErrorCode::kInternal);
      EXPECT_EQ(view.status().message().rfind("corrupted row: ", 0), 0u) << view.status().message();
    }
  }
}

// Flipped bytes give an error or a row that is fully readable; a row that parses is
// canonical: re-encoding what it holds gives back exactly the same bytes.
TEST(RowCodecTest, RandomByteFlipsNeverCrash) {
  std::mt19937_64 rng(0xF1105);
  int parsed = 0, rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::vector<ValueType> layout = RandomLayout(rng, 12);
    std::vector<Value> values;
    for (ValueType t : layout) values.push_back(RandomValue(t, rng));
    Result<std::string> row = EncodeRow(static_cast<uint32_t>(rng()), layout, values);
    ASSERT_TRUE(row.ok());
    std::string mutated = *row;
    for (size_t flips = 1 + rng() % 3; flips > 0; --flips) {
      size_t pos = rng() % mutated.size();
      // Small deltas hit plausible offsets and counts more often than random bytes.
      mutated[pos] =
          static_cast<char>(rng() % 2 ? rng() : mutated[pos] + static_cast<char>(rng() % 3) - 1);
    }
    OddBuffer buffer(mutated);
    Result<RowView> view = RowView::Parse(buffer.view(), layout);
    if (!view.ok()) {
      EXPECT_EQ(view.status().code(), ErrorCode::kInternal);
      ++rejected;
      continue;
    }
    ++parsed;
    std::vector<Value> read;
    for (size_t f = 0; f < view->stored_field_count(); ++f) read.push_back(view->Get(f));
    for (size_t f = view->stored_field_count(); f < layout.size(); ++f)
      ASSERT_TRUE(view->IsNull(f));
    Result<std::string> reencoded = EncodeRow(
        view->schema_version(), std::span(layout).first(view->stored_field_count()), read);
    ASSERT_TRUE(reencoded.ok());
    ASSERT_EQ(*reencoded, mutated) << "row " << i;
  }
  EXPECT_GT(parsed, 100);
  EXPECT_GT(rejected, 100);
}

// PeekField finds the same bytes as a full parse, for every field of random
// rows (nulls, fields not stored), and on truncated or flipped rows reads
// nothing outside the row (ASan) and agrees wherever the full parse succeeds.
TEST(RowCodecTest, PeekFieldAgreesWithParse) {
  std::mt19937_64 rng(0x9EEC);
  auto expect_same = [](std::string_view row, const std::vector<ValueType>& layout,
                        const RowView& view, int i) {
    for (size_t f = 0; f < layout.size(); ++f) {
      std::string_view bytes;
      const RowView::Peek p = RowView::PeekField(row, layout, f, &bytes);
      if (view.IsNull(f)) {
        ASSERT_EQ(p, RowView::Peek::kNull) << "row " << i << " field " << f;
      } else {
        ASSERT_EQ(p, RowView::Peek::kValue) << "row " << i << " field " << f;
        ASSERT_EQ(RowView::FieldValue(layout[f], bytes), view.Get(f)) << "row " << i;
      }
    }
  };
  int peeked_corrupt = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::vector<ValueType> layout = RandomLayout(rng, 12);
    std::vector<Value> values;
    for (ValueType t : layout) values.push_back(RandomValue(t, rng));
    // Sometimes the row stores fewer fields than the reader's layout.
    const size_t stored = layout.empty() || rng() % 4 ? layout.size() : rng() % layout.size();
    Result<std::string> row =
        EncodeRow(3, std::span(layout).first(stored), std::span(values).first(stored));
    ASSERT_TRUE(row.ok());
    {
      OddBuffer buffer(*row);
      Result<RowView> view = RowView::Parse(buffer.view(), layout);
      ASSERT_TRUE(view.ok());
      expect_same(buffer.view(), layout, *view, i);
    }
    std::string damaged = *row;
    if (rng() % 2 && !damaged.empty()) {
      damaged.resize(rng() % damaged.size());
    } else if (!damaged.empty()) {
      damaged[rng() % damaged.size()] = static_cast<char>(rng());
    }
    OddBuffer buffer(damaged);
    Result<RowView> view = RowView::Parse(buffer.view(), layout);
    if (view.ok()) {
      expect_same(buffer.view(), layout, *view, i);
      continue;
    }
    for (size_t f = 0; f < layout.size(); ++f) {
      std::string_view bytes;
      const RowView::Peek p = RowView::PeekField(buffer.view(), layout, f, &bytes);
      if (p == RowView::Peek::kCorrupt) {
        ++peeked_corrupt;
      } else if (p == RowView::Peek::kValue) {
        // What it found lies inside the row.
        ASSERT_GE(bytes.data(), buffer.view().data());
        ASSERT_LE(bytes.data() + bytes.size(), buffer.view().data() + buffer.view().size());
      }
    }
  }
  EXPECT_GT(peeked_corrupt, 100);
}

// FieldPeeker finds what PeekField finds, for every field of random rows
// (fixed-width and variable; rows with no null, whose fields it finds in
// place, and rows with nulls anywhere or fewer fields stored) and of damaged
// ones, where it reads nothing outside the row either.
TEST(RowCodecTest, FieldPeekerAgreesWithPeekField) {
  std::mt19937_64 rng(0xF1ED);
  int fast_values = 0, integers = 0;
  int64_t x = 0;
  EXPECT_FALSE(RowView::FieldInteger(ValueType::kInt64, "abcd", &x)) << "a wrong width";
  EXPECT_FALSE(RowView::FieldInteger(ValueType::kInt32, "abcdefgh", &x)) << "a wrong width";
  EXPECT_FALSE(RowView::FieldInteger(ValueType::kFloat64, "abcdefgh", &x)) << "not an integer";
  for (int i = 0; i < 3000; ++i) {
    const std::vector<ValueType> layout = RandomLayout(rng, 12);
    std::vector<Value> values;
    const bool no_nulls = rng() % 3 == 0;
    for (ValueType t : layout) {
      Value v = no_nulls || rng() % 3 ? RandomValue(t, rng) : Value();
      while (no_nulls && v.is_null() && t != ValueType::kNull) v = RandomValue(t, rng);
      values.push_back(std::move(v));
    }
    const size_t stored = layout.empty() || rng() % 4 ? layout.size() : rng() % layout.size();
    Result<std::string> row =
        EncodeRow(3, std::span(layout).first(stored), std::span(values).first(stored));
    ASSERT_TRUE(row.ok());
    std::string damaged = *row;
    if (!damaged.empty() && rng() % 2) {
      if (rng() % 2) {
        damaged.resize(rng() % damaged.size());
      } else {
        damaged[rng() % damaged.size()] = static_cast<char>(rng());
      }
    }
    for (const std::string& bytes_of : {*row, damaged}) {
      OddBuffer buffer(bytes_of);
      for (size_t f = 0; f < layout.size(); ++f) {
        std::string_view want, got;
        const RowView::Peek expected = RowView::PeekField(buffer.view(), layout, f, &want);
        const RowView::Peek found = RowView::FieldPeeker(layout, f).Find(buffer.view(), &got);
        if (expected == RowView::Peek::kCorrupt) {
          // The fast path may find a plausible value where the walk finds a
          // bad bound further on; what it finds lies inside the row.
          if (found == RowView::Peek::kValue) {
            ASSERT_GE(got.data(), buffer.view().data());
            ASSERT_LE(got.data() + got.size(), buffer.view().data() + buffer.view().size());
          }
          continue;
        }
        ASSERT_EQ(found, expected) << "row " << i << " field " << f;
        if (found == RowView::Peek::kValue) {
          ASSERT_EQ(got.data(), want.data()) << "row " << i << " field " << f;
          ASSERT_EQ(got.size(), want.size()) << "row " << i << " field " << f;
          ++fast_values;
          // An integer read in place is the value FieldValue builds.
          int64_t x = 0;
          if (RowView::FieldInteger(layout[f], got, &x)) {
            const Value v = RowView::FieldValue(layout[f], got);
            ASSERT_EQ(x, layout[f] == ValueType::kInt32 ? v.as_int32() : v.as_int64());
            ++integers;
          }
        }
      }
    }
  }
  EXPECT_GT(fast_values, 1000);
  EXPECT_GT(integers, 100);
}

}  // namespace
}  // namespace ormdb::storage
