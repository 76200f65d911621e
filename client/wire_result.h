// ormdb::FetchResult over a reply frame: the result blocks read in place
// from the received message (protocol/ormdb.capnp ResultBlocks), with no
// decoding step, so opening a result costs the same for 1 KB and 10 MB.
// ToJson / ToBlocksJson / ToTable render exactly what the embedded
// result renders (the fetch suite runs both ways and compares).
#pragma once

#include <memory>

#include "ormdb/fetch.h"
#include "protocol/frame.h"

namespace ormdb {

// `frame` holds a Reply whose union is `fetch`. Reading it does not throw:
// the frame came from the server this client trusts, and its structure was
// checked when the frame was opened.
std::unique_ptr<FetchResult> MakeWireResult(std::unique_ptr<protocol::Frame> frame);

}  // namespace ormdb
