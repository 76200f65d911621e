#include "query/statistics.h"

#include <set>
#include <sstream>
#include <string>
#include <variant>

#include "catalog/rows.h"
#include "storage/key_encoding.h"

namespace ormdb::query {
namespace {

constexpr uint64_t kSampleEntries = 10000;
// Change sets replayed after which the saved copy is written again.
constexpr uint64_t kResaveAfterChanges = 10000;

const catalog::IndexInfo* ReferenceIndex(const catalog::EntityInfo& e, size_t field) {
  for (const catalog::IndexInfo& ix : e.indexes) {
    if (!ix.id_index && ix.ready && !ix.fields.empty() && ix.fields[0] == field) return &ix;
  }
  return nullptr;
}

}  // namespace

void Statistics::ParentCounts::Add(RowId parent, int delta) {
  if (loaded) {
    // No per-parent counts: the children stay exact, the rest as counted.
    if (delta < 0 && total == 0) return;
    total = static_cast<uint64_t>(static_cast<int64_t>(total) + delta);
    return;
  }
  uint32_t& n = per_parent[parent];
  if (delta < 0 && n == 0) return;
  n = static_cast<uint32_t>(static_cast<int64_t>(n) + delta);
  total = static_cast<uint64_t>(static_cast<int64_t>(total) + delta);
  if (n > max) max = n;
  if (n == 0) per_parent.erase(parent);
}

bool Statistics::ParentCounts::Stale() const {
  if (!loaded) return false;
  uint64_t diff = total > saved_total ? total - saved_total : saved_total - total;
  return diff * 4 > saved_total;
}

// The saved copy is text, one count per line after a header and the version
// it was counted at:
//   ormdb-statistics 1
//   version V
//   ref ENTITY FIELD CHILDREN MAX PARENTS COUNTED_CHILDREN
//   edge RELATION FORWARD(0|1) CHILDREN MAX PARENTS COUNTED_CHILDREN
//   sample INDEX DISTINCT ROWS_WHEN_SAMPLED
// COUNTED_CHILDREN is the children when the relation was last read whole,
// so a copy saved again after a catch-up does not move the staleness bound.
void Statistics::LoadSavedLocked() {
  auto txn = store_->BeginRead();
  if (!txn.ok()) return;
  auto saved = (*txn)->GetMeta(kSavedKey);
  if (!saved.ok() || !saved->has_value()) return;
  std::istringstream in(**saved);
  std::string word;
  int format = 0;
  Version version = 0;
  if (!(in >> word >> format) || word != "ormdb-statistics" || format != 1) return;
  if (!(in >> word >> version) || word != "version") return;
  if (version > applied_ || version < store_->oldest_readable_version()) return;
  std::map<std::pair<uint32_t, uint32_t>, ParentCounts> refs;
  std::map<std::pair<uint32_t, bool>, ParentCounts> edges;
  std::map<uint32_t, Sampled> sampled;
  while (in >> word) {
    if (word == "ref" || word == "edge") {
      uint32_t a = 0, b = 0;
      ParentCounts c;
      if (!(in >> a >> b >> c.total >> c.max >> c.saved_parents >> c.saved_total)) return;
      c.counted = c.loaded = true;
      if (word == "ref") {
        refs[{a, b}] = std::move(c);
      } else {
        edges[{a, b != 0}] = std::move(c);
      }
    } else if (word == "sample") {
      uint32_t index = 0;
      Sampled sample;
      if (!(in >> index >> sample.distinct >> sample.rows_when_sampled)) return;
      sampled[index] = sample;
    } else {
      return;  // not a copy this version wrote: count afresh
    }
  }
  refs_ = std::move(refs);
  edges_ = std::move(edges);
  sampled_ = std::move(sampled);
  applied_ = version;
}

void Statistics::SaveLocked() {
  std::ostringstream out;
  out << "ormdb-statistics 1\nversion " << applied_ << "\n";
  auto counts = [&](const ParentCounts& c) {
    out << c.total << ' ' << c.max << ' ' << c.parents() << ' '
        << (c.loaded ? c.saved_total : c.total) << '\n';
  };
  for (const auto& [key, c] : refs_) {
    if (!c.counted) continue;
    out << "ref " << key.first << ' ' << key.second << ' ';
    counts(c);
  }
  for (const auto& [key, c] : edges_) {
    out << "edge " << key.first << ' ' << (key.second ? 1 : 0) << ' ';
    counts(c);
  }
  for (const auto& [index, sample] : sampled_) {
    out << "sample " << index << ' ' << sample.distinct << ' ' << sample.rows_when_sampled << '\n';
  }
  // Only a cache: a failed write (a read-only store, shutdown) leaves the
  // next process to count again.
  replayed_since_save_ = 0;
  saving_ = store_->SubmitMaintenance(
      [text = out.str()](storage::WriteTxn& txn) { return txn.PutMeta(kSavedKey, text); });
}

uint64_t Statistics::recounts() {
  std::lock_guard<std::mutex> lock(mu_);
  return recounts_;
}

Status Statistics::WaitSaved() {
  std::future<Result<Version>> saving;
  {
    std::lock_guard<std::mutex> lock(mu_);
    saving = std::move(saving_);
  }
  if (!saving.valid()) return Status::Ok();
  return saving.get().status();
}

Status Statistics::CatchUpLocked() {
  Version current = store_->current_version();
  if (!started_) {
    started_ = true;
    applied_ = current;
    LoadSavedLocked();  // from the saved copy's version, if there is one
  }
  if (current == applied_) return Status::Ok();
  auto schema = catalog_->current();
  catalog::LayoutLookup layouts = catalog_->layouts();
  Status st = store_->ReadChanges(applied_, [&](const storage::ChangeSet& cs) {
    for (const storage::ChangeRecord& rec : cs.records) {
      if (const auto* row = std::get_if<storage::RowDelta>(&rec)) {
        auto it = rows_.find(row->type.value);
        int delta = (row->after ? 1 : 0) - (row->before ? 1 : 0);
        if (it != rows_.end() && delta != 0) it->second += delta;
        const catalog::EntityInfo* e = schema ? schema->EntityById(row->type) : nullptr;
        if (e == nullptr) continue;
        for (size_t i = 0; i < e->fields.size(); ++i) {
          if (e->fields[i].type != catalog::FieldType::kRef) continue;
          auto rit = refs_.find({e->id.value, e->fields[i].id.value});
          if (rit == refs_.end()) continue;
          auto ref_of = [&](const std::optional<std::string>& bytes) -> std::optional<RowId> {
            if (!bytes) return std::nullopt;
            auto d = catalog::DecodeEntityRow(*bytes, *e, schema->number(), layouts);
            if (!d.ok() || d->fields[i].is_null()) return std::nullopt;
            return static_cast<RowId>(d->fields[i].as_int64());
          };
          std::optional<RowId> before = ref_of(row->before), after = ref_of(row->after);
          if (before == after) continue;
          if (before) rit->second.Add(*before, -1);
          if (after) rit->second.Add(*after, +1);
        }
      } else if (const auto* edge = std::get_if<storage::EdgeDelta>(&rec)) {
        int delta = edge->linked ? 1 : -1;
        auto f = edges_.find({edge->relation.value, true});
        if (f != edges_.end()) f->second.Add(edge->from, delta);
        auto b = edges_.find({edge->relation.value, false});
        if (b != edges_.end()) b->second.Add(edge->to, delta);
      }
    }
    applied_ = cs.version;
    ++replayed_since_save_;
    return true;
  });
  // Keep the saved copy near the present, so that a new process replays
  // little of the change log.
  if (st.ok() && replayed_since_save_ >= kResaveAfterChanges &&
      (!refs_.empty() || !edges_.empty() || !sampled_.empty())) {
    SaveLocked();
  }
  if (st.code() == ErrorCode::kHistoryLost) {
    // The log moved past us (a vacuum between two calls): count again.
    rows_.clear();
    refs_.clear();
    edges_.clear();
    sampled_.clear();
    applied_ = current;
    return Status::Ok();
  }
  return st;
}

Status Statistics::CatchUp() {
  std::lock_guard<std::mutex> lock(mu_);
  return CatchUpLocked();
}

Result<uint64_t> Statistics::RowsLocked(EntityTypeId entity) {
  ORMDB_RETURN_IF_ERROR(CatchUpLocked());
  auto it = rows_.find(entity.value);
  if (it != rows_.end()) return it->second;
  // The store's live row counters (no scan). They are read at the newest
  // version, which a commit racing with this call may have moved past
  // applied_: the count is then off by that commit's rows, an estimate's
  // error until the next recount.
  ORMDB_ASSIGN_OR_RETURN(std::vector<storage::RowCount> counts, store_->RowCounts());
  uint64_t n = 0;
  for (const storage::RowCount& c : counts) {
    if (c.type == entity) n = c.rows;
  }
  rows_[entity.value] = n;
  return n;
}

Result<uint64_t> Statistics::Rows(EntityTypeId entity) {
  std::lock_guard<std::mutex> lock(mu_);
  return RowsLocked(entity);
}

Result<bool> Statistics::CountsStillFit(
    std::span<const std::pair<EntityTypeId, uint64_t>> assumed) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto [entity, rows] : assumed) {
    ORMDB_ASSIGN_OR_RETURN(uint64_t now, RowsLocked(entity));
    uint64_t hi = std::max(now, rows), lo = std::min(now, rows);
    if (hi > 64 && hi > 2 * lo) return false;
  }
  return true;
}

