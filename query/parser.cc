// The graph-fetch query's text form: the lexer (over common/lexer) and the
// recursive-descent parser. The JSON IR reader (query/ir_json.cc) enforces
// the same rules (query/parse_rules.h), so that any accepted query prints in
// either form (query/printer.cc) and reads back the same (parser.h).
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
#include "query/parse_rules.h"
#include "query/text_parser.h"

namespace ormdb::query {
namespace text_parser {

using namespace parse_rules;

// ===========================================================================
// Lexer
// ===========================================================================

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
  if (tok_.kind == Tok::kColon) return ParseAggregate(out);
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

// At the ':' after an item's name: fn "(" path [where p] ")".
Status TextParser::ParseAggregate(Selection* out) {
  ORMDB_RETURN_IF_ERROR(Advance());
  const std::vector<std::string_view> fns(std::begin(kAggregateFns), std::end(kAggregateFns));
  const std::string expected_fn = "an aggregate (" + std::string(kAggregateFnList) + ")";
  if (tok_.kind != Tok::kName) return Expected(expected_fn);
  const auto found = std::find(std::begin(kAggregateFns), std::end(kAggregateFns), tok_.text);
  if (found == std::end(kAggregateFns)) return Expected(expected_fn, fns);
  Aggregate agg;
  agg.fn = static_cast<Aggregate::Fn>(found - std::begin(kAggregateFns));
  agg.pos = tok_.pos;
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind != Tok::kLParen) return Expected("'(' after " + Quote(*found));
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind != Tok::kName) return Expected("a relation name");
  ORMDB_RETURN_IF_ERROR(ParsePath(&agg.path));
  if (agg.path.size() == 1 && agg.fn != Aggregate::Fn::kCount) {
    return ErrorAt(agg.pos, AggregateNeedsField(agg.fn, agg.path[0]));
  }
  if (AtWord("where")) {
    ORMDB_RETURN_IF_ERROR(Advance());
    Node where;
    ORMDB_RETURN_IF_ERROR(ParseOr(&where));
    agg.where = std::move(where.expr);
    if (tok_.kind != Tok::kRParen) return Expected("'and', 'or' or ')'", {"and", "or"});
  } else if (tok_.kind != Tok::kRParen) {
    return Expected("'where' or ')'", {"where"});
  }
  out->aggregate = std::move(agg);
  return Advance();
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
  const bool bool_literal = allow_auth_ && lhs.expr->kind == Expr::Kind::kLiteral &&
                            lhs.expr->literal.is_bool() && tok_.kind != Tok::kCompare;
  if (lhs.expr->call == kHasRoleCall || lhs.expr->kind == Expr::Kind::kExists || bool_literal) {
    *out = std::move(lhs);
    out->depth = 2;
    return Status::Ok();
  }
  auto is_auth = [&](const Node& side) {
    return allow_auth_ && side.expr->kind == Expr::Kind::kPath && side.expr->path.size() == 1 &&
           side.expr->path[0] == "auth";
  };
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
    const bool auth_null_test = (e->op == Expr::CompareOp::kEq || e->op == Expr::CompareOp::kNe) &&
                                (is_auth(lhs) || is_auth(rhs));
    for (const Node* side : {&lhs, &rhs}) {
      if (side->expr->kind == Expr::Kind::kLiteral && side->expr->literal.is_null() &&
          !auth_null_test) {
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
    if (allow_auth_ && AtWord("auth")) {
      // A rule's `x in auth.groups`: the list is the principal's claim.
      Node list;
      ORMDB_RETURN_IF_ERROR(ParseOperand("auth.<claim>", &list));
      if (list.expr->kind != Expr::Kind::kPath || list.expr->path.size() != 2) {
        return ErrorAt(list.expr->pos, "expected a claim after 'in' (x in auth.groups)");
      }
      e->children.push_back(std::move(list.expr));
    } else {
      ORMDB_RETURN_IF_ERROR(ParseList(e.get()));
    }
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
      ORMDB_RETURN_IF_ERROR(ParsePath(&out->expr->path));
      if (allow_auth_ && tok_.kind == Tok::kLParen && out->expr->path.size() == 2 &&
          out->expr->path[0] == "auth" && out->expr->path[1] == "has_role") {
        ORMDB_RETURN_IF_ERROR(Advance());
        if (tok_.kind != Tok::kString) return Expected("a role name string in auth.has_role(...)");
        out->expr->path.push_back(tok_.value);
        out->expr->call = kHasRoleCall;
        ORMDB_RETURN_IF_ERROR(Advance());
        if (tok_.kind != Tok::kRParen) return Expected("')' after the role name");
        return Advance();
      }
      if (allow_auth_ && tok_.kind == Tok::kLParen) {
        if (out->expr->path.size() == 1 && out->expr->path[0] == "exists") {
          return ParseExists(out);
        }
        return ErrorAt(out->expr->pos,
                       "a rule condition calls no functions but auth.has_role(\"role\")");
      }
      if (allow_calls_ && out->expr->path.size() == 1 && tok_.kind == Tok::kLParen) {
        const std::string fn = std::move(out->expr->path[0]);
        out->expr->path.clear();
        return ParseCallArgs(fn, out->expr.get());
      }
      return Status::Ok();
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

// At the '(' after `exists` (a rule condition): reads "(relation [where
// p])" into out, a kExists.
Status TextParser::ParseExists(Node* out) {
  ORMDB_RETURN_IF_ERROR(Nest());
  ORMDB_RETURN_IF_ERROR(Advance());
  auto e = MakeExpr(Expr::Kind::kExists, out->expr->pos);
  if (tok_.kind != Tok::kName || IsPredicateKeyword(tok_.text)) {
    return Expected("a to-many relation in exists(...)");
  }
  ORMDB_RETURN_IF_ERROR(ParsePath(&e->path));
  int depth = 1;
  if (AtWord("where")) {
    ORMDB_RETURN_IF_ERROR(Advance());
    Node inner;
    ORMDB_RETURN_IF_ERROR(ParseOr(&inner));
    depth = inner.depth + 1;
    e->children.push_back(std::move(inner.expr));
  }
  if (tok_.kind != Tok::kRParen) {
    return Expected(e->children.empty() ? "'where' or ')' in exists(...)"
                                        : "'and', 'or' or ')' after the condition of exists(...)",
                    {"where", "and", "or"});
  }
  --nesting_;
  out->expr = std::move(e);
  out->depth = depth;
  return Advance();
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

}  // namespace text_parser

Result<FetchQuery> ParseFetchText(std::string_view text) {
  FetchQuery query;
  text_parser::TextParser parser(text);
  ORMDB_RETURN_IF_ERROR(parser.Parse(&query));
  return query;
}

}  // namespace ormdb::query
