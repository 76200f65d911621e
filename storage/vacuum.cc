// Vacuum: removes history no reader can ask for any more.
//
// Invariant: after a vacuum to horizon H, a read at any version v >= H sees
// exactly what it saw before. It holds because for each row we keep every
// version newer than H plus the newest version at or before H (the one a read
// at H finds; dropped too when it is a tombstone, since absence reads the
// same), and for index entries and edges we drop only those whose end <= H,
// which no read at v >= H can see (visibility needs v < end). Change log
// entries <= H are dropped: a resume token T needs entries after T, and tokens
// below H are refused with HISTORY_LOST. A `requests` entry goes with the log
// entry of its version, in the same step: an outcome is answerable exactly as
// long as the history that produced it.
//
// Finding the request keys of a doomed log entry: the entry is walked for its
// request records (PeekRequestKeys skips row images without copying them)
// rather than keeping a second [version][key] table. The walk costs vacuum a
// read of entries it deletes anyway, in the background; a second table would
// cost every exactly-once write one more B-tree insert (and vacuum one more
// delete) on the commit path, and could disagree with the log.
#include <lmdb.h>

#include <chrono>
#include <cstring>

#include "storage/key_encoding.h"
#include "storage/store.h"

namespace ormdb::storage {
namespace {

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view View(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

enum TableKind { kRows, kIndexes, kEdges, kLog };

// The tables vacuum visits, in order: every partition of the rows, the
// derived rows, every partition of the index entries and edges, the log.
std::vector<std::pair<MDB_dbi, TableKind>> VacuumTables(const Dbis& dbis) {
  std::vector<std::pair<MDB_dbi, TableKind>> tables;
  for (MDB_dbi dbi : dbis.rows) tables.emplace_back(dbi, kRows);
  tables.emplace_back(dbis.derived, kRows);
  for (MDB_dbi dbi : dbis.indexes) tables.emplace_back(dbi, kIndexes);
  for (MDB_dbi dbi : dbis.edges) tables.emplace_back(dbi, kEdges);
  tables.emplace_back(dbis.changelog, kLog);
  return tables;
}

}  // namespace

Version Store::ComputeHorizon(Version current) {
  const StoreOptions& o = env_->options();
  Version horizon = current;
  if (o.retention_versions > 0) {
    Version by_count = current >= o.retention_versions ? current - o.retention_versions + 1 : 0;
    horizon = std::min(horizon, by_count);
  }
  if (o.retention_seconds > 0) {
    // The oldest version committed within the window (scan the log from its
    // start: what precedes the window is about to be removed anyway).
    int64_t cutoff = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() -
                     o.retention_seconds * 1000000;
    Version by_time = current;
    auto txn = BeginRead();
    if (txn.ok()) {
      MDB_cursor* cur = nullptr;
      if (mdb_cursor_open((*txn)->txn_, env_->dbis().changelog, &cur) == 0) {
        MDB_val k, v;
        int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        while (rc == 0) {
          auto t = PeekCommitTime(View(v));
          Version ver = GetU64BE(static_cast<const char*>(k.mv_data));
          if (!t.ok() || *t >= cutoff) {
            by_time = ver - 1;  // the state just before it is still wanted
            break;
          }
          rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(cur);
      }
    } else {
      by_time = oldest_readable_version();
    }
    horizon = std::min(horizon, by_time);
  }
  MutexLock lock(&pins_mu_);
  if (!pins_.empty()) horizon = std::min(horizon, *pins_.begin());
  horizon = std::max(horizon, oldest_readable_version());
  // Raised before any data goes, under pins_mu_: a Pin() from now on sees it.
  oldest_.store(horizon, std::memory_order_release);
  return horizon;
}

Result<bool> Store::VacuumStep(WriteTxn& txn, Version horizon, VacuumStats* stats) {
  std::string value;
  PutU64BE(&value, horizon);
  {
    MDB_val k = Val("min_readable"), v = Val(value);
    int rc = mdb_put(txn.txn_, env_->dbis().meta, &k, &v, 0);
    if (rc != 0) return txn.Fail(rc, "vacuum");
  }
  const std::vector<std::pair<MDB_dbi, TableKind>> tables = VacuumTables(env_->dbis());
  const size_t table_count = tables.size();
  size_t budget = std::max<size_t>(env_->options().vacuum_batch, 1);
  std::vector<std::string> doomed;
  // Request keys of the doomed log entries, with their versions.
  std::vector<std::pair<std::string, Version>> doomed_requests;
  while (vacuum_table_ < table_count && budget > 0) {
    const auto [table, kind] = tables[vacuum_table_];
    MDB_cursor* cur = nullptr;
    int rc = mdb_cursor_open(txn.txn_, table, &cur);
    if (rc != 0) return txn.Fail(rc, "vacuum");
    MDB_val k, v;
    if (vacuum_resume_key_.empty()) {
      rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    } else {
      k = Val(vacuum_resume_key_);
      rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    // Rows: the [type][id] group being examined and whether its version
    // visible at the horizon was already met.
    std::string group;
    bool met_visible = false;
    bool finished_table = false;
    while (true) {
      if (rc == MDB_NOTFOUND) {
        finished_table = true;
        break;
      }
      if (rc != 0) {
        mdb_cursor_close(cur);
        return txn.Fail(rc, "vacuum");
      }
      std::string_view key = View(k);
      std::string_view val = View(v);
      if (kind == kRows) {
        RowKeyParts row;
        if (!env_->keys().ParseRowKey(key, &row)) return Internal("vacuum: corrupted row key");
        std::string_view g = key.substr(0, row.row_prefix);
        if (g != group) {
          if (budget == 0) {  // stop only between rows
            vacuum_resume_key_.assign(key);
            break;
          }
          group.assign(g);
          met_visible = false;
        }
        if (row.version <= horizon) {
          bool tombstone = val.empty() || val[0] == kTombstoneTag;
          if (met_visible || tombstone) {
            doomed.emplace_back(key);
            stats->row_versions_removed++;
          }
          met_visible = true;
        }
      } else if (kind == kLog) {
        if (key.size() != 8) return Internal("vacuum: corrupted change log key");
        Version ver = GetU64BE(key.data());
        if (ver > horizon) {
          finished_table = true;  // the log is in version order
          break;
        }
        // An undecodable entry (which Check reports) still goes: blocking
        // vacuum on it would grow the file forever. Request entries it may
        // have named stay, and Check reports them as naming a lost version.
        auto keys = PeekRequestKeys(ver, val);
        if (keys.ok()) {
          for (std::string& request : *keys) doomed_requests.emplace_back(std::move(request), ver);
        }
        doomed.emplace_back(key);
        stats->log_entries_removed++;
      } else {
        if (budget == 0) {
          vacuum_resume_key_.assign(key);
          break;
        }
        // A malformed value (which Check reports) is kept.
        Version end = kOpenEnd;
        if (env_->keys().ReadEnd(val, &end) && end <= horizon) {
          doomed.emplace_back(key);
          (kind == kIndexes ? stats->index_entries_removed : stats->edges_removed)++;
        }
      }
      if (budget > 0) --budget;
      if (kind == kLog && budget == 0) {
        // Resume after this key next step.
        vacuum_resume_key_.assign(key);
        vacuum_resume_key_.push_back('\0');
        break;
      }
      rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    for (const std::string& key : doomed) {
      MDB_val dk = Val(key);
      rc = mdb_del(txn.txn_, table, &dk, nullptr);
      if (rc != 0 && rc != MDB_NOTFOUND) return txn.Fail(rc, "vacuum");
    }
    doomed.clear();
    for (const auto& [request, ver] : doomed_requests) {
      // Only the entry this log entry wrote: a key recorded again after its
      // first outcome was vacuumed belongs to a later version.
      MDB_val rk = Val(request), rv;
      rc = mdb_get(txn.txn_, env_->dbis().requests, &rk, &rv);
      if (rc == MDB_NOTFOUND) continue;
      if (rc != 0) return txn.Fail(rc, "vacuum");
      if (rv.mv_size < 8 || GetU64BE(static_cast<const char*>(rv.mv_data)) != ver) continue;
      rc = mdb_del(txn.txn_, env_->dbis().requests, &rk, nullptr);
      if (rc != 0 && rc != MDB_NOTFOUND) return txn.Fail(rc, "vacuum");
      stats->request_entries_removed++;
    }
    doomed_requests.clear();
    if (finished_table) {
      ++vacuum_table_;
      vacuum_resume_key_.clear();
    }
  }
  if (vacuum_table_ >= table_count) {
    vacuum_table_ = 0;
    vacuum_resume_key_.clear();
    return true;
  }
  return false;
}

Result<VacuumStats> Store::Vacuum() {
  MutexLock vacuum_lock(&vacuum_mu_);
  const auto started = std::chrono::steady_clock::now();
  VacuumStats stats;
  stats.horizon = ComputeHorizon(current_version());
  vacuum_table_ = 0;
  vacuum_resume_key_.clear();
  bool done = false;
  while (!done) {
    Version horizon = stats.horizon;
    std::future<Result<Version>> f =
        SubmitMaintenance([this, horizon, &stats, &done](WriteTxn& txn) -> Status {
          VacuumStats step = stats;
          auto r = VacuumStep(txn, horizon, &step);
          if (!r.ok()) return r.status();
          stats = step;
          done = *r;
          return Status::Ok();
        });
    Result<Version> r = f.get();
    if (!r.ok()) return r.status().WithContext("vacuum");
    stats.steps++;
  }
  vacuums_.fetch_add(1, std::memory_order_relaxed);
  vacuum_rows_.fetch_add(stats.row_versions_removed, std::memory_order_relaxed);
  vacuum_index_.fetch_add(stats.index_entries_removed, std::memory_order_relaxed);
  vacuum_edges_.fetch_add(stats.edges_removed, std::memory_order_relaxed);
  vacuum_log_.fetch_add(stats.log_entries_removed, std::memory_order_relaxed);
  vacuum_requests_.fetch_add(stats.request_entries_removed, std::memory_order_relaxed);
  vacuum_micros_.Observe(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count()));
  return stats;
}

}  // namespace ormdb::storage
