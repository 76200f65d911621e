// The on-disk key layouts of the storage engine (see docs/STORAGE.md).
//
// All integers are big-endian so that LMDB's memcmp order is numeric order.
// Versions inside keys are stored inverted (~v) so that, for one row, index
// entry or edge, the newest version comes first.
//
//   rows, indexes, edges: see KeyLayout (fixed widths in formats 1 and 2,
//              compact integers in format 3)
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

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/ids.h"
#include "storage/key_encoding.h"

namespace ormdb::storage {

// LMDB's default maximum key size.
inline constexpr size_t kMaxKeySize = 511;
// Index values longer than this are truncated and followed by a hash (see
// IndexValuePart); callers must recheck such entries against the row. The
// fixed layout (formats 1 and 2) leaves 482 bytes; the compact one (format 3)
// 478, since its id and version may take 19 bytes in the worst case
// (KeyLayout::max_index_value_bytes).
inline constexpr size_t kMaxIndexValueBytes = kMaxKeySize - 4 - 16 - 1 - 8;
inline constexpr size_t kMaxCompactIndexValueBytes = kMaxKeySize - 5 - 19 - 1 - 8;

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

// The value part of an index key: the encoded values, or for values longer
// than `max_bytes` (the layout's max_index_value_bytes), their first
// `max_bytes` bytes, a 0xFF marker and a 64-bit hash of the whole. Equal values
// always give equal keys; unequal long values sharing a prefix give different
// keys except on a hash collision, so equality matches of truncated entries
// must be rechecked.
std::string IndexValuePart(std::string_view encoded_values, bool* truncated, size_t max_bytes);

// Compact unsigned integers (format 3): a length byte n (0 to 8), then the
// n low-order bytes of the value, big-endian, n as small as the value allows
// (0 for zero). Order-preserving (a longer encoding is a larger value) and
// prefix-free; descending, every byte is inverted.
inline size_t CompactU64Size(uint64_t v) {
  return 1 + (v == 0 ? 0 : (64 - static_cast<size_t>(std::countl_zero(v)) + 7) / 8);
}
// Writes the encoding at `out` (room for 9 bytes); returns its size.
inline size_t WriteCompactU64(char* out, uint64_t v, bool descending = false) {
  size_t n = CompactU64Size(v) - 1;
  const unsigned char flip = descending ? 0xFF : 0x00;
  out[0] = static_cast<char>(static_cast<unsigned char>(n) ^ flip);
  for (size_t i = 0; i < n; ++i) {
    out[1 + i] = static_cast<char>(static_cast<unsigned char>(v >> (8 * (n - 1 - i))) ^ flip);
  }
  return n + 1;
}
inline void AppendCompactU64(std::string* out, uint64_t v, bool descending = false) {
  char buf[9];
  out->append(buf, WriteCompactU64(buf, v, descending));
}
// Reads one encoding from [p, p + avail); returns its size, or 0 when it is
// malformed (a length above 8, fewer bytes than it says, or not the shortest).
[[gnu::always_inline]] inline size_t ReadCompactU64(const char* p, size_t avail, uint64_t* v,
                                                    bool descending = false) {
  if (avail == 0) return 0;
  size_t n = static_cast<unsigned char>(p[0]) ^ (descending ? 0xFF : 0x00);
  if (n > 8 || avail < n + 1) return 0;
  if (n == 0) {
    *v = 0;
    return 1;
  }
  uint64_t x = 0;
  const char* b = p + 1;
  switch (n) {  // the common lengths as single loads
    case 1:
      x = static_cast<unsigned char>(b[0]);
      break;
    case 2: {
      uint16_t w;
      std::memcpy(&w, b, 2);
      x = __builtin_bswap16(w);
      break;
    }
    case 4: {
      uint32_t w;
      std::memcpy(&w, b, 4);
      x = __builtin_bswap32(w);
      break;
    }
    case 8:
      x = GetU64BE(b);
      break;
    default:
      for (size_t i = 0; i < n; ++i) x = (x << 8) | static_cast<unsigned char>(b[i]);
  }
  if (descending) x = ~x & (~uint64_t{0} >> (64 - 8 * n));
  if ((x >> (8 * (n - 1))) == 0) return 0;
  *v = x;
  return n + 1;
}

// A row key taken apart.
struct RowKeyParts {
  uint32_t type = 0;
  RowId id = 0;
  Version version = 0;
  size_t row_prefix = 0;  // bytes of [type][id]: equal for every version of the row
};

// An index entry's key taken apart.
struct IndexKeyParts {
  uint32_t index = 0;
  std::string_view value_part;  // points into the key
  RowId id = 0;
  Version begin = 0;
};

// An edge key taken apart.
struct EdgeKeyParts {
  uint32_t relation = 0;
  EdgeDirection dir = EdgeDirection::kForward;
  RowId from = 0, to = 0;
  Version begin = 0;
};

// The key layouts of a data file's format (docs/STORAGE.md):
//
// fixed (formats 1 and 2), integers big-endian at fixed widths:
//   rows:     [type u32][id u64][~version u64]                 -> tag + row | tombstone
//   indexes:  [index u32][value part][id u64][~begin u64]      -> end u64
//   edges:    [relation u32][dir u8][from u64][to u64][~begin u64] -> end u64
// compact (format 3), every integer in as few bytes as it needs (CompactU64;
// versions descending, so a thing's newest version still comes first):
//   rows:     [type][id][~version]                             -> tag + row | tombstone
//   indexes:  [index][value part][id][~begin][n]               -> end u64, or empty while current
//   edges:    [relation][dir u8][from][to][~begin]             -> end u64, or empty while current
// where the index key's last byte n holds the byte counts of the id (high
// four bits) and of the version (low four), so the key is read from its end
// (the value part's length is not known without the index's types).
// Either way every component is prefix-free, so keys sort by type, id and
// newest version first (rows), by index, values, id and newest first
// (indexes), by relation, direction, from, to and newest first (edges).
class KeyLayout {
 public:
  explicit KeyLayout(uint32_t format) : compact_(format >= 3) {}
  size_t max_index_value_bytes() const {
    return compact_ ? kMaxCompactIndexValueBytes : kMaxIndexValueBytes;
  }

