// The server's side of the wire on any bytes, as ServerImpl::Process and
// Run read a request (server/server.cc): the frame (header, size, word
// alignment, segment table; protocol/frame.h), the request fields the
// server reads before dispatching (which, client, id, key), then the
// request handler (server/handler.h Handle) on an embedded blog database,
// and the reply encoded as a frame. Malformed Cap'n Proto throws
// kj::Exception on access, caught here as the server catches it.
//
// Writes (mutate, import, schema apply, vacuum) change the database; it is
// reopened fresh after a schema change and every kWritesPerDatabase
// versions, so inputs run against rows close to the seed.
#include <capnp/message.h>
#include <kj/exception.h>
#include <nng/nng.h>

#include <chrono>
#include <cstring>

#include "protocol/frame.h"
#include "protocol/ormdb.capnp.h"
#include "server/handler.h"
#include "tests/fuzz/fuzz_util.h"

namespace protocol = ormdb::protocol;
namespace wire = ormdb::wire;

namespace {

// The server's default limit (ServerOptions::max_request_bytes) is larger
// than any input; this keeps the same checks.
constexpr size_t kMaxRequestBytes = size_t{1} << 20;
constexpr uint64_t kWritesPerDatabase = 200;

std::string_view View(capnp::Text::Reader t) { return std::string_view(t.begin(), t.size()); }

// Opens `data` as a received frame. `shift`: the body starts that many
// bytes after nng's own placement, to reach the unaligned-copy path.
ormdb::Result<std::unique_ptr<protocol::Frame>> OpenFrame(const uint8_t* data, size_t size,
                                                          size_t shift,
                                                          protocol::FrameCounters* counters) {
  nng_msg* msg = nullptr;
  if (nng_msg_alloc(&msg, size + shift) != 0) return ormdb::Internal("nng_msg_alloc");
  if (shift) nng_msg_trim(msg, shift);
  if (size) std::memcpy(nng_msg_body(msg), data, size);
  return protocol::Frame::Open(msg, kMaxRequestBytes + protocol::kHeaderBytes, counters);
}

// What Process reads before dispatching; false when the request is
// malformed there (the server answers INVALID_ARGUMENT).
bool ReadHead(protocol::Frame& frame) {
  try {
    auto req = frame.reader().getRoot<wire::Request>();
    wire::Request::Which which = req.which();
    req.getClient();
    req.getId();
    View(req.getKey());
    ormdb::server::RequiredAccess(which);
    return true;
  } catch (const kj::Exception&) {
    return false;
  }
}

// What Run and Answer do with a request: the server's own kinds (hello,
// more, stats) read as Answer reads them, the rest through Handle.
void Answer(ormdb::Database& db, protocol::Frame& frame, bool* schema_applied) {
  capnp::MallocMessageBuilder b;
  try {
    auto req = frame.reader().getRoot<wire::Request>();
    auto reply = b.initRoot<wire::Reply>();
    reply.setId(req.getId());
    if (req.isHello()) {
      auto h = req.getHello();
      h.getMinVersion();
      h.getMaxVersion();
      View(h.getClientName());
      return;
    }
    if (req.isMore()) {
      req.getMore().getHandle();
      req.getMore().getOffset();
      return;
    }
    ormdb::server::Handle(db, req, reply, std::chrono::milliseconds(0));
    ormdb::Status status;
    if (reply.isError()) {
      status = ormdb::Status(static_cast<ormdb::ErrorCode>(reply.getError().getCode()),
                             std::string(View(reply.getError().getMessage())));
    }
    ormdb::fuzz::CheckNotInternal(status, "reply");
    if (reply.isMigration() && reply.getMigration().getApplied()) *schema_applied = true;
  } catch (const kj::Exception&) {
    // The server's INVALID_ARGUMENT "malformed request"; the reply so far
    // is dropped.
    return;
  }
  auto out = protocol::EncodeFrame(b);
  FUZZ_CHECK(out.ok(), "encode the reply: " + out.status().ToString());
  nng_msg_free(*out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static protocol::FrameCounters counters;
  static uint64_t base_version = 0;
  ormdb::Database& db = ormdb::fuzz::BlogDatabase();
  if (base_version == 0) base_version = db.CurrentVersion();

  // The unaligned path: the frame copied into aligned memory first.
  if (auto shifted = OpenFrame(data, size, 1, &counters); shifted.ok()) ReadHead(**shifted);

  auto frame = OpenFrame(data, size, 0, &counters);
  if (!frame.ok()) {
    FUZZ_CHECK(frame.status().code() == ormdb::ErrorCode::kInvalidArgument,
               frame.status().ToString());
    return 0;
  }
  if ((*frame)->version() != protocol::kProtocolVersion) return 0;
  if (!ReadHead(**frame)) return 0;
  bool schema_applied = false;
  Answer(db, **frame, &schema_applied);
  if (schema_applied || db.CurrentVersion() > base_version + kWritesPerDatabase) {
    base_version = ormdb::fuzz::BlogDatabase(/*fresh=*/true).CurrentVersion();
  }
  return 0;
}
