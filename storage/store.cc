#include "storage/store.h"

#include <lmdb.h>

#include <chrono>
#include <cstring>
#include <map>

#include "storage/key_encoding.h"

namespace ormdb::storage {
namespace {

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view View(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<Version> ReadVersionMeta(MDB_txn* txn, MDB_dbi meta, std::string_view key) {
  MDB_val k = Val(key), v;
  int rc = mdb_get(txn, meta, &k, &v);
  if (rc == MDB_NOTFOUND) return Version{0};
  if (rc != 0) return LmdbError(rc, "read " + std::string(key));
  if (v.mv_size != 8) return Internal("corrupted metadata record " + std::string(key));
  return GetU64BE(static_cast<const char*>(v.mv_data));
}

constexpr const char* kMinReadableKey = "min_readable";

}  // namespace

// -------------------------------------------------------------- SnapshotPin

SnapshotPin& SnapshotPin::operator=(SnapshotPin&& o) noexcept {
  if (this != &o) {
    Release();
    store_ = o.store_;
    version_ = o.version_;
    o.store_ = nullptr;
  }
  return *this;
}

void SnapshotPin::Release() {
  if (store_ != nullptr) store_->Unpin(version_);
  store_ = nullptr;
}

// -------------------------------------------------------------------- Store

Store::Store(std::unique_ptr<Env> env) : env_(std::move(env)) {}

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir, const StoreOptions& options,
                                           bool create_if_missing) {
  ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<Env> env, Env::Open(dir, options, create_if_missing));
  std::unique_ptr<Store> store(new Store(std::move(env)));
  ORMDB_RETURN_IF_ERROR(store->LoadState());
  ORMDB_RETURN_IF_ERROR(store->EnsureRowCounts());
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

Status Store::LoadState() {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_->raw(), nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return LmdbError(rc, "load state");
  auto current = ReadVersionMeta(txn, env_->dbis().meta, "current_version");
  auto oldest = ReadVersionMeta(txn, env_->dbis().meta, kMinReadableKey);
  mdb_txn_abort(txn);
  if (!current.ok()) return current.status();
  if (!oldest.ok()) return oldest.status();
  current_.store(*current);
  oldest_.store(*oldest);
  if (env_->options().row_cache_bytes > 0) {
    row_cache_ = std::make_unique<RowCache>(env_->options().row_cache_bytes, *current);
  }
  return Status::Ok();
}

Status Store::EnsureRowCounts() {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_->raw(), nullptr, 0, &txn);
  if (rc != 0) return env_->Error(rc, "begin row count");
  MDB_val mk = Val(kRowCountsMarker), mv;
  rc = mdb_get(txn, env_->dbis().meta, &mk, &mv);
  if (rc == 0) {
    mdb_txn_abort(txn);
    return Status::Ok();
  }
  // Rows sort by [type][id][~version]: the first key of a row is its newest
  // version (none is above the current version).
  std::map<uint32_t, uint64_t> live;
  rc = rc == MDB_NOTFOUND ? 0 : rc;
  for (size_t part = 0; rc == 0 && part < env_->dbis().rows.size(); ++part) {
    MDB_cursor* cur = nullptr;
    rc = mdb_cursor_open(txn, env_->dbis().rows[part], &cur);
    if (rc != 0) break;
    MDB_val k, v;
    std::string last_row;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      std::string_view key = View(k), value = View(v);
      RowKeyParts row;
      if (!env_->keys().ParseRowKey(key, &row) || key.substr(0, row.row_prefix) == last_row) {
        continue;
      }
      last_row.assign(key.substr(0, row.row_prefix));
      if (!value.empty() && value[0] == kRowTag) ++live[row.type];
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) rc = 0;
  }
  for (auto it = live.begin(); rc == 0 && it != live.end(); ++it) {
    std::string key = RowCountKey(EntityTypeId{it->first}), value;
    PutU64BE(&value, it->second);
    MDB_val k = Val(key), v = Val(value);
    rc = mdb_put(txn, env_->dbis().meta, &k, &v, 0);
  }
  if (rc == 0) {
    MDB_val v = Val("1");
    rc = mdb_put(txn, env_->dbis().meta, &mk, &v, 0);
  }
  if (rc != 0) {
    mdb_txn_abort(txn);
    return env_->Error(rc, "count rows");
  }
  rc = mdb_txn_commit(txn);
  return rc == 0 ? Status::Ok() : env_->Error(rc, "commit row counts");
}

