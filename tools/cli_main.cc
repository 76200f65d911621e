// The `ormdb` command line (DESIGN.md §8): every command on an embedded
// data directory (--data) or on a server (--connect, ORMDB_URL), and
// `serve`, which runs the server.
//
// Exit status: 0 success, 1 a database error (printed as "error: CODE:
// message"), 2 a usage error.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "codegen/codegen.h"
#include "common/json.h"
#include "common/timestamp.h"
#include "observability/log.h"
#include "observability/prometheus.h"
#include "ormdb/database.h"
#include "protocol/http.h"
#include "query/select_parser.h"
#include "server/server.h"
#include "tools/audit_cmd.h"
#include "tools/help.h"
#include "tools/shell.h"
#include "tools/table.h"
#include "tools/top.h"

namespace {

using ormdb::Status;

// A usage error: its cause on one line, then the command's usage (or the
// general one for an unknown command). Exit status 2.
int Usage(std::string_view command, const std::string& problem) {
  std::fprintf(stderr, "ormdb: %s\n%s", problem.c_str(), ormdb::tools::ShortUsage(command).c_str());
  return 2;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

struct Args {
  std::string data = "./ormdb-data";
  bool data_given = false;
  std::string connect;                // --connect URL
  std::vector<std::string> entities;  // watch --entity E
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;               // --format json -> {"format": "json"}
  std::vector<std::pair<std::string, std::string>> params;  // --param NAME=VALUE, in order
  bool help = false;                                        // --help
  bool version = false;                                     // --version
  bool Has(const std::string& flag) const { return options.count(flag) > 0; }
  // The command whose usage a usage error shows: "query", "schema apply";
  // empty when none was given.
  std::string HelpKey() const {
    if (positional.empty()) return "";
    if (positional[0] == "schema" && positional.size() > 1 &&
        ormdb::tools::FindCommandHelp("schema " + positional[1]) != nullptr) {
      return "schema " + positional[1];
    }
    return positional[0];
  }
};

// Flags that take a value; every other flag is a switch.
bool TakesValue(const std::string& flag) {
  return flag == "format" || flag == "data" || flag == "param" || flag == "as-of" ||
         flag.rfind("budget-", 0) == 0 || flag == "on-exceed" || flag == "connect" ||
         flag == "listen" || flag == "config" || flag == "entity" || flag == "from" ||
         flag == "http-listen" || flag == "slow-query-ms" || flag == "log-level" ||
         flag == "http" || flag == "interval" || flag == "count" || flag == "as" ||
         flag == "token" || flag == "queries";
}
bool KnownFlag(const std::string& flag) {
  return flag == "format" || flag == "data" || flag == "dry-run" || flag == "allow-destructive" ||
         flag == "json" || flag == "param" || flag == "as-of" || flag == "budget-entities" ||
         flag == "budget-edges" || flag == "budget-depth" || flag == "budget-bytes" ||
         flag == "budget-scanned" || flag == "budget-rows" || flag == "on-exceed" ||
         flag == "analyze" || flag == "connect" || flag == "listen" || flag == "config" ||
         flag == "entity" || flag == "from" || flag == "http-listen" || flag == "slow-query-ms" ||
         flag == "log-level" || flag == "http" || flag == "interval" || flag == "count" ||
         flag == "as" || flag == "token" || flag == "queries";
}

std::optional<std::string> ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-" || arg.size() < 2 || arg.rfind("--", 0) != 0) {
      args->positional.push_back(arg);
      continue;
    }
    std::string flag = arg.substr(2), value;
    size_t eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (TakesValue(flag)) {
      if (i + 1 >= argc) return "--" + flag + " needs a value";
      value = argv[++i];
    }
    if (flag == "help" || flag == "version") {
      (flag == "help" ? args->help : args->version) = true;
      continue;
    }
    if (!KnownFlag(flag)) return "unknown option --" + flag;
    if (flag == "data") {
      args->data = value;
      args->data_given = true;
    } else if (flag == "connect") {
      args->connect = value;
    } else if (flag == "entity") {
      args->entities.push_back(value);
      args->options["entity"] = "";
    } else if (flag == "param") {
      size_t at = value.find('=');
      if (at == std::string::npos || at == 0) return "--param needs NAME=VALUE";
      args->params.emplace_back(value.substr(0, at), value.substr(at + 1));
      args->options["param"] = "";
    } else {
      args->options[flag] = value;
    }
  }
  return std::nullopt;
}

