// The declarative graph-fetch suite: see fetch_suite_runner.h and
// tests/fetch/README.md.
#include "tests/fetch_suite_runner.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

#include "common/json.h"
#include "query/select_parser.h"
#include "tests/served_database.h"

namespace ormdb::fetch_suite {
namespace {

namespace fs = std::filesystem;

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool IsComment(std::string_view line) {
  std::string_view t = Trim(line);
  return !t.empty() && t[0] == '#';
}

bool IsBlank(std::string_view line) { return Trim(line).empty(); }

Status FileError(const std::string& file, int line, const std::string& what) {
  return InvalidArgument(file + ":" + std::to_string(line) + ": " + what);
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::string cur;
  for (char c : text) {
    if (c == '\n') {
      if (!cur.empty() && cur.back() == '\r') cur.pop_back();
      lines.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) lines.push_back(std::move(cur));
  return lines;
}

// Splits a directive line into words; a word may be `params=` followed by a
// balanced JSON value (which may contain spaces); a word starting with '#'
// ends the line (a trailing comment).
Result<std::vector<std::string>> DirectiveWords(const std::string& file, int line_no,
                                                std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  while (true) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i >= line.size() || line[i] == '#') break;
    size_t start = i;
    // Scan a word; inside a JSON value after '=', track nesting and strings.
    int depth = 0;
    bool in_string = false;
    while (i < line.size()) {
      char c = line[i];
      if (in_string) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = false;
        }
        ++i;
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        --depth;
      } else if (depth == 0 && std::isspace(static_cast<unsigned char>(c))) {
        break;
      }
      ++i;
    }
    if (in_string || depth != 0) {
      return FileError(file, line_no, "unbalanced JSON in directive: " + std::string(line));
    }
    words.emplace_back(line.substr(start, i - start));
  }
  return words;
}

Result<uint64_t> ParseCount(const std::string& file, int line_no, std::string_view text) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return FileError(file, line_no,
                     "expected a non-negative integer, found '" + std::string(text) + "'");
  }
  return v;
}

// The options of a select case: as_of, budget-scanned and budget-rows.
SelectOptions SelectOptionsOf(const SuiteCase& c) {
  SelectOptions o;
  o.as_of = c.options.as_of;
  o.max_scanned_rows = c.options.max_scanned_rows;
  o.max_rows = c.max_rows;
  return o;
}

template <typename T>
Result<std::string> ToJsonOf(const Result<std::unique_ptr<T>>& r) {
  if (!r.ok()) return r.status();
  return (*r)->ToJson();
}

// Applies the options of a query/explain directive (the words after the
// directive name).
Status ParseOptions(const std::string& file, int line_no, const std::vector<std::string>& words,
                    size_t first, SuiteCase* c) {
  for (size_t w = first; w < words.size(); ++w) {
    const std::string& word = words[w];
    if (c->kind == SuiteCase::Kind::kExplain && word == "analyze") {
      c->analyze = true;
      continue;
    }
    size_t eq = word.find('=');
    if (eq == std::string::npos) return FileError(file, line_no, "unknown option '" + word + "'");
    std::string key = word.substr(0, eq);
    std::string value = word.substr(eq + 1);
    if (key == "params") {
      auto j = ParseJson(value);
      if (!j.ok() || !j->is_object()) {
        return FileError(file, line_no, "params must be a JSON object: " + value);
      }
      c->params_json = value;
      continue;
    }
    if (key == "on-exceed") {
      if (value == "error") {
        c->options.on_exceed = OnExceed::kError;
      } else if (value == "truncate") {
        c->options.on_exceed = OnExceed::kTruncate;
      } else {
        return FileError(file, line_no, "on-exceed must be error or truncate");
      }
      continue;
    }
    ORMDB_ASSIGN_OR_RETURN(uint64_t n, ParseCount(file, line_no, value));
    if (key == "as_of") {
      c->options.as_of = n;
    } else if (key == "budget-entities") {
      c->options.max_entities = n;
    } else if (key == "budget-edges") {
      c->options.max_edges = n;
    } else if (key == "budget-depth") {
      c->options.max_depth = n;
    } else if (key == "budget-bytes") {
      c->options.max_bytes = n;
    } else if (key == "budget-scanned") {
      c->options.max_scanned_rows = n;
    } else if (key == "budget-rows") {
      c->max_rows = n;
    } else {
      return FileError(file, line_no, "unknown option '" + key + "'");
    }
  }
  return Status::Ok();
}

