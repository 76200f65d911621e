#include "tools/table.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "common/json.h"

namespace ormdb::tools {
namespace {

struct Range {
  char32_t first, last;
};

// Zero width: combining marks (general category Mn, Me), zero-width
// spaces and joiners, format controls, variation selectors.
constexpr Range kZeroWidth[] = {
    {0x0300, 0x036F},   {0x0483, 0x0489},   {0x0591, 0x05BD},   {0x05BF, 0x05BF},
    {0x05C1, 0x05C2},   {0x05C4, 0x05C5},   {0x05C7, 0x05C7},   {0x0610, 0x061A},
    {0x064B, 0x065F},   {0x0670, 0x0670},   {0x06D6, 0x06DC},   {0x06DF, 0x06E4},
    {0x06E7, 0x06E8},   {0x06EA, 0x06ED},   {0x0711, 0x0711},   {0x0730, 0x074A},
    {0x07A6, 0x07B0},   {0x07EB, 0x07F3},   {0x0816, 0x082D},   {0x0859, 0x085B},
    {0x08D3, 0x0902},   {0x093A, 0x093A},   {0x093C, 0x093C},   {0x0941, 0x0948},
    {0x094D, 0x094D},   {0x0951, 0x0957},   {0x0962, 0x0963},   {0x0981, 0x0981},
    {0x09BC, 0x09BC},   {0x09C1, 0x09C4},   {0x09CD, 0x09CD},   {0x0A01, 0x0A02},
    {0x0A3C, 0x0A3C},   {0x0A41, 0x0A51},   {0x0A70, 0x0A71},   {0x0A81, 0x0A82},
    {0x0ABC, 0x0ABC},   {0x0AC1, 0x0AC8},   {0x0ACD, 0x0ACD},   {0x0B01, 0x0B01},
    {0x0B3C, 0x0B3C},   {0x0B3F, 0x0B3F},   {0x0B41, 0x0B44},   {0x0B4D, 0x0B4D},
    {0x0BC0, 0x0BC0},   {0x0BCD, 0x0BCD},   {0x0C3E, 0x0C40},   {0x0C46, 0x0C56},
    {0x0CBC, 0x0CBC},   {0x0CCC, 0x0CCD},   {0x0D41, 0x0D44},   {0x0D4D, 0x0D4D},
    {0x0DCA, 0x0DCA},   {0x0DD2, 0x0DD6},   {0x0E31, 0x0E31},   {0x0E34, 0x0E3A},
    {0x0E47, 0x0E4E},   {0x0EB1, 0x0EB1},   {0x0EB4, 0x0EBC},   {0x0EC8, 0x0ECD},
    {0x0F18, 0x0F19},   {0x0F35, 0x0F35},   {0x0F37, 0x0F37},   {0x0F39, 0x0F39},
    {0x0F71, 0x0F7E},   {0x0F80, 0x0F84},   {0x0F86, 0x0F87},   {0x0F8D, 0x0FBC},
    {0x102D, 0x1030},   {0x1032, 0x1037},   {0x1039, 0x103A},   {0x1160, 0x11FF},
    {0x135D, 0x135F},   {0x1712, 0x1714},   {0x17B4, 0x17B5},   {0x17B7, 0x17BD},
    {0x17C6, 0x17C6},   {0x17C9, 0x17D3},   {0x180B, 0x180F},   {0x1AB0, 0x1AFF},
    {0x1B00, 0x1B03},   {0x1B34, 0x1B34},   {0x1B36, 0x1B3A},   {0x1DC0, 0x1DFF},
    {0x200B, 0x200F},   {0x202A, 0x202E},   {0x2060, 0x2064},   {0x20D0, 0x20FF},
    {0x2CEF, 0x2CF1},   {0x2DE0, 0x2DFF},   {0x302A, 0x302D},   {0x3099, 0x309A},
    {0xA66F, 0xA672},   {0xA674, 0xA67D},   {0xA69E, 0xA69F},   {0xA6F0, 0xA6F1},
    {0xA8E0, 0xA8F1},   {0xFB1E, 0xFB1E},   {0xFE00, 0xFE0F},   {0xFE20, 0xFE2F},
    {0xFEFF, 0xFEFF},   {0x1D167, 0x1D169}, {0x1D17B, 0x1D182}, {0x1D185, 0x1D18B},
    {0x1D1AA, 0x1D1AD}, {0xE0001, 0xE007F}, {0xE0100, 0xE01EF},
};

// Two columns: East Asian Wide (W) and Fullwidth (F).
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
    {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
    {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x3247},   {0x3250, 0x4DBF},   {0x4E00, 0xA4CF},   {0xA960, 0xA97F},
    {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},
    {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4}, {0x17000, 0x18CFF},
    {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E},
    {0x1F191, 0x1F19A}, {0x1F200, 0x1F202}, {0x1F210, 0x1F23B}, {0x1F240, 0x1F248},
    {0x1F250, 0x1F251}, {0x1F260, 0x1F265}, {0x1F300, 0x1F320}, {0x1F32D, 0x1F335},
    {0x1F337, 0x1F37C}, {0x1F37E, 0x1F393}, {0x1F3A0, 0x1F3CA}, {0x1F3CF, 0x1F3D3},
    {0x1F3E0, 0x1F3F0}, {0x1F3F4, 0x1F3F4}, {0x1F3F8, 0x1F43E}, {0x1F440, 0x1F440},
    {0x1F442, 0x1F4FC}, {0x1F4FF, 0x1F53D}, {0x1F54B, 0x1F54E}, {0x1F550, 0x1F567},
    {0x1F57A, 0x1F57A}, {0x1F595, 0x1F596}, {0x1F5A4, 0x1F5A4}, {0x1F5FB, 0x1F64F},
    {0x1F680, 0x1F6C5}, {0x1F6CC, 0x1F6CC}, {0x1F6D0, 0x1F6D2}, {0x1F6D5, 0x1F6D7},
    {0x1F6EB, 0x1F6EC}, {0x1F6F4, 0x1F6FC}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F93A},
    {0x1F93C, 0x1F945}, {0x1F947, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD},
    {0x30000, 0x3FFFD},
};

template <size_t N>
bool InRanges(const Range (&ranges)[N], char32_t c) {
  const Range* end = ranges + N;
  const Range* r =
      std::upper_bound(ranges, end, c, [](char32_t v, const Range& x) { return v < x.first; });
  return r != ranges && c <= (r - 1)->last;
}

size_t CharWidth(char32_t c) {
  if (c < 0x300) return 1;
  if (InRanges(kZeroWidth, c)) return 0;
  if (InRanges(kWide, c)) return 2;
  return 1;
}

// Decodes one UTF-8 sequence at text[*i]; an invalid byte is returned as
// itself (one column) and skipped.
char32_t NextChar(std::string_view text, size_t* i) {
  unsigned char b = static_cast<unsigned char>(text[*i]);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (len == 0 || *i + len > text.size()) {
    ++*i;
    return b;
  }
  char32_t c = len == 1 ? b : len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
  for (size_t k = 1; k < len; ++k) {
    unsigned char cont = static_cast<unsigned char>(text[*i + k]);
    if ((cont & 0xC0) != 0x80) {
      ++*i;
      return b;
    }
    c = (c << 6) | (cont & 0x3F);
  }
  *i += len;
  return c;
}

// A cell's text: strings as they are, with control characters escaped so a
// cell stays on its line.
std::string CellText(const ResultValue& v) {
  std::string out;
  if (v.kind == ResultValue::Kind::kString) {
    static const char kHex[] = "0123456789abcdef";
    for (char ch : v.string_value) {
      unsigned char c = static_cast<unsigned char>(ch);
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c < 0x20 || c == 0x7f) {
        out += "\\x";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      } else {
        out.push_back(ch);
      }
    }
    return out;
  }
  out = v.ToJson();
  if (out.size() > 1 && out.front() == '"' && v.kind != ResultValue::Kind::kJson) {
    out = out.substr(1, out.size() - 2);
  }
  return out;
}

