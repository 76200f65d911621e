// Strong identifier types: ids that must never mix get distinct types.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>

namespace ormdb {

template <typename Tag, typename Rep>
struct StrongId {
  Rep value{};
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : value(v) {}
  constexpr auto operator<=>(const StrongId&) const = default;
};

struct EntityTypeTag {};
struct IndexTag {};
struct RelationTag {};
struct FieldTag {};

// An entity type (a kind of row): rows of one type share a key prefix.
using EntityTypeId = StrongId<EntityTypeTag, uint32_t>;
// A secondary index.
using IndexId = StrongId<IndexTag, uint32_t>;
// A many-to-many relation in the edge store.
using RelationId = StrongId<RelationTag, uint32_t>;
// A field of an entity, stable across schema versions.
using FieldId = StrongId<FieldTag, uint32_t>;

// A row's id within its entity type (assigned by the database or given).
using RowId = uint64_t;

// A commit version: strictly increasing, gap-free, starting at 1 for the first
// commit. Version 0 is the empty database. It is the snapshot token, the
// change-stream resume token and the as-of coordinate.
using Version = uint64_t;
inline constexpr Version kMaxVersion = std::numeric_limits<Version>::max();

}  // namespace ormdb

template <typename Tag, typename Rep>
struct std::hash<ormdb::StrongId<Tag, Rep>> {
  size_t operator()(const ormdb::StrongId<Tag, Rep>& id) const noexcept {
    return std::hash<Rep>()(id.value);
  }
};