std::string DefaultDataDir(const std::string& suite_path) {
#ifdef ORMDB_TEST_DATA_DIR
  (void)suite_path;
  return ORMDB_TEST_DATA_DIR;
#else
  return (fs::path(suite_path).parent_path() / ".." / "data").string();
#endif
}

// "error CODE rest of line" -> code, substring.
Status ParseErrorLine(const std::string& file, int line_no, std::string_view line, SuiteCase* c) {
  std::string_view t = Trim(line);
  t.remove_prefix(5);  // "error"
  t = Trim(t);
  size_t sp = t.find_first_of(" \t");
  std::string code(t.substr(0, sp));
  if (code.empty() || !ErrorCodeFromName(code)) {
    return FileError(file, line_no, "unknown error code '" + code + "'");
  }
  c->error_code = code;
  c->error_substring = sp == std::string_view::npos ? "" : std::string(Trim(t.substr(sp)));
  return Status::Ok();
}

bool StartsWithWord(std::string_view line, std::string_view word) {
  std::string_view t = Trim(line);
  return t.substr(0, word.size()) == word &&
         (t.size() == word.size() || std::isspace(static_cast<unsigned char>(t[word.size()])));
}

// ---- JSON comparison and pointers ----

std::string Describe(const Json& j) {
  std::string s = ToJson(j);
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  return s;
}

bool Diff(const Json& e, const Json& a, const std::string& path, std::string* out) {
  if (e.is_string() && e.as_string() == "<cursor>") {
    if (a.is_string()) return true;
    *out = path + ": expected a cursor string, found " + Describe(a);
    return false;
  }
  if (e.kind() != a.kind()) {
    *out = path + ": expected " + Describe(e) + ", found " + Describe(a);
    return false;
  }
  if (e.is_array()) {
    const auto& ea = e.as_array();
    const auto& aa = a.as_array();
    for (size_t i = 0; i < std::min(ea.size(), aa.size()); ++i) {
      if (!Diff(ea[i], aa[i], path + "[" + std::to_string(i) + "]", out)) return false;
    }
    if (ea.size() != aa.size()) {
      *out = path + ": expected " + std::to_string(ea.size()) + " elements, found " +
             std::to_string(aa.size()) + " (" + Describe(a) + ")";
      return false;
    }
    return true;
  }
  if (e.is_object()) {
    const auto& eo = e.as_object();
    const auto& ao = a.as_object();
    for (size_t i = 0; i < std::min(eo.size(), ao.size()); ++i) {
      if (eo[i].first != ao[i].first) {
        *out = path + ": member " + std::to_string(i) + " should be \"" + eo[i].first +
               "\", found \"" + ao[i].first + "\" (object " + Describe(a) + ")";
        return false;
      }
      if (!Diff(eo[i].second, ao[i].second, path + "." + eo[i].first, out)) return false;
    }
    if (eo.size() != ao.size()) {
      *out = path + ": expected members " + Describe(e) + ", found " + Describe(a);
      return false;
    }
    return true;
  }
  if (!(e == a)) {
    *out = path + ": expected " + Describe(e) + ", found " + Describe(a);
    return false;
  }
  return true;
}

