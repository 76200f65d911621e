// The result of a fetch as it is built: per entity type a columnar block
// (row ids, external ids, one column per selected field), per plan node an
// edge block (for each distinct parent row, its children in order). The tree
// JSON of DESIGN.md §5 and the graph walk of ormdb::FetchResult are
// renderings of these blocks; nothing else is kept.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/compiled_schema.h"
#include "common/ids.h"
#include "common/value.h"
#include "query/plan.h"

namespace ormdb::query {

struct EntityBlock {
  const catalog::EntityInfo* entity = nullptr;
  std::vector<RowId> rows;                 // internal row ids
  std::vector<Value> ids;                  // external ids: Int64, or Uuid for uuid entities
  std::vector<std::string> columns;        // selected fields (and "_version")
  std::vector<std::vector<Value>> values;  // values[column][row]
  std::unordered_map<RowId, uint32_t> row_of;
};

// The children of one plan node, grouped by parent row.
struct NodeBlock {
  int block = -1;          // the EntityBlock of the node's entity
  bool processed = false;  // false: the node was not reached (truncation, depth)
  // Parent rows (rows of the parent node's entity block; the root has one
  // pseudo-parent 0) -> their slot.
  std::unordered_map<uint32_t, uint32_t> slot_of;
  std::vector<uint32_t> slot_begin;  // children of slot s: [slot_begin[s], slot_end[s])
  std::vector<uint32_t> slot_end;
  std::vector<uint32_t> children;                     // rows of `block`
  std::vector<uint8_t> slot_partial;                  // cut by a truncation
  std::vector<std::optional<std::string>> slot_next;  // limited includes: the @next cursor
  std::vector<int> item_columns;  // per OutputItem of the node: its column in the block (-1)
};

struct FetchCounters {
  uint64_t entities = 0;
  uint64_t edges = 0;
  uint64_t bytes = 0;
  bool truncated = false;
  std::string truncated_at;
};

struct ResultBlocks {
  std::shared_ptr<const Plan> plan;
  Version version = 0;
  std::optional<std::string> next;
  FetchCounters counters;
  std::vector<EntityBlock> entities;
  std::vector<NodeBlock> nodes;  // one per plan node
};

// DESIGN.md §5 / docs/QUERIES.md "Result JSON".
std::string RenderTreeJson(const ResultBlocks& r);
// The blocks themselves (`--format blocks`).
std::string RenderBlocksJson(const ResultBlocks& r);
// One aligned table per entity block (`--format table`).
std::string RenderTables(const ResultBlocks& r);

// "TITLE (N rows)", the header, a rule and the rows, columns aligned, then
// a blank line: the table form of one entity block (shared with the remote
// client's rendering).
std::string FormatTable(std::string_view title, const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& cells);

}  // namespace ormdb::query
