#include "storage/key_encoding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "storage/keys.h"

namespace ormdb::storage {
namespace {

constexpr ValueType kAllTypes[] = {ValueType::kBool,      ValueType::kInt32,  ValueType::kInt64,
                                   ValueType::kFloat64,   ValueType::kString, ValueType::kBytes,
                                   ValueType::kTimestamp, ValueType::kUuid,   ValueType::kJson};

int Sign(int x) { return (x > 0) - (x < 0); }

// memcmp order of two keys as -1/0/1 (std::string compares as unsigned bytes).
int CompareBytes(const std::string& a, const std::string& b) { return Sign(a.compare(b)); }

std::string Encode(const Value& v, SortOrder order) {
  std::string out;
  AppendKey(&out, v, order);
  return out;
}

// Copies bytes into an exactly-sized heap block so ASan flags any read past the end
// (a std::string's spare capacity would hide it).
class ExactBuffer {
 public:
  explicit ExactBuffer(std::string_view bytes)
      : size_(bytes.size()), data_(new char[bytes.size()]) {
    if (size_ > 0) std::memcpy(data_.get(), bytes.data(), size_);
  }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  size_t size_;
  std::unique_ptr<char[]> data_;
};

// Random values biased toward edge cases and collisions (ties, shared prefixes).
class ValueGenerator {
 public:
  explicit ValueGenerator(uint64_t seed) : rng_(seed) {}

  Value Make(ValueType type) {
    if (Chance(10)) return Value::Null();
    switch (type) {
      case ValueType::kNull:
        return Value::Null();
      case ValueType::kBool:
        return Value::Bool(rng_() & 1);
      case ValueType::kInt32: {
        static constexpr int32_t kEdges[] = {std::numeric_limits<int32_t>::min(),
                                             std::numeric_limits<int32_t>::min() + 1,
                                             -256,
                                             -1,
                                             0,
                                             1,
                                             255,
                                             std::numeric_limits<int32_t>::max() - 1,
                                             std::numeric_limits<int32_t>::max()};
        if (Chance(4)) return Value::Int32(Pick(kEdges));
        if (Chance(2)) return Value::Int32(static_cast<int32_t>(rng_() % 21) - 10);
        return Value::Int32(static_cast<int32_t>(rng_()));
      }
      case ValueType::kInt64:
      case ValueType::kTimestamp: {
        static constexpr int64_t kEdges[] = {
            std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min() + 1, -1, 0, 1,
            std::numeric_limits<int64_t>::max()};
        int64_t i;
        if (Chance(4)) {
          i = Pick(kEdges);
        } else if (Chance(2)) {
          i = static_cast<int64_t>(rng_() % 21) - 10;
        } else {
          i = static_cast<int64_t>(rng_());
        }
        return type == ValueType::kInt64 ? Value::Int64(i) : Value::Timestamp(i);
      }
      case ValueType::kFloat64: {
        const double kInf = std::numeric_limits<double>::infinity();
        const double kEdges[] = {0.0,
                                 -0.0,
                                 1.0,
                                 -1.0,
                                 kInf,
                                 -kInf,
                                 std::numeric_limits<double>::quiet_NaN(),
                                 -std::numeric_limits<double>::quiet_NaN(),
                                 std::numeric_limits<double>::denorm_min(),
                                 -std::numeric_limits<double>::denorm_min(),
                                 std::numeric_limits<double>::min(),
                                 std::numeric_limits<double>::max(),
                                 std::numeric_limits<double>::lowest()};
        if (Chance(3)) return Value::Float64(Pick(kEdges));
        if (Chance(2))
          return Value::Float64(static_cast<double>(static_cast<int>(rng_() % 21) - 10) / 4);
        // Any bit pattern: covers NaNs with payloads and negative NaNs.
        return Value::Float64(std::bit_cast<double>(static_cast<uint64_t>(rng_())));
      }
      case ValueType::kUuid: {
        Uuid u;
        // Few distinct byte values so uuids share prefixes and tie.
        for (auto& b : u.bytes)
          b = Chance(2) ? static_cast<uint8_t>(rng_() % 3 * 0x7F) : static_cast<uint8_t>(rng_());
        if (Chance(4)) u.bytes.fill(static_cast<uint8_t>(rng_() % 2 * 0xFF));
        return Value::MakeUuid(u);
      }
      case ValueType::kString:
      case ValueType::kBytes:
      case ValueType::kJson: {
        // An alphabet around the escape bytes, short lengths: many prefixes of each other.
        static constexpr char kAlphabet[] = {'\x00', '\x01', '\x02', 'a', 'b', '\xfe', '\xff'};
        std::string s;
        size_t len = rng_() % (Chance(8) ? 40 : 6);
        for (size_t i = 0; i < len; ++i)
          s.push_back(Chance(8) ? static_cast<char>(rng_()) : Pick(kAlphabet));
        if (type == ValueType::kString) return Value::String(std::move(s));
        if (type == ValueType::kBytes) return Value::Bytes(std::move(s));
        return Value::Json(std::move(s));
      }
    }
    return Value::Null();
  }

