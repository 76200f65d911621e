// The select statement's parser: the fetch's text parser (lexer, paths and
// predicates) with the clauses of a select around them.
#include "query/select_parser.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "query/parse_rules.h"
#include "query/parser.h"
#include "query/text_parser.h"

namespace ormdb::query {

std::string TermText(bool is_aggregate, Aggregate::Fn fn, const std::vector<std::string>& path) {
  std::string joined = parse_rules::JoinPath(path);
  if (!is_aggregate) return joined;
  return std::string(parse_rules::AggregateFnName(fn)) + "(" + joined + ")";
}

namespace text_parser {

// At the '(' after an aggregate's name (allow_calls_ only).
Status TextParser::ParseCallArgs(std::string_view fn, Expr* call) {
  using namespace parse_rules;
  const auto found = std::find(std::begin(kAggregateFns), std::end(kAggregateFns), fn);
  if (found == std::end(kAggregateFns)) {
    const std::vector<std::string_view> fns(std::begin(kAggregateFns), std::end(kAggregateFns));
    return ErrorAt(call->pos, "unknown aggregate " + Quote(fn) + " (" +
                                  std::string(kAggregateFnList) + ")" + DidYouMean(fn, fns));
  }
  call->call = static_cast<int>(found - std::begin(kAggregateFns));
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind == Tok::kRParen) {
    if (call->call != static_cast<int>(Aggregate::Fn::kCount)) {
      return ErrorAt(call->pos,
                     std::string(fn) + " needs a field: " + std::string(fn) + "(<field>)");
    }
    return Advance();
  }
  if (tok_.kind != Tok::kName) return Expected("a path or ')'");
  ORMDB_RETURN_IF_ERROR(ParsePath(&call->path));
  if (tok_.kind != Tok::kRParen) return Expected("')'");
  return Advance();
}

namespace {

// The clauses after `from ENTITY`, in the order they must come.
constexpr std::string_view kClauses[] = {"where", "group", "having", "order", "limit", "after"};
constexpr std::string_view kClauseText[] = {"'where'",    "'group by'", "'having'",
                                            "'order by'", "'limit'",    "'after'"};

class SelectParser : public TextParser {
 public:
  explicit SelectParser(std::string_view text) : TextParser(text) {}

  Status ParseSelect(SelectQuery* out);

