// The graph-fetch query: a lexer and recursive-descent parser for the text
// form, a reader for the JSON IR, printers for both, and the shape key.
// Both readers enforce the same rules, so that any accepted query prints in
// either form and reads back the same (parser.h).
#include "query/parser.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/lexer.h"
#include "common/like_pattern.h"
#include "common/suggest.h"
#include "common/utf8.h"

namespace ormdb::query {
namespace {

// ===========================================================================
// Shared vocabulary and messages
// ===========================================================================

// " (did you mean 'x'?)" for a misspelt keyword, or "".
std::string DidYouMean(std::string_view word, const std::vector<std::string_view>& candidates) {
  const std::string best = NearestName(word, candidates);
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

// Words that mean something in a predicate; a path cannot start with one.
constexpr std::string_view kPredicateKeywords[] = {"and", "or",   "not",  "in",   "like",
                                                   "is",  "null", "true", "false"};

bool IsPredicateKeyword(std::string_view word) {
  return std::find(std::begin(kPredicateKeywords), std::end(kPredicateKeywords), word) !=
         std::end(kPredicateKeywords);
}

enum class Arg : uint8_t { kWhere, kOrder, kLimit, kAfter };
constexpr std::string_view kArgNames[] = {"where", "order", "limit", "after"};
constexpr std::string_view kArgList = "where, order, limit or after";

constexpr std::string_view kCompareOps[] = {"==", "!=", "<", "<=", ">", ">="};

std::string_view CompareOpText(Expr::CompareOp op) { return kCompareOps[static_cast<int>(op)]; }

// The message for a comparison with a null literal. Under three-valued logic
// it is never true, which is never what the writer meant.
std::string NullComparisonMessage(Expr::CompareOp op, std::string_view other) {
  const std::string test = op == Expr::CompareOp::kNe ? "is not null" : "is null";
  return "'" + std::string(CompareOpText(op)) +
         " null' never matches: a comparison with null is unknown, never true (did you mean '" +
         Shorten(other) + " " + test + "'?)";
}

constexpr std::string_view kNullInListMessage =
    "null in a list never matches: a comparison with null is unknown, never true (test for null "
    "with 'is null')";

// DESIGN.md §9: a backslash escapes the next pattern character, so one at
// the very end escapes nothing.
constexpr std::string_view kLoneEscapeMessage =
    "like pattern ends in an escape '\\' with nothing after it to escape";

bool IsValidUtf8(std::string_view s) { return FindInvalidUtf8(s) == std::string_view::npos; }

std::string JoinPath(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& name : path) {
    if (!out.empty()) out += '.';
    out += name;
  }
  return out;
}

// ===========================================================================
// Lexer
// ===========================================================================

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
std::string Describe(const Token& tok) {
  switch (tok.kind) {
    case Tok::kEnd:
      return "end of query";
    case Tok::kString:
      return "string " + Shorten(tok.text);
    default:
      return Quote(Shorten(tok.text));
  }
}

Status ErrorAt(QueryPos pos, std::string_view message) {
  return InvalidArgument(FormatAt("query", pos, message));
}

struct Punctuation {
  char c;
  Tok kind;
};
constexpr Punctuation kPunctuation[] = {
    {'{', Tok::kLBrace}, {'}', Tok::kRBrace},   {'(', Tok::kLParen},
    {')', Tok::kRParen}, {'[', Tok::kLBracket}, {']', Tok::kRBracket},
    {',', Tok::kComma},  {':', Tok::kColon},    {'.', Tok::kDot},
};

// Characters that are not tokens but that people write meaning one.
struct Misspelling {
  char c;
  std::string_view hint;
};
// ('=' and '!' alone are handled with the operators.)
constexpr Misspelling kMisspellings[] = {
    {'&', " (did you mean 'and'?)"},
    {'|', " (did you mean 'or'?)"},
    {'\'', " (strings are double-quoted)"},
};

// Produces tokens on demand: the parser needs one token of lookahead, and a
// megabyte of query should not become a vector of tokens first.
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

Status Lexer::Unexpected(std::string_view hint) const {
  return ErrorAt(Here(), "unexpected " + DescribeCharHere() + std::string(hint));
}

Status Lexer::Next(Token* tok) {
  while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\r' || Peek() == '\n')) {
    Bump();
  }
  tok->pos = Here();
  tok->offset = cur_.offset();
  tok->value.clear();
  if (AtEnd()) {
    tok->kind = Tok::kEnd;
  } else if (const char c = Peek(); IsNameStart(c)) {
    ORMDB_RETURN_IF_ERROR(LexName("name", tok));
    tok->kind = Tok::kName;
  } else if (IsDigit(c) || (c == '-' && IsDigit(Peek(1)))) {
    ORMDB_RETURN_IF_ERROR(LexNumber(tok));
  } else if (c == '"') {
    ORMDB_RETURN_IF_ERROR(LexString(tok));
  } else if (c == '$') {
    Bump();
    if (!IsNameStart(Peek())) {
      return ErrorAt(Here(), "expected a parameter name after '$', found " + DescribeCharHere());
    }
    ORMDB_RETURN_IF_ERROR(LexName("parameter name", tok));
    tok->kind = Tok::kParam;
    tok->value = std::string(text().substr(tok->offset + 1, cur_.offset() - tok->offset - 1));
  } else if (c == '=' || c == '!' || c == '<' || c == '>') {
    ORMDB_RETURN_IF_ERROR(LexOperator(tok));
  } else if (const auto punct = std::find_if(std::begin(kPunctuation), std::end(kPunctuation),
                                             [c](const Punctuation& p) { return p.c == c; });
             punct != std::end(kPunctuation)) {
    tok->kind = punct->kind;
    Bump();
  } else {
    const auto misspelt = std::find_if(std::begin(kMisspellings), std::end(kMisspellings),
                                       [c](const Misspelling& m) { return m.c == c; });
    return Unexpected(misspelt == std::end(kMisspellings) ? "" : misspelt->hint);
  }
  tok->end_offset = cur_.offset();
  tok->text = text().substr(tok->offset, cur_.offset() - tok->offset);
  return Status::Ok();
}

Status Lexer::LexName(std::string_view what, Token* tok) {
  const size_t begin = cur_.offset();
  cur_.BumpTo(ScanName(text(), begin));
  const std::string_view name = text().substr(begin, cur_.offset() - begin);
  if (name.size() > kMaxNameBytes) {
    return ErrorAt(tok->pos, NameTooLongMessage(what, name, kMaxNameBytes));
  }
  return Status::Ok();
}

// JSON number syntax (common/lexer ScanNumber).
Status Lexer::LexNumber(Token* tok) {
  const size_t begin = cur_.offset();
  const NumberScan scan = ScanNumber(text(), begin);
  const auto written = [&] { return Quote(Shorten(text().substr(begin, scan.end - begin))); };
  switch (scan.problem) {
    case NumberScan::Problem::kFractionDigit:
      cur_.BumpTo(scan.error_offset);
      return Unexpected(" after '.' in a number: expected a digit");
    case NumberScan::Problem::kExponentDigit:
      cur_.BumpTo(scan.error_offset);
      return Unexpected(" in the exponent of a number: expected a digit");
    case NumberScan::Problem::kTrailing:
      return ErrorAt(tok->pos, "invalid number " + written());
    case NumberScan::Problem::kNone:
      break;
  }
  cur_.BumpTo(scan.end);
  if (scan.leading_zero) {
    return ErrorAt(tok->pos, "invalid number " + written() + ": leading zeros are not allowed");
  }
  const char* first = text().data() + begin;
  const char* last = text().data() + scan.end;
  if (scan.is_float) {
    double d = 0;
    const auto [ptr, ec] = std::from_chars(first, last, d);
    if (ec != std::errc() || ptr != last || !std::isfinite(d)) {
      return ErrorAt(tok->pos, "number " + written() + " is out of the float64 range");
    }
    tok->kind = Tok::kFloat;
    tok->number = d;
  } else {
    int64_t i = 0;
    const auto [ptr, ec] = std::from_chars(first, last, i);
    if (ec != std::errc() || ptr != last) {
      return ErrorAt(tok->pos, "integer " + written() +
                                   " is out of the int64 range (write a float such as 1e19 if "
                                   "that is meant)");
    }
    tok->kind = Tok::kInt;
    tok->number = i;
  }
  return Status::Ok();
}

Status Lexer::LexString(Token* tok) {
  StringScan scan = ScanString(text(), cur_.offset());
  if (!scan.ok) {
    if (scan.unterminated) {
      return ErrorAt(tok->pos, "unterminated string: expected '\"' before the end of the line");
    }
    // The bytes before the problem are a valid part of the string on this
    // line: walk to it for its column.
    cur_.BumpTo(scan.error_offset);
    return ErrorAt(Here(), scan.message + " in a string");
  }
  cur_.BumpTo(scan.end);
  tok->kind = Tok::kString;
  tok->value = std::move(scan.value);
  return Status::Ok();
}

Status Lexer::LexOperator(Token* tok) {
  const char c = Peek();
  const bool with_equals = Peek(1) == '=';
  if ((c == '=' || c == '!') && !with_equals) {
    return Unexpected(c == '=' ? " (did you mean '=='?)" : " (did you mean '!=' or 'not'?)");
  }
  using Op = Expr::CompareOp;
  switch (c) {
    case '=':
      tok->op = Op::kEq;
      break;
    case '!':
      tok->op = Op::kNe;
      break;
    case '<':
      tok->op = with_equals ? Op::kLe : Op::kLt;
      break;
    default:
      tok->op = with_equals ? Op::kGe : Op::kGt;
      break;
  }
  Bump();
  if (with_equals) Bump();
  tok->kind = Tok::kCompare;
  return Status::Ok();
}

// ===========================================================================
// Text parser
// ===========================================================================

// A parsed expression and the number of levels of its tree.
struct Node {
  std::unique_ptr<Expr> expr;
  int depth = 0;
};

std::unique_ptr<Expr> MakeExpr(Expr::Kind kind, QueryPos pos) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->pos = pos;
  return e;
}

