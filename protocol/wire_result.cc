#include "protocol/wire_result.h"

#include <algorithm>
#include <charconv>

#include "common/json.h"
#include "protocol/frame.h"
#include "protocol/ormdb.capnp.h"
#include "query/result_blocks.h"

namespace ormdb::protocol {
namespace {

std::string_view View(capnp::Text::Reader t) { return std::string_view(t.begin(), t.size()); }

ResultValue Cell(wire::Column::Reader col, uint32_t row) {
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

void AppendCell(std::string* out, wire::Column::Reader col, uint32_t row) {
  ResultValue v = Cell(col, row);
  if (v.kind == ResultValue::Kind::kInt) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v.int_value);
    out->append(buf, r.ptr);
  } else if (v.kind == ResultValue::Kind::kString) {
    AppendJsonString(out, v.string_value);
  } else {
    *out += v.ToJson();
  }
}

void AppendUint(std::string* out, uint64_t v) { *out += std::to_string(v); }

class WireResult final : public FetchResult {
 public:
  explicit WireResult(std::unique_ptr<Frame> frame)
      : frame_(std::move(frame)),
        r_(frame_->reader().getRoot<wire::Reply>().getFetch()),
        entities_(r_.getEntities()),
        nodes_(r_.getNodes()) {}

  uint64_t version() const override { return r_.getVersion(); }
  std::optional<std::string> next() const override {
    if (!r_.getHasNext()) return std::nullopt;
    return std::string(View(r_.getNext()));
  }
  FetchStats stats() const override {
    auto s = r_.getStats();
    return FetchStats{s.getEntities(), s.getEdges(), s.getBytes(), s.getTruncated(),
                      std::string(View(s.getTruncatedAt()))};
  }

  std::string ToJson() const override {
    std::string out = "{\"version\":";
    AppendUint(&out, r_.getVersion());
    out += ",\"data\":[";
    uint32_t n = RootCount();
    for (uint32_t i = 0; i < n; ++i) {
      if (i) out += ',';
      Object(&out, 0, RootRow(i));
    }
    AppendTail(&out);
    return out;
  }

  std::string ToBlocksJson() const override {
    std::string out = "{\"version\":";
    AppendUint(&out, r_.getVersion());
    out += ",\"entities\":{";
    for (unsigned b = 0; b < entities_.size(); ++b) {
      auto eb = entities_[b];
      if (b) out += ',';
      AppendJsonString(&out, View(eb.getEntity()));
      out += ":{\"ids\":[";
      uint32_t rows = Rows(eb);
      for (uint32_t i = 0; i < rows; ++i) {
        if (i) out += ',';
        AppendCell(&out, eb.getIds(), i);
      }
      out += "],\"fields\":{";
      auto cols = eb.getColumns();
      for (unsigned c = 0; c < cols.size(); ++c) {
        if (c) out += ',';
        AppendJsonString(&out, View(cols[c].getName()));
        out += ":[";
        for (uint32_t i = 0; i < rows; ++i) {
          if (i) out += ',';
          AppendCell(&out, cols[c], i);
        }
        out += ']';
      }
      out += "}}";
    }
    out += "},\"edges\":{";
    bool first = true;
    for (unsigned i = 1; i < nodes_.size(); ++i) {
      auto nb = nodes_[i];
      if (!nb.getProcessed()) continue;
      if (!first) out += ',';
      first = false;
      AppendJsonString(&out, View(nb.getPath()));
      out += ":[";
      bool any = false;
      auto parents = nb.getSlotParent();
      auto begin = nb.getSlotBegin();
      auto end = nb.getSlotEnd();
      auto children = nb.getChildren();
      for (unsigned s = 0; s < parents.size(); ++s) {
        for (uint32_t k = begin[s]; k < end[s]; ++k) {
          if (any) out += ',';
          any = true;
          out += '[';
          AppendUint(&out, parents[s]);
          out += ',';
          AppendUint(&out, children[k]);
          out += ']';
        }
      }
      out += ']';
    }
    out += "},\"roots\":[";
    uint32_t n = RootCount();
    for (uint32_t i = 0; i < n; ++i) {
      if (i) out += ',';
      AppendUint(&out, RootRow(i));
    }
    AppendTail(&out);
    return out;
  }

