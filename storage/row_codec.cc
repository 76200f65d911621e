#include "storage/row_codec.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <limits>
#include <type_traits>

namespace ormdb::storage {
namespace {

constexpr size_t kHeaderSize = RowView::kHeaderBytes;

// Bytes a non-null field of this type takes in the fixed area; 0 for variable
// fields (string/bytes/json) and for kNull.
size_t FixedSize(ValueType t) {
  switch (t) {
    case ValueType::kBool:
      return 1;
    case ValueType::kInt32:
      return 4;
    case ValueType::kInt64:
    case ValueType::kTimestamp:
    case ValueType::kFloat64:
      return 8;
    case ValueType::kUuid:
      return 16;
    case ValueType::kNull:
    case ValueType::kString:
    case ValueType::kBytes:
    case ValueType::kJson:
      return 0;
  }
  return 0;
}

bool IsVariable(ValueType t) {
  return t == ValueType::kString || t == ValueType::kBytes || t == ValueType::kJson;
}

bool IsKnownType(ValueType t) {
  return static_cast<uint8_t>(t) <= static_cast<uint8_t>(ValueType::kJson);
}

// The unsigned integer of W bytes.
template <size_t W>
using UintOf = std::conditional_t<W == 2, uint16_t, std::conditional_t<W == 4, uint32_t, uint64_t>>;

// Appends the low W bytes of v, least significant first.
template <size_t W>
void PutLE(std::string* out, uint64_t v) {
  static_assert(W == 2 || W == 4 || W == 8);
  char b[W];
  for (size_t i = 0; i < W; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, W);
}

// REQUIRES: p points at W readable bytes; any alignment.
template <size_t W>
uint64_t GetLE(const char* p) {
  static_assert(W == 2 || W == 4 || W == 8);
  return RowView::LoadLE<UintOf<W>>(p);
}

Status Corrupted(std::string what) { return Internal("corrupted row: " + std::move(what)); }

}  // namespace

Result<std::string> EncodeRow(uint32_t schema_version, std::span<const ValueType> layout,
                              std::span<const Value> values) {
  if (values.size() != layout.size()) {
    return InvalidArgument("encode row: " + std::to_string(values.size()) +
                           " values for a layout of " + std::to_string(layout.size()) + " fields");
  }
  if (layout.size() > kMaxRowFields) {
    return InvalidArgument("encode row: " + std::to_string(layout.size()) +
                           " fields, more than the limit of " + std::to_string(kMaxRowFields));
  }
  const size_t n = layout.size();
  size_t var_bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    const Value& v = values[i];
    if (v.is_null()) continue;
    if (v.type() != layout[i]) {
      return InvalidArgument("encode row: field " + std::to_string(i) + " has type " +
                             std::string(ValueTypeName(layout[i])) + " but the value is " +
                             std::string(ValueTypeName(v.type())));
    }
    if (IsVariable(layout[i])) var_bytes += v.as_string().size();
  }
  if (var_bytes > std::numeric_limits<uint32_t>::max()) {
    return InvalidArgument("encode row: variable-size fields total " + std::to_string(var_bytes) +
                           " bytes, more than 4 GiB");
  }

  std::string out;
  PutLE<4>(&out, schema_version);
  PutLE<2>(&out, n);
  std::string bitmap((n + 7) / 8, '\0');
  for (size_t i = 0; i < n; ++i) {
    if (values[i].is_null()) bitmap[i / 8] = static_cast<char>(bitmap[i / 8] | (1 << (i % 8)));
  }
  out += bitmap;

  // Fixed area.
  for (size_t i = 0; i < n; ++i) {
    const Value& v = values[i];
    if (v.is_null()) continue;
    switch (layout[i]) {
      case ValueType::kBool:
        out.push_back(v.as_bool() ? 1 : 0);
        break;
      case ValueType::kInt32:
        PutLE<4>(&out, static_cast<uint32_t>(v.as_int32()));
        break;
      case ValueType::kInt64:
      case ValueType::kTimestamp:
        PutLE<8>(&out, static_cast<uint64_t>(v.as_int64()));
        break;
      // Raw bits, not normalized: a row round-trips -0.0 and NaN payloads exactly.
      case ValueType::kFloat64:
        PutLE<8>(&out, std::bit_cast<uint64_t>(v.as_float64()));
        break;
      case ValueType::kUuid: {
        const auto& bytes = v.as_uuid().bytes;
        out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        break;
      }
      case ValueType::kNull:
      case ValueType::kString:
      case ValueType::kBytes:
      case ValueType::kJson:
        break;
    }
  }

  // Offset table, then the variable data.
  uint32_t end = 0;
  for (size_t i = 0; i < n; ++i) {
    if (values[i].is_null() || !IsVariable(layout[i])) continue;
    end += static_cast<uint32_t>(values[i].as_string().size());
    PutLE<4>(&out, end);
  }
  out.reserve(out.size() + var_bytes);
  for (size_t i = 0; i < n; ++i) {
    if (values[i].is_null() || !IsVariable(layout[i])) continue;
    out += values[i].as_string();
  }
  return out;
}