Json ParamElement(std::string name) {
  Json param = Json::Object();
  param.Set("$param", std::move(name));
  return param;
}

class TextParser {
 public:
  explicit TextParser(std::string_view text) : text_(text), lexer_(text) {}

  Status Parse(FetchQuery* out);

 private:
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
  Status ParseListElement(Json* out);
  // Bounds the recursion through parentheses and `not`.
  Status Nest();

  std::string_view text_;
  Lexer lexer_;
  Token tok_;
  size_t prev_end_ = 0;  // offset just after the previous token
  int nesting_ = 0;
};

Status TextParser::Expected(std::string_view what, const std::vector<std::string_view>& keywords,
                            std::string_view hint) const {
  std::string message = "expected " + std::string(what) + ", found " + Describe(tok_);
  if (tok_.kind == Tok::kName && !keywords.empty()) message += DidYouMean(tok_.text, keywords);
  return ErrorAt(tok_.pos, message + std::string(hint));
}

Status TextParser::Parse(FetchQuery* out) {
  if (text_.size() > kMaxQueryTextBytes) {
    return ErrorAt({1, 1}, "query text is " + std::to_string(text_.size()) +
                               " bytes long; the limit is " + std::to_string(kMaxQueryTextBytes));
  }
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind != Tok::kName) return Expected("an entity name");
  Selection& root = out->root;
  root.name = std::string(tok_.text);
  root.pos = tok_.pos;
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind == Tok::kLParen) {
    ORMDB_RETURN_IF_ERROR(ParseArgs(&root));
    if (tok_.kind != Tok::kLBrace) return Expected("'{' after the arguments of " + root.name);
  } else if (tok_.kind != Tok::kLBrace) {
    return Expected("'(' or '{' after " + root.name);
  }
  ORMDB_RETURN_IF_ERROR(ParseBraces(&root, 0));
  if (tok_.kind != Tok::kEnd) return Expected("end of query");
  return Status::Ok();
}

// At '{'; reads through the matching '}'.
Status TextParser::ParseBraces(Selection* sel, int depth) {
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind != Tok::kName) return Expected("a field or relation name");
  std::unordered_map<std::string, QueryPos> seen;
  while (true) {
    if (sel->children.size() >= kMaxListLength) {
      return ErrorAt(tok_.pos,
                     "more than " + std::to_string(kMaxListLength) + " items in one selection");
    }
    Selection item;
    ORMDB_RETURN_IF_ERROR(ParseItem(&item, depth));
    if (const auto [it, added] = seen.emplace(item.name, item.pos); !added) {
      return ErrorAt(item.pos, "duplicate selection " + Quote(item.name) + " (first at " +
                                   FormatPos(it->second) + ")");
    }
    const bool was_field = !item.is_include;
    sel->children.push_back(std::move(item));
    const bool comma = tok_.kind == Tok::kComma;
    if (comma) ORMDB_RETURN_IF_ERROR(Advance());
    if (tok_.kind == Tok::kRBrace) return Advance();
    if (tok_.kind == Tok::kName) continue;
    if (comma) return Expected("a field or relation name or '}'");
    if (tok_.kind == Tok::kDot && was_field) {
      return Expected("',', '}' or a field or relation name", {},
                      " (select fields of a related entity with an include: author { name })");
    }
    return Expected("',', '}' or a field or relation name");
  }
}

// At the item's name.
Status TextParser::ParseItem(Selection* out, int depth) {
  out->name = std::string(tok_.text);
  out->pos = tok_.pos;
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind != Tok::kLParen && tok_.kind != Tok::kLBrace) return Status::Ok();
  if (depth + 1 > kMaxIncludeDepth) {
    return ErrorAt(out->pos,
                   "includes nest deeper than " + std::to_string(kMaxIncludeDepth) + " levels");
  }
  out->is_include = true;
  if (tok_.kind == Tok::kLParen) ORMDB_RETURN_IF_ERROR(ParseArgs(out));
  if (tok_.kind == Tok::kLBrace) ORMDB_RETURN_IF_ERROR(ParseBraces(out, depth + 1));
  return Status::Ok();
}

