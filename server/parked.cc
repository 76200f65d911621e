#include "server/parked.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace ormdb::server {

uint64_t RandomHandle() {
  uint64_t h = 0;
  while (h == 0) {
    ssize_t n = getrandom(&h, sizeof h, 0);
    if (n != static_cast<ssize_t>(sizeof h)) {
      // getrandom only fails before the pool is seeded or on EINTR; fall
      // back to std::random_device (also the OS source on Linux).
      std::random_device rd;
      h = (uint64_t{rd()} << 32) | rd();
    }
  }
  return h;
}

// ---- Continuations ----

size_t Continuations::CountOfLocked(const std::string& principal) const {
  auto it = per_principal_.find(principal);
  return it == per_principal_.end() ? 0 : it->second;
}

void Continuations::EraseLocked(List::iterator it) {
  bytes_ -= it->reply.size_bytes();
  auto p = per_principal_.find(it->owner.principal);
  if (p != per_principal_.end() && --p->second == 0) per_principal_.erase(p);
  by_handle_.erase(it->handle);
  lru_.erase(it);
}

Result<uint64_t> Continuations::Park(const Owner& owner, protocol::Words reply) {
  const size_t size = reply.size_bytes();
  if (size > limits_.max_bytes) {
    return ResourceExhausted("the result is " + std::to_string(size) +
                             " bytes, more than the server parks for a reader (" +
                             std::to_string(limits_.max_bytes) +
                             "); lower the fetch budget's max_bytes or raise max_continuation_bytes");
  }
  MutexLock lock(&mu_);
  // The owner's oldest first: a principal that leaves results unread only
  // crowds out its own.
  for (auto it = lru_.begin();
       it != lru_.end() && CountOfLocked(owner.principal) >= limits_.max_per_principal;) {
    auto next = std::next(it);
    if (it->owner.principal == owner.principal) {
      EraseLocked(it);
      ++evicted_;
    }
    it = next;
  }
  while (!lru_.empty() && (lru_.size() >= limits_.max_total || bytes_ + size > limits_.max_bytes)) {
    EraseLocked(lru_.begin());
    ++evicted_;
  }
  uint64_t handle;
  do {
    handle = RandomHandle();
  } while (by_handle_.count(handle));
  lru_.push_back(Entry{handle, owner, std::move(reply), Clock::now()});
  by_handle_[handle] = std::prev(lru_.end());
  ++per_principal_[owner.principal];
  bytes_ += size;
  return handle;
}

Status Continuations::Read(
    const std::string& principal, uint64_t handle, uint64_t offset, size_t max_chunk,
    const std::function<void(std::span<const uint8_t>, uint64_t)>& emit) {
  MutexLock lock(&mu_);
  auto found = by_handle_.find(handle);
  if (found == by_handle_.end() || found->second->owner.principal != principal) {
    return NotFound("result continuation " + std::to_string(handle) +
                    " is unknown: it was read to the end, expired (idle more than " +
                    std::to_string(limits_.idle.count()) +
                    " ms), was evicted for newer results, or its connection closed; run the "
                    "request again");
  }
  auto it = found->second;
  auto bytes = it->reply.bytes();
  if (offset >= bytes.size()) {
    return InvalidArgument("continuation offset " + std::to_string(offset) +
                           " is past the result's " + std::to_string(bytes.size()) + " bytes");
  }
  size_t n = std::min<size_t>(bytes.size() - offset, max_chunk);
  emit(bytes.subspan(offset, n), bytes.size());
  if (offset + n == bytes.size()) {
    EraseLocked(it);
  } else {
    it->last_used = Clock::now();
    lru_.splice(lru_.end(), lru_, it);  // most recently used last
  }
  return Status::Ok();
}

void Continuations::DropPipe(uint32_t pipe) {
  MutexLock lock(&mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->owner.pipe == pipe) EraseLocked(it);
    it = next;
  }
}

void Continuations::Expire(Clock::time_point now) {
  MutexLock lock(&mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (now - it->last_used > limits_.idle) EraseLocked(it);
    it = next;
  }
}

