// Store: the MVCC row store on LMDB. The only way other modules reach
// storage; no LMDB type leaves storage/.
//
// Threading: every method is thread-safe. Reads run on the caller's thread in
// short read transactions; all writes run on one writer thread that batches
// queued transactions into group commits (see docs/STORAGE.md, "Group
// commit").
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/ids.h"
#include "common/mutex.h"
#include "observability/metrics.h"
#include "ormdb/status.h"
#include "storage/change_log.h"
#include "storage/env.h"
#include "storage/options.h"
#include "storage/txn.h"

namespace ormdb::storage {

// A client transaction. It may run more than once (after map growth the whole
// group is replayed), so it must have no effect outside the WriteTxn it gets.
// Returning an error rolls back this transaction alone.
using TxnFn = std::function<Status(WriteTxn&)>;

struct StoreStats {
  Version current_version = 0;
  Version oldest_readable_version = 0;
  uint64_t transactions_committed = 0;  // client transactions acknowledged
  uint64_t transactions_failed = 0;     // rolled back (their own error)
  uint64_t group_commits = 0;           // LMDB commits (one fsync each when durable)
  uint64_t map_grows = 0;
  size_t map_size = 0;
  size_t map_used = 0;  // bytes up to the last page written
  size_t pinned_versions = 0;
  // Client transactions per group commit, and each group commit's LMDB
  // commit (its write and fsync) in microseconds.
  observability::HistogramSnapshot group_sizes;
  observability::HistogramSnapshot commit_micros;
  // Vacuum runs that finished, what they removed in all, and each run's
  // time in microseconds.
  uint64_t vacuums = 0;
  uint64_t vacuum_row_versions_removed = 0;
  uint64_t vacuum_index_entries_removed = 0;
  uint64_t vacuum_edges_removed = 0;
  uint64_t vacuum_log_entries_removed = 0;
  uint64_t vacuum_request_entries_removed = 0;
  observability::HistogramSnapshot vacuum_micros;
  // The row cache (StoreOptions::row_cache_bytes); all zero when it is off.
  RowCacheStats row_cache;
  // Read transactions kept open for their thread's next read
  // (storage/kept_reads.h): idle now, and reads that reused one.
  size_t reads_kept = 0;
  uint64_t reads_reused = 0;
};

// Entries per table, from LMDB's page headers (O(1), no scan).
struct TableSizes {
  uint64_t row_versions = 0;   // every stored row version and tombstone
  uint64_t index_entries = 0;  // current and ended
  uint64_t edge_entries = 0;   // both directions
  uint64_t log_entries = 0;
  uint64_t request_entries = 0;  // recorded request outcomes (exactly-once writes)
};

// The live rows of one entity type (rows whose newest version is not a
// tombstone), from the counter the store keeps.
struct RowCount {
  EntityTypeId type{0};
  uint64_t rows = 0;
};

struct VacuumStats {
  Version horizon = 0;  // the oldest readable version after this run
  uint64_t row_versions_removed = 0;
  uint64_t index_entries_removed = 0;
  uint64_t edges_removed = 0;
  uint64_t log_entries_removed = 0;
  uint64_t request_entries_removed = 0;
  uint64_t steps = 0;  // write transactions used
};

struct CheckReport {
  Version current_version = 0;
  Version oldest_readable_version = 0;
  uint64_t row_versions = 0;
  uint64_t index_entries = 0;
  uint64_t edge_entries = 0;  // both directions
  uint64_t log_entries = 0;
  uint64_t request_entries = 0;
  uint64_t live_rows = 0;             // counted from the rows (and compared with the counters)
  std::vector<std::string> problems;  // empty when every invariant holds (first 100 kept)
};

class Store;

// Keeps a version readable (vacuum will not remove what a read at it needs)
// for as long as the handle lives. Move-only.
class SnapshotPin {
 public:
  SnapshotPin() = default;
  SnapshotPin(SnapshotPin&& o) noexcept { *this = std::move(o); }
  SnapshotPin& operator=(SnapshotPin&& o) noexcept;
  ~SnapshotPin() { Release(); }
  Version version() const { return version_; }
  bool active() const { return store_ != nullptr; }
  void Release();

 private:
  friend class Store;
  SnapshotPin(Store* store, Version v) : store_(store), version_(v) {}
  Store* store_ = nullptr;
  Version version_ = 0;
};

class Store {
 public:
  // Opens or creates the data directory (see Env::Open for the errors) and
  // starts the writer thread.
  static Result<std::unique_ptr<Store>> Open(const std::string& dir,
                                             const StoreOptions& options = {},
                                             bool create_if_missing = true);
  // Finishes every queued transaction, then stops the writer.
  ~Store();

  // The newest committed version (0 for an empty store).
  Version current_version() const { return current_.load(std::memory_order_acquire); }
  // The oldest version reads and change-log reads may ask for.
  Version oldest_readable_version() const { return oldest_.load(std::memory_order_acquire); }

  // Begins a read at version `at` (nullopt = current). HISTORY_LOST below the
  // oldest readable version, INVALID_ARGUMENT above the current one.
  Result<std::unique_ptr<ReadTxn>> BeginRead(std::optional<Version> at = std::nullopt);

