// The executor's entry points, its row cache, and the runners: the root
// (by id, unique key, index range or scan) and one include level (by
// reference, child index, hashed scan or edge range).
#include "query/executor.h"

#include <algorithm>
#include <chrono>

#include "query/cursor.h"
#include "query/executor_internal.h"
#include "query/limit_math.h"
#include "storage/key_encoding.h"

namespace ormdb::query {
namespace executor_internal {

void RowArena::Reset() {
  for (size_t i = 0; i < size_; ++i) {
    RowData& r = chunks_[i / kChunk][i % kChunk];
    r.row.fields.clear();
    r.row.uuid = Value();
    r.row.unconvertible.clear();
    r.version = 0;
  }
  if (chunks_.size() > kKeepChunks) chunks_.resize(kKeepChunks);
  size_ = 0;
  auto reset = [](auto& list) {
    if (list.capacity() > kKeepList) {
      std::remove_reference_t<decltype(list)>().swap(list);
    } else {
      list.clear();
    }
  };
  for (auto& l : lists_.dist_rows) reset(l);
  for (auto& l : lists_.dist_occ) reset(l);
  for (auto& l : lists_.dist_of_row) reset(l);
  reset(lists_.block_rows);
}

namespace {

std::unique_ptr<RowArena>& ThreadRowArena() {
  thread_local std::unique_ptr<RowArena> arena;
  return arena;
}

}  // namespace

std::unique_ptr<RowArena> TakeRowArena() {
  std::unique_ptr<RowArena>& kept = ThreadRowArena();
  if (kept) return std::move(kept);
  return std::make_unique<RowArena>();
}

void ReturnRowArena(std::unique_ptr<RowArena> arena) {
  if (arena == nullptr) return;
  arena->Reset();
  std::unique_ptr<RowArena>& kept = ThreadRowArena();
  if (kept == nullptr) kept = std::move(arena);
}

Status Executor::Prepare() {
  const Plan& p = *plan_;
  out_ = std::make_shared<ResultBlocks>();
  out_->plan = plan_;
  out_->version = txn_.snapshot();
  out_->nodes.resize(p.nodes.size());
  // Aggregates' stats follow the nodes'.
  if (stats_) stats_->assign(p.nodes.size() + p.aggregates.size(), NodeStats{});
  run_ = &LayoutOf(p);
  ORMDB_RETURN_IF_ERROR(run_->status);
  ORMDB_RETURN_IF_ERROR(SetUpBlocks());
  agg_values_.resize(p.aggregates.size());
  agg_grouped_.assign(p.aggregates.size(), false);
  maintained_ok_.assign(p.aggregates.size(), -1);
  return Status::Ok();
}

Result<std::shared_ptr<ResultBlocks>> Executor::Run() {
  const Plan& p = *plan_;
  ORMDB_RETURN_IF_ERROR(Prepare());
  // Depth: includes below the limit are left out (truncate) or refused.
  for (const Node& n : p.nodes) {
    if (static_cast<uint64_t>(n.depth) > opt_.budget.max_depth) {
      if (opt_.budget.on_exceed == OnExceed::kError) {
        return BudgetExceeded("budget exceeded: depth " + std::to_string(n.depth) +
                              " is over the limit of " + std::to_string(opt_.budget.max_depth) +
                              " at " + n.path);
      }
      MarkTruncated(n.path);
      break;
    }
  }
  ORMDB_RETURN_IF_ERROR(RunRoot());
  // Breadth first: level by level, includes in pre-order within a level.
  for (int level = 1; level <= p.max_depth && !stopped_; ++level) {
    if (static_cast<uint64_t>(level) > opt_.budget.max_depth) break;
    for (size_t i = 1; i < p.nodes.size() && !stopped_; ++i) {
      if (p.nodes[i].depth != level) continue;
      if (!out_->nodes[p.nodes[i].parent].processed) continue;
      ORMDB_RETURN_IF_ERROR(RunInclude(static_cast<int>(i)));
    }
  }
  ORMDB_RETURN_IF_ERROR(ComputeAggregates());
  out_->counters.scanned = scanned_;
  out_->counters.reads = reads_ + scanned_;
  ORMDB_RETURN_IF_ERROR(FillColumns());
  return out_;
}

Result<const RowData*> Executor::GetRow(const EntityInfo& e, RowId id) {
  if (const RowData** hit = cache_.Find(e.id.value, id)) return *hit;
  ORMDB_ASSIGN_OR_RETURN(auto rec, txn_.Get(e.id, id));
  const RowData* data = nullptr;
  if (rec) {
    ORMDB_ASSIGN_OR_RETURN(data, Decode(e, rec->bytes_in_txn, rec->version));
  }
  cache_.Emplace(e.id.value, id, data);
  return data;
}

Result<const RowData*> Executor::Decode(const EntityInfo& e, std::string_view bytes,
                                        Version version) {
  const std::vector<size_t>* fields =
      e.id.value < run_->decode_fields.size() ? run_->decode_fields[e.id.value] : nullptr;
  if (fields == nullptr || e.uuid_id) {
    ORMDB_ASSIGN_OR_RETURN(catalog::DecodedRow row,
                           catalog::DecodeEntityRow(bytes, e, plan_->schema->number(), layouts_));
    RowData& data = rows_->Add();
    data.row = std::move(row);
    data.version = version;
    return &data;
  }
  // Only what the plan reads; the other fields stay null.
  RowData& data = rows_->Add();
  data.version = version;
  ORMDB_RETURN_IF_ERROR(catalog::DecodeEntityFields(bytes, e, plan_->schema->number(), layouts_,
                                                    *fields, &decode_view_, &data.row));
  return &data;
}

Result<const RowData*> Executor::Remember(const EntityInfo& e, RowId id,
                                          const storage::RowRecord& rec) {
  if (const RowData** hit = cache_.Find(e.id.value, id)) return *hit;
  ORMDB_ASSIGN_OR_RETURN(const RowData* data, Decode(e, rec.bytes_in_txn, rec.version));
  cache_.Emplace(e.id.value, id, data);
  return data;
}

const RowData* Executor::Keep(const EntityInfo& e, RowId id, const RowData* data) {
  auto [slot, inserted] = cache_.Emplace(e.id.value, id, data);
  if (!inserted) {
    if (*slot != nullptr) return *slot;
    *slot = data;
  }
  return data;
}

std::vector<size_t> Executor::FilterFields(const Node& n) {
  std::vector<size_t> out;
  auto add = [&](size_t f) {
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  };
  for (const BoundPath& p : n.paths) {
    if (!p.hops.empty()) {
      add(p.hops[0]);
    } else if (p.terminal == BoundPath::Terminal::kField) {
      add(p.field);
    }
  }
  if (n.kind == Node::Kind::kInverse) add(n.ref_field);
  return out;
}

Value Executor::ExternalId(const EntityInfo& e, RowId id, const RowData& row) {
  return e.uuid_id ? row.row.uuid : Value::Int64(static_cast<int64_t>(id));
}

Status Executor::RunRoot() {
  const Node& n = plan_->nodes[0];
  auto start = StatsClock();
  NodeStats* ns = stats_ ? &(*stats_)[0] : nullptr;
  ORMDB_ASSIGN_OR_RETURN(std::optional<CursorPosition> cursor, NodeCursor(n));
  int64_t limit = Limit(n);
  int64_t want = WantFor(limit);
  std::vector<Candidate> list;
  if (ns) ns->batches = 1;
  ORMDB_RETURN_IF_ERROR(CollectRoots(cursor, want, &list, ns));
  SortCandidates(n, &list, want);
  out_->nodes[0].processed = true;
  ORMDB_RETURN_IF_ERROR(Emit(0, 0, 0, 1, list, cursor));
  if (ns) {
    ns->run = true;
    ns->parents = 1;
    ns->micros = Micros(start);
  }
  return Status::Ok();
}

Status Executor::CollectRoots(const std::optional<CursorPosition>& cursor, int64_t want,
                              std::vector<Candidate>* out, NodeStats* ns) {
  const Node& n = plan_->nodes[0];
  std::vector<Candidate>& list = *out;
  auto consider = [&](RowId id, const RowData* row) -> Status {
    if (row == nullptr) return Status::Ok();
    ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, id, *row));
    if (!m) return Status::Ok();
    Candidate c;
    ORMDB_RETURN_IF_ERROR(MakeCandidate(n, id, row, &c));
    if (cursor && !AfterCursor(n, c, *cursor)) return Status::Ok();
    list.push_back(std::move(c));
    return Status::Ok();
  };
  switch (n.access) {
    case Access::kIdLookup: {
      const BoundSlot& s = slots_[n.id_slots[0]];
      std::vector<Value> ids = s.list;
      if (plan_->slots[n.id_slots[0]].kind == Slot::Kind::kValue) ids = {s.value};
      std::vector<RowId> rows;
      for (const Value& v : ids) {
        ORMDB_ASSIGN_OR_RETURN(std::optional<RowId> id, ResolveId(*n.entity, v));
        if (id) rows.push_back(*id);
      }
      std::sort(rows.begin(), rows.end());
      rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
      for (RowId id : rows) {
        CountEntry(ns);
        ORMDB_ASSIGN_OR_RETURN(const RowData* row, GetRow(*n.entity, id));
        ORMDB_RETURN_IF_ERROR(consider(id, row));
      }
      break;
    }
    case Access::kUniqueLookup:
    case Access::kIndexRange: {
      std::vector<Value> eq;
      for (int s : n.range.eq_slots) eq.push_back(slots_[s].value);
      Range range = BuildRange(n, n.range, eq, cursor);
      ORMDB_RETURN_IF_ERROR(ScanRange(n, 0, n.range, range, cursor, want, &list, ns));
      break;
    }
    case Access::kScan: {
      bool backward = n.range.backward && n.order_is_id_only;
      RowId from = backward ? UINT64_MAX : 0;
      if (n.order_is_id_only && cursor && !cursor->start && !n.entity->uuid_id) {
        RowId at = static_cast<RowId>(cursor->id.as_int64());
        from = backward ? (at == 0 ? 0 : at - 1) : at + 1;
        if (backward && at == 0) break;
      }
      bool early = n.order_is_id_only && want >= 0 && !n.entity->uuid_id;
      // With a limit and an order the scan does not give, only the best
      // `want` rows so far are kept (a bounded max-heap, worst on top);
      // rows that cannot enter it are dropped without being kept.
      bool top_n = want >= 0 && !early;
      auto worse = [&](const Candidate& a, const Candidate& b) {
        return CompareKeys(n, a.key, a.ext_id, b.key, b.ext_id) < 0;
      };
      // The quick test (fields located in place, the order key against the
      // worst row kept so far) runs in the visitor, on bytes the scan has
      // just touched; the rows it passes are decoded and filtered after the
      // visitor, chunk by chunk: a predicate may read other rows, which
      // must not happen while the scan's cursor is open.
      const bool quick = !n.entity->uuid_id && !cursor;
      // A chunk counts the rows the quick test passed, except in an
      // id-ordered scan with a limit, which stops after a chunk of rows
      // stepped on once it has enough (rejected rows must not make it read
      // further than that). A top-N scan's first chunks are small, so that
      // its list fills and the quick test starts rejecting by order early;
      // each chunk that fills doubles the next one (a chunk ends in a seek
      // to resume).
      size_t chunk = early || top_n ? ScanChunk(want) : 4096;
      size_t stepped = 0;  // rows the chunk has stepped on
      bool more = true;
      // The rows' bytes stay valid in the read transaction; each is first
      // decoded only as far as the predicate and the order need, and in
      // full only when it is kept.
      struct Scanned {
        RowId id;
        std::string_view bytes;
        Version version;
      };
      std::vector<Scanned> batch;
      std::vector<size_t> wanted = FilterFields(n);
      RowData probe;
      storage::RowView view;
      while (more) {
        more = false;
        batch.clear();
        stepped = 0;
        ORMDB_RETURN_IF_ERROR(txn_.ScanRows(
            n.entity->id, from, backward ? ScanDirection::kBackward : ScanDirection::kForward,
            [&](RowId id, const storage::RowRecord& rec) {
              if ((early ? stepped : batch.size()) == chunk) {
                more = true;
                from = id;
                return false;
              }
              ++stepped;
              CountEntry(ns);
              if (quick && QuickRejects(n, 0, rec.bytes_in_txn, top_n ? &list : nullptr, want)) {
                return true;
              }
              batch.push_back(Scanned{id, rec.bytes_in_txn, rec.version});
              return true;
            }));
        if (top_n) chunk = std::min<size_t>(chunk * 2, 4096);
        for (const Scanned& sc : batch) {
          // The list may have improved since the visitor tested this row.
          if (quick && top_n && QuickRejects(n, 0, sc.bytes, &list, want)) continue;
          ORMDB_RETURN_IF_ERROR(catalog::DecodeEntityFields(
              sc.bytes, *n.entity, plan_->schema->number(), layouts_, wanted, &view, &probe.row));
          probe.version = sc.version;
          if (n.entity->uuid_id) {
            // The id is a column of its own; decode the row in full.
            ORMDB_ASSIGN_OR_RETURN(
                probe.row,
                catalog::DecodeEntityRow(sc.bytes, *n.entity, plan_->schema->number(), layouts_));
          }
          ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, sc.id, probe));
          if (!m) continue;
          Candidate& c = scratch_;
          ORMDB_RETURN_IF_ERROR(MakeCandidate(n, sc.id, &probe, &c));
          if (cursor && !AfterCursor(n, c, *cursor)) continue;
          if (top_n && static_cast<int64_t>(list.size()) >= want &&
              (want == 0 || !worse(c, list.front()))) {
            continue;
          }
          ORMDB_ASSIGN_OR_RETURN(c.row, Decode(*n.entity, sc.bytes, sc.version));
          c.row = Keep(*n.entity, sc.id, c.row);
          list.push_back(std::move(c));  // scratch_ keeps no key: it is rebuilt per row
          if (top_n) {
            std::push_heap(list.begin(), list.end(), worse);
            if (static_cast<int64_t>(list.size()) > want) {
              std::pop_heap(list.begin(), list.end(), worse);
              list.pop_back();
            }
          }
          if (early && static_cast<int64_t>(list.size()) >= want) {
            more = false;
            break;
          }
        }
      }
      break;
    }
    default:
      return Internal("bad root access path");
  }
  return Status::Ok();
}

