// How plans show their estimates: a number a person reads at a glance, not
// a value to parse back. Shared by EXPLAIN (observability/explain.h) and the
// compiler's reasons for its choices (query/compiler_access.cc), so that a
// reason and the estimate beside it show a number the same way.
#pragma once

#include <string>

namespace ormdb::observability {

// Whole numbers and anything from 100 up without a fraction ("3", "1234");
// smaller fractions with two significant digits ("0.5", "2.5", "0.033");
// from 1e15 up with three significant digits ("1.23e+15"). Never longer
// than 31 characters. Thread-safe.
std::string FormatEstimate(double v);

// Microseconds as milliseconds with three decimals: "1.234 ms".
std::string FormatMillis(double micros);

}  // namespace ormdb::observability
