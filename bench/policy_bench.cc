// policy_bench: the cost of access policies on a multi-tenant blog. The
// same data is loaded twice: once under a schema with tenant and owner
// rules, read through Database::As(principal), and once under the same
// schema without rules, read with the tenant filter written into each
// query. Both answer the same rows (checked before timing); the ratio of
// their times is the policies' overhead. See bench/README.md.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "common/json.h"
#include "ormdb/database.h"

namespace ormdb::bench {
namespace {

constexpr int kTenants = 50;
constexpr int kUsersPerTenant = 40;
constexpr int kPostsPerUser = 50;

std::string Schema(bool rules) {
  std::string user_rules =
      rules ? "  @@deny(all, tenant != auth.tenant)\n  @@allow(read, true)\n" : "";
  std::string post_rules = rules ? "  @@deny(all, tenant != auth.tenant)\n"
                                   "  @@allow(read, true)\n"
                                   "  @@allow([create, update, delete], author == auth.id)\n"
                                 : "";
  std::string notes_rule = rules ? " @allow(read, author == auth.id)" : "";
  return "entity User {\n  id: id\n  name: string\n  tenant: string @index\n"
         "  posts: [Post] @inverse(author)\n" +
         user_rules +
         "}\nentity Post {\n  id: id\n  title: string\n  tenant: string\n  notes: string?" +
         notes_rule +
         "\n  created_at: int64\n  author: User\n  @@index(tenant, created_at)\n"
         "  @@index(author, created_at)\n" +
         post_rules + "}\n";
}

struct Query {
  std::string name;
  std::string with_rules;  // read through the tenant's view
  std::string plain;       // the same rows, the filter written out
};

struct Bench {
  std::string dir_rules, dir_plain;
  std::unique_ptr<Database> rules, plain;
  std::vector<std::unique_ptr<Database>> views;  // one per tenant
  std::vector<std::vector<Query>> queries;       // per tenant
};
Bench* g = nullptr;

void Die(const std::string& what) {
  std::fprintf(stderr, "policy_bench: %s\n", what.c_str());
  std::exit(1);
}

void Load(Database& db) {
  auto applied = db.ApplySchema(Schema(&db == g->rules.get()));
  if (!applied.ok()) Die(applied.status().ToString());
  std::mt19937_64 rng(7);
  int64_t user = 0;
  for (int t = 0; t < kTenants; ++t) {
    std::string ops;
    for (int u = 0; u < kUsersPerTenant; ++u) {
      ++user;
      ops += std::string(ops.empty() ? "" : ",") + "{\"op\":\"insert\",\"entity\":\"User\"," +
             "\"values\":{\"id\":" + std::to_string(user) + ",\"name\":\"user" +
             std::to_string(user) + "\",\"tenant\":\"t" + std::to_string(t) + "\"}}";
      for (int p = 0; p < kPostsPerUser; ++p) {
        ops += ",{\"op\":\"insert\",\"entity\":\"Post\",\"values\":{\"title\":\"post " +
               std::to_string(p) + " of " + std::to_string(user) + "\",\"tenant\":\"t" +
               std::to_string(t) +
               "\",\"notes\":\"n\",\"created_at\":" + std::to_string(rng() % 1000000000) +
               ",\"author\":" + std::to_string(user) + "}}";
      }
    }
    auto m = db.Mutate("{\"ops\":[" + ops + "]}");
    if (!m.ok()) Die(m.status().ToString());
  }
}

std::vector<Query> Queries(int tenant, int64_t user) {
  const std::string t = "\"t" + std::to_string(tenant) + "\"";
  const std::string u = std::to_string(user);
  return {
      {"tenant_feed", "Post(order: created_at desc, limit: 20) { title, author { name } }",
       "Post(where: tenant == " + t +
           ", order: created_at desc, limit: 20) { title, author { name } }"},
      {"user_page",
       "User(where: id == " + u + ") { name, posts(order: created_at desc, limit: 10) { title } }",
       "User(where: id == " + u + " and tenant == " + t + ") { name, posts(where: tenant == " + t +
           ", order: created_at desc, limit: 10) { title } }"},
      {"user_page_masked",
       "User(where: id == " + u +
           ") { name, posts(order: created_at desc, limit: 10) { title, notes } }",
       // The owner reads notes: the plain query reads them too.
       "User(where: id == " + u + " and tenant == " + t + ") { name, posts(where: tenant == " + t +
           ", order: created_at desc, limit: 10) { title, notes } }"},
  };
}

// A fetch's rows without its cursors (they carry each database's own
// checksum).
Json WithoutCursors(const Json& v) {
  if (v.is_array()) {
    Json out = Json::Array();
    for (const Json& x : v.as_array()) out.Push(WithoutCursors(x));
    return out;
  }
  if (!v.is_object()) return v;
  Json out = Json::Object();
  for (const auto& [k, x] : v.as_object()) {
    if (k.find("@next") == std::string::npos) out.Set(k, WithoutCursors(x));
  }
  return out;
}

std::string Data(Database& db, const std::string& q) {
  auto r = db.Fetch(q);
  if (!r.ok()) Die(q + ": " + r.status().ToString());
  auto j = ParseJson((*r)->ToJson());
  return ToJson(WithoutCursors(*j->Find("data")));
}

void Setup() {
  std::string base = Env("ORMDB_BENCH_DIR", "/tmp");
  g->dir_rules = base + "/ormdb_policy_bench_rules";
  g->dir_plain = base + "/ormdb_policy_bench_plain";
  std::filesystem::remove_all(g->dir_rules);
  std::filesystem::remove_all(g->dir_plain);
  auto a = Database::Open(g->dir_rules);
  auto b = Database::Open(g->dir_plain);
  if (!a.ok() || !b.ok()) Die("cannot open the data directories");
  g->rules = std::move(*a);
  g->plain = std::move(*b);
  auto start = std::chrono::steady_clock::now();
  Load(*g->rules);
  Load(*g->plain);
  std::fprintf(stderr, "loaded %d users and %d posts twice in %s\n", kTenants * kUsersPerTenant,
               kTenants * kUsersPerTenant * kPostsPerUser, FormatSeconds(Since(start)).c_str());
  for (int t = 0; t < kTenants; ++t) {
    // The principal: the first user of the tenant (the owner of its posts
    // in user_page_masked).
    int64_t user = t * kUsersPerTenant + 1;
    auto p = Principal::FromJson("{\"id\": " + std::to_string(user) + ", \"tenant\": \"t" +
                                 std::to_string(t) + "\"}");
    auto v = g->rules->As(*p);
    if (!v.ok()) Die(v.status().ToString());
    g->views.push_back(std::move(*v));
    g->queries.push_back(Queries(t, user));
    for (const Query& q : g->queries.back()) {
      std::string got = Data(*g->views.back(), q.with_rules);
      std::string want = Data(*g->plain, q.plain);
      if (got != want) {
        Die(q.name + " differs for tenant " + std::to_string(t) + ":\n" + got.substr(0, 600) +
            "\n" + want.substr(0, 600));
      }
    }
  }
  std::fprintf(stderr, "results equal for every tenant\n");
  auto plan = g->views[0]->Explain(Queries(0, 1)[0].with_rules);
  if (plan.ok()) std::fprintf(stderr, "tenant_feed plan with rules:\n%s\n", plan->c_str());
}

void Register() {
  for (size_t qi = 0; qi < Queries(0, 1).size(); ++qi) {
    for (bool rules : {false, true}) {
      std::string name = "BM_Policy/" + Queries(0, 1)[qi].name + (rules ? "/rules" : "/plain");
      benchmark::RegisterBenchmark(name.c_str(), [qi, rules](benchmark::State& state) {
        int t = 0;
        for (auto _ : state) {
          const Query& q = g->queries[t][qi];
          auto r = rules ? g->views[t]->Fetch(q.with_rules) : g->plain->Fetch(q.plain);
          if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
          benchmark::DoNotOptimize(r);
          t = (t + 1) % kTenants;
        }
      })->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace
}  // namespace ormdb::bench

int main(int argc, char** argv) {
  using namespace ormdb::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Bench bench;
  g = &bench;
  Setup();
  Register();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  bench.views.clear();
  bench.rules.reset();
  bench.plain.reset();
  std::filesystem::remove_all(bench.dir_rules);
  std::filesystem::remove_all(bench.dir_plain);
  return 0;
}
