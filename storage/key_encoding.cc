#include "storage/key_encoding.h"

#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>

namespace ormdb::storage {
namespace {

// Tag bytes (ascending form). Non-null below null so nulls sort last.
constexpr uint8_t kTagNonNull = 0x01;
constexpr uint8_t kTagNull = 0x02;
// String escapes: a 0x00 byte in the data is 0x00 kEscapedZero; the end of the
// string is 0x00 kTerminator. kTerminator < kEscapedZero, and both follow 0x00,
// which is below every other data byte: so shorter strings sort first.
constexpr uint8_t kEscape = 0x00;
constexpr uint8_t kEscapedZero = 0xFF;
constexpr uint8_t kTerminator = 0x01;

constexpr uint64_t kCanonicalNaNBits = 0x7FF8000000000000ULL;
constexpr uint64_t kSignBit64 = 0x8000000000000000ULL;

uint64_t DoubleToOrderedBits(double d) {
  if (std::isnan(d)) return kCanonicalNaNBits | kSignBit64;
  if (d == 0.0) d = 0.0;  // -0.0 == 0.0 compares true: normalizes the sign
  uint64_t bits = std::bit_cast<uint64_t>(d);
  return (bits & kSignBit64) ? ~bits : (bits | kSignBit64);
}

// Inverse of DoubleToOrderedBits; false for bit patterns it never produces.
bool OrderedBitsToDouble(uint64_t ordered, double* out) {
  uint64_t bits = (ordered & kSignBit64) ? (ordered & ~kSignBit64) : ~ordered;
  double d = std::bit_cast<double>(bits);
  if (std::isnan(d) && bits != kCanonicalNaNBits) return false;
  if (bits == kSignBit64) return false;  // -0.0 is stored as +0.0
  *out = d;
  return true;
}

void AppendAscending(std::string* out, const Value& v) {
  if (v.is_null()) {
    out->push_back(static_cast<char>(kTagNull));
    return;
  }
  out->push_back(static_cast<char>(kTagNonNull));
  switch (v.type()) {
    case ValueType::kNull:
      break;  // handled above
    case ValueType::kBool:
      out->push_back(v.as_bool() ? 1 : 0);
      break;
    case ValueType::kInt32:
      PutU32BE(out, static_cast<uint32_t>(v.as_int32()) ^ 0x80000000U);
      break;
    case ValueType::kInt64:
    case ValueType::kTimestamp:
      PutU64BE(out, static_cast<uint64_t>(v.as_int64()) ^ kSignBit64);
      break;
    case ValueType::kFloat64:
      PutU64BE(out, DoubleToOrderedBits(v.as_float64()));
      break;
    case ValueType::kUuid: {
      const auto& bytes = v.as_uuid().bytes;
      out->append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      break;
    }
    case ValueType::kString:
    case ValueType::kBytes:
    case ValueType::kJson: {
      const std::string& s = v.as_string();
      out->reserve(out->size() + s.size() + 2);
      for (char c : s) {
        out->push_back(c);
        if (static_cast<uint8_t>(c) == kEscape) out->push_back(static_cast<char>(kEscapedZero));
      }
      out->push_back(static_cast<char>(kEscape));
      out->push_back(static_cast<char>(kTerminator));
      break;
    }
  }
}

// Reads bytes of one component, undoing the descending inversion on the fly.
class KeyReader {
 public:
  KeyReader(std::string_view in, SortOrder order)
      : in_(in), flip_(order == SortOrder::kDesc ? 0xFF : 0x00) {}

