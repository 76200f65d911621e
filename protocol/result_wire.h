// Graph-fetch results onto the wire: the engine's result blocks copied
// column by column into the reply message as it is built (no JSON, no
// intermediate buffer). The client reads them in place (protocol/wire_result).
#pragma once

#include "ormdb/fetch_options.h"
#include "protocol/ormdb.capnp.h"
#include "query/result_blocks.h"

namespace ormdb::protocol {

void BuildResultBlocks(const query::ResultBlocks& blocks, wire::ResultBlocks::Builder out);

// Fetch options to and from the wire (client and server).
void FetchOptionsToWire(const FetchOptions& o, wire::FetchOptions::Builder w);
FetchOptions FetchOptionsFromWire(wire::FetchOptions::Reader w);

}  // namespace ormdb::protocol
