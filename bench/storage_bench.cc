// storage_bench: the storage engine against its baselines, measured in the
// same run (STYLE.md: a number is quoted with the baseline beside it).
//
//   BM_OrmdbPointRead vs BM_RawLmdbGet
//     Reads of the latest version of a row. N = 100000 rows of ~100 bytes.
//     An iteration is one read transaction with 1000 lookups of pseudo-random
//     ids. The gap is what MVCC costs (a versioned key means a cursor seek
//     rather than an exact lookup) plus the cost of the Store API, compared
//     with a bare mdb_get of the same bytes.
//   BM_OrmdbCommit (1 and 8 threads) vs BM_SqliteCommit (1 thread)
//     Durable commits: a commit is acknowledged only after its fsync. With 8
//     threads the writer's group commit lets the queued transactions share one
//     fsync, which is what the 8-thread to 1-thread ratio measures.
//
// With the console format the run ends with these ratios (see README.md).
// Data goes in a fresh directory under $ORMDB_BENCH_DIR (default /tmp), which
// is removed at exit. Commit numbers mean something only on a real disk: on
// tmpfs an fsync costs nothing. The context header names the filesystem.
#include <benchmark/benchmark.h>
#include <lmdb.h>
#include <sqlite3.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/bench_util.h"
#include "common/ids.h"
#include "common/value.h"
#include "ormdb/status.h"
#include "storage/key_encoding.h"
#include "storage/options.h"
#include "storage/row_codec.h"
#include "storage/store.h"
#include "storage/txn.h"

namespace ormdb::bench {
namespace {

using storage::ReadTxn;
using storage::RowRecord;
using storage::Store;
using storage::StoreStats;
using storage::WriteTxn;

constexpr EntityTypeId kReadType{1};    // the point-read data set
constexpr EntityTypeId kCommitType{2};  // rows inserted by the commit benchmark
constexpr IndexId kScoreIndex{1};       // non-unique index on the score field

constexpr RowId kReadRows = 100000;
constexpr RowId kLoadBatch = 5000;  // rows per load commit
constexpr int kGetsPerTxn = 1000;
// Ids read, in order, by both point-read benchmarks: long enough that the
// reads do not keep hitting the same few pages.
constexpr size_t kIdSequenceSize = size_t{1} << 16;
constexpr uint64_t kIdSeed = 0x5EED0001;

// ------------------------------------------------------------------ the rows

// Five fields; a row encodes to 100 bytes (7 header + 16 fixed + 12 offsets +
// 65 string bytes).
constexpr ValueType kLayout[] = {ValueType::kString, ValueType::kString, ValueType::kInt64,
                                 ValueType::kTimestamp, ValueType::kString};

struct UserFields {
  std::string name;   // 13 bytes
  std::string email;  // 25 bytes
  int64_t score;
  int64_t created_micros;
  std::string bio;  // 27 bytes
};

UserFields MakeUser(uint64_t n) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%08llu", static_cast<unsigned long long>(n % 100000000));
  UserFields u;
  u.name = std::string("user-") + digits;
  u.email = u.name + "@example.com";
  u.score = static_cast<int64_t>((n * 7919) % 1000);
  u.created_micros = int64_t{1700000000} * 1000000 + static_cast<int64_t>(n);
  u.bio = std::string("profile text for ") + digits + "..";
  return u;
}

Result<std::string> EncodeUser(uint64_t n) {
  UserFields u = MakeUser(n);
  const Value values[] = {Value::String(u.name), Value::String(u.email), Value::Int64(u.score),
                          Value::Timestamp(u.created_micros), Value::String(u.bio)};
  return storage::EncodeRow(/*schema_version=*/1, kLayout, values);
}

// The index key part of a user's score.
std::string ScoreKey(uint64_t n) {
  std::string key;
  storage::AppendKey(&key, Value::Int64(MakeUser(n).score));
  return key;
}

// Reads the row's last byte (so its page is really touched) and its size.
uint64_t Touch(std::string_view bytes) {
  return bytes.size() + static_cast<unsigned char>(bytes.back());
}

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void BigEndian64(uint64_t v, char out[8]) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
}

