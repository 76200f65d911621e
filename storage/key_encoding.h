// Order-preserving key encoding: values -> bytes whose memcmp order is the
// values' order, so LMDB's default key comparison sorts rows and index entries.
//
// Format of one encoded component (ascending; see AppendKey for descending):
//
//   null       0x02                                  (sorts after every non-null)
//   non-null   0x01 followed by the payload of its type:
//     bool       1 byte: 0x00 false, 0x01 true
//     int32      4 bytes big-endian, sign bit flipped (INT32_MIN -> 00 00 00 00)
//     int64,
//     timestamp  8 bytes big-endian, sign bit flipped
//     float64    8 bytes big-endian of the IEEE-754 bits, transformed so that
//                unsigned order is numeric order: negatives have all bits
//                inverted, non-negatives have the sign bit set. -0.0 is
//                normalized to +0.0 and every NaN to the canonical quiet NaN
//                0x7FF8000000000000, which then sorts after +inf.
//     uuid       16 raw bytes
//     string,
//     bytes,
//     json       the bytes with 0x00 escaped as 0x00 0xFF, then the terminator
//                0x00 0x01. The terminator sorts below every continuation
//                (any byte > 0x00, or an escaped 0x00), so a string sorts
//                before its extensions.
//
// Every component is self-delimiting and no encoding is a proper prefix of
// another of the same type (prefix-free). That is what makes two things work:
//   * composite keys are plain concatenations and still compare component by
//     component, and
//   * a descending component is the ascending encoding with every byte
//     inverted: for a prefix-free code the first differing byte always exists,
//     and inverting it reverses the order. (Null becomes 0xFD, non-null 0xFE:
//     nulls come first descending.)
//
// The encoding is canonical: DecodeKey rejects byte strings AppendKey never
// produces (a -0.0 or non-canonical NaN payload, a bool other than 0/1, a bad
// escape), so equal values always have equal keys.
//
// Thread-safety: all functions are pure and may be called concurrently.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/value.h"
#include "ormdb/status.h"

namespace ormdb::storage {

enum class SortOrder : uint8_t { kAsc = 0, kDesc = 1 };

// Fixed-width big-endian integers, used for ids and versions in keys
// (big-endian so that memcmp order is numeric order).
void PutU32BE(std::string* out, uint32_t v);
void PutU64BE(std::string* out, uint64_t v);
// REQUIRES: p points at 4 (resp. 8) readable bytes; no alignment needed.
// Inline: a scan reads one per row.
inline uint32_t GetU32BE(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return std::endian::native == std::endian::little ? __builtin_bswap32(v) : v;
}
inline uint64_t GetU64BE(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return std::endian::native == std::endian::little ? __builtin_bswap64(v) : v;
}

// Appends the order-preserving, self-delimiting encoding of v (format above).
// For two values a, b of the same ValueType (either may be null), memcmp order
// of their encodings equals CompareValues(a, b) for kAsc and is reversed for
// kDesc. Nulls sort last ascending, first descending.
void AppendKey(std::string* out, const Value& v, SortOrder order = SortOrder::kAsc);

// Decodes one value of `type` (or a null) from the front of *in and advances
// *in past it. On malformed or truncated input returns INTERNAL "corrupted
// key: ..." and leaves *in unchanged; never reads outside *in.
// A float64 NaN decodes as the canonical quiet NaN, and -0.0 was stored as +0.0.
Result<Value> DecodeKey(std::string_view* in, ValueType type, SortOrder order = SortOrder::kAsc);

// The total order the encoding implements (ascending). Returns <0, 0, >0.
// Null is greater than every non-null value. float64: -0.0 == +0.0, all NaNs
// are equal to each other and greater than +inf. string/bytes/json compare as
// unsigned bytes; uuid by its bytes; false < true.
// Meant for values of one type (or null); values of two different non-null
// types are ordered by ValueType number so the result is still a total order.
int CompareValues(const Value& a, const Value& b);

// The smallest string greater than every string that starts with prefix: the
// exclusive upper bound of a prefix scan. Returns "" if none exists (prefix is
// empty or all 0xFF), meaning "scan to the end".
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace ormdb::storage
