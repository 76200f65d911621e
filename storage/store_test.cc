#include "storage/store.h"

#include <gtest/gtest.h>
#include <lmdb.h>
#ifdef ORMDB_WITH_MIMALLOC
#include <mimalloc.h>
#endif
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "storage/key_encoding.h"
#include "storage/row_codec.h"
#include "storage/test_util.h"

namespace ormdb::storage {
namespace {

using testing::TempDir;

const EntityTypeId kUser{1};
const EntityTypeId kPost{2};
const IndexId kByName{10};
const RelationId kTags{20};

const ValueType kLayout[] = {ValueType::kString, ValueType::kInt64};

std::string Row(const std::string& name, int64_t n) {
  Value values[] = {Value::String(name), Value::Int64(n)};
  return EncodeRow(1, kLayout, values).value();
}

std::string NameOf(std::string_view row) {
  auto view = RowView::Parse(row, kLayout);
  EXPECT_TRUE(view.ok()) << view.status().ToString();
  return view->Get(0).as_string();
}

std::string Key(const std::string& s) {
  std::string k;
  AppendKey(&k, Value::String(s));
  return k;
}

std::unique_ptr<Store> OpenStore(const std::string& dir, StoreOptions options = {}) {
  auto store = Store::Open(dir, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// The name of row `id` at `at`, or "-" when absent.
std::string NameAt(Store& store, EntityTypeId type, RowId id, std::optional<Version> at) {
  auto txn = store.BeginRead(at);
  EXPECT_TRUE(txn.ok()) << txn.status().ToString();
  if (!txn.ok()) return "?";
  auto row = (*txn)->Get(type, id);
  EXPECT_TRUE(row.ok());
  return row->has_value() ? NameOf((*row)->bytes_in_txn) : "-";
}

std::vector<RowId> IndexIds(Store& store, std::optional<Version> at, const std::string& value) {
  auto txn = store.BeginRead(at);
  EXPECT_TRUE(txn.ok());
  std::vector<RowId> ids;
  std::string k = Key(value);
  EXPECT_OK((*txn)->ScanIndex(kByName, k, PrefixSuccessor(k), ScanDirection::kForward,
                              [&](const IndexEntry& e) {
                                ids.push_back(e.id);
                                return true;
                              }));
  return ids;
}

std::vector<RowId> Linked(Store& store, std::optional<Version> at, EdgeDirection dir, RowId from,
                          ScanDirection order = ScanDirection::kForward) {
  auto txn = store.BeginRead(at);
  EXPECT_TRUE(txn.ok());
  std::vector<RowId> ids;
  EXPECT_OK((*txn)->ScanEdges(
      kTags, dir, from,
      [&](RowId to) {
        ids.push_back(to);
        return true;
      },
      order));
  return ids;
}

// ------------------------------------------------------------- environment

#ifdef ORMDB_WITH_MIMALLOC
TEST(Allocator, ExecutablesAskForLargePages) {
  // common/allocator.cc, compiled into every executable linked with mimalloc
  // (this one too): large OS pages unless the environment says otherwise.
  if (std::getenv("MIMALLOC_LARGE_OS_PAGES") != nullptr) GTEST_SKIP();
  EXPECT_TRUE(mi_option_is_enabled(mi_option_large_os_pages));
}
#endif

TEST(StoreOpen, CreatesAndReopensWithVersion) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    EXPECT_EQ(store->current_version(), 0u);
    auto v = store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("ann", 1)); });
    ASSERT_OK(v);
    EXPECT_EQ(*v, 1u);
  }
  auto store = OpenStore(dir.path());
  EXPECT_EQ(store->current_version(), 1u);
  EXPECT_EQ(NameAt(*store, kUser, 1, std::nullopt), "ann");
}

// The metrics hooks: every group commit records its size (client
// transactions) and its LMDB commit time; the map's used bytes grow with it.
TEST(StoreStats, GroupSizesAndCommitTimesAreRecorded) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  StoreStats before = store->stats();
  for (int i = 1; i <= 3; ++i) {
    ASSERT_OK(store->Commit(
        [&](WriteTxn& t) { return t.PutRow(kUser, i, Row("user" + std::to_string(i), i)); }));
  }
  // A failed transaction is not part of any group's size.
  EXPECT_FALSE(store->Commit([](WriteTxn&) { return InvalidArgument("no"); }).ok());
  StoreStats after = store->stats();
  EXPECT_EQ(after.group_sizes.count() - before.group_sizes.count(),
            after.group_commits - before.group_commits);
  EXPECT_EQ(after.group_sizes.sum - before.group_sizes.sum, 3u);
  EXPECT_EQ(after.commit_micros.count() - before.commit_micros.count(),
            after.group_commits - before.group_commits);
  EXPECT_GE(after.group_commits - before.group_commits, 3u);
  EXPECT_GT(after.map_used, 0u);
  EXPECT_LE(after.map_used, after.map_size);
}

TEST(StoreOpen, MissingDirectoryIsNotFoundAndNotCreated) {
  TempDir dir;
  auto store = Store::Open(dir.sub("nope"), {}, /*create_if_missing=*/false);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir.sub("nope")));
}

TEST(StoreOpen, SecondOpenNamesTheHolder) {
  TempDir dir;
  auto first = OpenStore(dir.path());
  auto second = Store::Open(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(second.status().message().find("in use by pid " + std::to_string(getpid())),
            std::string::npos)
      << second.status().message();
  first.reset();
  EXPECT_OK(Store::Open(dir.path()));  // released on close
}

TEST(StoreOpen, GarbageDataFileIsRefusedClearly) {
  TempDir dir;
  {
    std::ofstream f(dir.sub("data.mdb"), std::ios::binary);
    std::string junk(64 * 1024, 'x');
    f << junk;
  }
  auto store = Store::Open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kInternal);
  EXPECT_NE(store.status().message().find("not an ormdb data file"), std::string::npos)
      << store.status().message();
}

// Writes a raw LMDB environment in `dir` with `fill` run on its write txn.
void WriteRawLmdb(const std::string& dir, const std::function<void(MDB_txn*, MDB_env*)>& fill) {
  MDB_env* env;
  ASSERT_EQ(mdb_env_create(&env), 0);
  mdb_env_set_maxdbs(env, 8);
  ASSERT_EQ(mdb_env_open(env, dir.c_str(), 0, 0644), 0);
  MDB_txn* txn;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  fill(txn, env);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

TEST(StoreOpen, ForeignLmdbFileIsRefused) {
  TempDir dir;
  WriteRawLmdb(dir.path(), [](MDB_txn* txn, MDB_env*) {
    MDB_dbi dbi;
    ASSERT_EQ(mdb_dbi_open(txn, nullptr, 0, &dbi), 0);
    MDB_val k{5, const_cast<char*>("hello")}, v{5, const_cast<char*>("world")};
    ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
  });
  auto store = Store::Open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("not an ormdb data file"), std::string::npos)
      << store.status().message();
}

TEST(StoreOpen, NewerFormatIsRefused) {
  TempDir dir;
  { OpenStore(dir.path()); }
  WriteRawLmdb(dir.path(), [](MDB_txn* txn, MDB_env*) {
    MDB_dbi dbi;
    ASSERT_EQ(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    std::string rec(kFormatMagic);
    PutU32BE(&rec, kFormatVersion + 1);
    MDB_val k{6, const_cast<char*>("format")}, v{rec.size(), rec.data()};
    ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
  });
  auto store = Store::Open(dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("newer than this build supports"), std::string::npos)
      << store.status().message();
}

// --------------------------------------------------------------- visibility

// ---------------------------------------------------------------- partitions

// Leaf pages and entries of the tables of the data file in `dir` whose names
// start with `prefix` ("rows" matches "rows" and "rows.N").
// A read-only transaction on the LMDB file of `dir`, under the store, for
// what the tests measure of its tables; closed with the object.
class RawRead {
 public:
  explicit RawRead(const std::string& dir) {
    EXPECT_EQ(mdb_env_create(&env_), 0);
    mdb_env_set_maxdbs(env_, kMaxTables);
    EXPECT_EQ(mdb_env_open(env_, dir.c_str(), MDB_RDONLY, 0644), 0);
    EXPECT_EQ(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn_), 0);
  }
  ~RawRead() {
    mdb_txn_abort(txn_);
    mdb_env_close(env_);
  }
  RawRead(const RawRead&) = delete;
  RawRead& operator=(const RawRead&) = delete;
  MDB_txn* txn() const { return txn_; }

 private:
  MDB_env* env_ = nullptr;
  MDB_txn* txn_ = nullptr;
};

struct TreeUse {
  uint64_t leaf_pages = 0;
  uint64_t entries = 0;
  std::set<std::string> tables;
};
TreeUse TablesUse(const std::string& dir, const std::string& prefix) {
  TreeUse use;
  RawRead raw(dir);
  MDB_txn* txn = raw.txn();
  MDB_dbi main;
  EXPECT_EQ(mdb_dbi_open(txn, nullptr, 0, &main), 0);
  MDB_cursor* cur;
  EXPECT_EQ(mdb_cursor_open(txn, main, &cur), 0);
  std::vector<std::string> names;
  MDB_val k, v;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    std::string name(static_cast<const char*>(k.mv_data), k.mv_size);
    if (name == prefix || name.rfind(prefix + ".", 0) == 0) names.push_back(name);
  }
  mdb_cursor_close(cur);
  for (const std::string& name : names) {
    MDB_dbi dbi;
    EXPECT_EQ(mdb_dbi_open(txn, name.c_str(), 0, &dbi), 0);
    MDB_stat st;
    EXPECT_EQ(mdb_stat(txn, dbi, &st), 0);
    use.leaf_pages += st.ms_leaf_pages;
    use.entries += st.ms_entries;
    use.tables.insert(name);
  }
  return use;
}

// Three types whose rows and index entries are written in turn with
// ascending ids, as the tables of an application grow together.
void WriteInterleaved(Store& store) {
  const EntityTypeId types[] = {kUser, kPost, EntityTypeId{3}};
  const IndexId indexes[] = {kByName, IndexId{11}, IndexId{12}};
  for (RowId batch = 0; batch < 20; ++batch) {
    ASSERT_OK(store.Commit([&](WriteTxn& t) {
      for (RowId id = batch * 200 + 1; id <= batch * 200 + 200; ++id) {
        for (int i = 0; i < 3; ++i) {
          char name[16];
          std::snprintf(name, sizeof name, "n%08llu", static_cast<unsigned long long>(id));
          ORMDB_RETURN_IF_ERROR(t.InsertRow(types[i], id, Row(name, static_cast<int64_t>(id))));
          ORMDB_RETURN_IF_ERROR(t.IndexInsert(indexes[i], Key(name), id, false));
        }
      }
      return Status::Ok();
    }));
  }
}

