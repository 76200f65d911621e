#include "tools/audit_cmd.h"

#include <cstdio>

#include "audit/audit_log.h"
#include "tools/help.h"

namespace ormdb::tools {
namespace {

int AuditUsage(const std::string& problem) {
  std::fprintf(stderr, "ormdb: %s\n%s", problem.c_str(), ShortUsage("audit").c_str());
  return 2;
}

int AuditFail(const Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

std::string Plural(uint64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// `ormdb audit verify DIR`: "ok: ..." and the last hash, or the first
// problem.
int Verify(const std::string& dir) {
  Result<audit::VerifyReport> report = audit::VerifyAuditLog(dir);
  if (!report.ok()) return AuditFail(report.status());
  if (!report->ok) {
    std::fprintf(stderr, "error: audit log %s: %s\n(%s verified before it)\n", dir.c_str(),
                 report->problem.c_str(), Plural(report->lines, "line").c_str());
    return 1;
  }
  std::printf("ok: %s in %s\nlast hash: %s\n", Plural(report->lines, "line").c_str(),
              Plural(report->files, "file").c_str(), report->last_hash.c_str());
  return 0;
}

// `ormdb audit tail DIR [-n N]`: the last N lines (default 10), oldest first.
int TailLines(const std::string& dir, size_t n) {
  Status st = audit::Tail(dir, n, [](std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  });
  if (!st.ok()) return AuditFail(st);
  return 0;
}

}  // namespace

int AuditCommand(const std::vector<std::string>& args) {
  if (args.empty()) return AuditUsage("audit needs verify or tail");
  const std::string& sub = args[0];
  if (sub == "verify") {
    if (args.size() != 2) return AuditUsage("audit verify needs one DIR");
    return Verify(args[1]);
  }
  if (sub == "tail") {
    std::string dir;
    size_t n = 10;
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "-n") {
        if (i + 1 >= args.size()) return AuditUsage("-n needs a number of lines");
        const std::string& count = args[++i];
        if (count.empty() || count.size() > 9 ||
            count.find_first_not_of("0123456789") != std::string::npos) {
          return AuditUsage("-n needs a number of lines, not '" + count + "'");
        }
        n = std::stoul(count);
      } else if (dir.empty()) {
        dir = args[i];
      } else {
        return AuditUsage("audit tail takes one DIR");
      }
    }
    if (dir.empty()) return AuditUsage("audit tail needs a DIR");
    return TailLines(dir, n);
  }
  return AuditUsage("unknown audit command " + sub + " (verify or tail)");
}

}  // namespace ormdb::tools