  SortOrder MakeOrder() { return Chance(2) ? SortOrder::kDesc : SortOrder::kAsc; }
  ValueType MakeType() { return Pick(kAllTypes); }
  std::mt19937_64& rng() { return rng_; }

 private:
  bool Chance(int one_in) { return rng_() % one_in == 0; }
  template <typename T, size_t N>
  T Pick(const T (&items)[N]) {
    return items[rng_() % N];
  }

  std::mt19937_64 rng_;
};

// The value DecodeKey should return: the encoding normalizes -0.0 and NaNs.
Value Canonical(const Value& v) {
  if (v.type() != ValueType::kFloat64) return v;
  double d = v.as_float64();
  if (std::isnan(d)) return Value::Float64(std::bit_cast<double>(uint64_t{0x7FF8000000000000}));
  if (d == 0.0) return Value::Float64(0.0);
  return v;
}

std::string Describe(const Value& v) { return v.is_null() ? "null" : v.DebugString(); }

TEST(KeyEncodingTest, FixedWidthBigEndianIsUnalignedSafe) {
  std::string s = "x";  // odd offset for what follows
  PutU32BE(&s, 0x01020304);
  PutU64BE(&s, 0x1122334455667788ULL);
  ASSERT_EQ(s.size(), 13u);
  EXPECT_EQ(s.substr(1, 4), std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(GetU32BE(s.data() + 1), 0x01020304u);
  EXPECT_EQ(GetU64BE(s.data() + 5), 0x1122334455667788ULL);
}

TEST(KeyEncodingTest, GoldenEncodings) {
  // The on-disk format: changing any of these breaks existing databases.
  EXPECT_EQ(Encode(Value::Null(), SortOrder::kAsc), "\x02");
  EXPECT_EQ(Encode(Value::Null(), SortOrder::kDesc), "\xfd");
  EXPECT_EQ(Encode(Value::Int32(0), SortOrder::kAsc), std::string("\x01\x80\x00\x00\x00", 5));
  EXPECT_EQ(Encode(Value::Int32(-1), SortOrder::kAsc), std::string("\x01\x7f\xff\xff\xff", 5));
  EXPECT_EQ(Encode(Value::Int32(0), SortOrder::kDesc), std::string("\xfe\x7f\xff\xff\xff", 5));
  EXPECT_EQ(Encode(Value::Bool(true), SortOrder::kAsc), std::string("\x01\x01", 2));
  EXPECT_EQ(Encode(Value::Float64(1.0), SortOrder::kAsc),
            std::string("\x01\xbf\xf0\x00\x00\x00\x00\x00\x00", 9));
  EXPECT_EQ(Encode(Value::Float64(-0.0), SortOrder::kAsc),
            Encode(Value::Float64(0.0), SortOrder::kAsc));
  EXPECT_EQ(Encode(Value::String(std::string("a\0b", 3)), SortOrder::kAsc), std::string("\x01"
                                                                                        "a\x00\xff"
                                                                                        "b\x00\x01",
                                                                                        7));
  EXPECT_EQ(Encode(Value::String(""), SortOrder::kDesc), std::string("\xfe\xff\xfe", 3));
}

TEST(KeyEncodingTest, FloatSpecialValuesOrder) {
  const double kInf = std::numeric_limits<double>::infinity();
  const double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> ascending = {-kInf, std::numeric_limits<double>::lowest(),
                                   -1.0,  -std::numeric_limits<double>::denorm_min(),
                                   0.0,   std::numeric_limits<double>::denorm_min(),
                                   1.0,   std::numeric_limits<double>::max(),
                                   kInf,  kNaN};
  for (size_t i = 0; i + 1 < ascending.size(); ++i) {
    Value a = Value::Float64(ascending[i]), b = Value::Float64(ascending[i + 1]);
    EXPECT_LT(CompareValues(a, b), 0) << i;
    EXPECT_LT(Encode(a, SortOrder::kAsc), Encode(b, SortOrder::kAsc)) << i;
    EXPECT_GT(Encode(a, SortOrder::kDesc), Encode(b, SortOrder::kDesc)) << i;
  }
  EXPECT_EQ(CompareValues(Value::Float64(-0.0), Value::Float64(0.0)), 0);
  EXPECT_EQ(CompareValues(Value::Float64(kNaN), Value::Float64(-kNaN)), 0);
  EXPECT_EQ(Encode(Value::Float64(kNaN), SortOrder::kAsc),
            Encode(Value::Float64(-kNaN), SortOrder::kAsc));
  // Null is after NaN ascending.
  EXPECT_LT(Encode(Value::Float64(kNaN), SortOrder::kAsc), Encode(Value::Null(), SortOrder::kAsc));
}

TEST(KeyEncodingTest, NullsLastAscendingFirstDescending) {
  for (ValueType type : kAllTypes) {
    ValueGenerator gen(7);
    for (int i = 0; i < 50; ++i) {
      Value v = gen.Make(type);
      if (v.is_null()) continue;
      EXPECT_GT(CompareValues(Value::Null(), v), 0);
      EXPECT_LT(Encode(v, SortOrder::kAsc), Encode(Value::Null(), SortOrder::kAsc));
      EXPECT_GT(Encode(v, SortOrder::kDesc), Encode(Value::Null(), SortOrder::kDesc));
    }
  }
}

// For each type: the order of encodings agrees with CompareValues, on random pairs and
// on every neighbour after sorting by encoding; and every encoding decodes back.
TEST(KeyEncodingTest, SingleValueOrderAndRoundTripProperty) {
  constexpr int kValuesPerType = 3000;
  constexpr int kRandomPairs = 20000;
  for (ValueType type : kAllTypes) {
    SCOPED_TRACE(std::string(ValueTypeName(type)));
    ValueGenerator gen(0x5eed0000 + static_cast<uint64_t>(type));
    std::vector<Value> values;
    for (int i = 0; i < kValuesPerType; ++i) values.push_back(gen.Make(type));

    for (SortOrder order : {SortOrder::kAsc, SortOrder::kDesc}) {
      const int direction = order == SortOrder::kAsc ? 1 : -1;
      std::vector<std::string> keys;
      for (const Value& v : values) keys.push_back(Encode(v, order));

      for (int p = 0; p < kRandomPairs; ++p) {
        size_t i = gen.rng()() % values.size(), j = gen.rng()() % values.size();
        ASSERT_EQ(CompareBytes(keys[i], keys[j]),
                  direction * Sign(CompareValues(values[i], values[j])))
            << Describe(values[i]) << " vs " << Describe(values[j]);
      }

      std::vector<size_t> by_key(values.size());
      for (size_t i = 0; i < by_key.size(); ++i) by_key[i] = i;
      std::sort(by_key.begin(), by_key.end(),
                [&](size_t a, size_t b) { return keys[a] < keys[b]; });
      for (size_t k = 0; k + 1 < by_key.size(); ++k) {
        const size_t a = by_key[k], b = by_key[k + 1];
        ASSERT_EQ(CompareBytes(keys[a], keys[b]),
                  direction * Sign(CompareValues(values[a], values[b])))
            << Describe(values[a]) << " vs " << Describe(values[b]);
      }

      for (size_t i = 0; i < values.size(); ++i) {
        std::string_view in = keys[i];
        Result<Value> decoded = DecodeKey(&in, type, order);
        ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
        EXPECT_TRUE(in.empty());
        ASSERT_EQ(*decoded, Canonical(values[i])) << Describe(values[i]);
      }
    }
  }
}

struct Component {
  ValueType type;
  SortOrder order;
};

// Composite keys of 2-3 mixed-type, mixed-order components compare like the tuple
// compared component-wise, and decode back component by component.
TEST(KeyEncodingTest, CompositeOrderAndRoundTripProperty) {
  ValueGenerator gen(0xC0FFEE);
  constexpr int kSchemas = 300;
  constexpr int kRowsPerSchema = 60;
  for (int s = 0; s < kSchemas; ++s) {
    std::vector<Component> schema(2 + gen.rng()() % 2);
    for (Component& c : schema) c = {gen.MakeType(), gen.MakeOrder()};

    std::vector<std::vector<Value>> rows;
    std::vector<std::string> keys;
    for (int r = 0; r < kRowsPerSchema; ++r) {
      std::vector<Value> row;
      std::string key;
      for (const Component& c : schema) {
        row.push_back(gen.Make(c.type));
        AppendKey(&key, row.back(), c.order);
      }
      rows.push_back(std::move(row));
      keys.push_back(std::move(key));
    }
    // Share leading components sometimes so later components decide the order.
    for (int r = 1; r < kRowsPerSchema; r += 3) {
      rows[r][0] = rows[r - 1][0];
      keys[r].clear();
      for (size_t c = 0; c < schema.size(); ++c) AppendKey(&keys[r], rows[r][c], schema[c].order);
    }

    auto tuple_compare = [&](const std::vector<Value>& a, const std::vector<Value>& b) {
      for (size_t c = 0; c < schema.size(); ++c) {
        int cmp = Sign(CompareValues(a[c], b[c]));
        if (cmp != 0) return schema[c].order == SortOrder::kAsc ? cmp : -cmp;
      }
      return 0;
    };
    for (int i = 0; i < kRowsPerSchema; ++i) {
      for (int j = 0; j < kRowsPerSchema; ++j) {
        ASSERT_EQ(CompareBytes(keys[i], keys[j]), tuple_compare(rows[i], rows[j]))
            << "schema " << s;
      }
      std::string_view in = keys[i];
      for (size_t c = 0; c < schema.size(); ++c) {
        Result<Value> decoded = DecodeKey(&in, schema[c].type, schema[c].order);
        ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
        ASSERT_EQ(*decoded, Canonical(rows[i][c]));
      }
      EXPECT_TRUE(in.empty());
    }
  }
}

// A proper prefix of a valid encoding never decodes (the code is prefix-free), and
// a failed decode leaves the input untouched.
TEST(KeyEncodingTest, EveryTruncationIsAnError) {
  ValueGenerator gen(42);
  for (ValueType type : kAllTypes) {
    for (int i = 0; i < 200; ++i) {
      const SortOrder order = gen.MakeOrder();
      const std::string key = Encode(gen.Make(type), order);
      for (size_t len = 0; len < key.size(); ++len) {
        ExactBuffer buffer(std::string_view(key).substr(0, len));
        std::string_view in = buffer.view();
        Result<Value> decoded = DecodeKey(&in, type, order);
        ASSERT_FALSE(decoded.ok()) << ValueTypeName(type) << " len " << len;
        EXPECT_EQ(decoded.status().code(), ErrorCode::kInternal);
        EXPECT_EQ(decoded.status().message().rfind("corrupted key: ", 0), 0u)
            << decoded.status().message();
        EXPECT_EQ(in.size(), len);
      }
    }
  }
}

// Random bytes either fail cleanly or decode to a value whose encoding is exactly the
// bytes consumed (the encoding is canonical).
TEST(KeyEncodingTest, GarbageInputNeverCrashes) {
  std::mt19937_64 rng(1234);
  int decoded_count = 0;
  for (int i = 0; i < 50000; ++i) {
    const ValueType type = kAllTypes[rng() % std::size(kAllTypes)];
    const SortOrder order = rng() % 2 ? SortOrder::kDesc : SortOrder::kAsc;
    std::string bytes(rng() % 24, '\0');
    // Mostly a plausible tag first, so payload parsing is exercised too.
    for (char& c : bytes) c = static_cast<char>(rng() % 4 == 0 ? rng() % 3 : rng());
    if (!bytes.empty() && rng() % 4 != 0) bytes[0] = order == SortOrder::kAsc ? '\x01' : '\xfe';
    ExactBuffer buffer(bytes);
    std::string_view in = buffer.view();
    Result<Value> decoded = DecodeKey(&in, type, order);
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), ErrorCode::kInternal);
      EXPECT_EQ(in.size(), bytes.size());
      continue;
    }
    ++decoded_count;
    const size_t consumed = bytes.size() - in.size();
    ASSERT_EQ(Encode(*decoded, order), bytes.substr(0, consumed));
  }
  EXPECT_GT(decoded_count, 1000);  // the test does reach the success path
}

