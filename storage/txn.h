// Transactions over the store: ReadTxn (a short LMDB read transaction bound
// to one snapshot version) and WriteTxn (one client transaction inside a group
// commit, on the writer thread).
//
// MVCC visibility (see docs/STORAGE.md for the full note):
//   - a row version written at v is visible at snapshot s when it is the
//     newest version with v <= s and it is not a tombstone;
//   - an index entry or edge [begin, end) is visible at s when begin <= s < end.
// A WriteTxn reads at its own version: it sees everything committed before it
// plus its own writes.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "ormdb/status.h"
#include "storage/change_log.h"
#include "storage/env.h"
#include "storage/kept_reads.h"
#include "storage/keys.h"
#include "storage/row_cache.h"

typedef struct MDB_cursor MDB_cursor;

namespace ormdb::storage {

// A row as read: `bytes` is the row encoding and lives in an LMDB page, so it
// dies with the transaction that read it (copy it to keep it).
struct RowRecord {
  std::string_view bytes_in_txn;
  Version version = 0;  // the version of the row's last change
};

// One entry of a row's history, newest first.
struct RowVersionRecord {
  Version version = 0;
  bool deleted = false;
  std::string bytes;  // empty when deleted
};

struct IndexEntry {
  std::string_view value_part_in_txn;  // encoded values (or truncated + hash)
  RowId id = 0;
  // The values were too long for a key: the entry may match values that only
  // share a prefix; recheck against the row.
  bool truncated = false;
};

enum class ScanDirection : uint8_t { kForward, kBackward };

// What a committed write answered (exactly-once writes, DESIGN.md §7): the
// version it committed as and its outcome, opaque bytes chosen by the caller
// (the server keeps the reply it sent).
struct RequestOutcome {
  Version version = 0;
  std::string outcome;
  bool operator==(const RequestOutcome&) const = default;
};

// Read methods shared by ReadTxn and WriteTxn, all at one snapshot version.
// Not thread-safe: one thread uses a transaction at a time.
class TxnReader {
 public:
  virtual ~TxnReader();
  TxnReader(const TxnReader&) = delete;
  TxnReader& operator=(const TxnReader&) = delete;

  // The snapshot version reads are made at.
  Version snapshot() const { return at_; }
  // The longest value part an index key of this data file holds before it
  // is truncated (IndexValuePart's max_bytes; KeyLayout).
  size_t max_index_value_bytes() const { return env_->keys().max_index_value_bytes(); }

  // The row visible at the snapshot, or nullopt when absent or deleted.
  Result<std::optional<RowRecord>> Get(EntityTypeId type, RowId id);
  // A hint that Get of these rows follows: the row cache starts loading
  // their entries (RowCache::Prefetch). Reads nothing, fails never.
  void PrefetchRows(EntityTypeId type, std::span<const RowId> ids) {
    if (row_cache_) row_cache_->Prefetch(type.value, ids);
  }
  // The cheaper hint for long runs of lookups: RowCache::PrefetchSlots.
  void PrefetchRowSlots(EntityTypeId type, std::span<const RowId> ids) const {
    if (row_cache_) row_cache_->PrefetchSlots(type.value, ids);
  }
  // The bytes of the row as of version `at` (<= the snapshot), read from the
  // rows table (never the row cache); nullopt when absent or deleted there.
  // Change log entries name row images this way (see RowImageReader).
  Result<std::optional<std::string>> RowImageAt(EntityTypeId type, RowId id, Version at);

  // Every stored version of a row, newest first (tombstones included), as
  // far back as retention keeps them; versions above the snapshot excluded.
  Result<std::vector<RowVersionRecord>> History(EntityTypeId type, RowId id);

  // Visits the rows of `type` visible at the snapshot in id order, starting at
  // `start` (inclusive; forward from it or backward from it). `visit` returns
  // false to stop.
  Status ScanRows(EntityTypeId type, RowId start, ScanDirection dir,
                  const std::function<bool(RowId, const RowRecord&)>& visit);

  // Visits the visible entries of `index` whose value part lies in
  // [lower, upper) (upper empty = to the end of the index), in key order or
  // reversed. Bounds are value parts as built by IndexValuePart (an equality
  // match on a prefix p is [p, PrefixSuccessor(p))).
  Status ScanIndex(IndexId index, std::string_view lower, std::string_view upper, ScanDirection dir,
                   const std::function<bool(const IndexEntry&)>& visit);

  // Visits the ids linked to `from` in relation `rel`, direction `dir`
  // (forward = from the side the relation was declared on), in ascending id
  // order or, with ScanDirection::kBackward, descending.
  Status ScanEdges(RelationId rel, EdgeDirection dir, RowId from,
                   const std::function<bool(RowId to)>& visit,
                   ScanDirection order = ScanDirection::kForward);
  Result<bool> EdgeExists(RelationId rel, RowId from, RowId to);

  // Non-versioned metadata stored by upper layers (the catalog); keys are
  // namespaced under "x:" internally. nullopt when absent.
  Result<std::optional<std::string>> GetMeta(std::string_view key);

