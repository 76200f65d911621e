// pg_cluster: what the benchmarks against PostgreSQL share (server_bench,
// imdb_server_bench): a PostgreSQL 15 cluster of their own in a temporary
// directory, libpq helpers (connect, execute, one value, COPY FROM STDIN),
// and the process plumbing that makes sure a failed or interrupted run
// still stops that cluster and removes its directories.
//
// The process model: main calls StartSignalThread() before any other thread
// exists, then SetProgramName(); every error ends the process through
// Die(), which stops the registered cluster and removes the registered
// temporary directories first; so do SIGINT / SIGTERM / SIGHUP and exit()
// (Cleanup is registered with atexit by StartSignalThread).
//
// Thread-safety: Die, AddTempDir and Cleanup may be called from any thread.
// A PgCluster is created and used by one thread; its Shutdown may race with
// that thread (the signal thread calls it) and is guarded. The libpq helpers
// use the connection they are given, one thread per connection.
#pragma once

#include <libpq-fe.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ormdb::bench {

// ------------------------------------------------------------ the process

// The name error messages start with ("server_bench: ..."), and the
// application_name of PostgreSQL connections. Default "bench".
void SetProgramName(const char* name);
const std::string& ProgramName();

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and so in every
// thread started later) and starts a detached thread that takes them: it
// stops the cluster, removes the temporary directories and ends the process
// with 128 + the signal. Registers Cleanup with atexit.
// REQUIRES: called from main before any other thread exists.
void StartSignalThread();

// Prints "<program>: <message>" to stderr, runs Cleanup and ends the
// process with status 1 (_exit: destructors of objects that other threads
// may still be using do not run). Callable from any thread.
[[noreturn]] void Die(const std::string& message);

// A directory Cleanup removes (unless SetKeepTempDirs(true)).
void AddTempDir(const std::string& dir);
void SetKeepTempDirs(bool keep);
const std::vector<std::string>& TempDirs();  // REQUIRES: no concurrent AddTempDir

// Stops the registered cluster (RegisterCluster) and removes the temporary
// directories. Idempotent; the first call does the work.
void Cleanup();

// A fresh directory "<parent>/<prefix>XXXXXX", or nullopt (errno set).
std::optional<std::string> MakeTempDir(const std::string& parent, const std::string& prefix);

// The last `max` bytes of a file, for error messages.
std::string Tail(const std::string& path, size_t max = 3000);

// ----------------------------------------------------- PostgreSQL cluster

// A PostgreSQL cluster of its own in a temporary directory, listening on
// 127.0.0.1 (and a Unix socket in that directory), started with pg_ctl and
// stopped with `pg_ctl stop -m fast`: fsync and synchronous_commit on,
// shared_buffers 256MB, work_mem 16MB, wal_level minimal, jit off, UTC, C
// locale (text sorts by bytes, as ormdb's strings do). PostgreSQL refuses
// to run as root: then the directory belongs to the `postgres` user and the
// tools run through `runuser -u postgres --`. Failures end the process
// (Die) with the tool's log.
class PgCluster {
 public:
  static constexpr const char* kUser = "ormdb_bench";

  // initdb into a new directory under `parent` and start the server; `bin`
  // holds initdb and pg_ctl (/usr/lib/postgresql/15/bin).
  void Create(const std::string& parent, const std::string& bin);

  // Stops the server (fast shutdown) and removes the directory. Idempotent.
  void Shutdown();

  // A libpq connection string for TCP loopback.
  std::string ConnInfo() const;
  const std::string& dir() const { return dir_; }
  int port() const { return port_; }
  bool as_postgres() const { return as_postgres_; }
  double init_seconds() const { return init_seconds_; }
  double start_seconds() const { return start_seconds_; }

 private:
  // Runs a PostgreSQL tool (args[0] an absolute path), as the postgres user
  // when root, in the cluster directory, stdout and stderr appended to
  // `log`. Returns its exit status.
  int Run(const std::vector<std::string>& args, const std::string& log);

  std::mutex mu_;  // dir_ against a Shutdown from the signal thread
  std::string bin_, dir_, data_, runuser_;
  int port_ = 0;
  bool as_postgres_ = false;
  bool start_attempted_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  double init_seconds_ = 0, start_seconds_ = 0;
};

// The cluster Cleanup stops. Set it before the cluster is created.
void RegisterCluster(PgCluster* cluster);

// Creates and starts `cluster` where ORMDB_BENCH_PG_DIR (or ORMDB_BENCH_DIR,
// or /tmp) says, with the tools of ORMDB_BENCH_PG_BIN
// (/usr/lib/postgresql/15/bin); connects to it and reports each step
// through `note(key, value)`. Returns the connection.
PGconn* StartPgCluster(PgCluster& cluster,
                       const std::function<void(const std::string&, const std::string&)>& note);

// ------------------------------------------------------------------ libpq

// A connection, or Die with libpq's message.
PGconn* PgConnect(const std::string& conninfo);

// Runs `sql` (one or more statements); Die unless it succeeds.
void PgExec(PGconn* c, const std::string& sql);

// The first column of the first row (every row, newline-separated, with
// all_rows); Die when the statement fails or returns no row.
std::string PgValue(PGconn* c, const std::string& sql, bool all_rows = false);

// Streams rows to a `COPY ... FROM STDIN` (text format) in 1 MB messages.
// Die on any error.
class CopyIn {
 public:
  CopyIn(PGconn* c, const std::string& sql);

  void Int(int64_t v);
  void Null();
  // Text with COPY's escapes (backslash, tab, newline, carriage return).
  void Text(std::string_view s);
  void EndRow();
  // Sends the rest and ends the COPY.
  void Finish();

 private:
  static constexpr size_t kChunk = size_t{1} << 20;
  void Sep();
  void Flush();

  PGconn* c_;
  std::string sql_;
  std::string buf_;
  bool first_ = true;
};

}  // namespace ormdb::bench
