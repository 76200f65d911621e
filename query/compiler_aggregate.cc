// The compiler's aggregates (DESIGN.md §11): `name: fn(relation[.field]
// [where p])` resolved against the holder's entity, its predicate typed and
// lifted like an include's, its value type checked against the function,
// and its access path chosen as an unrendered include of the holder's.
#include <algorithm>

#include "observability/number_format.h"
#include "query/compiler_internal.h"
#include "query/parse_rules.h"

namespace ormdb::query::compiler_internal {
namespace {

bool IsNumber(FieldType t) {
  return t == FieldType::kInt32 || t == FieldType::kInt64 || t == FieldType::kFloat64;
}

bool IsOrdered(FieldType t) {
  return IsNumber(t) || t == FieldType::kString || t == FieldType::kTimestamp;
}

}  // namespace

Status Compiler::CompileAggregate(const Selection& item, int idx) {
  const Aggregate& agg = *item.aggregate;
  const EntityInfo* e = N(idx).entity;
  // An aggregate is a column of the entity's block beside its fields, so it
  // cannot take the name of one (or of a relation).
  bool taken = item.name == "id" || item.name == "_version" || e->FieldIndex(item.name) >= 0;
  if (const catalog::Entity* se = SchemaEntity(e)) {
    for (const catalog::Collection& c : se->collections) taken = taken || c.name == item.name;
  }
  if (taken) {
    return InvalidArgument(At(item.pos) + "'" + item.name + "' is a field of " + e->name +
                           ": name the aggregate differently");
  }
  const std::string& relation = agg.path[0];
  if (int f = e->FieldIndex(relation); f >= 0) {
    if (e->fields[f].type == FieldType::kRef) {
      return InvalidArgument(At(agg.pos) + relation + " is a to-one relation of " + e->name +
                             ": an aggregate reads a to-many relation");
    }
    return InvalidArgument(At(agg.pos) + relation + " is a field of " + e->name +
                           ", not a to-many relation");
  }
  ORMDB_ASSIGN_OR_RETURN(Node source, RelationSource(idx, relation, agg.pos));
  source.path = N(idx).path + "." + item.name;
  // Compiled in place as the last node so that paths and slots resolve
  // against it, then moved out: it is never rendered.
  const int sidx = static_cast<int>(plan_->nodes.size());
  plan_->nodes.push_back(std::move(source));
  AggregatePlan ap;
  ap.fn = agg.fn;
  ap.name = item.name;
  ap.holder = idx;
  ap.text = std::string(parse_rules::AggregateFnName(agg.fn)) + "(" +
            parse_rules::JoinPath(agg.path) + (agg.where ? " where ...)" : ")");
  Status st;
  if (agg.path.size() > 1) {
    const std::vector<std::string> rest(agg.path.begin() + 1, agg.path.end());
    user_order_ = true;
    Result<int> p = ResolvePath(sidx, rest, agg.pos);
    user_order_ = false;
    if (p.ok()) {
      ap.value_path = *p;
    } else {
      st = p.status();
    }
  }
  std::unique_ptr<Expr> guarded;
  if (st.ok() && agg.where && policy_ != nullptr) {
    Result<std::unique_ptr<Expr>> g = GuardHops(*agg.where, N(sidx).entity, false);
    if (g.ok()) {
      guarded = std::move(*g);
    } else {
      st = g.status();
    }
  }
  if (st.ok() && agg.where) {
    Result<CExpr> w = CompileExpr(guarded ? *guarded : *agg.where, sidx);
    if (w.ok()) {
      N(sidx).where = std::move(*w);
      N(sidx).has_where = true;
    } else {
      st = w.status();
    }
  }
  if (st.ok()) st = AddPolicyFilter(sidx);
  ap.source = std::move(plan_->nodes.back());
  plan_->nodes.pop_back();
  ORMDB_RETURN_IF_ERROR(st);
  ORMDB_RETURN_IF_ERROR(CheckAggregateValue(agg, ap.source, &ap));
  OutputItem out;
  out.kind = OutputItem::Kind::kAggregate;
  out.name = item.name;
  out.aggregate = static_cast<int>(plan_->aggregates.size());
  N(idx).items.push_back(std::move(out));
  plan_->aggregates.push_back(std::move(ap));
  return Status::Ok();
}

Status Compiler::CheckAggregateValue(const Aggregate& agg, const Node& source, AggregatePlan* ap) {
  const std::string_view fn = parse_rules::AggregateFnName(agg.fn);
  if (ap->value_path < 0) {
    ap->result = ValueType::kInt64;  // count(relation)
    return Status::Ok();
  }
  const BoundPath& p = source.paths[ap->value_path];
  const FieldInfo* field =
      p.terminal == BoundPath::Terminal::kField ? &p.entities.back()->fields[p.field] : nullptr;
  const std::string subject = source.entity->name + "." + p.text;
  const std::string described =
      subject + (field ? " is a " + TypeNameOf(*field) + " field" : " is an id");
  switch (agg.fn) {
    case Aggregate::Fn::kCount:
    case Aggregate::Fn::kCountDistinct:
      if (p.domain == Domain::kJson) {
        return InvalidArgument(At(agg.pos) + std::string(fn) +
                               " cannot compare json values: " + described);
      }
      ap->result = ValueType::kInt64;
      return Status::Ok();
    case Aggregate::Fn::kSum:
    case Aggregate::Fn::kAvg:
      if (field == nullptr || !IsNumber(field->type)) {
        return InvalidArgument(At(agg.pos) + std::string(fn) +
                               " needs a number field (int32, int64 or float64): " + described);
      }
      ap->value_is_float = field->type == FieldType::kFloat64;
      ap->result = agg.fn == Aggregate::Fn::kAvg || ap->value_is_float ? ValueType::kFloat64
                                                                       : ValueType::kInt64;
      return Status::Ok();
    case Aggregate::Fn::kMin:
    case Aggregate::Fn::kMax:
      if (field == nullptr || !IsOrdered(field->type)) {
        return InvalidArgument(
            At(agg.pos) + std::string(fn) +
            " needs a field with an order (a number, string or timestamp): " + described);
      }
      ap->value_is_float = field->type == FieldType::kFloat64;
      ap->result = field->type == FieldType::kInt32 ? ValueType::kInt64 : field->physical;
      return Status::Ok();
  }
  return Status::Ok();
}

Status Compiler::ChooseAggregates() {
  for (AggregatePlan& ap : plan_->aggregates) {
    Node& n = ap.source;
    ORMDB_ASSIGN_OR_RETURN(uint64_t rows, stats_->Rows(n.entity->id));
    plan_->assumed_rows.emplace_back(n.entity->id, rows);
    std::vector<Conjunct> cj = Conjuncts(n);
    double sel = 1;
    for (size_t i = 0; i < cj.size(); ++i) sel *= 0.5;
    ORMDB_RETURN_IF_ERROR(ChooseInclude(n, rows, cj, sel, -1));
    ap.count_only = ap.fn == Aggregate::Fn::kCount && ap.value_path < 0 && !n.has_where &&
                    (n.access == Access::kChildIndex || n.access == Access::kEdgeRange);
    if (!ap.count_only && n.kind == Node::Kind::kInverse) {
      ORMDB_RETURN_IF_ERROR(ChooseCoveringIndex(ap));
    }
    ChooseMaintained(ap);
    if (ap.maintained != nullptr) {
      const Node& holder = plan_->nodes[n.parent];
      n.reason = "one record of " + ap.maintained->collection +
                 " (@maintain) per parent: no related row is read (at a snapshot before the "
                 "records were built: " +
                 n.reason + ")";
      n.est_examined = std::max(1.0, holder.est_rows);
    } else if (ap.count_only && n.access == Access::kEdgeRange) {
      n.reason = "many-to-many: per parent, the edge range counted (" +
                 observability::FormatEstimate(n.est_rows_per_parent) +
                 " linked per parent on average): no row is read";
    } else if (ap.count_only) {
      n.reason += "; a count of entries: no row is read";
    }
    plan_->est_scanned += n.est_examined;
  }
  return Status::Ok();
}

void Compiler::ChooseMaintained(AggregatePlan& ap) {
  const Node& n = ap.source;
  if (n.kind != Node::Kind::kInverse || n.has_where) return;
  const catalog::MaintainedInfo* m = n.entity->MaintainedBy(n.ref_field);
  if (m == nullptr) return;
  int slot = -1;
  if (ap.value_path >= 0) {
    const BoundPath& p = n.paths[ap.value_path];
    if (!p.hops.empty() || p.terminal != BoundPath::Terminal::kField) return;
    auto at = std::find(m->fields.begin(), m->fields.end(), p.field);
    if (at == m->fields.end()) return;
    slot = static_cast<int>(at - m->fields.begin());
  }
  const bool answers =
      ap.fn == Aggregate::Fn::kCount ||
      (slot >= 0 && (ap.fn == Aggregate::Fn::kSum || ap.fn == Aggregate::Fn::kAvg));
  if (!answers) return;
  ap.maintained = m;
  ap.maintained_field = slot;
}

Status Compiler::ChooseCoveringIndex(AggregatePlan& ap) {
  Node& n = ap.source;
  // The fields the aggregate reads from a related row.
  std::vector<size_t> needed = {n.ref_field};
  for (const BoundPath& p : n.paths) {
    if (!p.hops.empty()) {
      needed.push_back(p.hops[0]);
    } else if (p.terminal == BoundPath::Terminal::kField) {
      needed.push_back(p.field);
    } else if (p.terminal == BoundPath::Terminal::kVersion) {
      return Status::Ok();  // only rows know their version
    }
  }
  const IndexInfo* best = nullptr;
  for (const IndexInfo& ix : n.entity->indexes) {
    if (!Usable(ix) || ix.fields.empty() || ix.fields[0] != n.ref_field) continue;
    const bool covers = std::all_of(needed.begin(), needed.end(), [&](size_t f) {
      return std::find(ix.fields.begin(), ix.fields.end(), f) != ix.fields.end();
    });
    if (covers && (best == nullptr || ix.fields.size() < best->fields.size())) best = &ix;
  }
  if (best == nullptr) return Status::Ok();
  const Node& holder = plan_->nodes[n.parent];
  const double parents = std::max(1.0, holder.est_rows);
  ORMDB_ASSIGN_OR_RETURN(
      Fanout fo,
      stats_->ReferenceFanout(n.entity->id, n.entity->fields[n.ref_field].id, holder.entity->id));
  const double fanout = fo.average;
  const double cost = parents * (kSeek + fanout * kAdvance);
  if (n.access == Access::kChildScanHash && cost > n.est_cost) return Status::Ok();
  n.access = Access::kChildIndex;
  n.range = IndexRangePlan{};
  n.range.index = best;
  n.range.eq_slots = {-1};
  n.est_examined = parents * fanout;
  n.est_cost = cost;
  n.reason = "per parent, a range of " + best->name +
             ", which holds every field the aggregate reads: no row is read (cost " +
             observability::FormatEstimate(cost) + ")";
  ap.index_only = true;
  return Status::Ok();
}

void Compiler::CollectDecodeFields() {
  std::vector<std::pair<EntityTypeId, std::vector<size_t>>>& out = plan_->decode_fields;
  auto entry = [&](const EntityInfo* e) -> std::vector<size_t>& {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == e->id; });
    if (it != out.end()) return it->second;
    return out.emplace_back(e->id, std::vector<size_t>{}).second;
  };
  auto add = [&](const EntityInfo* e, size_t field) {
    std::vector<size_t>& fields = entry(e);
    if (std::find(fields.begin(), fields.end(), field) == fields.end()) fields.push_back(field);
  };
  auto add_paths = [&](const Node& n) {
    for (const BoundPath& p : n.paths) {
      for (size_t h = 0; h < p.hops.size(); ++h) add(p.entities[h], p.hops[h]);
      if (p.terminal == BoundPath::Terminal::kField) add(p.entities.back(), p.field);
    }
  };
  for (const Node& n : plan_->nodes) {
    entry(n.entity);  // an entry even when no field is needed
    add_paths(n);
    for (const OutputItem& item : n.items) {
      if (item.kind == OutputItem::Kind::kField) add(n.entity, item.field);
    }
    if (n.kind == Node::Kind::kToOne) add(plan_->nodes[n.parent].entity, n.ref_field);
    if (n.kind == Node::Kind::kInverse) add(n.entity, n.ref_field);
  }
  for (const AggregatePlan& a : plan_->aggregates) {
    entry(a.source.entity);
    add_paths(a.source);
    if (a.source.kind == Node::Kind::kInverse) add(a.source.entity, a.source.ref_field);
  }
  for (const EntityMasks& m : plan_->masks) add_paths(m.node);
  for (const SemiJoinPlan& sj : plan_->semijoins) {
    entry(sj.source.entity);
    add_paths(sj.source);
    if (sj.source.kind == Node::Kind::kInverse) add(sj.source.entity, sj.source.ref_field);
  }
  for (auto& [entity, fields] : out) std::sort(fields.begin(), fields.end());
}