TEST(StorePartitions, TablesGrowingTogetherFillTheirPages) {
  // Format 1 keeps every type in one B-tree: a type's newest row goes before
  // the next type's first one, and a page split there leaves the page half
  // full. Format 2 gives each type (and index) a tree of its own, whose new
  // rows go at its end: LMDB then fills the page before it starts another.
  TreeUse rows[2], indexes[2];
  for (uint32_t format : {1u, 2u}) {
    TempDir dir;
    StoreOptions options;
    options.sync_mode = SyncMode::kNoSync;
    options.create_format = format;
    {
      auto store = OpenStore(dir.path(), options);
      ASSERT_NE(store, nullptr);
      WriteInterleaved(*store);
      auto report = store->Check();
      ASSERT_OK(report);
      EXPECT_TRUE(report->problems.empty()) << report->problems.front();
    }
    rows[format - 1] = TablesUse(dir.path(), "rows");
    indexes[format - 1] = TablesUse(dir.path(), "indexes");
  }
  EXPECT_EQ(rows[0].tables, (std::set<std::string>{"rows"}));
  EXPECT_EQ(rows[1].tables.size(), kRowPartitions);
  EXPECT_EQ(rows[0].entries, 12000u);
  EXPECT_EQ(rows[1].entries, 12000u);
  EXPECT_EQ(indexes[1].entries, 12000u);
  std::cout << "leaf pages, format 1 / 2: rows " << rows[0].leaf_pages << " / "
            << rows[1].leaf_pages << ", indexes " << indexes[0].leaf_pages << " / "
            << indexes[1].leaf_pages << "\n";
  // Measured: about 0.6x the leaf pages of format 1 for both.
  EXPECT_LT(rows[1].leaf_pages * 10, rows[0].leaf_pages * 7)
      << rows[1].leaf_pages << " against " << rows[0].leaf_pages;
  EXPECT_LT(indexes[1].leaf_pages * 10, indexes[0].leaf_pages * 7)
      << indexes[1].leaf_pages << " against " << indexes[0].leaf_pages;
}

TEST(StorePartitions, RowsInsertedInIdOrderFillEveryPage) {
  // A new row with the greatest key of its table is appended: LMDB then
  // leaves the full page as it is and starts the next. A plain put at the
  // end moves the page's last row to the new page too, so every page would
  // hold one row fewer than fits (here 10 of 11).
  TempDir dir;
  const std::string name(330, 'x');
  const size_t rows = 2200;
  {
    StoreOptions options;
    options.sync_mode = SyncMode::kNoSync;
    auto store = OpenStore(dir.path(), options);
    for (RowId start = 1; start <= rows; start += 100) {
      ASSERT_OK(store->Commit([&](WriteTxn& t) {
        for (RowId id = start; id < start + 100; ++id) {
          ORMDB_RETURN_IF_ERROR(t.InsertRow(kUser, id, Row(name, static_cast<int64_t>(id))));
        }
        return Status::Ok();
      }));
    }
  }
  KeyLayout keys(kFormatVersion);
  // LMDB's node: 8 bytes of header and a 2-byte slot, then key and value.
  size_t entry = 10 + keys.RowKey(kUser, 1000, 20).size() + 1 + Row(name, 1000).size();
  size_t per_page = (4096 - 16) / entry;
  ASSERT_EQ(per_page, 11u) << entry;
  TreeUse use = TablesUse(dir.path(), "rows");
  EXPECT_EQ(use.entries, rows);
  EXPECT_LE(use.leaf_pages, rows / per_page + 1) << entry << "-byte rows";
}

TEST(StorePartitions, AFormatOneDataFileKeepsItsLayoutAndWorks) {
  TempDir dir;
  StoreOptions old_format;
  old_format.create_format = 1;
  {
    auto store = OpenStore(dir.path(), old_format);
    ASSERT_OK(store->Commit([](WriteTxn& t) {
      ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 1, Row("a", 1)));
      ORMDB_RETURN_IF_ERROR(t.IndexInsert(kByName, Key("a"), 1, true));
      return t.Link(kTags, 1, 2).status();
    }));
  }
  // Reopened by a build whose new files are format 2: it stays format 1.
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) {
    ORMDB_RETURN_IF_ERROR(t.PutRow(kPost, 5, Row("p", 5)));
    return t.PutRow(kUser, 1, Row("b", 2));
  }));
  EXPECT_EQ(NameAt(*store, kUser, 1, std::nullopt), "b");
  EXPECT_EQ(NameAt(*store, kUser, 1, 1), "a");
  EXPECT_EQ(NameAt(*store, kPost, 5, std::nullopt), "p");
  EXPECT_EQ(IndexIds(*store, std::nullopt, "a"), (std::vector<RowId>{1}));
  EXPECT_EQ(Linked(*store, std::nullopt, EdgeDirection::kBackward, 2), (std::vector<RowId>{1}));
  auto report = store->Check();
  ASSERT_OK(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  store.reset();
  EXPECT_EQ(TablesUse(dir.path(), "rows").tables, (std::set<std::string>{"rows"}));
  EXPECT_EQ(TablesUse(dir.path(), "rows").entries, 3u);
  EXPECT_EQ(TablesUse(dir.path(), "edges").tables, (std::set<std::string>{"edges"}));
}

TEST(StorePartitions, CheckReportsARowInAnotherTypesPartition) {
  TempDir dir;
  { OpenStore(dir.path()); }
  // A row of type 1 written into the partition of type 2.
  WriteRawLmdb(dir.path(), [](MDB_txn* txn, MDB_env*) {
    MDB_dbi dbi;
    std::string table = "rows." + std::to_string(kPost.value % kRowPartitions);
    ASSERT_EQ(mdb_dbi_open(txn, table.c_str(), 0, &dbi), 0);
    std::string key = KeyLayout(kFormatVersion).RowKey(kUser, 1, 0),
                value = std::string(1, kRowTag) + Row("x", 1);
    MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
    ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
  });
  auto store = OpenStore(dir.path());
  auto report = store->Check();
  ASSERT_OK(report);
  std::string all;
  for (const auto& p : report->problems) all += p + "\n";
  EXPECT_NE(all.find("row of entity type 1 in partition 2"), std::string::npos) << all;
}

TEST(StoreRows, LatestAsOfDeletedAndReinserted) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 7, Row("v1", 1)); }));
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 7, Row("v2", 2)); }));
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.DeleteRow(kUser, 7); }));
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 7, Row("v4", 4)); }));
  // Another row with neighbouring ids must never leak into row 7's reads.
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 8, Row("other", 0)); }));
  EXPECT_EQ(NameAt(*store, kUser, 7, 1), "v1");
  EXPECT_EQ(NameAt(*store, kUser, 7, 2), "v2");
  EXPECT_EQ(NameAt(*store, kUser, 7, 3), "-");
  EXPECT_EQ(NameAt(*store, kUser, 7, 4), "v4");
  EXPECT_EQ(NameAt(*store, kUser, 7, std::nullopt), "v4");
  EXPECT_EQ(NameAt(*store, kUser, 8, 4), "-");
  EXPECT_EQ(NameAt(*store, kUser, 6, std::nullopt), "-");
  EXPECT_EQ(NameAt(*store, kPost, 7, std::nullopt), "-");

  auto txn = store->BeginRead();
  ASSERT_OK(txn);
  auto row = (*txn)->Get(kUser, 7);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->version, 4u);  // the version of its last change

  auto history = (*txn)->History(kUser, 7);
  ASSERT_OK(history);
  ASSERT_EQ(history->size(), 4u);
  EXPECT_EQ((*history)[0].version, 4u);
  EXPECT_TRUE((*history)[1].deleted);
  EXPECT_EQ(NameOf((*history)[2].bytes), "v2");
  EXPECT_EQ((*history)[3].version, 1u);
}

TEST(StoreRows, VersionBeyondCurrentIsInvalid) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  auto txn = store->BeginRead(1);
  ASSERT_FALSE(txn.ok());
  EXPECT_EQ(txn.status().code(), ErrorCode::kInvalidArgument);
}

TEST(StoreRows, DeleteOfMissingRowIsNotFoundAndRollsBack) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  auto v = store->Commit([](WriteTxn& t) {
    ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 1, Row("a", 1)));
    return t.DeleteRow(kUser, 2);
  });
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store->current_version(), 0u);
  EXPECT_EQ(NameAt(*store, kUser, 1, std::nullopt), "-");
}

TEST(StoreRows, ScanRowsBothDirectionsAtSnapshot) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) {
    for (RowId id : {1, 2, 3, 5, 8}) ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, id, Row("u", id)));
    return t.PutRow(kPost, 4, Row("p", 4));
  }));
  ASSERT_OK(store->Commit([](WriteTxn& t) {
    ORMDB_RETURN_IF_ERROR(t.DeleteRow(kUser, 3));
    return t.PutRow(kUser, 6, Row("new", 6));
  }));
  auto scan = [&](std::optional<Version> at, RowId start, ScanDirection dir) {
    auto txn = store->BeginRead(at);
    std::vector<RowId> ids;
    EXPECT_OK((*txn)->ScanRows(kUser, start, dir, [&](RowId id, const RowRecord&) {
      ids.push_back(id);
      return true;
    }));
    return ids;
  };
  EXPECT_EQ(scan(1, 0, ScanDirection::kForward), (std::vector<RowId>{1, 2, 3, 5, 8}));
  EXPECT_EQ(scan(2, 0, ScanDirection::kForward), (std::vector<RowId>{1, 2, 5, 6, 8}));
  EXPECT_EQ(scan(2, 3, ScanDirection::kForward), (std::vector<RowId>{5, 6, 8}));
  EXPECT_EQ(scan(2, 100, ScanDirection::kBackward), (std::vector<RowId>{8, 6, 5, 2, 1}));
  EXPECT_EQ(scan(1, 6, ScanDirection::kBackward), (std::vector<RowId>{5, 3, 2, 1}));
  EXPECT_EQ(scan(2, 0, ScanDirection::kBackward), (std::vector<RowId>{}));
  // The last row of the table's last type is newer than the snapshot: a
  // backward scan skips it and still finds the rows before it.
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kPost, 9, Row("p", 9)); }));
  auto posts = [&](std::optional<Version> at, ScanDirection dir) {
    auto txn = store->BeginRead(at);
    std::vector<RowId> ids;
    EXPECT_OK((*txn)->ScanRows(kPost, dir == ScanDirection::kForward ? 0 : 100, dir,
                               [&](RowId id, const RowRecord&) {
                                 ids.push_back(id);
                                 return true;
                               }));
    return ids;
  };
  EXPECT_EQ(posts(2, ScanDirection::kBackward), (std::vector<RowId>{4}));
  EXPECT_EQ(posts(3, ScanDirection::kBackward), (std::vector<RowId>{9, 4}));
  EXPECT_EQ(posts(2, ScanDirection::kForward), (std::vector<RowId>{4}));
}