// Progress on a terminal only: "\rbuild index User: 12000".
ormdb::ProgressFn TerminalProgress() {
  if (!isatty(STDERR_FILENO)) return nullptr;
  return [](std::string_view phase, uint64_t done, uint64_t total) {
    if (total > 0) {
      std::fprintf(stderr, "\r%.*s: %llu/%llu   ", static_cast<int>(phase.size()), phase.data(),
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
    } else {
      std::fprintf(stderr, "\r%.*s: %llu   ", static_cast<int>(phase.size()), phase.data(),
                   static_cast<unsigned long long>(done));
    }
    std::fflush(stderr);
  };
}

void EndProgress() {
  if (isatty(STDERR_FILENO)) std::fputs("\r\033[K", stderr);
}

ormdb::Result<std::string> ReadInput(const std::string& path) {
  std::ostringstream buf;
  if (path == "-") {
    buf << std::cin.rdbuf();
    return buf.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return ormdb::NotFound("cannot read " + path + ": " + std::strerror(errno));
  buf << in.rdbuf();
  return buf.str();
}

std::string EnvOr(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// The server to use: --connect, else ORMDB_URL unless --data was given.
std::string ServerUrl(const Args& args) {
  if (!args.connect.empty()) return args.connect;
  return args.data_given ? "" : EnvOr("ORMDB_URL");
}

// The database the command runs on: a server (--connect / ORMDB_URL) or the
// data directory (--data), created when missing only if `create`. With
// --as, a view acting for that principal (remote: the server must let the
// key impersonate); --token (or ORMDB_TOKEN) is sent to a server, and is
// INVALID_ARGUMENT embedded (only a server verifies tokens).
ormdb::Result<std::unique_ptr<ormdb::Database>> OpenDb(const Args& args, bool create,
                                                       ormdb::ConnectOptions c = {}) {
  std::optional<ormdb::Principal> as;
  if (auto it = args.options.find("as"); it != args.options.end()) {
    auto p = ormdb::Principal::FromJson(it->second);
    if (!p.ok()) return p.status().WithContext("--as");
    as = std::move(*p);
  }
  std::string token = EnvOr("ORMDB_TOKEN");
  if (auto it = args.options.find("token"); it != args.options.end()) token = it->second;
  std::unique_ptr<ormdb::Database> db;
  if (std::string url = ServerUrl(args); !url.empty()) {
    c.key = EnvOr("ORMDB_KEY");
    c.tls_ca_file = EnvOr("ORMDB_TLS_CA");
    c.token = token;
    ORMDB_ASSIGN_OR_RETURN(db, ormdb::Database::Connect(url, c));
  } else {
    if (args.Has("token")) {
      return ormdb::InvalidArgument(
          "--token: a token is verified by a server (--connect URL); embedded, name the "
          "principal with --as JSON");
    }
    ormdb::OpenOptions o;
    o.create_if_missing = create;
    ORMDB_ASSIGN_OR_RETURN(db, ormdb::Database::Open(args.data, o));
  }
  if (as) return db->As(*as);
  return db;
}

// The data directory a command may create. Remembers which directories of
// its path are missing before the command runs (or that the directory is
// there but empty), so that a command that fails removes what it created
// and nothing else: never a directory that existed before, never a file that
// was there. The path is taken lexically (a `..` or a symlink can only make
// it remove less). Nothing is removed while another process holds the
// database's lock. Declare it before the database it guards: the database
// must be closed first.
class NewDirectoryGuard {
 public:
  explicit NewDirectoryGuard(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path p = fs::absolute(dir, ec).lexically_normal();
    if (ec) return;
    if (p.filename().empty()) p = p.parent_path();  // a trailing '/'
    if (fs::is_directory(fs::symlink_status(p, ec))) {
      if (fs::is_empty(p, ec) && !ec) empty_ = p;
      return;
    }
    while (!p.empty() && !fs::exists(fs::symlink_status(p, ec))) {
      if (ec && ec != std::errc::no_such_file_or_directory) break;
      missing_.push_back(p);
      if (p == p.parent_path()) break;
      p = p.parent_path();
    }
  }
  NewDirectoryGuard(const NewDirectoryGuard&) = delete;
  NewDirectoryGuard& operator=(const NewDirectoryGuard&) = delete;
  // The command succeeded: keep what it created.
  void Keep() {
    missing_.clear();
    empty_.clear();
  }
  ~NewDirectoryGuard() {
    namespace fs = std::filesystem;
    const fs::path& dir = missing_.empty() ? empty_ : missing_.front();
    if (dir.empty()) return;
    // The lock the database takes (storage/env.cc): held by another process
    // means that process has the directory open now; leave it.
    int lock = ::open((dir / "ormdb.lock").c_str(), O_RDWR | O_CLOEXEC);
    if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) != 0) {
      ::close(lock);
      return;
    }
    std::error_code ec;
    if (missing_.empty()) {
      for (const auto& entry : fs::directory_iterator(dir, ec)) fs::remove_all(entry.path(), ec);
    } else {
      fs::remove_all(dir, ec);
      // The parents created for it, while empty.
      for (size_t i = 1; i < missing_.size(); ++i) fs::remove(missing_[i], ec);
    }
    if (lock >= 0) ::close(lock);
  }

 private:
  std::vector<std::filesystem::path> missing_;  // the data directory first, then its parents
  std::filesystem::path empty_;                 // or: the data directory, there but empty
};

// Whether a schema text holds nothing but whitespace and comments.
bool SchemaIsBlank(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (text.substr(i, 2) == "//") {
      i = text.find('\n', i);
      if (i == std::string_view::npos) return true;
      continue;
    }
    if (text.substr(i, 2) == "/*") {
      size_t end = text.find("*/", i + 2);
      if (end == std::string_view::npos) return false;  // the parser names the error
      i = end + 1;
      continue;
    }
    return false;
  }
  return true;
}