// At '('; reads through the matching ')'.
Status TextParser::ParseArgs(Selection* sel) {
  ORMDB_RETURN_IF_ERROR(Advance());
  const std::vector<std::string_view> arg_names(std::begin(kArgNames), std::end(kArgNames));
  QueryPos first_at[std::size(kArgNames)] = {};
  bool seen[std::size(kArgNames)] = {};
  const std::string expected_arg = "an argument name (" + std::string(kArgList) + ")";
  while (true) {
    if (tok_.kind != Tok::kName) return Expected(expected_arg);
    const auto found = std::find(std::begin(kArgNames), std::end(kArgNames), tok_.text);
    if (found == std::end(kArgNames)) return Expected(expected_arg, arg_names);
    const auto index = static_cast<size_t>(found - std::begin(kArgNames));
    if (seen[index]) {
      return ErrorAt(tok_.pos, "duplicate argument " + Quote(*found) + " (first at " +
                                   FormatPos(first_at[index]) + ")");
    }
    seen[index] = true;
    first_at[index] = tok_.pos;
    ORMDB_RETURN_IF_ERROR(Advance());
    if (tok_.kind != Tok::kColon) return Expected("':' after " + Quote(*found));
    ORMDB_RETURN_IF_ERROR(Advance());
    std::string next = "',' or ')'";
    std::vector<std::string_view> keywords;
    switch (static_cast<Arg>(index)) {
      case Arg::kWhere: {
        Node where;
        ORMDB_RETURN_IF_ERROR(ParseOr(&where));
        sel->where = std::move(where.expr);
        next = "'and', 'or', ',' or ')'";
        keywords = {"and", "or"};
        break;
      }
      case Arg::kOrder:
        ORMDB_RETURN_IF_ERROR(ParseOrder(&sel->order));
        break;
      case Arg::kLimit:
        if (tok_.kind != Tok::kInt || tok_.number.as_int() < 0) {
          return Expected("a non-negative integer after 'limit:'");
        }
        sel->limit = tok_.number.as_int();
        ORMDB_RETURN_IF_ERROR(Advance());
        break;
      case Arg::kAfter:
        if (tok_.kind != Tok::kString) return Expected("a cursor string after 'after:'");
        sel->after = tok_.value;
        ORMDB_RETURN_IF_ERROR(Advance());
        break;
    }
    if (tok_.kind == Tok::kRParen) return Advance();
    if (tok_.kind != Tok::kComma) return Expected(next, keywords);
    ORMDB_RETURN_IF_ERROR(Advance());
  }
}

Status TextParser::ParseOrder(std::vector<OrderKey>* out) {
  if (tok_.kind != Tok::kLBracket) {
    OrderKey key;
    ORMDB_RETURN_IF_ERROR(ParseOrderKey(Tok::kRParen, &key));
    out->push_back(std::move(key));
    return Status::Ok();
  }
  ORMDB_RETURN_IF_ERROR(Advance());
  while (true) {
    if (out->size() >= kMaxListLength) {
      return ErrorAt(tok_.pos,
                     "more than " + std::to_string(kMaxListLength) + " keys in one order");
    }
    OrderKey key;
    ORMDB_RETURN_IF_ERROR(ParseOrderKey(Tok::kRBracket, &key));
    out->push_back(std::move(key));
    // ParseOrderKey leaves ',' or ']'.
    const bool done = tok_.kind == Tok::kRBracket;
    ORMDB_RETURN_IF_ERROR(Advance());
    if (done) return Status::Ok();
  }
}

// Reads one key and checks that ',' or `closer` (')' or ']') follows it.
Status TextParser::ParseOrderKey(Tok closer, OrderKey* out) {
  if (tok_.kind != Tok::kName) return Expected("an order key (a field name)");
  out->pos = tok_.pos;
  ORMDB_RETURN_IF_ERROR(ParsePath(&out->path));
  bool direction = false;
  if (AtWord("asc") || AtWord("desc")) {
    out->descending = AtWord("desc");
    direction = true;
    ORMDB_RETURN_IF_ERROR(Advance());
  }
  if (tok_.kind == Tok::kComma || tok_.kind == closer) return Status::Ok();
  const std::string closer_text = closer == Tok::kRParen ? "')'" : "']'";
  if (direction) return Expected("',' or " + closer_text);
  return Expected("'asc', 'desc', ',' or " + closer_text, {"asc", "desc"});
}

// At a name: name { "." name }.
Status TextParser::ParsePath(std::vector<std::string>* out) {
  while (true) {
    out->emplace_back(tok_.text);
    ORMDB_RETURN_IF_ERROR(Advance());
    if (tok_.kind != Tok::kDot) return Status::Ok();
    if (out->size() >= kMaxPathNames) {
      return ErrorAt(tok_.pos, "a path has at most " + std::to_string(kMaxPathNames) + " names");
    }
    ORMDB_RETURN_IF_ERROR(Advance());
    if (tok_.kind != Tok::kName) return Expected("a name after '.'");
  }
}

Status TextParser::Nest() {
  if (++nesting_ > kMaxExprDepth) {
    return ErrorAt(tok_.pos,
                   "expression nests deeper than " + std::to_string(kMaxExprDepth) + " levels");
  }
  return Status::Ok();
}

Status TextParser::ParseChain(Expr::Kind kind, std::string_view keyword, ParseFn operand,
                              Node* out) {
  Node first;
  ORMDB_RETURN_IF_ERROR((this->*operand)(&first));
  if (!AtWord(keyword)) {
    *out = std::move(first);
    return Status::Ok();
  }
  auto chain = MakeExpr(kind, first.expr->pos);
  int operand_depth = 0;
  // A parenthesised chain of the same operator joins this one: `(a and b)
  // and c` is one node with three operands, whatever the grouping.
  auto add = [&](Node node) {
    if (node.expr->kind == kind) {
      for (auto& child : node.expr->children) chain->children.push_back(std::move(child));
      operand_depth = std::max(operand_depth, node.depth - 1);
    } else {
      chain->children.push_back(std::move(node.expr));
      operand_depth = std::max(operand_depth, node.depth);
    }
  };
  add(std::move(first));
  while (AtWord(keyword)) {
    ORMDB_RETURN_IF_ERROR(Advance());
    Node next;
    const QueryPos next_pos = tok_.pos;
    ORMDB_RETURN_IF_ERROR((this->*operand)(&next));
    add(std::move(next));
    if (chain->children.size() > kMaxListLength) {
      return ErrorAt(next_pos, "more than " + std::to_string(kMaxListLength) + " operands of '" +
                                   std::string(keyword) + "' in one chain");
    }
  }
  out->depth = operand_depth + 1;
  if (out->depth > kMaxExprDepth) {
    return ErrorAt(chain->pos,
                   "expression nests deeper than " + std::to_string(kMaxExprDepth) + " levels");
  }
  out->expr = std::move(chain);
  return Status::Ok();
}

Status TextParser::ParseNot(Node* out) {
  if (AtWord("not")) {
    const QueryPos pos = tok_.pos;
    ORMDB_RETURN_IF_ERROR(Nest());
    ORMDB_RETURN_IF_ERROR(Advance());
    Node operand;
    ORMDB_RETURN_IF_ERROR(ParseNot(&operand));
    --nesting_;
    out->depth = operand.depth + 1;
    if (out->depth > kMaxExprDepth) {
      return ErrorAt(pos,
                     "expression nests deeper than " + std::to_string(kMaxExprDepth) + " levels");
    }
    out->expr = MakeExpr(Expr::Kind::kNot, pos);
    out->expr->children.push_back(std::move(operand.expr));
    return Status::Ok();
  }
  if (tok_.kind == Tok::kLParen) {
    ORMDB_RETURN_IF_ERROR(Nest());
    ORMDB_RETURN_IF_ERROR(Advance());
    ORMDB_RETURN_IF_ERROR(ParseOr(out));
    if (tok_.kind != Tok::kRParen) return Expected("'and', 'or' or ')'", {"and", "or"});
    --nesting_;
    return Advance();
  }
  return ParsePredicate(out);
}

