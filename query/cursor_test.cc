#include "query/cursor.h"

#include <gtest/gtest.h>

#include <random>

namespace ormdb::query {
namespace {

std::string Key() {
  std::string k;
  for (int i = 0; i < 16; ++i) k.push_back(static_cast<char>(i));
  return k;
}

TEST(SipHash, ReferenceVectors) {
  // From the SipHash paper (Aumasson, Bernstein), appendix A: key 00..0f.
  EXPECT_EQ(SipHash24(Key(), ""), 0x726fdb47dd0e0e31ULL);
  std::string msg;
  for (int i = 0; i < 15; ++i) msg.push_back(static_cast<char>(i));
  EXPECT_EQ(SipHash24(Key(), msg), 0xa129ca6149be45e5ULL);
}

CursorPosition Sample() {
  CursorPosition p;
  p.root = true;
  p.version = 42;
  p.shape = 0x1234;
  p.key = {Value::String("ann"), Value()};
  p.id = Value::Int64(7);
  return p;
}

const std::vector<ValueType> kTypes = {ValueType::kString, ValueType::kTimestamp};

TEST(Cursor, RoundTrip) {
  std::string c = EncodeCursor(Key(), Sample());
  auto back = DecodeCursor(Key(), c, true, 0x1234, kTypes, ValueType::kInt64);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->version, 42u);
  EXPECT_EQ(back->key[0], Value::String("ann"));
  EXPECT_TRUE(back->key[1].is_null());
  EXPECT_EQ(back->id, Value::Int64(7));
  EXPECT_FALSE(back->start);
}

TEST(Cursor, StartPositionAndIncludeParent) {
  CursorPosition p;
  p.root = false;
  p.version = 9;
  p.shape = 5;
  p.parent = 77;
  p.start = true;
  auto back = DecodeCursor(Key(), EncodeCursor(Key(), p), false, 5, kTypes, ValueType::kInt64);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->start);
  EXPECT_EQ(back->parent, 77u);
}

TEST(Cursor, RejectsEveryAlteredCharacter) {
  std::string c = EncodeCursor(Key(), Sample());
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 0; i < c.size(); ++i) {
    for (char r : {'A', 'z', '_'}) {
      if (c[i] == r) continue;
      std::string bad = c;
      bad[i] = r;
      auto d = DecodeCursor(Key(), bad, true, 0x1234, kTypes, ValueType::kInt64);
      ASSERT_FALSE(d.ok()) << "position " << i;
      EXPECT_EQ(d.status().code(), ErrorCode::kInvalidArgument);
    }
  }
}

TEST(Cursor, RejectsForeignShapeKindAndDatabase) {
  std::string c = EncodeCursor(Key(), Sample());
  EXPECT_EQ(DecodeCursor(Key(), c, true, 0x9999, kTypes, ValueType::kInt64).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(DecodeCursor(Key(), c, false, 0x1234, kTypes, ValueType::kInt64).status().code(),
            ErrorCode::kInvalidArgument);
  std::string other = Key();
  other[0] = 'x';
  auto d = DecodeCursor(other, c, true, 0x1234, kTypes, ValueType::kInt64);
  EXPECT_EQ(d.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("another database"), std::string::npos);
}

TEST(Cursor, RandomBytesNeverCrash) {
  std::mt19937_64 rng(7);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ ";
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 90, 'A');
    for (char& ch : s) ch = alphabet[rng() % alphabet.size()];
    auto d = DecodeCursor(Key(), s, true, 0x1234, kTypes, ValueType::kInt64);
    EXPECT_FALSE(d.ok());
  }
}

}  // namespace
}  // namespace ormdb::query