void Executor::PrefetchAhead(EntityTypeId type, std::span<const RowId> ids, size_t j) const {
  constexpr size_t kStride = 16;
  if (j % kStride != 0) return;
  // The first call announces three strides, each later one the third
  // stride from here, so the slots are 32 to 48 lookups ahead.
  const size_t from = j == 0 ? 0 : j + 2 * kStride;
  const size_t to = std::min(ids.size(), j + 3 * kStride);
  if (from < to) txn_.PrefetchRowSlots(type, ids.subspan(from, to - from));
}

Status Executor::CountRead(NodeStats* ns) {
  ++reads_;
  return ++ns->examined <= opt_.budget.max_scanned_rows ? Status::Ok() : OverScanned();
}

Status Executor::OverScanned() const {
  return BudgetExceeded("budget exceeded: more than " +
                        std::to_string(opt_.budget.max_scanned_rows) + " rows read at " +
                        plan_->nodes[0].path);
}

Status Executor::VisitRoots(const RootVisitor& visit) {
  const Plan& p = *plan_;
  if (p.nodes.size() != 1 || !p.aggregates.empty()) {
    return Internal("only a plan without includes or aggregates streams its rows");
  }
  ORMDB_RETURN_IF_ERROR(Prepare());
  const Node& n = p.nodes[0];
  auto start = std::chrono::steady_clock::now();
  NodeStats local;
  NodeStats* ns = stats_ ? &(*stats_)[0] : &local;
  ns->run = true;
  ns->parents = 1;
  ns->batches = 1;
  Status st;
  if (n.access == Access::kScan) {
    st = StreamScan(visit, ns);
  } else if ((n.access == Access::kIndexRange || n.access == Access::kUniqueLookup) &&
             n.range.index_only) {
    st = StreamIndexOnly(visit, ns);
  } else {
    std::vector<Candidate> list;
    st = CollectRoots(std::nullopt, -1, &list, ns);
    if (st.ok() && ns->examined > opt_.budget.max_scanned_rows) st = OverScanned();
    for (size_t i = 0; st.ok() && i < list.size(); ++i) {
      ++ns->rows;
      st = visit(list[i].id, list[i].row->row);
    }
  }
  ns->micros = Micros(start);
  return st;
}

