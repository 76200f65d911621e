// The server's side of the wire on any bytes, as the server reads a
// request (server/server.cc): the frame decoded into a Request
// (protocol/codec.h: header, size, word alignment, segment table, every
// field of the request), then the request handler (server/handler.h
// Handle) on an embedded blog database, and the reply encoded as a frame.
//
// Writes (mutate, import, schema apply, vacuum) change the database; it is
// reopened fresh after a schema change and every kWritesPerDatabase
// versions, so inputs run against rows close to the seed.
#include <nng/nng.h>

#include <chrono>
#include <cstring>

#include "protocol/codec.h"
#include "protocol/frame.h"
#include "server/handler.h"
#include "tests/fuzz/fuzz_util.h"

namespace protocol = ormdb::protocol;

namespace {

// The server's default limit (ServerOptions::max_request_frame_bytes) is
// larger than any input; this keeps the same checks.
constexpr size_t kMaxRequestBytes = size_t{1} << 20;
constexpr uint64_t kWritesPerDatabase = 200;

// `data` as a received frame. `shift`: the body starts that many bytes
// after nng's own placement, to reach the unaligned-copy path.
protocol::Message Received(const uint8_t* data, size_t size, size_t shift) {
  nng_msg* msg = nullptr;
  if (nng_msg_alloc(&msg, size + shift) != 0) return protocol::Message();
  if (shift) nng_msg_trim(msg, shift);
  if (size) std::memcpy(nng_msg_body(msg), data, size);
  return protocol::Message(msg);
}

// What the server does with a decoded request: the kinds it answers itself
// (hello, more, upload, stats) are only read; the rest go through Handle,
// and the reply is encoded as a frame (or parked as words when large).
void Answer(ormdb::db::Engine& db, const protocol::Request& req, bool* schema_applied) {
  using protocol::RequestKind;
  if (req.kind == RequestKind::kHello || req.kind == RequestKind::kMore ||
      req.kind == RequestKind::kUpload || req.kind == RequestKind::kStats) {
    return;
  }
  protocol::ReplyWriter reply(req.id);
  ormdb::server::RequiredAccess(req.kind);
  ormdb::server::Handle(db, req, reply);
  if (req.kind == RequestKind::kSchemaApply && !reply.is_error()) *schema_applied = true;
  reply.FrameBytes();
  auto out = reply.ToFrame();
  FUZZ_CHECK(out.ok(), "encode the reply: " + out.status().ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static protocol::FrameCounters counters;
  static uint64_t base_version = 0;
  ormdb::db::Engine& db = ormdb::fuzz::BlogDatabase();
  if (base_version == 0) base_version = db.CurrentVersion();

  // The unaligned path: the frame copied into aligned memory first.
  if (auto shifted = Received(data, size, 1); !shifted.empty()) {
    (void)protocol::DecodeRequest(std::move(shifted), kMaxRequestBytes, &counters);
  }
  auto req = protocol::DecodeRequest(Received(data, size, 0), kMaxRequestBytes, &counters);
  if (!req.ok()) {
    FUZZ_CHECK(req.status().code() == ormdb::ErrorCode::kInvalidArgument,
               req.status().ToString());
    return 0;
  }
  bool schema_applied = false;
  Answer(db, *req, &schema_applied);
  if (schema_applied || db.CurrentVersion() > base_version + kWritesPerDatabase) {
    base_version = ormdb::fuzz::BlogDatabase(/*fresh=*/true).CurrentVersion();
  }
  return 0;
}