int SchemaCommand(const Args& args) {
  if (args.positional.size() < 2) return Usage("schema", "schema needs apply, show or history");
  const std::string& sub = args.positional[1];
  if (sub == "apply") {
    if (args.positional.size() != 3) return Usage(args.HelpKey(), "schema apply needs one FILE");
    bool json = args.Has("json") || (args.Has("format") && args.options.at("format") == "json");
    auto text = ReadInput(args.positional[2]);
    if (!text.ok()) return Fail(text.status());
    // An empty file (a wrong path to a new file, a truncated copy) would
    // drop every entity: only on explicit consent.
    if (SchemaIsBlank(*text) && !args.Has("allow-destructive")) {
      return Fail(ormdb::InvalidArgument(
          "apply schema " + args.positional[2] +
          ": the schema file is empty (nothing but whitespace and comments); applying it drops "
          "every entity and its rows; pass --allow-destructive to do that"));
    }
    // A schema that fails to apply, or a dry run, leaves no new directory.
    std::optional<NewDirectoryGuard> created;
    if (ServerUrl(args).empty()) created.emplace(args.data);
    auto db = OpenDb(args, /*create=*/true);
    if (!db.ok()) return Fail(db.status());
    ormdb::ApplySchemaOptions o;
    o.dry_run = args.Has("dry-run");
    o.allow_destructive = args.Has("allow-destructive");
    std::string name = args.positional[2];
    o.file_name = name == "-" ? "stdin" : name.substr(name.find_last_of('/') + 1);
    // The plan prints before anything changes: plan with a dry run first.
    ormdb::ApplySchemaOptions dry = o;
    dry.dry_run = true;
    auto plan = (*db)->ApplySchema(*text, dry);
    if (!plan.ok()) return Fail(plan.status());
    if (json) {
      if (o.dry_run) std::printf("%s\n", plan->ToJson().c_str());
    } else {
      std::fputs(plan->ToText().c_str(), stdout);
    }
    std::fflush(stdout);
    if (o.dry_run) return 0;
    o.progress = TerminalProgress();
    auto applied = (*db)->ApplySchema(*text, o);
    EndProgress();
    if (!applied.ok()) return Fail(applied.status());
    if (created) created->Keep();
    if (json) {
      std::printf("%s\n", applied->ToJson().c_str());
    } else if (applied->applied) {
      std::printf("applied: schema version %u at commit version %llu", applied->schema_version,
                  static_cast<unsigned long long>(applied->commit_version));
      if (applied->indexes_built) {
        std::printf(" (%llu index(es) built, %llu rows)",
                    static_cast<unsigned long long>(applied->indexes_built),
                    static_cast<unsigned long long>(applied->rows_indexed));
      }
      std::printf("\n");
    }
    return 0;
  }
  if (sub == "show") {
    if (args.positional.size() != 2) return Usage(args.HelpKey(), "schema show takes no arguments");
    auto db = OpenDb(args, false);
    if (!db.ok()) return Fail(db.status());
    bool json = args.Has("json") || (args.Has("format") && args.options.at("format") == "json");
    auto out = json ? (*db)->SchemaJson() : (*db)->SchemaText();
    if (!out.ok()) return Fail(out.status());
    std::fputs(out->c_str(), stdout);
    if (json) std::fputs("\n", stdout);
    return 0;
  }
  if (sub == "history") {
    if (args.positional.size() != 2)
      return Usage(args.HelpKey(), "schema history takes no arguments");
    auto db = OpenDb(args, false);
    if (!db.ok()) return Fail(db.status());
    auto h = (*db)->SchemaHistory();
    if (!h.ok()) return Fail(h.status());
    std::printf("%-8s %-8s %-27s %-5s %s\n", "version", "commit", "time", "grade", "summary");
    for (const ormdb::SchemaVersionInfo& v : *h) {
      std::printf("%-8u %-8llu %-27s %-5c %s\n", v.schema_version,
                  static_cast<unsigned long long>(v.commit_version),
                  ormdb::FormatTimestamp(v.time_micros).c_str(), v.grade, v.summary.c_str());
    }
    return 0;
  }
  return Usage("schema", "unknown schema command " + sub + " (apply, show or history)");
}

std::optional<uint64_t> ParseCount(const std::string& s);

int StoreCommand(const Args& args) {
  const std::string& command = args.positional[0];
  if (args.positional.size() != 1) return Usage(args.HelpKey(), command + " takes no arguments");
  // Read commands and vacuum: a missing data directory is NOT_FOUND and
  // stays missing (DESIGN.md §9).
  auto db = OpenDb(args, /*create=*/false);
  if (!db.ok()) return Fail(db.status());
  if (command == "stats" || command == "vacuum") {
    auto r = command == "stats" ? (*db)->Stats() : (*db)->Vacuum();
    if (!r.ok()) return Fail(r.status());
    std::printf("%s\n", r->c_str());
    return 0;
  }
  auto r = (*db)->Check();
  if (!r.ok()) return Fail(r.status());
  for (const std::string& p : r->problems) std::printf("problem: %s\n", p.c_str());
  if (!r->problems.empty()) {
    return Fail(
        ormdb::Internal(std::to_string(r->problems.size()) + " storage invariant(s) violated"));
  }
  std::printf("%s\n", r->summary.c_str());
  return 0;
}

volatile sig_atomic_t g_interrupted = 0;
void OnInterrupt(int) { g_interrupted = 1; }

// How long a watch pull may go without its reply (beyond its long-poll
// wait) before it counts as a lost server: also the longest SIGINT may wait
// while a pull is stuck on a server that is gone.
constexpr std::chrono::milliseconds kWatchReplyTimeout{2000};
// The pause between pulls while the server is unavailable: doubling from the
// first to the last.
constexpr std::chrono::milliseconds kWatchFirstRetry{100};
constexpr std::chrono::milliseconds kWatchMaxRetry{2000};

// Sleeps `d` in short steps; returns early on SIGINT/SIGTERM.
void SleepUnlessInterrupted(std::chrono::milliseconds d) {
  constexpr std::chrono::milliseconds kStep{50};
  for (auto left = d; left.count() > 0 && !g_interrupted; left -= kStep) {
    auto step = std::min(left, kStep);
    struct timespec ts {};
    ts.tv_nsec = static_cast<long>(step.count()) * 1000000L;
    nanosleep(&ts, nullptr);
  }
}

