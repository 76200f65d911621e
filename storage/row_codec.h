// Row codec: the compact encoding of one row version, stored as an LMDB value.
//
// LMDB values are only 2-byte aligned, so everything here is decoded with
// memcpy; no pointer into a row is ever cast to a wider type.
//
// Format (all integers little-endian; n = stored field count):
//
//   offset  size             field
//   0       4                schema version (u32) the row was written under
//   4       2                n (u16): fields stored, in schema field order
//   6       ceil(n/8)        null bitmap: bit (i % 8) of byte (i / 8) set when
//                            field i is null. Bits at i >= n must be zero.
//   ...     sum(fixed sizes) the non-null fixed-size fields, in field order,
//                            packed with no padding:
//                              bool 1 (0x00 or 0x01), int32 4,
//                              int64 / timestamp 8 (two's complement),
//                              float64 8 (IEEE-754 bits), uuid 16 (raw bytes)
//   ...     4 * m            for the m non-null variable fields (string,
//                            bytes, json) in field order: u32 END offset of
//                            each one's bytes, relative to the start of the
//                            variable data area. Non-decreasing; the last one
//                            equals the size of the data area.
//   ...     last end offset  the variable fields' bytes, concatenated.
//
// The row ends exactly there; trailing bytes are corruption. Null fields take
// no space beyond their bitmap bit. A field whose layout type is kNull can only
// hold null (its bit must be set).
//
// Schema evolution: the reader passes the layout of the row's schema version
// (see PeekRowSchemaVersion). A row may store fewer fields than that layout
// has (fields appended by a later schema); the missing ones read as null.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/value.h"
#include "ormdb/status.h"

