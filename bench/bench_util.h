// Helpers shared by the benchmarks.
#pragma once

#include <sys/vfs.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ormdb::bench {

// Seconds since `start`.
inline double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The environment variable, or `fallback` when unset or empty.
inline std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

inline std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

inline std::string Mb(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

inline std::string ScaleText(double scale) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", scale);
  return buf;
}

// Bytes of the regular files under `dir`.
inline uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

// Whether the report goes to the console (no --benchmark_format other than
// console): then the benchmark prints its summary tables too.
inline bool ConsoleOutput(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--benchmark_format=") && arg != "--benchmark_format=console") {
      return false;
    }
  }
  return true;
}

// ORMDB_BENCH_SCALE (default 1), a number in (0, 100]; nullopt (after a
// message naming `program`) when it is not.
inline std::optional<double> BenchScale(const char* program) {
  std::string text = Env("ORMDB_BENCH_SCALE", "1");
  char* end = nullptr;
  double scale = std::strtod(text.c_str(), &end);
  if (*end != '\0' || !(scale > 0) || scale > 100) {
    std::fprintf(stderr, "%s: ORMDB_BENCH_SCALE must be a number in (0, 100], not %s\n", program,
                 text.c_str());
    return std::nullopt;
  }
  return scale;
}

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