  // The outcome recorded for request `key` by a transaction visible at the
  // snapshot: committed at or before it, or, in a WriteTxn, an earlier
  // transaction of the same group or this one. nullopt when none is, which
  // includes a request whose version was vacuumed (an outcome is kept exactly
  // as long as its change log entry). INVALID_ARGUMENT for an empty key or one
  // longer than kMaxRequestKeyBytes; INTERNAL for a malformed entry.
  Result<std::optional<RequestOutcome>> FindRequest(std::string_view key);

  // Visits the change sets with versions in (after, snapshot] that are still
  // in the change log, in order, until `visit` returns false. Used to
  // re-check, inside a write transaction, what changed since an earlier
  // snapshot.
  Status ChangesBetween(Version after, const std::function<bool(const ChangeSet&)>& visit);

 protected:
  TxnReader(Env* env, MDB_txn* txn, Version at) : env_(env), txn_(txn), at_(at) {}
  // Opens (once) and returns the cursor cached for `dbi`.
  Result<MDB_cursor*> Cursor(MDB_dbi dbi);
  // Called before an index table is read (ScanIndex): a write transaction
  // writes the entries it deferred to that table first.
  virtual Status BeforeIndexRead(MDB_dbi /*dbi*/) { return Status::Ok(); }
  // The table holding `type`'s rows: its partition of `rows`, or `derived`
  // for a derived type; and that table's cursor.
  MDB_dbi RowTable(EntityTypeId type) const;
  Result<MDB_cursor*> RowCursor(EntityTypeId type) { return Cursor(RowTable(type)); }
  void CloseCursors();
  // Moves this transaction's open cursors into `held` (a read transaction
  // kept for the thread's next read), or takes them from it (its reuse).
  void ReleaseCursors(HeldRead* held);
  void AdoptCursors(const HeldRead& held);
  Env* env_;
  MDB_txn* txn_;
  Version at_;
  // The store's row cache, for a read-only transaction (a write transaction
  // reads its own writes from LMDB); null when off. Entries used by this
  // transaction stay pinned until it ends: RowRecords point into them.
  RowCache* row_cache_ = nullptr;
  std::vector<std::shared_ptr<const CachedRow>> pinned_rows_;

 private:
  // Indexed by table handle (below kMaxTables); opened_ lists the open ones.
  MDB_cursor* cursors_[kMaxTables] = {};
  uint8_t opened_[kMaxTables];
  unsigned opened_count_ = 0;
  // How often each cursor was handed out (Cursor): a scan whose visitor did
  // not take the scan's cursor finds it where it left it.
  uint32_t cursor_uses_[kMaxTables] = {};

 protected:
  // A write transaction: its puts and deletes move the cursors of the table
  // they write.
  bool writes_ = false;
};

// A read transaction at a fixed snapshot. Hold it briefly: it pins LMDB pages
// and blocks map growth; never across a client round trip.
class ReadTxn : public TxnReader {
 public:
  ~ReadTxn() override;

 private:
  friend class Store;
  ReadTxn(Env* env, MDB_txn* txn, Version at, std::shared_lock<std::shared_timed_mutex> lock,
          RowCache* row_cache)
      : TxnReader(env, txn, at), resize_lock_(std::move(lock)) {
    row_cache_ = row_cache;
  }
  std::shared_lock<std::shared_timed_mutex> resize_lock_;
};

// One client transaction on the writer thread. Everything it writes is
// recorded in its change set; it commits as version snapshot().
// Not thread-safe; used only inside the function passed to Store::Submit.
class WriteTxn : public TxnReader {
 public:
  ~WriteTxn() override;

  // The version this transaction commits as.
  Version version() const { return at_; }
  // The wall-clock commit time (UTC microseconds) recorded in the change log;
  // the value of @default(now).
  int64_t commit_time_micros() const { return changes_.commit_time_micros; }

  // Writes the row (insert or update). `row` is a row encoding. An insert
  // (no live row before) adds one to the type's live row count.
  Status PutRow(EntityTypeId type, RowId id, std::string_view row);
  // PutRow for a row the caller knows has no live version in this
  // transaction (a fresh id, or one looked up with Get in it): one B-tree
  // operation instead of a lookup and a write.
  Status InsertRow(EntityTypeId type, RowId id, std::string_view row);
  // Deletes the row and subtracts one from the type's live row count;
  // NOT_FOUND when it is absent.
  Status DeleteRow(EntityTypeId type, RowId id);

  // Writes (or, for DeleteDerived, ends if live) a record of a derived type
  // (IsDerivedType): a row version with no change-log record and no row
  // count, seen by Get at this transaction's version on.
  Status PutDerived(EntityTypeId type, RowId id, std::string_view bytes);
  Status DeleteDerived(EntityTypeId type, RowId id);