TEST(KeyEncodingTest, NullTypedComponentOnlyHoldsNull) {
  std::string_view in("\x01\x00", 2);
  EXPECT_FALSE(DecodeKey(&in, ValueType::kNull).ok());
  std::string key = Encode(Value::Null(), SortOrder::kAsc);
  std::string_view null_in = key;
  Result<Value> v = DecodeKey(&null_in, ValueType::kNull);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->is_null());
}

TEST(KeyEncodingTest, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor(""), "");
  EXPECT_EQ(PrefixSuccessor("\xff\xff"), "");
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor("a\xff\xff"), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("a\x00", 2)), std::string("a\x01", 2));
  EXPECT_EQ(PrefixSuccessor("\xfe\xff"), "\xff");

  // Property: the successor is above every extension of the prefix, and nothing
  // between the prefix and it (in byte order) lacks the prefix.
  std::mt19937_64 rng(99);
  for (int i = 0; i < 5000; ++i) {
    std::string prefix(rng() % 5, '\0');
    for (char& c : prefix) c = static_cast<char>(rng() % 3 == 0 ? '\xff' : rng());
    const std::string succ = PrefixSuccessor(prefix);
    std::string extended = prefix;
    for (size_t k = rng() % 4; k > 0; --k)
      extended.push_back(static_cast<char>(rng() % 2 ? '\xff' : rng()));
    if (succ.empty()) {
      EXPECT_TRUE(std::all_of(prefix.begin(), prefix.end(), [](char c) { return c == '\xff'; }));
      continue;
    }
    EXPECT_LT(extended, succ);
    EXPECT_NE(succ.substr(0, prefix.size()), prefix);
    // Near the prefix, so that it often falls in [prefix, succ).
    std::string other = prefix.substr(0, rng() % (prefix.size() + 1));
    for (size_t k = rng() % 3; k > 0; --k)
      other.push_back(static_cast<char>(rng() % 2 ? '\xff' : rng()));
    if (other >= prefix && other < succ) {
      EXPECT_EQ(other.substr(0, prefix.size()), prefix);
    }
  }
}

}  // namespace
}  // namespace ormdb::storage

