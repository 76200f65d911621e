// Env: one data directory = one LMDB environment, held by one process.
//
// Internal to storage/: other modules use Store (store.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ormdb/status.h"
#include "storage/keys.h"
#include "storage/options.h"

typedef struct MDB_env MDB_env;
typedef struct MDB_txn MDB_txn;
typedef unsigned int MDB_dbi;

namespace ormdb::storage {

// The on-disk format new data files are written in. Bump on any incompatible
// change of docs/STORAGE.md; older formats stay readable (or are upgraded
// explicitly, never silently), and newer ones are refused.
//   1: one table each for rows, index entries and edges.
//   2: rows, index entries and edges spread over partitions (kRowPartitions
//      tables "rows.N", ...), chosen by type, index or relation id modulo
//      the count, so one type's new rows append at the end of a B-tree of
//      their own and fill its pages instead of splitting them in the middle.
//   3: keys with compact integers (KeyLayout in keys.h): ids, versions and
//      type, index and relation ids in as few bytes as they need, and an
//      empty value for an index entry or edge that is still current.
inline constexpr uint32_t kFormatVersion = 3;
inline constexpr uint32_t kOldestFormatVersion = 1;
inline constexpr std::string_view kFormatMagic = "ORMDB-STORE";
inline constexpr uint32_t kRowPartitions = 32;
inline constexpr uint32_t kIndexPartitions = 32;
inline constexpr uint32_t kEdgePartitions = 8;
// LMDB table handles: every partition, the other tables and room for more.
inline constexpr unsigned kMaxTables = 96;
static_assert(kRowPartitions + kIndexPartitions + kEdgePartitions + 5 < kMaxTables,
              "every table of a format-2 file needs a handle");

struct Dbis {
  MDB_dbi meta = 0;
  // The partitions: one table each in format 1.
  std::vector<MDB_dbi> rows;
  std::vector<MDB_dbi> indexes;
  std::vector<MDB_dbi> edges;
  MDB_dbi changelog = 0;
  MDB_dbi requests = 0;
  MDB_dbi derived = 0;  // rows of derived types (IsDerivedType)

  MDB_dbi RowsOf(uint32_t type) const { return rows[type % rows.size()]; }
  MDB_dbi IndexesOf(uint32_t index) const { return indexes[index % indexes.size()]; }
  MDB_dbi EdgesOf(uint32_t relation) const { return edges[relation % edges.size()]; }
};

// Maps an LMDB return code to a Status: MDB_MAP_FULL / MDB_TXN_FULL /
// MDB_READERS_FULL / ENOSPC / EDQUOT to RESOURCE_EXHAUSTED, the rest to
// INTERNAL. Env::Error says more where the data directory is known.
Status LmdbError(int rc, std::string_view what);

// Below this many free bytes on its file system, an EIO from a write of the
// data file is taken for the short write LMDB reports when the disk fills.
inline constexpr uint64_t kDiskFullFreeBytes = uint64_t{1} << 20;

class KeptReads;

class Env {
 public:
  // Opens (or, with create_if_missing, creates) the data directory `dir`.
  // Fails with NOT_FOUND when it does not exist and create_if_missing is
  // false; UNAVAILABLE "in use by pid N" when another Env holds it (in this or
  // another process); INTERNAL with the reason for a foreign, corrupted or
  // newer-format data file. Clears stale reader slots left by dead processes.
  static Result<std::unique_ptr<Env>> Open(const std::string& dir, const StoreOptions& options,
                                           bool create_if_missing);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  MDB_env* raw() const { return env_; }
  const Dbis& dbis() const { return dbis_; }
  // The format of this data file (1 or kFormatVersion).
  uint32_t format() const { return format_; }
  // How this file's keys are laid out (its format's).
  const KeyLayout& keys() const { return keys_; }
  const std::string& dir() const { return dir_; }
  const StoreOptions& options() const { return options_; }
  size_t map_size() const { return map_size_.load(std::memory_order_relaxed); }
  // Bytes of the map in use: the pages up to the last one the latest commit
  // wrote (free pages inside count as used; LMDB reuses them first).
  size_t map_used() const;

  // Maps the return code `rc` of a write, commit or map growth on this data
  // directory to a Status (LmdbError's mapping, plus the directory and what
  // to do):
  //   - ENOSPC and EDQUOT, and EIO while the file system holding the
  //     directory has less than kDiskFullFreeBytes free (LMDB turns a short
  //     write into EIO; with the disk that full, that is what it was), give
  //     RESOURCE_EXHAUSTED "...; free space on the file system holding DIR,
  //     then retry". Nothing of the failed transaction remains, and the next
  //     write succeeds once space is free.
  //   - any other system error (an EIO on a disk with room) stays INTERNAL,
  //     naming the directory.
  // Thread-safe.
  Status Error(int rc, std::string_view what) const;
  // 16 random bytes chosen when the data file was first opened by a build
  // that knows them; they tell one database from another (cursor checksums).
  const std::string& database_id() const { return database_id_; }

  // Doubles the map (capped at max_map_size). Takes resize_mutex exclusively,
  // so it waits for every live read transaction to end.
  // REQUIRES: called on the writer thread with no write transaction live.
  // RESOURCE_EXHAUSTED when the map is already at max_map_size; UNAVAILABLE
  // when read transactions stay open longer than map_growth_wait_millis (a
  // thread must never wait for a commit while holding a ReadTxn).
  Status Grow();

  // Every read transaction holds this shared; Grow() holds it exclusively,
  // because LMDB may only resize the map with no transaction live.
  std::shared_timed_mutex& resize_mutex() { return resize_mutex_; }
  // Each thread's last read transaction, kept for its next read
  // (storage/kept_reads.h); null before the environment is open.
  KeptReads* kept_reads() { return kept_reads_.get(); }

 private:
  Env() = default;
  Status OpenLmdb(bool creating);
  Status CreateTables();
  Status OpenTables();
  // Creates the tables added after format 1 was first released (`requests`)
  // in a data file written by an earlier build.
  Status CreateAddedTables();
  // Reads the database id, creating it when the file has none yet.
  Status LoadDatabaseId();
  // Free bytes on the file system holding dir_ (FaultHooks::free_bytes when
  // set); UINT64_MAX when unknown.
  uint64_t FreeBytes() const;
  // The tables every data file of `format` has (meta aside), and those added
  // to format 1 later (created at open when missing).
  std::vector<std::pair<std::string, MDB_dbi*>> Tables(uint32_t format);
  std::vector<std::pair<std::string, MDB_dbi*>> AddedTables();

  std::string dir_;
  StoreOptions options_;
  int lock_fd_ = -1;
  MDB_env* env_ = nullptr;
  Dbis dbis_;
  uint32_t format_ = kFormatVersion;
  KeyLayout keys_{kFormatVersion};
  std::atomic<size_t> map_size_{0};
  std::string database_id_;
  std::shared_timed_mutex resize_mutex_;
  std::shared_ptr<KeptReads> kept_reads_;
};

}  // namespace ormdb::storage
