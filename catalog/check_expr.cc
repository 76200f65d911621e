// The check-expression language's lexer and parser (text -> CheckExpr),
// with the static typing that refuses ill-typed expressions before any row
// is seen. Evaluation is in check_expr_eval.cc, printing in
// check_expr_print.cc.
#include "catalog/check_expr.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <system_error>
#include <utility>

#include "common/json.h"
#include "common/lexer.h"

namespace ormdb::catalog {
namespace {

// ---------------------------------------------------------------------------
// Tokens

enum class Tok : uint8_t {
  kEnd,
  kIdent,  // identifiers and keywords
  kNumber,
  kString,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kStar,
  kSlash,
};

struct Token {
  Tok type = Tok::kEnd;
  size_t offset = 0;      // in the text
  std::string_view text;  // as written
  std::string value;      // kString: the unescaped string
};

bool IsKeyword(std::string_view word) {
  static constexpr std::string_view kKeywords[] = {"and", "or",   "not",  "in",   "like",
                                                   "is",  "null", "true", "false"};
  return std::find(std::begin(kKeywords), std::end(kKeywords), word) != std::end(kKeywords);
}

std::string Describe(const Token& t) {
  switch (t.type) {
    case Tok::kEnd:
      return "end of expression";
    case Tok::kNumber:
      return "number " + Shorten(t.text);
    case Tok::kString:
      return "string " + Shorten(t.text);
    default:
      return ormdb::Quote(Shorten(t.text));
  }
}

Status ErrorAt(size_t offset, std::string_view expected, std::string_view found) {
  return InvalidArgument("column " + std::to_string(offset + 1) + ": expected " +
                         std::string(expected) + ", found " + std::string(found));
}

// The "found ..." of a raw byte in the text.
std::string DescribeChar(char c) {
  if (c > 0x20 && c < 0x7F) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02X", static_cast<unsigned char>(c));
  return buf;
}

// What the parser knows of a node's result type without the catalog.
enum class StaticType : uint8_t { kBool, kNumber, kString, kNull, kUnknown };

StaticType StaticTypeOf(const CheckExpr& e) {
  using K = CheckExpr::Kind;
  switch (e.kind()) {
    case K::kLiteral:
      switch (e.literal().type()) {
        case ValueType::kNull:
          return StaticType::kNull;
        case ValueType::kBool:
          return StaticType::kBool;
        case ValueType::kString:
          return StaticType::kString;
        default:
          return StaticType::kNumber;
      }
    case K::kField:
      return StaticType::kUnknown;
    case K::kCall:
      return e.function() == CheckExpr::Function::kLower ||
                     e.function() == CheckExpr::Function::kUpper
                 ? StaticType::kString
                 : StaticType::kNumber;
    case K::kNeg:
    case K::kAdd:
    case K::kSub:
    case K::kMul:
    case K::kDiv:
      return StaticType::kNumber;
    default:
      return StaticType::kBool;
  }
}

std::string_view StaticTypeName(StaticType t) {
  switch (t) {
    case StaticType::kBool:
      return "boolean";
    case StaticType::kNumber:
      return "number";
    case StaticType::kString:
      return "string";
    case StaticType::kNull:
      return "null";
    case StaticType::kUnknown:
      return "field";
  }
  return "?";
}

}  // namespace

// ---------------------------------------------------------------------------
// Parser

class CheckExprParser {
 public:
  explicit CheckExprParser(std::string_view text) : text_(text) {}

  Result<std::unique_ptr<CheckExpr>> Parse() {
    if (text_.size() > kMaxCheckExprSize) {
      return ErrorAt(0, "an expression of at most " + std::to_string(kMaxCheckExprSize) + " bytes",
                     std::to_string(text_.size()) + " bytes");
    }
    ORMDB_RETURN_IF_ERROR(Tokenize());
    if (Peek().type == Tok::kEnd) return ErrorAt(Peek().offset, "an expression", Describe(Peek()));
    ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<CheckExpr> root, ParseOr());
    if (Peek().type != Tok::kEnd) {
      return ErrorAt(Peek().offset, "'and', 'or' or the end of the expression", Describe(Peek()));
    }
    ORMDB_RETURN_IF_ERROR(RequireCondition(*root));
    return root;
  }

