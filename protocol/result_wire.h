// Graph-fetch results onto the wire: the engine's result blocks copied
// column by column into the reply message as it is built (no JSON, no
// intermediate buffer). The client reads them in place (protocol/wire_result).
#pragma once

#include "ormdb/fetch_options.h"
#include "ormdb/select.h"
#include "protocol/ormdb.capnp.h"
#include "query/result_blocks.h"
#include "query/select_result.h"

namespace ormdb::protocol {

void BuildResultBlocks(const query::ResultBlocks& blocks, wire::ResultBlocks::Builder out);

// A select's block, column by column.
void BuildSelectBlock(const query::SelectBlock& block, wire::SelectBlock::Builder out);

// Select options to and from the wire (client and server).
void SelectOptionsToWire(const SelectOptions& o, wire::SelectOptions::Builder w);
SelectOptions SelectOptionsFromWire(wire::SelectOptions::Reader w);

// Fetch options to and from the wire (client and server).
void FetchOptionsToWire(const FetchOptions& o, wire::FetchOptions::Builder w);
FetchOptions FetchOptionsFromWire(wire::FetchOptions::Reader w);

}  // namespace ormdb::protocol