Result<std::vector<RowCount>> Store::RowCounts() {
  ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<ReadTxn> txn, BeginRead());
  MDB_cursor* cur = nullptr;
  int rc = mdb_cursor_open(txn->txn_, env_->dbis().meta, &cur);
  if (rc != 0) return LmdbError(rc, "read row counts");
  std::vector<RowCount> out;
  MDB_val k = Val(kRowCountPrefix), v;
  Status st;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    std::string_view key = View(k);
    if (key.substr(0, kRowCountPrefix.size()) != kRowCountPrefix) break;
    if (key.size() != kRowCountPrefix.size() + 4 || v.mv_size != 8) {
      st = Internal("corrupted row count record");
      break;
    }
    out.push_back(RowCount{EntityTypeId{GetU32BE(key.data() + kRowCountPrefix.size())},
                           GetU64BE(static_cast<const char*>(v.mv_data))});
  }
  mdb_cursor_close(cur);
  if (st.ok() && rc != 0 && rc != MDB_NOTFOUND) st = LmdbError(rc, "read row counts");
  if (!st.ok()) return st;
  return out;
}

Store::~Store() {
  {
    MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  queue_cv_.SignalAll();
  if (writer_.joinable()) writer_.join();
}

Result<std::unique_ptr<ReadTxn>> Store::BeginRead(std::optional<Version> at) {
  while (true) {
    // Load the current version before the LMDB snapshot begins, so the
    // snapshot holds at least everything up to it.
    Version current = current_version();
    std::shared_lock lock(env_->resize_mutex());
    // This thread's last read transaction when nothing was committed since
    // (storage/kept_reads.h), else a new one. Either way it ends (or is kept
    // again) with the ReadTxn, on every path below.
    HeldRead held;
    KeptReads* kept = env_->kept_reads();
    if (kept == nullptr || !kept->Take(&held)) {
      int rc = mdb_txn_begin(env_->raw(), nullptr, MDB_RDONLY, &held.txn);
      if (rc != 0) return LmdbError(rc, "begin read");
    }
    std::unique_ptr<ReadTxn> read(
        new ReadTxn(env_.get(), held.txn, 0, std::move(lock), row_cache_.get()));
    read->AdoptCursors(held);
    // The oldest readable version, loaded after the snapshot began: vacuum
    // raises it before it deletes anything (ComputeHorizon), so data at or
    // above it is intact in this snapshot. It may be ahead of the
    // snapshot's own record (a vacuum not yet committed): that only refuses
    // versions that are about to go.
    const Version oldest = oldest_readable_version();
    Version v = at.value_or(current);
    if (v > current) {
      return InvalidArgument("version " + std::to_string(v) + " is beyond the current version " +
                             std::to_string(current));
    }
    if (v < oldest) {
      // The latest version loaded, then left behind by commits and a
      // vacuum before the snapshot began: read the newer latest one.
      if (!at) continue;
      return HistoryLost("version " + std::to_string(v) + " is below the oldest readable version " +
                         std::to_string(oldest) + " (vacuumed)");
    }
    read->at_ = v;
    return read;
  }
}

std::future<Result<Version>> Store::Submit(TxnFn fn) { return Enqueue(std::move(fn), false); }

std::future<Result<Version>> Store::SubmitMaintenance(TxnFn fn) {
  return Enqueue(std::move(fn), true);
}

std::future<Result<Version>> Store::Enqueue(TxnFn fn, bool maintenance) {
  auto p = std::make_unique<Pending>();
  p->fn = std::move(fn);
  p->maintenance = maintenance;
  std::future<Result<Version>> f = p->done.get_future();
  {
    MutexLock lock(&queue_mu_);
    if (stopping_) {
      p->done.set_value(Unavailable("the store is shutting down"));
      return f;
    }
    queue_.push_back(std::move(p));
  }
  queue_cv_.Signal();
  return f;
}

void Store::WriterLoop() {
  std::vector<std::unique_ptr<Pending>> group;
  while (true) {
    {
      MutexLock lock(&queue_mu_);
      while (queue_.empty() && !stopping_) queue_cv_.Wait(&queue_mu_);
      if (queue_.empty()) return;  // stopping, and everything queued is done
      // Gather window: when fewer transactions wait than the last group had,
      // the clients of that group are likely about to resubmit; waiting a
      // little for them lets one fsync serve them all. A lone client (last
      // group of one) never waits.
      auto window = std::chrono::microseconds(env_->options().group_commit_window_micros);
      if (window.count() > 0 && !queue_.front()->maintenance && queue_.size() < last_group_size_) {
        auto until = std::chrono::steady_clock::now() + window;
        while (queue_.size() < last_group_size_ && !stopping_ &&
               queue_cv_.WaitUntil(&queue_mu_, until)) {
        }
      }
      // Maintenance work runs alone; client transactions are grouped.
      if (queue_.front()->maintenance) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      } else {
        while (!queue_.empty() && !queue_.front()->maintenance &&
               group.size() < env_->options().max_group_size) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
    }
    if (!group.front()->maintenance) last_group_size_ = group.size();
    RunGroup(group);
    group.clear();
  }
}

void Store::RunGroup(std::vector<std::unique_ptr<Pending>>& group) {
  Status group_error;
  while (true) {
    GroupAttempt attempt = TryGroup(group);
    if (!attempt.map_full) {
      group_error = attempt.error;
      break;
    }
    Status grown = env_->Grow();
    if (grown.ok()) {
      map_grows_.fetch_add(1);
      continue;  // replay the whole group on the larger map
    }
    // The map cannot grow (at its maximum, or readers held it too long): fail
    // the transaction that needed the space (or, if the group commit itself
    // did, the whole group) and replay the rest.
    if (attempt.map_full_at >= 0) {
      group[attempt.map_full_at]->result = grown;
      continue;
    }
    group_error = grown;
    break;
  }
  for (auto& p : group) {
    if (!group_error.ok() && (!p->result || p->result->ok())) p->result = group_error;
    if (!p->result->ok())
      failed_.fetch_add(1);
    else if (!p->maintenance)
      committed_.fetch_add(1);
    p->done.set_value(std::move(*p->result));
  }
}

Store::GroupAttempt Store::TryGroup(std::vector<std::unique_ptr<Pending>>& group) {
  GroupAttempt out;
  // Results decided by an earlier attempt (RESOURCE_EXHAUSTED at max map) stay.
  std::vector<std::optional<Result<Version>>> results(group.size());
  MDB_txn* parent = nullptr;
  int rc = mdb_txn_begin(env_->raw(), nullptr, 0, &parent);
  if (rc != 0) {
    out.error = env_->Error(rc, "begin write");
    return out;
  }
  Version base = current_version();
  Version next = base + 1;
  int64_t now = NowMicros();
  std::vector<RowCache::Key> written;  // the rows the group wrote, for the row cache
  for (size_t i = 0; i < group.size(); ++i) {
    Pending& p = *group[i];
    if (p.result && !p.result->ok()) continue;
    MDB_txn* child = nullptr;
    rc = mdb_txn_begin(env_->raw(), parent, 0, &child);
    if (rc != 0) {
      mdb_txn_abort(parent);
      out.error = env_->Error(rc, "begin nested write");
      return out;
    }
    Status st;
    bool map_full = false;
    {
      WriteTxn txn(env_.get(), child, p.maintenance ? base : next, now);
      st = p.fn(txn);
      if (st.ok()) st = txn.FlushDeferredIndexes();
      if (st.ok()) st = p.maintenance ? txn.FlushCounters() : txn.Finish();
      map_full = txn.map_full();
      if (row_cache_) {
        written.insert(written.end(), txn.written_rows_.begin(), txn.written_rows_.end());
      }
    }
    if (map_full) {
      mdb_txn_abort(child);
      mdb_txn_abort(parent);
      out.map_full = true;
      out.map_full_at = static_cast<int>(i);
      return out;
    }
    if (st.ok()) {
      rc = mdb_txn_commit(child);
      if (rc == MDB_MAP_FULL) {
        mdb_txn_abort(parent);
        out.map_full = true;
        out.map_full_at = static_cast<int>(i);
        return out;
      }
      if (rc != 0) st = env_->Error(rc, "commit nested write");
    } else {
      mdb_txn_abort(child);
    }
    if (st.ok()) {
      results[i] = p.maintenance ? base : next;
      if (!p.maintenance) ++next;
    } else {
      results[i] = st;
    }
  }
  const FaultHooks& faults = env_->options().faults;
  if (faults.fail_commit && faults.fail_commit()) {
    mdb_txn_abort(parent);
    out.error = Internal("injected fault: commit failed");
    return out;
  }
  int injected = faults.commit_errno ? faults.commit_errno() : 0;
  if (injected != 0) {
    mdb_txn_abort(parent);
    rc = injected;
  } else {
    // Frees the transaction whether or not it succeeds: on a failure (a full
    // disk: ENOSPC, or EIO for a short write) LMDB aborts it, the data file's
    // valid meta page still names the previous commit, and the next write
    // transaction starts from there.
    auto started = std::chrono::steady_clock::now();
    rc = mdb_txn_commit(parent);
    if (rc == 0) {
      commit_micros_.Observe(
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::steady_clock::now() - started)
                                    .count()));
    }
  }
  if (rc == MDB_MAP_FULL) {
    out.map_full = true;
    return out;
  }
  if (rc != 0) {
    out.error = env_->Error(rc, "commit");
    return out;
  }
  group_commits_.fetch_add(1);
  if (!group.front()->maintenance) group_sizes_.Observe(next - 1 - base);
  for (size_t i = 0; i < group.size(); ++i) {
    if (results[i]) group[i]->result = std::move(results[i]);
  }
  // Before the group's versions are published: no reader that can see them
  // may find a row they changed in the cache.
  if (row_cache_ && !written.empty()) row_cache_->Invalidate(written, next - 1);
  if (next - 1 != base) {
    {
      MutexLock lock(&version_mu_);
      current_.store(next - 1, std::memory_order_release);
    }
    version_cv_.SignalAll();
  }
  // Kept read transactions now read an older snapshot than a new one would,
  // and pin the pages this commit freed: end the idle ones.
  if (KeptReads* kept = env_->kept_reads()) kept->EndIdle();
  return out;
}

