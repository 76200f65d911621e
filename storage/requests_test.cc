// Recorded request outcomes (exactly-once writes): WriteTxn::RecordRequest,
// TxnReader::FindRequest, their change-log records, retention and Check.
#include <gtest/gtest.h>
#include <lmdb.h>

#include <atomic>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "storage/key_encoding.h"
#include "storage/keys.h"
#include "storage/row_codec.h"
#include "storage/store.h"
#include "storage/test_util.h"

namespace ormdb::storage {
namespace {

using testing::TempDir;

const EntityTypeId kItem{1};
const ValueType kLayout[] = {ValueType::kString};

std::string Row(const std::string& s) {
  Value values[] = {Value::String(s)};
  return EncodeRow(1, kLayout, values).value();
}

std::unique_ptr<Store> OpenStore(const std::string& dir, StoreOptions options = {}) {
  auto store = Store::Open(dir, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// FindRequest on a fresh read transaction (at `at`, default current).
std::optional<RequestOutcome> Find(Store& store, std::string_view key,
                                   std::optional<Version> at = std::nullopt) {
  auto txn = store.BeginRead(at);
  EXPECT_TRUE(txn.ok()) << txn.status().ToString();
  if (!txn.ok()) return std::nullopt;
  auto found = (*txn)->FindRequest(key);
  EXPECT_TRUE(found.ok()) << found.status().ToString();
  return found.ok() ? *found : std::nullopt;
}

// A client write: a row and the request record, as the server makes them.
TxnFn Write(std::string key, RowId id, std::string outcome = "") {
  return [key = std::move(key), id, outcome = std::move(outcome)](WriteTxn& t) -> Status {
    ORMDB_RETURN_IF_ERROR(t.PutRow(kItem, id, Row(key)));
    return t.RecordRequest(key, outcome.empty() ? "reply of " + key : outcome);
  };
}

// The request keys of each version's change log entry.
std::map<Version, std::vector<std::string>> LoggedRequests(Store& store) {
  std::map<Version, std::vector<std::string>> out;
  EXPECT_OK(store.ReadChanges(store.oldest_readable_version(), [&](const ChangeSet& cs) {
    auto& keys = out[cs.version];
    for (const ChangeRecord& r : cs.records) {
      if (const auto* req = std::get_if<RequestRecord>(&r)) keys.push_back(req->key);
    }
    return true;
  }));
  return out;
}

void ExpectCheckClean(Store& store) {
  auto report = store.Check();
  ASSERT_OK(report);
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
}

TEST(Requests, RecordedAndFoundInTheSameTransactionAndAfterCommit) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kItem, 1, Row("before")); }));
  auto v = store->Commit([](WriteTxn& t) -> Status {
    ORMDB_ASSIGN_OR_RETURN(auto none, t.FindRequest("req-1"));
    if (none) return Internal("found before recording");
    ORMDB_RETURN_IF_ERROR(t.RecordRequest("req-1", R"({"version":2})"));
    ORMDB_ASSIGN_OR_RETURN(auto found, t.FindRequest("req-1"));
    if (!found || found->version != t.version() || found->outcome != R"({"version":2})") {
      return Internal("not found in its own transaction");
    }
    return Status::Ok();
  });
  ASSERT_OK(v);
  EXPECT_EQ(*v, 2u);
  EXPECT_EQ(Find(*store, "req-1"), (RequestOutcome{2, R"({"version":2})"}));
  // A snapshot before the request's commit does not see it.
  EXPECT_EQ(Find(*store, "req-1", 1), std::nullopt);
  EXPECT_EQ(Find(*store, "req-2"), std::nullopt);
  // Binary keys (a principal id prefix, say) and empty outcomes are fine.
  std::string binary("\0p\xff", 3);
  ASSERT_OK(store->Commit([&](WriteTxn& t) { return t.RecordRequest(binary, ""); }));
  EXPECT_EQ(Find(*store, binary), (RequestOutcome{3, ""}));
  auto sizes = store->table_sizes();
  ASSERT_OK(sizes);
  EXPECT_EQ(sizes->request_entries, 2u);
  ExpectCheckClean(*store);
}