// A scan steps on from where its visitor left the table's cursor: a visitor
// that reads other rows of the same table through it moves the cursor, and
// the scan must still visit every row once, in order.
TEST(StoreRows, ScanRowsWhoseVisitorReadsTheSameTable) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) {
    for (RowId id = 1; id <= 50; ++id) ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, id, Row("u", id)));
    return Status::Ok();
  }));
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 7, Row("again", 7)); }));
  for (bool reads : {false, true}) {
    auto txn = store->BeginRead();
    ASSERT_OK(txn.status());
    std::vector<RowId> ids;
    EXPECT_OK((*txn)->ScanRows(kUser, 0, ScanDirection::kForward, [&](RowId id, const RowRecord&) {
      ids.push_back(id);
      if (reads) {
        // History always reads the rows table (never the row cache).
        auto h = (*txn)->History(kUser, 51 - id);
        EXPECT_OK(h.status());
      }
      return true;
    }));
    std::vector<RowId> want(50);
    for (RowId id = 1; id <= 50; ++id) want[id - 1] = id;
    EXPECT_EQ(ids, want) << (reads ? "with reads" : "without");
  }
}

// In a write transaction the scan always asks where its cursor is: the
// visitor's writes to the table (here a new version of each row visited,
// keyed just before the row's current one) move LMDB's cursors. Every row
// is still visited once, in order, and the new versions are the ones read.
TEST(StoreRows, ScanRowsInAWriteTransactionThatRewritesEachRow) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) {
    for (RowId id = 1; id <= 300; ++id) ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, id, Row("u", id)));
    return Status::Ok();
  }));
  std::vector<RowId> ids;
  ASSERT_OK(store->Commit([&](WriteTxn& t) {
    Status st;
    ORMDB_RETURN_IF_ERROR(
        t.ScanRows(kUser, 0, ScanDirection::kForward, [&](RowId id, const RowRecord&) {
          ids.push_back(id);
          st = t.PutRow(kUser, id, Row("again", id));
          return st.ok();
        }));
    return st;
  }));
  std::vector<RowId> want(300);
  for (RowId id = 1; id <= 300; ++id) want[id - 1] = id;
  EXPECT_EQ(ids, want);
  EXPECT_EQ(NameAt(*store, kUser, 150, std::nullopt), "again");
}

TEST(StoreRows, IdAllocationSkipsNotedIds) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::vector<RowId> ids;
  ASSERT_OK(store->Commit([&](WriteTxn& t) {
    ids.clear();
    ORMDB_ASSIGN_OR_RETURN(RowId a, t.AllocateId(kUser));
    ORMDB_RETURN_IF_ERROR(t.NoteId(kUser, 10));
    ORMDB_ASSIGN_OR_RETURN(RowId b, t.AllocateId(kUser));
    ORMDB_ASSIGN_OR_RETURN(RowId c, t.AllocateId(kPost));
    ids = {a, b, c};
    return Status::Ok();
  }));
  EXPECT_EQ(ids, (std::vector<RowId>{1, 11, 1}));
}

// The id counters a transaction moves are written when it commits, kept by
// the next transaction and across a reopen, and dropped with a transaction
// that fails.
TEST(StoreRows, IdCountersCommitWithTheTransaction) {
  TempDir dir;
  auto allocate = [](Store& store, bool fail) -> Result<RowId> {
    RowId id = 0;
    Status st = store
                    .Commit([&](WriteTxn& t) -> Status {
                      ORMDB_ASSIGN_OR_RETURN(id, t.AllocateId(kUser));
                      ORMDB_RETURN_IF_ERROR(t.InsertRow(kUser, id, Row("u", 1)));
                      return fail ? Internal("fails on purpose") : Status::Ok();
                    })
                    .status();
    if (!st.ok()) return st;
    return id;
  };
  {
    auto store = OpenStore(dir.path());
    EXPECT_EQ(*allocate(*store, false), 1u);
    EXPECT_EQ(*allocate(*store, false), 2u);
    EXPECT_FALSE(allocate(*store, true).ok());  // 3 is not kept
    EXPECT_EQ(*allocate(*store, false), 3u);
    ASSERT_OK(store->Commit([](WriteTxn& t) { return t.NoteId(kUser, 40); }));
  }
  auto store = OpenStore(dir.path());
  EXPECT_EQ(*allocate(*store, false), 41u);
  auto counts = store->RowCounts();
  ASSERT_OK(counts.status());
  uint64_t users = 0;
  for (const auto& c : *counts) {
    if (c.type == kUser) users = c.rows;
  }
  EXPECT_EQ(users, 4u);  // InsertRow counts each new row once
}

// ------------------------------------------------------------------ indexes

TEST(StoreIndex, FollowsUpdatesOfTheIndexedValue) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) {
    ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 1, Row("ann", 1)));
    return t.IndexInsert(kByName, Key("ann"), 1, true);
  }));
  ASSERT_OK(store->Commit([](WriteTxn& t) {  // v2: ann -> bob
    ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 1, Row("bob", 1)));
    ORMDB_RETURN_IF_ERROR(t.IndexRemove(kByName, Key("ann"), 1));
    return t.IndexInsert(kByName, Key("bob"), 1, true);
  }));
  ASSERT_OK(store->Commit([](WriteTxn& t) {  // v3: ann is free again, id 2 takes it
    ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 2, Row("ann", 2)));
    return t.IndexInsert(kByName, Key("ann"), 2, true);
  }));
  ASSERT_OK(store->Commit([](WriteTxn& t) {  // v4: id 1 back to ann... would clash
    ORMDB_RETURN_IF_ERROR(t.IndexRemove(kByName, Key("ann"), 2));
    ORMDB_RETURN_IF_ERROR(t.IndexRemove(kByName, Key("bob"), 1));
    return t.IndexInsert(kByName, Key("ann"), 1, true);
  }));
  EXPECT_EQ(IndexIds(*store, 1, "ann"), (std::vector<RowId>{1}));
  EXPECT_EQ(IndexIds(*store, 1, "bob"), (std::vector<RowId>{}));
  EXPECT_EQ(IndexIds(*store, 2, "ann"), (std::vector<RowId>{}));
  EXPECT_EQ(IndexIds(*store, 2, "bob"), (std::vector<RowId>{1}));
  EXPECT_EQ(IndexIds(*store, 3, "ann"), (std::vector<RowId>{2}));
  EXPECT_EQ(IndexIds(*store, 4, "ann"), (std::vector<RowId>{1}));
  EXPECT_EQ(IndexIds(*store, 4, "bob"), (std::vector<RowId>{}));
}

TEST(StoreIndex, UniqueViolationNamesTheHolderAndRollsBack) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.IndexInsert(kByName, Key("ann"), 1, true); }));
  RowId holder = 0;
  auto v = store->Commit([&](WriteTxn& t) {
    ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 2, Row("ann", 2)));
    return t.IndexInsert(kByName, Key("ann"), 2, true, &holder);
  });
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), ErrorCode::kConstraintViolation);
  EXPECT_NE(v.status().message().find("id 1"), std::string::npos);
  EXPECT_EQ(holder, 1u);
  EXPECT_EQ(NameAt(*store, kUser, 2, std::nullopt), "-");
  // Re-inserting the same id is not a clash, and non-unique allows duplicates.
  EXPECT_OK(
      store->Commit([](WriteTxn& t) { return t.IndexInsert(IndexId{11}, Key("x"), 1, false); }));
  EXPECT_OK(
      store->Commit([](WriteTxn& t) { return t.IndexInsert(IndexId{11}, Key("x"), 2, false); }));
}

TEST(StoreIndex, RangeScansInBothDirectionsAndSameTxnInsertRemove) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  const IndexId kAge{12};
  auto age = [](int64_t a) {
    std::string k;
    AppendKey(&k, Value::Int64(a));
    return k;
  };
  ASSERT_OK(store->Commit([&](WriteTxn& t) {
    for (int64_t i = 1; i <= 10; ++i)
      ORMDB_RETURN_IF_ERROR(t.IndexInsert(kAge, age(i * 10), i, false));
    // Born and removed in one transaction: never visible.
    ORMDB_RETURN_IF_ERROR(t.IndexInsert(kAge, age(55), 99, false));
    return t.IndexRemove(kAge, age(55), 99);
  }));
  auto txn = store->BeginRead();
  std::vector<RowId> fwd, back;
  ASSERT_OK(
      (*txn)->ScanIndex(kAge, age(30), age(71), ScanDirection::kForward, [&](const IndexEntry& e) {
        fwd.push_back(e.id);
        return true;
      }));
  ASSERT_OK(
      (*txn)->ScanIndex(kAge, age(30), "", ScanDirection::kBackward, [&](const IndexEntry& e) {
        back.push_back(e.id);
        return back.size() < 4;
      }));
  EXPECT_EQ(fwd, (std::vector<RowId>{3, 4, 5, 6, 7}));
  EXPECT_EQ(back, (std::vector<RowId>{10, 9, 8, 7}));
  auto missing = store->Commit([&](WriteTxn& t) { return t.IndexRemove(kAge, age(55), 99); });
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
}