Version Store::WaitForVersionAfter(Version v, std::chrono::milliseconds timeout) {
  MutexLock lock(&version_mu_);
  auto until = std::chrono::steady_clock::now() + timeout;
  while (current_version() <= v && version_cv_.WaitUntil(&version_mu_, until)) {
  }
  return current_version();
}

Status Store::ReadChanges(Version after, const std::function<bool(const ChangeSet&)>& visit) {
  constexpr size_t kChunk = 256;  // entries per short read transaction
  Version position = after;
  while (true) {
    ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<ReadTxn> txn, BeginRead());
    MDB_txn* raw = txn->txn_;
    auto oldest = ReadVersionMeta(raw, env_->dbis().meta, kMinReadableKey);
    if (!oldest.ok()) return oldest.status();
    if (position < *oldest) {
      return HistoryLost("change log after version " + std::to_string(position) +
                         " is gone: the oldest resumable version is " + std::to_string(*oldest));
    }
    MDB_cursor* cur = nullptr;
    int rc = mdb_cursor_open(raw, env_->dbis().changelog, &cur);
    if (rc != 0) return LmdbError(rc, "read change log");
    std::string start = VersionKey(position + 1);
    MDB_val k = Val(start), v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    ReadTxn* reader = txn.get();
    const RowImageReader images = [reader](EntityTypeId type, RowId id, Version at) {
      return reader->RowImageAt(type, id, at);
    };
    size_t n = 0;
    Status st;
    while (rc == 0 && n < kChunk) {
      if (k.mv_size != 8) {
        st = Internal("corrupted change log key");
        break;
      }
      Version ver = GetU64BE(static_cast<const char*>(k.mv_data));
      if (ver > txn->snapshot()) break;
      if (ver != position + 1) {
        st = Internal("change log gap: expected version " + std::to_string(position + 1) +
                      ", found " + std::to_string(ver));
        break;
      }
      auto cs = DecodeChangeSet(ver, View(v), &images);
      if (!cs.ok()) {
        st = cs.status();
        break;
      }
      position = ver;
      ++n;
      if (!visit(*cs)) {
        mdb_cursor_close(cur);
        return Status::Ok();
      }
      rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    ORMDB_RETURN_IF_ERROR(st);
    if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError(rc, "read change log");
    if (n < kChunk) return Status::Ok();
  }
}