TEST(Requests, TheChangeLogEntryOfTheVersionHoldsTheKey) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_OK(store->Commit(Write("a", 1)));
  ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kItem, 2, Row("no request")); }));
  ASSERT_OK(store->Commit([](WriteTxn& t) -> Status {
    ORMDB_RETURN_IF_ERROR(t.RecordRequest("b", "1"));
    ORMDB_RETURN_IF_ERROR(t.PutRow(kItem, 3, Row("b")));
    return t.RecordRequest("c", "2");  // one transaction may answer two requests
  }));
  auto logged = LoggedRequests(*store);
  EXPECT_EQ(logged[1], (std::vector<std::string>{"a"}));
  EXPECT_TRUE(logged[2].empty());
  EXPECT_EQ(logged[3], (std::vector<std::string>{"b", "c"}));
  // The record keeps its place among the transaction's changes.
  std::vector<size_t> kinds;
  ASSERT_OK(store->ReadChanges(2, [&](const ChangeSet& cs) {
    for (const ChangeRecord& r : cs.records) kinds.push_back(r.index());
    return true;
  }));
  EXPECT_EQ(kinds, (std::vector<size_t>{3, 0, 3}));  // request, row, request
}

TEST(Requests, FoundByALaterTransactionOfTheSameGroup) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  // Hold the writer so that the next two transactions queue up and commit as
  // one group.
  std::promise<void> started, release;
  std::shared_future<void> released = release.get_future().share();
  auto blocker = store->Submit([&, released](WriteTxn&) {
    started.set_value();
    released.wait();
    return Status::Ok();
  });
  started.get_future().wait();
  auto first = store->Submit(Write("k", 1, "first"));
  std::optional<RequestOutcome> seen;
  auto second = store->Submit([&](WriteTxn& t) -> Status {
    ORMDB_ASSIGN_OR_RETURN(seen, t.FindRequest("k"));
    // What a resend of "k" does: answer with the outcome, write nothing.
    if (seen) return Status::Ok();
    return t.RecordRequest("k", "second");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  uint64_t commits_before = store->stats().group_commits;
  release.set_value();
  ASSERT_OK(blocker.get());
  auto v1 = first.get();
  auto v2 = second.get();
  ASSERT_OK(v1);
  ASSERT_OK(v2);
  // The blocker's group, then one group for both.
  EXPECT_EQ(store->stats().group_commits - commits_before, 2u);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(*seen, (RequestOutcome{*v1, "first"}));
  EXPECT_EQ(Find(*store, "k"), (RequestOutcome{*v1, "first"}));
  ExpectCheckClean(*store);
}

TEST(Requests, SurviveReopen) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    for (int i = 1; i <= 20; ++i) ASSERT_OK(store->Commit(Write("r" + std::to_string(i), i)));
  }
  auto store = OpenStore(dir.path());
  for (int i = 1; i <= 20; ++i) {
    std::string key = "r" + std::to_string(i);
    EXPECT_EQ(Find(*store, key), (RequestOutcome{Version(i), "reply of " + key}));
  }
  ExpectCheckClean(*store);
}

TEST(Requests, ARolledBackTransactionLeavesNoRecord) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  auto failed = store->Commit([](WriteTxn& t) -> Status {
    ORMDB_RETURN_IF_ERROR(t.RecordRequest("lost", "never sent"));
    ORMDB_RETURN_IF_ERROR(t.PutRow(kItem, 1, Row("x")));
    return ConstraintViolation("the mutation failed after recording");
  });
  EXPECT_EQ(failed.status().code(), ErrorCode::kConstraintViolation);
  EXPECT_EQ(Find(*store, "lost"), std::nullopt);
  EXPECT_EQ(store->current_version(), 0u);
  // The key is free: the resend that follows records it.
  auto v = store->Commit(Write("lost", 1));
  ASSERT_OK(v);
  EXPECT_EQ(Find(*store, "lost"), (RequestOutcome{*v, "reply of lost"}));
  EXPECT_EQ(LoggedRequests(*store)[1], (std::vector<std::string>{"lost"}));
  ExpectCheckClean(*store);
}

