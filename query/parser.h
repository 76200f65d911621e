// The graph-fetch query in its two written forms (DESIGN.md §4): the text
// form people type and the JSON IR programs send. Both parse to the IR of
// query/ir.h and print back from it; ShapeKey and LiftedLiterals split a
// query into its shape and its literals for the plan cache.
//
// Text form
// =========
//   query      = entity [ "(" args ")" ] "{" selection "}"
//   selection  = item { [","] item } [","]        commas between items optional
//   item       = name [ "(" args ")" ] [ "{" selection "}" ]
//              | name ":" aggregate
//   aggregate  = ( "count" | "count_distinct" | "sum" | "avg" | "min" | "max" )
//                "(" path [ "where" or_expr ] ")"
//                path = a to-many relation, then (but for count: optionally)
//                a field of its entity, possibly through to-one relations
//   args       = arg { "," arg }                  each argument at most once
//   arg        = "where" ":" or_expr | "order" ":" order
//              | "limit" ":" integer              0 .. 2^63-1 (INT64_MAX)
//              | "after" ":" string               (a cursor)
//   order      = key | "[" key { "," key } "]"
//   key        = name { "." name } [ "asc" | "desc" ]          asc by default
//   or_expr    = and_expr { "or" and_expr }
//   and_expr   = not_expr { "and" not_expr }
//   not_expr   = "not" not_expr | "(" or_expr ")" | predicate
//   predicate  = operand ( ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) operand
//                        | [ "not" ] "in" "[" [ element { "," element } ] "]"
//                        | "like" ( string | param )
//                        | "is" [ "not" ] "null" )
//   operand    = path | literal | param
//   path       = name { "." name }                through to-one relations
//   element    = literal | param                  (not null)
//   literal    = integer | float | string | "true" | "false" | "null"
//   param      = "$" name
//
// A limit is any integer from 0 to INT64_MAX, in the text and in the JSON
// IR; a negative one, one past INT64_MAX (a JSON number past it reads as a
// double) or a non-integer is INVALID_ARGUMENT. `limit: 0` returns no rows
// and a cursor (at the start) when rows exist; a limit at or above the
// number of rows returns them all with a null cursor.
//
// An item written with parentheses or braces is an include (a relation with
// its own arguments and selection, Selection::is_include); a bare name is a
// field. A to-one include has braces and no arguments: `author { name }`.
//
// Lexical rules: names are [A-Za-z_][A-Za-z0-9_]*. Numbers use JSON's syntax
// (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?); one without a fraction or
// an exponent is an integer and must fit int64, any other is a float and must
// be finite. Strings are double-quoted with JSON escapes, on one line.
// Space, tab, CR and LF separate tokens; there are no comments. In a
// predicate, `and or not in like is null true false` are keywords and a path
// cannot start with one; elsewhere (selections, order keys, after a '.')
// every name is a plain name, so a field may be called `order` or `desc`.
//
// Precedence, loosest first: or, and, not, then the comparisons (so
// `not a == 1` is `not (a == 1)`). A chain of `and` (or of `or`) becomes one
// node with all the operands, parenthesised sub-chains included; comparisons
// do not chain (`a < b < c` is an error).
//
// Rejected as mistakes rather than accepted with a surprising meaning:
//   - a comparison with a null literal (`x == null` never matches under SQL's
//     three-valued logic; the message suggests `x is null`), and null in an
//     in-list (it would make `not in` match nothing);
//   - a like pattern that ends in an unescaped backslash (DESIGN.md §9: '\'
//     escapes '%', '_' or '\'; before any other character it stands for it).
//
// JSON IR
// =======
// The same query as JSON, one construct for one construct:
//   query    = {"entity": name, ["where": pred], ["order": [key, ...]],
//               ["limit": integer], ["after": string], "select": [item, ...]}
//   item     = name                                           a field
//            | {"include": name, ["where": pred], ["order": [key, ...]],
//               ["limit": integer], ["after": string], ["select": [item, ...]]}
//            | {"aggregate": "count" | "count_distinct" | "sum" | "avg" | "min" | "max",
//               "name": name, "path": "relation[.field]", ["where": pred]}
//   key      = {"path": "a.b", ["desc": bool]}                desc defaults to false
//   pred     = {"op": "and" | "or", "args": [pred, pred, ...]}      (2 or more)
//            | {"op": "not", "args": [pred]}
//            | {"op": "==" | "!=" | "<" | "<=" | ">" | ">=", "args": [operand, operand]}
//            | {"op": "in" | "not_in", "args": [operand], "list": [element, ...]}
//            | {"op": "like", "args": [operand, {"value": string} | {"param": name}]}
//            | {"op": "is_null" | "is_not_null", "args": [operand]}
//   operand  = {"path": "a.b"} | {"value": literal} | {"param": name}
//   element  = literal | {"param": name}
//   literal  = null | true | false | number | string      (numbers as Json: int or double)
// Members may come in any order; unknown members are errors (with a
// suggestion). An include needs at least one of where/order/limit/after/
// select (otherwise it would be a field), and every "select" at least one
// item. Nested and/or are flattened as in the text. Names and paths follow
// the text's rules, so every accepted JSON IR prints as text that parses
// back to it. Example:
//   {"entity": "User", "where": {"op": ">=", "args": [{"path": "age"}, {"value": 30}]},
//    "order": [{"path": "name", "desc": false}], "limit": 20,
//    "select": ["id", "name", {"include": "posts", "limit": 5, "select": ["title"]}]}
//
// The IR produced by both parsers: root.name is the entity and
// root.is_include is false; positions are 1-based line/column in the text
// (columns count code points) and 0/0 from JSON. A kIn list holds Json
// literals and params as {"$param": name} (query/ir.h). An and/or node
// never has an operand of its own kind.
//
// Thread-safety: every function here is pure and may run concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "ormdb/status.h"
#include "query/ir.h"

