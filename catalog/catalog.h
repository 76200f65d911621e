// Catalog: the schema versions of one database, stored in it, and the
// application of a new schema (a migration).
//
// Every applied schema is a version (1, 2, ...) committed through the writer
// like data: its transaction stores the version record in the metadata,
// makes it current and annotates the change log ("schema N"), so a change
// stream sees schema changes in commit order. All versions stay loaded:
// rows written under an old version are decoded with its layout.
//
// A mutation reads the current schema number inside its own write
// transaction (SchemaIn), so a schema change and a mutation in the same group
// commit are ordered like any two transactions.
//
// Thread-safety: all methods are thread-safe; Apply calls are serialized.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/compiled_schema.h"
#include "catalog/migration.h"
#include "catalog/rows.h"
#include "common/mutex.h"
#include "storage/store.h"

namespace ormdb::catalog {

struct SchemaHistoryEntry {
  uint32_t number = 0;
  Version commit_version = 0;
  int64_t time_micros = 0;
  Grade grade = Grade::kA;
  std::string summary;
};

struct ApplyOptions {
  bool dry_run = false;            // plan only
  bool allow_destructive = false;  // consent to grade D
  std::string file_name = "schema";
  // Rows per write transaction of a background index build. Small batches
  // keep the writer responsive to client transactions between them.
  size_t build_batch = 1000;
  // Test seam: stop a background build (UNAVAILABLE) once this many rows are
  // done, as a crash would; 0 = never. The build resumes at the next open.
  uint64_t interrupt_build_after_rows = 0;
  // Called during long work: phase ("validate User", "build index User(email)"),
  // rows done, rows total (an estimate). May be empty.
  std::function<void(std::string_view phase, uint64_t done, uint64_t total)> progress;
  // Checks what the catalog cannot: the conditions of access rules, which
  // the query layer parses and types (query/policy.h). Runs before anything
  // is written, dry runs included; its error is the apply's. May be empty.
  std::function<Status(const CompiledSchema& next)> validate;
};

struct ApplyResult {
  MigrationPlan plan;
  bool applied = false;        // false for a dry run or when nothing changed
  uint32_t number = 0;         // the schema version now current
  Version commit_version = 0;  // of the schema change (0 when not applied)
  uint64_t indexes_built = 0;
  uint64_t rows_indexed = 0;
};

class Catalog {
 public:
  // Loads every stored schema version and resumes unfinished index builds.
  static Result<std::unique_ptr<Catalog>> Open(storage::Store* store);

  // The current schema; nullptr when none was ever applied.
  std::shared_ptr<const CompiledSchema> current() const EXCLUDES(mu_);
  // The schema current at `txn`'s snapshot (for a write transaction: the one
  // its writes must follow). SCHEMA_ERROR when no schema was applied.
  Result<std::shared_ptr<const CompiledSchema>> SchemaIn(storage::TxnReader& txn) const
      EXCLUDES(mu_);
  // The schema current at commit version `version` (the newest applied at
  // or before it), for reads of past snapshots. SCHEMA_ERROR when none was.
  Result<std::shared_ptr<const CompiledSchema>> SchemaAt(Version version) const EXCLUDES(mu_);
  // A version by number; nullptr when unknown.
  std::shared_ptr<const CompiledSchema> VersionByNumber(uint32_t number) const EXCLUDES(mu_);
  // Layouts of every version, for DecodeEntityRow.
  LayoutLookup layouts() const;

  // Parses `text`, plans the migration and (unless a dry run) applies it:
  // validation at a snapshot, the schema commit, then background index
  // builds. Errors: SCHEMA_ERROR (the text), MIGRATION_REFUSED (grade D
  // without consent), CONSTRAINT_VIOLATION (rows that fail a B or C step,
  // listed by id; nothing changes).
  Result<ApplyResult> Apply(std::string_view text, const ApplyOptions& options)
      EXCLUDES(apply_mu_, mu_);

  std::vector<SchemaHistoryEntry> History() const EXCLUDES(mu_);

  // The canonical schema text of the current version ("" when none).
  std::string CurrentText() const EXCLUDES(mu_);

 private:
  explicit Catalog(storage::Store* store) : store_(store) {}
  Status Load() EXCLUDES(mu_);
  Result<ApplyResult> ApplyLocked(std::string_view text, const ApplyOptions& options)
      REQUIRES(apply_mu_) EXCLUDES(mu_);
  Status ValidateExisting(const CompiledSchema& next, const MigrationPlan& plan,
                          const ApplyOptions& options, Version* snapshot);
  Status RecheckChanged(storage::WriteTxn& txn, const CompiledSchema& next,
                        const MigrationPlan& plan, Version since);
  Status BuildIndexes(uint32_t number, const ApplyOptions& options, ApplyResult* result)
      REQUIRES(apply_mu_) EXCLUDES(mu_);
  Status BuildIndex(const std::string& entity, IndexId index, const ApplyOptions& options,
                    uint64_t* rows);
  void Install(std::shared_ptr<const CompiledSchema> s) EXCLUDES(mu_);

  storage::Store* store_;
  Mutex apply_mu_;  // one Apply at a time; taken before mu_
  mutable Mutex mu_;
  std::map<uint32_t, std::shared_ptr<const CompiledSchema>> versions_ GUARDED_BY(mu_);
  uint32_t current_ GUARDED_BY(mu_) = 0;
  std::map<uint32_t, SchemaHistoryEntry> history_ GUARDED_BY(mu_);
  std::map<uint32_t, std::string> texts_ GUARDED_BY(mu_);
};

}  // namespace ormdb::catalog
