#include "protocol/wire_result.h"

#include <algorithm>

#include "protocol/frame.h"
#include "protocol/ormdb.capnp.h"
#include "query/result_render.h"

namespace ormdb::protocol {
namespace {

std::string_view View(capnp::Text::Reader t) { return std::string_view(t.begin(), t.size()); }

ResultValue ReadCell(wire::Column::Reader col, uint32_t row) {
  ResultValue v;
  if (col.hasNulls() && col.getNulls()[row]) return v;
  switch (col.getKind()) {
    case wire::ValueKind::NONE:
      return v;
    case wire::ValueKind::BOOLEAN:
      v.kind = ResultValue::Kind::kBool;
      v.bool_value = col.getInts()[row] != 0;
      return v;
    case wire::ValueKind::INTEGER:
      v.kind = ResultValue::Kind::kInt;
      v.int_value = col.getInts()[row];
      return v;
    case wire::ValueKind::TIMESTAMP:
      v.kind = ResultValue::Kind::kTimestamp;
      v.int_value = col.getInts()[row];
      return v;
    case wire::ValueKind::REAL:
      v.kind = ResultValue::Kind::kFloat;
      v.float_value = col.getFloats()[row];
      return v;
    case wire::ValueKind::STRING:
    case wire::ValueKind::JSON:
      v.kind = col.getKind() == wire::ValueKind::STRING ? ResultValue::Kind::kString
                                                        : ResultValue::Kind::kJson;
      v.string_value = View(col.getTexts()[row]);
      return v;
    case wire::ValueKind::BYTES: {
      v.kind = ResultValue::Kind::kBytes;
      auto d = col.getBlobs()[row];
      v.string_value = std::string_view(reinterpret_cast<const char*>(d.begin()), d.size());
      return v;
    }
    case wire::ValueKind::UUID: {
      v.kind = ResultValue::Kind::kUuid;
      auto d = col.getUuids();
      std::copy_n(d.begin() + row * 16, 16, v.uuid_value.begin());
      return v;
    }
  }
  return v;
}

// The blocks of a Reply read where they lie in the frame.
class WireReader final : public query::ResultReader {
 public:
  explicit WireReader(std::unique_ptr<Frame> frame)
      : frame_(std::move(frame)),
        r_(frame_->reader().getRoot<wire::Reply>().getFetch()),
        entities_(r_.getEntities()),
        nodes_(r_.getNodes()) {}

  uint64_t version() const override { return r_.getVersion(); }
  std::optional<std::string_view> next() const override {
    if (!r_.getHasNext()) return std::nullopt;
    return View(r_.getNext());
  }
  FetchStats stats() const override {
    auto s = r_.getStats();
    return FetchStats{s.getEntities(), s.getEdges(), s.getBytes(), s.getTruncated(),
                      std::string(View(s.getTruncatedAt()))};
  }

  uint32_t BlockCount() const override { return entities_.size(); }
  std::string_view BlockEntity(uint32_t block) const override {
    return View(entities_[block].getEntity());
  }
  uint32_t BlockRows(uint32_t block) const override {
    auto ids = entities_[block].getIds();
    return ids.getKind() == wire::ValueKind::UUID ? ids.getUuids().size() / 16
                                                  : ids.getInts().size();
  }
  uint32_t ColumnCount(uint32_t block) const override {
    return entities_[block].getColumns().size();
  }
  std::string_view ColumnName(uint32_t block, uint32_t column) const override {
    return View(entities_[block].getColumns()[column].getName());
  }
  ResultValue Id(uint32_t block, uint32_t row) const override {
    return ReadCell(entities_[block].getIds(), row);
  }
  ResultValue Cell(uint32_t block, uint32_t column, uint32_t row) const override {
    return ReadCell(entities_[block].getColumns()[column], row);
  }