TEST(StoreIndex, DeferredEntriesAreReadByTheirOwnTransaction) {
  // Non-unique entries wait in memory until the transaction reads their
  // index table: every read of the table must see them.
  TempDir dir;
  auto store = OpenStore(dir.path());
  const IndexId kAge{12}, kSamePartition{12 + kIndexPartitions}, kEmail{13};
  auto age = [](int64_t a) {
    std::string k;
    AppendKey(&k, Value::Int64(a));
    return k;
  };
  auto ids_in = [&](TxnReader& t, IndexId index) {
    std::vector<RowId> ids;
    EXPECT_OK(t.ScanIndex(index, "", "", ScanDirection::kForward, [&](const IndexEntry& e) {
      ids.push_back(e.id);
      return true;
    }));
    return ids;
  };
  ASSERT_OK(store->Commit([&](WriteTxn& t) {
    for (int64_t i = 5; i >= 1; --i) ORMDB_RETURN_IF_ERROR(t.IndexInsert(kAge, age(i), i, false));
    EXPECT_EQ(ids_in(t, kAge), (std::vector<RowId>{1, 2, 3, 4, 5}));
    // After a read, entries wait again; a point check and a removal find them.
    ORMDB_RETURN_IF_ERROR(t.IndexInsert(kAge, age(7), 7, false));
    ORMDB_RETURN_IF_ERROR(t.IndexInsert(kAge, age(6), 6, false));
    EXPECT_TRUE(t.IndexHasCurrent(kAge, age(7), 7).value());
    ORMDB_RETURN_IF_ERROR(t.IndexInsert(kAge, age(8), 8, false));
    ORMDB_RETURN_IF_ERROR(t.IndexRemove(kAge, age(8), 8));
    // A unique index sharing the partition reads the table, and so writes
    // what waits there first.
    ORMDB_RETURN_IF_ERROR(t.IndexInsert(kAge, age(9), 9, false));
    ORMDB_RETURN_IF_ERROR(t.IndexInsert(kSamePartition, age(9), 90, true));
    EXPECT_EQ(ids_in(t, kAge), (std::vector<RowId>{1, 2, 3, 4, 5, 6, 7, 9}));
    // The same entry twice is one entry.
    ORMDB_RETURN_IF_ERROR(t.IndexInsert(kEmail, age(1), 1, false));
    return t.IndexInsert(kEmail, age(1), 1, false);
  }));
  // What still waited when the transaction ended was written with it.
  ASSERT_OK(store->Commit([&](WriteTxn& t) { return t.IndexInsert(kAge, age(10), 10, false); }));
  auto txn = store->BeginRead();
  ASSERT_OK(txn);
  EXPECT_EQ(ids_in(**txn, kAge), (std::vector<RowId>{1, 2, 3, 4, 5, 6, 7, 9, 10}));
  EXPECT_EQ(ids_in(**txn, kSamePartition), (std::vector<RowId>{90}));
  EXPECT_EQ(ids_in(**txn, kEmail), (std::vector<RowId>{1}));
  txn->reset();
  auto report = store->Check();
  ASSERT_OK(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  // A failed transaction leaves none of its waiting entries behind.
  auto failed = store->Commit([&](WriteTxn& t) {
    ORMDB_RETURN_IF_ERROR(t.IndexInsert(kAge, age(11), 11, false));
    return Internal("rolled back");
  });
  EXPECT_FALSE(failed.ok());
  txn = store->BeginRead();
  ASSERT_OK(txn);
  EXPECT_EQ(ids_in(**txn, kAge).size(), 9u);
}

TEST(StoreIndex, ABulkInsertInRandomOrderFillsItsPages) {
  // Entries inserted in random order in one transaction are written in key
  // order when it ends, so they take as few pages as entries inserted in
  // order (LMDB splits a page in the middle unless the key goes at the end).
  std::vector<int64_t> values(20000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int64_t>(i) * 7;
  uint64_t pages[2];
  for (int shuffled : {0, 1}) {
    std::vector<int64_t> order = values;
    if (shuffled) std::shuffle(order.begin(), order.end(), std::mt19937(7));
    TempDir dir;
    {
      StoreOptions options;
      options.sync_mode = SyncMode::kNoSync;
      auto store = OpenStore(dir.path(), options);
      // In order: one commit per 100 entries, each appended at the end.
      for (size_t start = 0; start < order.size(); start += shuffled ? order.size() : 100) {
        size_t end = shuffled ? order.size() : start + 100;
        ASSERT_OK(store->Commit([&](WriteTxn& t) {
          for (size_t i = start; i < end; ++i) {
            std::string k;
            AppendKey(&k, Value::Int64(order[i]));
            ORMDB_RETURN_IF_ERROR(t.IndexInsert(IndexId{12}, k, 1000 + order[i], false));
          }
          return Status::Ok();
        }));
      }
    }
    TreeUse use = TablesUse(dir.path(), "indexes");
    EXPECT_EQ(use.entries, values.size());
    pages[shuffled] = use.leaf_pages;
  }
  // Written one at a time in random order they took about 1.4x the pages.
  EXPECT_LE(pages[1] * 100, pages[0] * 102) << pages[1] << " against " << pages[0];
}

TEST(StoreIndex, CompositeUniqueAndPrefixScansWithDescendingComponent) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  const IndexId kAuthorCreated{13};
  auto key = [](int64_t author, int64_t created) {
    std::string k;
    AppendKey(&k, Value::Int64(author));
    AppendKey(&k, Value::Timestamp(created), SortOrder::kDesc);
    return k;
  };
  ASSERT_OK(store->Commit([&](WriteTxn& t) {
    ORMDB_RETURN_IF_ERROR(t.IndexInsert(kAuthorCreated, key(1, 100), 11, true));
    ORMDB_RETURN_IF_ERROR(t.IndexInsert(kAuthorCreated, key(1, 300), 13, true));
    ORMDB_RETURN_IF_ERROR(t.IndexInsert(kAuthorCreated, key(1, 200), 12, true));
    ORMDB_RETURN_IF_ERROR(t.IndexInsert(kAuthorCreated, key(2, 150), 21, true));
    return t.IndexInsert(kAuthorCreated, key(1, 150), 14, true);  // same time, other author: fine
  }));
  auto clash = store->Commit(
      [&](WriteTxn& t) { return t.IndexInsert(kAuthorCreated, key(1, 200), 15, true); });
  EXPECT_EQ(clash.status().code(), ErrorCode::kConstraintViolation);
  // Author 1's entries, newest first, from the prefix alone.
  std::string author;
  AppendKey(&author, Value::Int64(1));
  std::vector<RowId> ids;
  auto txn = store->BeginRead();
  ASSERT_OK((*txn)->ScanIndex(kAuthorCreated, author, PrefixSuccessor(author),
                              ScanDirection::kForward, [&](const IndexEntry& e) {
                                ids.push_back(e.id);
                                return true;
                              }));
  EXPECT_EQ(ids, (std::vector<RowId>{13, 12, 14, 11}));
}

TEST(StoreIndex, LongValuesAreTruncatedHashedAndStillUnique) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::string base(2000, 'a');
  std::string other = base + "b";
  ASSERT_OK(store->Commit([&](WriteTxn& t) { return t.IndexInsert(kByName, Key(base), 1, true); }));
  // Shares the first 2000 bytes: a different value, so no clash.
  ASSERT_OK(
      store->Commit([&](WriteTxn& t) { return t.IndexInsert(kByName, Key(other), 2, true); }));
  auto clash =
      store->Commit([&](WriteTxn& t) { return t.IndexInsert(kByName, Key(base), 3, true); });
  EXPECT_EQ(clash.status().code(), ErrorCode::kConstraintViolation);
  auto txn = store->BeginRead();
  bool truncated = false;
  std::string part = IndexValuePart(Key(base), &truncated, (*txn)->max_index_value_bytes());
  EXPECT_TRUE(truncated);
  // The longest key either layout builds fits LMDB's limit.
  for (uint32_t format : {2u, 3u}) {
    KeyLayout keys(format);
    std::string longest = IndexValuePart(Key(base), nullptr, keys.max_index_value_bytes());
    EXPECT_LE(keys.IndexKey(IndexId{UINT32_MAX}, longest, UINT64_MAX, UINT64_MAX).size(),
              kMaxKeySize);
  }
  std::vector<RowId> ids;
  ASSERT_OK((*txn)->ScanIndex(kByName, part, PrefixSuccessor(part), ScanDirection::kForward,
                              [&](const IndexEntry& e) {
                                EXPECT_TRUE(e.truncated);
                                ids.push_back(e.id);
                                return true;
                              }));
  EXPECT_EQ(ids, (std::vector<RowId>{1}));
}

// -------------------------------------------------------------------- edges

TEST(StoreEdges, BothDirectionsVersionedAndIdempotent) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::vector<bool> changed;
  ASSERT_OK(store->Commit([&](WriteTxn& t) {  // v1
    changed.clear();
    for (RowId to : {3, 1, 2}) {
      ORMDB_ASSIGN_OR_RETURN(bool c, t.Link(kTags, 100, to));
      changed.push_back(c);
    }
    ORMDB_ASSIGN_OR_RETURN(bool again, t.Link(kTags, 100, 1));
    changed.push_back(again);
    ORMDB_ASSIGN_OR_RETURN(bool c2, t.Link(kTags, 101, 1));
    changed.push_back(c2);
    return Status::Ok();
  }));
  EXPECT_EQ(changed, (std::vector<bool>{true, true, true, false, true}));
  ASSERT_OK(store->Commit([&](WriteTxn& t) {  // v2
    ORMDB_ASSIGN_OR_RETURN(bool c, t.Unlink(kTags, 100, 2));
    EXPECT_TRUE(c);
    ORMDB_ASSIGN_OR_RETURN(bool absent, t.Unlink(kTags, 100, 42));
    EXPECT_FALSE(absent);
    return Status::Ok();
  }));
  ASSERT_OK(store->Commit([&](WriteTxn& t) { return t.Link(kTags, 100, 2).status(); }));  // v3

  EXPECT_EQ(Linked(*store, 1, EdgeDirection::kForward, 100), (std::vector<RowId>{1, 2, 3}));
  EXPECT_EQ(Linked(*store, 2, EdgeDirection::kForward, 100), (std::vector<RowId>{1, 3}));
  EXPECT_EQ(Linked(*store, 3, EdgeDirection::kForward, 100), (std::vector<RowId>{1, 2, 3}));
  EXPECT_EQ(Linked(*store, 3, EdgeDirection::kBackward, 1), (std::vector<RowId>{100, 101}));
  EXPECT_EQ(Linked(*store, 2, EdgeDirection::kBackward, 2), (std::vector<RowId>{}));
  EXPECT_EQ(Linked(*store, 3, EdgeDirection::kForward, 99), (std::vector<RowId>{}));
  EXPECT_EQ(Linked(*store, 2, EdgeDirection::kForward, 100, ScanDirection::kBackward),
            (std::vector<RowId>{3, 1}));
  EXPECT_EQ(Linked(*store, 3, EdgeDirection::kBackward, 1, ScanDirection::kBackward),
            (std::vector<RowId>{101, 100}));
  EXPECT_EQ(Linked(*store, 3, EdgeDirection::kForward, 99, ScanDirection::kBackward),
            (std::vector<RowId>{}));
  auto txn = store->BeginRead(2);
  EXPECT_FALSE(*(*txn)->EdgeExists(kTags, 100, 2));
  EXPECT_TRUE(*(*txn)->EdgeExists(kTags, 100, 3));
  auto report = store->Check();
  ASSERT_OK(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  EXPECT_EQ(report->edge_entries, 10u);  // 5 pairs ever linked (one twice), both directions
  EXPECT_EQ(report->log_entries, 3u);
}

// --------------------------------------------------------------- change log