Status Executor::StreamScan(const RootVisitor& visit, NodeStats* ns) {
  const Node& n = plan_->nodes[0];
  const EntityInfo& e = *n.entity;
  const std::vector<size_t>* fields =
      e.id.value < run_->decode_fields.size() ? run_->decode_fields[e.id.value] : nullptr;
  struct Scanned {
    RowId id;
    std::string_view bytes;  // valid for the read transaction
    Version version;
  };
  std::vector<Scanned> batch;
  constexpr size_t kChunk = 4096;
  RowId from = 0;
  bool more = true;
  while (more) {
    more = false;
    batch.clear();
    // Rows are tested after the scan's visitor, chunk by chunk: a predicate
    // may read other rows, which must not happen while its cursor is open.
    ORMDB_RETURN_IF_ERROR(txn_.ScanRows(
        e.id, from, ScanDirection::kForward, [&](RowId id, const storage::RowRecord& rec) {
          if (batch.size() == kChunk) {
            more = true;
            from = id;
            return false;
          }
          batch.push_back(Scanned{id, rec.bytes_in_txn, rec.version});
          return true;
        }));
    for (const Scanned& sc : batch) {
      ORMDB_RETURN_IF_ERROR(CountRead(ns));
      if (!e.uuid_id && QuickRejects(n, 0, sc.bytes, nullptr, -1)) continue;
      if (fields == nullptr || e.uuid_id) {
        ORMDB_ASSIGN_OR_RETURN(
            probe_.row, catalog::DecodeEntityRow(sc.bytes, e, plan_->schema->number(), layouts_));
      } else {
        ORMDB_RETURN_IF_ERROR(catalog::DecodeEntityFields(sc.bytes, e, plan_->schema->number(),
                                                          layouts_, *fields, &view_, &probe_.row));
      }
      probe_.version = sc.version;
      ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, sc.id, probe_));
      if (!m) continue;
      ++ns->rows;
      ORMDB_RETURN_IF_ERROR(visit(sc.id, probe_.row));
    }
  }
  return Status::Ok();
}

