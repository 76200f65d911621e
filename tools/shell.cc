#include "tools/shell.h"

// clang-format off
#include <stdio.h>
#include <editline/readline.h>
// clang-format on

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string_view>

#include "common/json.h"
#include "query/select_parser.h"
#include "tools/help.h"
#include "tools/table.h"

namespace ormdb::tools {
namespace {

constexpr const char* kPrompt = "ormdb> ";
constexpr const char* kContinuePrompt = "  ...> ";
constexpr int kHistoryLines = 1000;

constexpr std::string_view kShellHelp =
    "A statement is a graph fetch (text or JSON IR), a select statement (select ... from\n"
    "...) or a mutation batch {\"ops\": [...]};\n"
    "it may span lines and ends at a blank line or a line ending in ';'.\n"
    "  \\schema                     the current schema\n"
    "  \\explain QUERY              the plan of a query or a select\n"
    "  \\format table|json|blocks   how results print\n"
    "  \\timing [on|off]            print each statement's time\n"
    "  \\help                       this text\n"
    "  \\q                          quit (also Ctrl-D)\n";

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

int Fail(const Status& s) {
  std::fflush(stdout);  // results and errors in the order they happened
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

std::string HistoryFile() {
  if (const char* f = std::getenv("ORMDB_HISTORY"); f && *f) return f;
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.ormdb_history";
  }
  return "";
}

class Shell {
 public:
  Shell(Database& db, const ShellOptions& options) : db_(db), options_(options) {
    format_ = options.format;
    if (options_.interactive) {
      history_ = HistoryFile();
      using_history();
      stifle_history(kHistoryLines);
      if (!history_.empty()) read_history(history_.c_str());
    }
  }
  ~Shell() {
    if (options_.interactive && !history_.empty()) write_history(history_.c_str());
  }

  int Run() {
    if (options_.interactive) {
      std::printf("%s shell on %s; \\help for help, \\q to quit\n", VersionText().c_str(),
                  options_.target.c_str());
    }
    std::string statement;
    while (auto line = ReadLine(statement.empty() ? kPrompt : kContinuePrompt)) {
      std::string_view trimmed = Trim(*line);
      if (statement.empty() && trimmed.empty()) continue;
      // A command line also ends the statement before it.
      if (!trimmed.empty() && trimmed.front() == '\\') {
        if (!Trim(statement).empty()) Execute(statement);
        statement.clear();
        Remember(trimmed);
        if (!Command(trimmed)) break;
        continue;
      }
      if (trimmed.empty()) {
        Execute(statement);
        statement.clear();
        continue;
      }
      statement += *line;
      statement += '\n';
      if (trimmed.back() == ';') {
        Execute(statement);
        statement.clear();
      }
    }
    if (!Trim(statement).empty()) Execute(statement);
    if (options_.interactive) std::fputs("\n", stdout);
    return !options_.interactive && failed_ ? 1 : 0;
  }

 private:
  std::optional<std::string> ReadLine(const char* prompt) {
    std::fflush(stdout);
    if (!options_.interactive) {
      std::string line;
      if (!std::getline(std::cin, line)) return std::nullopt;
      return line;
    }
    char* raw = readline(prompt);
    if (raw == nullptr) return std::nullopt;
    std::string line(raw);
    std::free(raw);
    return line;
  }

  void Remember(std::string_view entry) {
    if (!options_.interactive || entry.empty()) return;
    std::string one(entry);
    for (char& c : one) {
      if (c == '\n') c = ' ';
    }
    add_history(one.c_str());
  }

  // A statement without its final ';'.
  static std::string_view Body(std::string_view text) {
    text = Trim(text);
    if (!text.empty() && text.back() == ';') text = Trim(text.substr(0, text.size() - 1));
    return text;
  }

  void Execute(const std::string& statement) {
    std::string_view text = Body(statement);
    if (text.empty()) return;
    Remember(Trim(statement));
    auto start = std::chrono::steady_clock::now();
    Status st = IsBatch(text)               ? Mutate(text)
                : query::IsSelectText(text) ? Select(text)
                                            : Fetch(text);
    if (!st.ok()) {
      failed_ = true;
      Fail(st);
    }
    PrintTime(start);
  }