// RFC 6901. nullptr when the pointer does not resolve.
const Json* ResolvePointer(const Json& doc, std::string_view pointer) {
  const Json* cur = &doc;
  if (pointer.empty()) return cur;
  if (pointer[0] != '/') return nullptr;
  size_t i = 1;
  while (true) {
    size_t slash = pointer.find('/', i);
    std::string_view raw = pointer.substr(i, slash == std::string_view::npos ? slash : slash - i);
    std::string token;
    for (size_t k = 0; k < raw.size(); ++k) {
      if (raw[k] == '~' && k + 1 < raw.size() && (raw[k + 1] == '0' || raw[k + 1] == '1')) {
        token.push_back(raw[k + 1] == '0' ? '~' : '/');
        ++k;
      } else {
        token.push_back(raw[k]);
      }
    }
    if (cur->is_object()) {
      cur = cur->Find(token);
      if (!cur) return nullptr;
    } else if (cur->is_array()) {
      size_t idx = 0;
      auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), idx);
      if (ec != std::errc() || p != token.data() + token.size() || idx >= cur->size()) {
        return nullptr;
      }
      cur = &cur->as_array()[idx];
    } else {
      return nullptr;
    }
    if (slash == std::string_view::npos) return cur;
    i = slash + 1;
  }
}

// Replaces {{next}}, {{/json/pointer}} and their ":tamper" forms with the
// string found in the previous query's result, JSON-escaped without quotes.
Result<std::string> Substitute(const std::string& text, const std::optional<Json>& previous) {
  std::string out;
  size_t i = 0;
  while (true) {
    size_t open = text.find("{{", i);
    if (open == std::string::npos) {
      out += text.substr(i);
      return out;
    }
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) return InvalidArgument("unterminated {{ in the query");
    out += text.substr(i, open - i);
    std::string ref = text.substr(open + 2, close - open - 2);
    bool tamper = false;
    if (ref.size() > 7 && ref.compare(ref.size() - 7, 7, ":tamper") == 0) {
      tamper = true;
      ref.resize(ref.size() - 7);
    }
    std::string pointer = ref == "next" ? "/next" : ref;
    if (!previous) {
      return InvalidArgument("{{" + ref + "}}: the previous query has no result");
    }
    const Json* v = ResolvePointer(*previous, pointer);
    if (!v || !v->is_string()) {
      return InvalidArgument("{{" + ref + "}}: the previous result has " +
                             (v ? Describe(*v) : std::string("nothing")) + " at " + pointer);
    }
    std::string value = v->as_string();
    if (tamper) {
      if (value.empty()) return InvalidArgument("{{" + ref + ":tamper}}: empty cursor");
      char& c = value[value.size() / 2];
      c = c == 'A' ? 'B' : 'A';
    }
    std::string quoted;
    AppendJsonString(&quoted, value);
    out += quoted.substr(1, quoted.size() - 2);
    i = close + 2;
  }
}

std::string OptionsText(const SuiteCase& c) {
  std::string s;
  auto add = [&](const std::string& k, const std::string& v) { s += " " + k + "=" + v; };
  if (c.options.as_of) add("as_of", std::to_string(*c.options.as_of));
  if (c.params_json != "{}") add("params", c.params_json);
  if (c.options.max_entities) add("budget-entities", std::to_string(*c.options.max_entities));
  if (c.options.max_edges) add("budget-edges", std::to_string(*c.options.max_edges));
  if (c.options.max_depth) add("budget-depth", std::to_string(*c.options.max_depth));
  if (c.options.max_bytes) add("budget-bytes", std::to_string(*c.options.max_bytes));
  if (c.options.max_scanned_rows) {
    add("budget-scanned", std::to_string(*c.options.max_scanned_rows));
  }
  if (c.options.on_exceed) {
    add("on-exceed", *c.options.on_exceed == OnExceed::kTruncate ? "truncate" : "error");
  }
  return s;
}

std::string ExpectedText(const SuiteCase& c) {
  if (c.error_code) return "error " + *c.error_code + " " + c.error_substring;
  if (c.kind == SuiteCase::Kind::kExplain) {
    std::string s;
    for (const auto& x : c.contains) s += "contains " + x + "\n";
    for (const auto& x : c.lacks) s += "lacks " + x + "\n";
    return s;
  }
  auto j = ParseJson(c.expected_json);
  return j.ok() ? ToJson(*j) : c.expected_json;
}