TEST(StoreChangeLog, RecordsDeltasInOrderFromAnyVersion) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) {
    ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 1, Row("a", 1)));
    t.Annotate("schema:1");
    return t.Link(kTags, 1, 2).status();
  }));
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("b", 1)); }));
  ASSERT_OK(store->Commit([](WriteTxn& t) {
    ORMDB_RETURN_IF_ERROR(t.Unlink(kTags, 1, 2).status());
    return t.DeleteRow(kUser, 1);
  }));
  std::vector<ChangeSet> sets;
  ASSERT_OK(store->ReadChanges(0, [&](const ChangeSet& cs) {
    sets.push_back(cs);
    return true;
  }));
  ASSERT_EQ(sets.size(), 3u);
  EXPECT_EQ(sets[0].version, 1u);
  ASSERT_EQ(sets[0].records.size(), 3u);
  const auto& insert = std::get<RowDelta>(sets[0].records[0]);
  EXPECT_FALSE(insert.before.has_value());
  EXPECT_EQ(NameOf(*insert.after), "a");
  EXPECT_EQ(std::get<Annotation>(sets[0].records[1]).data, "schema:1");
  EXPECT_EQ(std::get<EdgeDelta>(sets[0].records[2]), (EdgeDelta{kTags, 1, 2, true}));
  const auto& update = std::get<RowDelta>(sets[1].records[0]);
  EXPECT_EQ(NameOf(*update.before), "a");
  EXPECT_EQ(NameOf(*update.after), "b");
  EXPECT_EQ(std::get<EdgeDelta>(sets[2].records[0]), (EdgeDelta{kTags, 1, 2, false}));
  const auto& del = std::get<RowDelta>(sets[2].records[1]);
  EXPECT_EQ(NameOf(*del.before), "b");
  EXPECT_FALSE(del.after.has_value());
  EXPECT_GT(sets[2].commit_time_micros, 0);

  std::vector<Version> from2;
  ASSERT_OK(store->ReadChanges(2, [&](const ChangeSet& cs) {
    from2.push_back(cs.version);
    return true;
  }));
  EXPECT_EQ(from2, (std::vector<Version>{3}));
}

TEST(StoreChangeLog, ReadsPastOneChunkWithoutGaps) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  for (int i = 0; i < 600; ++i) {
    store->Submit([i](WriteTxn& t) { return t.PutRow(kUser, i % 7, Row("x", i)); });
  }
  ASSERT_OK(store->Commit([](WriteTxn&) { return Status::Ok(); }));
  Version expect = 1;
  ASSERT_OK(store->ReadChanges(0, [&](const ChangeSet& cs) {
    EXPECT_EQ(cs.version, expect);
    ++expect;
    return true;
  }));
  EXPECT_EQ(expect, 602u);
}

// ------------------------------------------------------------ writer/commit

TEST(StoreWriter, FailedTransactionRollsBackAloneAndVersionsStayGapFree) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::vector<std::future<Result<Version>>> futures;
  for (int i = 0; i < 50; ++i) {
    futures.push_back(store->Submit([i](WriteTxn& t) -> Status {
      ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, i, Row("r", i)));
      if (i % 5 == 0) return ConstraintViolation("no multiples of five");
      return Status::Ok();
    }));
  }
  std::set<Version> versions;
  for (int i = 0; i < 50; ++i) {
    auto r = futures[i].get();
    if (i % 5 == 0) {
      EXPECT_EQ(r.status().code(), ErrorCode::kConstraintViolation);
      EXPECT_EQ(NameAt(*store, kUser, i, std::nullopt), "-");
    } else {
      ASSERT_OK(r);
      versions.insert(*r);
    }
  }
  EXPECT_EQ(versions.size(), 40u);
  EXPECT_EQ(*versions.begin(), 1u);
  EXPECT_EQ(*versions.rbegin(), 40u);
  EXPECT_EQ(store->current_version(), 40u);
}

TEST(StoreWriter, EightThreadsAreGapFreeAndGroupCommitted) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  constexpr int kThreads = 8, kPerThread = 150;
  std::vector<std::vector<Version>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto v = store->Commit([&](WriteTxn& w) -> Status {
          ORMDB_ASSIGN_OR_RETURN(RowId id, w.AllocateId(kUser));
          return w.PutRow(kUser, id, Row("t" + std::to_string(t), i));
        });
        ASSERT_TRUE(v.ok()) << v.status().ToString();
        got[t].push_back(*v);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<Version> all;
  for (auto& g : got) {
    EXPECT_TRUE(std::is_sorted(g.begin(), g.end()));  // each thread sees its commits in order
    all.insert(all.end(), g.begin(), g.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i + 1);
  StoreStats s = store->stats();
  EXPECT_EQ(s.transactions_committed, uint64_t{kThreads * kPerThread});
  // Group commit batches: far fewer LMDB commits (fsyncs) than transactions.
  EXPECT_LT(s.group_commits * 2, s.transactions_committed)
      << s.group_commits << " commits for " << s.transactions_committed << " transactions";
}

TEST(StoreWriter, GatherWindowLetsTheLastGroupsClientsShareOneCommit) {
  TempDir dir;
  StoreOptions options;
  options.group_commit_window_micros = 5'000'000;  // long enough never to expire here
  auto store = OpenStore(dir.path(), options);
  // Hold the writer so that four transactions queue up and commit as one group.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto blocker = store->Submit([released](WriteTxn&) {
    released.wait();
    return Status::Ok();
  });
  std::vector<std::future<Result<Version>>> first;
  for (RowId id = 1; id <= 4; ++id) {
    first.push_back(store->Submit([id](WriteTxn& t) { return t.PutRow(kUser, id, Row("a", 1)); }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  release.set_value();
  ASSERT_OK(blocker.get());
  for (auto& f : first) ASSERT_OK(f.get());
  uint64_t commits_before = store->stats().group_commits;
  // The next four arrive one by one; the writer waits for as many as the last
  // group had and commits them together.
  std::vector<std::future<Result<Version>>> second;
  for (RowId id = 5; id <= 8; ++id) {
    second.push_back(store->Submit([id](WriteTxn& t) { return t.PutRow(kUser, id, Row("b", 1)); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& f : second) ASSERT_OK(f.get());
  EXPECT_EQ(store->stats().group_commits - commits_before, 1u);
}

TEST(StoreWriter, InjectedWriteFaultFailsOneTransaction) {
  TempDir dir;
  StoreOptions options;
  std::atomic<int> writes{0};
  std::atomic<int> fail_at{-1};
  options.faults.fail_write = [&] { return writes.fetch_add(1) == fail_at.load(); };
  auto store = OpenStore(dir.path(), options);
  writes = 0;
  fail_at = 1;  // the second write: the row of the second transaction
  auto a = store->Submit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("a", 1)); });
  auto b = store->Submit([](WriteTxn& t) { return t.PutRow(kUser, 2, Row("b", 2)); });
  auto c = store->Submit([](WriteTxn& t) { return t.PutRow(kUser, 3, Row("c", 3)); });
  auto ra = a.get(), rb = b.get(), rc = c.get();
  // Whatever the grouping, exactly one transaction failed and the others
  // committed with consecutive versions.
  int failed = !ra.ok() + !rb.ok() + !rc.ok();
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(store->current_version(), 2u);
  fail_at = -1;
  EXPECT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 4, Row("d", 4)); }));
  EXPECT_EQ(store->current_version(), 3u);
}

TEST(StoreWriter, InjectedCommitFaultFailsTheGroupAndChangesNothing) {
  TempDir dir;
  StoreOptions options;
  std::atomic<bool> fail{false};
  options.faults.fail_commit = [&] { return fail.load(); };
  auto store = OpenStore(dir.path(), options);
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("a", 1)); }));
  fail = true;
  auto r = store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("b", 1)); });
  EXPECT_EQ(r.status().code(), ErrorCode::kInternal);
  fail = false;
  EXPECT_EQ(store->current_version(), 1u);
  EXPECT_EQ(NameAt(*store, kUser, 1, std::nullopt), "a");
  auto again = store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("c", 1)); });
  ASSERT_OK(again);
  EXPECT_EQ(*again, 2u);
}

TEST(StoreWriter, OptimisticCheckConflicts) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("a", 1)); }));  // v1
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("b", 1)); }));  // v2
  auto stale = store->Commit([](WriteTxn& t) { return t.CheckRowUnchangedSince(kUser, 1, 1); });
  EXPECT_EQ(stale.status().code(), ErrorCode::kConflict);
  EXPECT_OK(store->Commit([](WriteTxn& t) { return t.CheckRowUnchangedSince(kUser, 1, 2); }));
  auto missing = store->Commit([](WriteTxn& t) { return t.CheckRowUnchangedSince(kUser, 9, 2); });
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
}

TEST(StoreWriter, WaitForVersionWakesOnCommit) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    (void)store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("a", 1)); });
  });
  EXPECT_EQ(store->WaitForVersionAfter(0, std::chrono::seconds(10)), 1u);
  writer.join();
  EXPECT_EQ(store->WaitForVersionAfter(1, std::chrono::milliseconds(1)), 1u);
}

TEST(StoreCheck, ReportsBrokenInvariantsAndTableSizes) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    ASSERT_OK(store->Commit([](WriteTxn& t) {
      ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 1, Row("a", 1)));
      ORMDB_RETURN_IF_ERROR(t.IndexInsert(kByName, Key("a"), 1, true));
      return t.Link(kTags, 1, 2).status();
    }));
    ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("b", 1)); }));
    auto sizes = store->table_sizes();
    ASSERT_OK(sizes);
    EXPECT_EQ(sizes->row_versions, 2u);
    EXPECT_EQ(sizes->index_entries, 1u);
    EXPECT_EQ(sizes->edge_entries, 2u);
    EXPECT_EQ(sizes->log_entries, 2u);
    EXPECT_TRUE(store->Check()->problems.empty());
  }
  // Damage the file behind the store's back: drop one edge direction and the
  // first change-log entry.
  WriteRawLmdb(dir.path(), [](MDB_txn* txn, MDB_env*) {
    MDB_dbi edges, log;
    std::string edges_table = "edges." + std::to_string(kTags.value % kEdgePartitions);
    ASSERT_EQ(mdb_dbi_open(txn, edges_table.c_str(), 0, &edges), 0);
    ASSERT_EQ(mdb_dbi_open(txn, "changelog", 0, &log), 0);
    std::string edge = KeyLayout(kFormatVersion).EdgeKey(kTags, EdgeDirection::kBackward, 2, 1, 1);
    std::string first = VersionKey(1);
    MDB_val ek{edge.size(), edge.data()}, lk{first.size(), first.data()};
    ASSERT_EQ(mdb_del(txn, edges, &ek, nullptr), 0);
    ASSERT_EQ(mdb_del(txn, log, &lk, nullptr), 0);
  });
  auto store = OpenStore(dir.path());
  auto report = store->Check();
  ASSERT_OK(report);
  std::string all;
  for (const auto& p : report->problems) all += p + "\n";
  EXPECT_NE(all.find("edge directions disagree"), std::string::npos) << all;
  EXPECT_NE(all.find("change log"), std::string::npos) << all;
}

