// What the metrics cost per request and per commit, measured directly: the
// exact updates the server, the engine and the store make, with the clock
// reads that time them (docs/reference/observability.md, "What the metrics
// cost"). On one thread and on two sharing the same counters, as the
// server's workers do. Run with ORMDB_METRICS=off to see what is left when
// the updates are skipped (the clock reads and a branch per update).
#include <benchmark/benchmark.h>

#include <chrono>

#include "observability/metrics.h"
#include "server/server_metrics.h"

namespace {

using Clock = std::chrono::steady_clock;
using ormdb::ErrorCode;
using ormdb::observability::Counter;
using ormdb::observability::Histogram;

uint64_t MicrosSince(Clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
}

// The server, per request: the time it arrived, then ServerImpl::Finish's
// clock read and RequestMetrics::Record (a counter by kind and outcome, a
// latency histogram by kind).
ormdb::server::RequestMetrics requests;
void BM_ServerRequest(benchmark::State& state) {
  for (auto _ : state) {
    Clock::time_point received = Clock::now();
    requests.Record(ormdb::protocol::RequestKind::kFetch, ErrorCode::kOk, MicrosSince(received));
  }
}
BENCHMARK(BM_ServerRequest)->Threads(1)->Threads(2);

// The engine, per fetch (db/engine.cc CountFetch): fetches, entities, edges,
// bytes, reads, and the aggregates' scanned rows, as six shared counters
// (how they were kept first) and as the engine keeps them, a CounterSet.
Counter fetches, entities, edges, bytes, reads, scanned;
void BM_SharedCounters(benchmark::State& state) {
  uint64_t n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(++n);
    fetches.Add();
    entities.Add(n & 31);
    edges.Add(n & 15);
    bytes.Add(n & 1023);
    reads.Add(n & 63);
    scanned.Add(n & 7);
  }
}
BENCHMARK(BM_SharedCounters)->Threads(1)->Threads(2);

ormdb::observability::CounterSet<7> fetch_counters;
void BM_EngineFetch(benchmark::State& state) {
  uint64_t n = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(++n);
    fetch_counters.Add(0);
    fetch_counters.Add(1, n & 31);
    fetch_counters.Add(2, n & 15);
    fetch_counters.Add(3, n & 1023);
    fetch_counters.Add(4, n & 63);
    fetch_counters.Add(5, n & 7);
  }
}
BENCHMARK(BM_EngineFetch)->Threads(1)->Threads(2);

// The store, per group commit (storage/store.cc): two clock reads around
// mdb_txn_commit, the commit-time and group-size histograms.
Histogram commit_micros(Histogram::LatencyMicros());
Histogram group_sizes(Histogram::Sizes());
void BM_StoreCommit(benchmark::State& state) {
  uint64_t n = 0;
  for (auto _ : state) {
    Clock::time_point started = Clock::now();
    commit_micros.Observe(MicrosSince(started) + 300);  // a durable commit's few hundred µs
    group_sizes.Observe(1 + (++n & 7));
  }
}
BENCHMARK(BM_StoreCommit)->Threads(1)->Threads(2);

}  // namespace

BENCHMARK_MAIN();
