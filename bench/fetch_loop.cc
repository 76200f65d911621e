// fetch_loop: one fetch over and over on an existing data directory, in
// process, warm: p50, p90 and mean per fetch. For A/B measurements of the
// executor on the data a page benchmark leaves (ORMDB_BENCH_KEEP=1), with
// two builds run in turns; docs/PERFORMANCE.md quotes it.
//
//   fetch_loop DATA_DIR SECONDS QUERY PARAM IDS_FILE
//
// QUERY takes one parameter, $PARAM, cycled over the integers of IDS_FILE
// (whitespace-separated); with PARAM "-" it takes none (IDS_FILE unread).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "ormdb/database.h"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: fetch_loop DATA_DIR SECONDS QUERY PARAM IDS_FILE\n");
    return 2;
  }
  auto db = ormdb::Database::Open(argv[1]);
  if (!db.ok()) {
    std::fprintf(stderr, "%s\n", db.status().ToString().c_str());
    return 1;
  }
  const double seconds = std::atof(argv[2]);
  const std::string query = argv[3], param = argv[4];
  std::vector<std::string> params;
  if (param == "-") params.push_back("{}");
  std::ifstream ids(argv[5]);
  for (long long v; param != "-" && ids >> v;) {
    params.push_back("{\"" + param + "\": " + std::to_string(v) + "}");
  }
  if (params.empty()) {
    std::fprintf(stderr, "no ids in %s\n", argv[5]);
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  std::vector<double> micros;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  for (size_t i = 0; Clock::now() < end; ++i) {
    auto start = Clock::now();
    auto r = (*db)->Fetch(query, params[i % params.size()]);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  double sum = 0;
  for (double m : micros) sum += m;
  std::sort(micros.begin(), micros.end());
  std::printf("n=%zu p50=%.2f us p90=%.2f mean=%.2f\n", micros.size(), micros[micros.size() / 2],
              micros[micros.size() * 9 / 10], sum / static_cast<double>(micros.size()));
  return 0;
}
