// Field values in JSON: how a request's JSON becomes a stored Value (the
// coercion rules of mutations and imports) and how a Value renders back.
//
// Coercion never loses information silently:
//   bool       true / false only
//   int32/64   a JSON integer in range, or a number with no fraction; strings,
//              fractions and out-of-range numbers are refused
//   float64    any JSON number (an integer must be exactly representable)
//   string     a JSON string
//   bytes      a base64 string (RFC 4648, padded)
//   timestamp  an RFC 3339 / ISO-8601 string or integer microseconds (UTC)
//   uuid       a canonical 8-4-4-4-12 string
//   json       any JSON value, stored as its compact text
//   enum       a string naming one of the enum's values
// References are resolved by the caller (they need the database).
// Every refusal is CONSTRAINT_VIOLATION naming the field and the value
// (DESIGN.md §9: a type or range failure is a constraint failure).
#pragma once

#include <string>
#include <string_view>

#include "catalog/compiled_schema.h"
#include "common/json.h"
#include "common/value.h"
#include "ormdb/status.h"

namespace ormdb::query {

// REQUIRES: f.type != kRef. `entity` names the field in messages.
Result<Value> FieldValueFromJson(std::string_view entity, const catalog::FieldInfo& f,
                                 const Json& j);

// Parses a CSV cell (already unquoted) for field f: an unquoted empty cell
// is null, a quoted one the empty string (CONSTRAINT_VIOLATION for a field
// that is neither a string nor bytes); numbers, true/false, timestamps
// (ISO-8601 or integer microseconds), uuids, base64 bytes, JSON text for
// json fields, quoted or not; then the rules of FieldValueFromJson.
Result<Value> FieldValueFromText(std::string_view entity, const catalog::FieldInfo& f,
                                 std::string_view text, bool quoted);

// Renders a stored value (not a reference) as JSON.
Json ValueToJson(const Value& v);

std::string Base64Encode(std::string_view bytes);
// INVALID_ARGUMENT on a malformed string.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace ormdb::query