  // Queues a transaction; the future yields its commit version once the data
  // is durable, or its error. UNAVAILABLE after shutdown began.
  std::future<Result<Version>> Submit(TxnFn fn);
  // Submit and wait. REQUIRES: the calling thread holds no ReadTxn (map
  // growth waits for read transactions to end).
  Result<Version> Commit(TxnFn fn) { return Submit(std::move(fn)).get(); }
  // Queues a maintenance transaction: it runs on the writer thread like a
  // client transaction but commits no version and no change-log entry, so
  // no snapshot sees it as a change. For data derived from the rows that
  // readers do not read as of a version (vacuum's removals, the fetch
  // statistics' saved copy). The future yields the current version once
  // the write is durable, or its error.
  std::future<Result<Version>> SubmitMaintenance(TxnFn fn);

  // Visits the change sets of versions after `after` in order, up to the
  // current version or until `visit` returns false. HISTORY_LOST when
  // `after` is below the oldest readable version (its successors are gone).
  Status ReadChanges(Version after, const std::function<bool(const ChangeSet&)>& visit);

  // Blocks until current_version() > v or the timeout passes; returns the
  // current version.
  Version WaitForVersionAfter(Version v, std::chrono::milliseconds timeout);

  // Pins `v` (HISTORY_LOST if it is already below retention).
  Result<SnapshotPin> Pin(Version v);

  // Removes history older than the retention horizon and not pinned, in steps
  // of options.vacuum_batch keys, each its own write transaction on the
  // writer thread (client commits interleave between steps).
  Result<VacuumStats> Vacuum();

  // Verifies the storage invariants (key and value shapes, interval order,
  // edge mirrors, a gap-free change log up to the current version, every
  // recorded request outcome backed by a request record in the log entry of
  // its version and the reverse, every type's live row counter equal to its
  // live rows) on one snapshot. Problems found are reported, not errors;
  // errors are I/O.
  Result<CheckReport> Check();

  StoreStats stats() const;
  Result<TableSizes> table_sizes();
  // The live row count of every entity type that has had rows, in type id
  // order, read from the counters each write transaction updates (one meta
  // read per type, no row scan). Exact at the current version.
  Result<std::vector<RowCount>> RowCounts();
  const std::string& dir() const { return env_->dir(); }
  // 16 bytes that identify this database (see Env::database_id).
  const std::string& database_id() const { return env_->database_id(); }

 private:
  struct Pending {
    TxnFn fn;
    std::promise<Result<Version>> done;
    bool maintenance = false;  // runs without a version, change log or ack version
    std::optional<Result<Version>> result;
  };

  explicit Store(std::unique_ptr<Env> env);
  std::future<Result<Version>> Enqueue(TxnFn fn, bool maintenance);
  Status LoadState();
  // A data file written before the row counters were kept: counts the live
  // rows once and writes the counters. REQUIRES: the writer is not running.
  Status EnsureRowCounts();
  void WriterLoop();
  void RunGroup(std::vector<std::unique_ptr<Pending>>& group);
  struct GroupAttempt {
    bool map_full = false;  // replay after growing the map
    int map_full_at = -1;   // the transaction that hit it, -1 = the group commit
    Status error;           // a failure of the whole group
  };
  // One attempt at a group commit; sets each transaction's result on success.
  GroupAttempt TryGroup(std::vector<std::unique_ptr<Pending>>& group);
  Version ComputeHorizon(Version current);
  Result<bool> VacuumStep(WriteTxn& txn, Version horizon, VacuumStats* stats);
  void Unpin(Version v);
  friend class SnapshotPin;

  std::unique_ptr<Env> env_;
  std::atomic<Version> current_{0};
  std::atomic<Version> oldest_{0};
  // Null when StoreOptions::row_cache_bytes is 0.
  std::unique_ptr<RowCache> row_cache_;

  Mutex queue_mu_;
  CondVar queue_cv_;
  std::deque<std::unique_ptr<Pending>> queue_ GUARDED_BY(queue_mu_);
  bool stopping_ GUARDED_BY(queue_mu_) = false;

  Mutex version_mu_;
  CondVar version_cv_;

  mutable Mutex pins_mu_;
  std::multiset<Version> pins_ GUARDED_BY(pins_mu_);

  // Size of the last client group, touched only on the writer thread.
  size_t last_group_size_ = 1;
  // One Vacuum() at a time; it owns the vacuum position below.
  Mutex vacuum_mu_;
  // Vacuum position, touched only by steps on the writer thread.
  size_t vacuum_table_ = 0;
  std::string vacuum_resume_key_;

  std::atomic<uint64_t> committed_{0}, failed_{0}, group_commits_{0}, map_grows_{0};
  observability::Histogram group_sizes_{observability::Histogram::Sizes()};
  observability::Histogram commit_micros_{observability::Histogram::LatencyMicros()};
  // What finished vacuum runs removed (see StoreStats), in VacuumStats order.
  std::atomic<uint64_t> vacuums_{0}, vacuum_rows_{0}, vacuum_index_{0}, vacuum_edges_{0},
      vacuum_log_{0}, vacuum_requests_{0};
  observability::Histogram vacuum_micros_{observability::Histogram::LatencyMicros()};
  std::thread writer_;
};

}  // namespace ormdb::storage