// What the tree JSON says about one include path: its keys in order (the
// union over its objects) and whether it holds a list (to-many).
struct PathShape {
  std::vector<std::string> keys;
  bool list = true;
};

void CollectShapes(const Json& object, const std::string& path,
                   std::map<std::string, PathShape>* shapes) {
  if (!object.is_object()) return;
  PathShape& shape = (*shapes)[path];
  for (const auto& [key, value] : object.as_object()) {
    if (key == "id" || key.find('@') != std::string::npos) continue;
    if (std::find(shape.keys.begin(), shape.keys.end(), key) == shape.keys.end()) {
      shape.keys.push_back(key);
    }
    std::string child = path.empty() ? key : path + "." + key;
    if (value.is_array()) {
      (*shapes)[child];
      for (const Json& e : value.as_array()) CollectShapes(e, child, shapes);
    } else if (value.is_object()) {
      (*shapes)[child].list = false;
      CollectShapes(value, child, shapes);
    }
  }
}

// One table of the tree: the rows of one include under one parent row (or
// the root rows).
struct Table {
  std::string path;   // "" for the root, "posts", "posts.tags"
  std::string title;  // "User (2 rows)", "posts (1 row, more follow)"
  std::vector<std::string> header;
  struct Row {
    std::vector<std::string> cells;
    std::vector<std::unique_ptr<Table>> children;
  };
  std::vector<Row> rows;
  bool null_one = false;  // a to-one include that is null: "author: null"
};

std::string Rows(size_t n) { return std::to_string(n) + (n == 1 ? " row" : " rows"); }

class TreeBuilder {
 public:
  explicit TreeBuilder(const std::map<std::string, PathShape>& shapes) : shapes_(shapes) {}

