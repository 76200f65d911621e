// The executor's access paths: the key range of an index for a node's
// values and cursor, range scans, offering one row to a candidate list, and
// resolving external ids to row ids.
#include <algorithm>
#include <cmath>

#include "query/executor_internal.h"
#include "query/limit_math.h"
#include "storage/key_encoding.h"
#include "storage/keys.h"

namespace ormdb::query::executor_internal {
namespace {

// A value converted to a field's stored type for an index key; nullopt when
// it has no exact counterpart there (then no stored value equals it).
std::optional<Value> ToPhysical(const Value& v, ValueType t) {
  if (v.type() == t) return v;
  if (v.type() == ValueType::kInt64) {
    int64_t i = v.as_int64();
    if (t == ValueType::kInt32) {
      if (i < INT32_MIN || i > INT32_MAX) return std::nullopt;
      return Value::Int32(static_cast<int32_t>(i));
    }
    if (t == ValueType::kFloat64) {
      double d = static_cast<double>(i);
      if (static_cast<long double>(d) != static_cast<long double>(i)) return std::nullopt;
      return Value::Float64(d);
    }
    if (t == ValueType::kTimestamp) return Value::Timestamp(i);
  }
  if (v.type() == ValueType::kFloat64 && (t == ValueType::kInt64 || t == ValueType::kInt32)) {
    double d = v.as_float64();
    if (std::isnan(d) || std::floor(d) != d || d < -9.2e18 || d > 9.2e18) return std::nullopt;
    return ToPhysical(Value::Int64(static_cast<int64_t>(d)), t);
  }
  if (v.type() == ValueType::kString && t == ValueType::kString) return v;
  return std::nullopt;
}

// A bound cut to the value part an index key holds (`max_bytes`, the data
// file's limit): a truncated entry's key starts with the cut value.
std::string BoundForIndex(std::string s, size_t max_bytes) {
  if (s.size() > max_bytes) s.resize(max_bytes);
  return s;
}

}  // namespace

Range Executor::BuildRange(const Node& n, const IndexRangePlan& r, const std::vector<Value>& eq,
                           const std::optional<CursorPosition>& cursor) {
  const size_t max_bytes = txn_.max_index_value_bytes();
  Range out;
  const catalog::IndexInfo& ix = *r.index;
  std::string prefix;
  for (size_t k = 0; k < eq.size(); ++k) {
    ValueType t = n.entity->fields[ix.fields[k]].physical;
    std::optional<Value> v = ToPhysical(eq[k], t);
    if (!v) {
      out.empty = true;
      return out;
    }
    storage::AppendKey(&prefix, *v);
  }
  out.lower = prefix;
  out.upper = storage::PrefixSuccessor(prefix);
  size_t next = eq.size();
  if (next < ix.fields.size()) {
    ValueType t = n.entity->fields[ix.fields[next]].physical;
    if (r.like_slot >= 0) {
      const std::string& lp = slots_[r.like_slot].pattern->prefix();
      if (!lp.empty() && t == ValueType::kString) {
        std::string enc = prefix;
        storage::AppendKey(&enc, Value::String(lp));
        enc.resize(enc.size() - 2);  // drop the terminator: every extension matches
        out.lower = enc;
        out.upper = storage::PrefixSuccessor(enc);
      }
    }
    if (r.lower_slot >= 0) {
      if (std::optional<Value> v = ToPhysical(slots_[r.lower_slot].value, t)) {
        std::string enc = prefix;
        storage::AppendKey(&enc, *v);
        out.lower = std::max(out.lower, enc);
      }
    }
    if (r.upper_slot >= 0) {
      if (std::optional<Value> v = ToPhysical(slots_[r.upper_slot].value, t)) {
        std::string enc = prefix;
        storage::AppendKey(&enc, *v);
        std::string up = r.upper_inclusive ? storage::PrefixSuccessor(enc) : enc;
        if (!up.empty() && (out.upper.empty() || up < out.upper)) out.upper = up;
      }
    }
  }
  // Seek past a cursor on the keys the index orders by.
  if (cursor && !cursor->start && r.order_covered > 0) {
    std::string enc = prefix;
    bool ok = true;
    for (size_t k = 0; k < r.order_covered && ok; ++k) {
      ValueType t = n.entity->fields[ix.fields[next + k]].physical;
      const Value& cv = cursor->key[k];
      if (cv.is_null()) {
        storage::AppendKey(&enc, cv);
        continue;
      }
      std::optional<Value> v = ToPhysical(cv, t);
      if (!v) {
        ok = false;
        break;
      }
      storage::AppendKey(&enc, *v);
    }
    if (ok) {
      if (!r.backward) {
        out.lower = std::max(out.lower, BoundForIndex(enc, max_bytes));
      } else {
        std::string up = storage::PrefixSuccessor(BoundForIndex(enc, max_bytes));
        if (!up.empty() && (out.upper.empty() || up < out.upper)) out.upper = up;
      }
    }
  }
  out.lower = BoundForIndex(out.lower, max_bytes);
  if (out.upper.size() > max_bytes) {
    out.upper = storage::PrefixSuccessor(BoundForIndex(out.upper, max_bytes));
  }
  if (!out.upper.empty() && out.lower >= out.upper) out.empty = true;
  return out;
}

Status Executor::ScanRange(const Node& n, int idx, const IndexRangePlan& r, const Range& range,
                           const std::optional<CursorPosition>& cursor, int64_t want,
                           std::vector<Candidate>* out, NodeStats* ns) {
  if (range.empty) return Status::Ok();
  Status st;
  size_t covered = r.order_covered;
  std::vector<Value> boundary;
  bool last_truncated = false;
  struct Entry {
    RowId id;
    bool truncated;
    std::string_view values;  // valid for the read transaction
  };
  std::vector<Entry> entries;
  // Collect ids first: the visitor must not read other rows while the
  // index cursor is open on the same table's cursor slot.
  auto visit_batch = [&](std::string_view lower, std::string_view upper, size_t max,
                         std::string* resume) -> Status {
    entries.clear();
    resume->clear();
    return txn_.ScanIndex(r.index->id, lower, upper,
                          r.backward ? ScanDirection::kBackward : ScanDirection::kForward,
                          [&](const storage::IndexEntry& e) {
                            if (entries.size() == max) {
                              *resume = std::string(e.value_part_in_txn);
                              return false;
                            }
                            entries.push_back({e.id, e.truncated, e.value_part_in_txn});
                            return true;
                          });
  };
  std::string lower = range.lower, upper = range.upper;
  size_t batch = covered > 0 ? RangeBatch(want) : SIZE_MAX;
  // A batch resumes at the value part of the entry that did not fit, so it
  // reads again the entries of that value part the batch before it read.
  std::vector<RowId> seen;
  // An order through a reference (acted_in ordered by movie.year) reads the
  // referenced row of every entry. When the entries give the reference, the
  // rows' lookups are announced first, so that their memory loads overlap.
  int hop_field = -1;
  const EntityInfo* hop_target = nullptr;
  if (covered == 0 && r.index_only) {
    for (const OrderPlan& o : n.order) {
      const BoundPath& p = n.paths[o.path];
      if (p.hops.empty()) continue;
      hop_field = static_cast<int>(p.hops[0]);
      hop_target = p.entities[1];
      break;
    }
  }
  std::vector<RowId> hop_ids;
  while (true) {
    std::string resume;
    ORMDB_RETURN_IF_ERROR(visit_batch(lower, upper, batch, &resume));
    // Room for the rows the batch's entries build (and with hop_field, the
    // rows they name).
    if (r.index_only) cache_.Reserve(cache_.size() + entries.size() * (hop_field >= 0 ? 2 : 1));
    if (hop_field >= 0) {
      hop_ids.clear();
      for (const auto& [id, truncated, values] : entries) {
        if (truncated) continue;
        ORMDB_RETURN_IF_ERROR(RowFromEntry(n, r, id, values));
        const RowData* const* row = cache_.Find(n.entity->id.value, id);
        if (row == nullptr || *row == nullptr) continue;
        const Value& ref = (*row)->row.fields[hop_field];
        if (ref.type() == ValueType::kInt64) hop_ids.push_back(static_cast<RowId>(ref.as_int64()));
      }
      txn_.PrefetchRows(hop_target->id, hop_ids);
    }
    bool stop = false;
    for (const auto& [id, truncated, values] : entries) {
      if (!seen.empty() && std::binary_search(seen.begin(), seen.end(), id)) continue;
      CountEntry(ns);
      // (With hop_field, the pass above built the rows.)
      if (r.index_only && !truncated && hop_field < 0) {
        ORMDB_RETURN_IF_ERROR(RowFromEntry(n, r, id, values));
      }
      if (covered == 0) {
        // The index does not give the order: keep the best `want` rows.
        ORMDB_RETURN_IF_ERROR(Offer(n, idx, id, cursor ? &*cursor : nullptr, want, want >= 0, out));
        continue;
      }
      ORMDB_ASSIGN_OR_RETURN(const RowData* row, GetRow(*n.entity, id));
      if (row == nullptr) continue;
      Candidate c;
      ORMDB_RETURN_IF_ERROR(MakeCandidate(n, id, row, &c));
      if (want >= 0 && covered > 0 && static_cast<int64_t>(out->size()) >= want && !truncated &&
          !last_truncated) {
        bool same = true;
        for (size_t k = 0; k < covered; ++k) {
          if (storage::CompareValues(c.key[k], boundary[k]) != 0) same = false;
        }
        if (!same) {
          stop = true;
          break;
        }
      }
      ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, id, *row));
      if (!m || (cursor && !AfterCursor(n, c, *cursor))) continue;
      last_truncated = truncated;
      if (covered > 0) boundary.assign(c.key.begin(), c.key.begin() + covered);
      out->push_back(std::move(c));
    }
    if (stop || resume.empty()) break;
    seen.clear();
    for (const Entry& e : entries) {
      if (e.values == resume) seen.push_back(e.id);
    }
    std::sort(seen.begin(), seen.end());
    // Continue from the entry that did not fit (its value part; entries
    // of the same value part are deduplicated by `seen`).
    if (r.backward) {
      upper = storage::PrefixSuccessor(resume);
    } else {
      lower = resume;
    }
    batch = DoubleBatch(batch);
  }
  return Status::Ok();
}

