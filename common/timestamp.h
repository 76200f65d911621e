// Timestamps: the text form of a timestamp value (UTC microseconds since the
// Unix epoch, see ValueType::kTimestamp).
//
// The database stores and compares integers; people and JSON see RFC 3339.
// Parsing is strict (no silent truncation, no local times) because a
// timestamp that reads back differently from what was written is a data bug.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ormdb/status.h"

namespace ormdb {

// Parses an RFC 3339 timestamp or an ISO-8601 date into UTC microseconds:
//   2024-05-01T12:30:00Z
//   2024-05-01T12:30:00.25+02:00   (1 to 6 fractional digits; 't'/'z' also accepted)
//   2024-05-01                     (midnight UTC)
// A date-time needs 'Z' or a numeric offset (+hh:mm / -hh:mm): a local time
// without a zone means nothing to a database.
// Fields are range-checked: month 01..12, day within the month (leap years
// included), hour 00..23, minute 00..59, second 00..59 (no leap second), offset
// up to 23:59; years 0001..9999 both as written and after applying the offset.
// Errors: INVALID_ARGUMENT `invalid timestamp "<text>": <reason>`, among them
// more than 6 fractional digits (sub-microsecond precision would be lost).
Result<int64_t> ParseTimestamp(std::string_view text);

// Renders RFC 3339 in UTC with 'Z'. Fractional seconds appear only when
// non-zero, as exactly 3 digits when the value is whole milliseconds and as 6
// otherwise: 2024-05-01T12:30:00Z, 2024-05-01T12:30:00.250Z,
// 2024-05-01T12:30:00.000001Z. Any int64 is accepted; a time outside years
// 0001..9999 renders with a year of more digits or a '-' sign, which
// ParseTimestamp does not read back.
std::string FormatTimestamp(int64_t micros);

// The number of days from 1970-01-01 to the given proleptic Gregorian date
// (negative before it). REQUIRES: 1 <= month <= 12, 1 <= day <= 31.
int64_t DaysFromCivil(int64_t year, int month, int day);

}  // namespace ormdb