// The live row count of `type` from the store's counters.
uint64_t LiveRows(Store& store, EntityTypeId type) {
  auto counts = store.RowCounts();
  EXPECT_OK(counts);
  if (!counts.ok()) return ~0ull;
  for (const RowCount& c : *counts) {
    if (c.type == type) return c.rows;
  }
  return 0;
}

TEST(StoreRowCounts, InsertsAndDeletesCountInTheirTransaction) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) {
    ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 1, Row("a", 1)));
    ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 2, Row("b", 1)));
    return t.PutRow(kPost, 1, Row("p", 1));
  }));
  EXPECT_EQ(LiveRows(*store, kUser), 2u);
  EXPECT_EQ(LiveRows(*store, kPost), 1u);
  // An update is not an insert; a delete and a reinsert of one id cancel out.
  ASSERT_OK(store->Commit([](WriteTxn& t) {
    ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 1, Row("a2", 1)));
    ORMDB_RETURN_IF_ERROR(t.DeleteRow(kUser, 2));
    ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 2, Row("b2", 1)));
    return t.DeleteRow(kPost, 1);
  }));
  EXPECT_EQ(LiveRows(*store, kUser), 2u);
  EXPECT_EQ(LiveRows(*store, kPost), 0u);
  // A transaction that fails leaves the counters as they were.
  auto failed = store->Commit([](WriteTxn& t) {
    ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 3, Row("c", 1)));
    return InvalidArgument("rolled back");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(LiveRows(*store, kUser), 2u);
  auto report = store->Check();
  ASSERT_OK(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  EXPECT_EQ(report->live_rows, 2u);
}

TEST(StoreRowCounts, CheckReportsAWrongCounterAndOpenCountsAnOldFile) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    ASSERT_OK(store->Commit([](WriteTxn& t) {
      ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 1, Row("a", 1)));
      return t.PutRow(kUser, 2, Row("b", 1));
    }));
  }
  WriteRawLmdb(dir.path(), [](MDB_txn* txn, MDB_env*) {
    MDB_dbi meta;
    ASSERT_EQ(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    std::string key = RowCountKey(kUser), value;
    PutU64BE(&value, 5);
    MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
    ASSERT_EQ(mdb_put(txn, meta, &k, &v, 0), 0);
  });
  {
    auto store = OpenStore(dir.path());
    auto report = store->Check();
    ASSERT_OK(report);
    ASSERT_EQ(report->problems.size(), 1u);
    EXPECT_EQ(report->problems[0], "row count of entity type 1 is 5 but 2 rows are live");
  }
  // A data file from before the counters (no marker, no counters) is
  // counted when opened.
  WriteRawLmdb(dir.path(), [](MDB_txn* txn, MDB_env*) {
    MDB_dbi meta;
    ASSERT_EQ(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    std::string key = RowCountKey(kUser);
    MDB_val k{key.size(), key.data()};
    MDB_val marker{kRowCountsMarker.size(), const_cast<char*>(kRowCountsMarker.data())};
    ASSERT_EQ(mdb_del(txn, meta, &k, nullptr), 0);
    ASSERT_EQ(mdb_del(txn, meta, &marker, nullptr), 0);
  });
  auto store = OpenStore(dir.path());
  EXPECT_EQ(LiveRows(*store, kUser), 2u);
  EXPECT_TRUE(store->Check()->problems.empty());
}

TEST(StoreWriter, MetaRoundTrips) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutMeta("catalog", "v1"); }));
  auto txn = store->BeginRead();
  auto m = (*txn)->GetMeta("catalog");
  ASSERT_OK(m);
  EXPECT_EQ(m->value_or(""), "v1");
  EXPECT_FALSE((*txn)->GetMeta("other")->has_value());
}

// 20 commits of 100 rows of about 4 KB (ids 0 to 1999): 8 MB, enough to
// grow a 256 KiB map several times. Returns the rows' name.
std::string CommitBigRows(Store& store) {
  std::string big(4000, 'z');
  for (int batch = 0; batch < 20; ++batch) {
    EXPECT_OK(store.Commit([&](WriteTxn& t) {
      for (int i = 0; i < 100; ++i) {
        RowId id = batch * 100 + i;
        ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, id, Row(big, id)));
      }
      return Status::Ok();
    }));
  }
  return big;
}

// ------------------------------------------------------------ kept reads

TEST(StoreKeptReads, ASecondReadReusesTheFirstsTransactionUntilACommit) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("ann", 1)); }));
  EXPECT_EQ(NameAt(*store, kUser, 1, std::nullopt), "ann");
  EXPECT_EQ(store->stats().reads_kept, 1u);
  const uint64_t reused = store->stats().reads_reused;
  EXPECT_EQ(NameAt(*store, kUser, 1, std::nullopt), "ann");
  EXPECT_EQ(store->stats().reads_reused, reused + 1);
  // A commit ends the kept transaction: the next read sees the new row.
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 2, Row("bob", 2)); }));
  EXPECT_EQ(store->stats().reads_kept, 0u);
  EXPECT_EQ(NameAt(*store, kUser, 2, std::nullopt), "bob");
  EXPECT_EQ(store->stats().reads_reused, reused + 1);
  // An older version is read through the same kept transaction.
  EXPECT_EQ(NameAt(*store, kUser, 2, Version{1}), "-");
  EXPECT_EQ(store->stats().reads_reused, reused + 2);
  // So is a read that fails (a version not yet committed).
  EXPECT_FALSE(store->BeginRead(Version{99}).ok());
  EXPECT_EQ(NameAt(*store, kUser, 1, std::nullopt), "ann");
  EXPECT_EQ(store->stats().reads_kept, 1u);
}

TEST(StoreKeptReads, TheMapGrowsWhileAnotherThreadKeepsARead) {
  TempDir dir;
  StoreOptions options;
  options.initial_map_size = 256 * 1024;
  auto store = OpenStore(dir.path(), options);
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 0, Row("first", 0)); }));
  std::mutex mu;
  std::condition_variable cv;
  int step = 0;  // 1: the reader kept a read; 2: the map grew
  std::string seen;
  std::thread reader([&] {
    EXPECT_EQ(NameAt(*store, kUser, 0, std::nullopt), "first");
    {
      std::unique_lock lock(mu);
      step = 1;
      cv.notify_all();
      cv.wait(lock, [&] { return step == 2; });
    }
    seen = NameAt(*store, kUser, 1999, std::nullopt);
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return step == 1; });
  }
  EXPECT_EQ(store->stats().reads_kept, 1u);
  const std::string big = CommitBigRows(*store);
  EXPECT_GT(store->stats().map_grows, 0u);
  {
    std::unique_lock lock(mu);
    step = 2;
    cv.notify_all();
  }
  reader.join();
  EXPECT_EQ(seen, big);
}

TEST(StoreKeptReads, ThreadsAndStoresEndInEitherOrderAndAtMost64AreKept) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("ann", 1)); }));
  // A thread that read and ended: its kept transaction ended with it.
  std::thread([&] { EXPECT_EQ(NameAt(*store, kUser, 1, std::nullopt), "ann"); }).join();
  EXPECT_EQ(store->stats().reads_kept, 0u);
  // 70 threads that read and wait: at most 64 keep theirs (a reader slot
  // each), and every read works.
  constexpr int kThreads = 70;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  bool go = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      // Twice: a thread past the cap keeps nothing either time.
      EXPECT_EQ(NameAt(*store, kUser, 1, std::nullopt), "ann");
      EXPECT_EQ(NameAt(*store, kUser, 1, std::nullopt), "ann");
      std::unique_lock lock(mu);
      ++done;
      cv.notify_all();
      cv.wait(lock, [&] { return go; });
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == kThreads; });
  }
  EXPECT_EQ(store->stats().reads_kept, KeptReads::kMaxKept);
  // The store closes while they keep their reads; they end after it.
  store.reset();
  {
    std::unique_lock lock(mu);
    go = true;
    cv.notify_all();
  }
  for (std::thread& t : threads) t.join();
  store = OpenStore(dir.path());
  EXPECT_EQ(NameAt(*store, kUser, 1, std::nullopt), "ann");
}

// --------------------------------------------------------------- map growth

TEST(StoreMap, TinyMapGrowsAndKeepsWorking) {
  TempDir dir;
  StoreOptions options;
  options.initial_map_size = 256 * 1024;
  std::string big;
  {
    auto store = OpenStore(dir.path(), options);
    big = CommitBigRows(*store);
    EXPECT_GT(store->stats().map_grows, 0u);
    EXPECT_GT(store->stats().map_size, 8u << 20);
  }
  auto store = OpenStore(dir.path(), options);
  EXPECT_EQ(store->current_version(), 20u);
  EXPECT_EQ(NameAt(*store, kUser, 1999, std::nullopt), big);
}

TEST(StoreMap, MaximumGivesResourceExhaustedAndKeepsData) {
  TempDir dir;
  StoreOptions options;
  options.initial_map_size = 256 * 1024;
  options.max_map_size = 1 << 20;
  std::string big(4000, 'z');
  Version last_ok = 0;
  int acknowledged_batches = 0;
  {
    auto store = OpenStore(dir.path(), options);
    for (int batch = 0; batch < 100; ++batch) {
      auto v = store->Commit([&](WriteTxn& t) {
        for (int i = 0; i < 10; ++i) {
          RowId id = batch * 10 + i;
          ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, id, Row(big, id)));
        }
        return Status::Ok();
      });
      if (!v.ok()) {
        EXPECT_EQ(v.status().code(), ErrorCode::kResourceExhausted) << v.status().ToString();
        break;
      }
      last_ok = *v;
      ++acknowledged_batches;
    }
    EXPECT_GT(acknowledged_batches, 0);
    EXPECT_LT(acknowledged_batches, 100);
    // A small transaction still fits.
    (void)store->Commit([](WriteTxn& t) { return t.PutRow(kPost, 1, Row("tiny", 1)); });
  }
  auto store = OpenStore(dir.path(), options);
  EXPECT_GE(store->current_version(), last_ok);
  for (int id = 0; id < acknowledged_batches * 10; ++id) {
    ASSERT_EQ(NameAt(*store, kUser, id, std::nullopt), big) << id;
  }
}

