// The result of a fetch as it is built: per entity type a columnar block
// (row ids, external ids, one column per selected field), per plan node an
// edge block (for each distinct parent row, its children in order). The tree
// JSON of DESIGN.md §5 and the graph walk of ormdb::FetchResult are
// renderings of these blocks (query/result_render); nothing else is kept.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/compiled_schema.h"
#include "common/flat_id_map.h"
#include "common/ids.h"
#include "common/value.h"
#include "query/plan.h"
#include "query/result_render.h"

namespace ormdb::query {

struct EntityBlock {
  const catalog::EntityInfo* entity = nullptr;
  std::vector<RowId> rows;                 // internal row ids
  std::vector<Value> ids;                  // external ids: Int64, or Uuid for uuid entities
  std::vector<std::string> columns;        // selected fields (and "_version")
  std::vector<std::vector<Value>> values;  // values[column][row]
  FlatIdMap<uint32_t> row_of;              // internal row id (space 0) -> its row
};

// The children of one plan node, grouped by parent row.
struct NodeBlock {
  int block = -1;          // the EntityBlock of the node's entity
  bool processed = false;  // false: the node was not reached (truncation, depth)
  // Parent rows (rows of the parent node's entity block; the root has one
  // pseudo-parent 0) -> their slot + 1, 0 for a parent without a slot (the
  // parent rows are dense, so a vector indexed by row).
  std::vector<uint32_t> slot_of_row;
  std::vector<uint32_t> slot_parent;  // the inverse: slot -> parent row
  std::vector<uint32_t> slot_begin;   // children of slot s: [slot_begin[s], slot_end[s])
  std::vector<uint32_t> slot_end;
  std::vector<uint32_t> children;                     // rows of `block`
  std::vector<uint8_t> slot_partial;                  // cut by a truncation
  std::vector<std::optional<std::string>> slot_next;  // limited includes: the @next cursor
  std::vector<int> item_columns;  // per OutputItem of the node: its column in the block (-1)

  std::optional<uint32_t> SlotOf(uint32_t parent_row) const {
    if (parent_row >= slot_of_row.size() || slot_of_row[parent_row] == 0) return std::nullopt;
    return slot_of_row[parent_row] - 1;
  }
  void SetSlot(uint32_t parent_row, uint32_t slot) {
    if (parent_row >= slot_of_row.size()) slot_of_row.resize(parent_row + 1, 0);
    slot_of_row[parent_row] = slot + 1;
  }
};

struct FetchCounters {
  uint64_t entities = 0;
  uint64_t edges = 0;
  uint64_t bytes = 0;
  bool truncated = false;
  std::string truncated_at;
  uint64_t scanned = 0;  // rows, index entries and edges the aggregates read
  uint64_t reads = 0;    // rows, index entries and edges the whole fetch read
};

struct ResultBlocks {
  std::shared_ptr<const Plan> plan;
  Version version = 0;
  std::optional<std::string> next;
  FetchCounters counters;
  std::vector<EntityBlock> entities;
  std::vector<NodeBlock> nodes;  // one per plan node
};

// A value as a result shows it (strings, bytes and JSON borrow from `v`).
ResultValue ToResultValue(const Value& v);

// A reader of the blocks (query/result_render renders it), sharing them.
std::unique_ptr<ResultReader> ReadBlocks(std::shared_ptr<const ResultBlocks> blocks);

}  // namespace ormdb::query
