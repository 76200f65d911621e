// The executor's aggregates (DESIGN.md §11): per holder row, fn over the
// related rows that pass the aggregate's where, on the fetch's snapshot.
//
// A per-parent aggregate (an index range led by the reference, or the edge
// range of a many-to-many relation) is computed when first needed, by an
// order key or by the output, and kept for the rest of the fetch; the output
// computes the holder's rows in row id order, so the ranges are read in key
// order. A count of every related row counts index entries or edges and
// reads no row. An aggregate whose plan is one scan of the related entity
// (no index led by the reference) groups every row by its parent in one pass
// the first time any value is needed.
//
// Every index entry, edge and row read counts toward the scanned rows
// budget; passing it is BUDGET_EXCEEDED in either mode, since a partial
// aggregate would be a wrong number.
#include <algorithm>
#include <unordered_set>

#include "catalog/maintained.h"
#include "query/executor_internal.h"
#include "storage/key_encoding.h"

namespace ormdb::query::executor_internal {

// One aggregate's running state over the related rows of one parent.
class Accumulator {
 public:
  explicit Accumulator(const AggregatePlan& a) : a_(a) {}

  // Adds one related row's value (null for a count of rows: see AddRow).
  void Add(const Value& v) {
    if (v.is_null()) return;
    ++count_;
    switch (a_.fn) {
      case Aggregate::Fn::kCount:
        return;
      case Aggregate::Fn::kCountDistinct: {
        std::string key;
        storage::AppendKey(&key, v);
        distinct_.insert(std::move(key));
        return;
      }
      case Aggregate::Fn::kSum:
      case Aggregate::Fn::kAvg:
        if (v.type() == ValueType::kFloat64) {
          fsum_ += v.as_float64();
        } else {
          isum_ += v.type() == ValueType::kInt32 ? v.as_int32() : v.as_int64();
        }
        return;
      case Aggregate::Fn::kMin:
      case Aggregate::Fn::kMax: {
        if (best_.is_null()) {
          best_ = v;
          return;
        }
        int c = storage::CompareValues(v, best_);
        if (a_.fn == Aggregate::Fn::kMin ? c < 0 : c > 0) best_ = v;
        return;
      }
    }
  }

  // count(relation): a related row, whatever its values.
  void AddRow() { ++count_; }

  // The totals of a @maintain record: `count` values (or rows) adding up
  // to `sum`.
  void SetTotals(int64_t count, __int128 sum) {
    count_ = count;
    isum_ = sum;
  }

  // The value: SQL's rules (a count of nothing is 0, anything else of
  // nothing is null); an int64 sum that does not fit is INVALID_ARGUMENT.
  Result<Value> Finish(const std::string& holder, RowId parent) const {
    switch (a_.fn) {
      case Aggregate::Fn::kCount:
        return Value::Int64(count_);
      case Aggregate::Fn::kCountDistinct:
        return Value::Int64(static_cast<int64_t>(distinct_.size()));
      case Aggregate::Fn::kSum:
        if (count_ == 0) return Value();
        if (a_.result == ValueType::kFloat64) return Value::Float64(fsum_);
        if (isum_ > INT64_MAX || isum_ < INT64_MIN) {
          return InvalidArgument(a_.name + ": " + a_.text + " overflows int64 for " + holder +
                                 " row " + std::to_string(parent) +
                                 " (sum a float field, or use avg)");
        }
        return Value::Int64(static_cast<int64_t>(isum_));
      case Aggregate::Fn::kAvg:
        if (count_ == 0) return Value();
        if (a_.value_is_float) return Value::Float64(fsum_ / static_cast<double>(count_));
        return Value::Float64(static_cast<double>(isum_) / static_cast<double>(count_));
      case Aggregate::Fn::kMin:
      case Aggregate::Fn::kMax:
        return best_;
    }
    return Value();
  }

