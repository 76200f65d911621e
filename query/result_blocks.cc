// The in-memory result blocks as a ResultReader (query/result_render
// renders them).
#include "query/result_blocks.h"

#include <algorithm>

namespace ormdb::query {

ResultValue ToResultValue(const Value& v) {
  ResultValue r;
  switch (v.type()) {
    case ValueType::kNull:
      r.kind = ResultValue::Kind::kNull;
      break;
    case ValueType::kBool:
      r.kind = ResultValue::Kind::kBool;
      r.bool_value = v.as_bool();
      break;
    case ValueType::kInt32:
      r.kind = ResultValue::Kind::kInt;
      r.int_value = v.as_int32();
      break;
    case ValueType::kInt64:
      r.kind = ResultValue::Kind::kInt;
      r.int_value = v.as_int64();
      break;
    case ValueType::kFloat64:
      r.kind = ResultValue::Kind::kFloat;
      r.float_value = v.as_float64();
      break;
    case ValueType::kString:
      r.kind = ResultValue::Kind::kString;
      r.string_value = v.as_string();
      break;
    case ValueType::kBytes:
      r.kind = ResultValue::Kind::kBytes;
      r.string_value = v.as_string();
      break;
    case ValueType::kJson:
      r.kind = ResultValue::Kind::kJson;
      r.string_value = v.as_string();
      break;
    case ValueType::kTimestamp:
      r.kind = ResultValue::Kind::kTimestamp;
      r.int_value = v.as_int64();
      break;
    case ValueType::kUuid:
      r.kind = ResultValue::Kind::kUuid;
      r.uuid_value = v.as_uuid().bytes;
      break;
  }
  return r;
}

namespace {

class BlocksReader final : public ResultReader {
 public:
  explicit BlocksReader(std::shared_ptr<const ResultBlocks> b) : b_(std::move(b)) {}

  uint64_t version() const override { return b_->version; }
  std::optional<std::string_view> next() const override {
    if (!b_->next) return std::nullopt;
    return std::string_view(*b_->next);
  }
  FetchStats stats() const override {
    const FetchCounters& c = b_->counters;
    return FetchStats{c.entities, c.edges, c.bytes, c.truncated, c.truncated_at};
  }

  uint32_t BlockCount() const override { return Size(b_->entities); }
  std::string_view BlockEntity(uint32_t block) const override {
    return b_->entities[block].entity->name;
  }
  uint32_t BlockRows(uint32_t block) const override { return Size(b_->entities[block].ids); }
  uint32_t ColumnCount(uint32_t block) const override { return Size(b_->entities[block].columns); }
  std::string_view ColumnName(uint32_t block, uint32_t column) const override {
    return b_->entities[block].columns[column];
  }
  ResultValue Id(uint32_t block, uint32_t row) const override {
    return ToResultValue(b_->entities[block].ids[row]);
  }
  ResultValue Cell(uint32_t block, uint32_t column, uint32_t row) const override {
    return ToResultValue(b_->entities[block].values[column][row]);
  }

  uint32_t NodeCount() const override { return Size(b_->nodes); }
  NodeInfo Node(uint32_t node) const override {
    const query::Node& n = b_->plan->nodes[node];
    const NodeBlock& nb = b_->nodes[node];
    NodeInfo info;
    info.block = static_cast<uint32_t>(std::max(nb.block, 0));
    info.processed = nb.processed;
    info.to_one = n.kind == query::Node::Kind::kToOne;
    info.limited = n.limit_slot >= 0;
    info.entity = n.entity->name;
    info.path = n.path;
    info.items = Size(n.items);
    return info;
  }
  Item NodeItem(uint32_t node, uint32_t i) const override {
    const OutputItem& item = b_->plan->nodes[node].items[i];
    Item out;
    out.name = item.name;
    out.is_include = item.kind == OutputItem::Kind::kInclude;
    if (out.is_include) {
      out.child = static_cast<uint32_t>(item.child);
    } else {
      out.column = b_->nodes[node].item_columns[i];
    }
    return out;
  }
  std::optional<uint32_t> SlotOf(uint32_t node, uint32_t parent_row) const override {
    return b_->nodes[node].SlotOf(parent_row);
  }
  uint32_t SlotCount(uint32_t node) const override { return Size(b_->nodes[node].slot_begin); }
  Slot NodeSlot(uint32_t node, uint32_t slot) const override {
    const NodeBlock& nb = b_->nodes[node];
    return Slot{nb.slot_begin[slot], nb.slot_end[slot],
                slot < nb.slot_partial.size() && nb.slot_partial[slot] != 0};
  }
  uint32_t SlotParent(uint32_t node, uint32_t slot) const override {
    return b_->nodes[node].slot_parent[slot];
  }
  std::optional<std::string_view> SlotNext(uint32_t node, uint32_t slot) const override {
    const NodeBlock& nb = b_->nodes[node];
    if (slot >= nb.slot_next.size() || !nb.slot_next[slot]) return std::nullopt;
    return std::string_view(*nb.slot_next[slot]);
  }
  uint32_t ChildCount(uint32_t node) const override { return Size(b_->nodes[node].children); }
  uint32_t Child(uint32_t node, uint32_t k) const override { return b_->nodes[node].children[k]; }

 private:
  template <typename C>
  static uint32_t Size(const C& c) {
    return static_cast<uint32_t>(c.size());
  }
  std::shared_ptr<const ResultBlocks> b_;
};

}  // namespace

std::unique_ptr<ResultReader> ReadBlocks(std::shared_ptr<const ResultBlocks> blocks) {
  return std::make_unique<BlocksReader>(std::move(blocks));
}

}  // namespace ormdb::query
