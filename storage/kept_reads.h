// KeptReads: each thread's last read transaction, kept open with its cursors
// for the thread's next read while nothing has been committed since.
//
// Why: LMDB marks every named table stale when a read transaction begins,
// and the first cursor a transaction opens on a table looks the table's
// record up in the main table again. A fetch opens four or five tables, and
// that, with beginning and ending the transaction, is 5-10% of a small
// fetch (docs/PERFORMANCE.md, "A read transaction kept open between
// fetches"). A kept transaction has its tables fresh and its cursors open.
//
// When one is reused: only while its snapshot is still the newest, its
// LMDB transaction id equal to the environment's last committed one. Then
// it sees exactly what a new transaction would, whatever version the read
// asks for (versions are filtered by MVCC as in any read).
//
// What ends them: an idle kept transaction pins the pages that later commits
// free, and must not be open when the map is resized. So the writer ends
// every idle one after each commit (EndIdle) and before growing the map
// (Env::Grow, with the resize lock held exclusively, so no reader can take
// one meanwhile); a thread's own is ended when the thread exits, and all of
// them when the environment closes. At most kMaxKept are kept per
// environment: each holds one of LMDB's reader slots.
//
// With MDB_NOTLS a read transaction belongs to its object, not its thread,
// so the writer may end a transaction another thread began: a slot's state
// (an atomic) says who holds it.
//
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/mutex.h"
#include "storage/env.h"

typedef struct MDB_env MDB_env;
typedef struct MDB_txn MDB_txn;
typedef struct MDB_cursor MDB_cursor;

namespace ormdb::storage {

// A read transaction and the cursors it has open.
struct HeldRead {
  MDB_txn* txn = nullptr;
  MDB_cursor* cursors[kMaxTables] = {};  // by table handle
  uint8_t opened[kMaxTables] = {};       // the handles with a cursor
  unsigned opened_count = 0;
};

class KeptReads : public std::enable_shared_from_this<KeptReads> {
 public:
  static constexpr size_t kMaxKept = 64;

  explicit KeptReads(MDB_env* env);
  ~KeptReads();
  KeptReads(const KeptReads&) = delete;
  KeptReads& operator=(const KeptReads&) = delete;

  // The calling thread's kept transaction, when it is still the newest
  // snapshot: it is the caller's now. False otherwise (a stale one is ended).
  bool Take(HeldRead* out);
  // Keeps `held` (a read transaction the calling thread ends) for its next
  // Take; false when it cannot (the cap is reached, or Close ran): then the
  // caller ends it.
  bool Keep(const HeldRead& held);
  // Ends every kept transaction that is not being taken. The writer calls it
  // after each commit and before growing the map.
  void EndIdle();
  // Ends them all and keeps none from now on (the environment closes).
  void Close();

  // Transactions kept and idle now, and reads that reused one (for tests and
  // stats).
  size_t idle() const;
  uint64_t reused() const;

  // Ends a read transaction and its cursors (one Keep declined).
  static void End(HeldRead* held);

  struct Slot;

 private:
  friend struct ThreadSlots;
  // The calling thread's slot, registering one when `create`; null past the
  // cap (remembered: the thread does not ask again, so a read does not take
  // the mutex) or after Close.
  Slot* SlotOfThisThread(bool create);
  // A thread that kept a read exits: its transaction ends.
  void Forget(const std::shared_ptr<Slot>& slot);

  MDB_env* const env_;
  const uint64_t id_;  // unique in the process, never reused
  mutable Mutex mu_;
  std::vector<std::shared_ptr<Slot>> slots_ GUARDED_BY(mu_);
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> reused_by_forgotten_{0};  // reuses counted by slots since forgotten
};

}  // namespace ormdb::storage