  std::string ToTable() const override {
    std::string out;
    for (auto eb : entities_) {
      uint32_t rows = Rows(eb);
      if (rows == 0) continue;
      auto cols = eb.getColumns();
      std::vector<std::string> header = {"id"};
      for (auto c : cols) header.emplace_back(View(c.getName()));
      std::vector<std::vector<std::string>> cells;
      for (uint32_t i = 0; i < rows; ++i) {
        std::vector<std::string> line;
        std::string v;
        AppendCell(&v, eb.getIds(), i);
        line.push_back(v);
        for (auto c : cols) {
          ResultValue cell = Cell(c, i);
          if (cell.kind == ResultValue::Kind::kString) {
            v = std::string(cell.string_value);
          } else {
            v.clear();
            AppendCell(&v, c, i);
            if (v.size() > 1 && v.front() == '"') v = v.substr(1, v.size() - 2);
          }
          line.push_back(v);
        }
        cells.push_back(std::move(line));
      }
      out += query::FormatTable(View(eb.getEntity()), header, cells);
    }
    for (unsigned i = 1; i < nodes_.size(); ++i) {
      if (!nodes_[i].getProcessed()) continue;
      out += std::string(View(nodes_[i].getPath())) + ": " +
             std::to_string(nodes_[i].getChildren().size()) + " edges\n";
    }
    FetchStats s = stats();
    out += "version " + std::to_string(version()) + ", " + std::to_string(s.entities) +
           " entities, " + std::to_string(s.edges) + " edges";
    if (s.truncated) out += ", truncated at " + s.truncated_at;
    out += "\n";
    if (auto n = next()) out += "next: " + *n + "\n";
    return out;
  }

 protected:
  uint32_t RootCount() const override {
    auto root = nodes_[0];
    if (!root.getProcessed() || root.getSlotBegin().size() == 0) return 0;
    return root.getSlotEnd()[0] - root.getSlotBegin()[0];
  }
  uint32_t RootRow(uint32_t i) const override {
    auto root = nodes_[0];
    return root.getChildren()[root.getSlotBegin()[0] + i];
  }
  std::string_view NodeEntity(uint32_t node) const override {
    return View(nodes_[node].getEntity());
  }
  ResultValue RowId(uint32_t node, uint32_t row) const override {
    return Cell(Block(node).getIds(), row);
  }
  std::optional<ResultValue> RowField(uint32_t node, uint32_t row,
                                      std::string_view field) const override {
    auto block = Block(node);
    if (field == "id") return Cell(block.getIds(), row);
    for (auto item : nodes_[node].getItems()) {
      if (!item.getIsInclude() && View(item.getName()) == field && item.getColumn() >= 0) {
        return Cell(block.getColumns()[static_cast<unsigned>(item.getColumn())], row);
      }
    }
    return std::nullopt;
  }
  std::optional<uint32_t> ChildNode(uint32_t node, std::string_view relation) const override {
    for (auto item : nodes_[node].getItems()) {
      if (item.getIsInclude() && View(item.getName()) == relation) return item.getChild();
    }
    return std::nullopt;
  }
  std::vector<uint32_t> ChildRows(uint32_t, uint32_t row, uint32_t child) const override {
    auto slot = SlotOf(child, row);
    if (!slot) return {};
    auto cb = nodes_[child];
    auto children = cb.getChildren();
    std::vector<uint32_t> out;
    for (uint32_t k = cb.getSlotBegin()[*slot]; k < cb.getSlotEnd()[*slot]; ++k) {
      out.push_back(children[k]);
    }
    return out;
  }
  std::optional<std::string> ChildNext(uint32_t, uint32_t row, uint32_t child) const override {
    auto slot = SlotOf(child, row);
    if (!slot) return std::nullopt;
    auto cb = nodes_[child];
    if (!cb.hasSlotHasNext() || !cb.getSlotHasNext()[*slot]) return std::nullopt;
    return std::string(View(cb.getSlotNext()[*slot]));
  }

