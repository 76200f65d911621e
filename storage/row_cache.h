// RowCache: the newest version of recently read rows, kept in process memory
// so that a point read of a hot row skips the LMDB B-tree descent (four or so
// pages of an mmap'ed file, each a likely cache and TLB miss).
//
// What an entry means: "the row's newest committed version is `version`, with
// these bytes". A read at snapshot s may use it exactly when version <= s:
// no newer version exists at all, so the entry's version is the one visible
// at s. Deleted and absent rows are not cached.
//
// Keeping entries true (the writer's side): every row written by a group
// commit is invalidated after the LMDB commit and before the group's versions
// are published to new readers. A reader offers a row it read at snapshot s
// only while no commit newer than s has been invalidated (such a commit may
// have changed the row after the reader read it, and its invalidation may
// already have run and found nothing to erase). Readers that
// began before a commit therefore never plant a stale entry, and readers that
// begin after it read the new version from LMDB.
//
// Memory: at most `capacity_bytes` of entries (bytes plus a fixed overhead),
// evicted by CLOCK (second chance) per shard. Thread-safe; each operation
// takes one shard's mutex.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ids.h"
#include "common/mutex.h"

namespace ormdb::storage {

// A cached row version: its version and bytes, laid out right after the
// reference count of the shared_ptr that holds it (one allocation), so a hit
// reads the count, the version and the row's first bytes from one cache line.
class CachedRow {
 public:
  static std::shared_ptr<const CachedRow> Make(Version version, std::string_view bytes);

  Version version() const { return version_; }
  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(this) + sizeof(CachedRow), size_};
  }

 private:
  CachedRow(Version version, uint32_t size) : version_(version), size_(size) {}
  Version version_;
  uint32_t size_;  // the bytes follow the object
};

struct RowCacheStats {
  uint64_t hits = 0, misses = 0, inserts = 0, evictions = 0, invalidations = 0;
  uint64_t bytes = 0, entries = 0;
};

class RowCache {
 public:
  // A row written by a commit: what Invalidate erases.
  using Key = std::pair<uint32_t, RowId>;  // (entity type, row id)

  // `current` is the store's current version when the cache is created: rows
  // read at older snapshots may have newer versions and are not offered.
  RowCache(size_t capacity_bytes, Version current);
  RowCache(const RowCache&) = delete;
  RowCache& operator=(const RowCache&) = delete;

  // The cached row `(type, id)` when its version is visible at `snapshot`,
  // else null (a miss). The entry stays alive while the pointer is held.
  std::shared_ptr<const CachedRow> Find(uint32_t type, RowId id, Version snapshot);

  // Starts loading into the CPU's cache, without waiting, what Find of each
  // (type, ids[i]) will read: first every id's slot, then the entry each
  // slot holds. A batch of lookups whose ids are known in advance then waits
  // for their memory once, not once per lookup. Changes nothing.
  void Prefetch(uint32_t type, std::span<const RowId> ids);
  // Only the first step of Prefetch, which takes no lock: the slots. For
  // long runs of lookups, a few ids ahead of the one being looked up.
  void PrefetchSlots(uint32_t type, std::span<const RowId> ids) const;

  // Offers the row read from storage at `snapshot` (its newest version there
  // is `version`). Kept unless a commit newer than `snapshot` has been
  // invalidated, or the row is larger than a quarter of a shard's share.
  void Offer(uint32_t type, RowId id, Version snapshot, Version version, std::string_view bytes);

  // Erases the rows written by the commit of `version` (the newest version of
  // the group being published). Call after the data is committed and before
  // `version` is visible to new readers.
  void Invalidate(const std::vector<Key>& keys, Version version);

  // Erases every entry, as an invalidation at `version` (for writes that do
  // not list their rows, such as vacuum).
  void Clear(Version version);

  RowCacheStats stats() const;
  size_t capacity_bytes() const { return capacity_; }

  // What an entry costs beyond its bytes (map node, control block, queue slot).
  static constexpr size_t kEntryOverhead = 96;

 private:
  // One shard: an open-addressing table (linear probing, backward-shift
  // deletion) whose slots are also the CLOCK's ring, so a lookup touches one
  // slot and the entry it points to.
  struct Slot {
    RowId id = 0;
    uint32_t type = 0;
    bool used = false;
    bool referenced = false;
    std::shared_ptr<const CachedRow> row;
  };
  // A cache line or more each, so that threads on different shards do not
  // share a line; the counters live with the lock that is held anyway, not
  // in atomics every lookup of every thread would update.
  struct alignas(64) Shard {
    mutable Mutex mu;
    std::vector<Slot> slots GUARDED_BY(mu);  // a power of two, or empty
    // slots.data() and slots.size() - 1 as of the last Grow, for the first
    // pass of Prefetch, which reads them without the lock: a stale pair only
    // makes it prefetch a useless line.
    std::atomic<uintptr_t> table{0};
    std::atomic<size_t> mask{0};
    size_t used GUARDED_BY(mu) = 0;
    size_t hand GUARDED_BY(mu) = 0;  // the CLOCK's position
    size_t bytes GUARDED_BY(mu) = 0;
    uint64_t hits GUARDED_BY(mu) = 0, misses GUARDED_BY(mu) = 0, inserts GUARDED_BY(mu) = 0,
                  evictions GUARDED_BY(mu) = 0, invalidations GUARDED_BY(mu) = 0;
  };
  static constexpr size_t kShards = 64;
  static uint64_t Hash(uint32_t type, RowId id) {
    uint64_t h = (id ^ (uint64_t{type} << 40)) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 31);
  }
  Shard& ShardOf(uint64_t hash) { return shards_[hash >> 58]; }
  // The slot holding (type, id), or the empty slot where it would go.
  static size_t Probe(const Shard& s, uint32_t type, RowId id, uint64_t hash) REQUIRES(s.mu);
  static void EraseAt(Shard& s, size_t i) REQUIRES(s.mu);
  void Grow(Shard& s) REQUIRES(s.mu);
  void EvictLocked(Shard& s) REQUIRES(s.mu);
  void RaiseWatermark(Version version);

  size_t capacity_;
  size_t shard_capacity_;
  Shard shards_[kShards];
  // The newest version whose rows were invalidated (or the store's version
  // when the cache was made). Stored before the rows are erased under their
  // shards' mutexes, so an offer that takes a shard's mutex after an erase
  // there sees it.
  std::atomic<Version> invalidated_;
};

}  // namespace ormdb::storage