 private:
  Status ParseTerm(std::string_view what, SelectTerm* out);
  Status ParsePredicateClause(std::unique_ptr<Expr>* out);
  Status ExpectBy(std::string_view clause);
  // "expected <the clauses from `next` on> or end of query".
  Status ExpectedClause(size_t next);
  static Status NoCallsInWhere(const Expr& e);
};

Status SelectParser::ParseTerm(std::string_view what, SelectTerm* out) {
  if (tok_.kind != Tok::kName || parse_rules::IsPredicateKeyword(tok_.text)) {
    return Expected(what);
  }
  out->pos = tok_.pos;
  ORMDB_RETURN_IF_ERROR(ParsePath(&out->path));
  if (out->path.size() == 1 && tok_.kind == Tok::kLParen) {
    Expr call;
    call.pos = out->pos;
    ORMDB_RETURN_IF_ERROR(ParseCallArgs(out->path[0], &call));
    out->is_aggregate = true;
    out->fn = static_cast<Aggregate::Fn>(call.call);
    out->path = std::move(call.path);
  }
  out->text = TermText(out->is_aggregate, out->fn, out->path);
  return Status::Ok();
}

Status SelectParser::NoCallsInWhere(const Expr& e) {
  if (e.kind == Expr::Kind::kPath && e.call >= 0) {
    return ErrorAt(e.pos,
                   "an aggregate cannot be used in where, which filters rows before they are "
                   "grouped (use having)");
  }
  for (const auto& child : e.children) ORMDB_RETURN_IF_ERROR(NoCallsInWhere(*child));
  return Status::Ok();
}

Status SelectParser::ParsePredicateClause(std::unique_ptr<Expr>* out) {
  ORMDB_RETURN_IF_ERROR(Advance());
  Node node;
  ORMDB_RETURN_IF_ERROR(ParseOr(&node));
  *out = std::move(node.expr);
  return Status::Ok();
}

Status SelectParser::ExpectBy(std::string_view clause) {
  ORMDB_RETURN_IF_ERROR(Advance());
  if (!AtWord("by")) return Expected("'by' after " + Quote(clause), {"by"});
  return Advance();
}

Status SelectParser::ExpectedClause(size_t next) {
  if (tok_.kind == Tok::kName) {
    const auto found = std::find(std::begin(kClauses), std::end(kClauses), tok_.text);
    if (found != std::end(kClauses) && static_cast<size_t>(found - std::begin(kClauses)) < next) {
      return ErrorAt(tok_.pos, std::string(kClauseText[found - std::begin(kClauses)]) +
                                   " is out of place: the clauses come in the order where, "
                                   "group by, having, order by, limit, after");
    }
  }
  std::string what;
  std::vector<std::string_view> words;
  for (size_t i = next; i < std::size(kClauses); ++i) {
    what += std::string(kClauseText[i]) + (i + 1 < std::size(kClauses) ? ", " : " ");
    words.push_back(kClauses[i]);
  }
  return Expected(what + "or end of query", words);
}

Status SelectParser::ParseSelect(SelectQuery* out) {
  if (text_.size() > kMaxQueryTextBytes) {
    return ErrorAt({1, 1}, "query text is " + std::to_string(text_.size()) +
                               " bytes long; the limit is " + std::to_string(kMaxQueryTextBytes));
  }
  allow_calls_ = true;
  ORMDB_RETURN_IF_ERROR(Advance());
  if (!AtWord("select")) return Expected("'select'", {"select"});
  ORMDB_RETURN_IF_ERROR(Advance());
  while (true) {
    if (out->items.size() >= kMaxListLength) {
      return ErrorAt(tok_.pos, "more than " + std::to_string(kMaxListLength) + " items");
    }
    SelectItem item;
    ORMDB_RETURN_IF_ERROR(
        ParseTerm("an item (a path or an aggregate such as count())", &item.term));
    if (AtWord("as")) {
      ORMDB_RETURN_IF_ERROR(Advance());
      if (tok_.kind != Tok::kName) return Expected("a column name after 'as'");
      item.alias = std::string(tok_.text);
      item.alias_pos = tok_.pos;
      ORMDB_RETURN_IF_ERROR(Advance());
    }
    out->items.push_back(std::move(item));
    if (tok_.kind != Tok::kComma) break;
    ORMDB_RETURN_IF_ERROR(Advance());
  }
  if (!AtWord("from")) {
    const bool after_item = out->items.back().alias.empty();
    return Expected(after_item ? "'as', ',' or 'from'" : "',' or 'from'", {"from", "as"});
  }
  ORMDB_RETURN_IF_ERROR(Advance());
  if (tok_.kind != Tok::kName) return Expected("an entity name after 'from'");
  out->entity = std::string(tok_.text);
  out->entity_pos = tok_.pos;
  ORMDB_RETURN_IF_ERROR(Advance());

  size_t next = 0;  // the first clause that may still come
  if (AtWord("where")) {
    ORMDB_RETURN_IF_ERROR(ParsePredicateClause(&out->where));
    ORMDB_RETURN_IF_ERROR(NoCallsInWhere(*out->where));
    next = 1;
    if (tok_.kind != Tok::kEnd && !AtWord("group") && !AtWord("having") && !AtWord("order") &&
        !AtWord("limit") && !AtWord("after")) {
      return Expected(
          "'and', 'or', 'group by', 'having', 'order by', 'limit', 'after' or end of "
          "query",
          {"and", "or", "group", "having", "order", "limit", "after"});
    }
  }
  if (AtWord("group")) {
    out->group_pos = tok_.pos;
    ORMDB_RETURN_IF_ERROR(ExpectBy("group"));
    while (true) {
      SelectTerm term;
      ORMDB_RETURN_IF_ERROR(ParseTerm("a path or an item's name", &term));
      if (term.is_aggregate) {
        return ErrorAt(term.pos, "cannot group by an aggregate (" + term.text + ")");
      }
      out->group_by.push_back(std::move(term));
      if (tok_.kind != Tok::kComma) break;
      ORMDB_RETURN_IF_ERROR(Advance());
    }
    next = 2;
  }
  if (AtWord("having")) {
    ORMDB_RETURN_IF_ERROR(ParsePredicateClause(&out->having));
    next = 3;
    if (tok_.kind != Tok::kEnd && !AtWord("order") && !AtWord("limit") && !AtWord("after")) {
      return Expected("'and', 'or', 'order by', 'limit', 'after' or end of query",
                      {"and", "or", "order", "limit", "after"});
    }
  }
  if (AtWord("order")) {
    ORMDB_RETURN_IF_ERROR(ExpectBy("order"));
    while (true) {
      SelectOrderKey key;
      ORMDB_RETURN_IF_ERROR(
          ParseTerm("an order key (an item's name, a path or an aggregate)", &key.term));
      if (AtWord("asc") || AtWord("desc")) {
        key.descending = AtWord("desc");
        ORMDB_RETURN_IF_ERROR(Advance());
      }
      out->order.push_back(std::move(key));
      if (tok_.kind != Tok::kComma) break;
      ORMDB_RETURN_IF_ERROR(Advance());
    }
    next = 4;
  }
  if (AtWord("limit")) {
    ORMDB_RETURN_IF_ERROR(Advance());
    if (tok_.kind != Tok::kInt || tok_.number.as_int() < 0) {
      return Expected("a non-negative integer after 'limit'");
    }
    out->limit = tok_.number.as_int();
    ORMDB_RETURN_IF_ERROR(Advance());
    next = 5;
  }
  if (AtWord("after")) {
    ORMDB_RETURN_IF_ERROR(Advance());
    if (tok_.kind != Tok::kString) return Expected("a cursor string after 'after'");
    out->after = tok_.value;
    ORMDB_RETURN_IF_ERROR(Advance());
    next = 6;
  }
  if (tok_.kind != Tok::kEnd) {
    if (next >= std::size(kClauses)) return Expected("end of query");
    return ExpectedClause(next);
  }
  return Status::Ok();
}

}  // namespace
}  // namespace text_parser

bool IsSelectText(std::string_view text) {
  size_t i = text.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos || text.substr(i, 6) != "select") return false;
  i += 6;
  if (i >= text.size() || !IsSpace(text[i])) return false;
  i = text.find_first_not_of(" \t\r\n", i);
  return i != std::string_view::npos && text[i] != '(' && text[i] != '{';
}

Result<SelectQuery> ParseSelectText(std::string_view text) {
  SelectQuery query;
  text_parser::SelectParser parser(text);
  ORMDB_RETURN_IF_ERROR(parser.ParseSelect(&query));
  return query;
}

}  // namespace ormdb::query