  // A mutation batch is a JSON object with "ops"; the JSON IR of a fetch
  // has "entity".
  static bool IsBatch(std::string_view text) {
    if (text.front() != '{') return false;
    auto j = ParseJson(text);
    return j.ok() && j->is_object() && j->Find("ops") != nullptr;
  }

  Status Mutate(std::string_view text) {
    ORMDB_ASSIGN_OR_RETURN(MutationResult r, db_.Mutate(text));
    std::printf("%s\n", r.json.c_str());
    return Status::Ok();
  }

  Status Fetch(std::string_view text) {
    ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<FetchResult> r, db_.Fetch(text));
    std::string out;
    if (format_ == "json") {
      out = r->ToJson() + "\n";
    } else if (format_ == "blocks") {
      out = r->ToBlocksJson() + "\n";
    } else {
      out = RenderTreeTable(*r);
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return Status::Ok();
  }

  // A select prints as a table, or as JSON for \format json and blocks.
  Status Select(std::string_view text) {
    ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<SelectResult> r, db_.Select(text));
    std::string out = format_ == "table" ? r->ToTable() : r->ToJson() + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return Status::Ok();
  }

  void PrintTime(std::chrono::steady_clock::time_point start) {
    if (!timing_) return;
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("time: %.3f ms\n", ms);
  }

  // Runs a backslash command; false to end the session.
  bool Command(std::string_view line) {
    size_t space = line.find_first_of(" \t");
    std::string_view name = line.substr(0, space);
    std::string_view arg = space == std::string_view::npos ? "" : Body(line.substr(space));
    auto start = std::chrono::steady_clock::now();
    if (name == "\\q" || name == "\\quit") return false;
    if (name == "\\help" || name == "\\?" || name == "\\h") {
      std::fwrite(kShellHelp.data(), 1, kShellHelp.size(), stdout);
    } else if (name == "\\schema") {
      auto text = db_.SchemaText();
      if (!text.ok()) {
        failed_ = true;
        Fail(text.status());
      } else {
        std::fputs(text->c_str(), stdout);
      }
    } else if (name == "\\explain") {
      if (arg.empty()) {
        Problem("\\explain needs a query: \\explain User { name }");
      } else if (auto plan = query::IsSelectText(arg) ? db_.ExplainSelect(arg) : db_.Explain(arg);
                 !plan.ok()) {
        failed_ = true;
        Fail(plan.status());
      } else {
        std::fputs(plan->c_str(), stdout);
      }
      PrintTime(start);
    } else if (name == "\\format") {
      if (arg.empty()) {
        std::printf("format %s\n", format_.c_str());
      } else if (arg == "table" || arg == "json" || arg == "blocks") {
        format_ = std::string(arg);
      } else {
        Problem("\\format is table, json or blocks, not '" + std::string(arg) + "'");
      }
    } else if (name == "\\timing") {
      if (arg == "on" || arg == "off") {
        timing_ = arg == "on";
      } else if (arg.empty()) {
        timing_ = !timing_;
      } else {
        Problem("\\timing takes on or off, not '" + std::string(arg) + "'");
        return true;
      }
      std::printf("timing %s\n", timing_ ? "on" : "off");
    } else {
      Problem("unknown command " + std::string(name) + "; \\help lists the commands");
    }
    return true;
  }

  void Problem(const std::string& what) {
    failed_ = true;
    std::fflush(stdout);
    std::fprintf(stderr, "ormdb: %s\n", what.c_str());
  }

  Database& db_;
  const ShellOptions options_;
  std::string format_;
  bool timing_ = false;
  bool failed_ = false;
  std::string history_;
};

}  // namespace

int RunShell(Database& db, const ShellOptions& options) {
  Shell shell(db, options);
  return shell.Run();
}

}  // namespace ormdb::tools
