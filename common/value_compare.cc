#include "common/value_compare.h"

#include <cmath>

#include "common/timestamp.h"
#include "common/uuid.h"

namespace ormdb {
namespace {

bool IsNumeric(ValueType t) {
  return t == ValueType::kInt32 || t == ValueType::kInt64 || t == ValueType::kFloat64 ||
         t == ValueType::kTimestamp;
}

// REQUIRES: IsNumeric(v.type()) and not float64.
int64_t IntegerOf(const Value& v) {
  return v.type() == ValueType::kInt32 ? v.as_int32() : v.as_int64();
}

template <typename T>
ValueOrder Compare3(const T& a, const T& b) {
  if (a < b) return ValueOrder::kLess;
  if (b < a) return ValueOrder::kGreater;
  return ValueOrder::kEqual;
}

// i <=> d exactly: converting a large int64 to double would round.
ValueOrder CompareIntDouble(int64_t i, double d) {
  if (std::isnan(d)) return ValueOrder::kUnordered;
  constexpr double kTwo63 = 9223372036854775808.0;
  if (d >= kTwo63) return ValueOrder::kLess;
  if (d < -kTwo63) return ValueOrder::kGreater;
  const double whole = std::trunc(d);  // in [-2^63, 2^63): fits int64
  const auto whole_int = static_cast<int64_t>(whole);
  if (i != whole_int) return i < whole_int ? ValueOrder::kLess : ValueOrder::kGreater;
  const double fraction = d - whole;
  if (fraction > 0) return ValueOrder::kLess;
  if (fraction < 0) return ValueOrder::kGreater;
  return ValueOrder::kEqual;
}

}  // namespace

ValueOrder Reverse(ValueOrder order) {
  if (order == ValueOrder::kLess) return ValueOrder::kGreater;
  if (order == ValueOrder::kGreater) return ValueOrder::kLess;
  return order;
}

ValueOrder CompareForPredicate(const Value& a, const Value& b) {
  const ValueType ta = a.type(), tb = b.type();
  if (ta == tb) {
    switch (ta) {
      case ValueType::kBool:
        return Compare3(a.as_bool(), b.as_bool());
      case ValueType::kInt32:
        return Compare3(a.as_int32(), b.as_int32());
      case ValueType::kInt64:
      case ValueType::kTimestamp:
        return Compare3(a.as_int64(), b.as_int64());
      case ValueType::kFloat64: {
        const double x = a.as_float64(), y = b.as_float64();
        if (std::isnan(x) || std::isnan(y)) return ValueOrder::kUnordered;
        return Compare3(x, y);
      }
      case ValueType::kString:
      case ValueType::kBytes:
      case ValueType::kJson: {
        // std::string_view compares as unsigned bytes (char_traits<char>).
        const int c = std::string_view(a.as_string()).compare(b.as_string());
        return c < 0 ? ValueOrder::kLess : c > 0 ? ValueOrder::kGreater : ValueOrder::kEqual;
      }
      case ValueType::kUuid:
        return Compare3(a.as_uuid(), b.as_uuid());
      case ValueType::kNull:
        return ValueOrder::kIncompatible;
    }
  }
  // A string against a timestamp or uuid: read the string as one.
  if (ta == ValueType::kString && (tb == ValueType::kTimestamp || tb == ValueType::kUuid)) {
    return Reverse(CompareForPredicate(b, a));
  }
  if (ta == ValueType::kTimestamp && tb == ValueType::kString) {
    Result<int64_t> t = ParseTimestamp(b.as_string());
    return t.ok() ? Compare3(a.as_int64(), *t) : ValueOrder::kIncompatible;
  }
  if (ta == ValueType::kUuid && tb == ValueType::kString) {
    Result<Uuid> u = ParseUuid(b.as_string());
    return u.ok() ? Compare3(a.as_uuid(), *u) : ValueOrder::kIncompatible;
  }
  if (IsNumeric(ta) && IsNumeric(tb)) {
    const bool fa = ta == ValueType::kFloat64, fb = tb == ValueType::kFloat64;
    if (!fa && !fb) return Compare3(IntegerOf(a), IntegerOf(b));
    if (fb) return CompareIntDouble(IntegerOf(a), b.as_float64());
    return Reverse(CompareIntDouble(IntegerOf(b), a.as_float64()));
  }
  return ValueOrder::kIncompatible;
}

bool Satisfies(ValueOrder order, CompareOp op) {
  if (order == ValueOrder::kIncompatible) return false;
  if (order == ValueOrder::kUnordered) return op == CompareOp::kNe;
  switch (op) {
    case CompareOp::kEq:
      return order == ValueOrder::kEqual;
    case CompareOp::kNe:
      return order != ValueOrder::kEqual;
    case CompareOp::kLt:
      return order == ValueOrder::kLess;
    case CompareOp::kLe:
      return order != ValueOrder::kGreater;
    case CompareOp::kGt:
      return order == ValueOrder::kGreater;
    case CompareOp::kGe:
      return order != ValueOrder::kLess;
  }
  return false;
}

}  // namespace ormdb