Result<uint32_t> PeekRowSchemaVersion(std::string_view row) {
  if (row.size() < 4)
    return Corrupted(std::to_string(row.size()) + " bytes, too short for a schema version");
  return RowSchemaVersion(row);
}

Result<RowView> RowView::Parse(std::string_view row, std::span<const ValueType> layout) {
  RowView view;
  ORMDB_RETURN_IF_ERROR(ParseInto(row, layout, &view));
  return view;
}

Status RowView::ParseInto(std::string_view row, std::span<const ValueType> layout, RowView* view) {
  if (row.size() > std::numeric_limits<uint32_t>::max()) {
    return Corrupted(std::to_string(row.size()) + " bytes, larger than 4 GiB");
  }
  if (row.size() < kHeaderSize) {
    return Corrupted(std::to_string(row.size()) + " bytes, too short for the header");
  }
  const auto schema_version = static_cast<uint32_t>(GetLE<4>(row.data()));
  const size_t n = GetLE<2>(row.data() + 4);
  if (n > layout.size()) {
    return Corrupted("stores " + std::to_string(n) + " fields but the layout of schema version " +
                     std::to_string(schema_version) + " has only " + std::to_string(layout.size()));
  }
  const size_t bitmap_size = (n + 7) / 8;
  if (row.size() - kHeaderSize < bitmap_size) return Corrupted("truncated null bitmap");
  const char* bitmap = row.data() + kHeaderSize;
  auto is_null_bit = [&](size_t i) { return (static_cast<uint8_t>(bitmap[i / 8]) >> (i % 8)) & 1; };
  if (n % 8 != 0 && (static_cast<uint8_t>(bitmap[bitmap_size - 1]) >> (n % 8)) != 0) {
    return Corrupted("null bitmap has bits set past the " + std::to_string(n) + " stored fields");
  }

  std::vector<FieldRange>& ranges = view->field_ranges_;
  ranges.assign(n, FieldRange{});
  size_t pos = kHeaderSize + bitmap_size;
  size_t var_count = 0;
  for (size_t i = 0; i < n; ++i) {
    const ValueType type = layout[i];
    if (!IsKnownType(type))
      return Corrupted("layout field " + std::to_string(i) + " has an unknown type");
    if (is_null_bit(i)) continue;
    if (type == ValueType::kNull)
      return Corrupted("field " + std::to_string(i) + " of type null is not null");
    if (IsVariable(type)) {
      ++var_count;
      continue;
    }
    const size_t size = FixedSize(type);
    if (row.size() - pos < size) return Corrupted("truncated at fixed field " + std::to_string(i));
    if (type == ValueType::kBool && static_cast<uint8_t>(row[pos]) > 1) {
      return Corrupted("bool field " + std::to_string(i) + " holds " +
                       std::to_string(static_cast<uint8_t>(row[pos])));
    }
    ranges[i] = {static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + size), false};
    pos += size;
  }

  if ((row.size() - pos) / 4 < var_count) return Corrupted("truncated offset table");
  const size_t table_pos = pos;
  const size_t data_pos = table_pos + 4 * var_count;
  const size_t data_size = row.size() - data_pos;
  size_t prev_end = 0;
  size_t var_index = 0;
  for (size_t i = 0; i < n; ++i) {
    if (is_null_bit(i) || !IsVariable(layout[i])) continue;
    const size_t end = GetLE<4>(row.data() + table_pos + 4 * var_index);
    ++var_index;
    if (end < prev_end || end > data_size) {
      return Corrupted("field " + std::to_string(i) + " ends at offset " + std::to_string(end) +
                       ", outside [" + std::to_string(prev_end) + ", " + std::to_string(data_size) +
                       "]");
    }
    ranges[i] = {static_cast<uint32_t>(data_pos + prev_end), static_cast<uint32_t>(data_pos + end),
                 false};
    prev_end = end;
  }
  if (prev_end != data_size) {
    return Corrupted(std::to_string(data_size - prev_end) + " trailing bytes after the last field");
  }
  view->row_ = row;
  view->layout_ = layout;
  view->schema_version_ = schema_version;
  return Status::Ok();
}

bool RowView::IsNull(size_t i) const {
  assert(i < layout_.size());
  return i >= field_ranges_.size() || field_ranges_[i].is_null;
}

Value RowView::Get(size_t i) const {
  if (IsNull(i)) return Value::Null();
  const FieldRange& r = field_ranges_[i];
  return FieldValue(layout_[i], row_.substr(r.begin, r.end - r.begin));
}

