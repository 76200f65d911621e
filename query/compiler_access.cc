// The compiler's access paths: each node's predicate split into conjuncts,
// and the cheapest way to reach its rows by the statistics' estimates (an id
// or unique lookup, an index range, a scan; for an include a reference
// lookup, a child index, a hashed scan or an edge range).
#include <algorithm>
#include <cmath>

#include "observability/number_format.h"
#include "query/compiler_internal.h"

namespace ormdb::query::compiler_internal {
namespace {

using observability::FormatEstimate;

constexpr double kAssumedLimit = 20;

}  // namespace

std::vector<Conjunct> Compiler::Conjuncts(const Node& n) {
  std::vector<Conjunct> out;
  if (!n.has_where) return out;
  std::vector<const CExpr*> list;
  if (n.where.kind == CExpr::Kind::kAnd) {
    for (const CExpr& c : n.where.children) list.push_back(&c);
  } else {
    list.push_back(&n.where);
  }
  for (const CExpr* c : list) {
    Conjunct cj;
    cj.expr = c;
    auto direct = [&](const CExpr& x) {
      return x.kind == CExpr::Kind::kPath && n.paths[x.path].hops.empty() &&
             n.paths[x.path].terminal != BoundPath::Terminal::kVersion;
    };
    if (c->kind == CExpr::Kind::kCompare && c->op != Expr::CompareOp::kNe) {
      const CExpr& a = c->children[0];
      const CExpr& b = c->children[1];
      bool flipped = false;
      const CExpr* path = nullptr;
      const CExpr* slot = nullptr;
      if (direct(a) && b.kind == CExpr::Kind::kSlot) {
        path = &a;
        slot = &b;
      } else if (direct(b) && a.kind == CExpr::Kind::kSlot) {
        path = &b;
        slot = &a;
        flipped = true;
      }
      if (path != nullptr) {
        cj.path = path->path;
        cj.slot = slot->slot;
        using Op = Conjunct::Op;
        switch (c->op) {
          case Expr::CompareOp::kEq:
            cj.op = Op::kEq;
            break;
          case Expr::CompareOp::kLt:
            cj.op = flipped ? Op::kGt : Op::kLt;
            break;
          case Expr::CompareOp::kLe:
            cj.op = flipped ? Op::kGe : Op::kLe;
            break;
          case Expr::CompareOp::kGt:
            cj.op = flipped ? Op::kLt : Op::kGt;
            break;
          case Expr::CompareOp::kGe:
            cj.op = flipped ? Op::kLe : Op::kGe;
            break;
          default:
            break;
        }
      }
    } else if (c->kind == CExpr::Kind::kIn && !c->negated && direct(c->children[0])) {
      cj.path = c->children[0].path;
      cj.slot = c->slot;
      cj.op = Conjunct::Op::kIn;
    } else if (c->kind == CExpr::Kind::kLike && direct(c->children[0])) {
      cj.path = c->children[0].path;
      cj.slot = c->slot;
      cj.op = Conjunct::Op::kLike;
    }
    out.push_back(cj);
  }
  return out;
}

bool Compiler::IsField(const Node& n, int p, size_t field) {
  const BoundPath& bp = n.paths[p];
  return bp.hops.empty() && bp.terminal == BoundPath::Terminal::kField && bp.field == field;
}

size_t Compiler::OrderCovered(const Node& n, const IndexInfo& ix, size_t from, bool* backward) {
  size_t covered = 0;
  *backward = false;
  for (size_t k = 0; k < n.order.size() && from + k < ix.fields.size(); ++k) {
    if (!IsField(n, n.order[k].path, ix.fields[from + k])) break;
    if (k == 0) *backward = n.order[k].descending;
    if (n.order[k].descending != *backward) break;
    ++covered;
  }
  return covered;
}

Status Compiler::ChooseAccess() {
  for (size_t i = 0; i < plan_->nodes.size(); ++i) {
    Node& n = plan_->nodes[i];
    ORMDB_ASSIGN_OR_RETURN(uint64_t rows, stats_->Rows(n.entity->id));
    plan_->assumed_rows.emplace_back(n.entity->id, rows);
    std::vector<Conjunct> cj = Conjuncts(n);
    double other_sel = 1;
    for (const Conjunct& c : cj) {
      (void)c;
      other_sel *= 0.5;
    }
    double limit = n.limit_slot >= 0 ? kAssumedLimit : -1;
    if (n.kind == Node::Kind::kRoot) {
      ORMDB_RETURN_IF_ERROR(ChooseRoot(n, rows, cj, limit));
    } else {
      ORMDB_RETURN_IF_ERROR(ChooseInclude(n, rows, cj, other_sel, limit));
    }
    if (n.kind == Node::Kind::kRoot) {
      plan_->est_entities += n.est_rows;
    } else {
      plan_->est_entities += n.est_rows;
      plan_->est_edges += n.est_rows;
    }
  }
  return Status::Ok();
}

Status Compiler::ChooseRoot(Node& n, uint64_t rows_u, const std::vector<Conjunct>& cj,
                            double limit) {
  double rows = static_cast<double>(rows_u);
  double best = -1;
  bool index_considered = false;
  auto consider = [&](double cost, auto apply) {
    if (best < 0 || cost < best) {
      best = cost;
      apply();
    }
  };
  // Selectivity of the conjuncts an access path does not use.
  auto rest_sel = [&](size_t used) {
    double s = 1;
    for (size_t k = used; k < cj.size(); ++k) s *= 0.5;
    return s;
  };
  for (size_t k = 0; k < cj.size(); ++k) {
    const Conjunct& c = cj[k];
    if (c.path < 0 || n.paths[c.path].terminal != BoundPath::Terminal::kId) continue;
    if (c.op != Conjunct::Op::kEq && c.op != Conjunct::Op::kIn) continue;
    double ids = c.op == Conjunct::Op::kEq ? 1 : 10;
    // An id or unique lookup reads at most a row per value: preferred to
    // any range or scan, however small the table.
    consider(0.5 * ids * kSeek * (n.entity->uuid_id ? 2 : 1), [&] {
      n.access = Access::kIdLookup;
      n.id_slots = {c.slot};
      n.est_rows_per_parent = std::min(rows, ids) * rest_sel(1);
      n.est_examined = ids;
      n.reason =
          c.op == Conjunct::Op::kEq ? "the predicate fixes the id" : "the predicate lists the ids";
    });
  }
  for (const IndexInfo& ix : n.entity->indexes) {
    if (!Usable(ix) || ix.id_index) continue;
    IndexRangePlan r;
    r.index = &ix;
    double sel = 1;
    size_t used = 0;
    std::vector<bool> taken(cj.size(), false);
    for (size_t f = 0; f < ix.fields.size(); ++f) {
      int found = -1;
      for (size_t k = 0; k < cj.size(); ++k) {
        if (!taken[k] && cj[k].op == Conjunct::Op::kEq && cj[k].path >= 0 &&
            IsField(n, cj[k].path, ix.fields[f])) {
          found = static_cast<int>(k);
          break;
        }
      }
      if (found < 0) break;
      taken[found] = true;
      ++used;
      r.eq_slots.push_back(cj[found].slot);
      if (f == 0) {
        ORMDB_ASSIGN_OR_RETURN(uint64_t distinct, stats_->Distinct(*n.entity, ix));
        sel /= static_cast<double>(std::max<uint64_t>(1, distinct));
      } else {
        sel *= 0.1;
      }
    }
    size_t next = r.eq_slots.size();
    if (next < ix.fields.size()) {
      for (size_t k = 0; k < cj.size(); ++k) {
        if (taken[k] || cj[k].path < 0 || !IsField(n, cj[k].path, ix.fields[next])) continue;
        switch (cj[k].op) {
          case Conjunct::Op::kLt:
          case Conjunct::Op::kLe:
            if (r.upper_slot >= 0 || r.like_slot >= 0) continue;
            r.upper_slot = cj[k].slot;
            r.upper_inclusive = cj[k].op == Conjunct::Op::kLe;
            break;
          case Conjunct::Op::kGt:
          case Conjunct::Op::kGe:
            if (r.lower_slot >= 0 || r.like_slot >= 0) continue;
            r.lower_slot = cj[k].slot;
            r.lower_inclusive = cj[k].op == Conjunct::Op::kGe;
            break;
          case Conjunct::Op::kLike:
            if (r.lower_slot >= 0 || r.upper_slot >= 0 || r.like_slot >= 0) continue;
            r.like_slot = cj[k].slot;
            break;
          default:
            continue;
        }
        taken[k] = true;
        ++used;
      }
      if (r.like_slot >= 0) sel *= 0.1;
      if (r.lower_slot >= 0 || r.upper_slot >= 0) sel *= 0.3;
    }
    r.order_covered = OrderCovered(n, ix, next, &r.backward);
    bool full_order = r.order_covered == n.order.size() && !n.order.empty();
    if (used == 0 && r.order_covered == 0) continue;
    index_considered = true;
    double in_range = rows * sel;
    double matched = in_range * rest_sel(used);
    double examined = in_range;
    if (r.order_covered > 0 && limit > 0 && matched > 0) {
      examined = std::min(in_range, (limit + 1) * in_range / std::max(1.0, matched));
    }
    bool unique = ix.unique && r.eq_slots.size() == ix.fields.size();
    double cost = kSeek + examined * (kAdvance + kFetch) + (full_order ? 0 : SortCost(matched));
    if (unique) cost = 0.5 * kSeek;
    consider(cost, [&] {
      n.access = unique ? Access::kUniqueLookup : Access::kIndexRange;
      n.range = r;
      n.est_rows_per_parent = unique ? std::min(1.0, matched) : matched;
      n.est_examined = examined;
      std::string why;
      if (unique) {
        why = "equality on every field of unique index " + ix.name;
      } else {
        if (!r.eq_slots.empty()) {
          why = "equality on the first " + std::to_string(r.eq_slots.size()) + " field" +
                (r.eq_slots.size() > 1 ? "s" : "") + " of " + ix.name;
        }
        if (r.like_slot >= 0 || r.lower_slot >= 0 || r.upper_slot >= 0) {
          why += std::string(why.empty() ? "" : ", ") +
                 (r.like_slot >= 0 ? "a like prefix" : "a range") + " on " +
                 n.entity->fields[ix.fields[next]].name;
        }
        if (r.order_covered > 0) {
          why += std::string(why.empty() ? "" : "; ") + "the index gives the order of " +
                 std::to_string(r.order_covered) + " order key" + (r.order_covered > 1 ? "s" : "");
          if (limit > 0) why += ", so the scan stops after the limit";
        }
      }
      n.reason = why;
    });
  }
  // A full scan in id order.
  {
    bool id_order = n.order_is_id_only;
    double matched = rows * rest_sel(0);
    double examined = rows;
    if (id_order && limit > 0 && matched > 0) {
      examined = std::min(rows, (limit + 1) * rows / std::max(1.0, matched));
    }
    double cost = kSeek + examined * kScanRow + (id_order ? 0 : SortCost(matched));
    consider(cost, [&] {
      n.access = Access::kScan;
      n.range = IndexRangePlan{};
      n.range.backward = !n.order.empty() && n.order[0].descending;
      n.est_rows_per_parent = matched;
      n.est_examined = examined;
      n.reason = index_considered
                     ? "a scan of " + std::to_string(rows_u) +
                           " rows costs less than any index range (" + FormatEstimate(cost) + ")"
                 : cj.empty() ? "no predicate to narrow the rows"
                              : "no index matches the predicate's fields";
      if (id_order && limit > 0) n.reason += "; id order, stops after the limit";
    });
  }
  n.est_cost = best;
  n.est_rows = limit > 0 ? std::min(limit, n.est_rows_per_parent) : n.est_rows_per_parent;
  return Status::Ok();
}

Status Compiler::ChooseInclude(Node& n, uint64_t rows_u, const std::vector<Conjunct>& cj,
                               double sel, double limit) {
  double rows = static_cast<double>(rows_u);
  const Node& parent = plan_->nodes[n.parent];
  double parents = std::max(1.0, parent.est_rows);
  switch (n.kind) {
    case Node::Kind::kToOne: {
      n.access = Access::kRefLookup;
      n.est_rows_per_parent = 1;
      n.est_examined = parents;
      n.est_cost = parents * kSeek;
      n.reason = "to-one: the parents' distinct references, looked up in id order in one batch";
      break;
    }
    case Node::Kind::kInverse: {
      const EntityInfo* child = n.entity;
      ORMDB_ASSIGN_OR_RETURN(Fanout fo,
                             stats_->ReferenceFanout(child->id, child->fields[n.ref_field].id,
                                                     plan_->nodes[n.parent].entity->id));
      double fanout = fo.average;
      double matched = fanout * sel;
      // Per-parent range of the best index led by the reference.
      const IndexInfo* best_ix = nullptr;
      IndexRangePlan best_r;
      for (const IndexInfo& ix : child->indexes) {
        if (!Usable(ix) || ix.fields.empty() || ix.fields[0] != n.ref_field) continue;
        IndexRangePlan r;
        r.index = &ix;
        r.eq_slots = {-1};
        r.order_covered = OrderCovered(n, ix, 1, &r.backward);
        if (best_ix == nullptr || r.order_covered > best_r.order_covered) {
          best_ix = &ix;
          best_r = r;
        }
      }
      double scan_cost = kSeek + rows * kScanRow + parents * SortCost(matched);
      if (best_ix != nullptr) {
        double examined = fanout;
        if (best_r.order_covered > 0 && limit > 0 && matched > 0) {
          examined = std::min(fanout, (limit + 1) * fanout / std::max(1.0, matched));
        }
        bool full = best_r.order_covered == n.order.size();
        double cost =
            parents * (kSeek + examined * (kAdvance + kFetch) + (full ? 0 : SortCost(matched)));
        // A scan must win clearly: it decodes every row of the child entity.
        if (cost <= 2 * scan_cost) {
          n.access = Access::kChildIndex;
          n.range = best_r;
          n.est_examined = parents * examined;
          n.est_cost = cost;
          n.reason = "per parent, a range of " + best_ix->name + " (" + FormatEstimate(fanout) +
                     " children per parent on average, max " + std::to_string(fo.max) + ")";
          if (best_r.order_covered > 0) {
            n.reason += "; the index gives the order";
            if (limit > 0) n.reason += ", so each range stops after the limit";
          }
          n.reason += "; cost " + FormatEstimate(cost) + " against " + FormatEstimate(scan_cost) +
                      " for one scan of all " + std::to_string(rows_u) +
                      " rows (a scan must win by half: it decodes every row)";
          break;
        }
      }
      n.access = Access::kChildScanHash;
      n.est_examined = rows;
      n.est_cost = scan_cost;
      n.reason = "the parents cover most of " + child->name + " (" + FormatEstimate(parents) +
                 " parents x " + FormatEstimate(fanout) + " children of " + std::to_string(rows_u) +
                 " rows): one scan hashed by parent costs " + FormatEstimate(scan_cost) +
                 ", under half of a range per parent";
      n.est_rows_per_parent = matched;
      break;
    }
    case Node::Kind::kMany: {
      ORMDB_ASSIGN_OR_RETURN(
          Fanout fo, stats_->EdgeFanout(n.edge, n.edge_forward, plan_->nodes[n.parent].entity->id));
      n.access = Access::kEdgeRange;
      double examined = fo.average;
      if (n.order_is_id_only && limit > 0 && fo.average * sel > 0) {
        examined = std::min(fo.average, (limit + 1) * fo.average / (fo.average * sel));
      }
      n.est_examined = parents * examined;
      n.est_cost = parents * (kSeek + examined * (kAdvance + kFetch));
      n.reason = "many-to-many: per parent, the edge range (" + FormatEstimate(fo.average) +
                 " linked per parent on average, max " + std::to_string(fo.max) +
                 "), then the distinct linked rows looked up in id order in one batch";
      if (n.order_is_id_only && limit > 0)
        n.reason += "; edges are in id order, so each range stops after the limit";
      break;
    }
    case Node::Kind::kRoot:
      break;
  }
  if (n.kind == Node::Kind::kInverse) {
    ORMDB_ASSIGN_OR_RETURN(Fanout fo,
                           stats_->ReferenceFanout(n.entity->id, n.entity->fields[n.ref_field].id,
                                                   plan_->nodes[n.parent].entity->id));
    n.est_rows_per_parent = fo.average * sel;
  } else if (n.kind == Node::Kind::kMany) {
    ORMDB_ASSIGN_OR_RETURN(
        Fanout fo, stats_->EdgeFanout(n.edge, n.edge_forward, plan_->nodes[n.parent].entity->id));
    n.est_rows_per_parent = fo.average * sel;
  }
  double per = limit > 0 ? std::min(limit, n.est_rows_per_parent) : n.est_rows_per_parent;
  n.est_rows = parents * per;
  (void)cj;
  return Status::Ok();
}

}  // namespace ormdb::query::compiler_internal