Status LmdbCheck(int rc, std::string_view what) {
  if (rc == 0) return Status::Ok();
  return Internal(std::string(what) + ": " + mdb_strerror(rc));
}

Status SqliteCheck(sqlite3* db, int rc, std::string_view what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
  return Internal(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

// ------------------------------------------------------------------ fixtures

// The parent of every data directory of this run; removed at exit.
std::string g_root;

std::string DataDir(std::string_view name) { return g_root + "/" + std::string(name); }

// Both point-read data sets, built once, on first use (so a --benchmark_filter
// that selects only the commit benchmarks does not pay for loading them).
struct ReadFixture {
  Status status;
  std::unique_ptr<Store> store;
  MDB_env* lmdb = nullptr;
  MDB_dbi dbi = 0;
  std::vector<RowId> ids;  // kIdSequenceSize pseudo-random ids in [1, kReadRows]
};
ReadFixture g_reads;
std::once_flag g_reads_once;

Status LoadStore(Store* store) {
  for (RowId first = 1; first <= kReadRows; first += kLoadBatch) {
    RowId last = std::min(kReadRows, first + kLoadBatch - 1);
    Result<Version> v = store->Commit([first, last](WriteTxn& txn) -> Status {
      for (RowId id = first; id <= last; ++id) {
        ORMDB_ASSIGN_OR_RETURN(std::string row, EncodeUser(id));
        ORMDB_RETURN_IF_ERROR(txn.PutRow(kReadType, id, row));
      }
      return txn.NoteId(kReadType, last);
    });
    if (!v.ok()) return v.status().WithContext("load ormdb rows");
  }
  return Status::Ok();
}

// A plain LMDB environment, one unnamed database: id (8 bytes big-endian) ->
// the same row bytes the Store holds.
Status LoadRawLmdb(ReadFixture* f) {
  std::string dir = DataDir("raw_lmdb");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("create " + dir + ": " + ec.message());
  ORMDB_RETURN_IF_ERROR(LmdbCheck(mdb_env_create(&f->lmdb), "mdb_env_create"));
  ORMDB_RETURN_IF_ERROR(
      LmdbCheck(mdb_env_set_mapsize(f->lmdb, size_t{1} << 30), "mdb_env_set_mapsize"));
  ORMDB_RETURN_IF_ERROR(
      LmdbCheck(mdb_env_open(f->lmdb, dir.c_str(), 0, 0644), "mdb_env_open " + dir));
  for (RowId first = 1; first <= kReadRows; first += kLoadBatch) {
    RowId last = std::min(kReadRows, first + kLoadBatch - 1);
    MDB_txn* txn = nullptr;
    ORMDB_RETURN_IF_ERROR(LmdbCheck(mdb_txn_begin(f->lmdb, nullptr, 0, &txn), "raw lmdb begin"));
    Status st;
    if (first == 1) st = LmdbCheck(mdb_dbi_open(txn, nullptr, 0, &f->dbi), "mdb_dbi_open");
    for (RowId id = first; st.ok() && id <= last; ++id) {
      Result<std::string> row = EncodeUser(id);
      if (!row.ok()) {
        st = row.status();
        break;
      }
      char key[8];
      BigEndian64(id, key);
      MDB_val k{sizeof key, key};
      MDB_val v{row->size(), row->data()};
      st = LmdbCheck(mdb_put(txn, f->dbi, &k, &v, 0), "raw lmdb put");
    }
    if (!st.ok()) {
      mdb_txn_abort(txn);
      return st;
    }
    ORMDB_RETURN_IF_ERROR(LmdbCheck(mdb_txn_commit(txn), "raw lmdb commit"));
  }
  return Status::Ok();
}

// Both data sets must hold the same bytes, or the comparison is meaningless.
Status CheckSameBytes(ReadFixture* f) {
  ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<ReadTxn> txn, f->store->BeginRead());
  MDB_txn* raw = nullptr;
  ORMDB_RETURN_IF_ERROR(
      LmdbCheck(mdb_txn_begin(f->lmdb, nullptr, MDB_RDONLY, &raw), "raw lmdb begin"));
  Status st;
  for (size_t i = 0; st.ok() && i < 1000; ++i) {
    RowId id = f->ids[i];
    Result<std::optional<RowRecord>> row = txn->Get(kReadType, id);
    char key[8];
    BigEndian64(id, key);
    MDB_val k{sizeof key, key}, v;
    int rc = mdb_get(raw, f->dbi, &k, &v);
    if (!row.ok()) {
      st = row.status();
    } else if (!row->has_value() || rc != 0 ||
               (*row)->bytes_in_txn !=
                   std::string_view(static_cast<const char*>(v.mv_data), v.mv_size)) {
      st = Internal("ormdb and raw LMDB disagree on row " + std::to_string(id));
    }
  }
  mdb_txn_abort(raw);
  return st;
}

Status BuildReads(ReadFixture* f) {
  uint64_t seed = kIdSeed;
  f->ids.resize(kIdSequenceSize);
  for (RowId& id : f->ids) id = 1 + SplitMix64(&seed) % kReadRows;
  Result<std::unique_ptr<Store>> store = Store::Open(DataDir("ormdb_read"));
  if (!store.ok()) return store.status().WithContext("open read store");
  f->store = std::move(store).value();
  ORMDB_RETURN_IF_ERROR(LoadStore(f->store.get()));
  ORMDB_RETURN_IF_ERROR(LoadRawLmdb(f));
  return CheckSameBytes(f);
}

ReadFixture& Reads() {
  std::call_once(g_reads_once, [] { g_reads.status = BuildReads(&g_reads); });
  return g_reads;
}

// One Store shared by every thread of BM_OrmdbCommit (default options, so
// SyncMode::kDurable).
struct CommitFixture {
  Status status;
  std::unique_ptr<Store> store;
};
CommitFixture g_commits;
std::once_flag g_commits_once;

CommitFixture& Commits() {
  std::call_once(g_commits_once, [] {
    Result<std::unique_ptr<Store>> store = Store::Open(DataDir("ormdb_commit"));
    if (store.ok())
      g_commits.store = std::move(store).value();
    else
      g_commits.status = store.status().WithContext("open commit store");
  });
  return g_commits;
}

// A file database in WAL mode with synchronous=FULL: every commit syncs the
// WAL, the same promise as SyncMode::kDurable.
struct SqliteFixture {
  Status status;
  sqlite3* db = nullptr;
  sqlite3_stmt* insert = nullptr;
};
SqliteFixture g_sqlite;
std::once_flag g_sqlite_once;

Status OpenSqlite(SqliteFixture* f) {
  std::string dir = DataDir("sqlite");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("create " + dir + ": " + ec.message());
  std::string path = dir + "/bench.db";
  ORMDB_RETURN_IF_ERROR(SqliteCheck(f->db, sqlite3_open(path.c_str(), &f->db), "open " + path));
  const char* setup =
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=FULL;"
      "CREATE TABLE user(id INTEGER PRIMARY KEY, name TEXT, email TEXT, score INTEGER,"
      "                  created INTEGER, bio TEXT);"
      "CREATE INDEX user_score ON user(score);";
  char* err = nullptr;
  if (sqlite3_exec(f->db, setup, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : "unknown error";
    sqlite3_free(err);
    return Internal("sqlite setup: " + message);
  }
  // journal_mode silently stays "delete" where WAL is unsupported; check it.
  sqlite3_stmt* mode = nullptr;
  ORMDB_RETURN_IF_ERROR(SqliteCheck(
      f->db, sqlite3_prepare_v2(f->db, "PRAGMA journal_mode", -1, &mode, nullptr), "pragma"));
  bool wal = sqlite3_step(mode) == SQLITE_ROW &&
             std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(mode, 0))) == "wal";
  sqlite3_finalize(mode);
  if (!wal) return Internal("sqlite did not switch to WAL mode in " + dir);
  // id NULL: SQLite allocates the rowid, as AllocateId does for ormdb.
  return SqliteCheck(f->db,
                     sqlite3_prepare_v2(f->db,
                                        "INSERT INTO user(id, name, email, score, created, bio) "
                                        "VALUES (NULL, ?1, ?2, ?3, ?4, ?5)",
                                        -1, &f->insert, nullptr),
                     "prepare insert");
}

