// The schema language (SDL, DESIGN.md §3): text -> resolved Schema.
//
//   schema      = { enum | entity }
//   enum        = "enum" Name "{" value { sep value } [sep] "}"
//   entity      = "entity" Name "{" member { sep member } [sep] "}"
//   member      = field | "@@index" "(" names ")" | "@@unique" "(" names ")"
//               | "@@check" "(" expr ")"
//   field       = name ":" type ["?"] { attribute }
//   type        = "id" | "uuid" | "bool" | "int32" | "int64" | "float64" | "string"
//               | "bytes" | "timestamp" | "json" | EnumName | EntityName | "[" EntityName "]"
//   attribute   = "@unique" | "@index" | "@default" "(" literal ")" | "@check" "(" expr ")"
//               | "@on_delete" "(" ("cascade" | "restrict" | "set_null") ")"
//               | "@inverse" "(" field ")" | "@many" "(" relation ")"
//   literal     = integer | float | string | "true" | "false" | "null" | "now" | "uuid"
//               | enum value
//   sep         = "," or a line break
//
// Words are keywords only where the grammar expects them, so a field may be
// called `status`, `entity` or `string`. Strings are double-quoted with JSON
// escapes. Comments are `// ...` and `/* ... */` (not nested). An `expr` is
// kept verbatim (trimmed): the text between the parentheses, which must be
// balanced outside "strings"; the catalog parses it. A field's name, ':' and
// type stand on one line; its attributes may continue on the next lines.
// Members need a comma or a line break between them.
//
// Resolution, after the whole text is parsed:
//   - `id: id` (an int64 the database assigns) or `id: uuid` is required in
//     every entity; it is not optional and takes no attributes.
//   - A type is a builtin, an enum (FieldType::kEnum) or an entity (kRef: a
//     many-to-one reference, default @on_delete(restrict)). `[Entity]` is a
//     Collection and needs exactly one of @inverse(f) (f: a reference field of
//     Entity pointing back here, with at most one inverse) or @many(name)
//     (exactly two collections, on the two entities they point at, share a
//     name; they become one EdgeRelation whose forward side is declared first).
//   - Entity::indexes: one single-field index per @unique/@index field (one
//     unique index when both are written), then @@index/@@unique in order,
//     then an automatic index for each reference field that is not the first
//     field of an index listed before. Two equal indexes (same fields, same
//     uniqueness) are an error.
//   - @default literals must fit the field: bool <- true/false; int32/int64/
//     float64/timestamp <- an integer in range; float64 <- a float;
//     string/bytes/json/timestamp/uuid/enum <- a string; enum <- one of its
//     values; timestamp <- now; uuid <- uuid; an optional field <- null. The
//     content of strings for json/timestamp/uuid is checked when the catalog
//     converts the default (catalog/compiled_schema.h).
// Every id in the result is 0; the catalog assigns them.
//
// Thread-safety: ParseSchema is a pure function and may run concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "catalog/schema.h"
#include "ormdb/status.h"

namespace ormdb::catalog {

// Limits on untrusted schema text; exceeding one is a SCHEMA_ERROR.
inline constexpr size_t kMaxSchemaTextBytes = size_t{4} << 20;
inline constexpr size_t kMaxEntities = 10000;
inline constexpr size_t kMaxEnums = 10000;
inline constexpr size_t kMaxIdentifierBytes = 128;
// Parentheses nested inside one @check / @@check expression.
inline constexpr int kMaxCheckNesting = 64;

// Parses and resolves a schema file. `file_name` is used in messages only.
//
// On failure returns SCHEMA_ERROR for the first problem found, with the
// message "FILE:LINE:COL: what was expected/wrong, and what was found", e.g.
//   blog.ormdb:14:11: unknown type 'Usr' (did you mean 'User'?)
// Syntax errors are reported before name errors, name errors before
// relation errors; within a kind, the first in the text. Lines and columns
// are 1-based; a column counts characters (UTF-8 code points), a tab as one.
// The text must be valid UTF-8.
Result<Schema> ParseSchema(std::string_view text, std::string_view file_name);

// The schema-language keyword of a builtin type ("int32", "timestamp", ...).
// REQUIRES: type is neither kEnum nor kRef.
std::string_view BuiltinTypeKeyword(FieldType type);

// The schema-language literal of a string: a JSON string ("a\"b"), with
// control characters escaped and other UTF-8 kept as is.
std::string QuoteString(std::string_view s);

// "cascade", "restrict" or "set_null".
std::string_view OnDeleteKeyword(OnDelete action);

}  // namespace ormdb::catalog