// `ormdb watch`: long-polls for events, one JSON line each, flushed; on
// SIGINT/SIGTERM prints the token to resume from (stderr) and exits 0.
// Through a server, UNAVAILABLE (the server stopping or restarting, the
// connection lost, no reply) is waited out: one note on stderr, pulls again
// with a bounded backoff, and resumes from the token it holds, so the events
// continue with no gap and no duplicate when the server is back.
int WatchCommand(const Args& args) {
  if (args.positional.size() != 1)
    return Usage(args.HelpKey(), "watch takes no arguments (use --entity)");
  ormdb::WatchOptions o;
  o.entities = args.entities;
  if (auto it = args.options.find("from"); it != args.options.end()) {
    auto v = ParseCount(it->second);
    if (!v) return Usage(args.HelpKey(), "--from needs a version number, not '" + it->second + "'");
    o.from = *v;
  }
  const bool remote = !ServerUrl(args).empty();
  ormdb::ConnectOptions c;
  c.request_timeout = kWatchReplyTimeout;
  auto db = OpenDb(args, false, c);
  if (!db.ok()) return Fail(db.status());
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  o.wait = std::chrono::milliseconds(500);
  // Without --from the first pull starts at the current version and its
  // token says which.
  auto resume_hint = [&] {
    if (o.from) {
      std::fprintf(stderr, "resume with: --from %llu\n", static_cast<unsigned long long>(*o.from));
    }
  };
  std::chrono::milliseconds retry{0};  // nonzero while the server is unavailable
  while (!g_interrupted) {
    auto batch = (*db)->Watch(o);
    if (!batch.ok()) {
      if (g_interrupted) break;
      if (remote && batch.status().code() == ormdb::ErrorCode::kUnavailable) {
        if (retry.count() == 0) {
          std::string from = o.from ? "version " + std::to_string(*o.from) : "the current version";
          std::fprintf(stderr, "ormdb: watch: %s; waiting for the server, then resuming after %s\n",
                       batch.status().ToString().c_str(), from.c_str());
          retry = kWatchFirstRetry;
        } else {
          retry = std::min(retry * 2, kWatchMaxRetry);
        }
        SleepUnlessInterrupted(retry);
        continue;
      }
      resume_hint();
      return Fail(batch.status());
    }
    retry = std::chrono::milliseconds(0);
    for (const std::string& e : batch->events) {
      std::fwrite(e.data(), 1, e.size(), stdout);
      std::fputc('\n', stdout);
    }
    std::fflush(stdout);
    if (std::ferror(stdout)) return Fail(ormdb::Unavailable("write error on stdout"));
    o.from = batch->token;
  }
  resume_hint();
  return 0;
}

// The rules of a listen URL that need no socket, as Server::Start words them:
// a scheme, and without API keys a loopback address or ipc://.
Status CheckListenUrl(const ormdb::server::ServerOptions& so) {
  const std::string& url = so.listen;
  if (url.find("://") == std::string::npos) {
    return ormdb::InvalidArgument(
        "listen URL '" + url +
        "' needs a scheme: tcp://HOST:PORT, ipc:///path, tls+tcp://HOST:PORT or ormdb://HOST:PORT");
  }
  if (so.keys.empty() && !ormdb::server::IsLocalUrl(url)) {
    return ormdb::InvalidArgument(
        "refusing to listen on " + url +
        " without API keys: only loopback addresses (127.0.0.1, ::1, localhost) and ipc:// are "
        "served without keys; configure \"keys\" in the config file");
  }
  if (url.rfind("tls+", 0) == 0 && (so.tls_cert_file.empty() || so.tls_key_file.empty())) {
    return ormdb::InvalidArgument(
        "tls+tcp:// needs \"tls\": {\"cert\": FILE, \"key\": FILE} in the config");
  }
  return Status::Ok();
}