 private:
  const AggregatePlan& a_;
  int64_t count_ = 0;
  __int128 isum_ = 0;  // sums of up to 2^64 int64 values cannot overflow it
  double fsum_ = 0;
  Value best_;
  std::unordered_set<std::string> distinct_;
};

Status Executor::CountScanned(int a, uint64_t n) {
  scanned_ += n;
  if (stats_) (*stats_)[plan_->nodes.size() + a].examined += n;
  if (scanned_ <= opt_.budget.max_scanned_rows) return Status::Ok();
  const AggregatePlan& ap = plan_->aggregates[a];
  return BudgetExceeded(
      "budget exceeded: " + std::to_string(scanned_) + " scanned rows is over the limit of " +
      std::to_string(opt_.budget.max_scanned_rows) + " at " + plan_->nodes[ap.holder].path + "." +
      ap.name + " (aggregates cannot be cut short: a narrower where, or a larger budget)");
}

Result<const RowData*> Executor::AggregateRow(int a, RowId id) {
  const AggregatePlan& ap = plan_->aggregates[a];
  const EntityInfo& e = *ap.source.entity;
  if (const RowData** hit = cache_.Find(e.id.value, id)) return *hit;
  ORMDB_ASSIGN_OR_RETURN(auto rec, txn_.Get(e.id, id));
  if (!rec) return nullptr;
  if (e.uuid_id) return Decode(e, rec->bytes_in_txn, rec->version);
  // Only the fields the where and the value read.
  ORMDB_RETURN_IF_ERROR(catalog::DecodeEntityFields(rec->bytes_in_txn, e, plan_->schema->number(),
                                                    layouts_, run_->agg_wanted[a], &agg_view_,
                                                    &agg_probe_.row));
  agg_probe_.version = rec->version;
  return &agg_probe_;
}

Status Executor::Accumulate(int a, RowId id, const RowData& row, Accumulator* acc) {
  const AggregatePlan& ap = plan_->aggregates[a];
  ORMDB_ASSIGN_OR_RETURN(bool m, Matches(ap.source, id, row));
  if (!m) return Status::Ok();
  if (ap.value_path < 0) {
    acc->AddRow();
    return Status::Ok();
  }
  ORMDB_ASSIGN_OR_RETURN(Value v, EvalPath(ap.source, ap.value_path, id, row));
  acc->Add(v);
  return Status::Ok();
}

Result<std::optional<Value>> Executor::AggregateMaintained(int a, RowId parent) {
  const AggregatePlan& ap = plan_->aggregates[a];
  const catalog::MaintainedInfo& m = *ap.maintained;
  if (maintained_ok_[a] < 0) {
    ORMDB_ASSIGN_OR_RETURN(auto marker, txn_.Get(m.record_type, catalog::kMaintainedMarkerId));
    maintained_ok_[a] = marker && marker->bytes_in_txn == m.definition ? 1 : 0;
  }
  if (maintained_ok_[a] == 0) return std::optional<Value>();
  ORMDB_RETURN_IF_ERROR(CountScanned(a, 1));
  ORMDB_ASSIGN_OR_RETURN(auto rec, txn_.Get(m.record_type, parent));
  catalog::MaintainedRecord r;
  if (rec) {
    ORMDB_ASSIGN_OR_RETURN(r, catalog::DecodeMaintained(rec->bytes_in_txn, m.fields.size()));
  }
  Accumulator acc(ap);
  if (ap.maintained_field < 0) {
    acc.SetTotals(r.count, 0);
  } else if (rec) {
    acc.SetTotals(r.nonnull[ap.maintained_field], r.sums[ap.maintained_field]);
  }
  ORMDB_ASSIGN_OR_RETURN(Value v, acc.Finish(plan_->nodes[ap.holder].path, parent));
  return std::optional<Value>(std::move(v));
}

Result<Value> Executor::AggregateOne(int a, RowId parent) {
  const AggregatePlan& ap = plan_->aggregates[a];
  const Node& src = ap.source;
  if (src.access == Access::kChildIndex && ap.index_only) return AggregateFromIndex(a, parent);
  Accumulator acc(ap);
  std::vector<RowId> related;
  uint64_t entries = 0;
  if (src.access == Access::kChildIndex) {
    Range range =
        BuildRange(src, src.range, {Value::Int64(static_cast<int64_t>(parent))}, std::nullopt);
    if (!range.empty) {
      ORMDB_RETURN_IF_ERROR(txn_.ScanIndex(src.range.index->id, range.lower, range.upper,
                                           ScanDirection::kForward,
                                           [&](const storage::IndexEntry& e) {
                                             ++entries;
                                             if (!ap.count_only) related.push_back(e.id);
                                             return true;
                                           }));
    }
  } else if (src.access == Access::kEdgeRange) {
    ORMDB_RETURN_IF_ERROR(txn_.ScanEdges(
        src.edge,
        src.edge_forward ? storage::EdgeDirection::kForward : storage::EdgeDirection::kBackward,
        parent,
        [&](RowId to) {
          ++entries;
          if (!ap.count_only) related.push_back(to);
          return true;
        },
        ScanDirection::kForward));
  } else {
    return Internal("aggregate " + ap.name + " has no per-parent access path");
  }
  ORMDB_RETURN_IF_ERROR(CountScanned(a, entries));
  if (ap.count_only) {
    return Value::Int64(static_cast<int64_t>(entries));
  }
  std::sort(related.begin(), related.end());
  for (RowId id : related) {
    ORMDB_ASSIGN_OR_RETURN(const RowData* row, AggregateRow(a, id));
    if (row == nullptr) continue;
    ORMDB_RETURN_IF_ERROR(Accumulate(a, id, *row, &acc));
  }
  return acc.Finish(plan_->nodes[ap.holder].path, parent);
}

int Executor::ValuePosition(const AggregatePlan& ap) {
  const catalog::IndexInfo& ix = *ap.source.range.index;
  if (ap.value_path < 0) return 0;  // a count: the reference is never null
  const BoundPath& p = ap.source.paths[ap.value_path];
  if (!p.hops.empty() || p.terminal != BoundPath::Terminal::kField) return -1;
  auto at = std::find(ix.fields.begin(), ix.fields.end(), p.field);
  return at == ix.fields.end() ? -1 : static_cast<int>(at - ix.fields.begin());
}

Result<Value> Executor::AggregateFromIndex(int a, RowId parent) {
  const AggregatePlan& ap = plan_->aggregates[a];
  const Node& src = ap.source;
  const catalog::IndexInfo& ix = *src.range.index;
  Range range =
      BuildRange(src, src.range, {Value::Int64(static_cast<int64_t>(parent))}, std::nullopt);
  Accumulator acc(ap);
  if (range.empty) return acc.Finish(plan_->nodes[ap.holder].path, parent);
  struct Entry {
    RowId id;
    std::string_view values;  // valid for the read transaction
    bool truncated;
  };
  std::vector<Entry> entries;
  const EntityInfo& e = *src.entity;
  // The common case: no where, and the value a field of the entry (or a
  // count). Values are decoded in the scan and, but for float sums (which
  // add in id order, as the row path does, to agree to the bit), added at
  // once; only entries too long for the key are kept to read their rows.
  const int pos = ValuePosition(ap);
  if (!src.has_where && pos >= 0) {
    uint64_t scanned = 0;
    std::vector<std::pair<RowId, Value>> floats;
    Status st;
    ORMDB_RETURN_IF_ERROR(txn_.ScanIndex(ix.id, range.lower, range.upper, ScanDirection::kForward,
                                         [&](const storage::IndexEntry& en) {
                                           ++scanned;
                                           if (en.truncated) {
                                             entries.push_back({en.id, en.value_part_in_txn, true});
                                             return true;
                                           }
                                           std::string_view in = en.value_part_in_txn;
                                           Result<Value> v = Value();
                                           for (int k = 0; k <= pos && v.ok(); ++k) {
                                             v = storage::DecodeKey(
                                                 &in, e.fields[ix.fields[k]].physical);
                                           }
                                           if (!v.ok()) {
                                             st = v.status();
                                             return false;
                                           }
                                           if (ap.value_is_float) {
                                             floats.emplace_back(en.id, std::move(*v));
                                           } else if (ap.value_path < 0) {
                                             acc.AddRow();
                                           } else {
                                             acc.Add(*v);
                                           }
                                           return true;
                                         }));
    ORMDB_RETURN_IF_ERROR(st);
    ORMDB_RETURN_IF_ERROR(CountScanned(a, scanned));
    std::sort(floats.begin(), floats.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    for (const auto& [id, v] : floats) acc.Add(v);
    for (const Entry& en : entries) {
      ORMDB_ASSIGN_OR_RETURN(const RowData* row, AggregateRow(a, en.id));
      if (row != nullptr) ORMDB_RETURN_IF_ERROR(Accumulate(a, en.id, *row, &acc));
    }
    return acc.Finish(plan_->nodes[ap.holder].path, parent);
  }
  ORMDB_RETURN_IF_ERROR(txn_.ScanIndex(
      ix.id, range.lower, range.upper, ScanDirection::kForward, [&](const storage::IndexEntry& en) {
        entries.push_back({en.id, en.value_part_in_txn, en.truncated});
        return true;
      }));
  ORMDB_RETURN_IF_ERROR(CountScanned(a, entries.size()));
  // In id order, as the row path sums (float sums agree to the bit).
  std::sort(entries.begin(), entries.end(),
            [](const Entry& x, const Entry& y) { return x.id < y.id; });
  RowData& probe = agg_probe_;
  probe.row.fields.assign(e.fields.size(), Value());
  for (const Entry& en : entries) {
    const RowData* row = &probe;
    if (en.truncated) {
      // The values did not fit the key: read them from the row.
      ORMDB_ASSIGN_OR_RETURN(row, AggregateRow(a, en.id));
      if (row == nullptr) continue;
    } else {
      std::string_view in = en.values;
      for (size_t f : ix.fields) {
        ORMDB_ASSIGN_OR_RETURN(probe.row.fields[f], storage::DecodeKey(&in, e.fields[f].physical));
      }
    }
    ORMDB_RETURN_IF_ERROR(Accumulate(a, en.id, *row, &acc));
  }
  return acc.Finish(plan_->nodes[ap.holder].path, parent);
}

Status Executor::AggregateAllGroups(int a) {
  const AggregatePlan& ap = plan_->aggregates[a];
  const Node& src = ap.source;
  const EntityInfo& e = *src.entity;
  std::unordered_map<RowId, Accumulator> groups;
  struct Scanned {
    RowId id;
    std::string_view bytes;
    Version version;
  };
  std::vector<Scanned> batch;
  RowId from = 0;
  bool more = true;
  RowData probe;
  storage::RowView view;
  while (more) {
    more = false;
    batch.clear();
    ORMDB_RETURN_IF_ERROR(txn_.ScanRows(
        e.id, from, ScanDirection::kForward, [&](RowId id, const storage::RowRecord& rec) {
          if (batch.size() == 4096) {
            more = true;
            from = id;
            return false;
          }
          batch.push_back(Scanned{id, rec.bytes_in_txn, rec.version});
          return true;
        }));
    ORMDB_RETURN_IF_ERROR(CountScanned(a, batch.size()));
    // Rows are decoded after the scan: a where may read other rows.
    for (const Scanned& sc : batch) {
      if (e.uuid_id) {
        ORMDB_ASSIGN_OR_RETURN(
            probe.row, catalog::DecodeEntityRow(sc.bytes, e, plan_->schema->number(), layouts_));
      } else {
        ORMDB_RETURN_IF_ERROR(catalog::DecodeEntityFields(sc.bytes, e, plan_->schema->number(),
                                                          layouts_, run_->agg_wanted[a], &view,
                                                          &probe.row));
      }
      probe.version = sc.version;
      const Value& ref = probe.row.fields[src.ref_field];
      if (ref.is_null()) continue;
      auto [it, added] = groups.try_emplace(static_cast<RowId>(ref.as_int64()), ap);
      (void)added;
      ORMDB_RETURN_IF_ERROR(Accumulate(a, sc.id, probe, &it->second));
    }
  }
  auto& values = agg_values_[a];
  for (auto& [parent, acc] : groups) {
    ORMDB_ASSIGN_OR_RETURN(Value v, acc.Finish(plan_->nodes[ap.holder].path, parent));
    values.emplace(parent, std::move(v));
  }
  agg_grouped_[a] = true;
  return Status::Ok();
}

Result<Value> Executor::AggregateValue(int a, RowId parent) {
  auto& values = agg_values_[a];
  if (auto it = values.find(parent); it != values.end()) return it->second;
  const AggregatePlan& ap = plan_->aggregates[a];
  auto start = StatsClock();
  NodeStats* ns = stats_ ? &(*stats_)[plan_->nodes.size() + a] : nullptr;
  if (ns) {
    ns->run = true;
    ++ns->parents;
    ++ns->rows;
  }
  Value v;
  std::optional<Value> kept;
  if (ap.maintained != nullptr) {
    ORMDB_ASSIGN_OR_RETURN(kept, AggregateMaintained(a, parent));
  }
  if (kept) {
    v = std::move(*kept);
  } else if (ap.source.access == Access::kChildScanHash) {
    if (!agg_grouped_[a]) {
      if (ns) ++ns->batches;
      ORMDB_RETURN_IF_ERROR(AggregateAllGroups(a));
    }
    if (auto it = values.find(parent); it != values.end()) {
      v = it->second;
    } else {
      ORMDB_ASSIGN_OR_RETURN(v, Accumulator(ap).Finish(plan_->nodes[ap.holder].path, parent));
    }
  } else {
    if (ns) ++ns->batches;
    ORMDB_ASSIGN_OR_RETURN(v, AggregateOne(a, parent));
  }
  if (ns) ns->micros += Micros(start);
  values.emplace(parent, v);
  return v;
}

Status Executor::ComputeAggregates() {
  const Plan& p = *plan_;
  for (size_t a = 0; a < p.aggregates.size(); ++a) {
    const int holder = p.aggregates[a].holder;
    const NodeBlock& nb = out_->nodes[holder];
    if (!nb.processed) continue;
    if (stats_) (*stats_)[p.nodes.size() + a].run = true;
    const EntityBlock& b = out_->entities[nb.block];
    std::vector<RowId> ids;
    ids.reserve(lists_.dist_rows[holder].size());
    for (uint32_t row : lists_.dist_rows[holder]) ids.push_back(b.rows[row]);
    std::sort(ids.begin(), ids.end());
    for (RowId id : ids) {
      ORMDB_RETURN_IF_ERROR(AggregateValue(static_cast<int>(a), id).status());
    }
  }
  return Status::Ok();
}

std::vector<size_t> Executor::AggregateFields(const AggregatePlan& a) {
  return FilterFields(a.source);
}

}  // namespace ormdb::query::executor_internal