 private:
  static uint32_t Rows(wire::EntityBlock::Reader eb) {
    auto ids = eb.getIds();
    return ids.getKind() == wire::ValueKind::UUID ? ids.getUuids().size() / 16
                                                  : ids.getInts().size();
  }
  wire::EntityBlock::Reader Block(uint32_t node) const {
    return entities_[nodes_[node].getBlock()];
  }
  // The slot of `row` (a row of the parent's block) in node `child`.
  std::optional<uint32_t> SlotOf(uint32_t child, uint32_t row) const {
    auto cb = nodes_[child];
    if (!cb.getProcessed()) return std::nullopt;
    auto slot_of_row = cb.getSlotOfRow();
    if (row >= slot_of_row.size() || slot_of_row[row] == 0) return std::nullopt;
    return slot_of_row[row] - 1;
  }

  void Object(std::string* out, uint32_t node, uint32_t row) const {
    auto n = nodes_[node];
    auto block = Block(node);
    *out += "{\"id\":";
    AppendCell(out, block.getIds(), row);
    for (auto item : n.getItems()) {
      if (!item.getIsInclude()) {
        if (item.getColumn() < 0) continue;
        *out += ',';
        AppendJsonString(out, View(item.getName()));
        *out += ':';
        AppendCell(out, block.getColumns()[static_cast<unsigned>(item.getColumn())], row);
        continue;
      }
      uint32_t child = item.getChild();
      auto slot = SlotOf(child, row);
      if (!slot) continue;  // not reached before a truncation
      auto cb = nodes_[child];
      uint32_t begin = cb.getSlotBegin()[*slot], end = cb.getSlotEnd()[*slot];
      auto children = cb.getChildren();
      if (cb.getToOne()) {
        if (begin == end && cb.getSlotPartial()[*slot]) continue;  // cut, never null
        *out += ',';
        AppendJsonString(out, View(item.getName()));
        *out += ':';
        if (begin == end) {
          *out += "null";
        } else {
          Object(out, child, children[begin]);
        }
        continue;
      }
      *out += ',';
      AppendJsonString(out, View(item.getName()));
      *out += ":[";
      for (uint32_t k = begin; k < end; ++k) {
        if (k > begin) *out += ',';
        Object(out, child, children[k]);
      }
      *out += ']';
      if (cb.getLimited()) {
        *out += ',';
        AppendJsonString(out, std::string(View(item.getName())) + "@next");
        *out += ':';
        if (cb.hasSlotHasNext() && cb.getSlotHasNext()[*slot]) {
          AppendJsonString(out, View(cb.getSlotNext()[*slot]));
        } else {
          *out += "null";
        }
      }
    }
    *out += '}';
  }

  // `],"next":...,"stats":{...}}`: how both JSON forms end.
  void AppendTail(std::string* out) const {
    *out += "],\"next\":";
    AppendNext(out);
    *out += ",\"stats\":";
    AppendStats(out);
    *out += '}';
  }
  void AppendNext(std::string* out) const {
    if (r_.getHasNext()) {
      AppendJsonString(out, View(r_.getNext()));
    } else {
      *out += "null";
    }
  }
  void AppendStats(std::string* out) const {
    auto s = r_.getStats();
    *out += "{\"entities\":";
    AppendUint(out, s.getEntities());
    *out += ",\"edges\":";
    AppendUint(out, s.getEdges());
    *out += ",\"truncated\":";
    *out += s.getTruncated() ? "true" : "false";
    if (s.getTruncated()) {
      *out += ",\"truncated_at\":";
      AppendJsonString(out, View(s.getTruncatedAt()));
    }
    *out += "}";
  }

  std::unique_ptr<Frame> frame_;
  wire::ResultBlocks::Reader r_;
  capnp::List<wire::EntityBlock>::Reader entities_;
  capnp::List<wire::NodeBlock>::Reader nodes_;
};

}  // namespace

std::unique_ptr<FetchResult> MakeWireResult(std::unique_ptr<Frame> frame) {
  return std::make_unique<WireResult>(std::move(frame));
}

}  // namespace ormdb::protocol