Status Executor::StreamIndexOnly(const RootVisitor& visit, NodeStats* ns) {
  const Node& n = plan_->nodes[0];
  const EntityInfo& e = *n.entity;
  const catalog::IndexInfo& ix = *n.range.index;
  std::vector<Value> eq;
  for (int s : n.range.eq_slots) eq.push_back(slots_[s].value);
  const Range range = BuildRange(n, n.range, eq, std::nullopt);
  if (range.empty) return Status::Ok();
  // Only the leading fields up to the last one read are decoded.
  size_t decoded = 0;
  if (const std::vector<size_t>* fields =
          e.id.value < run_->decode_fields.size() ? run_->decode_fields[e.id.value] : nullptr) {
    for (size_t k = 0; k < ix.fields.size(); ++k) {
      if (std::find(fields->begin(), fields->end(), ix.fields[k]) != fields->end()) decoded = k + 1;
    }
  }
  probe_.row.fields.assign(e.fields.size(), Value());
  probe_.version = 0;
  auto offer = [&](RowId id, std::string_view values) -> Status {
    ORMDB_RETURN_IF_ERROR(DecodeEntry(e, ix, decoded, values, &probe_.row));
    ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, id, probe_));
    if (!m) return Status::Ok();
    ++ns->rows;
    return visit(id, probe_.row);
  };
  // Without a where, each entry is offered as it is read. A where may read
  // other rows and indexes, which must not happen while the index's cursor
  // is open: then the entries are collected first. An entry whose values
  // were too long for the key is completed from its row, after the scan.
  struct Entry {
    RowId id;
    bool truncated;
    std::string_view values;  // valid for the read transaction
  };
  std::vector<Entry> later;
  Status st;
  ORMDB_RETURN_IF_ERROR(txn_.ScanIndex(
      ix.id, range.lower, range.upper, ScanDirection::kForward, [&](const storage::IndexEntry& en) {
        st = CountRead(ns);
        if (!st.ok()) return false;
        if (!n.has_where && !en.truncated) {
          st = offer(en.id, en.value_part_in_txn);
          return st.ok();
        }
        later.push_back({en.id, en.truncated, en.value_part_in_txn});
        return true;
      }));
  ORMDB_RETURN_IF_ERROR(st);
  for (const Entry& en : later) {
    if (!en.truncated) {
      ORMDB_RETURN_IF_ERROR(offer(en.id, en.values));
      continue;
    }
    ORMDB_ASSIGN_OR_RETURN(const RowData* row, GetRow(e, en.id));
    if (row == nullptr) continue;
    ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, en.id, *row));
    if (!m) continue;
    ++ns->rows;
    ORMDB_RETURN_IF_ERROR(visit(en.id, row->row));
  }
  return Status::Ok();
}

