// The graph-fetch IR: what the text form (DESIGN.md §4) and the JSON IR both
// parse to, before it is checked against the catalog. Names are unresolved
// strings here; the compiler resolves them and reports unknown ones.
//
//   User(where: age >= 30 and name like "A%", order: [name asc, id asc], limit: 20,
//        after: "<cursor>") {
//     id, name,
//     posts(where: status == "published", order: created_at desc, limit: 5) {
//       title, tags { name }, comments(order: created_at desc, limit: 3) { body, author { name } }
//     }
//   }
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/lexer.h"
#include "common/value_compare.h"

namespace ormdb::query {

// Where a construct starts in the query text (1-based; 0/0 for JSON IR).
using QueryPos = TextPos;

// A predicate expression. Paths go through to-one relations ("author.name").
struct Expr {
  enum class Kind : uint8_t {
    kLiteral,  // literal
    kParam,    // name ($name in the text)
    kPath,     // path
    kCompare,  // op, children[0] op children[1]
    kIn,       // children[0] in list (negated: not in)
    kLike,     // children[0] like pattern (children[1], a string literal or param)
    kIsNull,   // children[0] is null (negated: is not null)
    kAnd,      // children (2 or more)
    kOr,       // children (2 or more)
    kNot,      // children[0]
    // Access rule conditions only (query/policy.h): exists(relation [where
    // p]). `path` is the to-many relation, after any to-one hops
    // (["owner", "projects"] once a rule is seen through a hop); children
    // is empty or [p], p over the related entity.
    kExists,
  };
  using CompareOp = ormdb::CompareOp;

  Kind kind = Kind::kLiteral;
  CompareOp op = CompareOp::kEq;
  bool negated = false;           // not in, is not null
  Json literal;                   // kLiteral (null, bool, number, string)
  std::string name;               // kParam
  std::vector<std::string> path;  // kPath: ["author", "name"]
  // kPath in a select's having or order by only (query/select_ir.h): an
  // aggregate call `fn(path)`, an Aggregate::Fn as an int (path may be
  // empty for count()); -1 for a plain path. A fetch never has one.
  int call = -1;
  std::vector<std::unique_ptr<Expr>> children;
  std::vector<Json> list;  // kIn: literals (or params as {"$param": name})
  QueryPos pos;
};

struct OrderKey {
  std::vector<std::string> path;  // a field, or a path through to-one relations
  bool descending = false;
  QueryPos pos;
};

// A named aggregate over a to-many relation of the selection's entity
// (DESIGN.md §11): `name: fn(relation[.field...] [where p])`, computed per
// parent row.
struct Aggregate {
  enum class Fn : uint8_t { kCount, kCountDistinct, kSum, kAvg, kMin, kMax };
  Fn fn = Fn::kCount;
  // The relation, then optionally a field of its entity (possibly through
  // to-one relations): ["reviews"], ["reviews", "rating"].
  std::vector<std::string> path;
  std::unique_ptr<Expr> where;  // over the relation's entity
  QueryPos pos;                 // of the function name
};

// One selected name inside braces: a field, an aggregate, or an include (a
// relation with its own arguments and selection).
struct Selection {
  std::string name;
  QueryPos pos;
  bool is_include = false;             // written with ( ... ) or { ... }
  std::optional<Aggregate> aggregate;  // written `name: fn(...)`
  // Include arguments (all optional).
  std::unique_ptr<Expr> where;
  std::vector<OrderKey> order;
  std::optional<int64_t> limit;
  std::optional<std::string> after;  // a cursor
  std::vector<Selection> children;   // the include's selection
};

// A whole fetch: the root entity with its arguments and selection.
struct FetchQuery {
  Selection root;  // root.name is the entity
};

}  // namespace ormdb::query
