#include "observability/metrics.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace ormdb::observability {

bool MetricsEnabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("ORMDB_METRICS");
    return v == nullptr || (std::strcmp(v, "off") != 0 && std::strcmp(v, "0") != 0);
  }();
  return enabled;
}

size_t ThreadShard() {
  static std::atomic<size_t> next{0};
  thread_local const size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kCounterShards;
  return shard;
}

uint64_t HistogramSnapshot::count() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

uint64_t HistogramSnapshot::Quantile(double q) const {
  uint64_t total = count();
  if (total == 0 || bounds.empty()) return 0;
  uint64_t seen = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    seen += counts[i];
    if (static_cast<double>(seen) >= q * static_cast<double>(total)) return bounds[i];
  }
  return bounds.back();
}

void HistogramSnapshot::Merge(const HistogramSnapshot& other) {
  if (counts.empty()) {
    *this = other;
    return;
  }
  for (size_t i = 0; i < counts.size() && i < other.counts.size(); ++i)
    counts[i] += other.counts[i];
  sum += other.sum;
}

Histogram::Histogram(std::initializer_list<uint64_t> bounds)
    : Histogram(std::vector<uint64_t>(bounds)) {}

Histogram::Histogram(const std::vector<uint64_t>& bounds) {
  // A programming error, not input: the bounds are constants of the code.
  if (bounds.size() > kMaxBounds) throw std::logic_error("Histogram: too many bounds");
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (i > 0 && bounds[i] <= bounds[i - 1]) {
      throw std::logic_error("Histogram: bounds must increase");
    }
    bounds_[i] = bounds[i];
  }
  bounds_size_ = bounds.size();
}

HistogramSnapshot Histogram::Snapshot() const {
  HistogramSnapshot s;
  s.bounds.assign(bounds_.begin(), bounds_.begin() + bounds_size_);
  s.counts.resize(bounds_size_ + 1);
  for (size_t i = 0; i <= bounds_size_; ++i)
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

const std::vector<uint64_t>& Histogram::LatencyMicros() {
  static const std::vector<uint64_t> bounds = {50,     100,     250,     500,     1000,   2500,
                                               5000,   10000,   25000,   50000,   100000, 250000,
                                               500000, 1000000, 2500000, 10000000};
  return bounds;
}

const std::vector<uint64_t>& Histogram::Sizes() {
  static const std::vector<uint64_t> bounds = {1,   2,   4,   8,    16,   32,  64,
                                               128, 256, 512, 1024, 2048, 4096};
  return bounds;
}

}  // namespace ormdb::observability
