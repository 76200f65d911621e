// Statistics the fetch compiler's cost model reads: rows per entity, fanout
// per relation (children per parent: average, maximum, parents with
// children) and distinct leading values per index.
//
// Each number is computed on first use by a scan at the current version and
// then kept up to date incrementally: CatchUp() applies the change sets
// committed since (row inserts and deletes, reference changes, links and
// unlinks), so the cost of keeping them is proportional to what changed.
// Exceptions, both estimates by nature: the maximum fanout only grows until
// the next recount, and the distinct count of an index that is neither
// unique nor on a reference is sampled (its first 10,000 entries) and
// resampled when the entity's row count has changed by a quarter.
//
// Saved across processes: each count (a relation's fanout, an index's
// sampled distinct values) is written to the store's metadata with the
// version it was counted at, in a maintenance transaction (no version, no
// change-log entry). A new process loads the saved numbers and catches up
// from their version through the change log instead of recounting: the
// row counts come from the store's live row counters, the children of a
// relation stay exact, and its parents-with-children and maximum stay as
// counted (estimates) until the children have changed by a quarter, when
// the relation is counted again. A saved copy whose version the change log
// no longer reaches (vacuumed), that is newer than the store, or that does
// not parse is ignored.
//
// Thread-safety: all methods are thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <future>
#include <map>
#include <mutex>
#include <span>
#include <string_view>
#include <unordered_map>

#include "catalog/catalog.h"
#include "common/ids.h"
#include "ormdb/status.h"
#include "storage/store.h"

namespace ormdb::query {

struct Fanout {
  double average = 0;     // children per parent row (parents without children included)
  uint64_t max = 0;       // the most children of one parent (an upper bound)
  uint64_t parents = 0;   // parent rows with at least one child
  uint64_t children = 0;  // rows (or pairs) on the child side
};

class Statistics {
 public:
  Statistics(storage::Store* store, catalog::Catalog* catalog) : store_(store), catalog_(catalog) {}

  // Rows of the entity at the current version.
  Result<uint64_t> Rows(EntityTypeId entity);
  // Whether every (entity, rows assumed) still holds about as many rows (not
  // more than twice or less than half, counts of 64 or less aside): a cached
  // plan's test, one lock for all of them.
  Result<bool> CountsStillFit(std::span<const std::pair<EntityTypeId, uint64_t>> assumed);
  // Children per parent of the to-many inverse of reference `field` of
  // `child` (comments per post for Comment.post).
  Result<Fanout> ReferenceFanout(EntityTypeId child, FieldId field, EntityTypeId parent);
  // Linked rows per row on one side of a many-to-many relation.
  Result<Fanout> EdgeFanout(RelationId relation, bool forward, EntityTypeId from_entity);
  // Distinct values of the index's leading field.
  Result<uint64_t> Distinct(const catalog::EntityInfo& entity, const catalog::IndexInfo& index);

  // Applies the change sets committed since the last call (or since the
  // numbers were computed). Called after each commit.
  Status CatchUp();

  // How many relations and indexes this instance counted by reading them
  // whole (the numbers it loaded from a saved copy are not counted).
  uint64_t recounts();
  // Waits for the saved copy written after the last count (for tests and
  // for a process that wants it durable before it exits).
  Status WaitSaved();

  // The metadata key of the saved copy.
  static constexpr std::string_view kSavedKey = "query:statistics";

 private:
  struct ParentCounts {
    // Every parent with children, or (loaded from a saved copy) none: then
    // `saved_parents` stands for per_parent.size() and `saved_total` is the
    // children when it was counted.
    std::unordered_map<RowId, uint32_t> per_parent;
    uint64_t total = 0;
    uint64_t max = 0;
    bool counted = false;  // from the data (not an empty stand-in)
    bool loaded = false;
    uint64_t saved_parents = 0;
    uint64_t saved_total = 0;
    void Add(RowId parent, int delta);
    uint64_t parents() const { return loaded ? saved_parents : per_parent.size(); }
    // A loaded copy whose children changed by more than a quarter.
    bool Stale() const;
  };
  struct Sampled {
    uint64_t distinct = 0;
    uint64_t rows_when_sampled = 0;
  };
  // REQUIRES: mu_ held. Brings the loaded numbers to the current version.
  Status CatchUpLocked();
  // REQUIRES: mu_ held. Reads the saved copy (first use only).
  void LoadSavedLocked();
  // REQUIRES: mu_ held. Queues a write of the counts at applied_.
  void SaveLocked();
  Result<uint64_t> RowsLocked(EntityTypeId entity);

  storage::Store* store_;
  catalog::Catalog* catalog_;
  std::mutex mu_;
  Version applied_ = 0;                                         // GUARDED_BY(mu_)
  bool started_ = false;                                        // GUARDED_BY(mu_)
  std::unordered_map<uint32_t, uint64_t> rows_;                 // GUARDED_BY(mu_)
  std::map<std::pair<uint32_t, uint32_t>, ParentCounts> refs_;  // (entity, field)  GUARDED_BY(mu_)
  std::map<std::pair<uint32_t, bool>, ParentCounts> edges_;  // (relation, forward)  GUARDED_BY(mu_)
  std::map<uint32_t, Sampled> sampled_;                      // by index  GUARDED_BY(mu_)
  uint64_t recounts_ = 0;                                    // GUARDED_BY(mu_)
  uint64_t replayed_since_save_ = 0;                         // GUARDED_BY(mu_)
  std::future<Result<Version>> saving_;                      // GUARDED_BY(mu_)
};

}  // namespace ormdb::query