// Checks an error against the case's expectation; "" when it matches.
std::string CheckError(const SuiteCase& c, const Status& s) {
  std::string code(ErrorCodeName(s.code()));
  if (code != *c.error_code) return "wrong error code";
  if (s.message().find(c.error_substring) == std::string::npos) {
    return "the message lacks \"" + c.error_substring + "\"";
  }
  return "";
}

}  // namespace

Result<std::vector<SuiteCase>> ParseSuiteFile(const std::string& path,
                                              const std::string& data_dir_in) {
  ORMDB_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  const std::string data_dir = data_dir_in.empty() ? DefaultDataDir(path) : data_dir_in;
  std::vector<std::string> lines = SplitLines(text);
  std::vector<SuiteCase> cases;
  size_t i = 0;
  auto line_no = [&](size_t idx) { return static_cast<int>(idx + 1); };

  // Reads body lines up to a line `end` (exclusive); i is left after it.
  auto read_until_end = [&](size_t start, std::string* body) -> Status {
    size_t k = start;
    for (; k < lines.size(); ++k) {
      if (Trim(lines[k]) == "end") break;
      *body += lines[k];
      *body += '\n';
    }
    if (k >= lines.size()) {
      return FileError(path, line_no(start - 1), "missing `end` for the block");
    }
    i = k + 1;
    return Status::Ok();
  };

  while (i < lines.size()) {
    const std::string& line = lines[i];
    if (IsBlank(line) || IsComment(line)) {
      ++i;
      continue;
    }
    const int directive_line = line_no(i);
    ORMDB_ASSIGN_OR_RETURN(auto words, DirectiveWords(path, directive_line, line));
    SuiteCase c;
    c.file = path;
    c.line = directive_line;
    const std::string& what = words[0];
    if (what == "schema") {
      c.kind = SuiteCase::Kind::kSchema;
      if (words.size() > 2) return FileError(path, directive_line, "schema takes one name");
      if (words.size() == 2) {
        c.schema_name = words[1];
        std::string file = (fs::path(data_dir) / (words[1] + ".ormdb")).string();
        auto body = ReadWholeFile(file);
        if (!body.ok()) return FileError(path, directive_line, body.status().message());
        c.body = std::move(body).value();
        ++i;
      } else {
        ORMDB_RETURN_IF_ERROR(read_until_end(i + 1, &c.body));
      }
    } else if (what == "mutate") {
      c.kind = SuiteCase::Kind::kMutate;
      if (words.size() >= 2) {
        // `mutate error CODE [TEXT]`: the rest of the line, as in a query's
        // error expectation, is a substring of the message.
        if (words[1] != "error" || words.size() < 3) {
          return FileError(path, directive_line,
                           "expected `mutate` or `mutate error CODE [message substring]`");
        }
        std::string_view rest = Trim(line);
        rest.remove_prefix(std::string_view("mutate").size());
        ORMDB_RETURN_IF_ERROR(ParseErrorLine(path, directive_line, rest, &c));
      }
      ORMDB_RETURN_IF_ERROR(read_until_end(i + 1, &c.body));
      if (!ParseJson(c.body).ok()) {
        return FileError(path, directive_line, "the mutation batch is not valid JSON");
      }
    } else if (what == "as") {
      // `as owner`, or `as JSON` (the JSON may hold spaces: one word).
      c.kind = SuiteCase::Kind::kAs;
      if (words.size() != 2) {
        return FileError(path, directive_line, "expected `as owner` or `as PRINCIPAL_JSON`");
      }
      if (words[1] != "owner") {
        auto p = Principal::FromJson(words[1]);
        if (!p.ok()) {
          return FileError(path, directive_line,
                           "`as` takes `owner` or a principal's JSON (as `ormdb --as` does): " +
                               p.status().message());
        }
        c.principal = std::move(p).value();
      }
      c.body = words[1];
      ++i;
    } else if (what == "query" || what == "explain") {
      c.kind = what == "query" ? SuiteCase::Kind::kQuery : SuiteCase::Kind::kExplain;
      ORMDB_RETURN_IF_ERROR(ParseOptions(path, directive_line, words, 1, &c));
      size_t k = i + 1;
      bool first = true;
      for (; k < lines.size() && Trim(lines[k]) != "----"; ++k) {
        if (IsComment(lines[k])) continue;
        if (!first) c.body += '\n';
        c.body += lines[k];
        first = false;
      }
      if (k >= lines.size()) return FileError(path, directive_line, "missing ----");
      if (Trim(c.body).empty()) return FileError(path, directive_line, "empty query");
      // The expectation: from the line after ---- to a blank line.
      ++k;
      while (k < lines.size() && IsComment(lines[k])) ++k;
      if (k >= lines.size() || IsBlank(lines[k])) {
        return FileError(path, line_no(k), "missing expectation after ----");
      }
      c.expect_line = line_no(k);
      if (StartsWithWord(lines[k], "error")) {
        ORMDB_RETURN_IF_ERROR(ParseErrorLine(path, line_no(k), lines[k], &c));
        ++k;
        if (k < lines.size() && !IsBlank(lines[k])) {
          return FileError(path, line_no(k), "an error expectation is one line");
        }
      } else if (c.kind == SuiteCase::Kind::kExplain) {
        for (; k < lines.size() && !IsBlank(lines[k]); ++k) {
          if (IsComment(lines[k])) continue;
          std::string_view t = Trim(lines[k]);
          if (StartsWithWord(t, "lacks")) {
            c.lacks.emplace_back(Trim(t.substr(5)));
            continue;
          }
          if (!StartsWithWord(t, "contains")) {
            return FileError(path, line_no(k), "expected `contains TEXT` or `lacks TEXT`");
          }
          c.contains.emplace_back(Trim(t.substr(8)));
        }
      } else {
        for (; k < lines.size() && !IsBlank(lines[k]); ++k) {
          if (IsComment(lines[k])) continue;
          c.expected_json += lines[k];
          c.expected_json += '\n';
        }
        auto j = ParseJson(c.expected_json);
        if (!j.ok()) {
          return FileError(path, c.expect_line,
                           "the expected result is not valid JSON: " + j.status().message());
        }
      }
      i = k;
    } else {
      return FileError(path, directive_line, "unknown directive '" + what + "'");
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

int CountSuiteCases(const std::string& path) {
  auto cases = ParseSuiteFile(path);
  if (!cases.ok()) return -1;
  return static_cast<int>(
      std::count_if(cases->begin(), cases->end(), [](const SuiteCase& c) { return c.is_case(); }));
}

std::vector<std::string> ListSuiteFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".test") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string DiffJson(const std::string& expected, const std::string& actual) {
  auto e = ParseJson(expected);
  if (!e.ok()) return "the expectation is not JSON: " + e.status().message();
  auto a = ParseJson(actual);
  if (!a.ok()) return "the result is not JSON: " + a.status().message();
  std::string out;
  if (Diff(*e, *a, "$", &out)) return "";
  return out;
}

void RunSuiteFile(const std::string& path, const OpenDbFn& open_db) {
  auto parsed = ParseSuiteFile(path);
  if (!parsed.ok()) {
    ADD_FAILURE() << "cannot parse the suite file: " << parsed.status().ToString();
    return;
  }
  const std::vector<SuiteCase>& cases = *parsed;

  const char* tmp_env = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp_env && *tmp_env ? tmp_env : "/tmp") + "/ormdb-fetch-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) {
    ADD_FAILURE() << "mkdtemp failed for " << tmpl;
    return;
  }
  const std::string tmpdir(buf.data());
  const std::string dbdir = tmpdir + "/db";

  int run = 0, failed = 0;
  {
    std::unique_ptr<Database> owner = open_db(dbdir);
    if (!owner) {
      ADD_FAILURE() << "cannot open a database in " << dbdir;
      std::error_code ec;
      fs::remove_all(tmpdir, ec);
      return;
    }
    // The handle the steps run on: the owner's, or after `as JSON` a view
    // acting for that principal (`acting`, which keeps `owner` open).
    std::unique_ptr<Database> acting;
    Database* db = owner.get();
    std::string acting_text = "owner";  // for failure messages
    uint64_t version = owner->CurrentVersion();
    std::optional<Json> previous;  // the last query's result

    for (const SuiteCase& c : cases) {
      const char* file = c.file.c_str();
      if (c.kind == SuiteCase::Kind::kAs) {
        acting.reset();
        db = owner.get();
        acting_text = "owner";
        if (!c.principal) continue;
        auto view = owner->As(*c.principal);
        if (!view.ok()) {
          ADD_FAILURE_AT(file, c.line)
              << "As(" << c.body << ") failed: " << view.status().ToString();
          break;
        }
        acting = std::move(view).value();
        db = acting.get();
        acting_text = c.principal->ToJson();
        continue;
      }
      if (c.kind == SuiteCase::Kind::kSchema) {
        ApplySchemaOptions opts;
        if (!c.schema_name.empty()) opts.file_name = c.schema_name + ".ormdb";
        auto r = db->ApplySchema(c.body, opts);
        if (!r.ok()) {
          ADD_FAILURE_AT(file, c.line)
              << "schema failed (as " << acting_text << "): " << r.status().ToString();
          break;
        }
        if (r->commit_version != version + 1) {
          ADD_FAILURE_AT(file, c.line)
              << "schema applied at commit version " << r->commit_version << ", expected "
              << version + 1 << ": later versions in this file will not match";
        }
        version = r->commit_version;
        continue;
      }
      if (c.kind == SuiteCase::Kind::kMutate) {
        auto r = db->Mutate(c.body);
        if (c.error_code) {
          ++run;
          if (r.ok()) {
            ++failed;
            ADD_FAILURE_AT(file, c.line)
                << "mutation should fail with " << *c.error_code << " but succeeded: " << r->json
                << "\nas: " << acting_text << "\nbatch: " << c.body;
            version = r->version;
            continue;
          }
          std::string why = CheckError(c, r.status());
          if (!why.empty()) {
            ++failed;
            ADD_FAILURE_AT(file, c.line)
                << why << "\nas: " << acting_text << "\nbatch: " << c.body << "expected: error "
                << *c.error_code << " " << c.error_substring
                << "\nactual:   " << r.status().ToString();
          }
          continue;
        }
        if (!r.ok()) {
          ADD_FAILURE_AT(file, c.line) << "mutation failed: " << r.status().ToString()
                                       << "\nas: " << acting_text << "\nbatch: " << c.body;
          break;
        }
        if (r->version != version + 1) {
          ADD_FAILURE_AT(file, c.line)
              << "mutation committed at version " << r->version << ", expected " << version + 1
              << ": later versions in this file will not match";
        }
        version = r->version;
        continue;
      }

      ++run;
      auto query = Substitute(c.body, previous);
      if (!query.ok()) {
        ++failed;
        ADD_FAILURE_AT(file, c.line)
            << "cannot build the query: " << query.status().message() << "\nquery: " << c.body;
        previous.reset();
        continue;
      }
      const std::string header = "query: " + *query + "\nas: " + acting_text +
                                 "\noptions:" + OptionsText(c) + "\nexpected: " + ExpectedText(c) +
                                 "\n";

      if (c.kind == SuiteCase::Kind::kExplain) {
        ExplainOptions eo;
        eo.analyze = c.analyze;
        eo.fetch = c.options;
        eo.select = SelectOptionsOf(c);
        auto r = query::IsSelectText(*query) ? db->ExplainSelect(*query, c.params_json, eo)
                                             : db->Explain(*query, c.params_json, eo);
        if (c.error_code) {
          std::string why =
              r.ok() ? "expected an error, the explain succeeded" : CheckError(c, r.status());
          if (!why.empty()) {
            ++failed;
            ADD_FAILURE_AT(file, c.line)
                << why << "\n"
                << header << "actual:   " << (r.ok() ? *r : r.status().ToString());
          }
          continue;
        }
        if (!r.ok()) {
          ++failed;
          ADD_FAILURE_AT(file, c.line) << "explain failed\n"
                                       << header << "actual:   " << r.status().ToString();
          continue;
        }
        for (const std::string& want : c.contains) {
          if (r->find(want) == std::string::npos) {
            ++failed;
            ADD_FAILURE_AT(file, c.line) << "the explain text lacks \"" << want << "\"\n"
                                         << header << "actual:\n"
                                         << *r;
            break;
          }
        }
        for (const std::string& unwanted : c.lacks) {
          if (r->find(unwanted) != std::string::npos) {
            ++failed;
            ADD_FAILURE_AT(file, c.line) << "the explain text contains \"" << unwanted << "\"\n"
                                         << header << "actual:\n"
                                         << *r;
            break;
          }
        }
        continue;
      }

      // A select statement runs as one (tests/select), anything else as a fetch.
      Result<std::string> r = query::IsSelectText(*query)
                                  ? ToJsonOf(db->Select(*query, c.params_json, SelectOptionsOf(c)))
                                  : ToJsonOf(db->Fetch(*query, c.params_json, c.options));
      if (c.error_code) {
        previous.reset();
        if (r.ok()) {
          ++failed;
          ADD_FAILURE_AT(file, c.line) << "expected an error, the query succeeded\n"
                                       << header << "actual:   " << *r;
          continue;
        }
        std::string why = CheckError(c, r.status());
        if (!why.empty()) {
          ++failed;
          ADD_FAILURE_AT(file, c.line) << why << "\n"
                                       << header << "actual:   " << r.status().ToString();
        }
        continue;
      }
      if (!r.ok()) {
        ++failed;
        previous.reset();
        ADD_FAILURE_AT(file, c.line) << "the query failed\n"
                                     << header << "actual:   " << r.status().ToString();
        continue;
      }
      std::string actual = *r;
      auto actual_json = ParseJson(actual);
      if (actual_json.ok()) {
        previous = std::move(actual_json).value();
      } else {
        previous.reset();
      }
      std::string diff = DiffJson(c.expected_json, actual);
      if (!diff.empty()) {
        ++failed;
        ADD_FAILURE_AT(file, c.line) << "wrong result: " << diff << "\n"
                                     << header << "actual:   " << actual;
      }
    }
  }
  std::printf("[ suite    ] %s: %d cases run, %d failed\n", path.c_str(), run, failed);
  std::error_code ec;
  fs::remove_all(tmpdir, ec);
}

