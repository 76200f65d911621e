// Options of the storage engine. Each field documents its default and the
// trade-off it makes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "common/ids.h"

namespace ormdb::storage {

enum class SyncMode : uint8_t {
  // Every group commit is fsynced before any of its transactions is
  // acknowledged: an acknowledged commit survives kill -9 and power loss.
  kDurable = 0,
  // No fsync (MDB_NOSYNC): survives kill -9 of the process (the OS page cache
  // keeps the data) but a power loss or OS crash can lose every commit since
  // the last checkpoint the OS happened to write. Opt-in only.
  kNoSync = 1,
};

// Test seam: lets a test make the Nth LMDB write or commit fail, so error paths
// are exercised rather than hoped for. The fail_* hooks return true to inject
// a failure (reported as INTERNAL "injected fault"). The *_errno hooks return
// 0 to go on, or an errno (ENOSPC, EIO, ...) that the operation then reports
// as if LMDB had returned it, so the mapping of system errors (disk full) and
// the recovery after them are tested without filling a disk.
struct FaultHooks {
  std::function<bool()> fail_write;   // before every put / delete
  std::function<bool()> fail_commit;  // before every LMDB (group) commit
  std::function<int()> write_errno;   // before every put / delete
  std::function<int()> commit_errno;  // before every LMDB (group) commit
  std::function<int()> grow_errno;    // before every map growth (mdb_env_set_mapsize)
  // Free bytes on the data directory's file system as the disk-full test of
  // an EIO sees them (see Env::Error); unset = statvfs.
  std::function<uint64_t()> free_bytes;
};

struct StoreOptions {
  // Initial LMDB map size. Default 64 MiB: small data directories stay small
  // on disk; the map grows on demand (doubling) up to max_map_size.
  size_t initial_map_size = size_t{64} << 20;
  // Hard limit of the map (and so of the data file). Default 1 TiB of address
  // space; past it writes fail with RESOURCE_EXHAUSTED and data stays intact.
  size_t max_map_size = size_t{1} << 40;
  // How long map growth waits for open read transactions to end before the
  // transaction that needed the space fails with UNAVAILABLE (retryable).
  // Reads are short, so only a stuck reader hits this. Default 10 s.
  int64_t map_growth_wait_millis = 10000;
  // Concurrent read transactions the environment supports (LMDB reader slots).
  unsigned max_readers = 510;
  SyncMode sync_mode = SyncMode::kDurable;
  // At most this many client transactions share one LMDB commit (one fsync).
  // Larger groups amortize fsync better; smaller ones bound the latency of the
  // first transaction of a group. Default 512.
  size_t max_group_size = 512;
  // When fewer transactions are queued than the previous group held, the
  // writer waits up to this long for the rest before committing, so that
  // clients woken by the previous commit share the next fsync. Costs at most
  // this much latency, and only when the last group had several clients; a
  // lone client never waits. 0 disables. Default 200 µs (an fsync on a
  // typical SSD takes longer).
  int64_t group_commit_window_micros = 200;
  // History retention. A version is kept readable (as-of reads, change stream
  // resume) while it is within either window: the newest retention_versions
  // versions, or committed in the last retention_seconds. Zero disables a rule;
  // with both zero only the latest state is kept. Pinned versions are always
  // kept. Defaults: one hour, no count rule.
  Version retention_versions = 0;
  int64_t retention_seconds = 3600;
  // Rows/index entries/edges/log entries examined per vacuum step (one LMDB
  // write transaction). Small steps keep the writer responsive. Default 2000.
  size_t vacuum_batch = 2000;
  // Bytes of process memory for the row cache: the newest version of rows
  // read by point lookups, so that a hot row is found without descending the
  // B-tree (see storage/row_cache.h). Filled only by reads; every commit
  // drops the rows it wrote. 0 turns it off. Default 64 MiB.
  size_t row_cache_bytes = size_t{64} << 20;
  // The on-disk format a new data file is written in; 0 is the newest
  // (kFormatVersion). Tests write older formats to check they stay readable.
  uint32_t create_format = 0;
  FaultHooks faults;
};

}  // namespace ormdb::storage