Result<SnapshotPin> Store::Pin(Version v) {
  MutexLock lock(&pins_mu_);
  if (v < oldest_readable_version()) {
    return HistoryLost("version " + std::to_string(v) + " is below the oldest readable version " +
                       std::to_string(oldest_readable_version()));
  }
  if (v > current_version()) {
    return InvalidArgument("version " + std::to_string(v) + " is beyond the current version");
  }
  pins_.insert(v);
  return SnapshotPin(this, v);
}

void Store::Unpin(Version v) {
  MutexLock lock(&pins_mu_);
  auto it = pins_.find(v);
  if (it != pins_.end()) pins_.erase(it);
}

Result<TableSizes> Store::table_sizes() {
  ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<ReadTxn> txn, BeginRead());
  TableSizes sizes;
  const Dbis& dbis = env_->dbis();
  std::vector<std::pair<MDB_dbi, uint64_t*>> tables = {{dbis.changelog, &sizes.log_entries},
                                                       {dbis.requests, &sizes.request_entries}};
  for (MDB_dbi dbi : dbis.rows) tables.emplace_back(dbi, &sizes.row_versions);
  for (MDB_dbi dbi : dbis.indexes) tables.emplace_back(dbi, &sizes.index_entries);
  for (MDB_dbi dbi : dbis.edges) tables.emplace_back(dbi, &sizes.edge_entries);
  for (const auto& [dbi, count] : tables) {
    MDB_stat st;
    int rc = mdb_stat(txn->txn_, dbi, &st);
    if (rc != 0) return LmdbError(rc, "table sizes");
    *count += st.ms_entries;
  }
  return sizes;
}