Result<Fanout> Statistics::ReferenceFanout(EntityTypeId child, FieldId field, EntityTypeId parent) {
  std::lock_guard<std::mutex> lock(mu_);
  ORMDB_ASSIGN_OR_RETURN(uint64_t parent_rows, RowsLocked(parent));
  auto key = std::make_pair(child.value, field.value);
  auto it = refs_.find(key);
  if (it != refs_.end() && it->second.Stale()) {
    refs_.erase(it);
    it = refs_.end();
  }
  if (it == refs_.end()) {
    auto schema = catalog_->current();
    const catalog::EntityInfo* e = schema ? schema->EntityById(child) : nullptr;
    ParentCounts counts;
    if (e != nullptr) {
      int pos = -1;
      for (size_t i = 0; i < e->fields.size(); ++i) {
        if (e->fields[i].id == field) pos = static_cast<int>(i);
      }
      const catalog::IndexInfo* ix = pos < 0 ? nullptr : ReferenceIndex(*e, pos);
      if (ix != nullptr) {
        ORMDB_ASSIGN_OR_RETURN(auto txn, store_->BeginRead(applied_));
        Status bad;
        ORMDB_RETURN_IF_ERROR(txn->ScanIndex(
            ix->id, "", "", storage::ScanDirection::kForward, [&](const storage::IndexEntry& en) {
              std::string_view part = en.value_part_in_txn;
              auto v = storage::DecodeKey(&part, ValueType::kInt64);
              if (!v.ok()) {
                bad = v.status();
                return false;
              }
              if (!v->is_null()) counts.Add(static_cast<RowId>(v->as_int64()), 1);
              return true;
            }));
        ORMDB_RETURN_IF_ERROR(bad);
        counts.counted = true;
      }
    }
    it = refs_.emplace(key, std::move(counts)).first;
    if (it->second.counted) {
      ++recounts_;
      SaveLocked();
    }
  }
  const ParentCounts& c = it->second;
  Fanout f;
  f.parents = c.parents();
  f.children = c.total;
  f.max = c.max;
  f.average =
      parent_rows == 0 ? 0 : static_cast<double>(c.total) / static_cast<double>(parent_rows);
  return f;
}

