// A select statement (relational mode, DESIGN.md §11) as parsed, before it
// is checked against the catalog. Predicates are the fetch's (query/ir.h
// Expr); a having or order by operand may also be an aggregate call
// (Expr::call).
//
//   select author.name, count() as posts, max(created_at) as last
//   from Post where status == "published"
//   group by author.name having count() > 2
//   order by posts desc, author.name limit 10
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "query/ir.h"

namespace ormdb::query {

// A path ("author.name") or an aggregate call ("count()", "sum(views)").
struct SelectTerm {
  bool is_aggregate = false;
  Aggregate::Fn fn = Aggregate::Fn::kCount;  // is_aggregate
  std::vector<std::string> path;             // empty only for count()
  QueryPos pos;
  // The canonical text: "author.name", "count()", "max(created_at)".
  std::string text;
};

struct SelectItem {
  SelectTerm term;
  std::string alias;  // `as NAME`; empty when none
  QueryPos alias_pos;
  // The column's name: the alias, or the term's text.
  const std::string& name() const { return alias.empty() ? term.text : alias; }
};

struct SelectOrderKey {
  SelectTerm term;  // an item's name is a one-name path here
  bool descending = false;
};

struct SelectQuery {
  std::vector<SelectItem> items;
  std::string entity;  // from
  QueryPos entity_pos;
  std::unique_ptr<Expr> where;
  std::vector<SelectTerm> group_by;  // paths (or item names)
  QueryPos group_pos;
  std::unique_ptr<Expr> having;
  std::vector<SelectOrderKey> order;
  std::optional<int64_t> limit;
  std::optional<std::string> after;  // a cursor
};

// The text of a term: the path joined with '.', or fn(path).
std::string TermText(bool is_aggregate, Aggregate::Fn fn, const std::vector<std::string>& path);

}  // namespace ormdb::query