  // Adds an index entry for (values, id). With unique, fails with
  // CONSTRAINT_VIOLATION when another id holds the same values; the message
  // names that id. *conflicting_id (if given) receives it.
  // A non-unique entry is kept in memory until the transaction next reads
  // that index table (or ends) and then written with the others in key
  // order: a bulk insert fills the index's pages in order (appending where it
  // can) instead of descending the B-tree at random once per row.
  Status IndexInsert(IndexId index, std::string_view encoded_values, RowId id, bool unique,
                     RowId* conflicting_id = nullptr);
  // Whether (values, id) has a current entry (a point seek).
  Result<bool> IndexHasCurrent(IndexId index, std::string_view encoded_values, RowId id);
  // Ends the index entry for (values, id); NOT_FOUND when it is not current.
  Status IndexRemove(IndexId index, std::string_view encoded_values, RowId id);

  // Links / unlinks the pair in both directions. Return false when nothing
  // changed (already linked / not linked).
  Result<bool> Link(RelationId rel, RowId from, RowId to);
  Result<bool> Unlink(RelationId rel, RowId from, RowId to);

  // Allocates the next id of `type` (1, 2, ...). Ids given explicitly must be
  // registered with NoteId so allocation never reuses them.
  Result<RowId> AllocateId(EntityTypeId type);
  Status NoteId(EntityTypeId type, RowId id);

  Status PutMeta(std::string_view key, std::string_view value);
  // Attaches an opaque record to this transaction's change set.
  void Annotate(std::string data);

  // Records that this transaction is request `key` with `outcome`: from its
  // commit on, FindRequest(key) returns {version(), outcome}, and the change
  // log entry of version() holds a RequestRecord with the key. Rolled back
  // with the transaction. A replayed transaction (see TxnFn) records afresh:
  // the attempt that is rolled back leaves nothing behind.
  // INVALID_ARGUMENT for an empty key or one longer than kMaxRequestKeyBytes.
  // INTERNAL when the key is already recorded (by a committed transaction,
  // an earlier one of this group, or this one): a caller bug, since callers
  // look the key up with FindRequest first, in the same transaction, and
  // answer with the recorded outcome instead of writing.
  Status RecordRequest(std::string_view key, std::string_view outcome);

  // OK when the row's last change is at or before `version` (optimistic
  // concurrency); CONFLICT otherwise, NOT_FOUND when the row is absent.
  Status CheckRowUnchangedSince(EntityTypeId type, RowId id, Version version);

  bool map_full() const { return map_full_; }

  // Writes the deferred index entries (see IndexInsert). Store calls it
  // before the transaction ends; reads of an index table call it for that
  // table.
  Status FlushDeferredIndexes();

 private:
  friend class Store;
  WriteTxn(Env* env, MDB_txn* txn, Version version, int64_t commit_time)
      : TxnReader(env, txn, version) {
    writes_ = true;
    changes_.version = version;
    changes_.commit_time_micros = commit_time;
  }
  // Put's flags are LMDB's, or kAppendIfLast: append (MDB_APPEND) when the
  // key follows the table's last one, else put it where it goes.
  static constexpr unsigned kAppendIfLast = 0x80000000u;
  Status Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0);
  Status Del(MDB_dbi dbi, std::string_view key);
  // Writes the row's new version; `before` is its live bytes (null: none).
  Status WriteRowVersion(EntityTypeId type, RowId id, std::string_view row,
                         const std::string_view* before);
  Status Fail(int rc, std::string_view what);
  Status BeforeIndexRead(MDB_dbi dbi) override;
  // The non-unique index entries of one table not yet written: their keys
  // (back to back in `bytes`), all with the open end as value.
  struct DeferredIndexPuts {
    std::string bytes;
    std::vector<std::pair<uint32_t, uint32_t>> keys;  // offset, length in bytes
  };
  Status FlushDeferred(MDB_dbi dbi, DeferredIndexPuts& puts);
  Status SeekIndexEntry(IndexId index, std::string_view encoded_values, RowId id, std::string* key,
                        bool* current);
  Status SetEdge(RelationId rel, EdgeDirection dir, RowId from, RowId to, bool link, bool* changed);
  // Links or unlinks in both directions and records the change.
  Result<bool> SetPair(RelationId rel, RowId from, RowId to, bool link);
  Result<RowId> NextId(EntityTypeId type);
  Status SetNextId(EntityTypeId type, RowId next);
  // Writes this transaction's counters to `meta`, in this transaction: the
  // changes of the live row counts (see RowCountKey) and the id counters
  // AllocateId and NoteId moved (kept here until then: one write per type
  // rather than one per row).
  Status FlushCounters();
  // Flushes the counters, writes the change log entry and the new current
  // version.
  Status Finish();

  ChangeSet changes_;
  // Live rows added (inserts) minus removed (deletes) per entity type.
  std::map<uint32_t, int64_t> row_count_deltas_;
  // The id counter of each type this transaction read or moved.
  struct NextIdState {
    RowId next = 1;
    bool dirty = false;
  };
  std::map<uint32_t, NextIdState> next_ids_;
  bool map_full_ = false;
  // Deferred index entries by table handle (null: none); deferred_count_
  // counts the tables that have some.
  std::unique_ptr<DeferredIndexPuts> deferred_[kMaxTables];
  unsigned deferred_count_ = 0;
  // Every row and derived record written: what the row cache drops when the
  // group commits.
  std::vector<RowCache::Key> written_rows_;
};

}  // namespace ormdb::storage