  uint32_t NodeCount() const override { return nodes_.size(); }
  NodeInfo Node(uint32_t node) const override {
    auto n = nodes_[node];
    NodeInfo info;
    info.block = n.getBlock();
    info.processed = n.getProcessed();
    info.to_one = n.getToOne();
    info.limited = n.getLimited();
    info.entity = View(n.getEntity());
    info.path = View(n.getPath());
    info.items = n.getItems().size();
    return info;
  }
  Item NodeItem(uint32_t node, uint32_t i) const override {
    auto item = nodes_[node].getItems()[i];
    Item out;
    out.name = View(item.getName());
    out.is_include = item.getIsInclude();
    if (out.is_include) {
      out.child = item.getChild();
    } else {
      out.column = item.getColumn();
    }
    return out;
  }
  std::optional<uint32_t> SlotOf(uint32_t node, uint32_t parent_row) const override {
    auto slot_of_row = nodes_[node].getSlotOfRow();
    if (parent_row >= slot_of_row.size() || slot_of_row[parent_row] == 0) return std::nullopt;
    return slot_of_row[parent_row] - 1;
  }
  uint32_t SlotCount(uint32_t node) const override { return nodes_[node].getSlotBegin().size(); }
  Slot NodeSlot(uint32_t node, uint32_t slot) const override {
    auto n = nodes_[node];
    auto partial = n.getSlotPartial();
    return Slot{n.getSlotBegin()[slot], n.getSlotEnd()[slot],
                slot < partial.size() && partial[slot]};
  }
  uint32_t SlotParent(uint32_t node, uint32_t slot) const override {
    return nodes_[node].getSlotParent()[slot];
  }
  std::optional<std::string_view> SlotNext(uint32_t node, uint32_t slot) const override {
    auto n = nodes_[node];
    if (!n.hasSlotHasNext() || slot >= n.getSlotHasNext().size() || !n.getSlotHasNext()[slot]) {
      return std::nullopt;
    }
    return View(n.getSlotNext()[slot]);
  }
  uint32_t ChildCount(uint32_t node) const override { return nodes_[node].getChildren().size(); }
  uint32_t Child(uint32_t node, uint32_t k) const override { return nodes_[node].getChildren()[k]; }

 private:
  std::unique_ptr<Frame> frame_;
  wire::ResultBlocks::Reader r_;
  capnp::List<wire::EntityBlock>::Reader entities_;
  capnp::List<wire::NodeBlock>::Reader nodes_;
};

// A select's block read where it lies in the frame.
class WireSelect final : public SelectResult {
 public:
  explicit WireSelect(std::unique_ptr<Frame> frame)
      : frame_(std::move(frame)),
        r_(frame_->reader().getRoot<wire::Reply>().getSelect()),
        columns_(r_.getColumns()) {}

  uint64_t version() const override { return r_.getVersion(); }
  std::optional<std::string> next() const override {
    if (!r_.getHasNext()) return std::nullopt;
    return std::string(View(r_.getNext()));
  }
  size_t column_count() const override { return columns_.size(); }
  std::string_view column_name(size_t column) const override {
    return View(columns_[static_cast<unsigned>(column)].getName());
  }
  size_t row_count() const override { return static_cast<size_t>(r_.getRows()); }
  ResultValue Get(size_t row, size_t column) const override {
    return ReadCell(columns_[static_cast<unsigned>(column)], static_cast<uint32_t>(row));
  }

 private:
  std::unique_ptr<Frame> frame_;
  wire::SelectBlock::Reader r_;
  capnp::List<wire::Column>::Reader columns_;
};

}  // namespace

std::unique_ptr<SelectResult> MakeWireSelectResult(std::unique_ptr<Frame> frame) {
  return std::make_unique<WireSelect>(std::move(frame));
}

std::unique_ptr<FetchResult> MakeWireResult(std::unique_ptr<Frame> frame) {
  return query::MakeFetchResult(std::make_unique<WireReader>(std::move(frame)));
}

}  // namespace ormdb::protocol