// `ormdb serve`: runs the server until SIGINT or SIGTERM, then stops
// gracefully (in-flight requests finish, queued commits are made durable).
int ServeCommand(const Args& args) {
  if (args.positional.size() != 1) return Usage(args.HelpKey(), "serve takes no arguments");
  if (!args.connect.empty()) return Usage(args.HelpKey(), "serve takes --data, not --connect");
  if (args.Has("as") || args.Has("token")) {
    return Usage(args.HelpKey(),
                 "serve takes no --as or --token: a server's principals come from its keys and "
                 "the tokens of its requests (--config)");
  }
  ormdb::server::ServerOptions so;
  ormdb::OpenOptions oo;
  // The default HTTP address is best effort: when it is taken (a second
  // server on this machine) the server runs without HTTP and says so. An
  // address given in the config or by --http-listen must be served.
  so.http_listen = "http://127.0.0.1:7412";
  so.http_optional = true;
  if (auto it = args.options.find("config"); it != args.options.end()) {
    auto text = ReadInput(it->second);
    if (!text.ok()) return Fail(text.status());
    Status st = ormdb::server::ParseServerConfig(*text, &so, &oo);
    if (!st.ok()) return Fail(st.WithContext(it->second));
  }
  if (auto it = args.options.find("listen"); it != args.options.end()) so.listen = it->second;
  if (auto it = args.options.find("http-listen"); it != args.options.end()) {
    so.http_listen = it->second == "off" ? "" : it->second;
    so.http_optional = false;
  }
  if (auto it = args.options.find("slow-query-ms"); it != args.options.end()) {
    char* end = nullptr;
    so.slow_query_ms = std::strtoll(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0') {
      return Usage(args.HelpKey(), "--slow-query-ms takes a whole number of milliseconds");
    }
  }
  if (auto it = args.options.find("log-level"); it != args.options.end()) {
    auto level = ormdb::observability::ParseLogLevel(it->second);
    if (!level.ok()) return Usage(args.HelpKey(), level.status().message());
    so.log_level = *level;
  }
  ormdb::observability::SetLogLevel(so.log_level);
  // "audit": true without "audit_dir": audit/ in the data directory.
  if (so.audit && so.audit_dir.empty()) so.audit_dir = args.data + "/audit";
  // The listen URL's rules are checked before the data directory is opened
  // (and perhaps created); Server::Start checks them again.
  if (Status st = CheckListenUrl(so); !st.ok()) return Fail(st);
  // Signals are taken by sigwait below, on this thread only.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // A server that fails to start (the address in use, ...) leaves no new
  // directory.
  NewDirectoryGuard created(args.data);
  auto db = ormdb::db::Engine::Open(args.data, oo);
  if (!db.ok()) return Fail(db.status().WithContext("open " + args.data));
  auto server = ormdb::server::Server::Start(std::move(*db), so);
  if (!server.ok()) return Fail(server.status());
  created.Keep();
  std::printf("ormdb serving %s on %s\n", args.data.c_str(), (*server)->url().c_str());
  // The direct transport's address (listen_direct in the config), on a line
  // of its own: the first line names the main URL alone.
  if (!(*server)->direct_url().empty()) {
    std::printf("ormdb direct transport on %s\n", (*server)->direct_url().c_str());
  }
  // Metrics and the console (docs/reference/observability.md).
  if (!(*server)->http_url().empty()) {
    std::printf("ormdb metrics and console on %s\n", (*server)->http_url().c_str());
  }
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  ormdb::Json fields = ormdb::Json::Object();
  fields.Set("signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
  ormdb::observability::Log(ormdb::observability::LogLevel::kInfo,
                            "stopping: finishing in-flight requests", fields);
  (*server)->Stop();
  ormdb::observability::Log(ormdb::observability::LogLevel::kInfo, "stopped");
  return 0;
}

// `ormdb top`: scrapes GET /metrics of a server's HTTP port every
// --interval seconds and shows the rates (tools/top.h); --count N stops
// after N screens (0, the default: until interrupted).
int TopCommand(const Args& args) {
  if (args.positional.size() != 1) return Usage(args.HelpKey(), "top takes no arguments");
  std::string url = "http://127.0.0.1:7412";
  if (const char* env = std::getenv("ORMDB_HTTP")) url = env;
  if (auto it = args.options.find("http"); it != args.options.end()) url = it->second;
  while (!url.empty() && url.back() == '/') url.pop_back();
  double interval = 2;
  if (auto it = args.options.find("interval"); it != args.options.end()) {
    char* end = nullptr;
    interval = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end != '\0' || !(interval > 0)) {
      return Usage(args.HelpKey(), "--interval takes a number of seconds > 0");
    }
  }
  long count = 0;
  if (auto it = args.options.find("count"); it != args.options.end()) {
    char* end = nullptr;
    count = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || count < 0) {
      return Usage(args.HelpKey(), "--count takes a whole number >= 0");
    }
  }
  std::string auth;
  if (const char* key = std::getenv("ORMDB_KEY"); key != nullptr && *key != '\0') {
    auth = std::string("Bearer ") + key;
  }
  const bool terminal = isatty(STDOUT_FILENO);
  std::optional<ormdb::observability::PrometheusText> before;
  auto before_time = std::chrono::steady_clock::now();
  for (long shown = 0; count == 0 || shown < count; ++shown) {
    if (shown > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(interval));
    }
    auto reply = ormdb::protocol::HttpCall("GET", url + "/metrics", {}, auth);
    if (!reply.ok()) return Fail(reply.status());
    if (reply->status != 200) {
      return Fail(ormdb::Status(
          reply->status == 401 ? ormdb::ErrorCode::kUnauthenticated
                               : ormdb::ErrorCode::kUnavailable,
          url + "/metrics answered " + std::to_string(reply->status) + ": " + reply->body));
    }
    auto now = ormdb::observability::ParsePrometheusText(reply->body);
    if (!now.ok()) return Fail(now.status().WithContext(url + "/metrics"));
    auto now_time = std::chrono::steady_clock::now();
    double seconds = std::chrono::duration<double>(now_time - before_time).count();
    std::string screen = ormdb::tools::RenderTop(before ? &*before : nullptr, *now, seconds, url);
    if (terminal) std::fputs("\x1b[H\x1b[2J", stdout);
    std::fputs(screen.c_str(), stdout);
    if (!terminal) std::fputs("\n", stdout);
    std::fflush(stdout);
    before = std::move(*now);
    before_time = now_time;
  }
  return 0;
}