Status TextParser::ParsePredicate(Node* out) {
  const size_t lhs_begin = tok_.offset;
  Node lhs;
  ORMDB_RETURN_IF_ERROR(ParseOperand("a path, a value, a $param, 'not' or '('", &lhs));
  const std::string_view lhs_text = text_.substr(lhs_begin, prev_end_ - lhs_begin);
  const QueryPos pos = lhs.expr->pos;
  std::unique_ptr<Expr> e;
  if (tok_.kind == Tok::kCompare) {
    e = MakeExpr(Expr::Kind::kCompare, pos);
    e->op = tok_.op;
    const std::string after = "a path, a value or a $param after " + Quote(tok_.text);
    ORMDB_RETURN_IF_ERROR(Advance());
    const size_t rhs_begin = tok_.offset;
    Node rhs;
    ORMDB_RETURN_IF_ERROR(ParseOperand(after, &rhs));
    const std::string_view rhs_text = text_.substr(rhs_begin, prev_end_ - rhs_begin);
    for (const Node* side : {&lhs, &rhs}) {
      if (side->expr->kind == Expr::Kind::kLiteral && side->expr->literal.is_null()) {
        return ErrorAt(side->expr->pos,
                       NullComparisonMessage(e->op, side == &lhs ? rhs_text : lhs_text));
      }
    }
    e->children.push_back(std::move(lhs.expr));
    e->children.push_back(std::move(rhs.expr));
  } else if (AtWord("in") || AtWord("not")) {
    e = MakeExpr(Expr::Kind::kIn, pos);
    if (AtWord("not")) {
      e->negated = true;
      ORMDB_RETURN_IF_ERROR(Advance());
      if (!AtWord("in")) {
        return Expected(
            "'in' after 'not'", {"in"},
            AtWord("like") ? " (negate the whole condition instead: not x like \"...\")" : "");
      }
    }
    ORMDB_RETURN_IF_ERROR(Advance());
    e->children.push_back(std::move(lhs.expr));
    ORMDB_RETURN_IF_ERROR(ParseList(e.get()));
  } else if (AtWord("like")) {
    e = MakeExpr(Expr::Kind::kLike, pos);
    ORMDB_RETURN_IF_ERROR(Advance());
    std::unique_ptr<Expr> pattern;
    if (tok_.kind == Tok::kString) {
      if (LikePattern::EndsInLoneEscape(tok_.value)) return ErrorAt(tok_.pos, kLoneEscapeMessage);
      pattern = MakeExpr(Expr::Kind::kLiteral, tok_.pos);
      pattern->literal = tok_.value;
    } else if (tok_.kind == Tok::kParam) {
      pattern = MakeExpr(Expr::Kind::kParam, tok_.pos);
      pattern->name = tok_.value;
    } else {
      return Expected("a pattern string or a $param after 'like'");
    }
    ORMDB_RETURN_IF_ERROR(Advance());
    e->children.push_back(std::move(lhs.expr));
    e->children.push_back(std::move(pattern));
  } else if (AtWord("is")) {
    e = MakeExpr(Expr::Kind::kIsNull, pos);
    ORMDB_RETURN_IF_ERROR(Advance());
    if (AtWord("not")) {
      e->negated = true;
      ORMDB_RETURN_IF_ERROR(Advance());
      if (!AtWord("null")) return Expected("'null' after 'is not'", {"null"});
    } else if (!AtWord("null")) {
      return Expected("'null' or 'not null' after 'is'", {"null", "not"});
    }
    ORMDB_RETURN_IF_ERROR(Advance());
    e->children.push_back(std::move(lhs.expr));
  } else {
    return Expected("'==', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'like' or 'is' after " +
                        Quote(Shorten(lhs_text)),
                    {"in", "like", "is", "not"});
  }
  out->expr = std::move(e);
  out->depth = 2;
  return Status::Ok();
}

Status TextParser::ParseOperand(std::string_view what, Node* out) {
  out->depth = 1;
  switch (tok_.kind) {
    case Tok::kName: {
      if (AtWord("true") || AtWord("false") || AtWord("null")) {
        out->expr = MakeExpr(Expr::Kind::kLiteral, tok_.pos);
        if (!AtWord("null")) out->expr->literal = AtWord("true");
        return Advance();
      }
      if (IsPredicateKeyword(tok_.text)) return Expected(what);
      out->expr = MakeExpr(Expr::Kind::kPath, tok_.pos);
      return ParsePath(&out->expr->path);
    }
    case Tok::kInt:
    case Tok::kFloat:
      out->expr = MakeExpr(Expr::Kind::kLiteral, tok_.pos);
      out->expr->literal = tok_.number;
      return Advance();
    case Tok::kString:
      out->expr = MakeExpr(Expr::Kind::kLiteral, tok_.pos);
      out->expr->literal = tok_.value;
      return Advance();
    case Tok::kParam:
      out->expr = MakeExpr(Expr::Kind::kParam, tok_.pos);
      out->expr->name = tok_.value;
      return Advance();
    default:
      return Expected(what);
  }
}

// At the token after 'in'; reads "[ ... ]".
Status TextParser::ParseList(Expr* in) {
  if (tok_.kind != Tok::kLBracket) {
    return Expected(in->negated ? "'[' after 'not in'" : "'[' after 'in'");
  }
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind == Tok::kRBracket) return Advance();
  while (true) {
    if (in->list.size() >= kMaxListLength) {
      return ErrorAt(tok_.pos,
                     "more than " + std::to_string(kMaxListLength) + " elements in one list");
    }
    Json element;
    ORMDB_RETURN_IF_ERROR(ParseListElement(&element));
    in->list.push_back(std::move(element));
    ORMDB_RETURN_IF_ERROR(Advance());
    if (tok_.kind == Tok::kRBracket) return Advance();
    if (tok_.kind != Tok::kComma) return Expected("',' or ']'");
    ORMDB_RETURN_IF_ERROR(Advance());
  }
}

Status TextParser::ParseListElement(Json* out) {
  switch (tok_.kind) {
    case Tok::kInt:
    case Tok::kFloat:
      *out = tok_.number;
      return Status::Ok();
    case Tok::kString:
      *out = tok_.value;
      return Status::Ok();
    case Tok::kParam:
      *out = ParamElement(tok_.value);
      return Status::Ok();
    case Tok::kName:
      if (AtWord("true") || AtWord("false")) {
        *out = AtWord("true");
        return Status::Ok();
      }
      if (AtWord("null")) return ErrorAt(tok_.pos, kNullInListMessage);
      return Expected("a value or a $param (a list holds values, not paths)");
    default:
      return Expected("a value or a $param");
  }
}

// ===========================================================================
// Printers
// ===========================================================================

// Binding strength, loosest first: an operand is printed in parentheses when
// it binds more loosely than its position requires.
enum class Prec : uint8_t { kOr, kAnd, kNot, kPredicate };

Prec PrecOf(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kOr:
      return Prec::kOr;
    case Expr::Kind::kAnd:
      return Prec::kAnd;
    case Expr::Kind::kNot:
      return Prec::kNot;
    default:
      return Prec::kPredicate;
  }
}

// The kind letter of a lifted literal (parser.h, ShapeKey).
char KindLetter(const Json& j) {
  switch (j.kind()) {
    case Json::Kind::kBool:
      return 'b';
    case Json::Kind::kInt:
      return 'i';
    case Json::Kind::kDouble:
      return 'f';
    case Json::Kind::kString:
      return 's';
    case Json::Kind::kObject:
      return 'p';  // {"$param": name} in a list
    default:
      return 'n';  // null: never in a valid query
  }
}

// Prints the text form, or with `lifted` set, the shape (parser.h).
class TextPrinter {
 public:
  explicit TextPrinter(std::vector<Json>* lifted) : lifted_(lifted) {}

