// scaling_bench: a fetch's time against the size of its result and against
// the size of the table it reads (docs/PERFORMANCE.md, "Fetch time against
// result size and table size"). What it shows: an indexed fetch costs what it
// returns; the rows it does not return (the rest of the table) cost nothing
// but a deeper B-tree and a colder cache.
//
// Data, per table size N (10k, 100k and 1M items; 10M with
// ORMDB_SCALING_MAX=10000000): groups of 1,000 items, each item with its
// group, a rank (1..1000 within the group) and a 40-byte payload, and the
// index Item(grp, rank). Loaded with Database::Import in transactions of
// 500,000 rows.
//
// Queries (each iteration picks a group or an item uniformly at random over
// the whole table, so larger tables are also colder):
//   point      Item(where: id == $id) { rank, payload }                 1 row
//   group/K    Group(where: id == $g) { name, items(order: rank, limit: K)
//              { rank, payload } }                         K = 10, 100, 1000
//   range/K    Item(where: grp == $g and rank > 500, order: rank, limit: K)
//              { rank, payload }                                K = 10, 100
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/timing.h"
#include "ormdb/database.h"

namespace ormdb::bench {
namespace {

constexpr const char* kSchema = R"(
entity Group {
  id: id
  name: string
  items: [Item] @inverse(grp)
}

entity Item {
  id: id
  grp: Group
  rank: int64
  payload: string
  @@index(grp, rank)
}
)";

constexpr uint64_t kGroupSize = 1000;
constexpr uint64_t kImportBatch = 500000;

struct Table {
  uint64_t items = 0;
  std::string dir;
  std::unique_ptr<Database> db;
  double load_seconds = 0;
  uint64_t bytes = 0;
};

struct QuerySpec {
  std::string name;
  std::string text;
  bool by_group;  // the parameter is a group id ($g), else an item id ($id)
  size_t expect;  // rows returned per fetch
};

std::vector<Table> g_tables;
std::vector<QuerySpec> g_queries;
// p50 in µs by (query, table size).
std::map<std::pair<std::string, uint64_t>, LatencyStat> g_results;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "scaling_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string Payload(uint64_t id) {
  std::string s = "payload-" + std::to_string(id);
  s.resize(40, '.');
  return s;
}

void Load(Table& t) {
  auto start = std::chrono::steady_clock::now();
  auto db = Database::Open(t.dir);
  if (!db.ok()) Die("open: " + db.status().ToString());
  t.db = std::move(*db);
  auto applied = t.db->ApplySchema(kSchema);
  if (!applied.ok()) Die("schema: " + applied.status().ToString());
  uint64_t groups = t.items / kGroupSize;
  {
    std::stringstream in;
    for (uint64_t g = 1; g <= groups; ++g) {
      in << "{\"id\":" << g << ",\"name\":\"group " << g << "\"}\n";
    }
    auto r = t.db->Import("Group", in);
    if (!r.ok()) Die("import groups: " + r.status().ToString());
  }
  for (uint64_t first = 1; first <= t.items; first += kImportBatch) {
    std::stringstream in;
    uint64_t last = std::min(t.items, first + kImportBatch - 1);
    for (uint64_t id = first; id <= last; ++id) {
      uint64_t g = (id - 1) / kGroupSize + 1, rank = (id - 1) % kGroupSize + 1;
      in << "{\"id\":" << id << ",\"grp\":" << g << ",\"rank\":" << rank << ",\"payload\":\""
         << Payload(id) << "\"}\n";
    }
    auto r = t.db->Import("Item", in);
    if (!r.ok()) Die("import items: " + r.status().ToString());
  }
  t.load_seconds = Since(start);
  t.bytes = DirectoryBytes(t.dir);
}

