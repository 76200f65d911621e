// Printing a CheckExpr back to text the parser reads to the same tree,
// with the fewest parentheses its precedences allow.
#include <string>

#include "catalog/check_expr.h"
#include "common/json.h"

namespace ormdb::catalog {
namespace {

// Binding strength for ToString: a child that binds looser than its
// context needs parentheses.
int Precedence(CheckExpr::Kind kind) {
  using K = CheckExpr::Kind;
  switch (kind) {
    case K::kOr:
      return 1;
    case K::kAnd:
      return 2;
    case K::kNot:
      return 3;
    case K::kEq:
    case K::kNe:
    case K::kLt:
    case K::kLe:
    case K::kGt:
    case K::kGe:
    case K::kIn:
    case K::kNotIn:
    case K::kLike:
    case K::kNotLike:
    case K::kIsNull:
    case K::kIsNotNull:
      return 4;
    case K::kAdd:
    case K::kSub:
      return 5;
    case K::kMul:
    case K::kDiv:
      return 6;
    case K::kNeg:
      return 7;
    case K::kLiteral:
    case K::kField:
    case K::kCall:
      return 8;
  }
  return 8;
}

std::string_view OperatorText(CheckExpr::Kind kind) {
  using K = CheckExpr::Kind;
  switch (kind) {
    case K::kOr:
      return "or";
    case K::kAnd:
      return "and";
    case K::kEq:
      return "==";
    case K::kNe:
      return "!=";
    case K::kLt:
      return "<";
    case K::kLe:
      return "<=";
    case K::kGt:
      return ">";
    case K::kGe:
      return ">=";
    case K::kAdd:
      return "+";
    case K::kSub:
      return "-";
    case K::kMul:
      return "*";
    case K::kDiv:
      return "/";
    case K::kIn:
      return "in";
    case K::kNotIn:
      return "not in";
    case K::kLike:
      return "like";
    case K::kNotLike:
      return "not like";
    default:
      return "?";
  }
}

// A literal in the form the lexer reads back to the same Value.
void AppendLiteral(std::string* out, const Value& v) {
  switch (v.type()) {
    case ValueType::kNull:
      out->append("null");
      return;
    case ValueType::kBool:
      out->append(v.as_bool() ? "true" : "false");
      return;
    case ValueType::kInt64:
      out->append(std::to_string(v.as_int64()));
      return;
    case ValueType::kFloat64:
      AppendJson(out, Json(v.as_float64()));  // shortest round trip, always with '.' or 'e'
      return;
    case ValueType::kString:
      AppendJsonString(out, v.as_string());
      return;
    default:
      out->append(v.DebugString());  // never produced by the parser
      return;
  }
}

}  // namespace

std::string CheckExpr::ToString() const {
  std::string out;
  Print(&out, 0);
  return out;
}

void CheckExpr::Print(std::string* out, int min_precedence) const {
  const int precedence = Precedence(kind_);
  const bool parens = precedence < min_precedence;
  if (parens) out->push_back('(');
  switch (kind_) {
    case Kind::kLiteral:
      AppendLiteral(out, literal_);
      break;
    case Kind::kField:
      out->append(name_);
      break;
    case Kind::kCall:
      out->append(name_);
      out->push_back('(');
      operands_[0]->Print(out, 0);
      out->push_back(')');
      break;
    case Kind::kNot: {
      out->append("not ");
      // `not a == b` means not (a == b), but reads as (not a) == b: keep
      // parentheses around anything but a single term or another not.
      const Kind inner = operands_[0]->kind_;
      operands_[0]->Print(out, inner == Kind::kNot ? precedence : Precedence(Kind::kField));
      break;
    }
    case Kind::kNeg: {
      out->push_back('-');
      std::string operand;
      operands_[0]->Print(&operand, precedence);
      // "-5" would read back as a literal and "--a" as -(-a) only by luck:
      // parenthesize literals and anything that starts with '-'.
      if (operands_[0]->kind_ == Kind::kLiteral || (!operand.empty() && operand[0] == '-')) {
        operand = "(" + operand + ")";
      }
      out->append(operand);
      break;
    }
    case Kind::kAnd:
    case Kind::kOr:
      for (size_t i = 0; i < operands_.size(); ++i) {
        if (i > 0) {
          out->push_back(' ');
          out->append(OperatorText(kind_));
          out->push_back(' ');
        }
        operands_[i]->Print(out, precedence + 1);
      }
      break;
    case Kind::kEq:
    case Kind::kNe:
    case Kind::kLt:
    case Kind::kLe:
    case Kind::kGt:
    case Kind::kGe:
      operands_[0]->Print(out, precedence + 1);
      out->push_back(' ');
      out->append(OperatorText(kind_));
      out->push_back(' ');
      operands_[1]->Print(out, precedence + 1);
      break;
    case Kind::kAdd:
    case Kind::kSub:
    case Kind::kMul:
    case Kind::kDiv:
      // Left-associative: only the right operand needs parentheses at equal
      // precedence (a - (b - c)).
      operands_[0]->Print(out, precedence);
      out->push_back(' ');
      out->append(OperatorText(kind_));
      out->push_back(' ');
      operands_[1]->Print(out, precedence + 1);
      break;
    case Kind::kIn:
    case Kind::kNotIn:
      operands_[0]->Print(out, precedence + 1);
      out->push_back(' ');
      out->append(OperatorText(kind_));
      out->append(" [");
      for (size_t i = 0; i < list_.size(); ++i) {
        if (i > 0) out->append(", ");
        AppendLiteral(out, list_[i]);
      }
      out->push_back(']');
      break;
    case Kind::kLike:
    case Kind::kNotLike:
      operands_[0]->Print(out, precedence + 1);
      out->push_back(' ');
      out->append(OperatorText(kind_));
      out->push_back(' ');
      AppendJsonString(out, pattern_);
      break;
    case Kind::kIsNull:
    case Kind::kIsNotNull:
      operands_[0]->Print(out, precedence + 1);
      out->append(kind_ == Kind::kIsNull ? " is null" : " is not null");
      break;
  }
  if (parens) out->push_back(')');
}

}  // namespace ormdb::catalog
