#include "protocol/frame.h"

#include <kj/io.h>

#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <thread>

namespace ormdb::protocol {

Result<Message> EncodeFrame(capnp::MessageBuilder& message, size_t words) {
  if (words == 0) words = capnp::computeSerializedSizeInWords(message);
  nng_msg* msg = nullptr;
  if (int rv = nng_msg_alloc(&msg, kHeaderBytes + words * sizeof(capnp::word)); rv != 0) {
    return NngStatus(rv, "allocate a reply");
  }
  auto* body = static_cast<uint8_t*>(nng_msg_body(msg));
  body[0] = kMagic0;
  body[1] = kMagic1;
  body[2] = kProtocolVersion;
  body[3] = 0;
  kj::ArrayOutputStream out(kj::arrayPtr(body + kHeaderBytes, words * sizeof(capnp::word)));
  capnp::writeMessage(out, message);
  return Message(msg);
}

Frame::~Frame() { reader_.reset(); }

Result<std::unique_ptr<Frame>> Frame::Open(Message msg, size_t max_bytes, FrameCounters* counters,
                                           bool trusted) {
  std::unique_ptr<Frame> f(new Frame());
  f->msg_ = std::move(msg);
  size_t len = f->msg_.bytes().size();
  const uint8_t* body = f->msg_.bytes().data();
  f->size_bytes_ = len;
  if (len > max_bytes) {
    return InvalidArgument("frame of " + std::to_string(len) + " bytes exceeds the limit of " +
                           std::to_string(max_bytes));
  }
  if (len < kHeaderBytes || body[0] != kMagic0 || body[1] != kMagic1) {
    return InvalidArgument("not an ormdb frame (bad header)");
  }
  f->version_ = body[2];
  size_t payload = len - kHeaderBytes;
  if (payload == 0 || payload % sizeof(capnp::word) != 0) {
    return InvalidArgument("frame payload of " + std::to_string(payload) +
                           " bytes is not a whole number of 8-byte words");
  }
  if (counters) counters->frames.fetch_add(1, std::memory_order_relaxed);
  const uint8_t* data = body + kHeaderBytes;
  const size_t count = payload / sizeof(capnp::word);
  if (reinterpret_cast<uintptr_t>(data) % alignof(capnp::word) != 0) {
    if (counters) counters->unaligned_copies.fetch_add(1, std::memory_order_relaxed);
    f->copy_ = kj::heapArray<capnp::word>(count);
    std::memcpy(f->copy_.begin(), data, payload);
    const capnp::word* copy = f->copy_.begin();
    return Read(std::move(f), copy, count, trusted);
  }
  return Read(std::move(f), reinterpret_cast<const capnp::word*>(data), count, trusted);
}

Result<std::unique_ptr<Frame>> Frame::FromWords(Words words, bool trusted) {
  std::unique_ptr<Frame> f(new Frame());
  f->version_ = kProtocolVersion;
  f->size_bytes_ = words.size_bytes();
  f->words_ = std::move(words);
  const auto* begin = reinterpret_cast<const capnp::word*>(f->words_.data());
  size_t count = f->words_.count();
  return Read(std::move(f), begin, count, trusted);
}

Result<std::unique_ptr<Frame>> Frame::Read(std::unique_ptr<Frame> f, const capnp::word* words,
                                           size_t count, bool trusted) {
  capnp::ReaderOptions options;
  // Every word of the frame may be visited a few times (a text read twice);
  // a message that makes the reader visit more is an amplification attack.
  options.traversalLimitInWords = trusted ? kj::maxValue : count * 4 + 64;
  options.nestingLimit = kNestingLimit;
  try {
    // Validates the segment table against the array's size.
    f->reader_.emplace(kj::arrayPtr(words, count), options);
  } catch (const kj::Exception& e) {
    return InvalidArgument(std::string("malformed message: ") + e.getDescription().cStr());
  }
  return f;
}

bool CloseSocket(nng_socket sock, std::chrono::milliseconds timeout) {
  auto closed = std::make_shared<std::promise<void>>();
  std::future<void> done = closed->get_future();
  std::thread([sock, closed] {
    nng_close(sock);
    closed->set_value();
  }).detach();
  return done.wait_for(timeout) == std::future_status::ready;
}

Status NngStatus(int rv, std::string_view what) {
  std::string m = std::string(what) + ": " + nng_strerror(rv);
  switch (rv) {
    case NNG_ETIMEDOUT:
    case NNG_ECONNREFUSED:
    case NNG_ECLOSED:
    case NNG_ECONNRESET:
    case NNG_ECONNSHUT:
    case NNG_EADDRINUSE:
    case NNG_ESTATE:
      return Unavailable(std::move(m));
    case NNG_ENOMEM:
    case NNG_EMSGSIZE:
      return ResourceExhausted(std::move(m));
    case NNG_EADDRINVAL:
    case NNG_EINVAL:
    case NNG_ENOTSUP:
      return InvalidArgument(std::move(m));
    default:
      return Internal(std::move(m));
  }
}

}  // namespace ormdb::protocol