size_t Continuations::count() const {
  MutexLock lock(&mu_);
  return lru_.size();
}
size_t Continuations::bytes() const {
  MutexLock lock(&mu_);
  return bytes_;
}
uint64_t Continuations::evicted() const {
  MutexLock lock(&mu_);
  return evicted_;
}

// ---- Uploads ----

void Uploads::EraseLocked(std::map<Key, Entry>::iterator it) {
  size_t size = it->second.total;
  bytes_ -= size;
  auto p = per_principal_.find(it->first.principal);
  if (p != per_principal_.end()) {
    p->second -= size;
    if (p->second == 0) per_principal_.erase(p);
  }
  uploads_.erase(it);
}

Result<std::optional<protocol::Words>> Uploads::Add(const Owner& owner, uint64_t client,
                                                    uint64_t handle, uint64_t offset,
                                                    uint64_t total, std::span<const uint8_t> data) {
  if (total > limits_.max_request_bytes) {
    return ResourceExhausted("a request of " + std::to_string(total) +
                             " bytes exceeds the server's max_request_bytes (" +
                             std::to_string(limits_.max_request_bytes) + ")");
  }
  if (total == 0 || total % sizeof(uint64_t) != 0) {
    return InvalidArgument("an upload's total must be a positive whole number of 8-byte words, not " +
                           std::to_string(total));
  }
  if (offset > total || data.size() > total - offset) {
    return InvalidArgument("upload piece [" + std::to_string(offset) + ", +" +
                           std::to_string(data.size()) + ") is outside its " +
                           std::to_string(total) + " bytes");
  }
  MutexLock lock(&mu_);
  Key key{owner.principal, client, handle};
  auto it = uploads_.find(key);
  if (it == uploads_.end()) {
    if (offset != 0) {
      return NotFound("upload " + std::to_string(handle) +
                      " is unknown (it expired, its connection closed or the server restarted); "
                      "send the request again");
    }
    size_t mine = 0;
    if (auto p = per_principal_.find(owner.principal); p != per_principal_.end()) mine = p->second;
    if (mine + total > limits_.max_request_bytes || bytes_ + total > limits_.max_bytes) {
      return ResourceExhausted(
          "too many large requests are being uploaded at once (" + std::to_string(bytes_) +
          " bytes in progress); retry when they finish");
    }
    Entry e{owner, protocol::Words(total / sizeof(uint64_t)), total, 0, Clock::now()};
    it = uploads_.emplace(key, std::move(e)).first;
    per_principal_[owner.principal] += total;
    bytes_ += total;
  }
  Entry& e = it->second;
  if (e.total != total) {
    return InvalidArgument("upload " + std::to_string(handle) + " changed its total size");
  }
  if (offset + data.size() <= e.received) {
    // A resent piece (nng resends after a lost pipe): already held.
  } else if (offset != e.received) {
    return InvalidArgument("upload piece at " + std::to_string(offset) + " is out of order (" +
                           std::to_string(e.received) + " bytes received)");
  } else {
    std::memcpy(e.words.byte_data() + offset, data.data(), data.size());
    e.received += data.size();
  }
  e.last_used = Clock::now();
  e.owner.pipe = owner.pipe;
  if (e.received < total) return std::optional<protocol::Words>();
  protocol::Words whole = std::move(e.words);
  EraseLocked(it);
  return std::optional<protocol::Words>(std::move(whole));
}

void Uploads::DropPipe(uint32_t pipe) {
  MutexLock lock(&mu_);
  for (auto it = uploads_.begin(); it != uploads_.end();) {
    auto next = std::next(it);
    if (it->second.owner.pipe == pipe) EraseLocked(it);
    it = next;
  }
}

void Uploads::Expire(Clock::time_point now) {
  MutexLock lock(&mu_);
  for (auto it = uploads_.begin(); it != uploads_.end();) {
    auto next = std::next(it);
    if (now - it->second.last_used > limits_.idle) EraseLocked(it);
    it = next;
  }
}

size_t Uploads::count() const {
  MutexLock lock(&mu_);
  return uploads_.size();
}
size_t Uploads::bytes() const {
  MutexLock lock(&mu_);
  return bytes_;
}

}  // namespace ormdb::server
