#include "bench/pg_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "bench/bench_util.h"

namespace ormdb::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string g_program = "bench";
std::mutex g_cleanup_mu;
bool g_cleaned = false;                  // guarded by g_cleanup_mu
bool g_keep = false;                     // guarded by g_cleanup_mu
PgCluster* g_cluster = nullptr;          // set once before anything can fail
std::vector<std::string> g_temp_dirs;    // guarded by g_cleanup_mu
std::atomic<bool> g_interrupted{false};  // a signal arrived: the signal thread ends the process

void CleanupAtExit() { Cleanup(); }

// Takes the blocked signals: an interrupted run still stops PostgreSQL and
// removes its directories.
void SignalThread(sigset_t set) {
  int sig = 0;
  if (sigwait(&set, &sig) != 0) return;
  g_interrupted = true;
  std::fprintf(stderr, "\n%s: signal %d: stopping PostgreSQL and cleaning up\n", g_program.c_str(),
               sig);
  Cleanup();
  _exit(128 + sig);
}

// A loopback TCP port nothing listens on right now.
int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace

// ------------------------------------------------------------ the process

void SetProgramName(const char* name) { g_program = name; }
const std::string& ProgramName() { return g_program; }

void StartSignalThread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(SignalThread, set).detach();
  std::atexit(CleanupAtExit);
}

[[noreturn]] void Die(const std::string& message) {
  if (g_interrupted) {
    for (;;) pause();  // the failure is the interruption's; the signal thread exits
  }
  std::fprintf(stderr, "%s: %s\n", g_program.c_str(), message.c_str());
  Cleanup();
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(1);
}

void AddTempDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(g_cleanup_mu);
  g_temp_dirs.push_back(dir);
}

void SetKeepTempDirs(bool keep) {
  std::lock_guard<std::mutex> lock(g_cleanup_mu);
  g_keep = keep;
}

const std::vector<std::string>& TempDirs() { return g_temp_dirs; }

void RegisterCluster(PgCluster* cluster) {
  std::lock_guard<std::mutex> lock(g_cleanup_mu);
  g_cluster = cluster;
}

