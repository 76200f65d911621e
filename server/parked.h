// What the server holds for a client between its requests: replies too
// large for one frame (continuations, pulled with `more`) and requests too
// large for one frame (uploads, pushed with `upload`). Both are bounded per
// principal and in total, bound to the principal that made them (a handle
// of another principal is unknown, never "forbidden", so its existence is
// not revealed) and to the connection (nng pipe) they came on: when the
// pipe closes, what it held is dropped at once.
//
// Thread-safety: every method is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "common/mutex.h"
#include "ormdb/status.h"
#include "protocol/message.h"

namespace ormdb::server {

using Clock = std::chrono::steady_clock;

// Who holds a parked thing.
struct Owner {
  std::string principal;  // "" for the anonymous principal of a keyless server
  uint32_t pipe = 0;      // the nng pipe the request came on (0: none)
};

// 64 random bits from the OS (getrandom), never 0: handles are
// capabilities, they must not be guessable.
uint64_t RandomHandle();

class Continuations {
 public:
  struct Limits {
    size_t max_total = 256;           // parked replies of all principals
    size_t max_per_principal = 16;    // of one principal
    size_t max_bytes = size_t{1} << 30;  // bytes of all parked replies
    std::chrono::milliseconds idle{30000};
  };
  explicit Continuations(const Limits& limits) : limits_(limits) {}

  // Parks a whole reply (a flat Cap'n Proto message) and returns its handle.
  // Makes room by evicting the owner's least recently used replies past its
  // share, then anyone's past the totals; RESOURCE_EXHAUSTED only when this
  // reply alone is larger than max_bytes.
  Result<uint64_t> Park(const Owner& owner, protocol::Words reply);

  // Hands `emit` the bytes [offset, offset + at most max_chunk) of the reply
  // and the reply's total size; the reply is dropped once its last byte has
  // been read. NOT_FOUND for an unknown, expired, evicted or foreign handle;
  // INVALID_ARGUMENT for an offset past the end.
  Status Read(const std::string& principal, uint64_t handle, uint64_t offset, size_t max_chunk,
              const std::function<void(std::span<const uint8_t> chunk, uint64_t total)>& emit);

  // Drops the replies parked by requests of `pipe` (its client went away).
  void DropPipe(uint32_t pipe);
  // Drops replies idle longer than the limit.
  void Expire(Clock::time_point now);

  size_t count() const;
  size_t bytes() const;
  uint64_t evicted() const;

 private:
  struct Entry {
    uint64_t handle;
    Owner owner;
    protocol::Words reply;
    Clock::time_point last_used;
  };
  using List = std::list<Entry>;  // least recently used first
  void EraseLocked(List::iterator it) REQUIRES(mu_);
  size_t CountOfLocked(const std::string& principal) const REQUIRES(mu_);

  const Limits limits_;
  mutable Mutex mu_;
  List lru_ GUARDED_BY(mu_);
  std::map<uint64_t, List::iterator> by_handle_ GUARDED_BY(mu_);
  std::map<std::string, size_t> per_principal_ GUARDED_BY(mu_);
  size_t bytes_ GUARDED_BY(mu_) = 0;
  uint64_t evicted_ GUARDED_BY(mu_) = 0;
};

class Uploads {
 public:
  struct Limits {
    // A whole request; also the most one principal may have in progress.
    size_t max_request_bytes = size_t{64} << 20;
    size_t max_bytes = size_t{256} << 20;  // in progress, all principals
    std::chrono::milliseconds idle{30000};
  };
  explicit Uploads(const Limits& limits) : limits_(limits) {}

  // Adds bytes [offset, offset + data.size()) of a request of `total` bytes
  // that the client numbered `handle`. Pieces must come in order (a resent
  // piece already held is accepted again). Returns the whole request's
  // words once its last byte is in, nullopt before. RESOURCE_EXHAUSTED when
  // `total` is over max_request_bytes or the principal's or everyone's
  // bytes in progress would pass their limit; NOT_FOUND when a later piece
  // names an upload the server does not hold (it expired, its connection
  // closed, or the server restarted: start it again); INVALID_ARGUMENT for
  // pieces out of order, a total that is not whole words or changes.
  Result<std::optional<protocol::Words>> Add(const Owner& owner, uint64_t client, uint64_t handle,
                                             uint64_t offset, uint64_t total,
                                             std::span<const uint8_t> data);

  void DropPipe(uint32_t pipe);
  void Expire(Clock::time_point now);
  size_t count() const;
  size_t bytes() const;

 private:
  struct Key {
    std::string principal;
    uint64_t client, handle;
    auto operator<=>(const Key&) const = default;
  };
  struct Entry {
    Owner owner;
    protocol::Words words;
    uint64_t total = 0;  // bytes reserved
    uint64_t received = 0;
    Clock::time_point last_used;
  };
  void EraseLocked(std::map<Key, Entry>::iterator it) REQUIRES(mu_);

  const Limits limits_;
  mutable Mutex mu_;
  std::map<Key, Entry> uploads_ GUARDED_BY(mu_);
  std::map<std::string, size_t> per_principal_ GUARDED_BY(mu_);  // bytes reserved
  size_t bytes_ GUARDED_BY(mu_) = 0;
};

}  // namespace ormdb::server
