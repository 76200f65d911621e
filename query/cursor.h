// Keyset cursors (DESIGN.md §4, §9; docs/QUERIES.md "Pagination").
//
// A cursor names a position in one ordered list of rows: the root rows of a
// fetch, or the children of one parent row under one include. It carries the
// snapshot version, the sort key and external id of the last row returned
// (or "before the first row"), and for an include the parent's row id. It is
// bound to a shape (the entity, the order and the include path, hashed) and
// to the database, and closed by a keyed checksum (SipHash-2-4 keyed by the
// database id): a cursor that does not verify, or that belongs to another
// shape, is INVALID_ARGUMENT.
//
// Wire form: base64url without padding of
//   u8 format (1) | u8 kind (1 root, 2 include) | u64 version | u64 shape
//   | u64 parent row id | u8 flags (1 = before the first row)
//   | key values and the id, each AppendKey-encoded (ascending)
//   | u64 checksum of everything before it
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "common/value.h"
#include "ormdb/status.h"

namespace ormdb::query {

// SipHash-2-4 of `data` under a 16-byte key (shorter keys are zero-padded).
uint64_t SipHash24(std::string_view key16, std::string_view data);

struct CursorPosition {
  bool root = true;
  Version version = 0;
  uint64_t shape = 0;
  RowId parent = 0;    // include cursors: the parent row
  bool start = false;  // before the first row (no key)
  // The sort key of the last row (one per order key) and its external id.
  std::vector<Value> key;
  Value id;
};

std::string EncodeCursor(std::string_view secret, const CursorPosition& pos);

// Decodes and verifies a cursor. `key_types` are the types of the order keys
// and `id_type` that of the id, as the shape defines them; `expect_root` and
// `shape` must match. INVALID_ARGUMENT "invalid cursor: ..." on any mismatch
// or altered byte.
Result<CursorPosition> DecodeCursor(std::string_view secret, std::string_view text,
                                    bool expect_root, uint64_t shape,
                                    const std::vector<ValueType>& key_types, ValueType id_type);

// The snapshot version of a cursor, after verifying its checksum; the
// caller decodes it with DecodeCursor once it knows the shape and key
// types, which may depend on the version (relational mode reads the schema
// of the cursor's snapshot). INVALID_ARGUMENT as DecodeCursor.
Result<Version> PeekCursorVersion(std::string_view secret, std::string_view text);

}  // namespace ormdb::query