SqliteFixture& Sqlite() {
  std::call_once(g_sqlite_once, [] { g_sqlite.status = OpenSqlite(&g_sqlite); });
  return g_sqlite;
}

void Teardown() {
  g_reads.store.reset();  // finishes the writer thread
  if (g_reads.lmdb != nullptr) mdb_env_close(g_reads.lmdb);
  g_reads.lmdb = nullptr;
  g_commits.store.reset();
  if (g_sqlite.insert != nullptr) sqlite3_finalize(g_sqlite.insert);
  if (g_sqlite.db != nullptr) sqlite3_close(g_sqlite.db);
  g_sqlite.insert = nullptr;
  g_sqlite.db = nullptr;
  std::error_code ec;
  if (!g_root.empty()) std::filesystem::remove_all(g_root, ec);
  if (ec)
    std::fprintf(stderr, "storage_bench: could not remove %s: %s\n", g_root.c_str(),
                 ec.message().c_str());
}

// ---------------------------------------------------------------- benchmarks

Status OrmdbReadBatch(ReadTxn& txn, const std::vector<RowId>& ids, size_t* pos, uint64_t* touched) {
  for (int i = 0; i < kGetsPerTxn; ++i) {
    RowId id = ids[(*pos)++ % kIdSequenceSize];
    Result<std::optional<RowRecord>> row = txn.Get(kReadType, id);
    if (!row.ok()) return row.status();
    if (!row->has_value()) return Internal("row " + std::to_string(id) + " is missing");
    *touched += Touch((*row)->bytes_in_txn);
  }
  return Status::Ok();
}