Result<Fanout> Statistics::EdgeFanout(RelationId relation, bool forward, EntityTypeId from_entity) {
  std::lock_guard<std::mutex> lock(mu_);
  ORMDB_ASSIGN_OR_RETURN(uint64_t from_rows, RowsLocked(from_entity));
  auto key = std::make_pair(relation.value, forward);
  auto it = edges_.find(key);
  if (it != edges_.end() && it->second.Stale()) {
    edges_.erase(it);
    it = edges_.end();
  }
  if (it == edges_.end()) {
    ParentCounts counts;
    ORMDB_ASSIGN_OR_RETURN(auto txn, store_->BeginRead(applied_));
    std::vector<RowId> froms;
    ORMDB_RETURN_IF_ERROR(txn->ScanRows(from_entity, 0, storage::ScanDirection::kForward,
                                        [&](RowId id, const storage::RowRecord&) {
                                          froms.push_back(id);
                                          return true;
                                        }));
    for (RowId from : froms) {
      ORMDB_RETURN_IF_ERROR(txn->ScanEdges(
          relation, forward ? storage::EdgeDirection::kForward : storage::EdgeDirection::kBackward,
          from, [&](RowId) {
            counts.Add(from, 1);
            return true;
          }));
    }
    counts.counted = true;
    it = edges_.emplace(key, std::move(counts)).first;
    ++recounts_;
    SaveLocked();
  }
  const ParentCounts& c = it->second;
  Fanout f;
  f.parents = c.parents();
  f.children = c.total;
  f.max = c.max;
  f.average = from_rows == 0 ? 0 : static_cast<double>(c.total) / static_cast<double>(from_rows);
  return f;
}