  std::unique_ptr<Table> Build(const std::string& path, std::string name,
                               const std::vector<ResultObject>& objects, bool more) {
    auto table = std::make_unique<Table>();
    table->path = path;
    auto shape_it = shapes_.find(path);
    // No shape: a to-one include that is null wherever it occurs.
    static const PathShape kEmpty{{}, /*list=*/false};
    const PathShape& shape = shape_it == shapes_.end() ? kEmpty : shape_it->second;
    if (!path.empty() && !shape.list && objects.empty()) {
      table->title = name + ": null";
      table->null_one = true;
      return table;
    }
    table->title = name + " (" + Rows(objects.size()) + (more ? ", more follow" : "") + ")";
    // Fields are what Get answers; every other key is an include.
    std::vector<std::string> fields, includes;
    table->header.push_back("id");
    for (const std::string& key : shape.keys) {
      bool field = !objects.empty() && objects.front().Get(key).has_value();
      (field ? fields : includes).push_back(key);
      if (field) table->header.push_back(key);
    }
    std::vector<size_t>& width = widths_[path];
    width.resize(std::max(width.size(), table->header.size()), 0);
    for (size_t c = 0; c < table->header.size(); ++c) {
      width[c] = std::max(width[c], DisplayWidth(table->header[c]));
    }
    for (const ResultObject& o : objects) {
      Table::Row row;
      row.cells.push_back(CellText(o.id()));
      for (const std::string& f : fields) {
        std::optional<ResultValue> v = o.Get(f);
        row.cells.push_back(v ? CellText(*v) : "");
      }
      for (size_t c = 0; c < row.cells.size(); ++c) {
        width[c] = std::max(width[c], DisplayWidth(row.cells[c]));
      }
      for (const std::string& inc : includes) {
        std::string child = path.empty() ? inc : path + "." + inc;
        row.children.push_back(Build(child, inc, o.Related(inc), o.RelatedNext(inc).has_value()));
      }
      table->rows.push_back(std::move(row));
    }
    return table;
  }

  void Print(const Table& t, size_t depth, std::string* out) const {
    std::string indent(2 * depth, ' ');
    *out += indent + t.title + "\n";
    if (t.null_one || t.rows.empty()) return;
    const std::vector<size_t>& width = widths_.at(t.path);
    auto line = [&](const std::vector<std::string>& cells) {
      *out += indent;
      for (size_t c = 0; c < cells.size(); ++c) {
        if (c) *out += " | ";
        *out += cells[c];
        if (c + 1 < cells.size()) out->append(width[c] - DisplayWidth(cells[c]), ' ');
      }
      *out += '\n';
    };
    line(t.header);
    *out += indent;
    for (size_t c = 0; c < t.header.size(); ++c) {
      if (c) *out += "-+-";
      out->append(width[c], '-');
    }
    *out += '\n';
    for (const Table::Row& row : t.rows) {
      line(row.cells);
      for (const auto& child : row.children) Print(*child, depth + 1, out);
    }
  }

 private:
  const std::map<std::string, PathShape>& shapes_;
  std::map<std::string, std::vector<size_t>> widths_;  // per include path
};

// The root entity's name when there are no roots to ask: the blocks name
// the root's entity first.
std::string RootEntity(const FetchResult& result, const std::vector<ResultObject>& roots) {
  if (!roots.empty()) return std::string(roots.front().entity());
  auto blocks = ParseJson(result.ToBlocksJson());
  if (blocks.ok() && blocks->is_object()) {
    const Json* entities = blocks->Find("entities");
    if (entities && entities->is_object() && !entities->as_object().empty()) {
      return entities->as_object().front().first;
    }
  }
  return "result";
}

}  // namespace

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size();) {
    unsigned char b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      ++width;
      ++i;
      continue;
    }
    width += CharWidth(NextChar(text, &i));
  }
  return width;
}

std::string RenderTreeTable(const FetchResult& result) {
  std::map<std::string, PathShape> shapes;
  if (auto tree = ParseJson(result.ToJson()); tree.ok() && tree->is_object()) {
    if (const Json* data = tree->Find("data"); data && data->is_array()) {
      shapes[""];
      for (const Json& row : data->as_array()) CollectShapes(row, "", &shapes);
    }
  }
  std::vector<ResultObject> roots = result.roots();
  TreeBuilder builder(shapes);
  std::unique_ptr<Table> root = builder.Build("", RootEntity(result, roots), roots, false);
  std::string out;
  builder.Print(*root, 0, &out);
  FetchStats stats = result.stats();
  out += "\nversion " + std::to_string(result.version()) + ", " + std::to_string(stats.entities) +
         " entities, " + std::to_string(stats.edges) + " edges";
  if (stats.truncated) out += ", truncated at " + stats.truncated_at;
  out += "\n";
  if (auto next = result.next()) out += "next: " + *next + "\n";
  return out;
}

}  // namespace ormdb::tools
