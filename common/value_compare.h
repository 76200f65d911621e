// How a predicate compares two values: query `where` (query/executor) and
// schema @check (catalog/check_expr) both ask here, so `price > 10` means
// the same in a fetch and in a constraint.
//
// Numbers (int32, int64, float64, timestamp as microseconds) compare by
// value across types, exactly (an int64 against a float64 does not round).
// A string against a timestamp or a uuid is read as one (RFC 3339, the
// canonical uuid form). Strings, bytes and JSON text compare as unsigned
// bytes; bools false < true; uuids by their bytes. A NaN is unordered with
// everything, so only != holds; values of unrelated types are incompatible
// and no comparison holds. (The total order of index keys and `order:`
// is another one: storage::CompareValues.)
#pragma once

#include <cstdint>

#include "common/value.h"

namespace ormdb {

enum class ValueOrder : uint8_t { kLess, kEqual, kGreater, kUnordered, kIncompatible };

// REQUIRES: neither value is null (a comparison with null is unknown; the
// caller decides that first).
ValueOrder CompareForPredicate(const Value& a, const Value& b);

// b <=> a from a <=> b.
ValueOrder Reverse(ValueOrder order);

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// Whether `a op b` holds when a <=> b is `order`.
bool Satisfies(ValueOrder order, CompareOp op);

}  // namespace ormdb