// The flags each command takes; any other given flag is a usage error, so
// that nothing a user writes is silently ignored.
std::optional<std::string> CheckFlags(const Args& args) {
  std::string command = args.positional[0];
  std::vector<std::string> allowed;
  if (command == "schema" && args.positional.size() > 1) {
    command += " " + args.positional[1];
    if (args.positional[1] == "apply") allowed = {"dry-run", "allow-destructive", "format"};
    if (args.positional[1] == "show") allowed = {"json", "format"};
  }
  const std::vector<std::string> fetch_flags = {"param",           "as-of",          "format",
                                                "budget-entities", "budget-edges",   "budget-depth",
                                                "budget-bytes",    "budget-scanned", "on-exceed"};
  if (command == "query") allowed = fetch_flags;
  if (command == "select") {
    allowed = {"param", "as-of", "format", "budget-scanned", "budget-rows"};
  }
  if (command == "serve")
    allowed = {"listen", "config", "http-listen", "slow-query-ms", "log-level"};
  if (command == "watch") allowed = {"entity", "from"};
  if (command == "top") allowed = {"http", "interval", "count"};
  if (command == "shell") allowed = {"format"};
  if (command == "codegen") allowed = {"queries"};
  if (command == "explain") {
    allowed = fetch_flags;
    allowed.push_back("analyze");
    allowed.push_back("budget-rows");  // a select's
  }
  // Who the command acts for: global, like --data and --connect, for every
  // command that opens a database.
  const bool opens_database = command != "serve" && command != "top" && command != "audit" &&
                              command != "codegen" && command != "help";
  for (const auto& [flag, value] : args.options) {
    if ((flag == "as" || flag == "token") && opens_database) continue;
    if (std::find(allowed.begin(), allowed.end(), flag) == allowed.end()) {
      return "--" + flag + " does not apply to " + command;
    }
    if (flag == "format") {
      bool result = command == "query" || command == "shell";
      if (result && value != "json" && value != "table" && value != "blocks") {
        return "--format is json, table or blocks";
      }
      if (command == "select") {
        if (value != "json" && value != "table" && value != "csv") {
          return "--format is json, table or csv";
        }
      } else if (!result && value != "text" && value != "json") {
        return "--format is text or json";
      }
    }
    if (flag == "on-exceed" && value != "error" && value != "truncate") {
      return "--on-exceed is error or truncate";
    }
  }
  return std::nullopt;
}