void Compiler::ChooseIndexOnly() {
  // Entities whose version the plan reads: only rows know it.
  auto reads_version = [&](const EntityInfo* e) {
    auto in_paths = [&](const Node& n) {
      return std::any_of(n.paths.begin(), n.paths.end(), [&](const BoundPath& p) {
        return p.terminal == BoundPath::Terminal::kVersion &&
               (p.entities.empty() ? n.entity : p.entities.back()) == e;
      });
    };
    for (const Node& n : plan_->nodes) {
      if (in_paths(n)) return true;
      if (n.entity != e) continue;
      for (const OutputItem& item : n.items) {
        if (item.kind == OutputItem::Kind::kVersion) return true;
      }
    }
    if (std::any_of(plan_->semijoins.begin(), plan_->semijoins.end(),
                    [&](const SemiJoinPlan& sj) { return in_paths(sj.source); })) {
      return true;
    }
    return std::any_of(plan_->aggregates.begin(), plan_->aggregates.end(),
                       [&](const AggregatePlan& a) { return in_paths(a.source); });
  };
  // Types whose key encoding gives back the stored value exactly (a
  // float's -0.0 is stored as 0.0 in a key).
  auto exact_in_key = [](ValueType t) {
    return t == ValueType::kBool || t == ValueType::kInt32 || t == ValueType::kInt64 ||
           t == ValueType::kTimestamp || t == ValueType::kUuid || t == ValueType::kString ||
           t == ValueType::kBytes;
  };
  auto covers = [&](const Node& n, const IndexInfo& ix) {
    auto fields = std::find_if(plan_->decode_fields.begin(), plan_->decode_fields.end(),
                               [&](const auto& p) { return p.first == n.entity->id; });
    if (fields == plan_->decode_fields.end()) return false;
    return std::all_of(fields->second.begin(), fields->second.end(), [&](size_t f) {
      return std::find(ix.fields.begin(), ix.fields.end(), f) != ix.fields.end() &&
             exact_in_key(n.entity->fields[f].physical);
    });
  };
  for (Node& n : plan_->nodes) {
    if (n.entity->uuid_id || reads_version(n.entity)) continue;
    // A root scan without a limit or a cursor reads every row in any order:
    // a whole index whose entries hold what it reads serves it with less to
    // read (every row has an entry in every index, nulls included).
    if (n.kind == Node::Kind::kRoot && n.access == Access::kScan && n.limit_slot < 0 &&
        n.after_slot < 0) {
      const IndexInfo* best = nullptr;
      for (const IndexInfo& ix : n.entity->indexes) {
        if (!Usable(ix) || ix.fields.empty() || !covers(n, ix)) continue;
        if (best == nullptr || ix.fields.size() < best->fields.size()) best = &ix;
      }
      if (best == nullptr) continue;
      n.access = Access::kIndexRange;
      n.range = IndexRangePlan{};
      n.range.index = best;
      n.range.index_only = true;
      n.reason += "; every entry of " + best->name +
                  " holds the fields read, so the whole index is read instead: no row is read";
      continue;
    }
    const bool ranged = n.access == Access::kChildIndex || n.access == Access::kIndexRange ||
                        n.access == Access::kUniqueLookup;
    if (!ranged || n.range.index == nullptr || !covers(n, *n.range.index)) continue;
    n.range.index_only = true;
    // A range per parent priced every entry as a row fetch (ChooseInclude).
    if (n.access == Access::kChildIndex) n.est_cost -= n.est_examined * kFetch;
    n.reason += "; its entries hold every field read: no row is read";
  }
}

}  // namespace ormdb::query::compiler_internal
