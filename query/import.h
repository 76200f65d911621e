// Import: turns exported lines (JSON lines, or CSV with a header of field
// names) into one mutation batch, so an import is a single transaction that
// is all or nothing and goes through every constraint like any write.
#pragma once

#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/compiled_schema.h"
#include "ormdb/status.h"
#include "query/mutation.h"

namespace ormdb::query {

enum class ImportFormat { kJsonLines, kCsv };

// Splits one CSV record (RFC 4180: quoted fields, "" escapes a quote) read
// from `in` starting with `first_line`; a quoted field may span lines, so
// more lines are read as needed. *lines_used counts the lines consumed.
// INVALID_ARGUMENT on an unterminated quote or text after a closing quote.
Result<std::vector<std::string>> ReadCsvRecord(std::string first_line, std::istream& in,
                                               size_t* lines_used);

// Reads all of `in` into a batch for `what`: an entity (insert ops with the
// given values and ids) or a relation "Entity.relation" (link ops from
// {"from", "to"} lines). Empty lines are skipped. A bad line fails with
// "line N: ..." (INVALID_ARGUMENT, SCHEMA_ERROR or CONSTRAINT_VIOLATION).
// Each op's label is "line N" so that errors found when the batch is applied
// name the line too. `progress` (may be empty) is called every 10000 lines.
Result<MutationBatch> ReadImport(const catalog::CompiledSchema& schema, std::string_view what,
                                 ImportFormat format, std::istream& in,
                                 const std::function<void(uint64_t lines)>& progress);

}  // namespace ormdb::query
