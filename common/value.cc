#include "common/value.h"

#include <cstdio>
#include <cstring>

namespace ormdb {

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kNull:
      return "null";
    case ValueType::kBool:
      return "bool";
    case ValueType::kInt32:
      return "int32";
    case ValueType::kInt64:
      return "int64";
    case ValueType::kFloat64:
      return "float64";
    case ValueType::kString:
      return "string";
    case ValueType::kBytes:
      return "bytes";
    case ValueType::kTimestamp:
      return "timestamp";
    case ValueType::kUuid:
      return "uuid";
    case ValueType::kJson:
      return "json";
  }
  return "unknown";
}

bool Value::operator==(const Value& o) const {
  if (type_ != o.type_) return false;
  if (type_ == ValueType::kFloat64) {
    double a = as_float64(), b = o.as_float64();
    return std::memcmp(&a, &b, sizeof a) == 0;
  }
  return data_ == o.data_;
}

std::string Value::DebugString() const {
  switch (type_) {
    case ValueType::kNull:
      return "null";
    case ValueType::kBool:
      return as_bool() ? "true" : "false";
    case ValueType::kInt32:
      return std::to_string(as_int32());
    case ValueType::kInt64:
    case ValueType::kTimestamp:
      return std::to_string(as_int64());
    case ValueType::kFloat64: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", as_float64());
      return buf;
    }
    case ValueType::kString:
    case ValueType::kJson:
      return "\"" + as_string() + "\"";
    case ValueType::kBytes:
      return "<" + std::to_string(as_string().size()) + " bytes>";
    case ValueType::kUuid: {
      std::string s;
      char buf[3];
      for (size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
        std::snprintf(buf, sizeof buf, "%02x", as_uuid().bytes[i]);
        s += buf;
      }
      return s;
    }
  }
  return "?";
}

}  // namespace ormdb
