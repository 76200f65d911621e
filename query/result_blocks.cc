#include "query/result_blocks.h"

#include <algorithm>
#include <charconv>

#include "common/json.h"
#include "common/timestamp.h"
#include "common/uuid.h"
#include "query/json_values.h"

namespace ormdb::query {
namespace {

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

void AppendValue(std::string* out, const Value& v) {
  switch (v.type()) {
    case ValueType::kNull:
      *out += "null";
      return;
    case ValueType::kBool:
      *out += v.as_bool() ? "true" : "false";
      return;
    case ValueType::kInt32:
      AppendInt(out, v.as_int32());
      return;
    case ValueType::kInt64:
      AppendInt(out, v.as_int64());
      return;
    case ValueType::kString:
      AppendJsonString(out, v.as_string());
      return;
    case ValueType::kTimestamp:
      AppendJsonString(out, FormatTimestamp(v.as_int64()));
      return;
    case ValueType::kUuid:
      AppendJsonString(out, FormatUuid(v.as_uuid()));
      return;
    default:
      *out += ToJson(ValueToJson(v));
      return;
  }
}

void AppendStats(std::string* out, const FetchCounters& c) {
  *out += "{\"entities\":";
  AppendInt(out, static_cast<int64_t>(c.entities));
  *out += ",\"edges\":";
  AppendInt(out, static_cast<int64_t>(c.edges));
  *out += ",\"truncated\":";
  *out += c.truncated ? "true" : "false";
  if (c.truncated) {
    *out += ",\"truncated_at\":";
    AppendJsonString(out, c.truncated_at);
  }
  *out += "}";
}

void AppendNext(std::string* out, const std::optional<std::string>& next) {
  if (next) {
    AppendJsonString(out, *next);
  } else {
    *out += "null";
  }
}

class TreeRenderer {
 public:
  TreeRenderer(const ResultBlocks& r, std::string* out) : r_(r), out_(out) {}

  void Object(int node, uint32_t row) {
    const Node& n = r_.plan->nodes[node];
    const NodeBlock& nb = r_.nodes[node];
    const EntityBlock& b = r_.entities[nb.block];
    *out_ += "{\"id\":";
    AppendValue(out_, b.ids[row]);
    for (size_t i = 0; i < n.items.size(); ++i) {
      const OutputItem& item = n.items[i];
      if (item.kind != OutputItem::Kind::kInclude) {
        *out_ += ',';
        AppendJsonString(out_, item.name);
        *out_ += ':';
        AppendValue(out_, b.values[nb.item_columns[i]][row]);
        continue;
      }
      const Node& cn = r_.plan->nodes[item.child];
      const NodeBlock& cb = r_.nodes[item.child];
      if (!cb.processed) continue;
      auto it = cb.slot_of.find(row);
      if (it == cb.slot_of.end()) continue;  // not reached before a truncation
      uint32_t slot = it->second;
      uint32_t begin = cb.slot_begin[slot], end = cb.slot_end[slot];
      if (cn.kind == Node::Kind::kToOne) {
        if (begin == end && cb.slot_partial[slot]) continue;  // cut, never rendered as null
        *out_ += ',';
        AppendJsonString(out_, item.name);
        *out_ += ':';
        if (begin == end) {
          *out_ += "null";
        } else {
          Object(item.child, cb.children[begin]);
        }
        continue;
      }
      *out_ += ',';
      AppendJsonString(out_, item.name);
      *out_ += ":[";
      for (uint32_t k = begin; k < end; ++k) {
        if (k > begin) *out_ += ',';
        Object(item.child, cb.children[k]);
      }
      *out_ += ']';
      if (cn.limit_slot >= 0) {
        *out_ += ',';
        AppendJsonString(out_, item.name + "@next");
        *out_ += ':';
        AppendNext(out_, cb.slot_next[slot]);
      }
    }
    *out_ += '}';
  }

