// The result renderers and the ormdb::FetchResult graph walk, over
// ResultReader; also the out-of-line members of the public result types
// (ResultValue, ResultObject, FetchResult).
#include "query/result_render.h"

#include <algorithm>
#include <charconv>

#include "common/json.h"
#include "common/timestamp.h"
#include "common/uuid.h"
#include "query/json_values.h"

namespace ormdb::query {
namespace {

void AppendUint(std::string* out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

void AppendNext(std::string* out, const std::optional<std::string_view>& next) {
  if (next) {
    AppendJsonString(out, *next);
  } else {
    *out += "null";
  }
}

// `],"next":...,"stats":{...}}`: how both JSON forms end.
void AppendTail(std::string* out, const ResultReader& r) {
  *out += "],\"next\":";
  AppendNext(out, r.next());
  FetchStats s = r.stats();
  *out += ",\"stats\":{\"entities\":";
  AppendUint(out, s.entities);
  *out += ",\"edges\":";
  AppendUint(out, s.edges);
  *out += ",\"truncated\":";
  *out += s.truncated ? "true" : "false";
  if (s.truncated) {
    *out += ",\"truncated_at\":";
    AppendJsonString(out, s.truncated_at);
  }
  *out += "}}";
}

// The root's rows: its one slot, when the root was processed.
ResultReader::Slot RootSlot(const ResultReader& r) {
  if (!r.Node(0).processed || r.SlotCount(0) == 0) return {};
  return r.NodeSlot(0, 0);
}

void AppendObject(std::string* out, const ResultReader& r, uint32_t node, uint32_t row) {
  const ResultReader::NodeInfo n = r.Node(node);
  *out += "{\"id\":";
  AppendResultValue(out, r.Id(n.block, row));
  for (uint32_t i = 0; i < n.items; ++i) {
    const ResultReader::Item item = r.NodeItem(node, i);
    if (!item.is_include) {
      if (item.column < 0) continue;
      *out += ',';
      AppendJsonString(out, item.name);
      *out += ':';
      AppendResultValue(out, r.Cell(n.block, static_cast<uint32_t>(item.column), row));
      continue;
    }
    const ResultReader::NodeInfo cn = r.Node(item.child);
    if (!cn.processed) continue;
    std::optional<uint32_t> slot = r.SlotOf(item.child, row);
    if (!slot) continue;  // not reached before a truncation
    const ResultReader::Slot s = r.NodeSlot(item.child, *slot);
    if (cn.to_one) {
      if (s.begin == s.end && s.partial) continue;  // cut, never rendered as null
      *out += ',';
      AppendJsonString(out, item.name);
      *out += ':';
      if (s.begin == s.end) {
        *out += "null";
      } else {
        AppendObject(out, r, item.child, r.Child(item.child, s.begin));
      }
      continue;
    }
    *out += ',';
    AppendJsonString(out, item.name);
    *out += ":[";
    for (uint32_t k = s.begin; k < s.end; ++k) {
      if (k > s.begin) *out += ',';
      AppendObject(out, r, item.child, r.Child(item.child, k));
    }
    *out += ']';
    if (cn.limited) {
      *out += ',';
      AppendJsonString(out, std::string(item.name) + "@next");
      *out += ':';
      AppendNext(out, r.SlotNext(item.child, *slot));
    }
  }
  *out += '}';
}

// ormdb::FetchResult over a reader.
class ReaderResult final : public FetchResult {
 public:
  explicit ReaderResult(std::unique_ptr<const ResultReader> r) : r_(std::move(r)) {}

  uint64_t version() const override { return r_->version(); }
  std::optional<std::string> next() const override {
    std::optional<std::string_view> n = r_->next();
    if (!n) return std::nullopt;
    return std::string(*n);
  }
  FetchStats stats() const override { return r_->stats(); }
  std::string ToJson() const override { return RenderTreeJson(*r_); }
  std::string ToBlocksJson() const override { return RenderBlocksJson(*r_); }
  std::string ToTable() const override { return RenderTables(*r_); }

 protected:
  uint32_t RootCount() const override {
    ResultReader::Slot s = RootSlot(*r_);
    return s.end - s.begin;
  }
  uint32_t RootRow(uint32_t i) const override { return r_->Child(0, RootSlot(*r_).begin + i); }
  std::string_view NodeEntity(uint32_t node) const override { return r_->Node(node).entity; }
  ResultValue RowId(uint32_t node, uint32_t row) const override {
    return r_->Id(r_->Node(node).block, row);
  }
  std::optional<ResultValue> RowField(uint32_t node, uint32_t row,
                                      std::string_view field) const override {
    const ResultReader::NodeInfo n = r_->Node(node);
    if (field == "id") return r_->Id(n.block, row);
    for (uint32_t i = 0; i < n.items; ++i) {
      const ResultReader::Item item = r_->NodeItem(node, i);
      if (!item.is_include && item.name == field && item.column >= 0) {
        return r_->Cell(n.block, static_cast<uint32_t>(item.column), row);
      }
    }
    return std::nullopt;
  }
  std::optional<uint32_t> ChildNode(uint32_t node, std::string_view relation) const override {
    const uint32_t items = r_->Node(node).items;
    for (uint32_t i = 0; i < items; ++i) {
      const ResultReader::Item item = r_->NodeItem(node, i);
      if (item.is_include && item.name == relation) return item.child;
    }
    return std::nullopt;
  }
  std::vector<uint32_t> ChildRows(uint32_t, uint32_t row, uint32_t child) const override {
    std::optional<uint32_t> slot = ReachedSlot(child, row);
    if (!slot) return {};
    const ResultReader::Slot s = r_->NodeSlot(child, *slot);
    std::vector<uint32_t> out;
    out.reserve(s.end - s.begin);
    for (uint32_t k = s.begin; k < s.end; ++k) out.push_back(r_->Child(child, k));
    return out;
  }
  std::optional<std::string> ChildNext(uint32_t, uint32_t row, uint32_t child) const override {
    std::optional<uint32_t> slot = ReachedSlot(child, row);
    if (!slot) return std::nullopt;
    std::optional<std::string_view> n = r_->SlotNext(child, *slot);
    if (!n) return std::nullopt;
    return std::string(*n);
  }

 private:
  std::optional<uint32_t> ReachedSlot(uint32_t child, uint32_t row) const {
    if (!r_->Node(child).processed) return std::nullopt;
    return r_->SlotOf(child, row);
  }
  std::unique_ptr<const ResultReader> r_;
};

}  // namespace

// A table cell: strings as they are, other values as JSON without quotes.
std::string TableCell(const ResultValue& v) {
  if (v.kind == ResultValue::Kind::kString) return std::string(v.string_value);
  std::string s;
  AppendResultValue(&s, v);
  if (s.size() > 1 && s.front() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// "TITLE (N rows)", the header, a rule and the rows, columns aligned, then
// a blank line.
std::string FormatTable(std::string_view title, const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& cells) {
  std::string out;
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& line : cells) width[c] = std::max(width[c], line[c].size());
  }
  auto row = [&](const std::vector<std::string>& line) {
    for (size_t c = 0; c < line.size(); ++c) {
      out += c ? " | " : "";
      out += line[c];
      if (c + 1 < line.size()) out.append(width[c] - line[c].size(), ' ');
    }
    out += '\n';
  };
  out += std::string(title) + " (" + std::to_string(cells.size()) + " rows)\n";
  row(header);
  for (size_t c = 0; c < header.size(); ++c) {
    out += c ? "-+-" : "";
    out.append(width[c], '-');
  }
  out += '\n';
  for (const auto& line : cells) row(line);
  out += '\n';
  return out;
}

void AppendResultValue(std::string* out, const ResultValue& v) {
  using Kind = ResultValue::Kind;
  switch (v.kind) {
    case Kind::kNull:
      *out += "null";
      return;
    case Kind::kBool:
      *out += v.bool_value ? "true" : "false";
      return;
    case Kind::kInt: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.int_value);
      out->append(buf, r.ptr);
      return;
    }
    case Kind::kFloat:
      *out += ToJson(Json(v.float_value));
      return;
    case Kind::kString:
      AppendJsonString(out, v.string_value);
      return;
    case Kind::kBytes:
      AppendJsonString(out, Base64Encode(v.string_value));
      return;
    case Kind::kTimestamp:
      AppendJsonString(out, FormatTimestamp(v.int_value));
      return;
    case Kind::kUuid: {
      Uuid u;
      u.bytes = v.uuid_value;
      AppendJsonString(out, FormatUuid(u));
      return;
    }
    case Kind::kJson: {
      // As the engine renders JSON values: re-serialized.
      auto j = ParseJson(v.string_value);
      if (j.ok()) {
        *out += ToJson(*j);
      } else {
        AppendJsonString(out, v.string_value);
      }
      return;
    }
  }
  *out += "null";
}

