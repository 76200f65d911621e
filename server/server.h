// The ormdb server (`ormdb serve`, DESIGN.md §7, docs/PROTOCOL.md): one nng
// REP socket with many contexts, answering the requests of protocol/
// ormdb.capnp on a database opened in this process.
//
// Threads: nng's own threads receive and send. Short reads (fetch, explain,
// get, stats: bounded by the fetch budget) are answered on the nng thread
// that received them, unless inline_reads is off; a read pool (sized to the
// cores) runs long reads (export, check); a wait pool runs what mostly
// waits — mutations (queued to the storage writer, which group commits
// them) and long-poll watches. A request resent with the same
// (client, id) — nng resends after a lost pipe — is answered from the
// first execution and never applied twice.
//
// Thread-safety: Start/Stop from one thread; everything else is internal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "ormdb/database.h"

namespace ormdb::server {

struct ApiKey {
  std::string key;
  std::string principal;
  // "read" (fetch, explain, get, export, watch, stats, schema show/history,
  // check), "write" (mutate, import), "admin" (schema apply, vacuum; implies
  // the others).
  std::vector<std::string> roles;
};

struct ServerOptions {
  // tcp://HOST:PORT, ipc:///path or tls+tcp://HOST:PORT. Port 0 picks a
  // free port (Server::url() tells which).
  std::string listen = "tcp://127.0.0.1:7411";
  // With no keys the server refuses every non-loopback address; with keys
  // every request must carry one of them (UNAUTHENTICATED otherwise).
  std::vector<ApiKey> keys;
  // PEM files for tls+tcp:// (both required there).
  std::string tls_cert_file;
  std::string tls_key_file;
  // nng contexts: requests served concurrently. Default 64.
  size_t contexts = 64;
  // Threads for reads; 0 = twice the cores (at least 4).
  size_t read_threads = 0;
  // Answer short reads on the receiving nng thread instead of the read
  // pool. The hop to a pool thread and back costs two thread wake-ups per
  // request (measured on a 2-core VM: 160 µs -> 105 µs per small request;
  // docs/PERFORMANCE.md); the price is that a long fetch holds one of nng's
  // I/O threads meanwhile. Default true.
  bool inline_reads = true;
  // The largest request accepted (NNG_OPT_RECVMAXSZ); a larger one closes
  // its connection. Default 64 MiB (imports are sent whole).
  size_t max_request_bytes = size_t{64} << 20;
  // Replies larger than this are sent in chunks of this size that the
  // client pulls with a continuation handle. Default 4 MiB.
  size_t max_frame_bytes = size_t{4} << 20;
  // Open continuations (large replies being pulled); past it a large reply
  // fails with RESOURCE_EXHAUSTED. An idle one is dropped after
  // continuation_idle_ms. Defaults 64 and 30 s.
  size_t max_continuations = 64;
  int64_t continuation_idle_ms = 30000;
  // A watch's long-poll wait is capped at this. Default 10 s.
  int64_t max_watch_wait_ms = 10000;
  // Completed write requests remembered for resends. Default 16384.
  size_t request_id_cache = 16384;
  // On Stop, how long in-flight requests may take to finish. Default 30 s.
  int64_t shutdown_grace_ms = 30000;
};

// Reads a config file's JSON (docs/PROTOCOL.md "Server configuration") over
// `server` and `database`. INVALID_ARGUMENT names an unknown key or a bad
// value; nothing is silently ignored.
Status ParseServerConfig(std::string_view json, ServerOptions* server, OpenOptions* database);

// Whether a listen URL only accepts local peers (loopback host, ipc, inproc).
bool IsLocalUrl(std::string_view url);

struct ServerStats {
  uint64_t requests = 0;
  uint64_t errors = 0;
  uint64_t frames = 0;            // well-formed request frames received
  uint64_t unaligned_copies = 0;  // of them, copied to be aligned
  uint64_t resends_answered = 0;  // requests answered from the id cache
  uint64_t chunked_replies = 0;
  uint64_t open_continuations = 0;
};

class Server {
 public:
  // Starts serving `db`. INVALID_ARGUMENT for a bad URL, a non-loopback
  // address without keys, or TLS without certificate files; UNAVAILABLE
  // when the address is in use.
  static Result<std::unique_ptr<Server>> Start(std::unique_ptr<Database> db,
                                               const ServerOptions& options);
  // Stops taking requests, lets in-flight ones finish (their commits are
  // durable and acknowledged), then closes. Idempotent.
  virtual void Stop() = 0;
  virtual ~Server() = default;
  // The URL actually listened on (the bound port when 0 was asked).
  virtual const std::string& url() const = 0;
  virtual ServerStats stats() const = 0;
};

}  // namespace ormdb::server
