// Bytes on the wire without the transport's or the serializer's types:
// Message owns one frame as the transport carries it; Words owns an
// 8-aligned flat message (a reply parked for chunks, an upload being
// assembled). The server and the remote client hold these; only protocol/
// looks inside.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "ormdb/status.h"

typedef struct nng_msg nng_msg;

namespace ormdb::protocol {

constexpr uint8_t kMagic0 = 'O';
constexpr uint8_t kMagic1 = 'R';
// The major version in every frame header. Minor evolution (appended
// fields) needs no bump; see protocol/ormdb.capnp.
constexpr uint8_t kProtocolVersion = 1;
constexpr size_t kHeaderBytes = 4;

// Frames received, and of them those copied to be 8-aligned.
struct FrameCounters {
  std::atomic<uint64_t> frames{0};
  std::atomic<uint64_t> unaligned_copies{0};
};

// One frame (header + message), owned. Move-only; empty when default-built.
class Message {
 public:
  Message() = default;
  // Takes ownership of an nng message (protocol/ internal).
  explicit Message(nng_msg* msg) : msg_(msg) {}
  Message(Message&& o) noexcept : msg_(o.msg_) { o.msg_ = nullptr; }
  Message& operator=(Message&& o) noexcept;
  ~Message();
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  // A new message holding a copy of `bytes`. RESOURCE_EXHAUSTED when no
  // memory is left.
  static Result<Message> Copy(std::span<const uint8_t> bytes);

  bool empty() const { return msg_ == nullptr; }
  std::span<const uint8_t> bytes() const;
  // Gives up ownership (protocol/ internal).
  nng_msg* release() {
    nng_msg* m = msg_;
    msg_ = nullptr;
    return m;
  }
  nng_msg* get() const { return msg_; }

 private:
  nng_msg* msg_ = nullptr;
};

// An 8-aligned buffer of whole 64-bit words, not zero-filled.
class Words {
 public:
  Words() = default;
  explicit Words(size_t count) : data_(new uint64_t[count]), count_(count) {}
  size_t count() const { return count_; }
  size_t size_bytes() const { return count_ * sizeof(uint64_t); }
  uint64_t* data() { return data_.get(); }
  const uint64_t* data() const { return data_.get(); }
  std::span<const uint8_t> bytes() const {
    return {reinterpret_cast<const uint8_t*>(data_.get()), size_bytes()};
  }
  uint8_t* byte_data() { return reinterpret_cast<uint8_t*>(data_.get()); }

 private:
  std::unique_ptr<uint64_t[]> data_;
  size_t count_ = 0;
};

}  // namespace ormdb::protocol
