// One rendering of a graph-fetch result, whoever holds it. The engine's
// in-memory blocks (query/result_blocks) and a reply read in place from the
// wire (protocol/wire_result) both implement ResultReader; the tree JSON
// (docs/reference/json.md), the blocks JSON, the tables and the graph walk
// of ormdb::FetchResult are written once over it, so an embedded result and
// a remote one render byte for byte the same.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ormdb/fetch.h"

namespace ormdb::query {

// Read access to result blocks (query/result_blocks.h describes them). A
// block is the columnar rows of one entity type; a node is one plan node
// (0 is the root, the others are includes) with its slots: for each parent
// row reached, the run [begin, end) of its children in the node's child
// list. Views borrow from the reader. REQUIRES: indexes in range (the
// renderers only ask for what the reader announced). Thread-safety: const
// methods only; a reader is immutable once built.
class ResultReader {
 public:
  virtual ~ResultReader() = default;

  virtual uint64_t version() const = 0;
  // The root cursor, or nullopt when no rows remain.
  virtual std::optional<std::string_view> next() const = 0;
  virtual FetchStats stats() const = 0;

  // ---- entity blocks ----
  virtual uint32_t BlockCount() const = 0;
  virtual std::string_view BlockEntity(uint32_t block) const = 0;
  virtual uint32_t BlockRows(uint32_t block) const = 0;
  virtual uint32_t ColumnCount(uint32_t block) const = 0;
  virtual std::string_view ColumnName(uint32_t block, uint32_t column) const = 0;
  virtual ResultValue Id(uint32_t block, uint32_t row) const = 0;
  virtual ResultValue Cell(uint32_t block, uint32_t column, uint32_t row) const = 0;

  // ---- plan nodes ----
  struct NodeInfo {
    uint32_t block = 0;      // the entity block of the node's rows
    bool processed = false;  // false: not reached (truncation, depth); no slots
    bool to_one = false;     // rendered as an object or null, not a list
    bool limited = false;    // has a limit: renders "<name>@next"
    std::string_view entity;
    std::string_view path;  // "User.posts"
    uint32_t items = 0;     // output items, in selection order
  };
  struct Item {
    std::string_view name;
    bool is_include = false;
    int column = -1;     // a field: its column in the block (-1: not rendered)
    uint32_t child = 0;  // an include: its node
  };
  struct Slot {
    uint32_t begin = 0, end = 0;  // into the node's child list
    bool partial = false;         // cut by a truncation
  };
  virtual uint32_t NodeCount() const = 0;
  virtual NodeInfo Node(uint32_t node) const = 0;
  virtual Item NodeItem(uint32_t node, uint32_t item) const = 0;
  // The slot of `parent_row` (a row of the parent node's block; the root has
  // the one pseudo-parent 0), or nullopt when it was not reached.
  virtual std::optional<uint32_t> SlotOf(uint32_t node, uint32_t parent_row) const = 0;
  virtual uint32_t SlotCount(uint32_t node) const = 0;
  virtual Slot NodeSlot(uint32_t node, uint32_t slot) const = 0;
  virtual uint32_t SlotParent(uint32_t node, uint32_t slot) const = 0;
  // A limited node: the slot's @next cursor, or nullopt when none remain.
  virtual std::optional<std::string_view> SlotNext(uint32_t node, uint32_t slot) const = 0;
  virtual uint32_t ChildCount(uint32_t node) const = 0;
  // The k-th entry of the node's child list: a row of its block.
  virtual uint32_t Child(uint32_t node, uint32_t k) const = 0;
};

// Appends one value as docs/reference/json.md renders it (ResultValue::ToJson).
void AppendResultValue(std::string* out, const ResultValue& v);

// A table cell: strings as they are, other values as JSON without quotes.
std::string TableCell(const ResultValue& v);
// "TITLE (N rows)", the header, a rule and the rows, columns aligned, then
// a blank line (`--format table`).
std::string FormatTable(std::string_view title, const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& cells);

// docs/reference/json.md: {"version", "data", "next", "stats"}.
std::string RenderTreeJson(const ResultReader& r);
// The blocks themselves (`--format blocks`; ormdb::FetchResult::ToBlocksJson).
std::string RenderBlocksJson(const ResultReader& r);
// One aligned table per non-empty entity block, then the edge counts and
// the stats line (`--format table`).
std::string RenderTables(const ResultReader& r);

// The one ormdb::FetchResult: renders and walks `reader`, which it owns.
std::unique_ptr<FetchResult> MakeFetchResult(std::unique_ptr<const ResultReader> reader);

}  // namespace ormdb::query