Value RowView::FieldValue(ValueType type, std::string_view bytes) {
  const char* p = bytes.data();
  switch (type) {
    case ValueType::kNull:
      return Value::Null();
    case ValueType::kBool:
      return Value::Bool(*p != 0);
    case ValueType::kInt32:
      return Value::Int32(static_cast<int32_t>(GetLE<4>(p)));
    case ValueType::kInt64:
      return Value::Int64(static_cast<int64_t>(GetLE<8>(p)));
    case ValueType::kTimestamp:
      return Value::Timestamp(static_cast<int64_t>(GetLE<8>(p)));
    case ValueType::kFloat64:
      return Value::Float64(std::bit_cast<double>(GetLE<8>(p)));
    case ValueType::kUuid: {
      Uuid u;
      std::memcpy(u.bytes.data(), p, u.bytes.size());
      return Value::MakeUuid(u);
    }
    case ValueType::kString:
      return Value::String(std::string(bytes));
    case ValueType::kBytes:
      return Value::Bytes(std::string(bytes));
    case ValueType::kJson:
      return Value::Json(std::string(bytes));
  }
  return Value::Null();  // unreachable: the layout's types are known
}

RowView::FieldPeeker::FieldPeeker(std::span<const ValueType> layout, size_t i)
    : layout_(layout), field_(i) {
  assert(i < layout.size());
  // The null bitmap is read as one 8-byte load right after the header.
  if (layout.size() > 64) return;
  const bool variable = IsVariable(layout[i]);
  // A fixed field: none null up to it; a variable one: none null at all
  // (the offset table's size depends on every variable field). A field of
  // type kNull (a dropped column) is always null and takes no space: its
  // bit is left out.
  const size_t bits = variable ? layout.size() : i + 1;
  for (size_t j = 0; j < bits; ++j) {
    if (layout[j] != ValueType::kNull) null_mask_ |= uint64_t{1} << j;
  }
  offset_ = kHeaderSize + (layout.size() + 7) / 8;
  for (size_t j = 0; j < layout.size(); ++j) {
    if (IsVariable(layout[j])) {
      var_before_ += j < i;
      ++var_count_;
    } else if (variable || j < i) {
      offset_ += FixedSize(layout[j]);
    }
  }
  size_ = variable ? 0 : FixedSize(layout[i]);
  if (!variable && size_ == 0) return;  // a kNull field: PeekField says null
  min_size_ = std::max(kHeaderSize + 8, variable ? offset_ + 4 * var_count_ : offset_ + size_);
  fast_ = true;
}

RowView::Peek RowView::PeekField(std::string_view row, std::span<const ValueType> layout, size_t i,
                                 std::string_view* bytes) {
  assert(i < layout.size());
  if (row.size() < kHeaderSize) return Peek::kCorrupt;
  const size_t n = GetLE<2>(row.data() + 4);
  if (n > layout.size()) return Peek::kCorrupt;
  if (i >= n) return Peek::kNull;
  const size_t bitmap_size = (n + 7) / 8;
  if (row.size() - kHeaderSize < bitmap_size) return Peek::kCorrupt;
  const auto* bitmap = reinterpret_cast<const uint8_t*>(row.data() + kHeaderSize);
  auto is_null_bit = [&](size_t j) { return (bitmap[j / 8] >> (j % 8)) & 1; };
  if (is_null_bit(i)) return Peek::kNull;
  const bool variable = IsVariable(layout[i]);
  // The fixed fields before i; for a variable field, every fixed field (the
  // offset table follows them) and the variable fields before and in all.
  size_t pos = kHeaderSize + bitmap_size;
  size_t var_before = 0, var_count = 0;
  const size_t last = variable ? n : i;
  for (size_t j = 0; j < last; ++j) {
    if (is_null_bit(j)) continue;
    const ValueType t = layout[j];
    if (IsVariable(t)) {
      var_before += j < i;
      ++var_count;
    } else {
      pos += FixedSize(t);
    }
  }
  if (pos > row.size()) return Peek::kCorrupt;
  if (!variable) {
    const size_t size = FixedSize(layout[i]);
    if (size == 0 || row.size() - pos < size) return Peek::kCorrupt;
    *bytes = row.substr(pos, size);
    return Peek::kValue;
  }
  if ((row.size() - pos) / 4 < var_count) return Peek::kCorrupt;
  const char* table = row.data() + pos;
  const size_t data_pos = pos + 4 * var_count;
  const size_t data_size = row.size() - data_pos;
  const size_t begin = var_before == 0 ? 0 : GetLE<4>(table + 4 * (var_before - 1));
  const size_t end = GetLE<4>(table + 4 * var_before);
  if (begin > end || end > data_size) return Peek::kCorrupt;
  *bytes = row.substr(data_pos + begin, end - begin);
  return Peek::kValue;
}

std::string_view RowView::GetStringView(size_t i) const {
  assert(i < layout_.size() && IsVariable(layout_[i]));
  if (IsNull(i)) return {};
  const FieldRange& r = field_ranges_[i];
  return row_.substr(r.begin, r.end - r.begin);
}

Result<std::vector<Value>> DecodeRow(std::string_view row, std::span<const ValueType> layout) {
  ORMDB_ASSIGN_OR_RETURN(RowView view, RowView::Parse(row, layout));
  std::vector<Value> values;
  values.reserve(layout.size());
  for (size_t i = 0; i < layout.size(); ++i) values.push_back(view.Get(i));
  return values;
}

}  // namespace ormdb::storage