double Executor::Micros(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
      .count();
}

Status Executor::RunInclude(int idx) {
  const Node& n = plan_->nodes[idx];
  auto start = StatsClock();
  NodeStats* ns = stats_ ? &(*stats_)[idx] : nullptr;
  out_->nodes[idx].processed = true;
  const NodeBlock& pb = out_->nodes[n.parent];
  const EntityBlock& parent_block = out_->entities[pb.block];
  const std::vector<uint32_t>& parents = lists_.dist_rows[n.parent];
  const std::vector<uint64_t>& occ = lists_.dist_occ[n.parent];
  if (ns) {
    ns->run = true;
    ns->parents = parents.size();
    ns->batches = parents.empty() ? 0 : 1;
  }
  ORMDB_ASSIGN_OR_RETURN(std::optional<CursorPosition> cursor, NodeCursor(n));
  int64_t limit = Limit(n);
  int64_t want = WantFor(limit);
  const EntityInfo& pe = *plan_->nodes[n.parent].entity;
  // Parent rows' data (cached when they were admitted).
  auto parent_data = [&](uint32_t row) -> Result<const RowData*> {
    return GetRow(pe, parent_block.rows[row]);
  };
  std::vector<std::vector<Candidate>> lists(parents.size());
  auto filter_into = [&](size_t pi, RowId id, const RowData* row) -> Status {
    if (row == nullptr) return Status::Ok();
    ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, id, *row));
    if (!m) return Status::Ok();
    Candidate c;
    ORMDB_RETURN_IF_ERROR(MakeCandidate(n, id, row, &c));
    RowId pid = parent_block.rows[parents[pi]];
    if (cursor && cursor->parent == pid && !AfterCursor(n, c, *cursor)) return Status::Ok();
    lists[pi].push_back(std::move(c));
    return Status::Ok();
  };
  switch (n.access) {
    case Access::kRefLookup: {
      std::vector<std::optional<RowId>> target(parents.size());
      std::vector<RowId> distinct;
      for (size_t pi = 0; pi < parents.size(); ++pi) {
        ORMDB_ASSIGN_OR_RETURN(const RowData* pr, parent_data(parents[pi]));
        const Value& v = pr->row.fields[n.ref_field];
        if (v.is_null()) continue;
        target[pi] = static_cast<RowId>(v.as_int64());
        distinct.push_back(*target[pi]);
      }
      std::sort(distinct.begin(), distinct.end());
      distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
      cache_.Reserve(cache_.size() + distinct.size());
      for (RowId id : distinct) {
        CountEntry(ns);
        ORMDB_RETURN_IF_ERROR(GetRow(*n.entity, id).status());
      }
      // At most one row per parent: each parent's list is built and
      // emitted in turn in one vector.
      ReserveOutput(idx, parents.size(), parent_block.rows.size(), parents.size());
      std::vector<Candidate> one;
      one.reserve(1);
      for (size_t pi = 0; pi < parents.size() && !stopped_; ++pi) {
        one.clear();
        RowId pid = parent_block.rows[parents[pi]];
        if (target[pi]) {
          ORMDB_ASSIGN_OR_RETURN(const RowData* row, GetRow(*n.entity, *target[pi]));
          if (row != nullptr) {
            ORMDB_ASSIGN_OR_RETURN(bool m, Matches(n, *target[pi], *row));
            if (m) {
              Candidate& c = one.emplace_back();
              ORMDB_RETURN_IF_ERROR(MakeCandidate(n, *target[pi], row, &c));
              if (cursor && cursor->parent == pid && !AfterCursor(n, c, *cursor)) one.clear();
            }
          }
        }
        ORMDB_RETURN_IF_ERROR(Emit(idx, parents[pi], pid, occ[pi], one, cursor));
      }
      if (ns) ns->micros = Micros(start);
      return Status::Ok();
    }
    case Access::kChildIndex: {
      // Room for the rows a parent is estimated to have (capped): a list
      // that regrows moves its candidates each time.
      const double per_parent = std::min(n.est_rows_per_parent, 64.0);
      for (auto& list : lists) {
        list.reserve(
            static_cast<size_t>(want >= 0 ? std::min<double>(per_parent, want + 1.0) : per_parent) +
            1);
      }
      for (size_t pi = 0; pi < parents.size(); ++pi) {
        RowId pid = parent_block.rows[parents[pi]];
        const std::optional<CursorPosition>& pc =
            cursor && cursor->parent == pid ? cursor : std::nullopt;
        Range range = BuildRange(n, n.range, {Value::Int64(static_cast<int64_t>(pid))}, pc);
        ORMDB_RETURN_IF_ERROR(ScanRange(n, idx, n.range, range, pc, want, &lists[pi], ns));
      }
      break;
    }
    case Access::kChildScanHash: {
      std::unordered_map<RowId, size_t> parent_index;
      for (size_t pi = 0; pi < parents.size(); ++pi) {
        parent_index.emplace(parent_block.rows[parents[pi]], pi);
      }
      std::vector<std::pair<RowId, const RowData*>> rows;
      Status st;
      ORMDB_RETURN_IF_ERROR(txn_.ScanRows(n.entity->id, 0, ScanDirection::kForward,
                                          [&](RowId id, const storage::RowRecord& rec) {
                                            CountEntry(ns);
                                            auto row = Remember(*n.entity, id, rec);
                                            if (!row.ok()) {
                                              st = row.status();
                                              return false;
                                            }
                                            rows.emplace_back(id, *row);
                                            return true;
                                          }));
      ORMDB_RETURN_IF_ERROR(st);
      for (auto [id, row] : rows) {
        const Value& ref = row->row.fields[n.ref_field];
        if (ref.is_null()) continue;
        auto it = parent_index.find(static_cast<RowId>(ref.as_int64()));
        if (it == parent_index.end()) continue;
        ORMDB_RETURN_IF_ERROR(filter_into(it->second, id, row));
      }
      break;
    }
    case Access::kEdgeRange: {
      bool backward = n.order_is_id_only && !n.order.empty() && n.order[0].descending;
      bool early = n.order_is_id_only && want >= 0 && !n.has_where && !cursor && !n.entity->uuid_id;
      std::vector<std::vector<RowId>> linked(parents.size());
      std::vector<RowId> distinct;
      for (size_t pi = 0; pi < parents.size(); ++pi) {
        RowId pid = parent_block.rows[parents[pi]];
        ORMDB_RETURN_IF_ERROR(txn_.ScanEdges(
            n.edge,
            n.edge_forward ? storage::EdgeDirection::kForward : storage::EdgeDirection::kBackward,
            pid,
            [&](RowId to) {
              CountEntry(ns);
              linked[pi].push_back(to);
              return !early || static_cast<int64_t>(linked[pi].size()) < want;
            },
            backward ? ScanDirection::kBackward : ScanDirection::kForward));
        distinct.insert(distinct.end(), linked[pi].begin(), linked[pi].end());
      }
      // The distinct linked rows in id order (one batch), then per parent
      // the predicate, the order and the limit.
      std::sort(distinct.begin(), distinct.end());
      distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
      bool top_n = want >= 0 && !early;
      if (!top_n) {
        cache_.Reserve(cache_.size() + distinct.size());
        for (size_t j = 0; j < distinct.size(); ++j) {
          PrefetchAhead(n.entity->id, distinct, j);
          ORMDB_RETURN_IF_ERROR(GetRow(*n.entity, distinct[j]).status());
        }
      }
      for (size_t pi = 0; pi < parents.size(); ++pi) {
        RowId pid = parent_block.rows[parents[pi]];
        const CursorPosition* pc = cursor && cursor->parent == pid ? &*cursor : nullptr;
        const std::vector<RowId>& ids = linked[pi];
        lists[pi].reserve(top_n ? std::min(ids.size(), static_cast<size_t>(want) + 1) : ids.size());
        for (size_t j = 0; j < ids.size(); ++j) {
          // Without a top-N the rows were read above; with one, a tag's
          // thousands of posts are read here, one after the other.
          if (top_n) PrefetchAhead(n.entity->id, ids, j);
          ORMDB_RETURN_IF_ERROR(Offer(n, idx, ids[j], pc, want, top_n, &lists[pi]));
        }
      }
      break;
    }
    default:
      return Internal("bad include access path");
  }
  ReserveOutput(idx, parents.size(), parent_block.rows.size(), ChildrenToEmit(idx, lists));
  for (size_t pi = 0; pi < parents.size() && !stopped_; ++pi) {
    SortCandidates(n, &lists[pi], want);
    RowId pid = parent_block.rows[parents[pi]];
    ORMDB_RETURN_IF_ERROR(Emit(idx, parents[pi], pid, occ[pi], lists[pi], cursor));
  }
  if (ns) ns->micros = Micros(start);
  return Status::Ok();
}

}  // namespace executor_internal

