#include "db/blocks_result.h"

#include <algorithm>

#include "common/json.h"
#include "common/timestamp.h"
#include "common/uuid.h"
#include "query/json_values.h"

namespace ormdb {
namespace {

ResultValue FromValue(const Value& v) {
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

class BlocksResult final : public FetchResult {
 public:
  explicit BlocksResult(std::shared_ptr<const query::ResultBlocks> b) : b_(std::move(b)) {}

  const query::ResultBlocks& blocks() const { return *b_; }
  uint64_t version() const override { return b_->version; }
  std::optional<std::string> next() const override { return b_->next; }
  FetchStats stats() const override {
    const query::FetchCounters& c = b_->counters;
    return FetchStats{c.entities, c.edges, c.bytes, c.truncated, c.truncated_at};
  }
  std::string ToJson() const override { return query::RenderTreeJson(*b_); }
  std::string ToBlocksJson() const override { return query::RenderBlocksJson(*b_); }
  std::string ToTable() const override { return query::RenderTables(*b_); }

 protected:
  uint32_t RootCount() const override {
    const query::NodeBlock& root = b_->nodes[0];
    if (!root.processed || root.slot_begin.empty()) return 0;
    return root.slot_end[0] - root.slot_begin[0];
  }
  uint32_t RootRow(uint32_t i) const override {
    return b_->nodes[0].children[b_->nodes[0].slot_begin[0] + i];
  }
  std::string_view NodeEntity(uint32_t node) const override {
    return b_->plan->nodes[node].entity->name;
  }
  ResultValue RowId(uint32_t node, uint32_t row) const override {
    return FromValue(Block(node).ids[row]);
  }
  std::optional<ResultValue> RowField(uint32_t node, uint32_t row,
                                      std::string_view field) const override {
    const query::Node& n = b_->plan->nodes[node];
    const query::NodeBlock& nb = b_->nodes[node];
    if (field == "id") return FromValue(Block(node).ids[row]);
    for (size_t i = 0; i < n.items.size(); ++i) {
      if (n.items[i].kind != query::OutputItem::Kind::kInclude && n.items[i].name == field) {
        return FromValue(Block(node).values[nb.item_columns[i]][row]);
      }
    }
    return std::nullopt;
  }
  std::optional<uint32_t> ChildNode(uint32_t node, std::string_view relation) const override {
    for (const query::OutputItem& item : b_->plan->nodes[node].items) {
      if (item.kind == query::OutputItem::Kind::kInclude && item.name == relation) {
        return static_cast<uint32_t>(item.child);
      }
    }
    return std::nullopt;
  }
  std::vector<uint32_t> ChildRows(uint32_t, uint32_t row, uint32_t child) const override {
    const query::NodeBlock& cb = b_->nodes[child];
    auto it = cb.slot_of.find(row);
    if (!cb.processed || it == cb.slot_of.end()) return {};
    return std::vector<uint32_t>(cb.children.begin() + cb.slot_begin[it->second],
                                 cb.children.begin() + cb.slot_end[it->second]);
  }
  std::optional<std::string> ChildNext(uint32_t, uint32_t row, uint32_t child) const override {
    const query::NodeBlock& cb = b_->nodes[child];
    auto it = cb.slot_of.find(row);
    if (!cb.processed || it == cb.slot_of.end()) return std::nullopt;
    return cb.slot_next[it->second];
  }

 private:
  const query::EntityBlock& Block(uint32_t node) const {
    return b_->entities[b_->nodes[node].block];
  }
  std::shared_ptr<const query::ResultBlocks> b_;
};

}  // namespace

std::unique_ptr<FetchResult> MakeBlocksResult(std::shared_ptr<const query::ResultBlocks> blocks) {
  return std::make_unique<BlocksResult>(std::move(blocks));
}

std::string ResultValue::ToJson() const {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return bool_value ? "true" : "false";
    case Kind::kInt:
      return std::to_string(int_value);
    case Kind::kFloat:
      return ormdb::ToJson(Json(float_value));
    case Kind::kString: {
      std::string out;
      AppendJsonString(&out, string_value);
      return out;
    }
    case Kind::kBytes:
      return ormdb::ToJson(Json(query::Base64Encode(string_value)));
    case Kind::kTimestamp:
      return ormdb::ToJson(Json(FormatTimestamp(int_value)));
    case Kind::kUuid: {
      Uuid u;
      u.bytes = uuid_value;
      return ormdb::ToJson(Json(FormatUuid(u)));
    }
    case Kind::kJson: {
      // As the engine renders JSON values: re-serialized.
      auto j = ParseJson(string_value);
      return j.ok() ? ormdb::ToJson(*j) : ormdb::ToJson(Json(std::string(string_value)));
    }
  }
  return "null";
}

std::string_view ResultObject::entity() const { return result_->NodeEntity(node_); }
ResultValue ResultObject::id() const { return result_->RowId(node_, row_); }
std::optional<ResultValue> ResultObject::Get(std::string_view field) const {
  return result_->RowField(node_, row_, field);
}

std::vector<ResultObject> ResultObject::Related(std::string_view relation) const {
  std::vector<ResultObject> out;
  std::optional<uint32_t> child = result_->ChildNode(node_, relation);
  if (!child) return out;
  for (uint32_t r : result_->ChildRows(node_, row_, *child)) {
    out.push_back(result_->MakeObject(*child, r));
  }
  return out;
}

std::optional<std::string> ResultObject::RelatedNext(std::string_view relation) const {
  std::optional<uint32_t> child = result_->ChildNode(node_, relation);
  if (!child) return std::nullopt;
  return result_->ChildNext(node_, row_, *child);
}

std::vector<ResultObject> FetchResult::roots() const {
  std::vector<ResultObject> out;
  uint32_t n = RootCount();
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) out.push_back(MakeObject(0, RootRow(i)));
  return out;
}

}  // namespace ormdb
