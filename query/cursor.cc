#include "query/cursor.h"

#include <cstring>

#include "storage/key_encoding.h"

namespace ormdb::query {
namespace {

constexpr uint8_t kCursorFormat = 1;
constexpr size_t kMaxCursorBytes = 8192;

uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

void SipRound(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
  v0 += v1;
  v1 = Rotl(v1, 13);
  v1 ^= v0;
  v0 = Rotl(v0, 32);
  v2 += v3;
  v3 = Rotl(v3, 16);
  v3 ^= v2;
  v0 += v3;
  v3 = Rotl(v3, 21);
  v3 ^= v0;
  v2 += v1;
  v1 = Rotl(v1, 17);
  v1 ^= v2;
  v2 = Rotl(v2, 32);
}

uint64_t LoadLe64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64UrlEncode(std::string_view in) {
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

bool Base64UrlDecode(std::string_view in, std::string* out) {
  if (in.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = std::strchr(kAlphabet, c);
    if (c == '\0' || p == nullptr) return false;
    acc = (acc << 6) | static_cast<uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // The unused low bits must be zero, so each byte string has one encoding.
  return (acc & ((1u << bits) - 1)) == 0;
}

Status Invalid(std::string_view why) {
  return InvalidArgument("invalid cursor: " + std::string(why));
}

}  // namespace

uint64_t SipHash24(std::string_view key16, std::string_view data) {
  unsigned char k[16] = {};
  std::memcpy(k, key16.data(), std::min<size_t>(16, key16.size()));
  uint64_t k0 = LoadLe64(k), k1 = LoadLe64(k + 8);
  uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
  uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
  uint64_t v3 = 0x7465646279746573ULL ^ k1;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  size_t full = n - n % 8;
  for (size_t i = 0; i < full; i += 8) {
    uint64_t m = LoadLe64(p + i);
    v3 ^= m;
    SipRound(v0, v1, v2, v3);
    SipRound(v0, v1, v2, v3);
    v0 ^= m;
  }
  uint64_t b = static_cast<uint64_t>(n) << 56;
  for (size_t i = 0; i < n % 8; ++i) b |= static_cast<uint64_t>(p[full + i]) << (8 * i);
  v3 ^= b;
  SipRound(v0, v1, v2, v3);
  SipRound(v0, v1, v2, v3);
  v0 ^= b;
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) SipRound(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

std::string EncodeCursor(std::string_view secret, const CursorPosition& pos) {
  std::string raw;
  raw.push_back(static_cast<char>(kCursorFormat));
  raw.push_back(pos.root ? 1 : 2);
  storage::PutU64BE(&raw, pos.version);
  storage::PutU64BE(&raw, pos.shape);
  storage::PutU64BE(&raw, pos.parent);
  raw.push_back(pos.start ? 1 : 0);
  if (!pos.start) {
    for (const Value& v : pos.key) storage::AppendKey(&raw, v);
    storage::AppendKey(&raw, pos.id);
  }
  storage::PutU64BE(&raw, SipHash24(secret, raw));
  return Base64UrlEncode(raw);
}

namespace {

// The fixed header of a cursor: format, kind, version, shape, parent, start.
constexpr size_t kCursorHeader = 1 + 1 + 8 + 8 + 8 + 1;

// The decoded bytes of a cursor whose checksum verifies, with the checksum
// still at the end.
Result<std::string> VerifiedCursorBytes(std::string_view secret, std::string_view text) {
  if (text.size() > kMaxCursorBytes) return Invalid("too long");
  std::string raw;
  if (!Base64UrlDecode(text, &raw)) return Invalid("not a cursor (bad encoding)");
  if (raw.size() < kCursorHeader + 8) return Invalid("not a cursor (too short)");
  std::string_view body(raw.data(), raw.size() - 8);
  if (storage::GetU64BE(raw.data() + body.size()) != SipHash24(secret, body)) {
    return Invalid("checksum mismatch (altered, or from another database)");
  }
  return raw;
}

}  // namespace

Result<CursorPosition> DecodeCursor(std::string_view secret, std::string_view text,
                                    bool expect_root, uint64_t shape,
                                    const std::vector<ValueType>& key_types, ValueType id_type) {
  ORMDB_ASSIGN_OR_RETURN(std::string raw, VerifiedCursorBytes(secret, text));
  std::string_view body(raw.data(), raw.size() - 8);
  if (static_cast<uint8_t>(raw[0]) != kCursorFormat) return Invalid("unknown cursor format");
  CursorPosition pos;
  pos.root = raw[1] == 1;
  if (raw[1] != 1 && raw[1] != 2) return Invalid("unknown cursor kind");
  if (pos.root != expect_root) {
    return Invalid(pos.root ? "a root cursor given to an include"
                            : "an include cursor given to the root");
  }
  pos.version = storage::GetU64BE(raw.data() + 2);
  pos.shape = storage::GetU64BE(raw.data() + 10);
  pos.parent = storage::GetU64BE(raw.data() + 18);
  pos.start = raw[26] == 1;
  if (pos.shape != shape) {
    return Invalid("it belongs to another query (a different entity, order or include path)");
  }
  std::string_view rest = body.substr(kCursorHeader);
  if (!pos.start) {
    for (ValueType t : key_types) {
      auto v = storage::DecodeKey(&rest, t);
      if (!v.ok()) return Invalid("bad sort key");
      pos.key.push_back(std::move(*v));
    }
    auto id = storage::DecodeKey(&rest, id_type);
    if (!id.ok() || id->is_null()) return Invalid("bad id");
    pos.id = std::move(*id);
  }
  if (!rest.empty()) return Invalid("trailing bytes");
  return pos;
}

Result<Version> PeekCursorVersion(std::string_view secret, std::string_view text) {
  ORMDB_ASSIGN_OR_RETURN(std::string raw, VerifiedCursorBytes(secret, text));
  return storage::GetU64BE(raw.data() + 2);
}

}  // namespace ormdb::query
