// The queries file of `ormdb codegen python SCHEMA --queries FILE`: named
// fetches in the text form, checked against the schema at generation time.
#include <string>
#include <vector>

#include "codegen/codegen.h"
#include "query/compiler.h"
#include "query/parser.h"

namespace ormdb::codegen {
namespace {

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Turns "query:3:14: unknown field ..." (the parser's and the compiler's
// prefix) into "FILE:3:14: ...".
Status InFile(const Status& st, std::string_view file_name) {
  std::string message = st.message();
  if (message.rfind("query:", 0) == 0) {
    message = std::string(file_name) + ":" + message.substr(6);
  } else {
    message = std::string(file_name) + ": " + message;
  }
  return Status(st.code(), message);
}

// The file with every `//` comment (outside strings) blanked out, so that
// positions stay where they were.
std::string WithoutComments(std::string_view text) {
  std::string out(text);
  bool in_string = false;
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (in_string) {
      if (c == '\\' && i + 1 < out.size()) {
        ++i;
      } else if (c == '"' || c == '\n') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '/' && i + 1 < out.size() && out[i + 1] == '/') {
      while (i < out.size() && out[i] != '\n') out[i++] = ' ';
      --i;
    }
  }
  return out;
}

// The 1-based line and column (in code points) of byte `offset`.
std::pair<int, int> LineColumn(std::string_view text, size_t offset) {
  int line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace

Result<std::vector<NamedQuery>> ParseQueries(
    std::string_view original, std::string_view file_name,
    std::shared_ptr<const catalog::CompiledSchema> schema) {
  const std::string text = WithoutComments(original);
  auto error = [&](size_t offset, const std::string& what) {
    auto [line, column] = LineColumn(text, offset);
    return InvalidArgument(std::string(file_name) + ":" + std::to_string(line) + ":" +
                           std::to_string(column) + ": " + what);
  };
  std::vector<NamedQuery> out;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  auto word = [&] {
    size_t start = i;
    if (i < text.size() && IsNameStart(text[i])) {
      while (i < text.size() && IsNameChar(text[i])) ++i;
    }
    return text.substr(start, i - start);
  };
  for (skip_space(); i < text.size(); skip_space()) {
    const size_t query_at = i;
    if (word() != "query") return error(query_at, "expected 'query NAME' and a fetch");
    skip_space();
    const size_t name_at = i;
    std::string name = word();
    if (name.empty()) return error(name_at, "expected the query's name after 'query'");
    for (const NamedQuery& q : out) {
      if (q.name == name) {
        return error(name_at, "query '" + name + "' is defined twice (first on line " +
                                  std::to_string(q.line) + ")");
      }
    }
    skip_space();
    // The fetch runs to the brace that closes its selection.
    const size_t start = i;
    int braces = 0;
    bool opened = false, in_string = false;
    for (; i < text.size() && !(opened && braces == 0); ++i) {
      char c = text[i];
      if (in_string) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{') {
        ++braces;
        opened = true;
      } else if (c == '}') {
        --braces;
      }
    }
    if (!opened || braces != 0) {
      return error(start, "the fetch of query '" + name + "' has no closing '}'");
    }
    // Parsed with everything before it blanked, so that positions are the
    // file's (columns count code points: continuation bytes are dropped).
    std::string padded;
    for (size_t k = 0; k < start; ++k) {
      char c = text[k];
      if (c == '\n') {
        padded.push_back('\n');
      } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
        padded.push_back(' ');
      }
    }
    padded.append(text, start, i - start);
    auto fetch = query::ParseFetchText(padded);
    if (!fetch.ok()) return InFile(fetch.status(), file_name);
    Status checked = query::CheckFetchNames(*fetch, schema);
    if (!checked.ok()) return InFile(checked, file_name);
    NamedQuery q;
    q.name = std::move(name);
    q.fetch = std::move(*fetch);
    q.line = LineColumn(text, query_at).first;
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace ormdb::codegen