// A whole non-negative number, or nullopt.
std::optional<uint64_t> ParseCount(const std::string& s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// The fetch options and parameters of `query` and `explain`; a usage
// problem in *problem.
bool FetchArgs(const Args& args, ormdb::FetchOptions* o, std::string* params,
               std::string* problem) {
  auto count = [&](const char* flag, std::optional<uint64_t>* out) {
    auto it = args.options.find(flag);
    if (it == args.options.end()) return true;
    *out = ParseCount(it->second);
    if (!*out)
      *problem = std::string("--") + flag + " needs a whole number, not '" + it->second + "'";
    return out->has_value();
  };
  if (!count("as-of", &o->as_of) || !count("budget-entities", &o->max_entities) ||
      !count("budget-edges", &o->max_edges) || !count("budget-depth", &o->max_depth) ||
      !count("budget-bytes", &o->max_bytes) || !count("budget-scanned", &o->max_scanned_rows)) {
    return false;
  }
  if (auto it = args.options.find("on-exceed"); it != args.options.end()) {
    o->on_exceed = it->second == "truncate" ? ormdb::OnExceed::kTruncate : ormdb::OnExceed::kError;
  }
  // --param name=value: the value as a JSON literal, else as a string.
  ormdb::Json obj = ormdb::Json::Object();
  for (const auto& [name, value] : args.params) {
    if (obj.Find(name) != nullptr) {
      *problem = "--param " + name + " given twice";
      return false;
    }
    auto parsed = ormdb::ParseJson(value);
    obj.Set(name, parsed.ok() && !parsed->is_array() && !parsed->is_object() ? std::move(*parsed)
                                                                             : ormdb::Json(value));
  }
  *params = ormdb::ToJson(obj);
  return true;
}

// An error about a --param value that the CLI read as a JSON literal (a
// number, true, false, null) where a string was wanted: says how to pass
// the string instead.
Status WithQuotingHint(const Status& st, const Args& args) {
  if (st.code() != ormdb::ErrorCode::kInvalidArgument) return st;
  for (const auto& [name, value] : args.params) {
    if (st.message().find("parameter $" + name + ":") == std::string::npos) continue;
    auto parsed = ormdb::ParseJson(value);
    if (!parsed.ok() || parsed->is_string() || st.message().find("string") == std::string::npos) {
      continue;
    }
    return Status(st.code(), st.message() + " (--param reads " + name + "=" + value +
                                 " as JSON, not as a string; for the string write --param " + name +
                                 "='\"" + value + "\"')");
  }
  return st;
}

// The options of `select` (and of `explain` of a select).
bool SelectArgs(const Args& args, ormdb::SelectOptions* o, std::string* params,
                std::string* problem) {
  ormdb::FetchOptions f;
  if (!FetchArgs(args, &f, params, problem)) return false;
  o->as_of = f.as_of;
  o->max_scanned_rows = f.max_scanned_rows;
  if (auto it = args.options.find("budget-rows"); it != args.options.end()) {
    o->max_rows = ParseCount(it->second);
    if (!o->max_rows) {
      *problem = "--budget-rows needs a whole number, not '" + it->second + "'";
      return false;
    }
  }
  return true;
}

// `ormdb select 'TEXT'`: relational mode.
int SelectCommand(const Args& args) {
  if (args.positional.size() != 2)
    return Usage(args.HelpKey(), "select needs one statement (or - for stdin)");
  ormdb::SelectOptions o;
  std::string params, problem;
  if (!SelectArgs(args, &o, &params, &problem)) return Usage(args.HelpKey(), problem);
  auto text =
      args.positional[1] == "-" ? ReadInput("-") : ormdb::Result<std::string>(args.positional[1]);
  if (!text.ok()) return Fail(text.status());
  // `ormdb select 'title from Post'` reads as the statement it abbreviates.
  std::string statement = ormdb::query::IsSelectText(*text) ? *text : "select " + *text;
  auto db = OpenDb(args, false);
  if (!db.ok()) return Fail(db.status());
  std::string format = args.Has("format") ? args.options.at("format") : "";
  if (format.empty()) format = isatty(STDOUT_FILENO) ? "table" : "json";
  auto r = (*db)->Select(statement, params, o);
  if (!r.ok()) return Fail(WithQuotingHint(r.status(), args));
  std::string out = format == "json"  ? (*r)->ToJson() + "\n"
                    : format == "csv" ? (*r)->ToCsv()
                                      : (*r)->ToTable();
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int FetchCommand(const Args& args) {
  const std::string& command = args.positional[0];
  if (args.positional.size() != 2)
    return Usage(args.HelpKey(), command + " needs one query text (or - for stdin)");
  ormdb::FetchOptions o;
  std::string params, problem;
  if (!FetchArgs(args, &o, &params, &problem)) return Usage(args.HelpKey(), problem);
  auto text =
      args.positional[1] == "-" ? ReadInput("-") : ormdb::Result<std::string>(args.positional[1]);
  if (!text.ok()) return Fail(text.status());
  auto db = OpenDb(args, false);
  if (!db.ok()) return Fail(db.status());
  std::string format = args.Has("format") ? args.options.at("format") : "";
  if (command == "explain") {
    ormdb::ExplainOptions e;
    e.analyze = args.Has("analyze");
    e.json = format == "json";
    e.fetch = o;
    const bool select = ormdb::query::IsSelectText(*text);
    if (select && !SelectArgs(args, &e.select, &params, &problem)) {
      return Usage(args.HelpKey(), problem);
    }
    if (!select && args.Has("budget-rows")) {
      return Usage(args.HelpKey(), "--budget-rows applies to the explain of a select");
    }
    auto r = select ? (*db)->ExplainSelect(*text, params, e) : (*db)->Explain(*text, params, e);
    if (!r.ok()) return Fail(WithQuotingHint(r.status(), args));
    std::fputs(r->c_str(), stdout);
    if (e.json) std::fputs("\n", stdout);
    return 0;
  }
  if (format.empty()) format = isatty(STDOUT_FILENO) ? "table" : "json";
  auto r = (*db)->Fetch(*text, params, o);
  if (!r.ok()) return Fail(WithQuotingHint(r.status(), args));
  std::string out;
  if (format == "json") {
    out = (*r)->ToJson() + "\n";
  } else if (format == "blocks") {
    out = (*r)->ToBlocksJson() + "\n";
  } else {
    out = ormdb::tools::RenderTreeTable(**r);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int UnknownCommand(const std::string& command) {
  std::string problem = "unknown command " + command;
  std::string near = ormdb::tools::SuggestCommand(command);
  if (!near.empty()) problem += " (did you mean '" + near + "'?)";
  return Usage("", problem);
}

// `ormdb help [COMMAND]`.
int HelpCommand(const Args& args) {
  if (args.positional.size() == 1) {
    std::fputs(ormdb::tools::OverviewHelp().c_str(), stdout);
    return 0;
  }
  std::string topic = args.positional[1];
  for (size_t i = 2; i < args.positional.size(); ++i) topic += " " + args.positional[i];
  const auto* h = ormdb::tools::FindCommandHelp(topic);
  if (h == nullptr && args.positional.size() > 2)
    h = ormdb::tools::FindCommandHelp(args.positional[1]);
  if (h == nullptr) return UnknownCommand(topic);
  std::fputs(ormdb::tools::FullHelp(*h).c_str(), stdout);
  return 0;
}

// `ormdb codegen ts|python SCHEMA [-o DIR] [--queries FILE]`: the typed
// client of a schema file, on standard output or in DIR/<schema name>.ts|.py;
// with --queries (Python), the named queries of FILE as typed functions.
int CodegenCommand(const Args& args) {
  std::vector<std::string> rest(args.positional.begin() + 1, args.positional.end());
  std::string out_dir;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != "-o") continue;
    if (i + 1 >= rest.size()) return Usage("codegen", "-o needs a directory");
    out_dir = rest[i + 1];
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i),
               rest.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    break;
  }
  if (rest.size() != 2)
    return Usage("codegen", "codegen needs a language (ts or python) and a SCHEMA file");
  auto language = ormdb::codegen::ParseLanguage(rest[0]);
  if (!language.ok()) return Usage("codegen", language.status().message());
  auto text = ReadInput(rest[1]);
  if (!text.ok()) return Fail(text.status());
  std::filesystem::path schema_path(rest[1]);
  std::string queries_text, queries_file;
  if (auto it = args.options.find("queries"); it != args.options.end()) {
    auto queries = ReadInput(it->second);
    if (!queries.ok()) return Fail(queries.status());
    queries_text = std::move(*queries);
    queries_file = std::filesystem::path(it->second).filename().string();
  }
  auto source = ormdb::codegen::GenerateFromText(*language, *text, schema_path.filename().string(),
                                                 queries_text, queries_file);
  if (!source.ok()) return Fail(source.status());
  if (out_dir.empty()) {
    std::fwrite(source->data(), 1, source->size(), stdout);
    return 0;
  }
  // The module is named after the schema file: blog.ormdb -> blog.ts, blog.py.
  std::string stem = schema_path.stem().string();
  for (char& c : stem) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  std::filesystem::path file =
      std::filesystem::path(out_dir) / (stem + std::string(ormdb::codegen::Extension(*language)));
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(source->data(), static_cast<std::streamsize>(source->size()));
  out.close();
  if (ec || !out) return Fail(ormdb::Unavailable("cannot write " + file.string()));
  std::printf("%s\n", file.string().c_str());
  return 0;
}

// `ormdb shell` (and no command on a terminal).
int ShellCommand(const Args& args) {
  if (args.positional.size() > 1) return Usage("shell", "shell takes no arguments");
  if (!args.connect.empty() && args.data_given) {
    return Usage("shell", "--data and --connect exclude each other");
  }
  ormdb::tools::ShellOptions o;
  o.interactive = isatty(STDIN_FILENO);
  if (auto it = args.options.find("format"); it != args.options.end()) {
    o.format = it->second;
  } else {
    o.format = isatty(STDOUT_FILENO) ? "table" : "json";
  }
  std::string url = ServerUrl(args);
  o.target = url.empty() ? args.data : url;
  auto db = OpenDb(args, /*create=*/false);
  if (!db.ok()) return Fail(db.status());
  return ormdb::tools::RunShell(**db, o);
}

int Run(const Args& args) {
  const std::string& command = args.positional[0];
  if (command != "help" && ormdb::tools::FindCommandHelp(command) == nullptr) {
    return UnknownCommand(command);
  }
  if (auto problem = CheckFlags(args)) return Usage(args.HelpKey(), *problem);
  if (command == "help") return HelpCommand(args);
  if (command == "audit") {
    return ormdb::tools::AuditCommand({args.positional.begin() + 1, args.positional.end()});
  }
  if (command == "shell") return ShellCommand(args);
  const size_t n = args.positional.size();
  if (!args.connect.empty() && args.data_given) {
    return Usage(args.HelpKey(), "--data and --connect exclude each other");
  }
  if (command == "serve") return ServeCommand(args);
  if (command == "top") return TopCommand(args);
  if (command == "codegen") return CodegenCommand(args);
  if (command == "watch") return WatchCommand(args);
  if (command == "schema") return SchemaCommand(args);
  if (command == "stats" || command == "vacuum" || command == "check") return StoreCommand(args);
  if (command == "query" || command == "explain") return FetchCommand(args);
  if (command == "select") return SelectCommand(args);
  if (command == "mutate") {
    if (n != 2) return Usage(args.HelpKey(), "mutate needs one FILE (or - for stdin)");
    auto text = ReadInput(args.positional[1]);
    if (!text.ok()) return Fail(text.status());
    auto db = OpenDb(args, false);
    if (!db.ok()) return Fail(db.status());
    auto r = (*db)->Mutate(*text);
    if (!r.ok()) return Fail(r.status());
    std::printf("%s\n", r->json.c_str());
    return 0;
  }
  if (command == "get") {
    if (n != 3) return Usage(args.HelpKey(), "get needs ENTITY and ID");
    auto db = OpenDb(args, false);
    if (!db.ok()) return Fail(db.status());
    auto r = (*db)->Get(args.positional[1], args.positional[2]);
    if (!r.ok()) return Fail(r.status());
    if (!*r) {
      return Fail(
          ormdb::NotFound(args.positional[1] + " " + args.positional[2] + " does not exist"));
    }
    std::printf("%s\n", (*r)->c_str());
    return 0;
  }
  if (command == "export") {
    if (n != 2) return Usage(args.HelpKey(), "export needs ENTITY");
    auto db = OpenDb(args, false);
    if (!db.ok()) return Fail(db.status());
    Status st = (*db)->Export(args.positional[1], [](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
      if (std::ferror(stdout)) return ormdb::Unavailable("write error on stdout");
      return Status::Ok();
    });
    if (!st.ok()) return Fail(st);
    return 0;
  }
  if (command == "import") {
    if (n != 3) return Usage(args.HelpKey(), "import needs ENTITY and FILE (.jsonl or .csv)");
    const std::string& path = args.positional[2];
    ormdb::ImportOptions o;
    bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
    o.format = csv ? ormdb::ImportOptions::Format::kCsv : ormdb::ImportOptions::Format::kJsonLines;
    o.progress = TerminalProgress();
    std::ifstream file;
    std::istream* in = &std::cin;
    if (path != "-") {
      file.open(path, std::ios::binary);
      if (!file) return Fail(ormdb::NotFound("cannot read " + path + ": " + std::strerror(errno)));
      in = &file;
    }
    auto db = OpenDb(args, false);
    if (!db.ok()) return Fail(db.status());
    auto r = (*db)->Import(args.positional[1], *in, o);
    EndProgress();
    if (!r.ok()) return Fail(r.status());
    std::printf("{\"rows\": %llu, \"version\": %llu}\n", static_cast<unsigned long long>(r->rows),
                static_cast<unsigned long long>(r->version));
    return 0;
  }
  return UnknownCommand(command);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  std::optional<std::string> problem = ParseArgs(argc, argv, &args);
  if (args.version) {
    std::printf("%s\n", ormdb::tools::VersionText().c_str());
    return 0;
  }
  if (args.help) {
    if (args.positional.empty() || args.positional[0] == "help") {
      std::fputs(ormdb::tools::OverviewHelp().c_str(), stdout);
      return 0;
    }
    if (const auto* h = ormdb::tools::FindCommandHelp(args.HelpKey())) {
      std::fputs(ormdb::tools::FullHelp(*h).c_str(), stdout);
      return 0;
    }
    return UnknownCommand(args.positional[0]);
  }
  if (problem) return Usage(args.HelpKey(), *problem);
  if (args.positional.empty()) {
    // On a terminal, no command is the shell.
    if (!isatty(STDIN_FILENO)) return Usage("", "no command given");
    args.positional.push_back("shell");
  }
  return Run(args);
}