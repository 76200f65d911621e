// The writer process of the crash test (crash_test.cc): commits numbered
// transactions from several threads as fast as it can and reports each
// acknowledged one on stdout as "<txn> <version>\n" (one write(2) each, so
// lines never interleave), until it is killed.
//
// Transaction n writes RowsOf(n) rows with ids n*8+j, each with an index
// entry, so the parent can tell a complete transaction from a partial one,
// and records request "req-<n>" with its outcome.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "storage/crash_workload.h"
#include "storage/store.h"

using namespace ormdb;
using namespace ormdb::storage;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: storage_crash_child DIR FIRST_TXN\n");
    return 2;
  }
  auto store = Store::Open(argv[1]);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  std::atomic<uint64_t> next_txn{std::strtoull(argv[2], nullptr, 10)};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (true) {
        uint64_t n = next_txn.fetch_add(1);
        auto v = (*store)->Commit([n](WriteTxn& txn) { return crash::WriteTxnRows(txn, n); });
        if (!v.ok()) {
          std::fprintf(stderr, "commit %llu: %s\n", static_cast<unsigned long long>(n),
                       v.status().ToString().c_str());
          std::_Exit(1);
        }
        std::string line = std::to_string(n) + " " + std::to_string(*v) + "\n";
        if (write(1, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::_Exit(1);
      }
    });
  }
  for (auto& t : threads) t.join();
}