  // The key prefix naming a type, index or relation (the first component).
  void AppendOwner(std::string* out, uint32_t owner) const;
  std::string Owner(uint32_t owner) const {
    std::string k;
    AppendOwner(&k, owner);
    return k;
  }
  // Reads the owner at the start of `key`; returns its size (0: malformed).
  size_t ReadOwner(std::string_view key, uint32_t* owner) const;

  // Rows. WriteRowKey writes at `out` (room for kMaxRowKeySize) and returns
  // the size; *row_prefix receives the bytes of [type][id].
  static constexpr size_t kMaxRowKeySize = 23;
  size_t WriteRowKey(char* out, EntityTypeId type, RowId id, Version v, size_t* row_prefix) const;
  std::string RowKey(EntityTypeId type, RowId id, Version v) const {
    char buf[kMaxRowKeySize];
    size_t prefix = 0;
    return std::string(buf, WriteRowKey(buf, type, id, v, &prefix));
  }
  // [type][id]: the prefix of every version of one row.
  std::string RowPrefix(EntityTypeId type, RowId id) const;
  // False when `key` is not a well-formed row key. Inline: a scan asks it of
  // every key it steps on.
  [[gnu::always_inline]] bool ParseRowKey(std::string_view key, RowKeyParts* out) const {
    uint64_t type = 0;
    size_t n = 4;
    if (!compact_) {
      if (key.size() != 20) return false;
      type = GetU32BE(key.data());
    } else {
      n = ReadCompactU64(key.data(), key.size(), &type);
      if (n == 0 || type > UINT32_MAX) return false;
    }
    out->type = static_cast<uint32_t>(type);
    return ParseRowKeyAfterOwner(key, n, out);
  }

  // The same for a scan of one type's rows, which asks it of every key it
  // steps on: whether `key` is a well-formed row key whose first component
  // is `owner` (Owner(type), compared as bytes, not decoded).
  [[gnu::always_inline]] bool ParseRowKeyOf(std::string_view key, std::string_view owner,
                                            uint32_t type, RowKeyParts* out) const {
    const size_t n = owner.size();
    if (key.size() <= n || std::memcmp(key.data(), owner.data(), n) != 0) return false;
    out->type = type;
    return ParseRowKeyAfterOwner(key, n, out);
  }

  // Index entries.
  std::string IndexKey(IndexId index, std::string_view value_part, RowId id, Version begin) const;
  // [index][value part][id]: followed by the versions of one entry, newest first.
  std::string IndexEntryPrefix(IndexId index, std::string_view value_part, RowId id) const;
  bool ParseIndexKey(std::string_view key, IndexKeyParts* out) const;

  // Edges.
  std::string EdgePrefix(RelationId rel, EdgeDirection dir, RowId from) const;
  // [relation][dir][from][to]: followed by the versions of one pair.
  std::string EdgePairPrefix(RelationId rel, EdgeDirection dir, RowId from, RowId to) const;
  std::string EdgeKey(RelationId rel, EdgeDirection dir, RowId from, RowId to, Version begin) const;
  bool ParseEdgeKey(std::string_view key, EdgeKeyParts* out) const;

  // The value of an index entry or edge: its end version (kOpenEnd while
  // current; the compact layout stores that as an empty value).
  std::string EncodeEnd(Version end) const;
  // The end a value says; false when the value is malformed.
  bool ReadEnd(std::string_view value, Version* end) const {
    if (value.size() == 8) {
      *end = GetU64BE(value.data());
      return true;
    }
    if (value.empty() && compact_) {
      *end = kOpenEnd;
      return true;
    }
    return false;
  }

 private:
  // The [id][~version] of a row key after its owner's `n` bytes.
  [[gnu::always_inline]] bool ParseRowKeyAfterOwner(std::string_view key, size_t n,
                                                    RowKeyParts* out) const {
    if (!compact_) {
      if (key.size() != 20 || n != 4) return false;
      out->id = GetU64BE(key.data() + 4);
      out->version = ~GetU64BE(key.data() + 12);
      out->row_prefix = 12;
      return true;
    }
    size_t m = ReadCompactU64(key.data() + n, key.size() - n, &out->id);
    if (m == 0) return false;
    size_t r = ReadCompactU64(key.data() + n + m, key.size() - n - m, &out->version, true);
    out->row_prefix = n + m;
    return r != 0 && n + m + r == key.size();
  }

  bool compact_;
};

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