StoreStats Store::stats() const {
  StoreStats s;
  s.current_version = current_version();
  s.oldest_readable_version = oldest_readable_version();
  s.transactions_committed = committed_.load();
  s.transactions_failed = failed_.load();
  s.group_commits = group_commits_.load();
  s.map_grows = map_grows_.load();
  if (KeptReads* kept = env_->kept_reads()) {
    s.reads_kept = kept->idle();
    s.reads_reused = kept->reused();
  }
  s.map_size = env_->map_size();
  s.map_used = env_->map_used();
  s.group_sizes = group_sizes_.Snapshot();
  s.commit_micros = commit_micros_.Snapshot();
  s.vacuums = vacuums_.load(std::memory_order_relaxed);
  s.vacuum_row_versions_removed = vacuum_rows_.load(std::memory_order_relaxed);
  s.vacuum_index_entries_removed = vacuum_index_.load(std::memory_order_relaxed);
  s.vacuum_edges_removed = vacuum_edges_.load(std::memory_order_relaxed);
  s.vacuum_log_entries_removed = vacuum_log_.load(std::memory_order_relaxed);
  s.vacuum_request_entries_removed = vacuum_requests_.load(std::memory_order_relaxed);
  s.vacuum_micros = vacuum_micros_.Snapshot();
  if (row_cache_) s.row_cache = row_cache_->stats();
  {
    MutexLock lock(&pins_mu_);
    s.pinned_versions = pins_.size();
  }
  return s;
}

}  // namespace ormdb::storage
