// Helpers shared by the fuzz targets (tests/fuzz/*_fuzz.cc, docs/TESTING.md).
//
// Each target defines LLVMFuzzerTestOneInput. Built with ORMDB_FUZZ it links
// libFuzzer; in the normal build it links replay_main.cc and replays the
// seed corpus and the saved regressions as a ctest.
//
// A target reports a bug it detects itself (a broken round trip, an
// INTERNAL error from untrusted input) with FUZZ_CHECK, which prints the
// reason and aborts, so libFuzzer saves the input as a crash.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "catalog/catalog.h"
#include "db/engine.h"
#include "ormdb/status.h"
#include "ormdb/database.h"
#include "query/mutation.h"
#include "storage/store.h"

#define FUZZ_CHECK(cond, ...)                                                 \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", __FILE__,      \
                   __LINE__, #cond);                                          \
      ::ormdb::fuzz::PrintDetail(__VA_ARGS__);                                \
      std::abort();                                                           \
    }                                                                         \
  } while (0)

namespace ormdb::fuzz {

inline void PrintDetail() {}
inline void PrintDetail(std::string_view detail) {
  std::fprintf(stderr, "  %.*s\n", static_cast<int>(detail.size()), detail.data());
}

// The input as text (any bytes; parsers must cope with invalid UTF-8).
inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// tests/data/blog.ormdb, the schema every database of the targets uses.
const std::string& BlogSchema();
// One mutation batch of rows in every blog entity and relation (the data of
// tests/fetch/includes.test): users 1-5, posts 1-6, tags 1-3, comments 1-5.
std::string_view BlogRows();

// A fresh directory for a database, removed at exit. On tmpfs (/dev/shm)
// when it is writable, so a durable commit's fsync costs nothing.
std::string TempDir(std::string_view name);

// With ORMDB_FUZZ_VERBOSE set, prints what an input came to (to see how far
// the seeds get).
void Trace(std::string_view what, const Status& s);

// An INTERNAL status from untrusted input is a bug (DESIGN.md: "our bug or a
// corrupted file"); the databases here are never corrupted.
inline void CheckNotInternal(const Status& s, std::string_view what) {
  Trace(what, s);
  FUZZ_CHECK(s.code() != ErrorCode::kInternal, std::string(what) + ": " + s.ToString());
}

// A store and catalog with the blog schema and BlogRows, opened once per
// process (no fsync: StoreOptions::sync_mode kNoSync). Batches are applied
// and then rolled back, so every input sees the same rows and a crash
// reproduces from its input alone.
class BlogStore {
 public:
  static BlogStore& Get();

  const catalog::Catalog& catalog() const { return *catalog_; }
  std::shared_ptr<const catalog::CompiledSchema> schema() const { return catalog_->current(); }

  // Applies `batch` in one write transaction, renders the result and rolls
  // back. Returns the batch's own error, or OK when it applied.
  Status ApplyAndRollBack(const query::MutationBatch& batch);

  // Plans `text` as the next schema on this store (Catalog::Apply with
  // dry_run: nothing is written).
  Result<catalog::ApplyResult> DryRunSchema(std::string_view text);

 private:
  BlogStore() = default;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
};

// An embedded database (db::Engine, what Database::Open returns and the
// server serves) with the blog schema and BlogRows.
// `fresh`: throw away the current one (if any) and open a new one; used by
// targets whose inputs write, to keep the state close to the seed.
db::Engine& BlogDatabase(bool fresh = false);

}  // namespace ormdb::fuzz