  bool ReadByte(uint8_t* b) {
    if (pos_ >= in_.size()) return false;
    *b = static_cast<uint8_t>(in_[pos_++]) ^ flip_;
    return true;
  }
  bool ReadBytes(size_t n, uint8_t* dst) {
    if (in_.size() - pos_ < n) return false;
    for (size_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(in_[pos_ + i]) ^ flip_;
    pos_ += n;
    return true;
  }
  size_t consumed() const { return pos_; }

 private:
  std::string_view in_;
  uint8_t flip_;
  size_t pos_ = 0;
};

Status Corrupted(std::string what, ValueType type) {
  return Internal("corrupted key: " + what + " (decoding " + std::string(ValueTypeName(type)) +
                  ")");
}

Result<Value> DecodeAscending(KeyReader* r, ValueType type) {
  uint8_t tag;
  if (!r->ReadByte(&tag)) return Corrupted("truncated before tag", type);
  if (tag == kTagNull) return Value::Null();
  if (tag != kTagNonNull) return Corrupted("bad tag byte " + std::to_string(tag), type);

  switch (type) {
    case ValueType::kNull:
      return Corrupted("non-null tag for a null-typed component", type);
    case ValueType::kBool: {
      uint8_t b;
      if (!r->ReadByte(&b)) return Corrupted("truncated bool", type);
      if (b > 1) return Corrupted("bool byte " + std::to_string(b), type);
      return Value::Bool(b == 1);
    }
    case ValueType::kInt32: {
      uint8_t buf[4];
      if (!r->ReadBytes(4, buf)) return Corrupted("truncated int32", type);
      uint32_t u = GetU32BE(reinterpret_cast<const char*>(buf)) ^ 0x80000000U;
      return Value::Int32(static_cast<int32_t>(u));
    }
    case ValueType::kInt64:
    case ValueType::kTimestamp: {
      uint8_t buf[8];
      if (!r->ReadBytes(8, buf)) return Corrupted("truncated int64", type);
      auto i = static_cast<int64_t>(GetU64BE(reinterpret_cast<const char*>(buf)) ^ kSignBit64);
      return type == ValueType::kInt64 ? Value::Int64(i) : Value::Timestamp(i);
    }
    case ValueType::kFloat64: {
      uint8_t buf[8];
      if (!r->ReadBytes(8, buf)) return Corrupted("truncated float64", type);
      double d;
      if (!OrderedBitsToDouble(GetU64BE(reinterpret_cast<const char*>(buf)), &d)) {
        return Corrupted("non-canonical float64 (-0.0 or a NaN payload)", type);
      }
      return Value::Float64(d);
    }
    case ValueType::kUuid: {
      Uuid u;
      if (!r->ReadBytes(16, u.bytes.data())) return Corrupted("truncated uuid", type);
      return Value::MakeUuid(u);
    }
    case ValueType::kString:
    case ValueType::kBytes:
    case ValueType::kJson: {
      std::string s;
      for (;;) {
        uint8_t b;
        if (!r->ReadByte(&b)) return Corrupted("unterminated string", type);
        if (b != kEscape) {
          s.push_back(static_cast<char>(b));
          continue;
        }
        uint8_t next;
        if (!r->ReadByte(&next)) return Corrupted("truncated escape", type);
        if (next == kTerminator) break;
        if (next != kEscapedZero) return Corrupted("bad escape 0x00 " + std::to_string(next), type);
        s.push_back('\0');
      }
      if (type == ValueType::kString) return Value::String(std::move(s));
      if (type == ValueType::kBytes) return Value::Bytes(std::move(s));
      return Value::Json(std::move(s));
    }
  }
  return Corrupted("unknown value type " + std::to_string(static_cast<int>(type)), type);
}

template <typename T>
int ThreeWay(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

}  // namespace

void PutU32BE(std::string* out, uint32_t v) {
  char buf[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                 static_cast<char>(v)};
  out->append(buf, sizeof buf);
}

void PutU64BE(std::string* out, uint64_t v) {
  PutU32BE(out, static_cast<uint32_t>(v >> 32));
  PutU32BE(out, static_cast<uint32_t>(v));
}

void AppendKey(std::string* out, const Value& v, SortOrder order) {
  const size_t start = out->size();
  AppendAscending(out, v);
  if (order == SortOrder::kDesc) {
    for (size_t i = start; i < out->size(); ++i) (*out)[i] = static_cast<char>(~(*out)[i]);
  }
}

Result<Value> DecodeKey(std::string_view* in, ValueType type, SortOrder order) {
  KeyReader reader(*in, order);
  Result<Value> v = DecodeAscending(&reader, type);
  if (v.ok()) in->remove_prefix(reader.consumed());
  return v;
}

int CompareValues(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return ThreeWay(a.is_null(), b.is_null());
  if (a.type() != b.type()) return ThreeWay(a.type(), b.type());
  switch (a.type()) {
    case ValueType::kNull:
      return 0;
    case ValueType::kBool:
      return ThreeWay(a.as_bool(), b.as_bool());
    case ValueType::kInt32:
      return ThreeWay(a.as_int32(), b.as_int32());
    case ValueType::kInt64:
    case ValueType::kTimestamp:
      return ThreeWay(a.as_int64(), b.as_int64());
    case ValueType::kFloat64: {
      double x = a.as_float64(), y = b.as_float64();
      bool x_nan = std::isnan(x), y_nan = std::isnan(y);
      if (x_nan || y_nan) return ThreeWay(x_nan, y_nan);
      return ThreeWay(x, y);  // -0.0 == +0.0 under IEEE comparison, as in the encoding
    }
    case ValueType::kUuid:
      return ThreeWay(a.as_uuid(), b.as_uuid());
    case ValueType::kString:
    case ValueType::kBytes:
    case ValueType::kJson: {
      // char_traits<char>::compare orders like memcmp: as unsigned bytes.
      int c = std::string_view(a.as_string()).compare(b.as_string());
      return ThreeWay(c, 0);
    }
  }
  return 0;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<uint8_t>(s.back()) == 0xFF) s.pop_back();
  if (!s.empty()) s.back() = static_cast<char>(static_cast<uint8_t>(s.back()) + 1);
  return s;
}

}  // namespace ormdb::storage