TEST(Requests, RecordingAKeyTwiceIsACallerBug) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  auto v = store->Commit(Write("dup", 1, "original"));
  ASSERT_OK(v);
  // In a later transaction: INTERNAL, and only that transaction fails.
  auto again = store->Commit(Write("dup", 2, "other"));
  EXPECT_EQ(again.status().code(), ErrorCode::kInternal) << again.status().ToString();
  EXPECT_NE(again.status().message().find("already recorded (by version 1)"), std::string::npos)
      << again.status().message();
  // In the same transaction.
  auto twice = store->Commit([](WriteTxn& t) -> Status {
    ORMDB_RETURN_IF_ERROR(t.RecordRequest("once", "a"));
    return t.RecordRequest("once", "b");
  });
  EXPECT_EQ(twice.status().code(), ErrorCode::kInternal);
  EXPECT_EQ(Find(*store, "dup"), (RequestOutcome{*v, "original"}));
  EXPECT_EQ(Find(*store, "once"), std::nullopt);
  EXPECT_EQ(store->current_version(), 1u);
}

TEST(Requests, KeysAreBoundedAndNonEmpty) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  std::string longest(kMaxRequestKeyBytes, 'k');
  std::string too_long(kMaxRequestKeyBytes + 1, 'k');
  auto empty = store->Commit([](WriteTxn& t) { return t.RecordRequest("", "x"); });
  EXPECT_EQ(empty.status().code(), ErrorCode::kInvalidArgument);
  auto over = store->Commit([&](WriteTxn& t) { return t.RecordRequest(too_long, "x"); });
  EXPECT_EQ(over.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(over.status().message().find("401 bytes"), std::string::npos);
  ASSERT_OK(store->Commit([&](WriteTxn& t) { return t.RecordRequest(longest, "x"); }));
  EXPECT_EQ(Find(*store, longest), (RequestOutcome{1, "x"}));
  auto txn = store->BeginRead();
  ASSERT_OK(txn);
  EXPECT_EQ((*txn)->FindRequest("").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ((*txn)->FindRequest(too_long).status().code(), ErrorCode::kInvalidArgument);
}

// Map growth replays the whole group: each transaction function runs again
// on a fresh nested transaction, and its request is recorded once.
TEST(Requests, ReplayAfterMapGrowthRecordsEachRequestOnce) {
  TempDir dir;
  StoreOptions options;
  options.initial_map_size = 256 * 1024;
  auto store = OpenStore(dir.path(), options);
  std::string big(3000, 'z');
  std::atomic<int> runs{0};
  constexpr int kTxns = 60;
  std::vector<std::future<Result<Version>>> futures;
  for (int i = 0; i < kTxns; ++i) {
    futures.push_back(store->Submit([&, i](WriteTxn& t) -> Status {
      runs.fetch_add(1);
      std::string key = "grow-" + std::to_string(i);
      ORMDB_ASSIGN_OR_RETURN(auto seen, t.FindRequest(key));
      if (seen) return Internal("a replay saw its own earlier attempt");
      for (RowId j = 0; j < 10; ++j) {
        ORMDB_RETURN_IF_ERROR(t.PutRow(kItem, static_cast<RowId>(i) * 10 + j, Row(big)));
      }
      return t.RecordRequest(key, std::to_string(i));
    }));
  }
  std::map<int, Version> versions;
  for (int i = 0; i < kTxns; ++i) {
    auto v = futures[i].get();
    ASSERT_OK(v);
    versions[i] = *v;
  }
  EXPECT_GT(store->stats().map_grows, 0u);
  EXPECT_GT(runs.load(), kTxns);  // some ran more than once
  auto logged = LoggedRequests(*store);
  for (const auto& [i, v] : versions) {
    std::string key = "grow-" + std::to_string(i);
    EXPECT_EQ(Find(*store, key), (RequestOutcome{v, std::to_string(i)}));
    EXPECT_EQ(logged[v], (std::vector<std::string>{key}));
  }
  auto sizes = store->table_sizes();
  ASSERT_OK(sizes);
  EXPECT_EQ(sizes->request_entries, uint64_t{kTxns});
  ExpectCheckClean(*store);
}

TEST(Requests, VacuumPrunesExactlyTheEntriesAtOrBelowTheHorizon) {
  TempDir dir;
  StoreOptions options;
  options.retention_seconds = 0;
  options.retention_versions = 4;
  options.vacuum_batch = 2;  // many small steps
  auto store = OpenStore(dir.path(), options);
  // Versions 1..12; every third has no request, every fourth has two.
  std::map<std::string, Version> recorded;
  for (int i = 1; i <= 12; ++i) {
    auto v = store->Commit([i](WriteTxn& t) -> Status {
      ORMDB_RETURN_IF_ERROR(t.PutRow(kItem, i, Row("v" + std::to_string(i))));
      if (i % 3 == 0) return Status::Ok();
      ORMDB_RETURN_IF_ERROR(t.RecordRequest("a" + std::to_string(i), "x"));
      if (i % 4 == 0) ORMDB_RETURN_IF_ERROR(t.RecordRequest("b" + std::to_string(i), "y"));
      return Status::Ok();
    });
    ASSERT_OK(v);
    ASSERT_EQ(*v, Version(i));
    if (i % 3 == 0) continue;
    recorded["a" + std::to_string(i)] = *v;
    if (i % 4 == 0) recorded["b" + std::to_string(i)] = *v;
  }
  auto stats = store->Vacuum();
  ASSERT_OK(stats);
  const Version horizon = stats->horizon;
  ASSERT_EQ(horizon, 9u);  // the newest 4 versions stay readable: 9..12
  uint64_t expect_removed = 0;
  for (const auto& [key, v] : recorded) {
    if (v <= horizon) {
      ++expect_removed;
      EXPECT_EQ(Find(*store, key), std::nullopt) << key;
    } else {
      EXPECT_EQ(Find(*store, key), (RequestOutcome{v, key[0] == 'a' ? "x" : "y"})) << key;
    }
  }
  EXPECT_EQ(stats->request_entries_removed, expect_removed);
  auto sizes = store->table_sizes();
  ASSERT_OK(sizes);
  EXPECT_EQ(sizes->request_entries, recorded.size() - expect_removed);
  ExpectCheckClean(*store);
  // A later vacuum with nothing new to remove keeps the rest.
  auto again = store->Vacuum();
  ASSERT_OK(again);
  EXPECT_EQ(again->request_entries_removed, 0u);
  EXPECT_EQ(Find(*store, "a10"), (RequestOutcome{10, "x"}));
}

// Writes the tables of a data directory as the release before `requests`
// did: the five tables and the format record, nothing else.
void WriteOldDataDirectory(const std::string& dir) {
  MDB_env* env;
  ASSERT_EQ(mdb_env_create(&env), 0);
  mdb_env_set_maxdbs(env, 8);
  ASSERT_EQ(mdb_env_open(env, dir.c_str(), 0, 0644), 0);
  MDB_txn* txn;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi dbi, meta = 0;
  for (const char* name : {"meta", "rows", "indexes", "edges", "changelog"}) {
    ASSERT_EQ(mdb_dbi_open(txn, name, MDB_CREATE, &dbi), 0);
    if (std::string_view(name) == "meta") meta = dbi;
  }
  std::string rec(kFormatMagic);
  PutU32BE(&rec, 1);
  MDB_val k{6, const_cast<char*>("format")}, v{rec.size(), rec.data()};
  ASSERT_EQ(mdb_put(txn, meta, &k, &v, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

// Whether the LMDB environment in `dir` has a table named `name`.
bool HasTable(const std::string& dir, const char* name) {
  MDB_env* env;
  EXPECT_EQ(mdb_env_create(&env), 0);
  mdb_env_set_maxdbs(env, 8);
  EXPECT_EQ(mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0644), 0);
  MDB_txn* txn;
  EXPECT_EQ(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), 0);
  MDB_dbi dbi;
  bool found = mdb_dbi_open(txn, name, 0, &dbi) == 0;
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return found;
}

TEST(Requests, ADataDirectoryOfTheReleaseBeforeOpensAndGainsTheTable) {
  TempDir dir;
  WriteOldDataDirectory(dir.path());
  ASSERT_FALSE(HasTable(dir.path(), "requests"));
  {
    auto store = OpenStore(dir.path());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(Find(*store, "r"), std::nullopt);
    ASSERT_OK(store->Commit(Write("r", 1)));
    EXPECT_EQ(Find(*store, "r"), (RequestOutcome{1, "reply of r"}));
  }
  EXPECT_TRUE(HasTable(dir.path(), "requests"));
  auto store = OpenStore(dir.path());
  EXPECT_EQ(Find(*store, "r"), (RequestOutcome{1, "reply of r"}));
  ExpectCheckClean(*store);
}

TEST(Requests, OldDataWrittenBeforeTheTableExistedStaysReadable) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kItem, 1, Row("old")); }));
  }
  // Drop the table: the file is now what the release before wrote.
  {
    MDB_env* env;
    ASSERT_EQ(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    ASSERT_EQ(mdb_env_open(env, dir.path().c_str(), 0, 0644), 0);
    MDB_txn* txn;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    MDB_dbi dbi;
    ASSERT_EQ(mdb_dbi_open(txn, "requests", 0, &dbi), 0);
    ASSERT_EQ(mdb_drop(txn, dbi, 1), 0);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
  }
  ASSERT_FALSE(HasTable(dir.path(), "requests"));
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->current_version(), 1u);
  auto txn = store->BeginRead();
  ASSERT_OK(txn);
  auto row = (*txn)->Get(kItem, 1);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->bytes_in_txn, Row("old"));
  txn->reset();
  auto v = store->Commit(Write("new", 2));
  ASSERT_OK(v);
  EXPECT_EQ(Find(*store, "new"), (RequestOutcome{2, "reply of new"}));
  ExpectCheckClean(*store);
}

