// The C++ side of fetch_bench.mjs: times Database::Fetch over
// Database::Connect (the C++ remote client) on one query.
// Usage: cpp_fetch URL QUERY ITERATIONS blocks|json
// Prints the median and mean microseconds per fetch, and the bytes of ToJson().
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "ormdb/database.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: cpp_fetch URL QUERY ITERATIONS blocks|json\n");
    return 2;
  }
  auto db = ormdb::Database::Connect(argv[1]);
  if (!db.ok()) {
    std::fprintf(stderr, "%s\n", db.status().ToString().c_str());
    return 1;
  }
  const int iterations = std::atoi(argv[3]);
  const bool json = std::string(argv[4]) == "json";
  std::vector<double> micros;
  size_t bytes = 0;
  for (int i = 0; i < iterations + iterations / 10 + 1; ++i) {
    auto start = std::chrono::steady_clock::now();
    {
      // The result is freed inside the timed part: Node's collector frees
      // the results the benchmark drops within its later fetches' time.
      auto r = (*db)->Fetch(argv[2]);
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
        return 1;
      }
      if (json) bytes = (*r)->ToJson().size();
    }
    auto end = std::chrono::steady_clock::now();
    if (i > iterations / 10)
      micros.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  if (!json) bytes = (*(*db)->Fetch(argv[2]))->ToJson().size();
  std::sort(micros.begin(), micros.end());
  double mean = std::accumulate(micros.begin(), micros.end(), 0.0) / micros.size();
  std::printf("{\"median_us\": %.1f, \"mean_us\": %.1f, \"json_bytes\": %zu}\n",
              micros[micros.size() / 2], mean, bytes);
  return 0;
}