  std::string Print(const FetchQuery& query) {
    PrintSelection(query.root);
    return std::move(out_);
  }

  // One operand or predicate, for messages.
  std::string PrintAlone(const Expr& e) {
    PrintExpr(e, Prec::kOr);
    return std::move(out_);
  }

 private:
  void PrintSelection(const Selection& sel) {
    out_ += sel.name;
    const bool has_args = sel.where || !sel.order.empty() || sel.limit || sel.after;
    if (has_args) PrintArgs(sel);
    if (sel.children.empty() && (has_args || !sel.is_include)) return;
    out_ += " {";
    for (size_t i = 0; i < sel.children.size(); ++i) {
      out_ += i == 0 ? " " : ", ";
      const Selection& child = sel.children[i];
      if (child.is_include) {
        PrintSelection(child);
      } else {
        out_ += child.name;
      }
    }
    out_ += " }";
  }

  void PrintArgs(const Selection& sel) {
    std::string_view separator = "(";
    if (sel.where) {
      out_ += separator;
      out_ += "where: ";
      PrintExpr(*sel.where, Prec::kOr);
      separator = ", ";
    }
    if (!sel.order.empty()) {
      out_ += separator;
      out_ += "order: ";
      if (sel.order.size() > 1) out_ += '[';
      for (size_t i = 0; i < sel.order.size(); ++i) {
        if (i > 0) out_ += ", ";
        out_ += JoinPath(sel.order[i].path);
        out_ += sel.order[i].descending ? " desc" : " asc";
      }
      if (sel.order.size() > 1) out_ += ']';
      separator = ", ";
    }
    if (sel.limit) {
      out_ += separator;
      out_ += "limit: ";
      if (lifted_) {
        out_ += '?';
        lifted_->push_back(*sel.limit);
      } else {
        out_ += std::to_string(*sel.limit);
      }
      separator = ", ";
    }
    if (sel.after) {
      out_ += separator;
      out_ += "after: ";
      if (lifted_) {
        out_ += '?';
        lifted_->push_back(*sel.after);
      } else {
        AppendJsonString(&out_, *sel.after);
      }
    }
    out_ += ')';
  }

  void PrintLiteral(const Json& literal) {
    if (lifted_) {
      out_ += '?';
      out_ += KindLetter(literal);
      lifted_->push_back(literal);
    } else {
      AppendJson(&out_, literal);
    }
  }

  void PrintList(const std::vector<Json>& list) {
    if (lifted_) {
      std::string kinds;
      for (const char k : std::string_view("bifsp")) {
        if (std::any_of(list.begin(), list.end(),
                        [k](const Json& j) { return KindLetter(j) == k; })) {
          kinds += k;
        }
      }
      out_ += "?[" + kinds + "]";
      lifted_->push_back(Json::Array(list));
      return;
    }
    out_ += '[';
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0) out_ += ", ";
      const Json* param = list[i].is_object() ? list[i].Find("$param") : nullptr;
      if (param && param->is_string()) {
        out_ += '$';
        out_ += param->as_string();
      } else {
        AppendJson(&out_, list[i]);
      }
    }
    out_ += ']';
  }

  void PrintExpr(const Expr& e, Prec min) {
    const bool parens = PrecOf(e) < min;
    if (parens) out_ += '(';
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        PrintLiteral(e.literal);
        break;
      case Expr::Kind::kParam:
        out_ += '$';
        out_ += e.name;
        break;
      case Expr::Kind::kPath:
        out_ += JoinPath(e.path);
        break;
      case Expr::Kind::kCompare:
        PrintChild(e, 0, Prec::kPredicate);
        out_ += ' ';
        out_ += CompareOpText(e.op);
        out_ += ' ';
        PrintChild(e, 1, Prec::kPredicate);
        break;
      case Expr::Kind::kIn:
        PrintChild(e, 0, Prec::kPredicate);
        out_ += e.negated ? " not in " : " in ";
        PrintList(e.list);
        break;
      case Expr::Kind::kLike:
        PrintChild(e, 0, Prec::kPredicate);
        out_ += " like ";
        PrintChild(e, 1, Prec::kPredicate);
        break;
      case Expr::Kind::kIsNull:
        PrintChild(e, 0, Prec::kPredicate);
        out_ += e.negated ? " is not null" : " is null";
        break;
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr: {
        const bool is_and = e.kind == Expr::Kind::kAnd;
        for (size_t i = 0; i < e.children.size(); ++i) {
          if (i > 0) out_ += is_and ? " and " : " or ";
          // An operand of the same operator would flatten when read back:
          // parenthesise it so the printed text keeps the tree it was given.
          PrintChild(e, i, is_and ? Prec::kNot : Prec::kAnd);
        }
        break;
      }
      case Expr::Kind::kNot:
        out_ += "not ";
        PrintChild(e, 0, Prec::kNot);
        break;
    }
    if (parens) out_ += ')';
  }

  void PrintChild(const Expr& e, size_t i, Prec min) {
    if (i < e.children.size() && e.children[i]) {
      PrintExpr(*e.children[i], min);
    } else {
      out_ += "<missing>";  // a malformed IR; the parsers never build one
    }
  }

  std::vector<Json>* lifted_;
  std::string out_;
};

// ---------------------------------------------------------------------------
// JSON IR writer

constexpr std::string_view kInOps[] = {"in", "not_in"};
constexpr std::string_view kIsNullOps[] = {"is_null", "is_not_null"};

Json ExprToJson(const Expr& e) {
  Json out = Json::Object();
  auto args = [&e] {
    Json a = Json::Array();
    for (const auto& child : e.children) {
      if (child) a.Push(ExprToJson(*child));
    }
    return a;
  };
  switch (e.kind) {
    case Expr::Kind::kLiteral:
      out.Set("value", e.literal);
      break;
    case Expr::Kind::kParam:
      out.Set("param", e.name);
      break;
    case Expr::Kind::kPath:
      out.Set("path", JoinPath(e.path));
      break;
    case Expr::Kind::kCompare:
      out.Set("op", CompareOpText(e.op)).Set("args", args());
      break;
    case Expr::Kind::kIn: {
      Json list = Json::Array();
      for (const Json& element : e.list) {
        const Json* param = element.is_object() ? element.Find("$param") : nullptr;
        if (param) {
          list.Push(Json::Object().Set("param", *param));
        } else {
          list.Push(element);
        }
      }
      out.Set("op", kInOps[e.negated]).Set("args", args()).Set("list", std::move(list));
      break;
    }
    case Expr::Kind::kLike:
      out.Set("op", "like").Set("args", args());
      break;
    case Expr::Kind::kIsNull:
      out.Set("op", kIsNullOps[e.negated]).Set("args", args());
      break;
    case Expr::Kind::kAnd:
      out.Set("op", "and").Set("args", args());
      break;
    case Expr::Kind::kOr:
      out.Set("op", "or").Set("args", args());
      break;
    case Expr::Kind::kNot:
      out.Set("op", "not").Set("args", args());
      break;
  }
  return out;
}

Json SelectionToJson(const Selection& sel, bool root) {
  Json out = Json::Object();
  out.Set(root ? "entity" : "include", sel.name);
  if (sel.where) out.Set("where", ExprToJson(*sel.where));
  if (!sel.order.empty()) {
    Json order = Json::Array();
    for (const OrderKey& key : sel.order) {
      order.Push(Json::Object().Set("path", JoinPath(key.path)).Set("desc", key.descending));
    }
    out.Set("order", std::move(order));
  }
  if (sel.limit) out.Set("limit", *sel.limit);
  if (sel.after) out.Set("after", *sel.after);
  if (root || !sel.children.empty()) {
    Json select = Json::Array();
    for (const Selection& child : sel.children) {
      select.Push(child.is_include ? SelectionToJson(child, false) : Json(child.name));
    }
    out.Set("select", std::move(select));
  }
  return out;
}