// Runs `edit` on the raw tables of a closed data directory.
void EditRaw(const std::string& dir,
             const std::function<void(MDB_txn*, MDB_dbi requests, MDB_dbi changelog)>& edit) {
  MDB_env* env;
  ASSERT_EQ(mdb_env_create(&env), 0);
  mdb_env_set_maxdbs(env, 8);
  ASSERT_EQ(mdb_env_open(env, dir.c_str(), 0, 0644), 0);
  MDB_txn* txn;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi requests, changelog;
  ASSERT_EQ(mdb_dbi_open(txn, "requests", 0, &requests), 0);
  ASSERT_EQ(mdb_dbi_open(txn, "changelog", 0, &changelog), 0);
  edit(txn, requests, changelog);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

TEST(Requests, CheckReportsOutcomesAndLogRecordsThatDisagree) {
  TempDir dir;
  {
    auto store = OpenStore(dir.path());
    ASSERT_OK(store->Commit(Write("a", 1)));
    ASSERT_OK(store->Commit(Write("b", 2)));
    ASSERT_OK(store->Commit([](WriteTxn& t) { return t.PutRow(kItem, 3, Row("c")); }));
  }
  EditRaw(dir.path(), [](MDB_txn* txn, MDB_dbi requests, MDB_dbi) {
    // "a" loses its outcome; "b" points at version 3, whose entry lacks it;
    // "z" points at a version that does not exist; "m" is malformed.
    MDB_val a{1, const_cast<char*>("a")};
    ASSERT_EQ(mdb_del(txn, requests, &a, nullptr), 0);
    std::string v3 = RequestValue(3, "moved");
    MDB_val b{1, const_cast<char*>("b")}, bv{v3.size(), v3.data()};
    ASSERT_EQ(mdb_put(txn, requests, &b, &bv, 0), 0);
    std::string v9 = RequestValue(9, "");
    MDB_val z{1, const_cast<char*>("z")}, zv{v9.size(), v9.data()};
    ASSERT_EQ(mdb_put(txn, requests, &z, &zv, 0), 0);
    MDB_val m{1, const_cast<char*>("m")}, mv{3, const_cast<char*>("abc")};
    ASSERT_EQ(mdb_put(txn, requests, &m, &mv, 0), 0);
  });
  auto store = OpenStore(dir.path());
  auto report = store->Check();
  ASSERT_OK(report);
  std::string all;
  for (const std::string& p : report->problems) all += p + "\n";
  EXPECT_EQ(report->request_entries, 3u);
  EXPECT_NE(all.find("change log entry 1 records request 'a', which has no outcome"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("request 'b' is recorded by change log entries 2 and 3"), std::string::npos)
      << all;
  EXPECT_NE(all.find("request 'b' names version 3, whose change log entry does not record it"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("request 'z' names version 9, which has no change log entry"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("request 'm' has a malformed value"), std::string::npos) << all;
  // Lookups of a malformed entry fail cleanly.
  auto txn = store->BeginRead();
  ASSERT_OK(txn);
  EXPECT_EQ((*txn)->FindRequest("m").status().code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace ormdb::storage
