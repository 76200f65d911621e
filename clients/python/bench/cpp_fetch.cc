// The C++ side of fetch_bench.py: times Database::Fetch on one query,
// embedded (Database::Open) or remote (Database::Connect).
// Usage: cpp_fetch open DIR|connect URL QUERY ITERATIONS blocks|json
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
  if (argc != 6) {
    std::fprintf(stderr, "usage: cpp_fetch open DIR|connect URL QUERY ITERATIONS blocks|json\n");
    return 2;
  }
  auto db = std::string(argv[1]) == "open" ? ormdb::Database::Open(argv[2])
                                           : ormdb::Database::Connect(argv[2]);
  if (!db.ok()) {
    std::fprintf(stderr, "%s\n", db.status().ToString().c_str());
    return 1;
  }
  const char* query = argv[3];
  const int iterations = std::atoi(argv[4]);
  const bool json = std::string(argv[5]) == "json";
  std::vector<double> micros;
  size_t bytes = 0;
  for (int i = 0; i < iterations + iterations / 10 + 1; ++i) {
    auto start = std::chrono::steady_clock::now();
    {
      // The result is freed inside the timed part, as Python frees it when
      // the benchmark drops it.
      auto r = (*db)->Fetch(query);
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
  if (!json) bytes = (*(*db)->Fetch(query))->ToJson().size();
  std::sort(micros.begin(), micros.end());
  double mean = std::accumulate(micros.begin(), micros.end(), 0.0) / micros.size();
  std::printf("{\"median_us\": %.1f, \"mean_us\": %.1f, \"json_bytes\": %zu}\n",
              micros[micros.size() / 2], mean, bytes);
  return 0;
}