// ===========================================================================
// JSON IR reader
// ===========================================================================

constexpr std::string_view kExprMembers[] = {"op", "args", "list", "path", "value", "param"};
constexpr std::string_view kLeafMembers[] = {"path", "value", "param"};
constexpr std::string_view kOps[] = {"==",          "!=",  "<",      "<=",   ">",
                                     ">=",          "in",  "not_in", "like", "is_null",
                                     "is_not_null", "and", "or",     "not"};

std::string MemberPath(const std::string& path, std::string_view member) {
  return path.empty() ? std::string(member) : path + "." + std::string(member);
}

std::string IndexPath(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string JsonQuote(std::string_view s) { return QuoteForMessage(s, 40); }

class JsonReader {
 public:
  Status ReadQuery(const Json& ir, FetchQuery* out) {
    return ReadSelection(ir, "", /*root=*/true, 0, &out->root);
  }

 private:
  static Status Error(const std::string& path, std::string_view message) {
    return InvalidArgument((path.empty() ? std::string("query") : path) + ": " +
                           std::string(message));
  }
  static Status WrongType(const std::string& path, std::string_view expected, const Json& found) {
    return Error(path,
                 "expected " + std::string(expected) + ", found " + std::string(found.TypeName()));
  }
  // Every member of `object` must be one of `allowed`.
  static Status CheckMembers(const Json& object, const std::string& path,
                             const std::vector<std::string_view>& allowed);

  Status ReadSelection(const Json& j, const std::string& path, bool root, int depth,
                       Selection* out);
  Status ReadSelect(const Json& j, const std::string& path, int depth, Selection* out);
  Status ReadName(const Json& j, const std::string& path, std::string* out);
  Status ReadPath(const Json& j, const std::string& path, bool in_predicate,
                  std::vector<std::string>* out);
  Status ReadOrder(const Json& j, const std::string& path, std::vector<OrderKey>* out);
  Status ReadPredicate(const Json& j, const std::string& path, int depth,
                       std::unique_ptr<Expr>* out);
  Status ReadOperand(const Json& j, const std::string& path, int depth, std::unique_ptr<Expr>* out);
  Status ReadLiteral(const Json& j, const std::string& path, Json* out);
  Status ReadArgs(const Json& object, const std::string& path, std::string_view op, size_t min,
                  size_t max, const Json** args);
};

Status JsonReader::CheckMembers(const Json& object, const std::string& path,
                                const std::vector<std::string_view>& allowed) {
  for (const auto& [key, value] : object.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    const std::string best = NearestName(key, allowed);
    return Error(path, "unknown member " + JsonQuote(key) +
                           (best.empty() ? "" : " (did you mean \"" + best + "\"?)"));
  }
  return Status::Ok();
}

Status JsonReader::ReadName(const Json& j, const std::string& path, std::string* out) {
  if (!j.is_string()) return WrongType(path, "a name (a string)", j);
  const std::string& s = j.as_string();
  if (s.size() > kMaxNameBytes) {
    return Error(path, "name " + JsonQuote(s) + " is " + std::to_string(s.size()) +
                           " bytes long; the limit is " + std::to_string(kMaxNameBytes));
  }
  if (!IsName(s)) {
    return Error(path,
                 "expected a name (letters, digits and '_', not starting with a digit), "
                 "found " +
                     JsonQuote(s));
  }
  *out = s;
  return Status::Ok();
}

Status JsonReader::ReadPath(const Json& j, const std::string& path, bool in_predicate,
                            std::vector<std::string>* out) {
  if (!j.is_string()) return WrongType(path, "a path (a string such as \"author.name\")", j);
  const std::string_view s = j.as_string();
  size_t begin = 0;
  while (true) {
    const size_t dot = std::min(s.find('.', begin), s.size());
    if (out->size() >= kMaxPathNames) {
      return Error(path, "a path has at most " + std::to_string(kMaxPathNames) + " names");
    }
    const std::string_view name = s.substr(begin, dot - begin);
    if (name.size() > kMaxNameBytes) {
      return Error(path, "name " + JsonQuote(name) + " is " + std::to_string(name.size()) +
                             " bytes long; the limit is " + std::to_string(kMaxNameBytes));
    }
    if (!IsName(name)) {
      return Error(path, "expected a path (names joined by '.'), found " + JsonQuote(s));
    }
    out->emplace_back(name);
    if (dot == s.size()) break;
    begin = dot + 1;
  }
  if (in_predicate && IsPredicateKeyword(out->front())) {
    return Error(path,
                 "a path in a predicate cannot start with the keyword " + JsonQuote(out->front()));
  }
  return Status::Ok();
}

Status JsonReader::ReadSelection(const Json& j, const std::string& path, bool root, int depth,
                                 Selection* out) {
  if (!j.is_object()) {
    return WrongType(path, root ? "an object" : "a field name (a string) or an include (an object)",
                     j);
  }
  const std::string_view name_key = root ? "entity" : "include";
  ORMDB_RETURN_IF_ERROR(
      CheckMembers(j, path, {name_key, "where", "order", "limit", "after", "select"}));
  const Json* name = j.Find(name_key);
  if (!name) return Error(path, "missing member \"" + std::string(name_key) + "\"");
  ORMDB_RETURN_IF_ERROR(ReadName(*name, MemberPath(path, name_key), &out->name));
  out->is_include = !root;
  if (const Json* where = j.Find("where")) {
    ORMDB_RETURN_IF_ERROR(ReadPredicate(*where, MemberPath(path, "where"), 1, &out->where));
  }
  if (const Json* order = j.Find("order")) {
    ORMDB_RETURN_IF_ERROR(ReadOrder(*order, MemberPath(path, "order"), &out->order));
  }
  if (const Json* limit = j.Find("limit")) {
    if (!limit->is_int() || limit->as_int() < 0) {
      return Error(MemberPath(path, "limit"),
                   "expected a non-negative integer, found " +
                       (limit->is_number() ? ToJson(*limit) : std::string(limit->TypeName())));
    }
    out->limit = limit->as_int();
  }
  if (const Json* after = j.Find("after")) {
    if (!after->is_string()) return WrongType(MemberPath(path, "after"), "a cursor string", *after);
    if (!IsValidUtf8(after->as_string())) {
      return Error(MemberPath(path, "after"), "string is not valid UTF-8");
    }
    out->after = after->as_string();
  }
  const Json* select = j.Find("select");
  if (select) {
    ORMDB_RETURN_IF_ERROR(ReadSelect(*select, MemberPath(path, "select"), depth, out));
  } else if (root) {
    return Error(path, "missing member \"select\"");
  } else if (!out->where && out->order.empty() && !out->limit && !out->after) {
    return Error(path,
                 "an include needs \"select\" or an argument (where, order, limit or after); "
                 "a field is written as a plain string");
  }
  return Status::Ok();
}

Status JsonReader::ReadSelect(const Json& j, const std::string& path, int depth, Selection* out) {
  if (!j.is_array()) return WrongType(path, "an array of fields and includes", j);
  const Json::Elements& items = j.as_array();
  if (items.empty()) return Error(path, "expected at least one field or include, found []");
  if (items.size() > kMaxListLength) {
    return Error(path, "more than " + std::to_string(kMaxListLength) + " items in one selection");
  }
  std::unordered_map<std::string, size_t> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string item_path = IndexPath(path, i);
    Selection item;
    if (items[i].is_string()) {
      ORMDB_RETURN_IF_ERROR(ReadName(items[i], item_path, &item.name));
    } else {
      if (items[i].is_object() && depth + 1 > kMaxIncludeDepth) {
        return Error(item_path,
                     "includes nest deeper than " + std::to_string(kMaxIncludeDepth) + " levels");
      }
      ORMDB_RETURN_IF_ERROR(ReadSelection(items[i], item_path, false, depth + 1, &item));
    }
    if (const auto [it, added] = seen.emplace(item.name, i); !added) {
      return Error(item_path, "duplicate selection " + JsonQuote(item.name) + " (first at " +
                                  IndexPath(path, it->second) + ")");
    }
    out->children.push_back(std::move(item));
  }
  return Status::Ok();
}