Result<uint64_t> Statistics::Distinct(const catalog::EntityInfo& entity,
                                      const catalog::IndexInfo& index) {
  std::lock_guard<std::mutex> lock(mu_);
  ORMDB_ASSIGN_OR_RETURN(uint64_t rows, RowsLocked(entity.id));
  if (index.unique && index.fields.size() == 1) return rows;
  if (index.id_index) return rows;
  if (!index.fields.empty() && entity.fields[index.fields[0]].type == catalog::FieldType::kRef) {
    auto key = std::make_pair(entity.id.value, entity.fields[index.fields[0]].id.value);
    auto it = refs_.find(key);
    if (it != refs_.end()) return std::max<uint64_t>(1, it->second.parents());
  }
  auto it = sampled_.find(index.id.value);
  if (it != sampled_.end()) {
    uint64_t then = it->second.rows_when_sampled;
    uint64_t diff = rows > then ? rows - then : then - rows;
    if (diff * 4 <= then) return it->second.distinct;
  }
  ValueType type = entity.fields[index.fields[0]].physical;
  ORMDB_ASSIGN_OR_RETURN(auto txn, store_->BeginRead(applied_));
  std::set<std::string> seen;
  uint64_t scanned = 0;
  ORMDB_RETURN_IF_ERROR(txn->ScanIndex(
      index.id, "", "", storage::ScanDirection::kForward, [&](const storage::IndexEntry& en) {
        std::string_view part = en.value_part_in_txn;
        std::string_view before = part;
        if (!en.truncated && storage::DecodeKey(&part, type).ok()) {
          seen.emplace(before.substr(0, before.size() - part.size()));
        } else {
          seen.emplace(before);
        }
        return ++scanned < kSampleEntries;
      }));
  uint64_t distinct = seen.size();
  if (scanned >= kSampleEntries && rows > scanned) {
    // Extrapolate from the sample's share of the rows.
    distinct = distinct * rows / scanned;
  }
  distinct = std::max<uint64_t>(1, distinct);
  sampled_[index.id.value] = Sampled{distinct, rows};
  ++recounts_;
  SaveLocked();
  return distinct;
}

}  // namespace ormdb::query
