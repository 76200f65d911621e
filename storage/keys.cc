#include "storage/keys.h"

#include <cstring>

namespace ormdb::storage {

std::string IndexValuePart(std::string_view encoded_values, bool* truncated, size_t max_bytes) {
  if (encoded_values.size() <= max_bytes) {
    if (truncated) *truncated = false;
    return std::string(encoded_values);
  }
  if (truncated) *truncated = true;
  // FNV-1a, 64 bit: stable across builds and platforms, which an on-disk key needs.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : encoded_values) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::string part(encoded_values.substr(0, max_bytes));
  part.push_back('\xff');
  PutU64BE(&part, h);
  return part;
}

void KeyLayout::AppendOwner(std::string* out, uint32_t owner) const {
  if (compact_) {
    AppendCompactU64(out, owner);
  } else {
    PutU32BE(out, owner);
  }
}

size_t KeyLayout::ReadOwner(std::string_view key, uint32_t* owner) const {
  if (!compact_) {
    if (key.size() < 4) return 0;
    *owner = GetU32BE(key.data());
    return 4;
  }
  uint64_t v = 0;
  size_t n = ReadCompactU64(key.data(), key.size(), &v);
  if (n == 0 || v > UINT32_MAX) return 0;
  *owner = static_cast<uint32_t>(v);
  return n;
}

size_t KeyLayout::WriteRowKey(char* out, EntityTypeId type, RowId id, Version v,
                              size_t* row_prefix) const {
  if (!compact_) {
    uint32_t type_be = __builtin_bswap32(type.value);
    uint64_t id_be = __builtin_bswap64(id), ver_be = __builtin_bswap64(~v);
    std::memcpy(out, &type_be, 4);
    std::memcpy(out + 4, &id_be, 8);
    std::memcpy(out + 12, &ver_be, 8);
    *row_prefix = 12;
    return 20;
  }
  size_t n = WriteCompactU64(out, type.value);
  n += WriteCompactU64(out + n, id);
  *row_prefix = n;
  return n + WriteCompactU64(out + n, v, /*descending=*/true);
}

std::string KeyLayout::RowPrefix(EntityTypeId type, RowId id) const {
  char buf[kMaxRowKeySize];
  size_t prefix = 0;
  WriteRowKey(buf, type, id, 0, &prefix);
  return std::string(buf, prefix);
}

std::string KeyLayout::IndexEntryPrefix(IndexId index, std::string_view value_part,
                                        RowId id) const {
  std::string k;
  k.reserve(5 + value_part.size() + 9);
  AppendOwner(&k, index.value);
  k.append(value_part);
  if (compact_) {
    AppendCompactU64(&k, id);
  } else {
    PutU64BE(&k, id);
  }
  return k;
}

std::string KeyLayout::IndexKey(IndexId index, std::string_view value_part, RowId id,
                                Version begin) const {
  std::string k = IndexEntryPrefix(index, value_part, id);
  if (!compact_) {
    PutU64BE(&k, ~begin);
    return k;
  }
  AppendCompactU64(&k, begin, /*descending=*/true);
  k.push_back(static_cast<char>(((CompactU64Size(id) - 1) << 4) | (CompactU64Size(begin) - 1)));
  return k;
}

bool KeyLayout::ParseIndexKey(std::string_view key, IndexKeyParts* out) const {
  size_t n = ReadOwner(key, &out->index);
  if (n == 0) return false;
  if (!compact_) {
    if (key.size() < n + 16) return false;
    out->value_part = key.substr(n, key.size() - n - 16);
    out->id = GetU64BE(key.data() + key.size() - 16);
    out->begin = ~GetU64BE(key.data() + key.size() - 8);
    return true;
  }
  if (key.size() < n + 3) return false;
  const unsigned char counts = static_cast<unsigned char>(key.back());
  const size_t id_size = 1 + (counts >> 4), ver_size = 1 + (counts & 15);
  if (key.size() < n + id_size + ver_size + 1) return false;
  const size_t ver_at = key.size() - 1 - ver_size, id_at = ver_at - id_size;
  if (ReadCompactU64(key.data() + id_at, id_size, &out->id) != id_size ||
      ReadCompactU64(key.data() + ver_at, ver_size, &out->begin, true) != ver_size) {
    return false;
  }
  out->value_part = key.substr(n, id_at - n);
  return true;
}

std::string KeyLayout::EdgePrefix(RelationId rel, EdgeDirection dir, RowId from) const {
  std::string k;
  k.reserve(29);
  AppendOwner(&k, rel.value);
  k.push_back(static_cast<char>(dir));
  if (compact_) {
    AppendCompactU64(&k, from);
  } else {
    PutU64BE(&k, from);
  }
  return k;
}

std::string KeyLayout::EdgePairPrefix(RelationId rel, EdgeDirection dir, RowId from,
                                      RowId to) const {
  std::string k = EdgePrefix(rel, dir, from);
  if (compact_) {
    AppendCompactU64(&k, to);
  } else {
    PutU64BE(&k, to);
  }
  return k;
}

std::string KeyLayout::EdgeKey(RelationId rel, EdgeDirection dir, RowId from, RowId to,
                               Version begin) const {
  std::string k = EdgePairPrefix(rel, dir, from, to);
  if (compact_) {
    AppendCompactU64(&k, begin, /*descending=*/true);
  } else {
    PutU64BE(&k, ~begin);
  }
  return k;
}

bool KeyLayout::ParseEdgeKey(std::string_view key, EdgeKeyParts* out) const {
  size_t n = ReadOwner(key, &out->relation);
  if (n == 0 || key.size() < n + 1) return false;
  uint8_t dir = static_cast<uint8_t>(key[n]);
  if (dir > 1) return false;
  out->dir = static_cast<EdgeDirection>(dir);
  ++n;
  if (!compact_) {
    if (key.size() != n + 24) return false;
    out->from = GetU64BE(key.data() + n);
    out->to = GetU64BE(key.data() + n + 8);
    out->begin = ~GetU64BE(key.data() + n + 16);
    return true;
  }
  size_t a = ReadCompactU64(key.data() + n, key.size() - n, &out->from);
  if (a == 0) return false;
  n += a;
  size_t b = ReadCompactU64(key.data() + n, key.size() - n, &out->to);
  if (b == 0) return false;
  n += b;
  size_t c = ReadCompactU64(key.data() + n, key.size() - n, &out->begin, true);
  return c != 0 && n + c == key.size();
}

std::string KeyLayout::EncodeEnd(Version end) const {
  std::string s;
  if (compact_ && end == kOpenEnd) return s;
  PutU64BE(&s, end);
  return s;
}

}  // namespace ormdb::storage
