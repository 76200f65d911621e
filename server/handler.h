// Answers one decoded request on the engine: the protocol's operations
// mapped onto db::Engine, results and errors written into the reply. No
// transport and no wire format here (protocol/ owns both), so it is tested
// directly.
#pragma once

#include <string_view>

#include "db/engine.h"
#include "protocol/codec.h"

namespace ormdb::server {

// What a request needs to be allowed.
enum class Access { kNone, kRead, kWrite, kAdmin };
Access RequiredAccess(protocol::RequestKind kind);

// Writes the answer to `request` (every kind but hello, more, upload and
// stats, which the server answers itself) into `reply`. A watch here does
// not wait (its wait is the server's, see server.cc). `request_key`: the
// idempotency key a mutate or import records in its transaction
// (WriteOptions::request_key); empty for none.
void Handle(db::Engine& db, const protocol::Request& request, protocol::ReplyWriter& reply,
            std::string_view request_key = {});

}  // namespace ormdb::server
