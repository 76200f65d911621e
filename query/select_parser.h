// The select statement's text form (relational mode, DESIGN.md §11;
// docs/reference/select.md):
//
//   select    = "select" item { "," item } "from" entity
//               [ "where" or_expr ]
//               [ "group" "by" term { "," term } ]
//               [ "having" or_expr ]
//               [ "order" "by" key { "," key } ]
//               [ "limit" integer ]                   0 .. INT64_MAX
//               [ "after" string ]                    a cursor
//   item      = term [ "as" name ]
//   term      = path | call
//   call      = fn "(" [ path ] ")"                   the path is optional for count only
//   fn        = "count" | "count_distinct" | "sum" | "avg" | "min" | "max"
//   key       = term [ "asc" | "desc" ]
//   path      = name { "." name }
//
// or_expr is the fetch's predicate grammar (query/parser.h) with its
// lexical rules, keywords and mistakes refused. In `having` and `order by`
// an operand may also be a call; in `where` it may not (aggregates come
// after grouping). Clause keywords are lowercase, as every keyword of the
// query language; they are plain names elsewhere, so a field may be called
// `group` or `limit`.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "ormdb/status.h"
#include "query/select_ir.h"

namespace ormdb::query {

// True when `text` is a select statement rather than a fetch: its first
// word is `select` followed by a space (a fetch of an entity named `select`
// has '(' or '{' next).
bool IsSelectText(std::string_view text);

// Parses a select statement. INVALID_ARGUMENT "query:LINE:COL: expected
// WHAT, found WHAT" (with a did-you-mean for a misspelt keyword) for the
// first problem, as the fetch parser words them.
Result<SelectQuery> ParseSelectText(std::string_view text);

}  // namespace ormdb::query
