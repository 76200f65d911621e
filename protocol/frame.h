// Framing of ormdb messages on nng (DESIGN.md §7, docs/PROTOCOL.md).
//
// A frame is a 4-byte header — 'O', 'R', the protocol major version, flags
// (0) — followed by one Cap'n Proto message in flat form. nng 1.5.2 places
// a received REQ/REP body at an address = 4 mod 8, so after the header the
// message is 8-aligned and is read in place; when it is not (another nng
// build, another transport), it is copied once into aligned memory and the
// copy is counted (FrameCounters::unaligned_copies).
//
// Untrusted input: a frame's size, header and segment table are checked
// before anything is read, and every reader gets explicit ReaderOptions
// (traversal limit sized to the frame, nesting limit). Cap'n Proto reports
// a malformed message by throwing kj::Exception on access; the server
// catches it at the request boundary (INVALID_ARGUMENT).
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <nng/nng.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "ormdb/status.h"
#include "protocol/message.h"

namespace ormdb::protocol {


// Nesting of the protocol's own structures is at most 4; 16 leaves room.
constexpr int kNestingLimit = 16;

// Serializes `message` behind a frame header into a new Message.
// RESOURCE_EXHAUSTED when it cannot be allocated.
// `words`: the message's serialized size when the caller already computed
// it (capnp::computeSerializedSizeInWords), so it is not walked twice.
Result<Message> EncodeFrame(capnp::MessageBuilder& message, size_t words = 0);

// A received frame, read in place. Owns the nng message (or the aligned
// copy). Move-only.
class Frame {
 public:
  // Checks the header, the size (a whole number of words, within
  // `max_bytes`) and the segment table; INVALID_ARGUMENT otherwise (the
  // message says what is wrong). Takes ownership of `msg` in every case.
  // `trusted` replies (the client reading its server) get no traversal
  // limit, so results can be walked any number of times.
  static Result<std::unique_ptr<Frame>> Open(Message msg, size_t max_bytes,
                                             FrameCounters* counters, bool trusted = false);
  // The same over a flat message already in memory, without frame header
  // (a reply reassembled from chunks, an upload).
  static Result<std::unique_ptr<Frame>> FromWords(Words words, bool trusted);
  ~Frame();
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;

  // The header's version byte (checked against kProtocolVersion by the
  // caller, which knows how to answer a mismatch).
  uint8_t version() const { return version_; }
  capnp::MessageReader& reader() { return *reader_; }
  size_t size_bytes() const { return size_bytes_; }

 private:
  Frame() = default;
  static Result<std::unique_ptr<Frame>> Read(std::unique_ptr<Frame> f, const capnp::word* words,
                                             size_t count, bool trusted);
  Message msg_;
  kj::Array<capnp::word> copy_;
  Words words_;
  std::optional<capnp::FlatArrayMessageReader> reader_;
  uint8_t version_ = 0;
  size_t size_bytes_ = 0;
};

// nng_close(sock), given at most `timeout`. nng 1.5.2's pipe reaper can
// wedge under connection churn (nng issues #1543, #1813), and then
// nng_close never returns; past the timeout the socket is left to a
// detached thread and false is returned (the caller must then keep alive
// whatever the socket's callbacks reference).
bool CloseSocket(nng_socket sock, std::chrono::milliseconds timeout);

// An nng error as a Status: ETIMEDOUT / ECONNREFUSED / ECLOSED ->
// UNAVAILABLE, ENOMEM / EMSGSIZE -> RESOURCE_EXHAUSTED, else INTERNAL.
Status NngStatus(int rv, std::string_view what);

}  // namespace ormdb::protocol
