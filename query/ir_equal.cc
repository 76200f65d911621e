// Structural equality of fetch queries (parser.h SameFetch, SameExpr): the
// round-trip tests and the plan cache compare parsed queries with it.
#include "query/parser.h"

namespace ormdb::query {
namespace {

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
  if (!a.aggregate != !b.aggregate) return false;
  if (a.aggregate) {
    const Aggregate& x = *a.aggregate;
    const Aggregate& y = *b.aggregate;
    if (x.fn != y.fn || x.path != y.path || !x.where != !y.where) return false;
    if (x.where && !SameExpr(*x.where, *y.where)) return false;
  }
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
    case Expr::Kind::kExists:
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
