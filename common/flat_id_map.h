// FlatIdMap: a hash map from (space, id) to a small value, for the per-fetch
// maps of the executor (rows read, result rows by id), where
// std::unordered_map spent its time allocating a node per entry and chasing
// bucket chains. Open addressing with linear probing in one array, Fibonacci
// hashing, at most half full (growing 4x at a time: a fetch that reads many
// rows rehashes few times; Reserve sizes it exactly); no erase. An empty map
// allocates nothing, and the first table is small (kMinCapacity slots): most
// fetches keep a few rows per map.
//
// A pointer returned by Find or Emplace is valid until the next Emplace.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace ormdb {

template <typename V>
class FlatIdMap {
 public:
  // The value of (space, id), or nullptr when absent.
  V* Find(uint32_t space, uint64_t id) {
    if (slots_.empty()) return nullptr;
    for (size_t i = Home(space, id);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.id == id && s.space == space) return &s.value;
    }
  }
  const V* Find(uint32_t space, uint64_t id) const {
    return const_cast<FlatIdMap*>(this)->Find(space, id);
  }
  bool contains(uint32_t space, uint64_t id) const { return Find(space, id) != nullptr; }

  // Inserts (space, id) -> value unless the key is present; returns the
  // key's value and whether it was inserted.
  std::pair<V*, bool> Emplace(uint32_t space, uint64_t id, V value) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    for (size_t i = Home(space, id);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.used) {
        s = Slot{id, space, true, std::move(value)};
        ++size_;
        return {&s.value, true};
      }
      if (s.id == id && s.space == space) return {&s.value, false};
    }
  }

  // Makes room for `n` entries in all without growing again.
  void Reserve(size_t n) {
    if (n * 2 <= slots_.size()) return;
    size_t capacity = std::max(slots_.size(), kMinCapacity);
    while (n * 2 > capacity) capacity *= 2;
    Rehash(capacity);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  static constexpr size_t kMinCapacity = 16;

  struct Slot {
    uint64_t id = 0;
    uint32_t space = 0;
    bool used = false;
    V value{};
  };

  size_t Home(uint32_t space, uint64_t id) const {
    uint64_t h = (id ^ (static_cast<uint64_t>(space) << 40)) * 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(h >> shift_);
  }

  void Grow() { Rehash(slots_.empty() ? kMinCapacity : slots_.size() * 4); }

  void Rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    shift_ = 64 - __builtin_ctzll(capacity);
    size_ = 0;
    for (Slot& s : old) {
      if (s.used) Emplace(s.space, s.id, std::move(s.value));
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
  int shift_ = 64;
};

}  // namespace ormdb
