// A test helper for tests/cli_audit_test.sh, standing in for the server
// until it writes the audit log: appends COUNT records to the audit log in
// DIR through audit::AuditLog (rotating at MAX_FILE_BYTES when given).
// Record i has "rows": i (counting on from the lines already in the log is
// not needed: the test reads the rows back).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "audit/audit_log.h"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: audit_test_writer DIR COUNT [MAX_FILE_BYTES]\n");
    return 2;
  }
  ormdb::audit::AuditOptions options;
  if (argc == 4) options.max_file_bytes = std::strtoull(argv[3], nullptr, 10);
  auto log = ormdb::audit::AuditLog::Open(argv[1], options);
  if (!log.ok()) {
    std::fprintf(stderr, "error: %s\n", log.status().ToString().c_str());
    return 1;
  }
  const int count = std::atoi(argv[2]);
  for (int i = 0; i < count; ++i) {
    ormdb::audit::AuditRecord r;
    r.principal_json = R"({"id":7,"roles":["user"],"tenant":"acme"})";
    r.operation = i % 3 == 0 ? "mutate" : "fetch";
    r.entities = {"Post"};
    r.fields = {"Post.title"};
    r.rows = static_cast<uint64_t>(i);
    r.params = {"author"};
    r.version = static_cast<uint64_t>(100 + i);
    r.sync = r.operation == "mutate";
    ormdb::Status st = (*log)->Append(r);
    if (!st.ok()) {
      std::fprintf(stderr, "error: %s\n", st.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
