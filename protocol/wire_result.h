// The remote client's ormdb::FetchResult over a reply frame: the result
// blocks read in place from the received message (protocol/ormdb.capnp
// ResultBlocks), with no decoding step, so opening a result costs the same for 1 KB and 10 MB.
// ToJson / ToBlocksJson / ToTable render exactly what the embedded
// result renders (the fetch suite runs both ways and compares). The
// counterpart of protocol/result_wire, which writes the blocks; this header
// names no Cap'n Proto type, so the client sees none.
#pragma once

#include <memory>

#include "ormdb/fetch.h"
#include "ormdb/select.h"

namespace ormdb::protocol {

class Frame;

// `frame` holds a Reply whose union is `fetch`. Reading it does not throw:
// the frame came from the server this client trusts, and its structure was
// checked when the frame was opened.
std::unique_ptr<FetchResult> MakeWireResult(std::unique_ptr<Frame> frame);

// `frame` holds a Reply whose union is `select`: the columnar block read in
// place, the same way.
std::unique_ptr<SelectResult> MakeWireSelectResult(std::unique_ptr<Frame> frame);

}  // namespace ormdb::protocol
