// Graph-fetch results as the application sees them (docs/reference/queries.md).
//
// A fetch returns one FetchResult: the snapshot version it read, the root
// cursor, budget statistics and the result blocks (per entity type a
// columnar block of ids and selected fields, per include an edge block from
// parent rows to child rows). The application walks it as a graph:
//
//   auto r = db->Fetch("User(limit: 2) { name, posts(limit: 3) { title } }");
//   for (ormdb::ResultObject user : r.value()->roots()) {
//     std::string_view name = user.Get("name")->string_value;
//     for (ormdb::ResultObject post : user.Related("posts")) ...
//   }
//
// or renders it: ToJson() is the tree of docs/reference/json.md, ToBlocksJson() the
// blocks themselves. Entities are deduplicated: a row reached along several
// paths is stored once, and every ResultObject naming it reads the same
// values.
//
// Thread-safety: a FetchResult is immutable; any number of threads may read
// it concurrently. A ResultObject borrows from its FetchResult and must not
// outlive it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ormdb/fetch_options.h"

namespace ormdb {

struct FetchStats {
  uint64_t entities = 0;  // distinct entities in the result
  uint64_t edges = 0;     // rendered parent-child pairs
  uint64_t bytes = 0;     // ids and field values in the blocks
  bool truncated = false;
  std::string truncated_at;  // the include path where a truncation stopped ("posts.comments")
};

// One value read from a result. Strings, bytes and JSON text borrow from the
// FetchResult.
struct ResultValue {
  enum class Kind : uint8_t {
    kNull,
    kBool,
    kInt,
    kFloat,
    kString,
    kBytes,
    kTimestamp,
    kUuid,
    kJson
  };
  Kind kind = Kind::kNull;
  bool bool_value = false;
  int64_t int_value = 0;  // kInt; kTimestamp as UTC microseconds
  double float_value = 0;
  std::string_view string_value;  // kString, kBytes (raw bytes), kJson (JSON text)
  std::array<uint8_t, 16> uuid_value{};

  bool is_null() const { return kind == Kind::kNull; }
  // The value as docs/reference/json.md renders it: numbers, quoted strings, RFC 3339
  // timestamps, uuids as text, bytes as base64, JSON as written.
  std::string ToJson() const;
};

class FetchResult;

// One object of the result tree: an entity row reached through the root or
// an include. Cheap to copy.
class ResultObject {
 public:
  // The entity type's name ("Post").
  std::string_view entity() const;
  // The row's id (an integer, or a uuid for `id: uuid` entities).
  ResultValue id() const;
  // A selected field (or "_version" when selected); nullopt when the query
  // did not select it.
  std::optional<ResultValue> Get(std::string_view field) const;
  // The objects of an include of this object, in the requested order. A
  // to-one include yields at most one. Empty when the query has no such
  // include or a truncation left it out.
  std::vector<ResultObject> Related(std::string_view relation) const;
  // The "<relation>@next" cursor of a limited include: the cursor of this
  // object's next children, or nullopt when none remain (or the include has
  // no limit).
  std::optional<std::string> RelatedNext(std::string_view relation) const;

 private:
  friend class FetchResult;
  ResultObject(const FetchResult* result, uint32_t node, uint32_t row)
      : result_(result), node_(node), row_(row) {}
  const FetchResult* result_;
  uint32_t node_;  // the include (0 = root) the object was reached through
  uint32_t row_;   // its row in the entity block
};

// The result of one fetch. Implementations: the embedded engine's in-memory
// blocks (and, over the network, blocks read in place from the wire).
class FetchResult {
 public:
  virtual ~FetchResult() = default;

  // The snapshot version the fetch read; a valid change-stream token.
  virtual uint64_t version() const = 0;
  // The cursor of the next root page, or nullopt when no rows remain.
  virtual std::optional<std::string> next() const = 0;
  virtual FetchStats stats() const = 0;

  // The root objects in the requested order.
  std::vector<ResultObject> roots() const;

  // docs/reference/json.md: {"version", "data", "next", "stats"}.
  virtual std::string ToJson() const = 0;
  // The blocks: {"version", "entities": {"User": {"ids": [...], "fields":
  // {"name": [...]}}}, "edges": {"posts": [[parent_row, child_row], ...]},
  // "roots": [row, ...], "next", "stats"}.
  virtual std::string ToBlocksJson() const = 0;
  // The blocks as aligned text tables, one per entity type (`--format table`).
  virtual std::string ToTable() const = 0;

 protected:
  friend class ResultObject;
  // The graph behind ResultObject, by node (an include; 0 is the root) and
  // row (a row of the node's entity block).
  virtual uint32_t RootCount() const = 0;
  virtual uint32_t RootRow(uint32_t i) const = 0;
  virtual std::string_view NodeEntity(uint32_t node) const = 0;
  virtual ResultValue RowId(uint32_t node, uint32_t row) const = 0;
  virtual std::optional<ResultValue> RowField(uint32_t node, uint32_t row,
                                              std::string_view field) const = 0;
  // The include of `node` named `relation`, or nullopt.
  virtual std::optional<uint32_t> ChildNode(uint32_t node, std::string_view relation) const = 0;
  // The children of `row` (a row of `parent`'s entity) under include `child`.
  virtual std::vector<uint32_t> ChildRows(uint32_t parent, uint32_t row, uint32_t child) const = 0;
  virtual std::optional<std::string> ChildNext(uint32_t parent, uint32_t row,
                                               uint32_t child) const = 0;
  ResultObject MakeObject(uint32_t node, uint32_t row) const {
    return ResultObject(this, node, row);
  }
};

}  // namespace ormdb
