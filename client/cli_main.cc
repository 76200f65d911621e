// The `ormdb` command line (DESIGN.md §8). This build offers the storage
// maintenance commands: stats, vacuum, check.
//
// Exit status: 0 success, 1 a database error (printed as "error: CODE:
// message"), 2 a usage error.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "storage/store.h"

namespace {

using ormdb::Status;
using ormdb::storage::Store;

constexpr const char* kUsage =
    "usage: ormdb [--data DIR] COMMAND [--data DIR]\n"
    "commands:\n"
    "  stats    versions, transactions and map size of the data directory\n"
    "  vacuum   remove history older than the retention horizon\n"
    "  check    verify the storage invariants\n"
    "DIR defaults to ./ormdb-data; it is created by `stats` when missing.\n";

int Usage(const std::string& problem) {
  std::fprintf(stderr, "ormdb: %s\n%s", problem.c_str(), kUsage);
  return 2;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

int Stats(Store& store) {
  auto s = store.stats();
  auto report = store.table_sizes();
  if (!report.ok()) return Fail(report.status());
  std::printf(
      "{\"data\": \"%s\", \"current_version\": %llu, \"oldest_readable_version\": %llu, "
      "\"row_versions\": %llu, \"index_entries\": %llu, \"edge_entries\": %llu, "
      "\"log_entries\": %llu, \"map_size\": %zu}\n",
      store.dir().c_str(), static_cast<unsigned long long>(s.current_version),
      static_cast<unsigned long long>(s.oldest_readable_version),
      static_cast<unsigned long long>(report->row_versions),
      static_cast<unsigned long long>(report->index_entries),
      static_cast<unsigned long long>(report->edge_entries),
      static_cast<unsigned long long>(report->log_entries), s.map_size);
  return 0;
}

int Vacuum(Store& store) {
  auto r = store.Vacuum();
  if (!r.ok()) return Fail(r.status());
  std::printf(
      "{\"horizon\": %llu, \"row_versions_removed\": %llu, \"index_entries_removed\": %llu, "
      "\"edges_removed\": %llu, \"log_entries_removed\": %llu, \"steps\": %llu}\n",
      static_cast<unsigned long long>(r->horizon),
      static_cast<unsigned long long>(r->row_versions_removed),
      static_cast<unsigned long long>(r->index_entries_removed),
      static_cast<unsigned long long>(r->edges_removed),
      static_cast<unsigned long long>(r->log_entries_removed),
      static_cast<unsigned long long>(r->steps));
  return 0;
}

int Check(Store& store) {
  auto r = store.Check();
  if (!r.ok()) return Fail(r.status());
  for (const std::string& p : r->problems) std::printf("problem: %s\n", p.c_str());
  if (!r->problems.empty()) {
    return Fail(
        ormdb::Internal(std::to_string(r->problems.size()) + " storage invariant(s) violated"));
  }
  std::printf(
      "ok: version %llu, %llu row versions, %llu index entries, %llu edge entries, %llu log "
      "entries\n",
      static_cast<unsigned long long>(r->current_version),
      static_cast<unsigned long long>(r->row_versions),
      static_cast<unsigned long long>(r->index_entries),
      static_cast<unsigned long long>(r->edge_entries),
      static_cast<unsigned long long>(r->log_entries));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = "./ormdb-data";
  std::optional<std::string> command;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--data") {
      if (i + 1 >= argc) return Usage("--data needs a directory");
      data = argv[++i];
    } else if (arg.rfind("--data=", 0) == 0) {
      data = arg.substr(7);
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (!arg.empty() && arg[0] == '-') {
      return Usage("unknown option " + arg);
    } else if (!command) {
      command = arg;
    } else {
      return Usage("unexpected argument " + arg);
    }
  }
  if (!command) return Usage("no command given");
  if (*command != "stats" && *command != "vacuum" && *command != "check") {
    return Usage("unknown command " + *command);
  }
  // Only `stats` (what `make run` uses) creates a missing data directory;
  // the others report NOT_FOUND without creating it.
  auto store = Store::Open(data, {}, /*create_if_missing=*/*command == "stats");
  if (!store.ok()) return Fail(store.status());
  if (*command == "stats") return Stats(**store);
  if (*command == "vacuum") return Vacuum(**store);
  return Check(**store);
}