void BM_OrmdbPointRead(benchmark::State& state) {
  ReadFixture& f = Reads();
  if (!f.status.ok()) {
    state.SkipWithError(f.status.ToString().c_str());
    return;
  }
  size_t pos = 0;  // every run reads the same ids in the same order
  uint64_t touched = 0;
  for (auto _ : state) {
    Result<std::unique_ptr<ReadTxn>> txn = f.store->BeginRead();
    Status st = txn.ok() ? OrmdbReadBatch(**txn, f.ids, &pos, &touched) : txn.status();
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
    // The read transaction ends here, inside the timed loop.
  }
  benchmark::DoNotOptimize(touched);
  state.SetItemsProcessed(state.iterations() * kGetsPerTxn);
}

Status RawReadBatch(MDB_txn* txn, MDB_dbi dbi, const std::vector<RowId>& ids, size_t* pos,
                    uint64_t* touched) {
  for (int i = 0; i < kGetsPerTxn; ++i) {
    RowId id = ids[(*pos)++ % kIdSequenceSize];
    char key[8];
    BigEndian64(id, key);
    MDB_val k{sizeof key, key}, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc != 0) return LmdbCheck(rc, "mdb_get " + std::to_string(id));
    *touched += Touch(std::string_view(static_cast<const char*>(v.mv_data), v.mv_size));
  }
  return Status::Ok();
}

