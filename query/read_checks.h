// The read checks of a query's computed values (docs/reference/policies.md,
// "Reads"): a principal may not use in where, order, grouping or an
// aggregate a field it may not read on every row, nor order, group or
// aggregate through a to-one relation whose rows it may not all read (an
// unreadable target reads as null, so the result would be computed over
// masked values). Shared by the fetch compiler (query/compiler.cc) and the
// select compiler (query/select_compile.cc), so that both refuse the same
// mistake with the same message, which names the field and never a value.
//
// Thread-safety: pure functions over an immutable ReadPolicy.
#pragma once

#include <cstddef>
#include <string_view>

#include "catalog/compiled_schema.h"
#include "ormdb/status.h"
#include "query/ir.h"
#include "query/policy.h"

namespace ormdb::query {

// How the messages below name the uses refused: the fetch's, and relational
// mode's when the use is a group by.
inline constexpr std::string_view kFieldUses = "where, order or aggregates";
inline constexpr std::string_view kThroughUses = "order or be aggregated";
inline constexpr std::string_view kGroupFieldUses = "where, order, group by or aggregates";
inline constexpr std::string_view kGroupThroughUses = "group, order or be aggregated";

// OK when `policy` shows field `field` of `e` on every row;
// PERMISSION_DENIED "<pos>permission denied: E.f is not readable by this
// principal everywhere, so it cannot be used in <uses>" otherwise.
Status CheckFieldReadable(const ReadPolicy& policy, const catalog::EntityInfo& e, size_t field,
                          const QueryPos& pos, std::string_view uses = kFieldUses);

// OK when `policy` lets the principal read every row of `target`, an entity
// that path `path` (its text, for the message) reaches through a to-one
// relation; PERMISSION_DENIED "<pos>permission denied: <path> reads <target>
// rows this principal may not all read: it cannot <uses> through it"
// otherwise.
Status CheckThroughReadable(const ReadPolicy& policy, const catalog::EntityInfo& target,
                            std::string_view path, const QueryPos& pos,
                            std::string_view uses = kThroughUses);

}  // namespace ormdb::query
