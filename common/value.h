// Value: one typed field value, as stored in rows and index keys.
//
// The storage layer knows these physical types only; the catalog maps the
// schema's types (enums, ids, relations) onto them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace ormdb {

// Physical value types. The numeric values are stored on disk: append only.
enum class ValueType : uint8_t {
  kNull = 0,
  kBool = 1,
  kInt32 = 2,
  kInt64 = 3,
  kFloat64 = 4,
  kString = 5,     // UTF-8 text
  kBytes = 6,      // arbitrary bytes
  kTimestamp = 7,  // UTC microseconds since the Unix epoch (int64)
  kUuid = 8,       // 16 bytes
  kJson = 9,       // JSON text, kept as written
};

std::string_view ValueTypeName(ValueType t);

struct Uuid {
  std::array<uint8_t, 16> bytes{};
  auto operator<=>(const Uuid&) const = default;
};

class Value {
 public:
  Value() = default;  // null
  static Value Null() { return Value(); }
  static Value Bool(bool b) { return Value(ValueType::kBool, b); }
  static Value Int32(int32_t v) { return Value(ValueType::kInt32, v); }
  static Value Int64(int64_t v) { return Value(ValueType::kInt64, v); }
  static Value Float64(double v) { return Value(ValueType::kFloat64, v); }
  static Value String(std::string s) { return Value(ValueType::kString, std::move(s)); }
  static Value Bytes(std::string s) { return Value(ValueType::kBytes, std::move(s)); }
  static Value Timestamp(int64_t micros) { return Value(ValueType::kTimestamp, micros); }
  static Value MakeUuid(Uuid u) { return Value(ValueType::kUuid, u); }
  static Value Json(std::string s) { return Value(ValueType::kJson, std::move(s)); }

  ValueType type() const { return type_; }
  bool is_null() const { return type_ == ValueType::kNull; }

  // Accessors; REQUIRES: the matching type.
  bool as_bool() const { return std::get<bool>(data_); }
  int32_t as_int32() const { return std::get<int32_t>(data_); }
  // int64 and timestamp.
  int64_t as_int64() const { return std::get<int64_t>(data_); }
  double as_float64() const { return std::get<double>(data_); }
  // string, bytes and json.
  const std::string& as_string() const { return std::get<std::string>(data_); }
  const Uuid& as_uuid() const { return std::get<Uuid>(data_); }

  // Same type and same value (bitwise for float64, so NaN == NaN here).
  bool operator==(const Value& o) const;

  // A short human-readable form for error messages ("42", "\"ann\"", "null").
  std::string DebugString() const;

 private:
  template <typename T>
  Value(ValueType t, T v) : type_(t), data_(std::move(v)) {}

  ValueType type_ = ValueType::kNull;
  std::variant<std::monostate, bool, int32_t, int64_t, double, std::string, Uuid> data_;
};

}  // namespace ormdb