Result<std::shared_ptr<ResultBlocks>> ExecutePlan(std::shared_ptr<const Plan> plan,
                                                  const std::vector<BoundSlot>& slots,
                                                  storage::TxnReader& txn,
                                                  const catalog::LayoutLookup& layouts,
                                                  const ExecOptions& options,
                                                  std::vector<NodeStats>* stats) {
  executor_internal::Executor ex(std::move(plan), slots, txn, layouts, options, stats);
  return ex.Run();
}

Status VisitPlanRoots(std::shared_ptr<const Plan> plan, const std::vector<BoundSlot>& slots,
                      storage::TxnReader& txn, const catalog::LayoutLookup& layouts,
                      const ExecOptions& options, std::vector<NodeStats>* stats,
                      const RootVisitor& visit) {
  executor_internal::Executor ex(std::move(plan), slots, txn, layouts, options, stats);
  return ex.VisitRoots(visit);
}

Result<Version> CursorVersion(const Plan& plan, const std::vector<BoundSlot>& slots,
                              std::string_view secret) {
  Version v = 0;
  for (const Node& n : plan.nodes) {
    if (n.after_slot < 0) continue;
    ORMDB_ASSIGN_OR_RETURN(
        CursorPosition pos,
        DecodeCursor(secret, slots[n.after_slot].after, n.kind == Node::Kind::kRoot, n.cursor_shape,
                     n.cursor_key_types, n.entity->uuid_id ? ValueType::kUuid : ValueType::kInt64));
    if (v != 0 && pos.version != v) {
      return InvalidArgument(
          "invalid cursor: the cursors of one query must come from one snapshot (" +
          std::to_string(v) + " and " + std::to_string(pos.version) + ")");
    }
    v = pos.version;
  }
  return v;
}

}  // namespace ormdb::query
