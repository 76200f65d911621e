// Change streams of the embedded database (DESIGN.md §6, §9 "Change
// events"): the change log rendered as JSON events, filtered by entity, with
// long-poll waiting and the pins that keep a named subscriber's unread
// history from being vacuumed.
//
// How a pull works: the change sets after the token are read from the log in
// short read transactions (Store::ReadChanges) and copied out; each is then
// rendered on its own, outside the log reader's transaction, so no thread
// ever holds two read transactions. While a pull runs it pins its starting
// token, so a concurrent vacuum cannot take the history it is reading (and
// the snapshots it renders at) from under it.
//
// Thread-safety: ChangeStreams is thread-safe; any number of watchers may
// pull concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/mutex.h"
#include "ormdb/database.h"
#include "ormdb/status.h"
#include "query/policy.h"
#include "storage/change_log.h"
#include "storage/store.h"

namespace ormdb {

// The events of one committed transaction, in the order they happened, each
// a compact JSON object that carries the transaction's version:
//
//   {"version":V,"op":"insert"|"update"|"delete","entity":"Post","id":9,
//    "before":{..}|null,"after":{..}|null,"changed":["title",..]}
//   {"version":V,"op":"link"|"unlink","relation":"Post.tags","from":9,"to":3}
//   {"version":V,"op":"schema"}
//
// before/after are full rows as `export` writes them ("id" and every field,
// to-one relations as the related id); before is null for an insert, after
// for a delete. `changed` lists, in declaration order, the fields whose value
// differs between the two images, an absent image counting as all null: for
// an insert every non-null field of the row, for a delete every non-null
// field it had. Ids are external ids: the integer, or for a uuid entity its
// uuid string. A relation is named from its declaring (forward) side, and
// from/to are ids of that side's entities. Cascaded deletes, set_null updates
// and the unlinks of a deleted row are events of their own.
//
// Rows are rendered with the schema in force at the transaction (a row
// written under an older schema is converted to it, as reads do); a
// reference to a uuid row that this transaction deleted is still rendered
// with its uuid.
//
// `entities` empty: every event; otherwise row events of those entities,
// relation events with one of them on either side, and every schema event
// (so a filtered stream still sees schema changes). Names are matched as
// they were at the transaction.
//
// Errors: INTERNAL on a damaged change set or row; HISTORY_LOST if the
// version was vacuumed meanwhile (pin it to prevent that).
// REQUIRES: the calling thread holds no read transaction (one is opened at
// the change set's version when a uuid id must be looked up).
//
// With a viewer (a principal under the schema's access policies, query/
// policy.h), an event is delivered when its row is readable by the principal
// in the before or the after image; an unreadable image renders as null,
// fields the principal may not read are null in both images and left out
// of `changed`, and link events need both ends readable. Images are judged
// with paths through references read at the change set's version.
struct StreamViewer {
  const Principal* principal = nullptr;
  // The parsed rules of a schema version (FetchEngine::Policies).
  std::function<Result<std::shared_ptr<const query::PolicySet>>(
      const std::shared_ptr<const catalog::CompiledSchema>&)>
      policies;
};
Result<std::vector<std::string>> RenderChangeSet(const storage::ChangeSet& changes,
                                                 const catalog::Catalog& catalog,
                                                 storage::Store& store,
                                                 const std::vector<std::string>& entities,
                                                 const StreamViewer* viewer = nullptr);

class ChangeStreams {
 public:
  // `max_lag_versions` and `idle_seconds` are OpenOptions::
  // subscriber_max_lag_versions and subscriber_idle_seconds, taken
  // literally: 0 releases a subscriber's pin as soon as it falls behind, or
  // at the next expiry check after its poll.
  ChangeStreams(storage::Store* store, catalog::Catalog* catalog, uint64_t max_lag_versions,
                int64_t idle_seconds)
      : store_(store), catalog_(catalog), max_lag_(max_lag_versions), idle_seconds_(idle_seconds) {}

  // Database::Watch: the events after options.from (default: the current
  // version), whole transactions, in commit order. The batch ends after the
  // transaction that brings it to options.max_events (0 counts as 1; a
  // transaction is never split, so a batch may hold more), at the current
  // version, or after kMaxChangeSetsPerPull change sets (a filter that
  // matches nothing still returns, with the token advanced). With no event
  // and options.wait > 0 it waits for new commits, up to options.wait in all
  // (at most a day).
  //
  // The token is the version of the last change set examined, events or not
  // (`from` when none), so filtered-out versions are never read twice.
  //
  // Errors: SCHEMA_ERROR for an entity the current schema does not have
  // (with a suggestion); INVALID_ARGUMENT for `from` beyond the current
  // version; HISTORY_LOST when the history after `from` was vacuumed.
  //
  // A named subscriber (options.subscriber) gets its new token pinned,
  // replacing its previous pin, until it expires (ExpirePins).
  // REQUIRES: the calling thread holds no read transaction.
  // With a viewer, events are filtered as RenderChangeSet says, and a
  // named subscriber is the principal's own (another principal's subscriber
  // of the same name is another subscriber).
  Result<WatchBatch> Pull(const WatchOptions& options, const StreamViewer* viewer = nullptr)
      EXCLUDES(mu_);

  // Releases the pins of subscribers that have not polled for idle_seconds
  // or whose token is more than max_lag_versions behind the current version
  // (once vacuum passes such a token, the subscriber gets HISTORY_LOST).
  // Called by Pull and before a vacuum.
  void ExpirePins() EXCLUDES(mu_);

  // Named subscribers holding a pin, and the oldest token among them (0
  // when none): the current version minus it is the slowest one's lag.
  struct SubscriberStats {
    size_t subscribers = 0;
    uint64_t oldest_token = 0;
  };
  SubscriberStats subscriber_stats() EXCLUDES(mu_);

  // Change sets one pull examines at most (bounds its work when a filter
  // skips a long run of versions).
  static constexpr size_t kMaxChangeSetsPerPull = 10000;

 private:
  struct Subscriber {
    storage::SnapshotPin pin;
    std::chrono::steady_clock::time_point last_poll;
  };
  // Appends the events after *token to *events (whole change sets) until
  // the batch holds max_events, the log ends or *examined reaches
  // kMaxChangeSetsPerPull; advances *token past every change set examined.
  Status Scan(const std::vector<std::string>& entities, size_t max_events, uint64_t* token,
              size_t* examined, std::vector<std::string>* events, const StreamViewer* viewer);
  // SCHEMA_ERROR (with a suggestion) for a name the current schema lacks.
  Status CheckEntities(const std::vector<std::string>& entities) const;

  storage::Store* store_;
  catalog::Catalog* catalog_;
  uint64_t max_lag_;
  int64_t idle_seconds_;
  Mutex mu_;
  std::map<std::string, Subscriber> subscribers_ GUARDED_BY(mu_);
};

}  // namespace ormdb
