// `ormdb audit verify DIR` and `ormdb audit tail DIR [-n N]`: the audit
// log's commands (audit/audit_log.h, docs/reference/audit.md). They read
// the log's files directly: no database is opened, no server asked.
#pragma once

#include <string>
#include <vector>

namespace ormdb::tools {

// Runs `ormdb audit ARGS...` (`args` without "audit") and returns the exit
// status: 0 success (verify: the chain holds), 1 a problem in the log or
// an error reading it (on stderr, naming file and line), 2 a usage error.
int AuditCommand(const std::vector<std::string>& args);

}  // namespace ormdb::tools
