// The on-disk key layouts of the storage engine (see docs/STORAGE.md).
//
// All integers are big-endian so that LMDB's memcmp order is numeric order.
// Versions inside keys are stored inverted (~v) so that, for one row, index
// entry or edge, the newest version comes first.
//
//   rows:      [type u32][id u64][~version u64]              -> tag + row | tombstone
//   indexes:   [index u32][encoded values][id u64][~begin u64] -> end u64
//   edges:     [relation u32][dir u8][from u64][to u64][~begin u64] -> end u64
//   changelog: [version u64]                                 -> encoded ChangeSet
//   requests:  [request key bytes, 1..400]                   -> [version u64] + outcome bytes
//   meta:      text keys ("format", "current_version", ...)  -> values
//              "row_count:" + [type u32]                    -> live rows u64
//
// The live row count of a type (rows whose newest version is not a
// tombstone) is kept in `meta` and changed in the write transaction that
// inserts or deletes, so it is exact after a crash. "row_counts" marks a
// data file whose counters are kept; one written before them is counted
// once when it is opened.
//
// A `requests` entry says "request K was committed as version V with this
// outcome" (exactly-once writes). It is written in the transaction of V,
// whose change log entry holds a request record with K, and it is vacuumed
// with that log entry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/ids.h"
#include "storage/key_encoding.h"

namespace ormdb::storage {

// LMDB's default maximum key size.
inline constexpr size_t kMaxKeySize = 511;
// Index values longer than this are truncated and followed by a hash (see
// IndexKey); callers must recheck such entries against the row.
inline constexpr size_t kMaxIndexValueBytes = kMaxKeySize - 4 - 16 - 1 - 8;

// The longest request key RecordRequest accepts (well under kMaxKeySize, so
// a caller may prefix keys with a principal or client id).
inline constexpr size_t kMaxRequestKeyBytes = 400;

// A live row value starts with kRowTag; a tombstone is the single byte kTombstoneTag.
inline constexpr char kTombstoneTag = 0;
inline constexpr char kRowTag = 1;

// End version of an index entry or edge that is still current.
inline constexpr Version kOpenEnd = kMaxVersion;

enum class EdgeDirection : uint8_t { kForward = 0, kBackward = 1 };

// Row types from this value up hold records the database derives from the
// rows (the per-parent records of @maintain collections): keyed and
// versioned like rows (so every snapshot reads them exactly) in a table of
// their own (`derived`, so they never sit among the rows and never change
// how the rows' pages fill), written with WriteTxn::PutDerived, never in the
// change log or the live row counts.
inline constexpr uint32_t kDerivedTypeBase = 0xF0000000u;
inline constexpr bool IsDerivedType(uint32_t type) { return type >= kDerivedTypeBase; }

inline std::string RowKey(EntityTypeId type, RowId id, Version v) {
  std::string k;
  k.reserve(20);
  PutU32BE(&k, type.value);
  PutU64BE(&k, id);
  PutU64BE(&k, ~v);
  return k;
}

// [type][id]: the prefix of every version of one row.
inline std::string RowPrefix(EntityTypeId type, RowId id) {
  std::string k;
  PutU32BE(&k, type.value);
  PutU64BE(&k, id);
  return k;
}

// The value part of an index key: the encoded values, or for values longer
// than kMaxIndexValueBytes, their first kMaxIndexValueBytes bytes, a 0xFF
// marker and a 64-bit hash of the whole. Equal values always give equal keys;
// unequal long values sharing a prefix give different keys except on a hash
// collision, so equality matches of truncated entries must be rechecked.
std::string IndexValuePart(std::string_view encoded_values, bool* truncated);

inline std::string IndexKey(IndexId index, std::string_view value_part, RowId id, Version begin) {
  std::string k;
  k.reserve(4 + value_part.size() + 16);
  PutU32BE(&k, index.value);
  k.append(value_part);
  PutU64BE(&k, id);
  PutU64BE(&k, ~begin);
  return k;
}

inline std::string EdgePrefix(RelationId rel, EdgeDirection dir, RowId from) {
  std::string k;
  k.reserve(29);
  PutU32BE(&k, rel.value);
  k.push_back(static_cast<char>(dir));
  PutU64BE(&k, from);
  return k;
}

inline std::string EdgeKey(RelationId rel, EdgeDirection dir, RowId from, RowId to, Version begin) {
  std::string k = EdgePrefix(rel, dir, from);
  PutU64BE(&k, to);
  PutU64BE(&k, ~begin);
  return k;
}

// The value of a `requests` entry: [version u64][outcome bytes].
inline std::string RequestValue(Version v, std::string_view outcome) {
  std::string value;
  value.reserve(8 + outcome.size());
  PutU64BE(&value, v);
  value.append(outcome);
  return value;
}

inline constexpr std::string_view kRowCountPrefix = "row_count:";
inline constexpr std::string_view kRowCountsMarker = "row_counts";

inline std::string RowCountKey(EntityTypeId type) {
  std::string k(kRowCountPrefix);
  PutU32BE(&k, type.value);
  return k;
}

inline std::string VersionKey(Version v) {
  std::string k;
  PutU64BE(&k, v);
  return k;
}

}  // namespace ormdb::storage