TEST(StoreMap, GrowthWaitsForOpenReadTransactions) {
  TempDir dir;
  StoreOptions options;
  options.initial_map_size = 256 * 1024;
  auto store = OpenStore(dir.path(), options);
  auto reader = store->BeginRead();
  ASSERT_OK(reader);
  std::string big(4000, 'z');
  auto pending = store->Submit([&](WriteTxn& t) {
    for (RowId id = 0; id < 200; ++id) ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, id, Row(big, 1)));
    return Status::Ok();
  });
  // The map cannot grow while the read transaction lives.
  EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  reader->reset();
  auto v = pending.get();
  ASSERT_OK(v);
  EXPECT_GT(store->stats().map_grows, 0u);
}

TEST(StoreMap, GrowthBlockedByAStuckReaderFailsRetryably) {
  TempDir dir;
  StoreOptions options;
  options.initial_map_size = 256 * 1024;
  options.map_growth_wait_millis = 50;
  auto store = OpenStore(dir.path(), options);
  auto reader = store->BeginRead();
  ASSERT_OK(reader);
  std::string big(4000, 'z');
  auto fill = [&](WriteTxn& t) {
    for (RowId id = 0; id < 200; ++id) ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, id, Row(big, 1)));
    return Status::Ok();
  };
  auto v = store->Commit(fill);
  EXPECT_EQ(v.status().code(), ErrorCode::kUnavailable) << v.status().ToString();
  EXPECT_EQ(store->current_version(), 0u);
  reader->reset();
  EXPECT_OK(store->Commit(fill));  // the retry succeeds once the reader is gone
}

// ------------------------------------------------------------ vacuum & pins

StoreOptions KeepLatestOnly() {
  StoreOptions o;
  o.retention_seconds = 0;
  o.retention_versions = 0;
  o.vacuum_batch = 3;  // many small steps
  return o;
}

TEST(StoreVacuum, RemovesHistoryBelowHorizonAndKeepsLatest) {
  TempDir dir;
  auto store = OpenStore(dir.path(), KeepLatestOnly());
  for (int i = 1; i <= 5; ++i) {
    ASSERT_OK(store->Commit([i](WriteTxn& t) {
      ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 1, Row("v" + std::to_string(i), i)));
      ORMDB_RETURN_IF_ERROR(t.PutRow(kUser, 100 + i, Row("gone", i)));
      if (i > 1) ORMDB_RETURN_IF_ERROR(t.DeleteRow(kUser, 100 + i - 1));
      if (i > 1) ORMDB_RETURN_IF_ERROR(t.IndexRemove(kByName, Key("n" + std::to_string(i - 1)), 1));
      ORMDB_RETURN_IF_ERROR(t.IndexInsert(kByName, Key("n" + std::to_string(i)), 1, true));
      if (i > 1) ORMDB_RETURN_IF_ERROR(t.Unlink(kTags, 1, i - 1).status());
      return t.Link(kTags, 1, i).status();
    }));
  }
  auto stats = store->Vacuum();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->horizon, 5u);
  EXPECT_EQ(stats->row_versions_removed,
            4u + 4u * 2);  // row 1: v1..v4; rows 101..104: put + tombstone
  EXPECT_EQ(stats->index_entries_removed, 4u);
  EXPECT_EQ(stats->edges_removed, 8u);  // both directions
  EXPECT_EQ(stats->log_entries_removed, 5u);
  EXPECT_GT(stats->steps, 3u);
  EXPECT_EQ(store->oldest_readable_version(), 5u);

  EXPECT_EQ(NameAt(*store, kUser, 1, std::nullopt), "v5");
  EXPECT_EQ(NameAt(*store, kUser, 105, std::nullopt), "gone");
  EXPECT_EQ(NameAt(*store, kUser, 104, std::nullopt), "-");
  EXPECT_EQ(IndexIds(*store, std::nullopt, "n5"), (std::vector<RowId>{1}));
  EXPECT_EQ(Linked(*store, std::nullopt, EdgeDirection::kForward, 1), (std::vector<RowId>{5}));
  auto old = store->BeginRead(4);
  EXPECT_EQ(old.status().code(), ErrorCode::kHistoryLost);
  auto lost = store->ReadChanges(3, [](const ChangeSet&) { return true; });
  EXPECT_EQ(lost.code(), ErrorCode::kHistoryLost);
  EXPECT_OK(store->ReadChanges(5, [](const ChangeSet&) { return true; }));
  auto history = (*store->BeginRead())->History(kUser, 1);
  EXPECT_EQ(history->size(), 1u);

  auto report = store->Check();
  ASSERT_OK(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  EXPECT_EQ(report->edge_entries, 2u);
  // Survives reopen.
  store.reset();
  store = OpenStore(dir.path(), KeepLatestOnly());
  EXPECT_EQ(store->oldest_readable_version(), 5u);
  EXPECT_EQ(store->BeginRead(4).status().code(), ErrorCode::kHistoryLost);
}

// A read of the latest version never fails while commits and vacuums that
// keep only the latest version run beside it: the version a reader loaded
// may fall below the oldest readable one before its snapshot begins, and
// then it reads the newer latest version instead (Store::BeginRead).
TEST(StoreVacuum, LatestReadsNeverLoseHistoryUnderVacuum) {
  TempDir dir;
  auto store = OpenStore(dir.path(), KeepLatestOnly());
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("v0", 0)); }));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 1; i <= 300; ++i) {
      auto st = store->Commit(
          [i](WriteTxn& t) { return t.PutRow(kUser, 1, Row("v" + std::to_string(i), i)); });
      if (!st.ok()) ADD_FAILURE() << st.status().ToString();
      if (auto v = store->Vacuum(); !v.ok()) ADD_FAILURE() << v.status().ToString();
    }
    done = true;
  });
  uint64_t reads = 0;
  while (!done) {
    auto txn = store->BeginRead();
    ASSERT_OK(txn.status());
    auto row = (*txn)->Get(kUser, 1);
    ASSERT_OK(row.status());
    ASSERT_TRUE(row->has_value()) << "version " << (*txn)->snapshot();
    ++reads;
  }
  writer.join();
  EXPECT_GT(reads, 0u);
}

TEST(StoreVacuum, RetentionWindowKeepsRecentVersions) {
  TempDir dir;
  StoreOptions o = KeepLatestOnly();
  o.retention_versions = 3;
  auto store = OpenStore(dir.path(), o);
  for (int i = 1; i <= 6; ++i) {
    ASSERT_OK(store->Commit(
        [i](WriteTxn& t) { return t.PutRow(kUser, 1, Row("v" + std::to_string(i), i)); }));
  }
  auto stats = store->Vacuum();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->horizon, 4u);  // versions 4, 5, 6 stay readable
  EXPECT_EQ(NameAt(*store, kUser, 1, 4), "v4");
  EXPECT_EQ(store->BeginRead(3).status().code(), ErrorCode::kHistoryLost);
}

TEST(StoreVacuum, PinsHoldTheHorizon) {
  TempDir dir;
  auto store = OpenStore(dir.path(), KeepLatestOnly());
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("old", 1)); }));
  auto pin = store->Pin(1);
  ASSERT_OK(pin);
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kUser, 1, Row("new", 1)); }));
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.DeleteRow(kUser, 1); }));
  EXPECT_EQ(store->stats().pinned_versions, 1u);
  auto stats = store->Vacuum();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->horizon, 1u);
  EXPECT_EQ(NameAt(*store, kUser, 1, 1), "old");
  std::vector<Version> log;
  ASSERT_OK(store->ReadChanges(1, [&](const ChangeSet& cs) {
    log.push_back(cs.version);
    return true;
  }));
  EXPECT_EQ(log, (std::vector<Version>{2, 3}));
  pin->Release();
  stats = store->Vacuum();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->horizon, 3u);
  EXPECT_EQ(store->BeginRead(1).status().code(), ErrorCode::kHistoryLost);
  EXPECT_EQ(store->Pin(2).status().code(), ErrorCode::kHistoryLost);
  EXPECT_EQ(store->Pin(4).status().code(), ErrorCode::kInvalidArgument);
  // The deleted row is gone entirely: no versions left.
  EXPECT_TRUE((*store->BeginRead())->History(kUser, 1)->empty());
}

// The bytes of every change-log entry of the data file in `dir`.
uint64_t LogValueBytes(const std::string& dir) {
  uint64_t bytes = 0;
  RawRead raw(dir);
  MDB_txn* txn = raw.txn();
  MDB_dbi log;
  EXPECT_EQ(mdb_dbi_open(txn, "changelog", 0, &log), 0);
  MDB_cursor* cur;
  EXPECT_EQ(mdb_cursor_open(txn, log, &cur), 0);
  MDB_val k, v;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    bytes += v.mv_size;
  }
  mdb_cursor_close(cur);
  return bytes;
}

// The change sets still readable after `after`, commit times cleared.
std::vector<ChangeSet> ChangesAfter(Store& store, Version after) {
  std::vector<ChangeSet> out;
  EXPECT_OK(store.ReadChanges(after, [&](const ChangeSet& cs) {
    out.push_back(cs);
    out.back().commit_time_micros = 0;
    return true;
  }));
  return out;
}

TEST(StoreChangeLog, ImagesNamedInTheRowsTableReadAsCopiedOnesThroughVacuum) {
  // The same random writes (several per transaction, to the same rows too)
  // into a format-1 store, whose log copies every row image, and a format-2
  // store, whose log names the images the rows table holds; vacuum after
  // each commit keeps five versions. The change streams must be equal.
  TempDir dir1, dir2;
  StoreOptions o1 = KeepLatestOnly(), o2 = KeepLatestOnly();
  o1.retention_versions = o2.retention_versions = 5;
  o1.create_format = 1;
  auto old_store = OpenStore(dir1.path(), o1);
  auto new_store = OpenStore(dir2.path(), o2);
  std::mt19937_64 rng(11);
  std::set<std::pair<uint32_t, RowId>> live;
  for (int txn = 0; txn < 300; ++txn) {
    struct Op {
      EntityTypeId type;
      RowId id;
      bool remove;
      int n;
    };
    std::vector<Op> ops;
    int count = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < count; ++i) {
      EntityTypeId type = rng() % 2 ? kUser : kPost;
      RowId id = 1 + rng() % 6;
      bool exists = live.count({type.value, id}) > 0;
      bool remove = exists && rng() % 4 == 0;
      ops.push_back(Op{type, id, remove, static_cast<int>(rng() % 1000)});
      if (remove) {
        live.erase({type.value, id});
      } else {
        live.insert({type.value, id});
      }
    }
    for (Store* store : {old_store.get(), new_store.get()}) {
      ASSERT_OK(store->Commit([&](WriteTxn& t) {
        for (const Op& op : ops) {
          if (op.remove) {
            ORMDB_RETURN_IF_ERROR(t.DeleteRow(op.type, op.id));
          } else {
            ORMDB_RETURN_IF_ERROR(t.PutRow(op.type, op.id, Row("r" + std::to_string(op.n), op.n)));
          }
        }
        return Status::Ok();
      }));
      ASSERT_OK(store->Vacuum());
    }
    Version oldest = new_store->oldest_readable_version();
    ASSERT_EQ(old_store->oldest_readable_version(), oldest);
    ASSERT_EQ(ChangesAfter(*new_store, oldest), ChangesAfter(*old_store, oldest)) << txn;
  }
  for (Store* store : {old_store.get(), new_store.get()}) {
    auto report = store->Check();
    ASSERT_OK(report);
    EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  }
  auto old_sizes = old_store->table_sizes(), new_sizes = new_store->table_sizes();
  ASSERT_OK(old_sizes);
  ASSERT_OK(new_sizes);
  EXPECT_EQ(old_sizes->log_entries, new_sizes->log_entries);
  // The format-2 log names the images instead of copying them: its entries
  // hold the row records' headers and only the images in between.
  old_store.reset();
  new_store.reset();
  uint64_t old_bytes = LogValueBytes(dir1.path()), new_bytes = LogValueBytes(dir2.path());
  EXPECT_GT(old_bytes, 0u);
  EXPECT_LT(new_bytes * 10, old_bytes * 7) << new_bytes << " against " << old_bytes;
}

