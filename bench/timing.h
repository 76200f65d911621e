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

#include "bench/bench_util.h"

namespace ormdb::bench {

// p50 and p95 of one benchmark run, in microseconds.
struct LatencyStat {
  double p50 = 0, p95 = 0;
  size_t samples = 0;
};

// Runs the benchmark's loop, timing each iteration alone: `run(i)` with
// i = 0, 1, 2, ... Sets the state's iteration times and its p50_us and
// p95_us counters; nullopt when no iteration ran.
template <class F>
std::optional<LatencyStat> TimeEachIteration(benchmark::State& state, F&& run) {
  using Clock = std::chrono::steady_clock;
  LatencySamples samples;
  size_t i = 0;
  for (auto _ : state) {
    auto start = Clock::now();
    run(i);
    double s = std::chrono::duration<double>(Clock::now() - start).count();
    state.SetIterationTime(s);
    samples.AddSeconds(s);
    ++i;
  }
  if (samples.empty()) return std::nullopt;
  LatencyStat st{samples.PercentileMicros(0.50), samples.PercentileMicros(0.95), samples.size()};
  state.counters["p50_us"] = st.p50;
  state.counters["p95_us"] = st.p95;
  return st;
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
