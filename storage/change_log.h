// The change log: one ChangeSet per committed transaction, keyed by its
// version, written in the same LMDB transaction as the data it describes.
// It feeds change streams, replication and audit.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/ids.h"
#include "ormdb/status.h"

namespace ormdb::storage {

// A row written or deleted. before/after are row encodings (see row_codec.h);
// before is absent for an insert, after is absent for a delete.
struct RowDelta {
  EntityTypeId type;
  RowId id = 0;
  std::optional<std::string> before;
  std::optional<std::string> after;
  bool operator==(const RowDelta&) const = default;
};

// A many-to-many pair linked or unlinked (stored in the forward direction).
struct EdgeDelta {
  RelationId relation;
  RowId from = 0;
  RowId to = 0;
  bool linked = true;
  bool operator==(const EdgeDelta&) const = default;
};

// An opaque record an upper layer attaches to its transaction (for example
// "this transaction applied schema version 3").
struct Annotation {
  std::string data;
  bool operator==(const Annotation&) const = default;
};

// "This transaction is client request `key`" (exactly-once writes): written by
// WriteTxn::RecordRequest next to the `requests` table entry, so the log
// entry of a version names the request keys it answers. Not a user event.
struct RequestRecord {
  std::string key;
  bool operator==(const RequestRecord&) const = default;
};

using ChangeRecord = std::variant<RowDelta, EdgeDelta, Annotation, RequestRecord>;

struct ChangeSet {
  Version version = 0;
  int64_t commit_time_micros = 0;     // wall clock at commit, UTC
  std::vector<ChangeRecord> records;  // in the order they happened
  bool operator==(const ChangeSet&) const = default;
};

// Encodes everything but the version (which is the key). With
// images_by_reference, a row image that the rows table holds for as long as
// the entry exists is not copied but named: the before image of a row's first
// record in the set (the row as of version - 1) and the after image of its
// last (the row as of version). Images in between are copied.
std::string EncodeChangeSet(const ChangeSet& cs, bool images_by_reference = false);

// Reads the row `id` of `type` as of version `at` (the bytes of its newest
// version <= at), or nullopt when it is absent or deleted there.
using RowImageReader =
    std::function<Result<std::optional<std::string>>(EntityTypeId type, RowId id, Version at)>;

// INTERNAL "corrupted change log entry" on malformed bytes; never reads out
// of bounds. The bytes need no alignment. Images named by reference are read
// with `images`: INTERNAL when it is null or the row version is gone (vacuum
// removes a row version only with the log entries that name it).
Result<ChangeSet> DecodeChangeSet(Version version, std::string_view bytes,
                                  const RowImageReader* images = nullptr);
// The commit time alone, without decoding the records.
Result<int64_t> PeekCommitTime(std::string_view bytes);
// The keys of the entry's request records, in order, without copying row
// images (vacuum and Check need only these). INTERNAL on malformed bytes,
// like DecodeChangeSet.
Result<std::vector<std::string>> PeekRequestKeys(Version version, std::string_view bytes);

}  // namespace ormdb::storage