Status JsonReader::ReadOrder(const Json& j, const std::string& path, std::vector<OrderKey>* out) {
  if (!j.is_array()) return WrongType(path, "an array of order keys", j);
  const Json::Elements& keys = j.as_array();
  if (keys.empty()) return Error(path, "expected at least one order key, found []");
  if (keys.size() > kMaxListLength) {
    return Error(path, "more than " + std::to_string(kMaxListLength) + " keys in one order");
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string key_path = IndexPath(path, i);
    const Json& k = keys[i];
    if (!k.is_object())
      return WrongType(key_path, "an order key {\"path\": ..., \"desc\": ...}", k);
    ORMDB_RETURN_IF_ERROR(CheckMembers(k, key_path, {"path", "desc"}));
    OrderKey key;
    const Json* key_name = k.Find("path");
    if (!key_name) return Error(key_path, "missing member \"path\"");
    ORMDB_RETURN_IF_ERROR(ReadPath(*key_name, MemberPath(key_path, "path"), false, &key.path));
    if (const Json* desc = k.Find("desc")) {
      if (!desc->is_bool()) return WrongType(MemberPath(key_path, "desc"), "a boolean", *desc);
      key.descending = desc->as_bool();
    }
    out->push_back(std::move(key));
  }
  return Status::Ok();
}

Status JsonReader::ReadLiteral(const Json& j, const std::string& path, Json* out) {
  switch (j.kind()) {
    case Json::Kind::kDouble:
      if (!std::isfinite(j.as_double())) return Error(path, "expected a finite number");
      break;
    case Json::Kind::kString:
      if (!IsValidUtf8(j.as_string())) return Error(path, "string is not valid UTF-8");
      break;
    case Json::Kind::kArray:
    case Json::Kind::kObject:
      return WrongType(path, "a literal (null, a boolean, a number or a string)", j);
    default:
      break;
  }
  *out = j;
  return Status::Ok();
}

// The "args" of an operator node, with their count checked.
Status JsonReader::ReadArgs(const Json& object, const std::string& path, std::string_view op,
                            size_t min, size_t max, const Json** args) {
  const Json* a = object.Find("args");
  if (!a) return Error(path, "missing member \"args\"");
  if (!a->is_array()) return WrongType(MemberPath(path, "args"), "an array", *a);
  const size_t n = a->size();
  if (n < min || n > max) {
    std::string count = std::to_string(min);
    if (max == SIZE_MAX) {
      count += " or more";
    } else if (max != min) {
      count += " to " + std::to_string(max);
    }
    return Error(MemberPath(path, "args"), "expected " + count + " operands for \"" +
                                               std::string(op) + "\", found " + std::to_string(n));
  }
  if (n > kMaxListLength) {
    return Error(MemberPath(path, "args"), "more than " + std::to_string(kMaxListLength) +
                                               " operands of \"" + std::string(op) + "\"");
  }
  *args = a;
  return Status::Ok();
}

Status JsonReader::ReadPredicate(const Json& j, const std::string& path, int depth,
                                 std::unique_ptr<Expr>* out) {
  if (depth > kMaxExprDepth) {
    return Error(path, "expression nests deeper than " + std::to_string(kMaxExprDepth) + " levels");
  }
  if (!j.is_object()) return WrongType(path, "a predicate (an object with \"op\")", j);
  ORMDB_RETURN_IF_ERROR(CheckMembers(
      j, path, std::vector<std::string_view>(std::begin(kExprMembers), std::end(kExprMembers))));
  const Json* op_json = j.Find("op");
  if (!op_json) {
    return Error(path, "expected a predicate (an object with \"op\"), found an operand");
  }
  if (!op_json->is_string()) return WrongType(MemberPath(path, "op"), "an operator name", *op_json);
  const std::string& op = op_json->as_string();
  const auto known = std::find(std::begin(kOps), std::end(kOps), op);
  if (known == std::end(kOps)) {
    const std::string best =
        NearestName(op, std::vector<std::string_view>(std::begin(kOps), std::end(kOps)));
    return Error(MemberPath(path, "op"),
                 "unknown operator " + JsonQuote(op) +
                     (best.empty() ? "" : " (did you mean \"" + best + "\"?)"));
  }
  for (const std::string_view leaf : kLeafMembers) {
    if (j.Find(leaf)) {
      return Error(path, "unexpected member \"" + std::string(leaf) + "\" beside \"op\"");
    }
  }
  const bool is_in = op == "in" || op == "not_in";
  if (j.Find("list") && !is_in) {
    return Error(path, "member \"list\" belongs to \"in\" and \"not_in\" only");
  }
  const std::string args_path = MemberPath(path, "args");
  auto e = MakeExpr(Expr::Kind::kCompare, {});
  const Json* args = nullptr;
  if (op == "and" || op == "or") {
    e->kind = op == "and" ? Expr::Kind::kAnd : Expr::Kind::kOr;
    ORMDB_RETURN_IF_ERROR(ReadArgs(j, path, op, 2, SIZE_MAX, &args));
    for (size_t i = 0; i < args->size(); ++i) {
      std::unique_ptr<Expr> child;
      ORMDB_RETURN_IF_ERROR(
          ReadPredicate(args->as_array()[i], IndexPath(args_path, i), depth + 1, &child));
      // As in the text, a nested chain of the same operator joins this one.
      if (child->kind == e->kind) {
        for (auto& grandchild : child->children) e->children.push_back(std::move(grandchild));
      } else {
        e->children.push_back(std::move(child));
      }
    }
    if (e->children.size() > kMaxListLength) {
      return Error(args_path, "more than " + std::to_string(kMaxListLength) + " operands of \"" +
                                  op + "\" in one chain");
    }
  } else if (op == "not") {
    e->kind = Expr::Kind::kNot;
    ORMDB_RETURN_IF_ERROR(ReadArgs(j, path, op, 1, 1, &args));
    std::unique_ptr<Expr> child;
    ORMDB_RETURN_IF_ERROR(
        ReadPredicate(args->as_array()[0], IndexPath(args_path, 0), depth + 1, &child));
    e->children.push_back(std::move(child));
  } else {
    const bool binary = !is_in && op != "is_null" && op != "is_not_null";
    ORMDB_RETURN_IF_ERROR(ReadArgs(j, path, op, binary ? 2 : 1, binary ? 2 : 1, &args));
    for (size_t i = 0; i < args->size(); ++i) {
      std::unique_ptr<Expr> operand;
      ORMDB_RETURN_IF_ERROR(
          ReadOperand(args->as_array()[i], IndexPath(args_path, i), depth + 1, &operand));
      e->children.push_back(std::move(operand));
    }
    if (is_in) {
      e->kind = Expr::Kind::kIn;
      e->negated = op == "not_in";
      const Json* list = j.Find("list");
      const std::string list_path = MemberPath(path, "list");
      if (!list) return Error(path, "missing member \"list\"");
      if (!list->is_array()) return WrongType(list_path, "an array of values", *list);
      if (list->size() > kMaxListLength) {
        return Error(list_path,
                     "more than " + std::to_string(kMaxListLength) + " elements in one list");
      }
      for (size_t i = 0; i < list->size(); ++i) {
        const Json& element = list->as_array()[i];
        const std::string element_path = IndexPath(list_path, i);
        if (element.is_null()) return Error(element_path, kNullInListMessage);
        if (element.is_object()) {
          ORMDB_RETURN_IF_ERROR(CheckMembers(element, element_path, {"param"}));
          const Json* param = element.Find("param");
          if (!param) return Error(element_path, "missing member \"param\"");
          std::string name;
          ORMDB_RETURN_IF_ERROR(ReadName(*param, MemberPath(element_path, "param"), &name));
          e->list.push_back(ParamElement(std::move(name)));
          continue;
        }
        Json literal;
        if (element.is_array())
          return WrongType(element_path, "a value or {\"param\": name}", element);
        ORMDB_RETURN_IF_ERROR(ReadLiteral(element, element_path, &literal));
        e->list.push_back(std::move(literal));
      }
    } else if (op == "like") {
      e->kind = Expr::Kind::kLike;
      const Expr& pattern = *e->children[1];
      const std::string pattern_path = IndexPath(args_path, 1);
      if (pattern.kind == Expr::Kind::kPath ||
          (pattern.kind == Expr::Kind::kLiteral && !pattern.literal.is_string())) {
        return Error(pattern_path,
                     "expected a pattern ({\"value\": string} or {\"param\": name}), found " +
                         (pattern.kind == Expr::Kind::kPath
                              ? std::string("a path")
                              : "a value of type " + std::string(pattern.literal.TypeName())));
      }
      if (pattern.kind == Expr::Kind::kLiteral && LikePattern::EndsInLoneEscape(pattern.literal.as_string())) {
        return Error(MemberPath(pattern_path, "value"), kLoneEscapeMessage);
      }
    } else if (op == "is_null" || op == "is_not_null") {
      e->kind = Expr::Kind::kIsNull;
      e->negated = op == "is_not_null";
    } else {
      e->kind = Expr::Kind::kCompare;
      e->op = static_cast<Expr::CompareOp>(known - std::begin(kOps));
      for (size_t i = 0; i < 2; ++i) {
        const Expr& side = *e->children[i];
        if (side.kind == Expr::Kind::kLiteral && side.literal.is_null()) {
          const std::string other = TextPrinter(nullptr).PrintAlone(*e->children[1 - i]);
          return Error(MemberPath(IndexPath(args_path, i), "value"),
                       NullComparisonMessage(e->op, other));
        }
      }
    }
  }
  *out = std::move(e);
  return Status::Ok();
}

