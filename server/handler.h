// Answers one decoded request on the engine: the protocol's operations
// mapped onto the ormdb::Database API, results and errors written into the
// reply. No transport here (server.cc owns nng), so it is tested directly.
#pragma once

#include <capnp/message.h>

#include "db/engine.h"
#include "protocol/ormdb.capnp.h"

namespace ormdb::server {

// What a request needs to be allowed.
enum class Access { kNone, kRead, kWrite, kAdmin };
Access RequiredAccess(wire::Request::Which which);

// Writes the answer to `request` (every kind but hello, more and upload,
// which the server answers itself) into `reply`; a watch blocks here for
// its long-poll, at most `max_watch_wait`. Reading a malformed request
// throws kj::Exception; the caller turns that into INVALID_ARGUMENT.
// `request_key`: the idempotency key a mutate or import records in its
// transaction (WriteOptions::request_key); empty for none.
void Handle(db::Engine& db, wire::Request::Reader request, wire::Reply::Builder reply,
            std::chrono::milliseconds max_watch_wait, std::string_view request_key = {});

// Sets reply to an error.
void SetError(wire::Reply::Builder reply, const Status& status);

}  // namespace ormdb::server
