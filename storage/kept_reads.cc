#include "storage/kept_reads.h"

#include <lmdb.h>

#include <algorithm>
#include <utility>

namespace ormdb::storage {
namespace {

// A slot's state. kEmpty: no transaction; only its thread moves it on (to
// kIdle, by Keep). kIdle: a kept transaction; whoever moves it to kBusy
// (its thread in Take, the writer in EndIdle) holds it, then empties it.
// kDead: the environment closed.
enum : int { kEmpty = 0, kIdle = 1, kBusy = 2, kDead = 3 };

std::atomic<uint64_t> g_next_id{1};

}  // namespace

struct KeptReads::Slot {
  std::atomic<int> state{kEmpty};
  HeldRead held;
  std::atomic<uint64_t> reused{0};  // written by its thread only
};

// The calling thread's slots, one per environment it kept a read for. Each
// is ended when the thread exits, unless its environment closed first.
struct ThreadSlots {
  struct Entry {
    uint64_t id;  // KeptReads::id_: never reused, so a dead owner never matches
    std::weak_ptr<KeptReads> owner;
    std::shared_ptr<KeptReads::Slot> slot;
  };
  std::vector<Entry> entries;
  ~ThreadSlots() {
    for (Entry& e : entries) {
      if (!e.slot) continue;
      if (auto owner = e.owner.lock()) owner->Forget(e.slot);
    }
  }
};

namespace {
thread_local ThreadSlots t_slots;
}  // namespace

KeptReads::KeptReads(MDB_env* env) : env_(env), id_(g_next_id.fetch_add(1)) {}

KeptReads::~KeptReads() = default;

void KeptReads::End(HeldRead* held) {
  for (unsigned i = 0; i < held->opened_count; ++i) {
    mdb_cursor_close(held->cursors[held->opened[i]]);
  }
  if (held->txn != nullptr) mdb_txn_abort(held->txn);
  *held = HeldRead();
}

KeptReads::Slot* KeptReads::SlotOfThisThread(bool create) {
  for (const ThreadSlots::Entry& e : t_slots.entries) {
    if (e.id == id_) return e.slot.get();  // null: refused at the cap
  }
  if (!create || closed_.load()) return nullptr;
  auto slot = std::make_shared<Slot>();
  {
    MutexLock lock(&mu_);
    if (closed_.load()) return nullptr;
    if (slots_.size() >= kMaxKept) {
      slot = nullptr;
    } else {
      slots_.push_back(slot);
    }
  }
  // Entries of environments that closed are dropped as new ones come.
  std::erase_if(t_slots.entries, [](const ThreadSlots::Entry& e) { return e.owner.expired(); });
  t_slots.entries.push_back(ThreadSlots::Entry{id_, weak_from_this(), slot});
  return slot.get();
}

bool KeptReads::Take(HeldRead* out) {
  Slot* slot = SlotOfThisThread(false);
  if (slot == nullptr) return false;
  int idle = kIdle;
  if (!slot->state.compare_exchange_strong(idle, kBusy)) return false;
  MDB_envinfo info;
  const bool newest =
      mdb_env_info(env_, &info) == 0 && mdb_txn_id(slot->held.txn) == info.me_last_txnid;
  if (newest) {
    *out = slot->held;
    slot->held = HeldRead();
    slot->reused.store(slot->reused.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  } else {
    End(&slot->held);
  }
  slot->state.store(kEmpty);
  return newest;
}

bool KeptReads::Keep(const HeldRead& held) {
  if (closed_.load()) return false;
  Slot* slot = SlotOfThisThread(true);
  if (slot == nullptr) return false;
  if (slot->state.load() != kEmpty) return false;  // kDead: closed meanwhile
  slot->held = held;
  int empty = kEmpty;
  if (slot->state.compare_exchange_strong(empty, kIdle)) return true;
  slot->held = HeldRead();
  return false;
}

void KeptReads::EndIdle() {
  MutexLock lock(&mu_);
  for (const std::shared_ptr<Slot>& slot : slots_) {
    int idle = kIdle;
    if (!slot->state.compare_exchange_strong(idle, kBusy)) continue;
    End(&slot->held);
    slot->state.store(kEmpty);
  }
}

void KeptReads::Close() {
  closed_.store(true);
  MutexLock lock(&mu_);
  for (const std::shared_ptr<Slot>& slot : slots_) {
    int idle = kIdle;
    if (slot->state.compare_exchange_strong(idle, kBusy)) End(&slot->held);
    slot->state.store(kDead);
  }
  slots_.clear();
}

void KeptReads::Forget(const std::shared_ptr<Slot>& slot) {
  MutexLock lock(&mu_);
  int idle = kIdle;
  if (slot->state.compare_exchange_strong(idle, kBusy)) {
    End(&slot->held);
    slot->state.store(kEmpty);
  }
  if (std::erase(slots_, slot) > 0) {
    reused_by_forgotten_.fetch_add(slot->reused.load(std::memory_order_relaxed));
  }
}

size_t KeptReads::idle() const {
  MutexLock lock(&mu_);
  size_t n = 0;
  for (const std::shared_ptr<Slot>& slot : slots_) n += slot->state.load() == kIdle;
  return n;
}

uint64_t KeptReads::reused() const {
  MutexLock lock(&mu_);
  uint64_t n = 0;
  for (const std::shared_ptr<Slot>& slot : slots_) {
    n += slot->reused.load(std::memory_order_relaxed);
  }
  return n + reused_by_forgotten_.load(std::memory_order_relaxed);
}

}  // namespace ormdb::storage
