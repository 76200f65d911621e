// Timing one benchmark run iteration by iteration (manual time), for the
// p50 / p95 latencies the page and fetch benchmarks report.
#pragma once

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <optional>
#include <utility>

#include "bench/bench_util.h"

namespace ormdb::bench {

// p50 and p95 of one benchmark run, in microseconds.
struct LatencyStat {
  double p50 = 0, p95 = 0;
  size_t samples = 0;
};

// Runs the benchmark's loop, timing each iteration alone: `run(i)` with
// i = 0, 1, 2, ... Adds the iterations' times to `pool` and returns p50 and
// p95 over the whole pool (nullopt when it is empty); sets the state's
// iteration times and its p50_us and p95_us counters (this run's own).
//
// A pool kept per benchmark across its repetitions gives one p50 over all
// of them. With --benchmark_repetitions=N and
// --benchmark_enable_random_interleaving=true the repetitions of every
// benchmark of the run are shuffled together, so a change of the machine's
// speed during the run (a shared VM's speed moves by up to 2x within
// minutes) weighs on the strategies compared alike instead of on whichever
// ran at that moment.
template <class F>
std::optional<LatencyStat> TimeEachIteration(benchmark::State& state, LatencySamples* pool,
                                             F&& run) {
  using Clock = std::chrono::steady_clock;
  LatencySamples samples;
  size_t i = 0;
  for (auto _ : state) {
    auto start = Clock::now();
    run(i);
    double s = std::chrono::duration<double>(Clock::now() - start).count();
    state.SetIterationTime(s);
    samples.AddSeconds(s);
    pool->AddSeconds(s);
    ++i;
  }
  if (!samples.empty()) {
    state.counters["p50_us"] = samples.PercentileMicros(0.50);
    state.counters["p95_us"] = samples.PercentileMicros(0.95);
  }
  if (pool->empty()) return std::nullopt;
  return LatencyStat{pool->PercentileMicros(0.50), pool->PercentileMicros(0.95), pool->size()};
}

// The same for one run alone.
template <class F>
std::optional<LatencyStat> TimeEachIteration(benchmark::State& state, F&& run) {
  LatencySamples samples;
  return TimeEachIteration(state, &samples, std::forward<F>(run));
}

// Runs the registered benchmarks, then prints the bench's summary tables:
// after the console output when it goes to the console (tabular when
// stdout is not a terminal), on stderr otherwise.
inline void RunBenchmarks(bool console, const std::function<void(std::FILE*)>& summary) {
  class SummaryReporter : public benchmark::ConsoleReporter {
   public:
    SummaryReporter(OutputOptions options, const std::function<void(std::FILE*)>& summary)
        : ConsoleReporter(options), summary_(summary) {}
    void Finalize() override {
      ConsoleReporter::Finalize();
      summary_(stdout);
      std::fflush(stdout);
    }

   private:
    const std::function<void(std::FILE*)>& summary_;
  };
  if (console) {
    SummaryReporter reporter(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Defaults
                                                   : benchmark::ConsoleReporter::OO_Tabular,
                             summary);
    benchmark::RunSpecifiedBenchmarks(&reporter);
  } else {
    benchmark::RunSpecifiedBenchmarks();
    summary(stderr);
  }
}

}  // namespace ormdb::bench