void BM_RawLmdbGet(benchmark::State& state) {
  ReadFixture& f = Reads();
  if (!f.status.ok()) {
    state.SkipWithError(f.status.ToString().c_str());
    return;
  }
  size_t pos = 0;
  uint64_t touched = 0;
  for (auto _ : state) {
    MDB_txn* txn = nullptr;
    Status st = LmdbCheck(mdb_txn_begin(f.lmdb, nullptr, MDB_RDONLY, &txn), "raw lmdb begin");
    if (st.ok()) {
      st = RawReadBatch(txn, f.dbi, f.ids, &pos, &touched);
      mdb_txn_abort(txn);
    }
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
  }
  benchmark::DoNotOptimize(touched);
  state.SetItemsProcessed(state.iterations() * kGetsPerTxn);
}

// The transaction of BM_OrmdbCommit. It may run more than once (map growth
// replays the group), so it depends on nothing but its WriteTxn.
Status InsertOneUser(WriteTxn& txn) {
  ORMDB_ASSIGN_OR_RETURN(RowId id, txn.AllocateId(kCommitType));
  ORMDB_ASSIGN_OR_RETURN(std::string row, EncodeUser(id));
  ORMDB_RETURN_IF_ERROR(txn.PutRow(kCommitType, id, row));
  return txn.IndexInsert(kScoreIndex, ScoreKey(id), id, /*unique=*/false);
}

void BM_OrmdbCommit(benchmark::State& state) {
  CommitFixture& f = Commits();
  if (!f.status.ok()) {
    state.SkipWithError(f.status.ToString().c_str());
    return;
  }
  // No thread commits before every thread has entered the loop, and the loop
  // ends with a barrier too, so thread 0 sees exactly this run's commits.
  StoreStats before;
  if (state.thread_index() == 0) before = f.store->stats();
  for (auto _ : state) {
    Result<Version> v = f.store->Commit(InsertOneUser);
    if (!v.ok()) {
      state.SkipWithError(v.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());  // summed over the threads
  if (state.thread_index() == 0) {
    StoreStats after = f.store->stats();
    uint64_t groups = after.group_commits - before.group_commits;
    uint64_t txns = after.transactions_committed - before.transactions_committed;
    // Transactions per LMDB commit (per fsync): how well group commit works.
    state.counters["txns_per_group"] = groups == 0 ? 0.0 : static_cast<double>(txns) / groups;
    // Mean time of one group's LMDB commit (its writes and syncs), in µs.
    uint64_t commits = after.commit_micros.count() - before.commit_micros.count();
    state.counters["commit_us"] =
        commits == 0 ? 0.0
                     : static_cast<double>(after.commit_micros.sum - before.commit_micros.sum) /
                           static_cast<double>(commits);
  }
}

void BM_SqliteCommit(benchmark::State& state) {
  SqliteFixture& f = Sqlite();
  if (!f.status.ok()) {
    state.SkipWithError(f.status.ToString().c_str());
    return;
  }
  uint64_t n = 0;
  for (auto _ : state) {
    // Autocommit: the INSERT is one transaction, synced before step returns.
    UserFields u = MakeUser(++n);
    sqlite3_bind_text(f.insert, 1, u.name.data(), static_cast<int>(u.name.size()), SQLITE_STATIC);
    sqlite3_bind_text(f.insert, 2, u.email.data(), static_cast<int>(u.email.size()), SQLITE_STATIC);
    sqlite3_bind_int64(f.insert, 3, u.score);
    sqlite3_bind_int64(f.insert, 4, u.created_micros);
    sqlite3_bind_text(f.insert, 5, u.bio.data(), static_cast<int>(u.bio.size()), SQLITE_STATIC);
    int rc = sqlite3_step(f.insert);
    sqlite3_reset(f.insert);
    if (rc != SQLITE_DONE) {
      state.SkipWithError(SqliteCheck(f.db, rc, "sqlite insert").ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_OrmdbPointRead)->Unit(benchmark::kMicrosecond);
// The same reads from one and from two threads at once (each its own read
// transaction): what the threads share (the row cache) must not make a
// read slower per thread.
void BM_OrmdbPointReadThreads(benchmark::State& state) { BM_OrmdbPointRead(state); }
BENCHMARK(BM_OrmdbPointReadThreads)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RawLmdbGet)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_OrmdbCommit)->Threads(1)->Threads(8)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SqliteCommit)->Threads(1)->UseRealTime()->Unit(benchmark::kMicrosecond);

// --------------------------------------------------------------- the ratios

// The console reporter, followed by the ratios of this run's results.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      auto it = run.counters.find("items_per_second");
      if (it == run.counters.end()) continue;
      Mean& m = rates_[{run.run_name.function_name, run.threads}];
      m.sum += it->second.value;
      ++m.count;
    }
  }

  void Finalize() override {
    std::ostream& out = GetOutputStream();
    out << "\nRatios of items/s from this run (mean over repetitions):\n";
    auto a = Rate("BM_OrmdbPointRead", 1), b = Rate("BM_RawLmdbGet", 1);
    Line(out, "ormdb Get / raw mdb_get", a, b);
    if (a && b && *a > 0) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "    (an ormdb Get costs %.2fx a raw mdb_get)\n", *b / *a);
      out << buf;
    }
    auto c1 = Rate("BM_OrmdbCommit", 1), c8 = Rate("BM_OrmdbCommit", 8);
    auto sq = Rate("BM_SqliteCommit", 1);
    Line(out, "ormdb commits, 8 threads / 1 thread", c8, c1);
    Line(out, "ormdb commits, 1 thread / SQLite 1 thread", c1, sq);
    Line(out, "ormdb commits, 8 threads / SQLite 1 thread", c8, sq);
  }

 private:
  struct Mean {
    double sum = 0;
    int count = 0;
  };

  std::optional<double> Rate(const std::string& function, int64_t threads) const {
    auto it = rates_.find({function, threads});
    if (it == rates_.end() || it->second.count == 0) return std::nullopt;
    return it->second.sum / it->second.count;
  }

  static void Line(std::ostream& out, const char* label, std::optional<double> num,
                   std::optional<double> den) {
    char buf[128];
    if (num && den && *den > 0) {
      std::snprintf(buf, sizeof buf, "  %-46s %8.2f\n", label, *num / *den);
    } else {
      std::snprintf(buf, sizeof buf, "  %-46s      n/a (not run)\n", label);
    }
    out << buf;
  }

  std::map<std::pair<std::string, int64_t>, Mean> rates_;
};

