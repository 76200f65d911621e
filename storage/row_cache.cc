#include "storage/row_cache.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <type_traits>

namespace ormdb::storage {

namespace {
constexpr size_t kInitialSlots = 64;
}  // namespace

std::shared_ptr<const CachedRow> CachedRow::Make(Version version, std::string_view bytes) {
  // Words, so that the object is aligned; the shared_ptr's control block and
  // this array are one allocation.
  const size_t words = (sizeof(CachedRow) + bytes.size() + 7) / 8;
  std::shared_ptr<uint64_t[]> block = std::make_shared_for_overwrite<uint64_t[]>(words);
  auto* row = new (block.get()) CachedRow(version, static_cast<uint32_t>(bytes.size()));
  std::memcpy(reinterpret_cast<char*>(block.get()) + sizeof(CachedRow), bytes.data(), bytes.size());
  static_assert(std::is_trivially_destructible_v<CachedRow>, "the block is freed as words");
  return std::shared_ptr<const CachedRow>(std::move(block), row);
}

RowCache::RowCache(size_t capacity_bytes, Version current)
    : capacity_(capacity_bytes), shard_capacity_(capacity_bytes / kShards), invalidated_(current) {}

size_t RowCache::Probe(const Shard& s, uint32_t type, RowId id, uint64_t hash) {
  size_t mask = s.slots.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = s.slots[i];
    if (!slot.used || (slot.id == id && slot.type == type)) return i;
  }
}

void RowCache::EraseAt(Shard& s, size_t i) {
  // Backward shift: move later entries of the probe run into the hole, so a
  // probe never stops early at it.
  size_t mask = s.slots.size() - 1;
  s.slots[i] = Slot{};
  for (size_t j = (i + 1) & mask; s.slots[j].used; j = (j + 1) & mask) {
    size_t home = Hash(s.slots[j].type, s.slots[j].id) & mask;
    // Entry j may fill the hole at i when its home is not in (i, j].
    bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
    if (!movable) continue;
    s.slots[i] = std::move(s.slots[j]);
    s.slots[j] = Slot{};
    i = j;
  }
  --s.used;
}

void RowCache::Grow(Shard& s) {
  std::vector<Slot> old = std::move(s.slots);
  s.slots.assign(old.empty() ? kInitialSlots : old.size() * 2, Slot{});
  s.table.store(reinterpret_cast<uintptr_t>(s.slots.data()), std::memory_order_relaxed);
  s.mask.store(s.slots.size() - 1, std::memory_order_relaxed);
  for (Slot& slot : old) {
    if (!slot.used) continue;
    size_t i = Probe(s, slot.type, slot.id, Hash(slot.type, slot.id));
    s.slots[i] = std::move(slot);
  }
  s.hand = 0;
}

std::shared_ptr<const CachedRow> RowCache::Find(uint32_t type, RowId id, Version snapshot) {
  uint64_t hash = Hash(type, id);
  Shard& s = ShardOf(hash);
  MutexLock lock(&s.mu);
  if (!s.slots.empty()) {
    Slot& slot = s.slots[Probe(s, type, id, hash)];
    if (slot.used && slot.row->version() <= snapshot) {
      // Written only when it changes: a line other threads read stays shared.
      if (!slot.referenced) slot.referenced = true;
      ++s.hits;
      return slot.row;
    }
  }
  ++s.misses;
  return nullptr;
}

void RowCache::PrefetchSlots(uint32_t type, std::span<const RowId> ids) const {
  // Without the lock: addresses are computed as integers, since a stale
  // table and mask may point anywhere (a prefetch never faults).
  for (RowId id : ids) {
    const uint64_t hash = Hash(type, id);
    const Shard& s = shards_[hash >> 58];
    const uintptr_t table = s.table.load(std::memory_order_relaxed);
    if (table == 0) continue;
    const size_t i = hash & s.mask.load(std::memory_order_relaxed);
    __builtin_prefetch(reinterpret_cast<const void*>(table + i * sizeof(Slot)));
  }
}

