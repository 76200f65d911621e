#include "storage/row_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "storage/store.h"
#include "storage/test_util.h"

namespace ormdb::storage {
namespace {

using testing::TempDir;

const EntityTypeId kItem{1};

TEST(RowCache, HitsOnlyAtSnapshotsThatSeeTheVersion) {
  RowCache cache(1 << 20, 5);
  EXPECT_EQ(cache.Find(1, 7, 5), nullptr);
  cache.Offer(1, 7, 5, 4, "four");
  auto hit = cache.Find(1, 7, 5);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->bytes(), "four");
  EXPECT_EQ(hit->version(), 4u);
  EXPECT_NE(cache.Find(1, 7, 9), nullptr);  // no newer version exists
  EXPECT_EQ(cache.Find(1, 7, 3), nullptr);  // written after that snapshot
  EXPECT_EQ(cache.Find(2, 7, 5), nullptr);  // another type
  RowCacheStats st = cache.stats();
  EXPECT_EQ(st.hits, 2u);
  EXPECT_EQ(st.misses, 3u);
  EXPECT_EQ(st.entries, 1u);
  EXPECT_EQ(st.bytes, 4 + RowCache::kEntryOverhead);
}

TEST(RowCache, OffersFromBeforeAnInvalidationAreRefused) {
  RowCache cache(1 << 20, 5);
  // A reader at snapshot 4 (older than the store when the cache was made)
  // may have read a row that changed at 5.
  cache.Offer(1, 1, 4, 3, "old");
  EXPECT_EQ(cache.Find(1, 1, 9), nullptr);
  cache.Offer(1, 1, 5, 5, "v5");
  ASSERT_NE(cache.Find(1, 1, 5), nullptr);
  // Version 6 changes row 1 (and so drops it) and reaches every shard: a
  // reader at 5 that read row 2 before it must not plant it afterwards.
  cache.Invalidate({{1, 1}}, 6);
  EXPECT_EQ(cache.Find(1, 1, 6), nullptr);
  cache.Offer(1, 2, 5, 2, "stale?");
  EXPECT_EQ(cache.Find(1, 2, 6), nullptr);
  cache.Offer(1, 2, 6, 2, "row 2");
  EXPECT_NE(cache.Find(1, 2, 6), nullptr);
  EXPECT_EQ(cache.stats().invalidations, 1u);
  cache.Clear(7);
  EXPECT_EQ(cache.Find(1, 2, 7), nullptr);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(RowCache, StaysWithinItsCapacity) {
  const size_t capacity = 64 * 1024;
  RowCache cache(capacity, 1);
  std::string bytes(100, 'x');
  for (RowId id = 1; id <= 10000; ++id) {
    cache.Offer(1, id, 1, 1, bytes);
    if (id % 3 == 0) cache.Find(1, id / 2, 1);  // some second chances
  }
  RowCacheStats st = cache.stats();
  EXPECT_LE(st.bytes, capacity);
  EXPECT_GT(st.entries, capacity / (100 + RowCache::kEntryOverhead) / 2);
  EXPECT_EQ(st.inserts - st.evictions, st.entries);
  // A row larger than a quarter of a shard's share is never kept.
  cache.Offer(1, 99999, 1, 1, std::string(capacity, 'y'));
  EXPECT_EQ(cache.Find(1, 99999, 1), nullptr);
}

// The open-addressing table against a map, through offers, invalidations
// (backward-shift deletes) and evictions: a hit always returns the row's own
// bytes, and without evictions every offered row is found.
TEST(RowCache, TableMatchesAModel) {
  for (size_t capacity : {size_t{64} << 20, size_t{256} << 10}) {
    RowCache cache(capacity, 1);
    std::map<std::pair<uint32_t, RowId>, std::string> model;
    std::mt19937_64 rng(7);
    Version v = 1;
    for (int i = 0; i < 200000; ++i) {
      uint32_t type = 1 + rng() % 3;
      RowId id = rng() % 5000;
      std::string bytes = std::to_string(type) + ":" + std::to_string(id) + ":" + std::to_string(v);
      switch (rng() % 3) {
        case 0: {
          // An offer replaces nothing: it is kept when the row is not cached
          // (never offered, invalidated or evicted).
          bool cached = cache.Find(type, id, v) != nullptr;
          cache.Offer(type, id, v, v, bytes);
          if (!cached) model[{type, id}] = bytes;
        } break;
        case 1:
          if (rng() % 8 == 0) {
            cache.Invalidate({{type, id}}, ++v);
            model.erase({type, id});
          }
          break;
        default: {
          auto hit = cache.Find(type, id, v);
          auto it = model.find({type, id});
          if (hit) {
            ASSERT_NE(it, model.end()) << type << ":" << id;
            ASSERT_EQ(hit->bytes(), it->second);
          } else if (capacity > (size_t{1} << 20)) {
            ASSERT_EQ(it, model.end()) << "lost " << type << ":" << id;
          }
        }
      }
    }
    EXPECT_LE(cache.stats().bytes, capacity);
  }
}

TEST(RowCache, PrefetchChangesNothingWhileWritersGrowAndClear) {
  RowCache cache(size_t{8} << 20, 1);
  std::atomic<bool> done{false};
  // Offers grow the shards' tables and Clear empties them while another
  // thread prefetches (ThreadSanitizer checks the unlocked reads).
  std::thread writer([&] {
    std::mt19937_64 rng(3);
    Version v = 1;
    for (int i = 0; i < 50000; ++i) {
      RowId id = rng() % 20000;
      cache.Offer(1, id, v, v, "row " + std::to_string(id));
      if (i % 20000 == 19999) cache.Clear(++v);  // twice; 10000 offers stay
    }
    done = true;
  });
  std::mt19937_64 rng(5);
  std::vector<RowId> ids(64);
  while (!done) {
    for (RowId& id : ids) id = rng() % 20000;
    cache.Prefetch(1, ids);
    cache.PrefetchSlots(1, ids);
  }
  writer.join();
  // Quiet: a prefetch counts no hit or miss and every row is still there.
  for (RowId& id : ids) id = rng() % 20000;
  RowCacheStats before = cache.stats();
  cache.Prefetch(1, ids);
  cache.Prefetch(2, ids);  // a type with no rows
  cache.PrefetchSlots(1, ids);
  RowCacheStats after = cache.stats();
  EXPECT_EQ(after.hits, before.hits);
  EXPECT_EQ(after.misses, before.misses);
  EXPECT_EQ(after.entries, before.entries);
  for (RowId id : ids) {
    auto hit = cache.Find(1, id, 3);
    if (hit) {
      EXPECT_EQ(hit->bytes(), "row " + std::to_string(id));
    }
  }
  EXPECT_GT(cache.stats().hits, before.hits);
}

std::unique_ptr<Store> Open(const std::string& dir, size_t cache_bytes) {
  StoreOptions o;
  o.row_cache_bytes = cache_bytes;
  auto store = Store::Open(dir, o);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

Result<Version> Write(Store& store, RowId id, const std::string& bytes) {
  return store.Commit([&](WriteTxn& t) { return t.PutRow(kItem, id, bytes); });
}

std::string Read(Store& store, RowId id, std::optional<Version> at = std::nullopt) {
  auto txn = store.BeginRead(at);
  EXPECT_TRUE(txn.ok()) << txn.status().ToString();
  auto row = (*txn)->Get(kItem, id);
  EXPECT_TRUE(row.ok());
  return row->has_value() ? std::string((*row)->bytes_in_txn) : "-";
}

TEST(RowCacheStore, ReadsThroughTheCacheSeeEveryCommit) {
  TempDir dir;
  auto store = Open(dir.path(), 1 << 20);
  ASSERT_OK(Write(*store, 1, "a1"));
  Version v1 = store->current_version();
  EXPECT_EQ(Read(*store, 1), "a1");  // a miss, offered
  EXPECT_EQ(Read(*store, 1), "a1");  // a hit
  EXPECT_EQ(store->stats().row_cache.hits, 1u);
  ASSERT_OK(Write(*store, 1, "a2"));
  EXPECT_EQ(Read(*store, 1), "a2");
  EXPECT_EQ(Read(*store, 1, v1), "a1");  // as of the older version
  EXPECT_EQ(Read(*store, 1), "a2");
  ASSERT_OK(store->Commit([&](WriteTxn& t) { return t.DeleteRow(kItem, 1); }));
  EXPECT_EQ(Read(*store, 1), "-");
  EXPECT_EQ(Read(*store, 1, v1), "a1");
  // A transaction's reads within a batch see its own writes, not the cache.
  ASSERT_OK(Write(*store, 2, "b1"));
  EXPECT_EQ(Read(*store, 2), "b1");
  ASSERT_OK(store->Commit([&](WriteTxn& t) -> Status {
    ORMDB_RETURN_IF_ERROR(t.PutRow(kItem, 2, "b2"));
    ORMDB_ASSIGN_OR_RETURN(auto row, t.Get(kItem, 2));
    if (!row || row->bytes_in_txn != "b2") return Internal("the write's own row is not seen");
    return Status::Ok();
  }));
  EXPECT_EQ(Read(*store, 2), "b2");
}

TEST(RowCacheStore, ANewProcessDoesNotServeOlderSnapshotsNewerRows) {
  TempDir dir;
  Version v1;
  {
    auto store = Open(dir.path(), 1 << 20);
    ASSERT_OK(Write(*store, 1, "old"));
    v1 = store->current_version();
    ASSERT_OK(Write(*store, 1, "new"));
  }
  auto store = Open(dir.path(), 1 << 20);
  EXPECT_EQ(Read(*store, 1, v1), "old");  // not offered: older than the store
  EXPECT_EQ(Read(*store, 1), "new");
  EXPECT_EQ(Read(*store, 1, v1), "old");  // the cached newer row is not visible there
  EXPECT_EQ(Read(*store, 1), "new");
}

// Readers at every snapshot race a writer: each row read must be the newest
// version at or below the reader's snapshot, as LMDB's history says.
TEST(RowCacheStore, ConcurrentReadersNeverSeeARowTheSnapshotDoesNot) {
  TempDir dir;
  auto store = Open(dir.path(), 256 * 1024);
  constexpr RowId kRows = 50;
  for (RowId id = 1; id <= kRows; ++id) ASSERT_OK(Write(*store, id, "0"));
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::atomic<uint64_t> reads{0};
  auto reader = [&](unsigned seed) {
    std::mt19937_64 rng(seed);
    while (!stop.load()) {
      Version cur = store->current_version();
      std::optional<Version> at;
      if (rng() % 4 == 0 && cur > kRows + 20) at = cur - rng() % 20;  // as-of reads too
      auto txn = store->BeginRead(at);
      if (!txn.ok()) continue;  // vacuumed below: not this test's subject
      for (int i = 0; i < 20; ++i) {
        RowId id = 1 + rng() % kRows;
        auto row = (*txn)->Get(kItem, id);
        auto history = (*txn)->History(kItem, id);
        if (!row.ok() || !history.ok() || !row->has_value() || history->empty() ||
            (*row)->version != history->front().version ||
            (*row)->bytes_in_txn != history->front().bytes) {
          if (errors.fetch_add(1) < 3) {
            ADD_FAILURE() << "row " << id << " at " << (*txn)->snapshot() << ": ok " << row.ok()
                          << history.ok() << " has " << (row.ok() && row->has_value())
                          << " version " << (row.ok() && row->has_value() ? (*row)->version : 0)
                          << " history "
                          << (history.ok() && !history->empty() ? history->front().version : 0);
          }
        }
        reads.fetch_add(1);
      }
    }
  };
  std::thread r1(reader, 1), r2(reader, 2), r3(reader, 3);
  std::mt19937_64 rng(42);
  for (int i = 0; i < 1500; ++i) {
    RowId id = 1 + rng() % kRows;
    ASSERT_OK(store->Commit(
        [&](WriteTxn& t) { return t.PutRow(kItem, id, std::to_string(t.version())); }));
  }
  stop = true;
  r1.join();
  r2.join();
  r3.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(reads.load(), 1000u);
  EXPECT_GT(store->stats().row_cache.hits, 0u);
}

TEST(RowCacheStore, OffMeansNoCache) {
  TempDir dir;
  auto store = Open(dir.path(), 0);
  ASSERT_OK(Write(*store, 1, "x"));
  EXPECT_EQ(Read(*store, 1), "x");
  EXPECT_EQ(Read(*store, 1), "x");
  EXPECT_EQ(store->stats().row_cache.hits + store->stats().row_cache.misses, 0u);
}

}  // namespace
}  // namespace ormdb::storage
