// The result of a select as the engine builds it: one columnar block
// (column names, one value per row in each column), the snapshot version
// and the next page's cursor. The server copies it onto the wire
// (protocol/result_wire); embedded, MakeSelectResult wraps it as the
// application's ormdb::SelectResult. SelectResult's renderings (JSON, table,
// CSV) are written once, in select_result.cc, over its accessors, so a
// remote result renders byte for byte as an embedded one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/value.h"
#include "ormdb/select.h"

namespace ormdb::query {

struct SelectBlock {
  Version version = 0;
  std::optional<std::string> next;
  std::vector<std::string> columns;        // names, in item order
  std::vector<std::vector<Value>> values;  // values[column][row]
  size_t rows = 0;
  uint64_t scanned = 0;  // rows, index entries and edges read (EXPLAIN ANALYZE)
};

std::unique_ptr<SelectResult> MakeSelectResult(std::shared_ptr<const SelectBlock> block);

}  // namespace ormdb::query