Status JsonReader::ReadOperand(const Json& j, const std::string& path, int depth,
                               std::unique_ptr<Expr>* out) {
  if (depth > kMaxExprDepth) {
    return Error(path, "expression nests deeper than " + std::to_string(kMaxExprDepth) + " levels");
  }
  constexpr std::string_view kExpected =
      "an operand ({\"path\": ...}, {\"value\": ...} or {\"param\": ...})";
  if (!j.is_object()) return WrongType(path, kExpected, j);
  ORMDB_RETURN_IF_ERROR(CheckMembers(
      j, path, std::vector<std::string_view>(std::begin(kExprMembers), std::end(kExprMembers))));
  if (const Json* op = j.Find("op")) {
    return Error(path, "expected " + std::string(kExpected) + ", found the operator " +
                           (op->is_string() ? JsonQuote(op->as_string()) : "\"op\""));
  }
  if (j.size() != 1) {
    return Error(path, "expected " + std::string(kExpected) + " with one member, found " +
                           std::to_string(j.size()) + " members");
  }
  const auto& [key, value] = j.as_object().front();
  const std::string value_path = MemberPath(path, key);
  if (key == "path") {
    *out = MakeExpr(Expr::Kind::kPath, {});
    return ReadPath(value, value_path, true, &(*out)->path);
  }
  if (key == "param") {
    *out = MakeExpr(Expr::Kind::kParam, {});
    return ReadName(value, value_path, &(*out)->name);
  }
  if (key == "value") {
    *out = MakeExpr(Expr::Kind::kLiteral, {});
    return ReadLiteral(value, value_path, &(*out)->literal);
  }
  return Error(path, "expected " + std::string(kExpected) + ", found member \"" + key + "\"");
}

// ===========================================================================
// Equality
// ===========================================================================

bool SameSelection(const Selection& a, const Selection& b) {
  if (a.name != b.name || a.is_include != b.is_include || a.limit != b.limit ||
      a.after != b.after || a.order.size() != b.order.size() ||
      a.children.size() != b.children.size() || !a.where != !b.where) {
    return false;
  }
  if (a.where && !SameExpr(*a.where, *b.where)) return false;
  for (size_t i = 0; i < a.order.size(); ++i) {
    if (a.order[i].path != b.order[i].path || a.order[i].descending != b.order[i].descending) {
      return false;
    }
  }
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!SameSelection(a.children[i], b.children[i])) return false;
  }
  return true;
}

}  // namespace

// ===========================================================================
// Public API
// ===========================================================================

Result<FetchQuery> ParseFetchText(std::string_view text) {
  FetchQuery query;
  TextParser parser(text);
  ORMDB_RETURN_IF_ERROR(parser.Parse(&query));
  return query;
}

Result<FetchQuery> ParseFetchJson(const Json& ir) {
  FetchQuery query;
  JsonReader reader;
  ORMDB_RETURN_IF_ERROR(reader.ReadQuery(ir, &query));
  return query;
}

Json FetchToJson(const FetchQuery& query) { return SelectionToJson(query.root, /*root=*/true); }

std::string FetchToText(const FetchQuery& query) { return TextPrinter(nullptr).Print(query); }

std::string ShapeKey(const FetchQuery& query) {
  std::vector<Json> lifted;
  return TextPrinter(&lifted).Print(query);
}

std::vector<Json> LiftedLiterals(const FetchQuery& query) {
  std::vector<Json> lifted;
  TextPrinter(&lifted).Print(query);
  return lifted;
}

bool SameFetch(const FetchQuery& a, const FetchQuery& b) { return SameSelection(a.root, b.root); }

bool SameExpr(const Expr& a, const Expr& b) {
  if (a.kind != b.kind || a.children.size() != b.children.size()) return false;
  switch (a.kind) {
    case Expr::Kind::kLiteral:
      if (!(a.literal == b.literal)) return false;
      break;
    case Expr::Kind::kParam:
      if (a.name != b.name) return false;
      break;
    case Expr::Kind::kPath:
      if (a.path != b.path) return false;
      break;
    case Expr::Kind::kCompare:
      if (a.op != b.op) return false;
      break;
    case Expr::Kind::kIn:
      if (a.negated != b.negated || a.list != b.list) return false;
      break;
    case Expr::Kind::kIsNull:
      if (a.negated != b.negated) return false;
      break;
    default:
      break;
  }
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!a.children[i] != !b.children[i]) return false;
    if (a.children[i] && !SameExpr(*a.children[i], *b.children[i])) return false;
  }
  return true;
}

}  // namespace ormdb::query