void Register() {
  for (size_t k : {size_t{10}, size_t{100}, size_t{1000}}) {
    g_queries.push_back({"group/" + std::to_string(k),
                         "Group(where: id == $g) { name, items(order: rank, limit: " +
                             std::to_string(k) + ") { rank, payload } }",
                         true, k + 1});
  }
  for (size_t k : {size_t{10}, size_t{100}}) {
    g_queries.push_back({"range/" + std::to_string(k),
                         "Item(where: grp == $g and rank > 500, order: rank, limit: " +
                             std::to_string(k) + ") { rank, payload }",
                         true, k});
  }
  g_queries.insert(g_queries.begin(),
                   {"point", "Item(where: id == $id) { rank, payload }", false, 1});
  for (const QuerySpec& q : g_queries) {
    for (Table& t : g_tables) {
      std::string name = "BM_Scaling/" + q.name + "/" + std::to_string(t.items);
      benchmark::RegisterBenchmark(name.c_str(), [&q, &t](benchmark::State& state) {
        std::mt19937_64 rng(t.items);
        uint64_t groups = t.items / kGroupSize;
        // Checked once: the fetch returns what it should.
        auto check = t.db->Fetch(q.text, q.by_group ? "{\"g\": 1}" : "{\"id\": 1}");
        if (!check.ok()) Die(q.name + ": " + check.status().ToString());
        if ((*check)->stats().entities != q.expect) {
          Die(q.name + ": " + std::to_string((*check)->stats().entities) + " entities, want " +
              std::to_string(q.expect));
        }
        auto stat = TimeEachIteration(state, [&](size_t) {
          uint64_t v = q.by_group ? 1 + rng() % groups : 1 + rng() % t.items;
          std::string params =
              std::string(q.by_group ? "{\"g\": " : "{\"id\": ") + std::to_string(v) + "}";
          auto r = t.db->Fetch(q.text, params);
          if (!r.ok()) Die(q.name + ": " + r.status().ToString());
          benchmark::DoNotOptimize(r);
        });
        if (stat) g_results[{q.name, t.items}] = *stat;
      })->UseManualTime();
    }
  }
}

void Summary(std::FILE* out) {
  std::fprintf(out, "\nFetch time, p50 / p95 in microseconds, by table size (items):\n%-12s",
               "query");
  for (const Table& t : g_tables) std::fprintf(out, " %20llu", (unsigned long long)t.items);
  std::fprintf(out, "\n");
  for (const QuerySpec& q : g_queries) {
    std::fprintf(out, "%-12s", q.name.c_str());
    for (const Table& t : g_tables) {
      auto it = g_results.find({q.name, t.items});
      if (it == g_results.end()) {
        std::fprintf(out, " %20s", "-");
        continue;
      }
      char cell[64];
      std::snprintf(cell, sizeof cell, "%.1f / %.1f", it->second.p50, it->second.p95);
      std::fprintf(out, " %20s", cell);
    }
    std::fprintf(out, "\n");
  }
  std::fprintf(out, "Load (Database::Import) and data directory:\n");
  for (const Table& t : g_tables) {
    std::fprintf(out, "  %10llu items: %s, %s\n", (unsigned long long)t.items,
                 FormatSeconds(t.load_seconds).c_str(), Mb(t.bytes).c_str());
  }
}

}  // namespace
}  // namespace ormdb::bench

int main(int argc, char** argv) {
  using namespace ormdb::bench;
  bool console = ConsoleOutput(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  uint64_t max = std::strtoull(Env("ORMDB_SCALING_MAX", "1000000").c_str(), nullptr, 10);
  std::string base = Env("ORMDB_BENCH_DIR", "/tmp");
  std::string work = base + "/ormdb_scaling_XXXXXX";
  if (mkdtemp(work.data()) == nullptr) Die("mkdtemp under " + base);
  for (uint64_t n = 10000; n <= max; n *= 10) {
    Table& t = g_tables.emplace_back();
    t.items = n;
    t.dir = work + "/" + std::to_string(n);
    std::fprintf(stderr, "loading %llu items...\n", (unsigned long long)n);
    Load(t);
  }
  Register();
  RunBenchmarks(console, Summary);
  benchmark::Shutdown();
  g_tables.clear();
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
  return 0;
}