Status MakeRoot() {
  const char* parent = std::getenv("ORMDB_BENCH_DIR");
  std::string pattern = std::string(parent && *parent ? parent : "/tmp") + "/ormdb_bench_XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr)
    return Internal("mkdtemp " + pattern + ": " + std::strerror(errno));
  g_root = buf.data();
  return Status::Ok();
}

}  // namespace
}  // namespace ormdb::bench

int main(int argc, char** argv) {
  // The ratio summary extends the console format only; --benchmark_format=json
  // or csv output stays machine-readable.
  bool console = true;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--benchmark_format=") && arg != "--benchmark_format=console")
      console = false;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  ormdb::Status root = ormdb::bench::MakeRoot();
  if (!root.ok()) {
    std::fprintf(stderr, "storage_bench: %s\n", root.ToString().c_str());
    return 1;
  }
  const std::string& dir = ormdb::bench::g_root;
  benchmark::AddCustomContext("data_dir", dir + " (" + ormdb::bench::FilesystemName(dir) + ")");
  benchmark::AddCustomContext("point_read_rows", std::to_string(ormdb::bench::kReadRows));
  ormdb::Result<std::string> row = ormdb::bench::EncodeUser(1);
  benchmark::AddCustomContext("row_bytes", row.ok() ? std::to_string(row->size()) : "?");

  if (console) {
    auto options = isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Defaults
                                         : benchmark::ConsoleReporter::OO_Tabular;
    ormdb::bench::RatioReporter reporter(options);
    benchmark::RunSpecifiedBenchmarks(&reporter);
  } else {
    benchmark::RunSpecifiedBenchmarks();
  }
  ormdb::bench::Teardown();
  benchmark::Shutdown();
  return 0;
}
