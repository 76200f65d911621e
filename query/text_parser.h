// The fetch query's lexer and text parser, shared with the select
// statement's parser (query/select_parser.cc). Internal to query/; the
// grammar is in query/parser.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/lexer.h"
#include "ormdb/status.h"
#include "query/ir.h"

namespace ormdb::query::text_parser {

enum class Tok : uint8_t {
  kEnd,
  kName,
  kInt,
  kFloat,
  kString,
  kParam,  // $name
  kCompare,
  kLBrace,
  kRBrace,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kColon,
  kDot,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string_view text;                      // as written
  std::string value;                          // kString: the unescaped contents; kParam: the name
  Json number;                                // kInt, kFloat
  Expr::CompareOp op = Expr::CompareOp::kEq;  // kCompare
  QueryPos pos;                               // of its first character
  size_t offset = 0;                          // of its first byte
  size_t end_offset = 0;                      // just after its last byte
};

// How a token is shown after "found ".
std::string Describe(const Token& tok);

// "query:LINE:COL: message" as INVALID_ARGUMENT.
Status ErrorAt(QueryPos pos, std::string_view message);

class Lexer {
 public:
  explicit Lexer(std::string_view text) : cur_(text) {}

  // Reads the next token into *tok (kEnd at the end of the text).
  Status Next(Token* tok);

 private:
  std::string_view text() const { return cur_.text(); }
  bool AtEnd() const { return cur_.AtEnd(); }
  char Peek(size_t ahead = 0) const { return cur_.Peek(ahead); }
  QueryPos Here() const { return cur_.Here(); }
  void Bump() { cur_.Bump(); }

  Status LexName(std::string_view what, Token* tok);
  Status LexNumber(Token* tok);
  Status LexString(Token* tok);
  Status LexOperator(Token* tok);
  std::string DescribeCharHere() const {
    return AtEnd() ? "end of query" : DescribeCharAt(text(), cur_.offset());
  }
  Status Unexpected(std::string_view hint) const;

  TextCursor cur_;
};

// A parsed expression and the number of levels of its tree.
struct Node {
  std::unique_ptr<Expr> expr;
  int depth = 0;
};

// The recursive-descent parser of the fetch's text form (parser.cc). The
// select statement's parser (select_parser.cc) derives from it to share the
// lexer and the predicate grammar: with allow_calls_ set, an operand may
// also be an aggregate call `fn(path)` (Expr::call), as a select's having
// and order by need.
class TextParser {
 public:
  explicit TextParser(std::string_view text) : text_(text), lexer_(text) {}

  Status Parse(FetchQuery* out);

 protected:
  Status Advance() {
    prev_end_ = tok_.end_offset;
    return lexer_.Next(&tok_);
  }
  bool AtWord(std::string_view word) const { return tok_.kind == Tok::kName && tok_.text == word; }
  // "expected WHAT, found <the current token>", with a suggestion when the
  // token is a name close to one of `keywords`.
  Status Expected(std::string_view what, const std::vector<std::string_view>& keywords = {},
                  std::string_view hint = "") const;

  Status ParseBraces(Selection* sel, int depth);
  Status ParseItem(Selection* out, int depth);
  Status ParseArgs(Selection* sel);
  Status ParseAggregate(Selection* out);
  Status ParseOrder(std::vector<OrderKey>* out);
  Status ParseOrderKey(Tok closer, OrderKey* out);
  Status ParsePath(std::vector<std::string>* out);
  using ParseFn = Status (TextParser::*)(Node*);
  Status ParseChain(Expr::Kind kind, std::string_view keyword, ParseFn operand, Node* out);
  Status ParseOr(Node* out) {
    return ParseChain(Expr::Kind::kOr, "or", &TextParser::ParseAnd, out);
  }
  Status ParseAnd(Node* out) {
    return ParseChain(Expr::Kind::kAnd, "and", &TextParser::ParseNot, out);
  }
  Status ParseNot(Node* out);
  Status ParsePredicate(Node* out);
  Status ParseOperand(std::string_view what, Node* out);
  Status ParseList(Expr* in);
  // Rule conditions: `exists(relation [where p])`, at its '('.
  Status ParseExists(Node* out);
  Status ParseListElement(Json* out);
  // Bounds the recursion through parentheses and `not`.
  Status Nest();
  // After the name of a call and at its '(' (allow_calls_): reads the
  // argument path through ')' into `call` (select_parser.cc).
  Status ParseCallArgs(std::string_view fn, Expr* call);

  std::string_view text_;
  Lexer lexer_;
  Token tok_;
  size_t prev_end_ = 0;  // offset just after the previous token
  int nesting_ = 0;
  bool allow_calls_ = false;
  // Access rule conditions (query/policy.h): `auth` operands, `auth ==
  // null`, the predicate `auth.has_role("r")` (a kPath ["auth",
  // "has_role", r] with call kHasRoleCall) and `exists(relation [where p])`
  // (a kExists).
  bool allow_auth_ = false;
};

// Expr::call of `auth.has_role("r")` in a rule condition.
inline constexpr int kHasRoleCall = -2;

}  // namespace ormdb::query::text_parser
