// Helpers shared by the benchmarks.
#pragma once

#include <sys/vfs.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace ormdb::bench {

// The file system holding `path`, for the header of a benchmark report
// (durable-commit numbers mean nothing on tmpfs).
inline std::string FilesystemName(const std::string& path) {
  struct statfs fs;
  if (statfs(path.c_str(), &fs) != 0) return "unknown filesystem";
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x01021994:
      return "tmpfs: fsync is free, commit numbers are not disk numbers";
    case 0x794C7630:
      return "overlayfs";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "fs type 0x%lx", static_cast<unsigned long>(fs.f_type));
      return buf;
    }
  }
}

// Per-operation latencies of one benchmark run, for p50 / p95 counters
// (each iteration timed alone, as fetch_bench and server_bench do).
// Percentiles are nearest-rank: the smallest sample with at least p of all
// samples at or below it.
class LatencySamples {
 public:
  LatencySamples() { micros_.reserve(1 << 16); }
  void AddSeconds(double seconds) {
    micros_.push_back(seconds * 1e6);
    sorted_ = false;
  }
  size_t size() const { return micros_.size(); }
  bool empty() const { return micros_.empty(); }
  // p in (0, 1]; 0 when there are no samples.
  double PercentileMicros(double p) {
    if (micros_.empty()) return 0;
    if (!sorted_) {
      std::sort(micros_.begin(), micros_.end());
      sorted_ = true;
    }
    size_t k = static_cast<size_t>(std::ceil(p * static_cast<double>(micros_.size())));
    return micros_[std::min(std::max<size_t>(k, 1), micros_.size()) - 1];
  }

 private:
  std::vector<double> micros_;
  bool sorted_ = true;
};

}  // namespace ormdb::bench