void RowCache::Prefetch(uint32_t type, std::span<const RowId> ids) {
  PrefetchSlots(type, ids);
  // Then the entries the slots hold (their version, reference count and
  // first bytes share a line), which needs the slots' contents.
  for (RowId id : ids) {
    const uint64_t hash = Hash(type, id);
    Shard& s = ShardOf(hash);
    MutexLock lock(&s.mu);
    if (s.slots.empty()) continue;
    const Slot& slot = s.slots[Probe(s, type, id, hash)];
    if (slot.used) __builtin_prefetch(slot.row.get());
  }
}

void RowCache::Offer(uint32_t type, RowId id, Version snapshot, Version version,
                     std::string_view bytes) {
  size_t cost = bytes.size() + kEntryOverhead;
  if (cost > shard_capacity_ / 4) return;
  uint64_t hash = Hash(type, id);
  Shard& s = ShardOf(hash);
  // Built outside the lock; dropped if the shard refuses it.
  std::shared_ptr<const CachedRow> row = CachedRow::Make(version, bytes);
  MutexLock lock(&s.mu);
  // A commit after the snapshot may have changed this row after it was read.
  if (invalidated_.load() > snapshot) return;
  if (s.slots.empty() || (s.used + 1) * 4 > s.slots.size() * 3) Grow(s);
  size_t i = Probe(s, type, id, hash);
  if (s.slots[i].used) return;  // another reader offered it first
  s.slots[i] = Slot{id, type, true, false, std::move(row)};
  ++s.used;
  s.bytes += cost;
  ++s.inserts;
  if (s.bytes > shard_capacity_) EvictLocked(s);
}

void RowCache::EvictLocked(Shard& s) {
  // CLOCK: sweep the slots, giving each referenced entry a second chance.
  while (s.bytes > shard_capacity_ && s.used > 0) {
    s.hand &= s.slots.size() - 1;
    Slot& slot = s.slots[s.hand];
    if (!slot.used) {
      ++s.hand;
      continue;
    }
    if (slot.referenced) {
      slot.referenced = false;
      ++s.hand;
      continue;
    }
    s.bytes -= slot.row->bytes().size() + kEntryOverhead;
    EraseAt(s, s.hand);  // the hand stays: a shifted entry may now be here
    ++s.evictions;
  }
}

void RowCache::Invalidate(const std::vector<Key>& keys, Version version) {
  // First the watermark, then the erases: an offer that takes a shard's
  // mutex after an erase there sees the watermark (see invalidated_).
  RaiseWatermark(version);
  for (const auto& [type, id] : keys) {
    uint64_t hash = Hash(type, id);
    Shard& s = ShardOf(hash);
    MutexLock lock(&s.mu);
    if (s.slots.empty()) continue;
    size_t i = Probe(s, type, id, hash);
    if (!s.slots[i].used) continue;
    s.bytes -= s.slots[i].row->bytes().size() + kEntryOverhead;
    EraseAt(s, i);
    ++s.invalidations;
  }
}

void RowCache::RaiseWatermark(Version version) {
  Version seen = invalidated_.load();
  while (seen < version && !invalidated_.compare_exchange_weak(seen, version)) {
  }
}

void RowCache::Clear(Version version) {
  RaiseWatermark(version);
  for (Shard& s : shards_) {
    MutexLock lock(&s.mu);
    s.invalidations += s.used;
    s.slots.clear();
    s.table.store(0, std::memory_order_relaxed);
    s.used = 0;
    s.hand = 0;
    s.bytes = 0;
  }
}

RowCacheStats RowCache::stats() const {
  RowCacheStats out;
  for (const Shard& s : shards_) {
    MutexLock lock(&s.mu);
    out.hits += s.hits;
    out.misses += s.misses;
    out.inserts += s.inserts;
    out.evictions += s.evictions;
    out.invalidations += s.invalidations;
    out.bytes += s.bytes;
    out.entries += s.used;
  }
  return out;
}

}  // namespace ormdb::storage