// Whether a random edge operation links (else unlinks).
bool rng_link(int n) { return n % 3 != 0; }

// Everything a reader sees at snapshot `at`: rows (both scan directions),
// index entries and edges, as text.
std::string Observe(Store& store, Version at) {
  auto txn = store.BeginRead(at);
  EXPECT_TRUE(txn.ok());
  std::string out;
  for (EntityTypeId type : {kUser, kPost}) {
    for (ScanDirection dir : {ScanDirection::kForward, ScanDirection::kBackward}) {
      RowId start = dir == ScanDirection::kForward ? 0 : std::numeric_limits<RowId>::max();
      EXPECT_OK((*txn)->ScanRows(type, start, dir, [&](RowId id, const RowRecord& r) {
        out += "r" + std::to_string(type.value) + ":" + std::to_string(id) + "@" +
               std::to_string(r.version) + "=" + NameOf(r.bytes_in_txn) + " ";
        return true;
      }));
    }
  }
  for (IndexId index : {kByName, IndexId{11}}) {
    EXPECT_OK((*txn)->ScanIndex(index, "", "", ScanDirection::kBackward, [&](const IndexEntry& e) {
      out += "i" + std::to_string(index.value) + ":" + std::to_string(e.id) + "=" +
             std::string(e.value_part_in_txn) + " ";
      return true;
    }));
  }
  for (RowId from : {RowId{1}, RowId{2}, RowId{1} << 40, std::numeric_limits<RowId>::max()}) {
    for (EdgeDirection dir : {EdgeDirection::kForward, EdgeDirection::kBackward}) {
      EXPECT_OK((*txn)->ScanEdges(kTags, dir, from, [&](RowId to) {
        out += "e" + std::to_string(from) + ">" + std::to_string(to) + " ";
        return true;
      }));
    }
  }
  return out;
}

TEST(StoreFormats, EveryFormatSeesTheSameThroughWritesAndVacuum) {
  // The same random writes (rows, unique and plain index entries, edges; ids
  // from 0 to 2^64-1 so every compact integer length occurs) into stores of
  // formats 1, 2 and 3, vacuumed to five versions after each commit: every
  // snapshot must read the same in all three, and Check must find nothing.
  TempDir dirs[3];
  std::unique_ptr<Store> stores[3];
  for (uint32_t f = 1; f <= 3; ++f) {
    StoreOptions o = KeepLatestOnly();
    o.retention_versions = 5;
    o.create_format = f;
    o.sync_mode = SyncMode::kNoSync;  // what is read matters here, not durability
    stores[f - 1] = OpenStore(dirs[f - 1].path(), o);
    ASSERT_NE(stores[f - 1], nullptr);
  }
  const RowId kIds[] = {0,
                        1,
                        2,
                        255,
                        256,
                        65535,
                        65536,
                        RowId{1} << 40,
                        std::numeric_limits<RowId>::max() - 1,
                        std::numeric_limits<RowId>::max()};
  std::mt19937_64 rng(5);
  std::map<std::pair<uint32_t, RowId>, std::string> live;  // row -> indexed name
  for (int round = 0; round < 50; ++round) {
    std::vector<std::function<Status(WriteTxn&)>> ops;
    int count = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < count; ++i) {
      EntityTypeId type = rng() % 2 ? kUser : kPost;
      RowId id = kIds[rng() % std::size(kIds)];
      RowId other = kIds[rng() % std::size(kIds)];
      int n = static_cast<int>(rng() % 50);
      std::string name = "n" + std::to_string(n % 7);
      auto key = std::make_pair(type.value, id);
      switch (rng() % 4) {
        case 0:
          if (live.count(key)) {
            std::string old = live[key];
            live.erase(key);
            ops.push_back([=](WriteTxn& t) {
              ORMDB_RETURN_IF_ERROR(t.DeleteRow(type, id));
              return t.IndexRemove(kByName, Key(old), id);
            });
            break;
          }
          [[fallthrough]];
        case 1: {
          std::optional<std::string> old;
          if (live.count(key)) old = live[key];
          live[key] = name;
          ops.push_back([=](WriteTxn& t) {
            ORMDB_RETURN_IF_ERROR(t.PutRow(type, id, Row(name, n)));
            if (old) ORMDB_RETURN_IF_ERROR(t.IndexRemove(kByName, Key(*old), id));
            return t.IndexInsert(kByName, Key(name), id, false);
          });
          break;
        }
        case 2:
          ops.push_back([=](WriteTxn& t) {
            return rng_link(n) ? t.Link(kTags, id, other).status()
                               : t.Unlink(kTags, id, other).status();
          });
          break;
        default:
          // A unique index: the commit fails on a clash, in every format alike.
          ops.push_back([=](WriteTxn& t) {
            return t.IndexInsert(IndexId{11}, Key(std::to_string(n)), id, true);
          });
      }
    }
    std::optional<bool> ok;
    for (auto& store : stores) {
      auto r = store->Commit([&](WriteTxn& t) {
        for (auto& op : ops) ORMDB_RETURN_IF_ERROR(op(t));
        return Status::Ok();
      });
      if (!ok) ok = r.ok();
      ASSERT_EQ(r.ok(), *ok) << round << ": " << r.status().ToString();
      ASSERT_OK(store->Vacuum());
    }
    if (!*ok) {
      // Rolled back everywhere: recompute what is live from a store.
      live.clear();
      auto txn = stores[2]->BeginRead();
      ASSERT_OK(txn);
      for (EntityTypeId type : {kUser, kPost}) {
        ASSERT_OK(
            (*txn)->ScanRows(type, 0, ScanDirection::kForward, [&](RowId id, const RowRecord& r) {
              live[{type.value, id}] = NameOf(r.bytes_in_txn);
              return true;
            }));
      }
    }
    // The current snapshot and one of the older ones vacuum kept.
    Version current = stores[0]->current_version();
    Version oldest = stores[0]->oldest_readable_version();
    for (Version at : {current, oldest + rng() % (current - oldest + 1)}) {
      std::string seen = Observe(*stores[0], at);
      ASSERT_EQ(Observe(*stores[1], at), seen) << round << " at " << at;
      ASSERT_EQ(Observe(*stores[2], at), seen) << round << " at " << at;
    }
  }
  for (auto& store : stores) {
    auto report = store->Check();
    ASSERT_OK(report);
    EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  }
  // And the layouts differ as documented: format 3's keys are shorter and a
  // current index entry's value is empty.
  for (auto& store : stores) store.reset();
  for (uint32_t f = 2; f <= 3; ++f) {
    RawRead raw(dirs[f - 1].path());
    MDB_dbi rows, indexes;
    std::string rows_table = "rows." + std::to_string(kUser.value % kRowPartitions);
    std::string index_table = "indexes." + std::to_string(kByName.value % kIndexPartitions);
    ASSERT_EQ(mdb_dbi_open(raw.txn(), rows_table.c_str(), 0, &rows), 0);
    ASSERT_EQ(mdb_dbi_open(raw.txn(), index_table.c_str(), 0, &indexes), 0);
    MDB_cursor* cur = nullptr;
    ASSERT_EQ(mdb_cursor_open(raw.txn(), rows, &cur), 0);
    MDB_val k, v;
    ASSERT_EQ(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
    EXPECT_EQ(k.mv_size == 20, f == 2) << k.mv_size;
    mdb_cursor_close(cur);
    ASSERT_EQ(mdb_cursor_open(raw.txn(), indexes, &cur), 0);
    size_t empty_values = 0, entries = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      ++entries;
      if (v.mv_size == 0) ++empty_values;
    }
    mdb_cursor_close(cur);
    EXPECT_GT(entries, 0u);
    EXPECT_EQ(empty_values > 0, f == 3);
  }
}

TEST(StoreVacuum, ConcurrentVacuumsAreSerialized) {
  TempDir dir;
  auto store = OpenStore(dir.path(), KeepLatestOnly());
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(store->Commit(
        [i](WriteTxn& t) { return t.PutRow(kUser, i % 10, Row("v" + std::to_string(i), i)); }));
  }
  uint64_t removed[2] = {0, 0};
  std::thread a([&] { removed[0] = store->Vacuum()->row_versions_removed; });
  std::thread b([&] { removed[1] = store->Vacuum()->row_versions_removed; });
  a.join();
  b.join();
  EXPECT_EQ(removed[0] + removed[1], 90u);  // each old version removed exactly once
  auto report = store->Check();
  ASSERT_OK(report);
  EXPECT_EQ(report->row_versions, 10u);
  EXPECT_TRUE(report->problems.empty());
}

TEST(StoreVacuum, ConcurrentWritesDuringVacuumStayIntact) {
  TempDir dir;
  auto store = OpenStore(dir.path(), KeepLatestOnly());
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK(store->Commit(
        [i](WriteTxn& t) { return t.PutRow(kUser, i % 20, Row("a" + std::to_string(i), i)); }));
  }
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      (void)store->Commit([i](WriteTxn& t) { return t.PutRow(kPost, i, Row("p", i)); });
    }
  });
  ASSERT_OK(store->Vacuum());
  stop = true;
  writer.join();
  for (int id = 0; id < 20; ++id) {
    EXPECT_EQ(NameAt(*store, kUser, id, std::nullopt), "a" + std::to_string(180 + id));
  }
}

}  // namespace
}  // namespace ormdb::storage
