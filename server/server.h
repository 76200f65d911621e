// The ormdb server (`ormdb serve`, DESIGN.md §7, docs/PROTOCOL.md): one nng
// REP socket with many contexts, answering the requests of protocol/
// ormdb.capnp on a database opened in this process.
//
// Threads: nng's own threads receive and send. Short reads (fetch, explain,
// get, stats: bounded by the fetch budget) are answered on the nng thread
// that received them, unless inline_reads is off; a read pool (sized to the
// cores) runs long reads (export, check) and change-stream pulls; a write
// pool runs mutations (queued to the storage writer, which group commits
// them). A long-poll watch with nothing to deliver is parked: it holds
// neither a thread nor one of the receiving contexts, and one watcher
// thread wakes it when a commit lands, its wait ends or its client leaves.
//
// Every request is authenticated before anything is looked up for it. A
// write resent with the same (principal, client, id) — nng resends after a
// lost pipe — is answered from the first execution and never applied
// twice: from memory while the server runs, and after a restart from the
// request outcome the write recorded in its own transaction.
//
// Thread-safety: Start/Stop from one thread; everything else is internal.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/jwt.h"
#include "db/engine.h"
#include "observability/log.h"
#include "ormdb/database.h"
#include "ormdb/principal.h"
#include "ormdb/status.h"

namespace ormdb::server {

struct ApiKey {
  ApiKey() = default;
  // {key, name, roles}: acts_as is optional (a constructor, not aggregate
  // initialization, so that leaving it out is not a missing initializer).
  ApiKey(std::string key, std::string principal, std::vector<std::string> roles,
         std::optional<ormdb::Principal> acts_as = std::nullopt)
      : key(std::move(key)),
        principal(std::move(principal)),
        roles(std::move(roles)),
        acts_as(std::move(acts_as)) {}

