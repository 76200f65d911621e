#include "query/json_values.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "common/timestamp.h"
#include "common/uuid.h"

namespace ormdb::query {
namespace {

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Status Refuse(std::string_view entity, const catalog::FieldInfo& f, const std::string& shown,
              std::string_view why) {
  return ConstraintViolation("field " + std::string(entity) + "." + f.name + ": " + shown + " " +
                             std::string(why));
}

std::string Shown(const Json& j) {
  std::string s = ToJson(j);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

// An integral JSON number as int64, if it is one exactly.
bool ExactInt(const Json& j, int64_t* out) {
  if (j.is_int()) {
    *out = j.as_int();
    return true;
  }
  if (!j.is_double()) return false;
  double d = j.as_double();
  if (!std::isfinite(d) || std::trunc(d) != d || d < -9223372036854775808.0 ||
      d >= 9223372036854775808.0) {
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

}  // namespace

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kBase64[(n >> s) & 63]);
  }
  if (i < in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) n |= uint8_t(in[i + 1]) << 8;
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kBase64[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0) return InvalidArgument("base64 length is not a multiple of 4");
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t n = 0;
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + k];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        ++pad;
        n <<= 6;
        continue;
      }
      size_t pos = kBase64.find(c);
      if (pos == std::string_view::npos || pad) return InvalidArgument("bad base64 character");
      n = (n << 6) | static_cast<uint32_t>(pos);
    }
    out.push_back(static_cast<char>((n >> 16) & 0xFF));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xFF));
  }
  return out;
}

Result<Value> FieldValueFromJson(std::string_view entity, const catalog::FieldInfo& f,
                                 const Json& j) {
  using catalog::FieldType;
  if (j.is_null()) return Value();
  auto refuse = [&](std::string_view why) { return Refuse(entity, f, Shown(j), why); };
  switch (f.type) {
    case FieldType::kBool:
      if (!j.is_bool()) return refuse("is not a bool");
      return Value::Bool(j.as_bool());
    case FieldType::kInt32: {
      int64_t v = 0;
      if (!ExactInt(j, &v)) return refuse("is not an integer");
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
        return refuse("is out of range for int32");
      }
      return Value::Int32(static_cast<int32_t>(v));
    }
    case FieldType::kInt64: {
      int64_t v = 0;
      if (!ExactInt(j, &v)) return refuse("is not an integer (or is out of range for int64)");
      return Value::Int64(v);
    }
    case FieldType::kFloat64:
      if (j.is_int()) {
        double d = static_cast<double>(j.as_int());
        if (d >= 9223372036854775808.0 || static_cast<int64_t>(d) != j.as_int()) {
          return refuse("is not exactly representable as float64");
        }
        return Value::Float64(d);
      }
      if (!j.is_double()) return refuse("is not a number");
      return Value::Float64(j.as_double());
    case FieldType::kString:
      if (!j.is_string()) return refuse("is not a string");
      return Value::String(j.as_string());
    case FieldType::kBytes: {
      if (!j.is_string()) return refuse("is not a base64 string");
      auto b = Base64Decode(j.as_string());
      if (!b.ok()) return refuse("is not valid base64: " + b.status().message());
      return Value::Bytes(std::move(*b));
    }
    case FieldType::kTimestamp: {
      int64_t v = 0;
      if (j.is_string()) {
        auto t = ParseTimestamp(j.as_string());
        if (!t.ok()) return refuse("is not a timestamp: " + t.status().message());
        return Value::Timestamp(*t);
      }
      if (j.is_int() && ExactInt(j, &v)) return Value::Timestamp(v);
      return refuse("is not a timestamp (an ISO-8601 string or integer microseconds)");
    }
    case FieldType::kUuid: {
      if (!j.is_string()) return refuse("is not a uuid string");
      auto u = ParseUuid(j.as_string());
      if (!u.ok()) return refuse("is not a uuid");
      return Value::MakeUuid(*u);
    }
    case FieldType::kJson:
      return Value::Json(ToJson(j));
    case FieldType::kEnum: {
      if (!j.is_string()) return refuse("is not a string naming a value of " + f.enum_def->name);
      const auto& vals = f.enum_def->values;
      if (std::find(vals.begin(), vals.end(), j.as_string()) == vals.end()) {
        std::string hint = catalog::NearestName(j.as_string(), vals);
        return refuse("is not a value of enum " + f.enum_def->name +
                      (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
      }
      return Value::String(j.as_string());
    }
    case FieldType::kRef:
      break;
  }
  return Internal("FieldValueFromJson on a reference");
}

Result<Value> FieldValueFromText(std::string_view entity, const catalog::FieldInfo& f,
                                 std::string_view text, bool quoted) {
  using catalog::FieldType;
  if (text.empty()) {
    if (!quoted) return Value();
    if (f.type != FieldType::kString && f.type != FieldType::kBytes) {
      return Refuse(entity, f, "\"\"",
                    "(a quoted empty cell, the empty string) is not a " +
                        std::string(f.type == FieldType::kEnum ? "value of the enum"
                                                               : ValueTypeName(f.physical)) +
                        "; an empty cell without quotes is null");
    }
  }
  switch (f.type) {
    case FieldType::kTimestamp: {
      // ISO-8601, or integer microseconds as in JSON.
      auto j = ParseJson(text);
      if (j.ok() && j->is_int()) return FieldValueFromJson(entity, f, *j);
      return FieldValueFromJson(entity, f, Json(std::string(text)));
    }
    case FieldType::kString:
    case FieldType::kBytes:
    case FieldType::kUuid:
    case FieldType::kEnum:
      return FieldValueFromJson(entity, f, Json(std::string(text)));
    case FieldType::kJson: {
      auto j = ParseJson(text);
      if (!j.ok()) return Refuse(entity, f, std::string(text), "is not JSON");
      return Value::Json(ToJson(*j));
    }
    default: {
      // Numbers and booleans are read as JSON literals.
      auto j = ParseJson(text);
      if (!j.ok() || j->is_string() || j->is_array() || j->is_object()) {
        return Refuse(entity, f, std::string(text),
                      "is not a " + std::string(ValueTypeName(f.physical)));
      }
      return FieldValueFromJson(entity, f, *j);
    }
  }
}

Json ValueToJson(const Value& v) {
  switch (v.type()) {
    case ValueType::kNull:
      return Json();
    case ValueType::kBool:
      return Json(v.as_bool());
    case ValueType::kInt32:
      return Json(static_cast<int64_t>(v.as_int32()));
    case ValueType::kInt64:
      return Json(v.as_int64());
    case ValueType::kFloat64:
      return Json(v.as_float64());
    case ValueType::kString:
      return Json(v.as_string());
    case ValueType::kBytes:
      return Json(Base64Encode(v.as_string()));
    case ValueType::kTimestamp:
      return Json(FormatTimestamp(v.as_int64()));
    case ValueType::kUuid:
      return Json(FormatUuid(v.as_uuid()));
    case ValueType::kJson: {
      auto j = ParseJson(v.as_string());
      return j.ok() ? std::move(*j) : Json(v.as_string());
    }
  }
  return Json();
}

}  // namespace ormdb::query
