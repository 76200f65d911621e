// `ormdb shell`: an interactive session on one database (a data directory
// held open for the session, or a server).
//
// Input is a sequence of statements and backslash commands. A statement (a
// graph fetch in text or JSON IR, or a JSON mutation batch {"ops": [...]})
// may span lines; it ends at a blank line, at a line ending in ';' (the
// ';' is dropped) or before a command. A line starting with '\' is a
// command: \schema, \explain QUERY, \format table|json|blocks, \timing,
// \help, \q. Results print to standard output, errors to standard error as
// "error: CODE: message"; an error ends the statement, not the session.
//
// On a terminal the lines are read with libedit (line editing, history kept
// in ~/.ormdb_history or $ORMDB_HISTORY). Otherwise statements are read from
// standard input without prompts.
#pragma once

#include <string>

#include "ormdb/database.h"

namespace ormdb::tools {

struct ShellOptions {
  // table, json or blocks.
  std::string format = "table";
  // Prompts, line editing and history (stdin is a terminal).
  bool interactive = false;
  // Where the session runs, for the greeting ("./ormdb-data", "tcp://...").
  std::string target;
};

// Runs the session until \q or the end of input. Returns the exit status:
// 0, or 1 when input was not interactive and a statement failed.
int RunShell(Database& db, const ShellOptions& options);

}  // namespace ormdb::tools