Status Executor::RowFromEntry(const Node& n, const IndexRangePlan& r, RowId id,
                              std::string_view values) {
  if (cache_.contains(n.entity->id.value, id)) return Status::Ok();
  RowData& data = rows_->Add();
  data.row.fields.resize(n.entity->fields.size());
  ORMDB_RETURN_IF_ERROR(
      DecodeEntry(*n.entity, *r.index, r.index->fields.size(), values, &data.row));
  cache_.Emplace(n.entity->id.value, id, &data);
  return Status::Ok();
}

Status Executor::DecodeEntry(const EntityInfo& e, const catalog::IndexInfo& ix, size_t count,
                             std::string_view values, catalog::DecodedRow* row) {
  for (size_t k = 0; k < count; ++k) {
    const size_t f = ix.fields[k];
    ORMDB_ASSIGN_OR_RETURN(row->fields[f], storage::DecodeKey(&values, e.fields[f].physical));
  }
  return Status::Ok();
}

Status Executor::Offer(const Node& n, int idx, RowId id, const CursorPosition* cursor, int64_t want,
                       bool top_n, std::vector<Candidate>* list) {
  const uint32_t type = n.entity->id.value;
  const RowData** cached = cache_.Find(type, id);
  const RowData* row = nullptr;
  std::string_view bytes;
  Version version = 0;
  if (cached != nullptr) {
    row = *cached;
    if (row == nullptr) return Status::Ok();
  } else {
    ORMDB_ASSIGN_OR_RETURN(auto rec, txn_.Get(n.entity->id, id));
    if (!rec) {
      cache_.Emplace(type, id, nullptr);
      return Status::Ok();
    }
    bytes = rec->bytes_in_txn;
    version = rec->version;
    if (!n.entity->uuid_id && cursor == nullptr &&
        QuickRejects(n, idx, bytes, top_n ? list : nullptr, want)) {
      return Status::Ok();
    }
    if (n.entity->uuid_id) {
      ORMDB_ASSIGN_OR_RETURN(row, Decode(*n.entity, bytes, version));
      cache_.Emplace(type, id, row);
    } else {
      ORMDB_RETURN_IF_ERROR(catalog::DecodeEntityFields(bytes, *n.entity, plan_->schema->number(),
                                                        layouts_, run_->wanted[idx], &view_,
                                                        &probe_.row));
      probe_.version = version;
      row = &probe_;
    }
  }
  ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, id, *row));
  if (!m) return Status::Ok();
  // The key goes into scratch space first: most rows of a top-N do not
  // enter it and cost no allocation.
  Candidate& c = scratch_;
  ORMDB_RETURN_IF_ERROR(MakeCandidate(n, id, row, &c));
  if (cursor && !AfterCursor(n, c, *cursor)) return Status::Ok();
  auto worse = [&](const Candidate& a, const Candidate& b) {
    return CompareKeys(n, a.key, a.ext_id, b.key, b.ext_id) < 0;
  };
  if (top_n && static_cast<int64_t>(list->size()) >= want &&
      (want == 0 || !worse(c, list->front()))) {
    return Status::Ok();
  }
  if (row == &probe_) {
    ORMDB_ASSIGN_OR_RETURN(row, Decode(*n.entity, bytes, version));
    cache_.Emplace(type, id, row);
  }
  c.row = row;
  list->push_back(std::move(c));  // scratch_ keeps no key: it is rebuilt per row
  if (top_n) {
    std::push_heap(list->begin(), list->end(), worse);
    if (static_cast<int64_t>(list->size()) > want) {
      std::pop_heap(list->begin(), list->end(), worse);
      list->pop_back();
    }
  }
  return Status::Ok();
}

Result<std::optional<RowId>> Executor::ResolveId(const EntityInfo& e, const Value& v) {
  if (!e.uuid_id) {
    std::optional<Value> i = ToPhysical(v, ValueType::kInt64);
    if (!i || i->as_int64() <= 0) return std::optional<RowId>();
    return std::optional<RowId>(static_cast<RowId>(i->as_int64()));
  }
  const catalog::IndexInfo* ix = nullptr;
  for (const catalog::IndexInfo& i : e.indexes) {
    if (i.id_index) ix = &i;
  }
  if (ix == nullptr || v.type() != ValueType::kUuid) return std::optional<RowId>();
  std::string key;
  storage::AppendKey(&key, v);
  std::optional<RowId> found;
  ORMDB_RETURN_IF_ERROR(txn_.ScanIndex(ix->id, key, storage::PrefixSuccessor(key),
                                       ScanDirection::kForward, [&](const storage::IndexEntry& en) {
                                         found = en.id;
                                         return false;
                                       }));
  return found;
}

}  // namespace ormdb::query::executor_internal
