// Metrics: counters, gauges and histograms with fixed buckets, cheap enough
// for the hot path of every request and every commit (DESIGN.md §14,
// docs/reference/observability.md).
//
// A metric is a plain object that lives where its events happen (the
// server's request counters, the store's commit histograms); nothing
// registers it. A scrape reads them all and renders them
// (observability/prometheus.h), so a metric costs nothing but its update.
//
// Updates are one relaxed atomic add (a histogram: two, plus a search of at
// most 32 bucket bounds); reads are relaxed loads, so a snapshot taken while
// updates run may count an observation in `count` and not yet in `sum`.
// Values are whole numbers in the metric's unit (microseconds, rows, bytes);
// the renderer scales them (microseconds to Prometheus seconds).
//
// MetricsEnabled(): false turns every update into a load and a branch, for
// measuring what the metrics cost (ORMDB_METRICS=off in the environment).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace ormdb::observability {

// False when the process started with ORMDB_METRICS=off (or 0): updates are
// skipped. Read once, at the first call.
bool MetricsEnabled();

class Counter {
 public:
  void Add(uint64_t n = 1) {
    if (MetricsEnabled()) value_.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Which of a CounterSet's shards the calling thread adds to: threads are
// numbered as they first ask, modulo kCounterShards.
inline constexpr size_t kCounterShards = 16;
size_t ThreadShard();

// N counters that one event updates together (a fetch's entities, edges,
// bytes, ...), on a path several threads take at once. Each thread adds to
// one of kCounterShards cache lines, so threads on different cores do not
// pass the lines between them on every update (measured in
// bench/metrics_bench.cc: six adds to shared counters took 278 ns of CPU per
// event on two threads, and 7 ns on one); a read sums the shards.
template <size_t N>
class CounterSet {
 public:
  void Add(size_t i, uint64_t n = 1) {
    if (MetricsEnabled()) shards_[ThreadShard()].v[i].fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value(size_t i) const {
    uint64_t sum = 0;
    for (const Shard& s : shards_) sum += s.v[i].load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct alignas(64) Shard {
    std::array<std::atomic<uint64_t>, N> v{};
  };
  std::array<Shard, kCounterShards> shards_{};
};

class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// What a histogram holds at one moment: counts[i] observations were <=
// bounds[i] and > bounds[i-1]; counts.back() those above every bound (the
// +Inf bucket). Counts are per bucket, not cumulative.
struct HistogramSnapshot {
  std::vector<uint64_t> bounds;
  std::vector<uint64_t> counts;  // bounds.size() + 1
  uint64_t sum = 0;
  uint64_t count() const;
  // The smallest bound with at least q of the observations at or below it
  // (q in [0, 1]); the largest bound when the quantile is in the +Inf
  // bucket; 0 when empty. An upper estimate, to the bucket.
  uint64_t Quantile(double q) const;
  // Adds another snapshot with the same bounds (REQUIRES: same bounds).
  void Merge(const HistogramSnapshot& other);
};

class Histogram {
 public:
  static constexpr size_t kMaxBounds = 32;
  // `bounds`: increasing upper bounds of the buckets, at most kMaxBounds.
  explicit Histogram(std::initializer_list<uint64_t> bounds);
  explicit Histogram(const std::vector<uint64_t>& bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(uint64_t value) {
    if (!MetricsEnabled()) return;
    size_t i = 0;
    while (i < bounds_size_ && value > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }
  HistogramSnapshot Snapshot() const;

  // Bucket bounds in use: request and commit latencies in microseconds
  // (50 µs to 10 s), and sizes (1 to 4096, powers of two).
  static const std::vector<uint64_t>& LatencyMicros();
  static const std::vector<uint64_t>& Sizes();

 private:
  std::array<uint64_t, kMaxBounds> bounds_{};
  size_t bounds_size_ = 0;
  std::array<std::atomic<uint64_t>, kMaxBounds + 1> counts_{};
  std::atomic<uint64_t> sum_{0};
};

}  // namespace ormdb::observability
