// The transport: frames over nng REQ/REP (DESIGN.md §7, docs/PROTOCOL.md).
// The server's Listener (one REP socket, many contexts) and the remote
// client's Connection (one REQ socket, a context per call) are the only
// code that calls nng.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ormdb/status.h"
#include "protocol/message.h"

namespace ormdb::protocol {

// ---- Server side ----

struct ListenerOptions {
  // tcp://HOST:PORT, ipc:///path or tls+tcp://HOST:PORT (nng), or
  // ormdb://HOST:PORT (the direct transport); port 0 picks one.
  std::string url;
  // A second address carrying the same frames over the direct transport
  // (ormdb://HOST:PORT), served beside `url`. Empty: none.
  std::string direct_url;
  // PEM files for tls+tcp:// (both required there).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Requests received at once (nng contexts).
  size_t contexts = 64;
  // The largest frame received; a larger one closes its connection.
  size_t max_frame_bytes = size_t{1} << 20;
  // Connections accepted at once; more are closed on arrival.
  size_t max_connections = 256;
};

struct ListenerStats {
  uint64_t connections = 0;
  uint64_t connections_refused = 0;
  uint64_t receiving = 0;  // contexts waiting for a request
};

class Listener {
 public:
  // A received request whose reply is owed: answer it with Reply (at once
  // or later, from any thread) or give it up with Drop. Opaque.
  class Exchange;

  struct Callbacks {
    // A frame arrived on connection `pipe`. Called on an nng thread.
    std::function<void(Exchange*, Message, uint32_t pipe)> on_request;
    // A reply went out (or its peer had left): one exchange is finished.
    std::function<void()> on_sent;
    // A connection closed; what it held can go.
    std::function<void(uint32_t pipe)> on_closed;
  };

  // Listens on options.url (and options.direct_url). No request reaches the
  // callbacks before Begin. UNAVAILABLE when an address is in use;
  // INVALID_ARGUMENT for a bad URL or TLS files.
  static Result<std::unique_ptr<Listener>> Start(const ListenerOptions& options,
                                                 Callbacks callbacks);
  virtual ~Listener() = default;

  // Starts handing requests to the callbacks. Call once, after keeping the
  // listener where the callbacks can reach it (they reply through it).
  virtual void Begin() = 0;
  // The URL actually bound (the port chosen for port 0).
  virtual const std::string& url() const = 0;
  // The direct transport's URL actually bound; empty when it is not served.
  virtual const std::string& direct_url() const;
  // Sends `reply`; an empty Message drops the request (its client times
  // out). The exchange must not be used afterwards.
  virtual void Reply(Exchange* ex, Message reply) = 0;
  // The exchange will wait long (a parked watch): a fresh context takes its
  // place among the receiving ones, so waiting requests never starve the
  // others. Its own context is closed once its reply is sent.
  virtual Status Detach(Exchange* ex) = 0;
  // No reply will come (the client is gone). Only for detached exchanges.
  virtual void Drop(Exchange* ex) = 0;
  // Frees the contexts of finished detached exchanges (call now and then,
  // from a thread that is not an nng callback).
  virtual void Reap() = 0;
  // Stop: no new connections, every context's operation stopped.
  virtual void Quiesce() = 0;
  // Closes the socket, given at most `timeout` (nng 1.5.2 can wedge here:
  // issues #1543, #1813); false when it did not finish (the socket and the
  // contexts are then kept until the process exits: KeepUntilExit).
  virtual bool Close(std::chrono::milliseconds timeout) = 0;
  virtual ListenerStats stats() const = 0;
};

// ---- Client side ----

struct ConnectionOptions {
  // tcp://, ipc://, tls+tcp:// (nng) or ormdb:// (the direct transport).
  std::string url;
  // tls+tcp://: the CA file to verify the server against (empty: the
  // system's trusted authorities) and the name its certificate must carry
  // (empty: the host). The server is always verified.
  std::string tls_ca_file;
  std::string tls_server_name;
  // The largest reply accepted.
  size_t max_reply_bytes = size_t{1} << 30;
};

class Connection {
 public:
  // Dials at once: UNAVAILABLE when nothing answers. Later losses are
  // redialed in the background and requests in flight resent.
  static Result<std::unique_ptr<Connection>> Dial(const ConnectionOptions& options);
  virtual ~Connection() = default;
  // Sends a frame and waits for its reply. UNAVAILABLE after `timeout`.
  virtual Result<Message> RoundTrip(Message request, std::chrono::milliseconds timeout) = 0;
};

}  // namespace ormdb::protocol
