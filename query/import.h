// Import: turns exported lines (JSON lines, or CSV with a header of field
// names) into one mutation batch, so an import is a single transaction that
// is all or nothing and goes through every constraint like any write.
//
// The input is read as a stream, line by line: a line is held only while it
// is turned into an op, and a line longer than the limit
// (kMaxImportLineBytes) is refused as soon as it passes it, so a huge or
// endless line never takes more memory than that. (The batch itself holds
// every op until it is written: that is what all or nothing costs.)
//
// CSV (RFC 4180): a header line of field names, then one record per line; a
// field may be quoted ("a, b"), "" inside quotes is a quote, and a quoted
// field may span lines. An unquoted empty field is null; a quoted empty
// field ("") is the empty string (refused where a string is not allowed).
// Every field, header included, must be valid UTF-8.
#pragma once

#include <cstddef>
#include <functional>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/compiled_schema.h"
#include "ormdb/status.h"
#include "query/mutation.h"

namespace ormdb::query {

enum class ImportFormat { kJsonLines, kCsv };

// The longest line an import reads: 64 MiB, bytes before the '\n'. A CSV
// record counts with every line its quoted fields span. A longer one is
// INVALID_ARGUMENT "line N: longer than 67108864 bytes, ...", N being the
// line where it passed the limit.
inline constexpr size_t kMaxImportLineBytes = size_t{64} << 20;

// Reads one line of `in` into *line, without its '\n' (a '\r' before it
// stays). Returns false at the end of the input (nothing read). Once the
// line passes `max_bytes`: INVALID_ARGUMENT "longer than N bytes, ...",
// and the rest of it is left unread. A stream error is INVALID_ARGUMENT
// "read error".
Result<bool> ReadImportLine(std::istream& in, size_t max_bytes, std::string* line);

struct CsvField {
  std::string text;     // unquoted
  bool quoted = false;  // written in quotes ("" is the empty string, nothing is null)
  bool operator==(const CsvField&) const = default;
};

// Splits one CSV record that starts with `first_line`; a quoted field may
// span lines, so more lines are read from `in` as needed, the record's bytes
// bounded by `max_bytes` as with ReadImportLine. *lines_used counts the
// lines consumed (also on failure: the line where it failed is the last).
// INVALID_ARGUMENT on an unterminated quote, text after a closing quote, or
// a record past `max_bytes`.
Result<std::vector<CsvField>> ReadCsvRecord(std::string first_line, std::istream& in,
                                            size_t* lines_used,
                                            size_t max_bytes = kMaxImportLineBytes);

// Reads `in` into a batch for `what`: an entity (insert ops with the given
// values and ids) or a relation "Entity.relation" (link ops from
// {"from", "to"} lines). Empty lines are skipped. A bad line fails with
// "line N: ..." (INVALID_ARGUMENT, SCHEMA_ERROR or CONSTRAINT_VIOLATION);
// a CSV field also names its position and column, "line N, field 2 (name):
// ...". Each op's label is "line N" so that errors found when the batch is
// applied name the line too. `progress` (may be empty) is called every
// 10000 lines. Lines are bounded by `max_line_bytes` (see
// kMaxImportLineBytes).
Result<MutationBatch> ReadImport(const catalog::CompiledSchema& schema, std::string_view what,
                                 ImportFormat format, std::istream& in,
                                 const std::function<void(uint64_t lines)>& progress,
                                 size_t max_line_bytes = kMaxImportLineBytes);

}  // namespace ormdb::query
