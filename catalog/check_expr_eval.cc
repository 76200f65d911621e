// Evaluating a CheckExpr on one row: SQL's three-valued logic, numeric
// promotion and arithmetic, comparisons and LIKE.
#include <algorithm>
#include <cmath>
#include <limits>

#include "catalog/check_expr.h"
#include "common/value_compare.h"

namespace ormdb::catalog {
namespace {

bool IsNumeric(ValueType t) {
  return t == ValueType::kInt32 || t == ValueType::kInt64 || t == ValueType::kFloat64 ||
         t == ValueType::kTimestamp;
}

// REQUIRES: IsNumeric(v.type()) and not float64.
int64_t IntegerOf(const Value& v) {
  return v.type() == ValueType::kInt32 ? v.as_int32() : v.as_int64();
}

double DoubleOf(const Value& v) {
  return v.type() == ValueType::kFloat64 ? v.as_float64() : static_cast<double>(IntegerOf(v));
}

// The truth of an operand of and/or/not: null is unknown, a non-boolean is
// false (see Evaluate).
enum class Truth : uint8_t { kFalse, kTrue, kUnknown };

Truth TruthOf(const Value& v) {
  if (v.is_null()) return Truth::kUnknown;
  if (v.type() == ValueType::kBool) return v.as_bool() ? Truth::kTrue : Truth::kFalse;
  return Truth::kFalse;
}

Value FromTruth(Truth t) {
  return t == Truth::kUnknown ? Value::Null() : Value::Bool(t == Truth::kTrue);
}

int64_t CodePoints(std::string_view s) {
  int64_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

Value Arithmetic(CheckExpr::Kind kind, const Value& a, const Value& b) {
  if (!IsNumeric(a.type()) || !IsNumeric(b.type())) return Value::Null();
  if (a.type() != ValueType::kFloat64 && b.type() != ValueType::kFloat64) {
    const int64_t x = IntegerOf(a), y = IntegerOf(b);
    int64_t r = 0;
    bool overflow = false;
    switch (kind) {
      case CheckExpr::Kind::kAdd:
        overflow = __builtin_add_overflow(x, y, &r);
        break;
      case CheckExpr::Kind::kSub:
        overflow = __builtin_sub_overflow(x, y, &r);
        break;
      case CheckExpr::Kind::kMul:
        overflow = __builtin_mul_overflow(x, y, &r);
        break;
      default:  // kDiv
        if (y == 0 || (x == std::numeric_limits<int64_t>::min() && y == -1)) return Value::Null();
        r = x / y;
        break;
    }
    return overflow ? Value::Null() : Value::Int64(r);
  }
  const double x = DoubleOf(a), y = DoubleOf(b);
  switch (kind) {
    case CheckExpr::Kind::kAdd:
      return Value::Float64(x + y);
    case CheckExpr::Kind::kSub:
      return Value::Float64(x - y);
    case CheckExpr::Kind::kMul:
      return Value::Float64(x * y);
    default:  // kDiv
      if (y == 0) return Value::Null();
      return Value::Float64(x / y);
  }
}

}  // namespace

std::vector<std::string> CheckExpr::FieldNames() const {
  std::vector<std::string> names;
  CollectFields(&names);
  return names;
}

void CheckExpr::CollectFields(std::vector<std::string>* names) const {
  if (kind_ == Kind::kField && std::find(names->begin(), names->end(), name_) == names->end()) {
    names->push_back(name_);
  }
  for (const auto& op : operands_) op->CollectFields(names);
}

Value CheckExpr::Evaluate(const std::function<Value(std::string_view field)>& lookup) const {
  Value v = Eval(lookup);
  if (v.is_null() || v.type() == ValueType::kBool) return v;
  return Value::Bool(false);
}

Value CheckExpr::Eval(const std::function<Value(std::string_view)>& lookup) const {
  switch (kind_) {
    case Kind::kLiteral:
      return literal_;
    case Kind::kField:
      return lookup(name_);
    case Kind::kNot: {
      Truth t = TruthOf(operands_[0]->Eval(lookup));
      if (t == Truth::kUnknown) return Value::Null();
      return Value::Bool(t == Truth::kFalse);
    }
    case Kind::kAnd:
    case Kind::kOr: {
      // and: any false decides; else any unknown makes unknown. or: dually.
      const Truth decisive = kind_ == Kind::kAnd ? Truth::kFalse : Truth::kTrue;
      bool unknown = false;
      for (const auto& op : operands_) {
        Truth t = TruthOf(op->Eval(lookup));
        if (t == decisive) return FromTruth(decisive);
        if (t == Truth::kUnknown) unknown = true;
      }
      if (unknown) return Value::Null();
      return Value::Bool(kind_ == Kind::kAnd);
    }
    case Kind::kEq:
    case Kind::kNe:
    case Kind::kLt:
    case Kind::kLe:
    case Kind::kGt:
    case Kind::kGe: {
      Value a = operands_[0]->Eval(lookup);
      if (a.is_null()) return Value::Null();
      Value b = operands_[1]->Eval(lookup);
      if (b.is_null()) return Value::Null();
      CompareOp op = CompareOp::kGe;
      switch (kind_) {
        case Kind::kEq:
          op = CompareOp::kEq;
          break;
        case Kind::kNe:
          op = CompareOp::kNe;
          break;
        case Kind::kLt:
          op = CompareOp::kLt;
          break;
        case Kind::kLe:
          op = CompareOp::kLe;
          break;
        case Kind::kGt:
          op = CompareOp::kGt;
          break;
        default:
          break;
      }
      return Value::Bool(Satisfies(CompareForPredicate(a, b), op));
    }
    case Kind::kIn:
    case Kind::kNotIn: {
      Value a = operands_[0]->Eval(lookup);
      if (a.is_null()) return Value::Null();
      Truth found = Truth::kFalse;
      for (const Value& element : list_) {
        if (element.is_null()) {
          found = Truth::kUnknown;
        } else if (CompareForPredicate(a, element) == ValueOrder::kEqual) {
          found = Truth::kTrue;
          break;
        }
      }
      if (found == Truth::kUnknown) return Value::Null();
      return Value::Bool((found == Truth::kTrue) == (kind_ == Kind::kIn));
    }
    case Kind::kLike:
    case Kind::kNotLike: {
      Value a = operands_[0]->Eval(lookup);
      if (a.is_null()) return Value::Null();
      if (a.type() != ValueType::kString) return Value::Bool(false);
      return Value::Bool(like_->Matches(a.as_string()) == (kind_ == Kind::kLike));
    }
    case Kind::kIsNull:
      return Value::Bool(operands_[0]->Eval(lookup).is_null());
    case Kind::kIsNotNull:
      return Value::Bool(!operands_[0]->Eval(lookup).is_null());
    case Kind::kAdd:
    case Kind::kSub:
    case Kind::kMul:
    case Kind::kDiv: {
      Value a = operands_[0]->Eval(lookup);
      if (a.is_null()) return Value::Null();
      Value b = operands_[1]->Eval(lookup);
      if (b.is_null()) return Value::Null();
      return Arithmetic(kind_, a, b);
    }
    case Kind::kNeg: {
      Value a = operands_[0]->Eval(lookup);
      if (a.type() == ValueType::kFloat64) return Value::Float64(-a.as_float64());
      if (!IsNumeric(a.type())) return Value::Null();
      int64_t v = IntegerOf(a);
      if (v == std::numeric_limits<int64_t>::min()) return Value::Null();
      return Value::Int64(-v);
    }
    case Kind::kCall: {
      Value a = operands_[0]->Eval(lookup);
      switch (function_) {
        case Function::kLength:
          if (a.type() == ValueType::kString) return Value::Int64(CodePoints(a.as_string()));
          if (a.type() == ValueType::kBytes) {
            return Value::Int64(static_cast<int64_t>(a.as_string().size()));
          }
          return Value::Null();
        case Function::kLower:
        case Function::kUpper: {
          if (a.type() != ValueType::kString) return Value::Null();
          std::string s = a.as_string();
          for (char& c : s) {
            if (function_ == Function::kLower && c >= 'A' && c <= 'Z')
              c = static_cast<char>(c + 32);
            if (function_ == Function::kUpper && c >= 'a' && c <= 'z')
              c = static_cast<char>(c - 32);
          }
          return Value::String(std::move(s));
        }
        case Function::kAbs: {
          if (a.type() == ValueType::kFloat64) return Value::Float64(std::fabs(a.as_float64()));
          if (!IsNumeric(a.type())) return Value::Null();
          int64_t v = IntegerOf(a);
          if (v == std::numeric_limits<int64_t>::min()) return Value::Null();
          return Value::Int64(v < 0 ? -v : v);
        }
      }
      return Value::Null();
    }
  }
  return Value::Null();
}

}  // namespace ormdb::catalog