namespace ormdb::query {

// Limits on untrusted queries; exceeding one is INVALID_ARGUMENT.
inline constexpr size_t kMaxQueryTextBytes = size_t{1} << 20;
// Includes below the root (the root alone is depth 0).
inline constexpr int kMaxIncludeDepth = 64;
// Levels of an expression tree (a path or literal alone is 1, `a == 1` is
// 2, and an and/or chain is one level). In the text, parentheses and `not`s
// may also nest at most this deep, so the parser's recursion is bounded.
inline constexpr int kMaxExprDepth = 64;
// Items of one selection, keys of one order, elements of one in-list and
// operands of one and/or chain.
inline constexpr size_t kMaxListLength = 10000;
// Names (entities, fields, relations, path segments, parameters).
inline constexpr size_t kMaxNameBytes = 128;
// Names in one path.
inline constexpr size_t kMaxPathNames = 64;
// The deepest JSON nesting FetchToJson produces for an accepted query: give
// ParseJson at least this max_depth when reading JSON IR text, or the
// deepest accepted queries will not read back.
inline constexpr int kMaxJsonIrDepth = 2 * kMaxIncludeDepth + 2 * kMaxExprDepth;

// Parses the text form. On failure returns INVALID_ARGUMENT for the first
// problem in the text: "query:LINE:COL: expected WHAT, found WHAT" (or
// another "query:LINE:COL: ..." message for limits, duplicates and the
// mistakes listed above), with " (did you mean 'where'?)" when a misspelt
// keyword or argument name is close to a valid one, e.g.
//   query:1:6: expected an argument name (where, order, limit or after), found 'wher'
//   (did you mean 'where'?)
Result<FetchQuery> ParseFetchText(std::string_view text);

// Parses the JSON IR (already parsed as JSON, see kMaxJsonIrDepth). On
// failure returns INVALID_ARGUMENT naming the JSON path of the first problem,
// e.g. "select[2].where.args[0]: expected an object, found integer" ("query:"
// for the top-level value itself).
Result<FetchQuery> ParseFetchJson(const Json& ir);

// The JSON IR of a query, members in the order of the grammar above; "desc"
// is always written, "select" of an include only when it is not empty.
// REQUIRES: `query` obeys the rules the parsers enforce (as any query they
// return does); then ParseFetchJson(FetchToJson(q)) is SameFetch as q.
Json FetchToJson(const FetchQuery& query);

// The canonical text of a query, on one line:
//   User(where: age >= 30 and name like "A%", order: [name asc, id asc], limit: 20)
//   { id, name, posts(limit: 5) { title } }
// Every order key shows its direction; parentheses appear only where
// precedence needs them; literals print as JSON. REQUIRES: as FetchToJson;
// then ParseFetchText(FetchToText(q)) is SameFetch as q, provided the text
// stays within kMaxQueryTextBytes.
std::string FetchToText(const FetchQuery& query);

// The plan-cache key of a query: its canonical text with every literal
// lifted out. Lifted, each replaced by '?' and a kind letter (b bool, i
// integer, f float, s string), in this order:
//   - each literal operand of a comparison or like, as '?b' .. '?s';
//   - each in-list as a whole, as '?[KINDS]' with the distinct kinds of its
//     elements in the order "bifsp" (p a parameter): `x in [1, 2]` and
//     `x in [7]` share the shape `x in ?[i]` (so the names of parameters in
//     a list travel with the lifted list, not in the shape);
//   - each limit and each after cursor, as '?' (whether there is one stays
//     part of the shape).
// So `age >= 30` and `age >= 40` share a key, `age >= "30"` does not (the
// compiler's type checks depend on kinds), and neither do different paths,
// operators, selections, orders or parameter names. A plan cached under a
// key must be valid for every value of the lifted literals of those kinds,
// e.g. an index range for `like ?s` computed from the pattern at run time.
std::string ShapeKey(const FetchQuery& query);

// The literals ShapeKey lifted, in the order their '?' appear in it: a
// comparison or like literal as itself, a limit as an integer, an after as a
// string, an in-list as an array equal to Expr::list (parameters still
// {"$param": name}, to be bound when the plan runs).
std::vector<Json> LiftedLiterals(const FetchQuery& query);

// Structural equality of two queries, ignoring positions.
bool SameFetch(const FetchQuery& a, const FetchQuery& b);
bool SameExpr(const Expr& a, const Expr& b);

}  // namespace ormdb::query