std::unique_ptr<Database> OpenEmbedded(const std::string& dir) {
  auto db = Database::Open(dir);
  if (!db.ok()) {
    ADD_FAILURE() << "Database::Open(" << dir << "): " << db.status().ToString();
    return nullptr;
  }
  return std::move(db).value();
}

std::unique_ptr<Database> OpenServedAt(const std::string& dir, const std::string& listen) {
  // One key: admin for the setup steps (schema apply), impersonate for
  // `as` (a trusted backend naming the principal of each request).
  constexpr const char* kSuiteKey = "fetch-suite-key-0123456789";
  server::ServerOptions serve;
  serve.listen = listen;
  serve.keys.emplace_back(kSuiteKey, "suite", std::vector<std::string>{"admin", "impersonate"});
  ConnectOptions connect;
  connect.key = kSuiteKey;
  auto db = testing::ServedDatabase::Start(dir, {}, serve, connect);
  if (!db.ok()) {
    ADD_FAILURE() << "serve " << dir << " on " << listen << ": " << db.status().ToString();
    return nullptr;
  }
  return std::move(db).value();
}

std::unique_ptr<Database> OpenServed(const std::string& dir) {
  return OpenServedAt(dir, "tcp://127.0.0.1:0");
}

std::unique_ptr<Database> OpenServedDirect(const std::string& dir) {
  return OpenServedAt(dir, "ormdb://127.0.0.1:0");
}

std::string FileTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = std::filesystem::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

}  // namespace ormdb::fetch_suite