void Cleanup() {
  std::lock_guard<std::mutex> lock(g_cleanup_mu);
  if (g_cleaned) return;
  g_cleaned = true;
  if (g_cluster) g_cluster->Shutdown();
  if (!g_keep) {
    for (const std::string& d : g_temp_dirs) {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  }
}

std::optional<std::string> MakeTempDir(const std::string& parent, const std::string& prefix) {
  std::string pattern = parent + "/" + prefix + "XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) return std::nullopt;
  return std::string(buf.data());
}

std::string Tail(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max ? "..." + s.substr(s.size() - max) : s;
}

// --------------------------------------------------- PostgreSQL cluster

void PgCluster::Create(const std::string& parent, const std::string& bin) {
  bin_ = bin;
  if (access((bin_ + "/initdb").c_str(), X_OK) != 0 ||
      access((bin_ + "/pg_ctl").c_str(), X_OK) != 0) {
    Die("no PostgreSQL in " + bin_ +
        " (install the Debian package postgresql, or set ORMDB_BENCH_PG_BIN)");
  }
  as_postgres_ = geteuid() == 0;
  if (as_postgres_) {
    passwd* pw = getpwnam("postgres");
    if (!pw) Die("running as root, but there is no `postgres` user to run PostgreSQL as");
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
    runuser_ = access("/usr/sbin/runuser", X_OK) == 0 ? "/usr/sbin/runuser" : "/sbin/runuser";
    if (access(runuser_.c_str(), X_OK) != 0) Die("running as root, but runuser is missing");
  }
  auto dir = MakeTempDir(parent, "ormdb_pg_bench_");
  if (!dir) Die("cannot create a directory in " + parent + ": " + std::strerror(errno));
  {
    std::lock_guard<std::mutex> lock(mu_);
    dir_ = *dir;
  }
  data_ = dir_ + "/data";
  if (as_postgres_ && chown(dir_.c_str(), uid_, gid_) != 0) {
    Die("cannot give " + dir_ + " to the postgres user: " + std::strerror(errno));
  }
  if (as_postgres_ && Run({"/usr/bin/test", "-w", dir_}, "/dev/null") != 0) {
    Die("the postgres user cannot write " + dir_ +
        ": point ORMDB_BENCH_PG_DIR at a directory every user can reach (e.g. /tmp)");
  }

  auto start = Clock::now();
  const std::string initdb_log = dir_ + "/initdb.log";
  if (Run({bin_ + "/initdb", "-D", data_, "-U", kUser, "--auth=trust", "--encoding=UTF8",
           "--locale=C", "--no-sync", "--no-instructions"},
          initdb_log) != 0) {
    Die("initdb failed:\n" + Tail(initdb_log));
  }
  init_seconds_ = Since(start);

  start = Clock::now();
  for (int attempt = 0;; ++attempt) {
    port_ = FreeLoopbackPort();
    if (port_ == 0) Die("cannot find a free loopback port");
    // Appended settings win over the ones before them (a retry appends
    // another port).
    std::ofstream conf(data_ + "/postgresql.conf", std::ios::app);
    conf << "\n# " << g_program << "\n"
         << "listen_addresses = '127.0.0.1'\n"
         << "port = " << port_ << "\n"
         << "unix_socket_directories = '" << dir_ << "'\n"
         << "max_connections = 20\n"
         << "shared_buffers = 256MB\n"
         << "work_mem = 16MB\n"
         << "maintenance_work_mem = 256MB\n"
         << "effective_cache_size = 2GB\n"
         << "fsync = on\n"
         << "synchronous_commit = on\n"
         << "wal_level = minimal\n"  // the load's COPY into new tables skips the WAL
         << "max_wal_senders = 0\n"
         << "max_wal_size = 4GB\n"
         << "checkpoint_timeout = 30min\n"
         << "jit = off\n"  // JIT compilation only adds latency to queries this short
         << "timezone = 'UTC'\n"
         << "logging_collector = off\n";
    conf.close();
    if (!conf) Die("cannot write " + data_ + "/postgresql.conf");
    start_attempted_ = true;
    const std::string log = dir_ + "/pg_ctl.log";
    if (Run({bin_ + "/pg_ctl", "-D", data_, "-l", dir_ + "/postgres.log", "-w", "-t", "120",
             "start"},
            log) == 0) {
      break;
    }
    std::string server_log = Tail(dir_ + "/postgres.log");
    if (attempt < 3 && server_log.find("could not bind") != std::string::npos) continue;
    Die("pg_ctl start failed:\n" + Tail(log) + "\n--- postgres.log:\n" + server_log);
  }
  start_seconds_ = Since(start);
}

void PgCluster::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  if (dir_.empty()) return;
  if (start_attempted_) {
    if (Run({bin_ + "/pg_ctl", "-D", data_, "-m", "fast", "-w", "-t", "60", "stop"}, "/dev/null") !=
        0) {
      // Not running, or stuck: make sure no postmaster outlives us.
      std::ifstream pid_file(data_ + "/postmaster.pid");
      long pid = 0;
      if (pid_file >> pid && pid > 1) kill(static_cast<pid_t>(pid), SIGQUIT);
    }
    start_attempted_ = false;
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
  dir_.clear();
}

std::string PgCluster::ConnInfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=" + kUser +
         " sslmode=disable gssencmode=disable application_name=" + g_program;
}

int PgCluster::Run(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> full;
  if (as_postgres_) full = {runuser_, "-u", "postgres", "--"};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : full) argv.push_back(s.data());
  argv.push_back(nullptr);
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  const std::string cwd = dir_;
  pid_t pid = fork();
  if (pid < 0) {
    close(fd);
    return -1;
  }
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    if (chdir(cwd.c_str()) != 0) _exit(126);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// ------------------------------------------------------------------ libpq