std::string RenderTreeJson(const ResultReader& r) {
  std::string out = "{\"version\":";
  AppendUint(&out, r.version());
  out += ",\"data\":[";
  const ResultReader::Slot root = RootSlot(r);
  for (uint32_t k = root.begin; k < root.end; ++k) {
    if (k > root.begin) out += ',';
    AppendObject(&out, r, 0, r.Child(0, k));
  }
  AppendTail(&out, r);
  return out;
}

std::string RenderBlocksJson(const ResultReader& r) {
  std::string out = "{\"version\":";
  AppendUint(&out, r.version());
  out += ",\"entities\":{";
  for (uint32_t b = 0; b < r.BlockCount(); ++b) {
    if (b) out += ',';
    AppendJsonString(&out, r.BlockEntity(b));
    out += ":{\"ids\":[";
    const uint32_t rows = r.BlockRows(b);
    for (uint32_t i = 0; i < rows; ++i) {
      if (i) out += ',';
      AppendResultValue(&out, r.Id(b, i));
    }
    out += "],\"fields\":{";
    for (uint32_t c = 0; c < r.ColumnCount(b); ++c) {
      if (c) out += ',';
      AppendJsonString(&out, r.ColumnName(b, c));
      out += ":[";
      for (uint32_t i = 0; i < rows; ++i) {
        if (i) out += ',';
        AppendResultValue(&out, r.Cell(b, c, i));
      }
      out += ']';
    }
    out += "}}";
  }
  out += "},\"edges\":{";
  bool first = true;
  for (uint32_t node = 1; node < r.NodeCount(); ++node) {
    const ResultReader::NodeInfo n = r.Node(node);
    if (!n.processed) continue;
    if (!first) out += ',';
    first = false;
    AppendJsonString(&out, n.path);
    out += ":[";
    bool any = false;
    // Slots in parent-row order of first appearance.
    for (uint32_t slot = 0; slot < r.SlotCount(node); ++slot) {
      const uint32_t parent = r.SlotParent(node, slot);
      const ResultReader::Slot s = r.NodeSlot(node, slot);
      for (uint32_t k = s.begin; k < s.end; ++k) {
        if (any) out += ',';
        any = true;
        out += '[';
        AppendUint(&out, parent);
        out += ',';
        AppendUint(&out, r.Child(node, k));
        out += ']';
      }
    }
    out += ']';
  }
  out += "},\"roots\":[";
  const ResultReader::Slot root = RootSlot(r);
  for (uint32_t k = root.begin; k < root.end; ++k) {
    if (k > root.begin) out += ',';
    AppendUint(&out, r.Child(0, k));
  }
  AppendTail(&out, r);
  return out;
}