namespace ormdb::storage {
namespace {

TEST(CompactU64, RoundTripsInOrderAndRejectsMalformedBytes) {
  std::vector<uint64_t> values = {0,          1,
                                  127,        128,
                                  255,        256,
                                  65535,      65536,
                                  1ull << 32, (1ull << 56) - 1,
                                  1ull << 56, UINT64_MAX - 1,
                                  UINT64_MAX};
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) values.push_back(rng() >> (rng() % 64));
  std::sort(values.begin(), values.end());
  for (bool descending : {false, true}) {
    std::string previous;
    for (size_t i = 0; i < values.size(); ++i) {
      std::string e;
      AppendCompactU64(&e, values[i], descending);
      EXPECT_EQ(e.size(), CompactU64Size(values[i]));
      uint64_t back = 0;
      EXPECT_EQ(ReadCompactU64(e.data(), e.size(), &back, descending), e.size());
      EXPECT_EQ(back, values[i]);
      // A truncated encoding is refused, never read past.
      EXPECT_EQ(ReadCompactU64(e.data(), e.size() - 1, &back, descending), 0u);
      if (i > 0 && values[i] != values[i - 1]) {
        EXPECT_EQ(descending ? e < previous : e > previous, true) << values[i];
      }
      previous = e;
    }
  }
  uint64_t v = 0;
  EXPECT_EQ(ReadCompactU64("\x09", 1, &v), 0u);  // longer than 8 bytes
  EXPECT_EQ(ReadCompactU64(std::string("\x02\x00\x05", 3).data(), 3, &v), 0u);  // not shortest
  EXPECT_EQ(ReadCompactU64("", 0, &v), 0u);
}

TEST(KeyLayout, KeysParseBackAndSortAsTheFixedLayoutDoes) {
  // Compact keys (format 3) must order rows, index entries and edges exactly
  // as the fixed ones (format 2) do, and take apart into what built them.
  KeyLayout fixed(2), compact(3);
  std::mt19937_64 rng(9);
  auto some = [&]() -> uint64_t {
    switch (rng() % 4) {
      case 0:
        return rng() % 300;
      case 1:
        return rng() >> (rng() % 64);
      case 2:
        return UINT64_MAX - rng() % 3;
      default:
        return rng() % 70000;
    }
  };
  struct Built {
    std::string fixed, compact;
  };
  std::vector<Built> rows, entries, edges;
  for (int i = 0; i < 3000; ++i) {
    EntityTypeId type{static_cast<uint32_t>(rng() % 3 == 0 ? some() : rng() % 5)};
    RowId id = some();
    Version v = some();
    for (const KeyLayout* keys : {&fixed, &compact}) {
      RowKeyParts p;
      std::string key = keys->RowKey(type, id, v);
      ASSERT_TRUE(keys->ParseRowKey(key, &p));
      EXPECT_EQ(p.type, type.value);
      EXPECT_EQ(p.id, id);
      EXPECT_EQ(p.version, v);
      EXPECT_EQ(key.substr(0, p.row_prefix), keys->RowPrefix(type, id));
      EXPECT_FALSE(keys->ParseRowKey(key.substr(0, key.size() - 1), &p));
      // A scan's check by the type's encoded prefix agrees: this key is of
      // its type and of no neighbouring one, and a cut key is of none.
      RowKeyParts q;
      ASSERT_TRUE(keys->ParseRowKeyOf(key, keys->Owner(type.value), type.value, &q));
      EXPECT_EQ(q.type, type.value);
      EXPECT_EQ(q.id, id);
      EXPECT_EQ(q.version, v);
      EXPECT_EQ(q.row_prefix, p.row_prefix);
      for (uint32_t other : {type.value + 1, type.value - 1, type.value ^ 0x100u}) {
        if (other == type.value) continue;
        EXPECT_FALSE(keys->ParseRowKeyOf(key, keys->Owner(other), other, &q)) << other;
      }
      EXPECT_FALSE(keys->ParseRowKeyOf(key.substr(0, key.size() - 1), keys->Owner(type.value),
                                       type.value, &q));
    }
    rows.push_back({fixed.RowKey(type, id, v), compact.RowKey(type, id, v)});

    IndexId index{static_cast<uint32_t>(rng() % 4)};
    std::string part;
    AppendKey(&part, Value::Int64(static_cast<int64_t>(rng() % 5)));
    AppendKey(&part, Value::String(std::string(rng() % 4, 'a' + rng() % 3)));
    for (const KeyLayout* keys : {&fixed, &compact}) {
      IndexKeyParts p;
      std::string key = keys->IndexKey(index, part, id, v);
      ASSERT_TRUE(keys->ParseIndexKey(key, &p));
      EXPECT_EQ(p.index, index.value);
      EXPECT_EQ(p.value_part, part);
      EXPECT_EQ(p.id, id);
      EXPECT_EQ(p.begin, v);
      EXPECT_EQ(key.rfind(keys->IndexEntryPrefix(index, part, id), 0), 0u);
    }
    entries.push_back({fixed.IndexKey(index, part, id, v), compact.IndexKey(index, part, id, v)});

    RelationId rel{static_cast<uint32_t>(rng() % 3)};
    EdgeDirection dir = rng() % 2 ? EdgeDirection::kForward : EdgeDirection::kBackward;
    RowId to = some();
    for (const KeyLayout* keys : {&fixed, &compact}) {
      EdgeKeyParts p;
      std::string key = keys->EdgeKey(rel, dir, id, to, v);
      ASSERT_TRUE(keys->ParseEdgeKey(key, &p));
      EXPECT_EQ(p.relation, rel.value);
      EXPECT_EQ(p.dir, dir);
      EXPECT_EQ(p.from, id);
      EXPECT_EQ(p.to, to);
      EXPECT_EQ(p.begin, v);
      EXPECT_EQ(key.rfind(keys->EdgePairPrefix(rel, dir, id, to), 0), 0u);
      EXPECT_FALSE(keys->ParseEdgeKey(key + "x", &p));
    }
    edges.push_back({fixed.EdgeKey(rel, dir, id, to, v), compact.EdgeKey(rel, dir, id, to, v)});
  }
  for (auto* keys : {&rows, &entries, &edges}) {
    for (size_t i = 1; i < keys->size(); ++i) {
      const Built& a = (*keys)[i - 1];
      const Built& b = (*keys)[i];
      EXPECT_EQ(a.fixed < b.fixed, a.compact < b.compact) << i;
      EXPECT_EQ(a.fixed == b.fixed, a.compact == b.compact) << i;
    }
  }
  // A current entry's end is an empty value in the compact layout only.
  Version end = 0;
  EXPECT_TRUE(compact.EncodeEnd(kOpenEnd).empty());
  EXPECT_TRUE(compact.ReadEnd("", &end));
  EXPECT_EQ(end, kOpenEnd);
  EXPECT_FALSE(fixed.ReadEnd("", &end));
  EXPECT_EQ(fixed.EncodeEnd(kOpenEnd).size(), 8u);
  EXPECT_TRUE(compact.ReadEnd(compact.EncodeEnd(7), &end));
  EXPECT_EQ(end, 7u);
}

}  // namespace
}  // namespace ormdb::storage