  std::string key;
  // The principal's name: in logs, errors, metrics and the per-principal
  // limits. From the config's string "principal", or the id of an object
  // "principal" ("7"), else "keyN" for the Nth key.
  std::string principal;
  // The access roles of the server: "read" (fetch, explain, get, export,
  // watch, stats, schema show/history, check), "write" (mutate, import),
  // "admin" (schema apply, vacuum; implies the others), "impersonate" (the
  // key's requests may name the principal they act for: a trusted backend).
  // Not the principal's roles of the access policies (acts_as.roles).
  std::vector<std::string> roles;
  // The principal the key's requests act for in the schema's access
  // policies (`auth`): the config's "principal" object ({"id": 7, "roles":
  // ["user"], "tenant": "acme"}). nullopt when the config gives a name
  // only (a string "principal", or none).
  std::optional<ormdb::Principal> acts_as;
};

struct ServerOptions {
  // tcp://HOST:PORT, ipc:///path or tls+tcp://HOST:PORT. Port 0 picks a
  // free port (Server::url() tells which).
  std::string listen = "tcp://127.0.0.1:7411";
  // A second address serving the same requests over the direct transport
  // (ormdb://HOST:PORT: the same frames over a plain TCP socket, answered
  // on the connection's own thread; docs/PROTOCOL.md "Transports"). It
  // saves nng's thread hand-offs: about 100 µs per small request on a
  // 2-core VM (docs/PERFORMANCE.md). Empty (the default): not served. The
  // same key and loopback rules apply as for `listen`; no TLS.
  std::string listen_direct;
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
  // The largest request accepted, in bytes. Requests larger than one
  // request frame arrive as an upload in pieces, each authenticated before
  // it is kept. Default 64 MiB (imports are sent whole).
  size_t max_request_bytes = size_t{64} << 20;
  // The largest request frame (NNG_OPT_RECVMAXSZ): what the server buffers
  // before it can read the key inside. A larger frame closes its
  // connection. Together with max_connections it bounds the memory
  // unauthenticated peers can make the server hold (default: 256 × 1 MiB).
  // Default 1 MiB; at least 4096.
  size_t max_request_frame_bytes = size_t{1} << 20;
  // Connections (nng pipes) accepted at once; more are closed on arrival.
  // Default 256.
  size_t max_connections = 256;
  // Replies larger than this are sent in chunks of this size that the
  // client pulls with a continuation handle. Default 4 MiB.
  size_t max_frame_bytes = size_t{4} << 20;
  // Parked large replies (continuations): at most max_continuations in all
  // and max_continuations_per_principal of one principal, together at most
  // max_continuation_bytes; past a limit the least recently used are
  // evicted (the principal's own first), so a reader who never pulls its
  // results crowds out only itself. A continuation is dropped after
  // continuation_idle_ms without a pull, and at once when its connection
  // closes. Defaults 256, 16, 1 GiB, 30 s.
  size_t max_continuations = 256;
  size_t max_continuations_per_principal = 16;
  size_t max_continuation_bytes = size_t{1} << 30;
  int64_t continuation_idle_ms = 30000;
  // Uploads in progress (requests over max_request_frame_bytes): one
  // principal at most max_request_bytes, everyone at most max_upload_bytes;
  // dropped after continuation_idle_ms idle or when the connection closes.
  // Default 256 MiB.
  size_t max_upload_bytes = size_t{256} << 20;
  // A watch's long-poll wait is capped at this. Default 10 s.
  int64_t max_watch_wait_ms = 10000;
  // Long-poll watches waiting at once, in all and per principal. A waiting
  // watch holds no thread and no request context (a context is opened in
  // its place), and ends at once when its client disconnects; past a
  // limit a watch gets RESOURCE_EXHAUSTED. Defaults 4096 and 256.
  size_t max_watches = 4096;
  size_t max_watches_per_principal = 256;
  // Completed write requests remembered for resends. Default 16384.
  size_t request_id_cache = 16384;
  // On Stop, how long in-flight requests may take to finish. Default 30 s.
  int64_t shutdown_grace_ms = 30000;
  // HTTP for GET /metrics, GET /health and the web console
  // (docs/reference/observability.md): http://HOST:PORT, port 0 picks a
  // free one (Server::http_url() tells which). The same key and loopback
  // rules apply as for `listen`: off loopback it needs keys, and with keys
  // every HTTP request but /health and the console's static files carries
  // one (Authorization: Bearer KEY). Empty: not served. `ormdb serve`
  // defaults to http://127.0.0.1:7412.
  std::string http_listen;
  // When true, failing to bind http_listen is logged and the server runs
  // without HTTP (what `ormdb serve` does for its default address, so a
  // second server on one machine still starts); false: Start fails.
  bool http_optional = false;
  // A fetch that takes at least this long is logged (level warn) with its
  // EXPLAIN ANALYZE, run again on the same snapshot after the reply is
  // sent. 0 logs every fetch; negative: off. Default 1000.
  int64_t slow_query_ms = 1000;
  // The lowest level of the log lines written (JSON lines on stderr). The
  // log is the process's: `ormdb serve` applies this (SetLogLevel).
  // Default info; debug adds one line per request.
  observability::LogLevel log_level = observability::LogLevel::kInfo;
  // JSON Web Tokens a client may send instead of naming a principal
  // (auth/jwt.h; the config's "jwt" section, its key files read and
  // checked by ParseServerConfig). jwt.enabled() is false by default: no
  // tokens taken.
  auth::JwtConfig jwt;
  // The audit log (docs/reference/audit.md): one line per request in
  // audit_dir. Off by default (audit false). The config's "audit": true
  // turns it on in audit/ of the data directory (`ormdb serve` sets
  // audit_dir to it); "audit_dir": DIR turns it on in DIR. Start fails
  // (INVALID_ARGUMENT) when audit is on and audit_dir empty, and
  // UNAVAILABLE when the log cannot be opened. A write is acknowledged only
  // once its line is synced; a failed append makes it UNAVAILABLE.
  bool audit = false;
  std::string audit_dir;
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
  uint64_t continuation_bytes = 0;
  uint64_t continuations_evicted = 0;
  uint64_t open_uploads = 0;
  uint64_t upload_bytes = 0;
  uint64_t waiting_watches = 0;
  uint64_t connections = 0;
  uint64_t connections_refused = 0;  // over max_connections
  uint64_t receiving_contexts = 0;   // always ServerOptions::contexts while serving
};

class Server {
 public:
  // Starts serving the engine `db`. INVALID_ARGUMENT for a bad URL, a non-loopback
  // address without keys, or TLS without certificate files; UNAVAILABLE
  // when the address is in use.
  static Result<std::unique_ptr<Server>> Start(std::unique_ptr<db::Engine> db,
                                               const ServerOptions& options);
  // Stops taking requests, lets in-flight ones finish (their commits are
  // durable and acknowledged), then closes. Idempotent.
  virtual void Stop() = 0;
  virtual ~Server() = default;
  // The URL actually listened on (the bound port when 0 was asked).
  virtual const std::string& url() const = 0;
  // The direct transport's URL actually listened on; empty when not served.
  virtual const std::string& direct_url() const = 0;
  // The HTTP URL served (metrics, console); empty when not served.
  virtual const std::string& http_url() const = 0;
  // The text of GET /metrics (Prometheus text format).
  virtual std::string MetricsText() = 0;
  virtual ServerStats stats() const = 0;
};

}  // namespace ormdb::server
