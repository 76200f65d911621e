// The executor's predicates (three-valued, over paths that may follow
// references), order keys and cursors, and the quick test on encoded rows.
#include <algorithm>

#include "common/value_compare.h"
#include "query/executor_internal.h"

namespace ormdb::query::executor_internal {
namespace {

Tri Not(Tri t) { return t == Tri::kUnknown ? t : (t == Tri::kTrue ? Tri::kFalse : Tri::kTrue); }

Value Normalize(const Value& v) {
  if (v.type() == ValueType::kInt32) return Value::Int64(v.as_int32());
  return v;
}

// An encoded int32, int64 or timestamp field read in place, with the type
// it compares as after Normalize (int32 widened to int64); false for other
// types and for bytes of the wrong width (decoding reports those).
bool EncodedInteger(ValueType type, std::string_view field, ValueType* as, int64_t* out) {
  if (!storage::RowView::FieldInteger(type, field, out)) return false;
  *as = type == ValueType::kInt32 ? ValueType::kInt64 : type;
  return true;
}

}  // namespace

Result<Value> Executor::EvalPath(const Node& n, int path, RowId id, const RowData& row) {
  const BoundPath& p = n.paths[path];
  if (p.terminal == BoundPath::Terminal::kAggregate) {
    return AggregateValue(static_cast<int>(p.field), id);
  }
  const RowData* cur = &row;
  RowId cur_id = id;
  for (size_t h = 0; h < p.hops.size(); ++h) {
    const Value& ref = cur->row.fields[p.hops[h]];
    if (ref.is_null()) return Value();
    cur_id = static_cast<RowId>(ref.as_int64());
    ORMDB_ASSIGN_OR_RETURN(cur, GetRow(*p.entities[h + 1], cur_id));
    if (cur == nullptr) return Value();
  }
  switch (p.terminal) {
    case BoundPath::Terminal::kId:
      return ExternalId(*p.entities.back(), cur_id, *cur);
    case BoundPath::Terminal::kVersion:
      return Value::Int64(static_cast<int64_t>(cur->version));
    case BoundPath::Terminal::kField:
      return Normalize(cur->row.fields[p.field]);
    case BoundPath::Terminal::kAggregate:
      break;  // handled above
  }
  return Value();
}

Result<Value> Executor::Operand(const Node& n, const CExpr& e, RowId id, const RowData& row) {
  if (e.kind == CExpr::Kind::kPath) return EvalPath(n, e.path, id, row);
  return slots_[e.slot].value;
}

Result<Tri> Executor::Eval(const Node& n, const CExpr& e, RowId id, const RowData& row) {
  switch (e.kind) {
    case CExpr::Kind::kAnd: {
      Tri acc = Tri::kTrue;
      for (const CExpr& c : e.children) {
        ORMDB_ASSIGN_OR_RETURN(Tri t, Eval(n, c, id, row));
        if (t == Tri::kFalse) return Tri::kFalse;
        if (t == Tri::kUnknown) acc = Tri::kUnknown;
      }
      return acc;
    }
    case CExpr::Kind::kOr: {
      Tri acc = Tri::kFalse;
      for (const CExpr& c : e.children) {
        ORMDB_ASSIGN_OR_RETURN(Tri t, Eval(n, c, id, row));
        if (t == Tri::kTrue) return Tri::kTrue;
        if (t == Tri::kUnknown) acc = Tri::kUnknown;
      }
      return acc;
    }
    case CExpr::Kind::kNot: {
      ORMDB_ASSIGN_OR_RETURN(Tri t, Eval(n, e.children[0], id, row));
      return Not(t);
    }
    case CExpr::Kind::kCompare: {
      ORMDB_ASSIGN_OR_RETURN(Value a, Operand(n, e.children[0], id, row));
      ORMDB_ASSIGN_OR_RETURN(Value b, Operand(n, e.children[1], id, row));
      if (a.is_null() || b.is_null()) return Tri::kUnknown;
      const bool r = Satisfies(CompareForPredicate(a, b), e.op);
      return r ? Tri::kTrue : Tri::kFalse;
    }
    case CExpr::Kind::kIn: {
      ORMDB_ASSIGN_OR_RETURN(Value a, EvalPath(n, e.children[0].path, id, row));
      if (a.is_null()) return Tri::kUnknown;
      bool found = false;
      for (const Value& v : slots_[e.slot].list) {
        if (CompareForPredicate(a, v) == ValueOrder::kEqual) {
          found = true;
          break;
        }
      }
      return found != e.negated ? Tri::kTrue : Tri::kFalse;
    }
    case CExpr::Kind::kLike: {
      ORMDB_ASSIGN_OR_RETURN(Value a, EvalPath(n, e.children[0].path, id, row));
      if (a.is_null()) return Tri::kUnknown;
      return slots_[e.slot].pattern->Matches(a.as_string()) ? Tri::kTrue : Tri::kFalse;
    }
    case CExpr::Kind::kIsNull: {
      ORMDB_ASSIGN_OR_RETURN(Value a, EvalPath(n, e.children[0].path, id, row));
      return a.is_null() != e.negated ? Tri::kTrue : Tri::kFalse;
    }
    case CExpr::Kind::kExists: {
      // Two-valued: a null or dangling hop reaches no row, so no related row.
      RowId at = id;
      if (e.path >= 0) {
        const BoundPath& p = n.paths[e.path];
        const RowData* cur = &row;
        for (size_t h = 0; h < p.hops.size(); ++h) {
          const Value& ref = cur->row.fields[p.hops[h]];
          if (ref.is_null()) return Tri::kFalse;
          at = static_cast<RowId>(ref.as_int64());
          ORMDB_ASSIGN_OR_RETURN(cur, GetRow(*p.entities[h + 1], at));
          if (cur == nullptr) return Tri::kFalse;
        }
      }
      ORMDB_ASSIGN_OR_RETURN(bool found, SemiJoin(e.semijoin, at));
      return found ? Tri::kTrue : Tri::kFalse;
    }
    case CExpr::Kind::kPath:
    case CExpr::Kind::kSlot:
      break;
  }
  return Internal("bad predicate node");
}

Result<bool> Executor::SemiJoin(int s, RowId at) {
  if (semi_values_.size() < plan_->semijoins.size()) semi_values_.resize(plan_->semijoins.size());
  auto& known = semi_values_[s];
  if (auto it = known.find(at); it != known.end()) return it->second;
  const Node& src = plan_->semijoins[s].source;
  const EntityInfo& e = *src.entity;
  // The related ids first (no row is read while a cursor is open), then
  // their rows in id order until one passes.
  std::vector<RowId> related;
  const bool any = !src.has_where;  // the first related row answers
  switch (src.access) {
    case Access::kChildIndex: {
      Range range =
          BuildRange(src, src.range, {Value::Int64(static_cast<int64_t>(at))}, std::nullopt);
      if (range.empty) break;
      ORMDB_RETURN_IF_ERROR(txn_.ScanIndex(src.range.index->id, range.lower, range.upper,
                                           ScanDirection::kForward,
                                           [&](const storage::IndexEntry& en) {
                                             related.push_back(en.id);
                                             return !any;
                                           }));
      break;
    }
    case Access::kEdgeRange:
      ORMDB_RETURN_IF_ERROR(txn_.ScanEdges(
          src.edge,
          src.edge_forward ? storage::EdgeDirection::kForward : storage::EdgeDirection::kBackward,
          at,
          [&](RowId to) {
            related.push_back(to);
            return true;
          },
          ScanDirection::kForward));
      break;
    default: {
      // No complete index led by the reference: every row of the entity.
      std::vector<RowId> ids;
      ORMDB_RETURN_IF_ERROR(
          txn_.ScanRows(e.id, 0, ScanDirection::kForward, [&](RowId id, const storage::RowRecord&) {
            ids.push_back(id);
            return true;
          }));
      for (RowId id : ids) {
        ORMDB_ASSIGN_OR_RETURN(const RowData* row, GetRow(e, id));
        if (row == nullptr) continue;
        const Value& ref = row->row.fields[src.ref_field];
        if (!ref.is_null() && static_cast<RowId>(ref.as_int64()) == at) related.push_back(id);
      }
      scanned_ += ids.size() - related.size();  // the related ones are counted below
      break;
    }
  }
  // Entries, edges and rows read count toward the scanned rows budget, as
  // an aggregate's do: a semi-join cannot be cut short either.
  scanned_ += related.size();
  if (scanned_ > opt_.budget.max_scanned_rows) {
    return BudgetExceeded("budget exceeded: " + std::to_string(scanned_) +
                          " scanned rows is over the limit of " +
                          std::to_string(opt_.budget.max_scanned_rows) + " at " +
                          plan_->semijoins[s].holder + " " + plan_->semijoins[s].text +
                          " (an access rule's semi-join cannot be cut short: a larger budget)");
  }
  std::sort(related.begin(), related.end());
  bool found = false;
  // An index entry is a row visible at the snapshot: without a condition,
  // the first one answers and no row is read.
  if (any && src.access == Access::kChildIndex) found = !related.empty();
  for (RowId id : found ? std::vector<RowId>() : related) {
    ORMDB_ASSIGN_OR_RETURN(const RowData* row, GetRow(e, id));
    if (row == nullptr) continue;  // an edge to a row deleted since
    ORMDB_ASSIGN_OR_RETURN(found, Matches(src, id, *row));
    if (found) break;
  }
  known.emplace(at, found);
  return found;
}

Result<bool> Executor::Matches(const Node& n, RowId id, const RowData& row) {
  if (!n.has_where) return true;
  ORMDB_ASSIGN_OR_RETURN(Tri t, Eval(n, n.where, id, row));
  return t == Tri::kTrue;
}

Status Executor::MakeCandidate(const Node& n, RowId id, const RowData* row, Candidate* c) {
  c->id = id;
  c->row = row;
  c->ext_id = ExternalId(*n.entity, id, *row);
  c->key.clear();
  c->key.reserve(n.order.size());
  for (const OrderPlan& o : n.order) {
    ORMDB_ASSIGN_OR_RETURN(Value v, EvalPath(n, o.path, id, *row));
    c->key.push_back(std::move(v));
  }
  return Status::Ok();
}

int Executor::CompareKeys(const Node& n, const std::vector<Value>& ka, const Value& ia,
                          const std::vector<Value>& kb, const Value& ib) {
  for (size_t k = 0; k < n.order.size(); ++k) {
    int c = storage::CompareValues(ka[k], kb[k]);
    if (c != 0) return n.order[k].descending ? -c : c;
  }
  return storage::CompareValues(ia, ib);
}

namespace {

// Orders [begin, end) by `less`; only its first `keep` elements need order.
template <typename It, typename Less>
void SortFirst(It begin, It end, size_t keep, Less less) {
  if (keep < static_cast<size_t>(end - begin)) {
    std::partial_sort(begin, begin + static_cast<ptrdiff_t>(keep), end, less);
  } else {
    std::sort(begin, end, less);
  }
}

}  // namespace

void Executor::SortCandidates(const Node& n, std::vector<Candidate>* list, int64_t want) {
  const size_t keep = want >= 0 && static_cast<size_t>(want) < list->size()
                          ? static_cast<size_t>(want)
                          : list->size();
  auto less = [&](const Candidate& a, const Candidate& b) {
    return CompareKeys(n, a.key, a.ext_id, b.key, b.ext_id) < 0;
  };
  if (list->size() < 8) {
    SortFirst(list->begin(), list->end(), keep, less);
    list->resize(keep);
    return;
  }
  // A longer list is sorted as positions and then moved once: a candidate
  // (its key, its id) costs more to swap than a position.
  std::vector<uint32_t> order(list->size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  SortFirst(order.begin(), order.end(), keep,
            [&](uint32_t a, uint32_t b) { return less((*list)[a], (*list)[b]); });
  std::vector<Candidate> sorted;
  sorted.reserve(keep);
  for (size_t i = 0; i < keep; ++i) sorted.push_back(std::move((*list)[order[i]]));
  list->swap(sorted);
}

ValueType Executor::IdType(const Node& n) const {
  return n.entity->uuid_id ? ValueType::kUuid : ValueType::kInt64;
}

Result<std::optional<CursorPosition>> Executor::NodeCursor(const Node& n) {
  if (n.after_slot < 0) return std::optional<CursorPosition>();
  ORMDB_ASSIGN_OR_RETURN(
      CursorPosition pos,
      DecodeCursor(opt_.secret, slots_[n.after_slot].after, n.kind == Node::Kind::kRoot,
                   n.cursor_shape, n.cursor_key_types, IdType(n)));
  return std::optional<CursorPosition>(std::move(pos));
}

bool Executor::AfterCursor(const Node& n, const Candidate& c, const CursorPosition& pos) {
  if (pos.start) return true;
  return CompareKeys(n, c.key, c.ext_id, pos.key, pos.id) > 0;
}

std::string Executor::CursorAfter(const Node& n, RowId parent, const Candidate* last,
                                  const std::optional<CursorPosition>& from) {
  CursorPosition pos;
  pos.root = n.kind == Node::Kind::kRoot;
  pos.version = txn_.snapshot();
  pos.shape = n.cursor_shape;
  pos.parent = parent;
  if (last != nullptr) {
    pos.key = last->key;
    pos.id = last->ext_id;
  } else if (from && !from->start) {
    pos.key = from->key;
    pos.id = from->id;
  } else {
    pos.start = true;
  }
  return EncodeCursor(opt_.secret, pos);
}

QuickPlan Executor::MakeQuickPlan(const Node& n) {
  QuickPlan q;
  auto plain = [&](const CExpr& e) {
    if (e.kind != CExpr::Kind::kPath) return false;
    const BoundPath& p = n.paths[e.path];
    return p.hops.empty() && p.terminal == BoundPath::Terminal::kField &&
           p.domain != Domain::kBytes && p.domain != Domain::kJson;
  };
  if (n.has_where) {
    std::vector<const CExpr*> conj;
    if (n.where.kind == CExpr::Kind::kAnd) {
      for (const CExpr& c : n.where.children) conj.push_back(&c);
    } else {
      conj.push_back(&n.where);
    }
    for (const CExpr* c : conj) {
      if (c->kind != CExpr::Kind::kCompare) continue;
      const CExpr& a = c->children[0];
      const CExpr& b = c->children[1];
      QuickTest t;
      t.op = c->op;
      const CExpr* path = nullptr;
      if (plain(a) && b.kind == CExpr::Kind::kSlot) {
        path = &a;
        t.slot = b.slot;
      } else if (plain(b) && a.kind == CExpr::Kind::kSlot) {
        path = &b;
        t.slot = a.slot;
        t.flipped = true;
      }
      if (path == nullptr) continue;
      const catalog::FieldInfo& f = n.entity->fields[n.paths[path->path].field];
      t.column = f.column;
      t.type = f.physical;
      t.peeker = storage::RowView::FieldPeeker(n.entity->layout, t.column);
      q.tests.push_back(t);
    }
  }
  if (!n.order.empty()) {
    const BoundPath& p = n.paths[n.order[0].path];
    if (p.hops.empty() && p.terminal == BoundPath::Terminal::kField) {
      q.order_column = static_cast<int>(n.entity->fields[p.field].column);
      q.order_desc = n.order[0].descending;
      q.order_peeker = storage::RowView::FieldPeeker(n.entity->layout, q.order_column);
    }
  }
  return q;
}

bool Executor::QuickRejects(const Node& n, int idx, std::string_view bytes,
                            const std::vector<Candidate>* heap, int64_t want) {
  const QuickPlan& q = run_->quick[idx];
  bool use_heap = heap != nullptr && want > 0 && static_cast<int64_t>(heap->size()) >= want &&
                  q.order_column >= 0;
  if (q.tests.empty() && !use_heap) return false;
  if (bytes.size() < 4 || storage::RowSchemaVersion(bytes) != plan_->schema->number()) {
    return false;
  }
  // Only the fields tested are located; a row that passes is decoded in
  // full later, and a row whose bounds look wrong is not rejected here, so
  // that its decoding reports it.
  using Peek = storage::RowView::Peek;
  const std::span<const ValueType> layout = n.entity->layout;
  std::string_view field;
  ValueType as = ValueType::kNull;
  int64_t x = 0;
  // The order first: once the list is full it rejects most rows with one
  // integer comparison where the tests may compare strings.
  if (use_heap) {
    const Peek p = q.order_peeker.Find(bytes, &field);
    if (p == Peek::kCorrupt) return false;
    const Value& worst = heap->front().key[0];
    int c;
    if (p == Peek::kValue && layout[q.order_column] == ValueType::kString &&
        worst.type() == ValueType::kString) {
      c = field.compare(worst.as_string());  // strings order by their bytes
    } else if (p == Peek::kValue && EncodedInteger(layout[q.order_column], field, &as, &x) &&
               worst.type() == as) {
      const int64_t w = worst.as_int64();  // integers and timestamps in place
      c = x < w ? -1 : x > w ? 1 : 0;
    } else {
      c = storage::CompareValues(
          p == Peek::kNull ? Value()
                           : Normalize(storage::RowView::FieldValue(layout[q.order_column], field)),
          worst);
    }
    if (q.order_desc) c = -c;
    if (c > 0) return true;  // after the worst kept row on the first key
  }
  for (const QuickTest& t : q.tests) {
    const Peek p = t.peeker.Find(bytes, &field);
    if (p == Peek::kCorrupt) return false;
    if (p == Peek::kNull) return true;  // unknown: a conjunct that is not true
    const Value& lit = slots_[t.slot].value;
    ValueOrder order;
    if (t.type == ValueType::kString) {
      if (lit.type() != ValueType::kString) return false;
      const int c = field.compare(lit.as_string());
      order = c < 0 ? ValueOrder::kLess : c > 0 ? ValueOrder::kGreater : ValueOrder::kEqual;
    } else if (EncodedInteger(t.type, field, &as, &x) && lit.type() == as) {
      const int64_t y = lit.as_int64();  // integers and timestamps in place
      order = x < y ? ValueOrder::kLess : x > y ? ValueOrder::kGreater : ValueOrder::kEqual;
    } else {
      order = CompareForPredicate(Normalize(storage::RowView::FieldValue(t.type, field)), lit);
    }
    if (t.flipped) order = Reverse(order);
    const bool pass = Satisfies(order, t.op);
    if (!pass) return true;
  }
  return false;
}

}  // namespace ormdb::query::executor_internal