 private:
  using Node = std::unique_ptr<CheckExpr>;
  using Kind = CheckExpr::Kind;

  // -- Lexer --

  Status Tokenize() {
    size_t i = 0;
    const size_t n = text_.size();
    while (true) {
      while (i < n &&
             (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' || text_[i] == '\r')) {
        ++i;
      }
      Token t;
      t.offset = i;
      if (i >= n) {
        tokens_.push_back(std::move(t));
        return Status::Ok();
      }
      const char c = text_[i];
      const char next = i + 1 < n ? text_[i + 1] : '\0';
      size_t len = 1;
      if (IsNameStart(c)) {
        t.type = Tok::kIdent;
        len = ScanName(text_, i) - i;
      } else if (IsDigit(c)) {
        t.type = Tok::kNumber;
        ORMDB_ASSIGN_OR_RETURN(len, NumberLength(i));
      } else if (c == '"') {
        t.type = Tok::kString;
        StringScan scan = ScanString(text_, i);
        if (!scan.ok) {
          return InvalidArgument("column " + std::to_string(scan.error_offset + 1) + ": " +
                                 scan.message);
        }
        len = scan.end - i;
        t.value = std::move(scan.value);
      } else if (c == '=' && next == '=') {
        t.type = Tok::kEq;
        len = 2;
      } else if (c == '!' && next == '=') {
        t.type = Tok::kNe;
        len = 2;
      } else if (c == '<') {
        t.type = next == '=' ? Tok::kLe : Tok::kLt;
        len = next == '=' ? 2 : 1;
      } else if (c == '>') {
        t.type = next == '=' ? Tok::kGe : Tok::kGt;
        len = next == '=' ? 2 : 1;
      } else if (c == '=') {
        return ErrorAt(i, "'==' to compare", "'='");
      } else if (c == '!') {
        return ErrorAt(i, "'!=' (or 'not' to negate)", "'!'");
      } else {
        switch (c) {
          case '(':
            t.type = Tok::kLParen;
            break;
          case ')':
            t.type = Tok::kRParen;
            break;
          case '[':
            t.type = Tok::kLBracket;
            break;
          case ']':
            t.type = Tok::kRBracket;
            break;
          case ',':
            t.type = Tok::kComma;
            break;
          case '+':
            t.type = Tok::kPlus;
            break;
          case '-':
            t.type = Tok::kMinus;
            break;
          case '*':
            t.type = Tok::kStar;
            break;
          case '/':
            t.type = Tok::kSlash;
            break;
          default:
            return ErrorAt(i, "a field, literal, operator or parenthesis", DescribeChar(c));
        }
      }
      t.text = text_.substr(i, len);
      i += len;
      tokens_.push_back(std::move(t));
    }
  }

  // The length of the number literal at text_[start] (a digit), with JSON's
  // grammar: no leading zeros, digits on both sides of '.', optional exponent.
  Result<size_t> NumberLength(size_t start) const {
    const NumberScan scan = ScanNumber(text_, start);
    const size_t at = scan.error_offset;
    const auto found = [&] {
      return at < text_.size() ? DescribeChar(text_[at]) : std::string("end of expression");
    };
    if (scan.leading_zero) {
      return ErrorAt(start, "a number without leading zeros", DescribeChar(text_[start + 1]));
    }
    switch (scan.problem) {
      case NumberScan::Problem::kFractionDigit:
        return ErrorAt(at, "a digit after '.'", found());
      case NumberScan::Problem::kExponentDigit:
        return ErrorAt(at, "a digit in the exponent", found());
      case NumberScan::Problem::kTrailing:
        return ErrorAt(at, "an operator after the number", found());
      case NumberScan::Problem::kNone:
        break;
    }
    return scan.end - start;
  }

  // -- Token stream --

  const Token& Peek() const { return tokens_[next_]; }
  const Token& PeekAt(size_t ahead) const {
    return tokens_[std::min(next_ + ahead, tokens_.size() - 1)];
  }
  const Token& Next() {
    const Token& t = tokens_[next_];
    if (next_ + 1 < tokens_.size()) ++next_;  // the final kEnd stays put
    return t;
  }
  static bool IsWord(const Token& t, std::string_view word) {
    return t.type == Tok::kIdent && t.text == word;
  }
  Status Expect(Tok type, std::string_view what) {
    if (Peek().type != type) return ErrorAt(Peek().offset, what, Describe(Peek()));
    Next();
    return Status::Ok();
  }

  // -- Nodes and limits --

  Node NewNode(Kind kind, size_t offset) {
    return std::make_unique<CheckExpr>(CheckExpr::Key(), kind, static_cast<int>(offset + 1));
  }

  // Adopts `operands` into `node` and enforces the tree height limit.
  Status Attach(CheckExpr* node, std::vector<Node> operands) {
    int height = 0;
    for (const Node& op : operands) height = std::max(height, op->height_);
    node->height_ = height + 1;
    node->operands_ = std::move(operands);
    if (node->height_ > kMaxCheckExprDepth) return DepthError(node->column_ - 1);
    return Status::Ok();
  }

  Status DepthError(size_t offset) const {
    return ErrorAt(offset, "at most " + std::to_string(kMaxCheckExprDepth) + " levels of nesting",
                   "deeper nesting");
  }

  // Guards the recursion of parentheses, calls, `not` and unary minus.
  Status Enter(size_t offset) {
    if (++depth_ > kMaxCheckExprDepth) return DepthError(offset);
    return Status::Ok();
  }
  void Leave() { --depth_; }

  static std::string Quote(const CheckExpr& e) { return ormdb::Quote(Shorten(e.ToString())); }

  // The operand of and/or/not, or the whole expression.
  static Status RequireCondition(const CheckExpr& e) {
    StaticType t = StaticTypeOf(e);
    if (t == StaticType::kBool || t == StaticType::kUnknown || t == StaticType::kNull) {
      return Status::Ok();
    }
    return ErrorAt(e.column() - 1, "a condition (a comparison, in, like, is null, and, or, not)",
                   std::string(StaticTypeName(t)) + " " + Quote(e));
  }

  // An operand that must be a number (arithmetic, abs) or a string (length,
  // lower, upper) when its type is known.
  static Status RequireType(const CheckExpr& e, StaticType wanted, std::string_view context) {
    StaticType t = StaticTypeOf(e);
    if (t == wanted || t == StaticType::kUnknown) return Status::Ok();
    return ErrorAt(e.column() - 1,
                   "a " + std::string(StaticTypeName(wanted)) + " " + std::string(context),
                   std::string(StaticTypeName(t)) + " " + Quote(e));
  }

  // -- Grammar --

  // or_expr := and_expr ("or" and_expr)*; likewise and_expr.
  Result<Node> ParseOr() { return ParseChain(Kind::kOr, "or"); }

  Result<Node> ParseChain(Kind kind, std::string_view word) {
    ORMDB_ASSIGN_OR_RETURN(Node first,
                           kind == Kind::kOr ? ParseChain(Kind::kAnd, "and") : ParseNot());
    if (!IsWord(Peek(), word)) return first;
    ORMDB_RETURN_IF_ERROR(RequireCondition(*first));
    Node node = NewNode(kind, static_cast<size_t>(first->column() - 1));
    std::vector<Node> operands;
    operands.push_back(std::move(first));
    while (IsWord(Peek(), word)) {
      Next();
      ORMDB_ASSIGN_OR_RETURN(Node operand,
                             kind == Kind::kOr ? ParseChain(Kind::kAnd, "and") : ParseNot());
      ORMDB_RETURN_IF_ERROR(RequireCondition(*operand));
      operands.push_back(std::move(operand));
    }
    ORMDB_RETURN_IF_ERROR(Attach(node.get(), std::move(operands)));
    return node;
  }

  // not_expr := "not" not_expr | predicate
  Result<Node> ParseNot() {
    if (!IsWord(Peek(), "not")) return ParsePredicate();
    const Token& not_token = Next();
    ORMDB_RETURN_IF_ERROR(Enter(not_token.offset));
    ORMDB_ASSIGN_OR_RETURN(Node operand, ParseNot());
    Leave();
    ORMDB_RETURN_IF_ERROR(RequireCondition(*operand));
    Node node = NewNode(Kind::kNot, not_token.offset);
    std::vector<Node> operands;
    operands.push_back(std::move(operand));
    ORMDB_RETURN_IF_ERROR(Attach(node.get(), std::move(operands)));
    return node;
  }

  static bool IsComparison(Tok t) {
    return t == Tok::kEq || t == Tok::kNe || t == Tok::kLt || t == Tok::kLe || t == Tok::kGt ||
           t == Tok::kGe;
  }
  static Kind ComparisonKind(Tok t) {
    switch (t) {
      case Tok::kEq:
        return Kind::kEq;
      case Tok::kNe:
        return Kind::kNe;
      case Tok::kLt:
        return Kind::kLt;
      case Tok::kLe:
        return Kind::kLe;
      case Tok::kGt:
        return Kind::kGt;
      default:
        return Kind::kGe;
    }
  }
  bool AtPredicateOperator() const {
    const Token& t = Peek();
    return IsComparison(t.type) || IsWord(t, "in") || IsWord(t, "like") || IsWord(t, "is") ||
           (IsWord(t, "not") && (IsWord(PeekAt(1), "in") || IsWord(PeekAt(1), "like")));
  }

  Result<Node> ParsePredicate() {
    ORMDB_ASSIGN_OR_RETURN(Node left, ParseSum());
    if (!AtPredicateOperator()) return left;
    const size_t start = static_cast<size_t>(left->column() - 1);
    const Token& op = Next();
    Node node;
    std::vector<Node> operands;
    if (IsComparison(op.type)) {
      ORMDB_ASSIGN_OR_RETURN(Node right, ParseSum());
      StaticType lt = StaticTypeOf(*left), rt = StaticTypeOf(*right);
      if ((op.type == Tok::kEq || op.type == Tok::kNe) &&
          (lt == StaticType::kNull || rt == StaticType::kNull)) {
        return ErrorAt(op.offset, "'is null' or 'is not null' to test for null",
                       "'" + std::string(op.text) + " null' (always unknown)");
      }
      if (lt != rt && lt != StaticType::kUnknown && rt != StaticType::kUnknown) {
        return ErrorAt(op.offset, "operands of the same type",
                       std::string(StaticTypeName(lt)) + " " + std::string(op.text) + " " +
                           std::string(StaticTypeName(rt)));
      }
      node = NewNode(ComparisonKind(op.type), start);
      operands.push_back(std::move(left));
      operands.push_back(std::move(right));
    } else if (IsWord(op, "is")) {
      bool negated = IsWord(Peek(), "not");
      if (negated) Next();
      if (!IsWord(Peek(), "null")) {
        return ErrorAt(Peek().offset,
                       negated ? "'null' after 'is not'" : "'null' or 'not null' after 'is'",
                       Describe(Peek()));
      }
      Next();
      node = NewNode(negated ? Kind::kIsNotNull : Kind::kIsNull, start);
      operands.push_back(std::move(left));
    } else {
      bool negated = IsWord(op, "not");
      const Token& word = negated ? Next() : op;  // "in" or "like"
      if (IsWord(word, "in")) {
        node = NewNode(negated ? Kind::kNotIn : Kind::kIn, start);
        ORMDB_RETURN_IF_ERROR(ParseList(&node->list_));
      } else {
        node = NewNode(negated ? Kind::kNotLike : Kind::kLike, start);
        ORMDB_RETURN_IF_ERROR(RequireType(*left, StaticType::kString, "to match with like"));
        if (Peek().type != Tok::kString) {
          return ErrorAt(Peek().offset, "a string pattern after 'like'", Describe(Peek()));
        }
        const Token& pattern = Next();
        node->pattern_ = pattern.value;
        ORMDB_RETURN_IF_ERROR(CompileLike(pattern, &node->like_));
      }
      operands.push_back(std::move(left));
    }
    ORMDB_RETURN_IF_ERROR(Attach(node.get(), std::move(operands)));
    if (AtPredicateOperator()) {
      return ErrorAt(Peek().offset, "'and' or 'or' (comparisons do not chain)", Describe(Peek()));
    }
    return node;
  }

  // "[" [literal ("," literal)*] "]"
  Status ParseList(std::vector<Value>* list) {
    ORMDB_RETURN_IF_ERROR(Expect(Tok::kLBracket, "'[' to start the list"));
    if (Peek().type == Tok::kRBracket) {
      Next();
      return Status::Ok();
    }
    while (true) {
      const Token& t = Peek();
      Value v;
      if (t.type == Tok::kString) {
        v = Value::String(t.value);
        Next();
      } else if (t.type == Tok::kNumber) {
        ORMDB_ASSIGN_OR_RETURN(v, NumberValue(t, false));
        Next();
      } else if (t.type == Tok::kMinus && PeekAt(1).type == Tok::kNumber) {
        Next();
        ORMDB_ASSIGN_OR_RETURN(v, NumberValue(Peek(), true));
        Next();
      } else if (IsWord(t, "true") || IsWord(t, "false")) {
        v = Value::Bool(t.text == "true");
        Next();
      } else if (IsWord(t, "null")) {
        Next();
      } else {
        return ErrorAt(t.offset, "a literal (number, string, true, false or null) in the list",
                       Describe(t));
      }
      list->push_back(std::move(v));
      if (Peek().type == Tok::kComma) {
        Next();
        continue;
      }
      return Expect(Tok::kRBracket, "',' or ']'");
    }
  }

  // Compiles a like pattern (common/like_pattern).
  static Status CompileLike(const Token& token, std::optional<LikePattern>* out) {
    if (LikePattern::EndsInLoneEscape(token.value)) {
      return ErrorAt(token.offset, "a character after the final '\\' of the like pattern",
                     "end of pattern");
    }
    out->emplace(token.value);
    return Status::Ok();
  }

  // sum := product (("+" | "-") product)*; likewise product.
  Result<Node> ParseSum() { return ParseArithmetic(Tok::kPlus, Tok::kMinus); }

  Result<Node> ParseArithmetic(Tok plus, Tok minus) {
    const bool sum = plus == Tok::kPlus;
    ORMDB_ASSIGN_OR_RETURN(Node left,
                           sum ? ParseArithmetic(Tok::kStar, Tok::kSlash) : ParseUnary());
    while (Peek().type == plus || Peek().type == minus) {
      const Token& op = Next();
      ORMDB_ASSIGN_OR_RETURN(Node right,
                             sum ? ParseArithmetic(Tok::kStar, Tok::kSlash) : ParseUnary());
      ORMDB_RETURN_IF_ERROR(RequireType(*left, StaticType::kNumber, "in arithmetic"));
      ORMDB_RETURN_IF_ERROR(RequireType(*right, StaticType::kNumber, "in arithmetic"));
      Kind kind = op.type == Tok::kPlus    ? Kind::kAdd
                  : op.type == Tok::kMinus ? Kind::kSub
                  : op.type == Tok::kStar  ? Kind::kMul
                                           : Kind::kDiv;
      Node node = NewNode(kind, static_cast<size_t>(left->column() - 1));
      std::vector<Node> operands;
      operands.push_back(std::move(left));
      operands.push_back(std::move(right));
      ORMDB_RETURN_IF_ERROR(Attach(node.get(), std::move(operands)));
      left = std::move(node);
    }
    return left;
  }

  // unary := "-" unary | primary; "-" directly before a number is part of
  // the literal (so -9223372036854775808 is an int64).
  Result<Node> ParseUnary() {
    if (Peek().type != Tok::kMinus) return ParsePrimary();
    const Token& minus = Next();
    if (Peek().type == Tok::kNumber) {
      Node node = NewNode(Kind::kLiteral, minus.offset);
      ORMDB_ASSIGN_OR_RETURN(node->literal_, NumberValue(Peek(), true));
      Next();
      return node;
    }
    ORMDB_RETURN_IF_ERROR(Enter(minus.offset));
    ORMDB_ASSIGN_OR_RETURN(Node operand, ParseUnary());
    Leave();
    ORMDB_RETURN_IF_ERROR(RequireType(*operand, StaticType::kNumber, "after unary '-'"));
    Node node = NewNode(Kind::kNeg, minus.offset);
    std::vector<Node> operands;
    operands.push_back(std::move(operand));
    ORMDB_RETURN_IF_ERROR(Attach(node.get(), std::move(operands)));
    return node;
  }

  // An int64 when the literal is an integer that fits, else a float64.
  static Result<Value> NumberValue(const Token& t, bool negative) {
    std::string text;
    if (negative) text.push_back('-');
    text.append(t.text);
    const char* first = text.data();
    const char* last = text.data() + text.size();
    if (text.find_first_of(".eE") == std::string::npos) {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(first, last, v);
      if (ec == std::errc() && p == last) return Value::Int64(v);
    }
    double d = 0;
    auto [p, ec] = std::from_chars(first, last, d);
    if (ec != std::errc() || p != last) {
      return ErrorAt(t.offset, "a number within the range of a double", Describe(t));
    }
    return Value::Float64(d);
  }

  Result<Node> ParsePrimary() {
    const Token& t = Peek();
    switch (t.type) {
      case Tok::kNumber: {
        Node node = NewNode(Kind::kLiteral, t.offset);
        ORMDB_ASSIGN_OR_RETURN(node->literal_, NumberValue(t, false));
        Next();
        return node;
      }
      case Tok::kString: {
        Node node = NewNode(Kind::kLiteral, t.offset);
        node->literal_ = Value::String(t.value);
        Next();
        return node;
      }
      case Tok::kLParen: {
        Next();
        ORMDB_RETURN_IF_ERROR(Enter(t.offset));
        ORMDB_ASSIGN_OR_RETURN(Node inner, ParseOr());
        Leave();
        ORMDB_RETURN_IF_ERROR(Expect(Tok::kRParen, "')'"));
        return inner;
      }
      case Tok::kIdent:
        return ParseWord();
      default:
        return ErrorAt(t.offset, "an operand (a field, literal, function call or '(')",
                       Describe(t));
    }
  }

  // A keyword literal, a function call or a field.
  Result<Node> ParseWord() {
    const Token& t = Next();
    Node node = NewNode(Kind::kLiteral, t.offset);
    if (t.text == "true" || t.text == "false") {
      node->literal_ = Value::Bool(t.text == "true");
      return node;
    }
    if (t.text == "null") return node;  // literal_ is null
    if (IsKeyword(t.text)) {
      return ErrorAt(t.offset, "an operand (a field, literal, function call or '(')", Describe(t));
    }
    if (Peek().type != Tok::kLParen) {
      node = NewNode(Kind::kField, t.offset);
      node->name_ = std::string(t.text);
      return node;
    }
    static constexpr std::pair<std::string_view, CheckExpr::Function> kFunctions[] = {
        {"length", CheckExpr::Function::kLength},
        {"lower", CheckExpr::Function::kLower},
        {"upper", CheckExpr::Function::kUpper},
        {"abs", CheckExpr::Function::kAbs},
    };
    const auto* f = std::find_if(std::begin(kFunctions), std::end(kFunctions),
                                 [&](const auto& entry) { return entry.first == t.text; });
    if (f == std::end(kFunctions)) {
      return ErrorAt(t.offset, "a function (length, lower, upper, abs)", Describe(t));
    }
    node = NewNode(Kind::kCall, t.offset);
    node->name_ = std::string(t.text);
    node->function_ = f->second;
    const Token& open = Next();  // '('
    ORMDB_RETURN_IF_ERROR(Enter(open.offset));
    ORMDB_ASSIGN_OR_RETURN(Node argument, ParseOr());
    Leave();
    if (Peek().type != Tok::kRParen) {
      return ErrorAt(Peek().offset, "')' after the one argument of " + node->name_,
                     Describe(Peek()));
    }
    Next();
    if (f->second == CheckExpr::Function::kAbs) {
      ORMDB_RETURN_IF_ERROR(RequireType(*argument, StaticType::kNumber, "for abs"));
    } else {
      ORMDB_RETURN_IF_ERROR(RequireType(*argument, StaticType::kString, "for " + node->name_));
    }
    std::vector<Node> operands;
    operands.push_back(std::move(argument));
    ORMDB_RETURN_IF_ERROR(Attach(node.get(), std::move(operands)));
    return node;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t next_ = 0;
  int depth_ = 0;
};

Result<std::unique_ptr<CheckExpr>> ParseCheckExpr(std::string_view text) {
  return CheckExprParser(text).Parse();
}

}  // namespace ormdb::catalog
