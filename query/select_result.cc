#include "query/select_result.h"

#include "common/json.h"
#include "query/result_blocks.h"
#include "query/result_render.h"

namespace ormdb {

std::string SelectResult::ToJson() const {
  std::string out = "{\"version\":" + std::to_string(version()) + ",\"columns\":[";
  const size_t columns = column_count();
  for (size_t c = 0; c < columns; ++c) {
    if (c) out += ',';
    AppendJsonString(&out, column_name(c));
  }
  out += "],\"rows\":[";
  const size_t rows = row_count();
  for (size_t r = 0; r < rows; ++r) {
    out += r ? ",[" : "[";
    for (size_t c = 0; c < columns; ++c) {
      if (c) out += ',';
      query::AppendResultValue(&out, Get(r, c));
    }
    out += ']';
  }
  out += "],\"next\":";
  if (std::optional<std::string> n = next()) {
    AppendJsonString(&out, *n);
  } else {
    out += "null";
  }
  out += '}';
  return out;
}

std::string SelectResult::ToTable() const {
  std::vector<std::string> header;
  for (size_t c = 0; c < column_count(); ++c) header.emplace_back(column_name(c));
  std::vector<std::vector<std::string>> cells(row_count());
  for (size_t r = 0; r < cells.size(); ++r) {
    for (size_t c = 0; c < header.size(); ++c) cells[r].push_back(query::TableCell(Get(r, c)));
  }
  std::string out = query::FormatTable("select", header, cells);
  out += "version " + std::to_string(version());
  if (std::optional<std::string> n = next()) out += ", next: " + *n;
  out += '\n';
  return out;
}

namespace {

// RFC 4180: a field with a comma, a quote or a line break is quoted, its
// quotes doubled.
void AppendCsvField(std::string* out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(s);
    return;
  }
  *out += '"';
  for (char c : s) {
    if (c == '"') *out += '"';
    *out += c;
  }
  *out += '"';
}

}  // namespace

std::string SelectResult::ToCsv() const {
  std::string out;
  const size_t columns = column_count();
  for (size_t c = 0; c < columns; ++c) {
    if (c) out += ',';
    AppendCsvField(&out, column_name(c));
  }
  out += '\n';
  for (size_t r = 0; r < row_count(); ++r) {
    for (size_t c = 0; c < columns; ++c) {
      if (c) out += ',';
      const ResultValue v = Get(r, c);
      if (!v.is_null()) AppendCsvField(&out, query::TableCell(v));
    }
    out += '\n';
  }
  return out;
}

namespace query {
namespace {

class BlockResult final : public SelectResult {
 public:
  explicit BlockResult(std::shared_ptr<const SelectBlock> b) : b_(std::move(b)) {}
  uint64_t version() const override { return b_->version; }
  std::optional<std::string> next() const override { return b_->next; }
  size_t column_count() const override { return b_->columns.size(); }
  std::string_view column_name(size_t column) const override { return b_->columns[column]; }
  size_t row_count() const override { return b_->rows; }
  ResultValue Get(size_t row, size_t column) const override {
    return ToResultValue(b_->values[column][row]);
  }

 private:
  std::shared_ptr<const SelectBlock> b_;
};

}  // namespace

std::unique_ptr<SelectResult> MakeSelectResult(std::shared_ptr<const SelectBlock> block) {
  return std::make_unique<BlockResult>(std::move(block));
}

}  // namespace query
}  // namespace ormdb