 private:
  const ResultBlocks& r_;
  std::string* out_;
};

}  // namespace

std::string RenderTreeJson(const ResultBlocks& r) {
  std::string out = "{\"version\":";
  AppendInt(&out, static_cast<int64_t>(r.version));
  out += ",\"data\":[";
  const NodeBlock& root = r.nodes[0];
  TreeRenderer tr(r, &out);
  if (root.processed && !root.slot_begin.empty()) {
    for (uint32_t k = root.slot_begin[0]; k < root.slot_end[0]; ++k) {
      if (k > root.slot_begin[0]) out += ',';
      tr.Object(0, root.children[k]);
    }
  }
  out += "],\"next\":";
  AppendNext(&out, r.next);
  out += ",\"stats\":";
  AppendStats(&out, r.counters);
  out += '}';
  return out;
}

std::string RenderBlocksJson(const ResultBlocks& r) {
  std::string out = "{\"version\":";
  AppendInt(&out, static_cast<int64_t>(r.version));
  out += ",\"entities\":{";
  for (size_t b = 0; b < r.entities.size(); ++b) {
    const EntityBlock& eb = r.entities[b];
    if (b) out += ',';
    AppendJsonString(&out, eb.entity->name);
    out += ":{\"ids\":[";
    for (size_t i = 0; i < eb.ids.size(); ++i) {
      if (i) out += ',';
      AppendValue(&out, eb.ids[i]);
    }
    out += "],\"fields\":{";
    for (size_t c = 0; c < eb.columns.size(); ++c) {
      if (c) out += ',';
      AppendJsonString(&out, eb.columns[c]);
      out += ":[";
      for (size_t i = 0; i < eb.values[c].size(); ++i) {
        if (i) out += ',';
        AppendValue(&out, eb.values[c][i]);
      }
      out += ']';
    }
    out += "}}";
  }
  out += "},\"edges\":{";
  bool first = true;
  for (size_t i = 1; i < r.nodes.size(); ++i) {
    const NodeBlock& nb = r.nodes[i];
    if (!nb.processed) continue;
    if (!first) out += ',';
    first = false;
    const Node& n = r.plan->nodes[i];
    AppendJsonString(&out, n.path);
    out += ":[";
    bool any = false;
    // Slots in parent-row order of first appearance.
    std::vector<std::pair<uint32_t, uint32_t>> slots(nb.slot_of.begin(), nb.slot_of.end());
    std::sort(slots.begin(), slots.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    for (auto [parent, slot] : slots) {
      for (uint32_t k = nb.slot_begin[slot]; k < nb.slot_end[slot]; ++k) {
        if (any) out += ',';
        any = true;
        out += '[';
        AppendInt(&out, parent);
        out += ',';
        AppendInt(&out, nb.children[k]);
        out += ']';
      }
    }
    out += ']';
  }
  out += "},\"roots\":[";
  const NodeBlock& root = r.nodes[0];
  if (root.processed && !root.slot_begin.empty()) {
    for (uint32_t k = root.slot_begin[0]; k < root.slot_end[0]; ++k) {
      if (k > root.slot_begin[0]) out += ',';
      AppendInt(&out, root.children[k]);
    }
  }
  out += "],\"next\":";
  AppendNext(&out, r.next);
  out += ",\"stats\":";
  AppendStats(&out, r.counters);
  out += '}';
  return out;
}

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

std::string RenderTables(const ResultBlocks& r) {
  std::string out;
  for (const EntityBlock& eb : r.entities) {
    if (eb.rows.empty()) continue;
    std::vector<std::string> header = {"id"};
    for (const std::string& c : eb.columns) header.push_back(c);
    std::vector<std::vector<std::string>> cells;
    for (size_t i = 0; i < eb.rows.size(); ++i) {
      std::vector<std::string> line;
      std::string v;
      AppendValue(&v, eb.ids[i]);
      line.push_back(v);
      for (size_t c = 0; c < eb.columns.size(); ++c) {
        v.clear();
        if (eb.values[c][i].type() == ValueType::kString) {
          v = eb.values[c][i].as_string();
        } else {
          AppendValue(&v, eb.values[c][i]);
          if (v.size() > 1 && v.front() == '"') v = v.substr(1, v.size() - 2);
        }
        line.push_back(v);
      }
      cells.push_back(std::move(line));
    }
    out += FormatTable(eb.entity->name, header, cells);
  }
  for (size_t i = 1; i < r.nodes.size(); ++i) {
    if (!r.nodes[i].processed) continue;
    out += r.plan->nodes[i].path + ": " + std::to_string(r.nodes[i].children.size()) + " edges\n";
  }
  out += "version " + std::to_string(r.version) + ", " + std::to_string(r.counters.entities) +
         " entities, " + std::to_string(r.counters.edges) + " edges";
  if (r.counters.truncated) out += ", truncated at " + r.counters.truncated_at;
  out += "\n";
  if (r.next) out += "next: " + *r.next + "\n";
  return out;
}

}  // namespace ormdb::query