PGconn* PgConnect(const std::string& conninfo) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string m = PQerrorMessage(c);
    PQfinish(c);
    Die("cannot connect to PostgreSQL (" + conninfo + "): " + m);
  }
  return c;
}

void PgExec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    std::string m = PQerrorMessage(c);
    PQclear(r);
    Die("PostgreSQL: " + m + "in: " + sql);
  }
  PQclear(r);
}

std::string PgValue(PGconn* c, const std::string& sql, bool all_rows) {
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1) {
    std::string m = PQerrorMessage(c);
    PQclear(r);
    Die("PostgreSQL: " + m + "in: " + sql);
  }
  std::string v;
  for (int i = 0; i < (all_rows ? PQntuples(r) : 1); ++i) {
    v += PQgetvalue(r, i, 0);
    if (all_rows) v += '\n';
  }
  PQclear(r);
  return v;
}

CopyIn::CopyIn(PGconn* c, const std::string& sql) : c_(c), sql_(sql) {
  PGresult* r = PQexec(c_, sql.c_str());
  if (PQresultStatus(r) != PGRES_COPY_IN) {
    std::string m = PQerrorMessage(c_);
    PQclear(r);
    Die("PostgreSQL: " + m + "in: " + sql);
  }
  PQclear(r);
  buf_.reserve(kChunk + 4096);
}

void CopyIn::Int(int64_t v) {
  Sep();
  buf_ += std::to_string(v);
}

void CopyIn::Null() {
  Sep();
  buf_ += "\\N";
}

void CopyIn::Text(std::string_view s) {
  Sep();
  for (char ch : s) {
    switch (ch) {
      case '\\':
        buf_ += "\\\\";
        break;
      case '\t':
        buf_ += "\\t";
        break;
      case '\n':
        buf_ += "\\n";
        break;
      case '\r':
        buf_ += "\\r";
        break;
      default:
        buf_ += ch;
    }
  }
}

void CopyIn::EndRow() {
  buf_ += '\n';
  first_ = true;
  if (buf_.size() >= kChunk) Flush();
}

void CopyIn::Finish() {
  Flush();
  if (PQputCopyEnd(c_, nullptr) != 1) Die("PQputCopyEnd: " + std::string(PQerrorMessage(c_)));
  PGresult* r;
  while ((r = PQgetResult(c_)) != nullptr) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      std::string m = PQerrorMessage(c_);
      PQclear(r);
      Die("PostgreSQL: " + m + "in: " + sql_);
    }
    PQclear(r);
  }
}

void CopyIn::Sep() {
  if (!first_) buf_ += '\t';
  first_ = false;
}

void CopyIn::Flush() {
  if (buf_.empty()) return;
  if (PQputCopyData(c_, buf_.data(), static_cast<int>(buf_.size())) != 1) {
    Die("PQputCopyData: " + std::string(PQerrorMessage(c_)));
  }
  buf_.clear();
}

PGconn* StartPgCluster(PgCluster& cluster,
                       const std::function<void(const std::string&, const std::string&)>& note) {
  const std::string bin = Env("ORMDB_BENCH_PG_BIN", "/usr/lib/postgresql/15/bin");
  const std::string parent = Env("ORMDB_BENCH_PG_DIR", Env("ORMDB_BENCH_DIR", "/tmp").c_str());
  cluster.Create(parent, bin);
  note("PostgreSQL cluster", cluster.dir() + " (" + FilesystemName(cluster.dir()) + ")" +
                                 (cluster.as_postgres() ? ", run as user postgres" : ""));
  note("PostgreSQL initdb + start", FormatSeconds(cluster.init_seconds()) + " + " +
                                        FormatSeconds(cluster.start_seconds()) +
                                        ", 127.0.0.1:" + std::to_string(cluster.port()));
  PGconn* c = PgConnect(cluster.ConnInfo());
  note("PostgreSQL version", PgValue(c, "SHOW server_version"));
  return c;
}

}  // namespace ormdb::bench
