// Answers one decoded request on the engine: the protocol's operations
// mapped onto db::Engine, results and errors written into the reply. No
// transport and no wire format here (protocol/ owns both), so it is tested
// directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "db/engine.h"
#include "protocol/codec.h"

namespace ormdb::server {

// What a request needs to be allowed.
enum class Access { kNone, kRead, kWrite, kAdmin };
Access RequiredAccess(protocol::RequestKind kind);

// What a request touched, for its audit line (audit/audit_log.h): filled
// only where it is cheap to know. Fetch: the entity types and fields of
// its result, rows = entities returned; select: rows; mutate: the entity
// types its operations name (a relation's owning entity), rows =
// operations; import: the entity, rows written; get and export: the
// entity, rows returned; watch: events. version: the version read or
// committed (0: not known here).
struct HandleInfo {
  std::vector<std::string> entities;
  std::vector<std::string> fields;
  uint64_t rows = 0;
  uint64_t version = 0;
};

// Writes the answer to `request` (every kind but hello, more, upload and
// stats, which the server answers itself) into `reply`. A watch here does
// not wait (its wait is the server's, see server.cc). `request_key`: the
// idempotency key a mutate or import records in its transaction
// (WriteOptions::request_key); empty for none. `info`, when not null, is
// filled for the audit log.
void Handle(db::Engine& db, const protocol::Request& request, protocol::ReplyWriter& reply,
            std::string_view request_key = {}, HandleInfo* info = nullptr);

// The audit fields of a fetch's result (HandleInfo above).
void DescribeFetch(const query::ResultBlocks& blocks, HandleInfo* info);

}  // namespace ormdb::server