std::string RenderTables(const ResultReader& r) {
  std::string out;
  for (uint32_t b = 0; b < r.BlockCount(); ++b) {
    const uint32_t rows = r.BlockRows(b);
    if (rows == 0) continue;
    std::vector<std::string> header = {"id"};
    for (uint32_t c = 0; c < r.ColumnCount(b); ++c) header.emplace_back(r.ColumnName(b, c));
    std::vector<std::vector<std::string>> cells;
    for (uint32_t i = 0; i < rows; ++i) {
      std::vector<std::string> line;
      std::string id;
      AppendResultValue(&id, r.Id(b, i));
      line.push_back(std::move(id));
      for (uint32_t c = 0; c < r.ColumnCount(b); ++c) line.push_back(TableCell(r.Cell(b, c, i)));
      cells.push_back(std::move(line));
    }
    out += FormatTable(r.BlockEntity(b), header, cells);
  }
  for (uint32_t node = 1; node < r.NodeCount(); ++node) {
    const ResultReader::NodeInfo n = r.Node(node);
    if (!n.processed) continue;
    out += std::string(n.path) + ": " + std::to_string(r.ChildCount(node)) + " edges\n";
  }
  FetchStats s = r.stats();
  out += "version " + std::to_string(r.version()) + ", " + std::to_string(s.entities) +
         " entities, " + std::to_string(s.edges) + " edges";
  if (s.truncated) out += ", truncated at " + s.truncated_at;
  out += "\n";
  if (auto n = r.next()) out += "next: " + std::string(*n) + "\n";
  return out;
}

std::unique_ptr<FetchResult> MakeFetchResult(std::unique_ptr<const ResultReader> reader) {
  return std::make_unique<ReaderResult>(std::move(reader));
}

}  // namespace ormdb::query

namespace ormdb {

std::string ResultValue::ToJson() const {
  std::string out;
  query::AppendResultValue(&out, *this);
  return out;
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
