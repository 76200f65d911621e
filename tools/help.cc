#include "tools/help.h"

#include <algorithm>

#ifndef ORMDB_VERSION
#define ORMDB_VERSION "unknown"
#endif

namespace ormdb::tools {
namespace {

constexpr std::string_view kGeneralUsage =
    "usage: ormdb [--data DIR | --connect URL] COMMAND [ARGS] [OPTIONS]\n";

constexpr std::string_view kWhere =
    "where a command runs:\n"
    "  --data DIR      the data directory (default ./ormdb-data); only `schema apply`\n"
    "                  and `serve` create it (and remove it again when they fail)\n"
    "  --connect URL   a server: tcp://HOST:PORT, tls+tcp://HOST:PORT, ipc:///path\n"
    "who a command acts for (the schema's access policies):\n"
    "  --as JSON       a principal, {\"id\": 7, \"roles\": [\"user\"], \"tenant\": \"acme\"}\n"
    "                  or null; on a server the key needs the role impersonate\n"
    "  --token JWT     a JSON Web Token the server verifies (servers only)\n"
    "environment:\n"
    "  ORMDB_URL       the server to use when neither --data nor --connect is given\n"
    "  ORMDB_KEY       the API key sent to a server that requires keys\n"
    "  ORMDB_TOKEN     the token sent when --token is not given\n"
    "  ORMDB_TLS_CA    the CA file that verifies a tls+tcp:// server\n"
    "Options may stand before or after the command; --name=value is --name value.\n"
    "Exit status: 0 success, 1 the database refused or failed (\"error: CODE: message\"),\n"
    "2 a usage error.\n";

const std::vector<CommandHelp> kCommands = {
    {"shell", "ormdb shell [--format table|json|blocks]",
     "an interactive shell: queries, mutation batches and \\ commands",
     "  a statement ends at a blank line or a line ending in ';'\n"
     "  a query (text or JSON IR) is fetched; a JSON batch {\"ops\": [...]} is applied\n"
     "  \\schema            the current schema\n"
     "  \\explain QUERY     the plan of a query\n"
     "  \\format table|json|blocks   how results print (default: table on a terminal)\n"
     "  \\timing            print each statement's time (again: off)\n"
     "  \\help              the shell's commands\n"
     "  \\q                 quit (also Ctrl-D)\n"
     "  On a terminal: line editing and history (~/.ormdb_history). Without a\n"
     "  terminal it reads statements from standard input and exits 1 if any failed.\n"
     "  `ormdb` without a command on a terminal starts the shell.",
     "$ printf 'Tag { name };\\n\\\\q\\n' | ormdb shell --format json\n"
     "{\"version\":2,\"data\":[{\"id\":1,\"name\":\"cpp\"}],\"next\":null,...}"},
    {"serve",
     "ormdb serve [--data DIR] [--listen URL] [--config FILE] [--http-listen URL]\n"
     "            [--slow-query-ms MS] [--log-level LEVEL]",
     "serve the data directory over the network until SIGINT or SIGTERM",
     "  --listen URL         where to listen: tcp://, ipc://, tls+tcp:// or ormdb://HOST:PORT\n"
     "                       (default tcp://127.0.0.1:7411; port 0 picks a free port);\n"
     "                       without API keys only loopback and ipc://\n"
     "  --config FILE        JSON: listen address, API keys and roles, TLS, limits,\n"
     "                       retention, default budget (see docs/PROTOCOL.md)\n"
     "  --http-listen URL    GET /metrics, /health and the web console (default\n"
     "                       http://127.0.0.1:7412, skipped with a warning when taken;\n"
     "                       off: none); without API keys only loopback\n"
     "  --slow-query-ms MS   log fetches that take MS or more with their EXPLAIN ANALYZE\n"
     "                       (default 1000; 0: every fetch; negative: off)\n"
     "  --log-level LEVEL    debug, info (default), warn or error: JSON lines on stderr\n"
     "  DIR is created when missing.",
     "$ ormdb serve --data ./ormdb-data --listen tcp://127.0.0.1:7411\n"
     "ormdb serving ./ormdb-data on tcp://127.0.0.1:7411"},
    {"schema apply",
     "ormdb schema apply FILE [--dry-run] [--allow-destructive] [--format text|json]",
     "plan a schema change, print the plan, and apply it",
     "  FILE                 schema text (- for standard input)\n"
     "  --dry-run            print the plan only (exit 0 whatever its grade)\n"
     "  --allow-destructive  consent to a grade D plan (dropping data); also needed\n"
     "                       to apply an empty schema file\n"
     "  --format json        the plan (and the applied versions) as JSON",
     "$ ormdb schema apply blog.ormdb\n"
     "grade: A\n"
     "[A] add entity User\n"
     "...\n"
     "applied: schema version 1 at commit version 1"},
    {"schema show", "ormdb schema show [--json | --format text|json]",
     "the current schema as schema text (or JSON)", "", "$ ormdb schema show > current.ormdb"},
    {"schema history", "ormdb schema history", "every applied schema version", "",
     "$ ormdb schema history\n"
     "version  commit   time                        grade summary\n"
     "1        1        2026-12-04T18:56:26.418027Z A     6 changes: ..."},
    {"query",
     "ormdb query 'TEXT' [--param NAME=VALUE]... [--as-of V] [--format json|table|blocks]\n"
     "                   [--budget-entities N] [--budget-edges N] [--budget-depth N]\n"
     "                   [--budget-bytes N] [--budget-scanned N] [--on-exceed error|truncate]",
     "run a graph fetch",
     "  TEXT                  the fetch, in the text form or the JSON IR (- for stdin)\n"
     "  --param NAME=VALUE    binds $NAME; VALUE is a JSON literal (30, true, \"30\"),\n"
     "                        else a string: --param n=Ann is \"Ann\", --param n='\"1\"' is\n"
     "                        the string \"1\" and --param n=1 the number 1\n"
     "  --as-of V             read the snapshot at commit version V\n"
     "  --format json         the result tree (the default when stdout is not a terminal)\n"
     "  --format table        tables, nested rows indented under their parent row\n"
     "  --format blocks       the columnar blocks the result is made of\n"
     "  --budget-* N          lower the query's budget\n"
     "  --on-exceed truncate  return a truncated result instead of failing",
     "$ ormdb query 'User(where: name like $p, limit: 20) { name, posts(limit: 5) { title } }' \\\n"
     "    --param p='A%' --format table"},
    {"select",
     "ormdb select 'TEXT' [--param NAME=VALUE]... [--as-of V] [--format json|table|csv]\n"
     "                    [--budget-scanned N] [--budget-rows N]",
     "run a select statement (relational mode): flat rows, groups and aggregates",
     "  TEXT                  select ITEMS from ENTITY [where P] [group by PATHS]\n"
     "                        [having P] [order by KEYS] [limit N] [after \"CURSOR\"]\n"
     "                        (the leading 'select' may be left out; - reads stdin);\n"
     "                        see docs/reference/select.md\n"
     "  --param NAME=VALUE    binds $NAME, as for query\n"
     "  --as-of V             read the snapshot at commit version V\n"
     "  --format json         {\"version\", \"columns\", \"rows\", \"next\"} (the default when\n"
     "                        stdout is not a terminal)\n"
     "  --format table        an aligned table\n"
     "  --format csv          CSV with a header line (nulls are empty fields)\n"
     "  --budget-scanned N    the most rows, index entries and edges it may read\n"
     "                        (default 10000000)\n"
     "  --budget-rows N       the most rows it may return (default 100000)",
     "$ ormdb select 'select author.name, count() as posts from Post\n"
     "    where status == \"published\" group by author.name order by posts desc limit 10'"},
    {"explain", "ormdb explain [--analyze] 'TEXT' [--format text|json] [the options of query]",
     "the plan of a graph fetch or a select: each step's access path, why, and its estimate",
     "  --analyze       run the fetch and report actual rows and times per step\n"
     "  --format json   the plan as JSON\n"
     "  TEXT may be a select statement ('select ... from ...'): then the options\n"
     "  are those of select",
     "$ ormdb explain --analyze 'User(where: email == \"ann@example.com\") { name }'"},
    {"mutate", "ormdb mutate FILE|-", "apply a JSON mutation batch as one transaction",
     "  FILE   {\"ops\": [...]}: insert, update, upsert, delete, link, unlink\n"
     "         (see docs/reference/mutations.md); - reads standard input",
     "$ ormdb mutate examples/batch.json\n"
     "{\"version\":2,\"refs\":{\"ann\":1,\"hello\":1,\"cpp\":1},\"results\":[...]}"},
    {"get", "ormdb get ENTITY ID", "one row as JSON (NOT_FOUND when it does not exist)", "",
     "$ ormdb get User 1\n"
     "{\"id\":1,\"email\":\"ann@example.com\",\"name\":\"Ann\",...}"},
    {"export", "ormdb export ENTITY | Entity.relation",
     "every row as JSON lines in id order (or a relation's {\"from\", \"to\"} pairs)", "",
     "$ ormdb export User > users.jsonl"},
    {"import", "ormdb import ENTITY | Entity.relation FILE.jsonl|FILE.csv|-",
     "load JSON lines or CSV in one transaction (ids are kept)",
     "  FILE   CSV when its name ends in .csv, else JSON lines (- reads stdin);\n"
     "         lines up to 64 MiB",
     "$ ormdb import User users.jsonl\n"
     "{\"rows\": 2, \"version\": 3}"},
    {"watch", "ormdb watch [--entity E]... [--from VERSION]",
     "follow change events as JSON lines until interrupted",
     "  --entity E   only the events of E (repeatable); schema changes always come\n"
     "  --from V     start after version V (a query result's version is valid);\n"
     "               without it, only new commits\n"
     "  Ctrl-C prints the version to resume from (`resume with: --from N`).",
     "$ ormdb watch --entity User --from 1"},
    {"stats", "ormdb stats",
     "versions, table sizes, counters and the live rows of each entity, as JSON", "",
     "$ ormdb stats\n"
     "{\"data\":\"./ormdb-data\",\"current_version\":2,...,\"rows\":{\"User\":2,\"Post\":2}}"},
    {"vacuum", "ormdb vacuum", "remove history older than the retention window", "",
     "$ ormdb vacuum\n"
     "{\"horizon\":0,\"row_versions_removed\":0,...}"},
    {"check", "ormdb check",
     "verify the storage invariants (and recount every entity's rows against its counter)", "",
     "$ ormdb check\n"
     "ok: version 2, 4 row versions, 6 index entries, 0 edge entries, 2 log entries, 4 live rows"},
    {"top", "ormdb top [--http URL] [--interval SECONDS] [--count N]",
     "a server's metrics in the terminal, refreshed: requests, latency, fetches, commits",
     "  --http URL          the server's HTTP address (default $ORMDB_HTTP, else\n"
     "                      http://127.0.0.1:7412); ORMDB_KEY is sent when set\n"
     "  --interval SECONDS  between refreshes (default 2)\n"
     "  --count N           stop after N screens (default: until interrupted)",
     "$ ormdb top --count 1\n"
     "ormdb top: http://127.0.0.1:7412  (totals since start; rates from the next refresh)\n"
     "..."},
    {"codegen", "ormdb codegen ts|python SCHEMA [-o DIR] [--queries FILE]",
     "write the typed client of a schema file: TypeScript or Python types and query builder",
     "  SCHEMA          a schema file (.ormdb); no database is opened\n"
     "  -o DIR          write DIR/<schema name>.ts or .py (else print it to standard output)\n"
     "  --queries FILE  (python) also a typed function per named query of FILE:\n"
     "                  `query NAME Entity(...) { ... }` in the text form, `//` comments;\n"
     "                  each returns rows typed as exactly its selection, its $params are\n"
     "                  keyword arguments typed as the fields they are compared with, and\n"
     "                  the fetches are checked against SCHEMA (errors at FILE:LINE:COL)\n"
     "  See docs/reference/codegen.md for the generated API.",
     "$ ormdb codegen ts blog.ormdb -o src/db\n"
     "src/db/blog.ts\n"
     "$ ormdb codegen python blog.ormdb --queries queries.ormdbq -o app\n"
     "app/blog.py"},
    {"audit", "ormdb audit verify DIR\normdb audit tail DIR [-n N]",
     "check the audit log's SHA-256 chain, or print its last lines",
     "  verify DIR   read every file of the audit log in DIR in order; exit 0 with\n"
     "               \"ok: N lines in M files\" and the last line's hash (keep it\n"
     "               elsewhere: a later verify shows whether the end was cut), or\n"
     "               exit 1 naming the first problem: file, line and what is wrong\n"
     "  tail DIR     the last lines (default 10; -n N), oldest first\n"
     "  No database is opened. See docs/reference/audit.md.",
     "$ ormdb audit verify ./ormdb-data/audit\n"
     "ok: 1841 lines in 1 file\n"
     "last hash: 3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"},
    {"help", "ormdb help [COMMAND]", "the commands, or one command's usage and an example",
     "  also: ormdb COMMAND --help, ormdb --version", "$ ormdb help query"},
};

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

const std::vector<CommandHelp>& AllCommandHelp() { return kCommands; }

const CommandHelp* FindCommandHelp(std::string_view command) {
  static const CommandHelp kSchema = {
      "schema",
      "ormdb schema apply FILE [--dry-run] [--allow-destructive] [--format text|json]\n"
      "ormdb schema show [--json | --format text|json]\n"
      "ormdb schema history",
      "apply a schema change, show the schema, list the schema versions",
      "  run `ormdb help schema apply` (show, history) for each one", "$ ormdb schema show"};
  if (command == "schema") return &kSchema;
  for (const CommandHelp& h : kCommands) {
    if (h.name == command) return &h;
  }
  return nullptr;
}

std::string OverviewHelp() {
  std::string out(kGeneralUsage);
  out += "commands:\n";
  for (const CommandHelp& h : kCommands) {
    std::string name(h.name);
    out += "  " + name;
    out.append(name.size() < 16 ? 16 - name.size() : 1, ' ');
    out += std::string(h.summary) + "\n";
  }
  out += kWhere;
  out +=
      "`ormdb help COMMAND` (or `ormdb COMMAND --help`) shows a command's options and an\n"
      "example; docs/reference/cli.md has them all.\n";
  return out;
}

std::string FullHelp(const CommandHelp& help) {
  std::string out = "usage: " + std::string(help.usage) + "\n" + std::string(help.summary) + "\n";
  if (!help.options.empty()) out += "\n" + std::string(help.options) + "\n";
  out += "\nexample:\n";
  // Indented, so the example stands apart from the text around it.
  std::string_view example = help.example;
  while (!example.empty()) {
    size_t eol = example.find('\n');
    out += "  " + std::string(example.substr(0, eol)) + "\n";
    example = eol == std::string_view::npos ? "" : example.substr(eol + 1);
  }
  if (help.name != "help" && help.name != "serve" && help.name != "audit") {
    out +=
        "\nEvery command runs on --data DIR (default ./ormdb-data) or on a server with\n"
        "--connect URL (or ORMDB_URL); `ormdb help` lists the commands.\n";
  }
  return out;
}

std::string ShortUsage(std::string_view command) {
  const CommandHelp* h = FindCommandHelp(command);
  if (h == nullptr) return std::string(kGeneralUsage) + "run `ormdb help` for the commands\n";
  return "usage: " + std::string(h->usage) + "\nrun `ormdb help " + std::string(h->name) +
         "` for the options and an example\n";
}

std::string SuggestCommand(std::string_view word) {
  std::string best;
  size_t best_distance = 3;
  for (const CommandHelp& h : kCommands) {
    std::string_view name = h.name.substr(0, h.name.find(' '));
    size_t d = EditDistance(word, name);
    if (d < best_distance) {
      best_distance = d;
      best = name;
    }
  }
  return best;
}

std::string VersionText() { return std::string("ormdb ") + ORMDB_VERSION; }

}  // namespace ormdb::tools