namespace ormdb::storage {

// Upper bound on the fields of one row (n is stored as u16).
inline constexpr size_t kMaxRowFields = 0xFFFF;

// Encodes values[i] as field i of `layout`.
// Returns INVALID_ARGUMENT if values.size() != layout.size(), if there are more
// than kMaxRowFields fields, if a non-null value's type differs from its layout
// type (the message names the field index and both types), or if the variable
// data exceeds 4 GiB.
Result<std::string> EncodeRow(uint32_t schema_version, std::span<const ValueType> layout,
                              std::span<const Value> values);

// The schema version a row was written under, to choose the layout to parse
// it with. INTERNAL "corrupted row: ..." if the row is shorter than 4 bytes.
Result<uint32_t> PeekRowSchemaVersion(std::string_view row);
// The same for a row of at least 4 bytes (REQUIRES), read in place: for a
// scan's test of every row.
inline uint32_t RowSchemaVersion(std::string_view row) {
  const auto* p = reinterpret_cast<const unsigned char*>(row.data());
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// A validated, read-only view of an encoded row.
//
// Borrows both the row bytes and the layout: the view dies with them. When the
// bytes are in an LMDB page, that is the end of the read transaction; copy
// out (Get) anything that must outlive it.
// Thread-safety: const methods may be called concurrently.
class RowView {
 public:
  // Checks every bound and offset of `row` against `layout` before any field
  // is looked at; INTERNAL "corrupted row: ..." on any inconsistency,
  // including more stored fields than layout.size(). After success, no
  // accessor can read out of bounds.
  static Result<RowView> Parse(std::string_view row, std::span<const ValueType> layout);
  // Parse into an existing view, reusing its memory (for scans that parse
  // many rows). On error *view is left unusable.
  static Status ParseInto(std::string_view row, std::span<const ValueType> layout, RowView* view);
  RowView() = default;

  // One field of an encoded row, found without parsing the rest of the
  // field table: what a scan's quick test reads from every row it steps
  // over. Checks only the bounds it reads, so a row used further must
  // still be parsed in full (Parse).
  enum class Peek : uint8_t {
    kValue,    // *bytes holds the field's bytes
    kNull,     // null, or not stored (a field added by a later schema)
    kCorrupt,  // a bound it read is wrong: parse the row to get the error
  };
  // REQUIRES: i < layout.size().
  static Peek PeekField(std::string_view row, std::span<const ValueType> layout, size_t i,
                        std::string_view* bytes);
  // The value of field bytes PeekField found for a field of type `type`.
  static Value FieldValue(ValueType type, std::string_view bytes);
  // The same for an int32, int64 or timestamp field, read in place into an
  // int64 without building a Value; false for other types and for bytes of
  // the wrong width. Inline: a scan's quick test calls it for every row.
  static bool FieldInteger(ValueType type, std::string_view bytes, int64_t* out) {
    if (type == ValueType::kInt32 && bytes.size() == 4) {
      *out = static_cast<int32_t>(LoadLE<uint32_t>(bytes.data()));
      return true;
    }
    if ((type == ValueType::kInt64 || type == ValueType::kTimestamp) && bytes.size() == 8) {
      *out = static_cast<int64_t>(LoadLE<uint64_t>(bytes.data()));
      return true;
    }
    return false;
  }

  // PeekField of one field of rows of one layout, for a scan that tests it
  // on every row. In a row that stores every field of the layout with none
  // null (most rows; for a fixed-width field, none null up to it), the field
  // is at the same place in every row: a fixed-width field at a fixed
  // offset, a variable one between two entries of the offset table, which
  // is at a fixed offset too. Such a field is found there without walking
  // the layout; any other by PeekField.
  class FieldPeeker {
   public:
    FieldPeeker() = default;
    // REQUIRES: i < layout.size(); the layout outlives the peeker.
    FieldPeeker(std::span<const ValueType> layout, size_t i);
    // REQUIRES: made by the constructor above.
    Peek Find(std::string_view row, std::string_view* bytes) const {
      if (fast_ && row.size() >= min_size_ && LoadLE<uint16_t>(row.data() + 4) == layout_.size() &&
          (LoadLE<uint64_t>(row.data() + kHeaderBytes) & null_mask_) == 0) {
        if (size_ != 0) {
          *bytes = std::string_view(row.data() + offset_, size_);
          return Peek::kValue;
        }
        // offset_ is the offset table's; the data area follows it.
        const char* table = row.data() + offset_;
        const size_t begin = var_before_ == 0 ? 0 : LoadLE<uint32_t>(table + 4 * (var_before_ - 1));
        const size_t end = LoadLE<uint32_t>(table + 4 * var_before_);
        const size_t data_pos = offset_ + 4 * var_count_;
        if (begin <= end && end <= row.size() - data_pos) {
          *bytes = std::string_view(row.data() + data_pos + begin, end - begin);
          return Peek::kValue;
        }
        return Peek::kCorrupt;
      }
      return PeekField(row, layout_, field_, bytes);
    }

   private:
    std::span<const ValueType> layout_;
    size_t field_ = 0;
    bool fast_ = false;       // the fast path applies (layouts of up to 64 fields)
    uint64_t null_mask_ = 0;  // the bitmap bits that must be clear
    size_t min_size_ = 0;     // bytes the fast path reads from a row
    size_t offset_ = 0;       // the field's, or the offset table's (variable)
    size_t size_ = 0;         // 0: a variable field
    size_t var_before_ = 0, var_count_ = 0;
  };

  // A little-endian integer at p (any alignment): one load on a
  // little-endian machine.
  template <typename T>
  static T LoadLE(const char* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::big) {
      T r = 0;
      for (size_t i = 0; i < sizeof v; ++i) {
        r = static_cast<T>(r | (T{static_cast<uint8_t>(p[i])} << (8 * i)));
      }
      return r;
    }
    return v;
  }
  static constexpr size_t kHeaderBytes = 6;  // u32 schema version + u16 field count

  uint32_t schema_version() const { return schema_version_; }
  // Fields actually stored; may be less than layout size.
  size_t stored_field_count() const { return field_ranges_.size(); }
  size_t layout_field_count() const { return layout_.size(); }

  // REQUIRES: i < layout_field_count(). Fields not stored read as null.
  bool IsNull(size_t i) const;
  // The value of field i, copied out (null when IsNull(i)).
  // REQUIRES: i < layout_field_count().
  Value Get(size_t i) const;
  // The bytes of a string/bytes/json field, borrowed from the row (dies with
  // it); empty when the field is null.
  // REQUIRES: i < layout_field_count() and layout[i] is string, bytes or json.
  std::string_view GetStringView(size_t i) const;

 private:
  // [begin, end) of a field's bytes within the row; begin == end == 0 for null.
  struct FieldRange {
    uint32_t begin = 0;
    uint32_t end = 0;
    bool is_null = true;
  };

  RowView(std::string_view row, std::span<const ValueType> layout, uint32_t schema_version,
          std::vector<FieldRange> field_ranges)
      : row_(row),
        layout_(layout),
        schema_version_(schema_version),
        field_ranges_(std::move(field_ranges)) {}

  std::string_view row_;
  std::span<const ValueType> layout_;
  uint32_t schema_version_ = 0;
  std::vector<FieldRange> field_ranges_;  // one per stored field
};

// Parses and copies out every field of `layout` (missing ones as null).
// Errors as RowView::Parse.
Result<std::vector<Value>> DecodeRow(std::string_view row, std::span<const ValueType> layout);

}  // namespace ormdb::storage
