// import_bench: bulk import through the whole write path (JSON parsing,
// coercion, constraints, rows, indexes, change log), against SQLite doing the
// same work in the same run.
//
//   BM_OrmdbImport vs BM_SqliteImport
//     100,000 users as JSON lines ({"id", "email", "name", "age",
//     "created_at"}) into a table with a unique index on email and an index
//     on name, in one durable transaction. ormdb: Database::Import of the
//     lines. SQLite: one transaction of prepared INSERTs that take each line
//     as text and extract the fields with json_extract (so both parse the
//     JSON), WAL mode, synchronous=FULL, with the same two indexes. Each
//     iteration starts from an empty database.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "ormdb/database.h"

namespace {

constexpr int kRows = 100000;

std::string BenchDir() {
  const char* base = std::getenv("ORMDB_BENCH_DIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/ormdb_import_bench_XXXXXX";
  if (!mkdtemp(tmpl.data())) std::abort();
  return tmpl;
}

const std::string& Lines() {
  static const std::string lines = [] {
    std::string s;
    for (int i = 1; i <= kRows; ++i) {
      s += "{\"id\":" + std::to_string(i) + ",\"email\":\"user" + std::to_string(i) +
           "@example.com\",\"name\":\"User " + std::to_string(i % 5000) +
           "\",\"age\":" + std::to_string(20 + i % 50) +
           ",\"created_at\":\"2024-01-01T00:00:00Z\"}\n";
    }
    return s;
  }();
  return lines;
}

constexpr const char* kSchema = R"(
entity User {
  id: id
  email: string @unique
  name: string @index
  age: int32?
  created_at: timestamp
}
)";

void BM_OrmdbImport(benchmark::State& state) {
  const std::string& lines = Lines();
  for (auto _ : state) {
    state.PauseTiming();
    std::string dir = BenchDir();
    auto db = ormdb::Database::Open(dir + "/db");
    if (!db.ok() || !(*db)->ApplySchema(kSchema).ok()) {
      state.SkipWithError("open failed");
      return;
    }
    std::istringstream in(lines);
    state.ResumeTiming();
    auto r = (*db)->Import("User", in);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    state.PauseTiming();
    db->reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(kRows) * state.iterations(),
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_OrmdbImport)->Unit(benchmark::kMillisecond)->UseRealTime();

void Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: %s\n", err);
    std::abort();
  }
}

void BM_SqliteImport(benchmark::State& state) {
  const std::string& lines = Lines();
  for (auto _ : state) {
    state.PauseTiming();
    std::string dir = BenchDir();
    sqlite3* db = nullptr;
    sqlite3_open((dir + "/bench.db").c_str(), &db);
    Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    Exec(
        db,
        "CREATE TABLE user (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
        " age INTEGER, created_at TEXT NOT NULL);"
        "CREATE INDEX user_name ON user(name);");
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db,
                       "INSERT INTO user VALUES (json_extract(?1, '$.id'), json_extract(?1, "
                       "'$.email'), json_extract(?1, '$.name'), json_extract(?1, '$.age'), "
                       "json_extract(?1, '$.created_at'))",
                       -1, &stmt, nullptr);
    state.ResumeTiming();
    Exec(db, "BEGIN");
    size_t pos = 0;
    while (pos < lines.size()) {
      size_t end = lines.find('\n', pos);
      sqlite3_bind_text(stmt, 1, lines.data() + pos, static_cast<int>(end - pos), SQLITE_STATIC);
      if (sqlite3_step(stmt) != SQLITE_DONE) {
        state.SkipWithError(sqlite3_errmsg(db));
        return;
      }
      sqlite3_reset(stmt);
      pos = end + 1;
    }
    Exec(db, "COMMIT");
    state.PauseTiming();
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(kRows) * state.iterations(),
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SqliteImport)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
