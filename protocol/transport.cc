#include "protocol/transport.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <vector>

#include "common/keep_alive.h"
#include "common/mutex.h"
#include "protocol/direct_transport.h"
#include "protocol/exchange.h"
#include "protocol/frame.h"

namespace ormdb::protocol {

// ---- Message ----

Message& Message::operator=(Message&& o) noexcept {
  if (this != &o) {
    if (msg_) nng_msg_free(msg_);
    msg_ = o.msg_;
    o.msg_ = nullptr;
  }
  return *this;
}

Message::~Message() {
  if (msg_) nng_msg_free(msg_);
}

Result<Message> Message::Copy(std::span<const uint8_t> bytes) {
  nng_msg* msg = nullptr;
  if (int rv = nng_msg_alloc(&msg, bytes.size()); rv != 0) return NngStatus(rv, "allocate a frame");
  if (!bytes.empty()) std::memcpy(nng_msg_body(msg), bytes.data(), bytes.size());
  return Message(msg);
}

std::span<const uint8_t> Message::bytes() const {
  if (!msg_) return {};
  return {static_cast<const uint8_t*>(nng_msg_body(msg_)), nng_msg_len(msg_)};
}

namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

// ---- Listener ----

class ListenerImpl;

// An nng context receiving and answering one request at a time.
class NngExchange final : public Listener::Exchange {
 public:
  explicit NngExchange(Listener* owner) : Exchange(owner) {}
  ListenerImpl* listener = nullptr;
  nng_ctx ctx = NNG_CTX_INITIALIZER;
  nng_aio* aio = nullptr;
  bool sending = false;
  // Out of the receiving set (a detached exchange): its context is closed
  // once its reply is sent instead of receiving again.
  bool retire = false;
};

class ListenerImpl final : public Listener {
 public:
  ListenerImpl(const ListenerOptions& o, Callbacks cb) : o_(o), cb_(std::move(cb)) {}
  ~ListenerImpl() override {
    if (open_ && !closed_) {
      Quiesce();
      Close(std::chrono::seconds(5));
    }
  }

  Status Listen();
  void Begin() override;
  const std::string& url() const override { return url_; }
  void Reply(Exchange* ex, Message reply) override;
  Status Detach(Exchange* ex) override;
  void Drop(Exchange* ex) override;
  void Reap() override;
  void Quiesce() override;
  bool Close(std::chrono::milliseconds timeout) override;
  ListenerStats stats() const override {
    ListenerStats s;
    {
      MutexLock lock(&pipes_mu_);
      s.connections = pipes_.size();
    }
    s.connections_refused = refused_.load();
    s.receiving = receiving_.load();
    return s;
  }

 private:
  static void OnAio(void* arg) {
    auto* ex = static_cast<NngExchange*>(arg);
    ex->listener->Completed(ex);
  }
  static void OnPipe(nng_pipe p, nng_pipe_ev ev, void* arg) {
    static_cast<ListenerImpl*>(arg)->PipeEvent(p, ev);
  }
  Result<NngExchange*> NewExchange();
  void Receive(NngExchange* ex);
  void Completed(NngExchange* ex);
  void Retire(NngExchange* ex);
  void PipeEvent(nng_pipe p, nng_pipe_ev ev);

  ListenerOptions o_;
  Callbacks cb_;
  std::string url_;
  nng_socket sock_ = NNG_SOCKET_INITIALIZER;
  nng_listener listener_ = NNG_LISTENER_INITIALIZER;
  bool open_ = false;
  bool closed_ = false;
  std::atomic<bool> quiesced_{false};

  Mutex ex_mu_;
  std::vector<std::unique_ptr<NngExchange>> exchanges_ GUARDED_BY(ex_mu_);  // every context
  std::vector<NngExchange*> retired_ GUARDED_BY(ex_mu_);                    // to be freed
  std::vector<NngExchange*> fresh_;  // made by Listen, receiving from Begin
  std::atomic<uint64_t> receiving_{0};

  mutable Mutex pipes_mu_;
  std::set<uint32_t> pipes_ GUARDED_BY(pipes_mu_);  // open connections
  std::atomic<uint64_t> refused_{0};
};

namespace {

// An nng listener and a direct one serving the same requests: each reply
// goes out through the listener that received its request.
class BothListeners final : public Listener {
 public:
  BothListeners(std::unique_ptr<Listener> nng, std::unique_ptr<Listener> direct)
      : nng_(std::move(nng)), direct_(std::move(direct)) {}
  void Begin() override {
    nng_->Begin();
    direct_->Begin();
  }
  const std::string& url() const override { return nng_->url(); }
  const std::string& direct_url() const override { return direct_->url(); }
  void Reply(Exchange* ex, Message reply) override { ex->owner()->Reply(ex, std::move(reply)); }
  Status Detach(Exchange* ex) override { return ex->owner()->Detach(ex); }
  void Drop(Exchange* ex) override { ex->owner()->Drop(ex); }
  void Reap() override {
    nng_->Reap();
    direct_->Reap();
  }
  void Quiesce() override {
    direct_->Quiesce();
    nng_->Quiesce();
  }
  bool Close(std::chrono::milliseconds timeout) override {
    bool direct = direct_->Close(timeout);
    if (!direct) KeepUntilExit(std::move(direct_));  // threads point into it
    bool nng = nng_->Close(timeout);
    if (!nng) KeepUntilExit(std::move(nng_));  // nng's callbacks point into it
    return direct && nng;
  }
  ListenerStats stats() const override {
    ListenerStats a = nng_ ? nng_->stats() : ListenerStats{};
    ListenerStats b = direct_ ? direct_->stats() : ListenerStats{};
    return {a.connections + b.connections, a.connections_refused + b.connections_refused,
            a.receiving + b.receiving};
  }

 private:
  std::unique_ptr<Listener> nng_, direct_;
};

}  // namespace

const std::string& Listener::direct_url() const {
  static const std::string kNone;
  return kNone;
}

Result<std::unique_ptr<Listener>> Listener::Start(const ListenerOptions& options,
                                                  Callbacks callbacks) {
  if (IsDirectUrl(options.url)) {
    if (!options.direct_url.empty()) {
      return InvalidArgument("the direct transport is served at " + options.url +
                             " already; direct_url names a second one");
    }
    return StartDirectListener(options, std::move(callbacks));
  }
  if (!options.direct_url.empty() && !IsDirectUrl(options.direct_url)) {
    return InvalidArgument("the direct transport's URL must be ormdb://HOST:PORT, not '" +
                           options.direct_url + "'");
  }
  std::unique_ptr<Listener> direct;
  if (!options.direct_url.empty()) {
    ListenerOptions d = options;
    d.url = options.direct_url;
    d.direct_url.clear();
    ORMDB_ASSIGN_OR_RETURN(direct, StartDirectListener(d, callbacks));
  }
  auto l = std::make_unique<ListenerImpl>(options, std::move(callbacks));
  ORMDB_RETURN_IF_ERROR(l->Listen());
  if (!direct) return std::unique_ptr<Listener>(std::move(l));
  return std::unique_ptr<Listener>(
      std::make_unique<BothListeners>(std::move(l), std::move(direct)));
}

Status ListenerImpl::Listen() {
  const std::string& url = o_.url;
  bool tls = url.rfind("tls+", 0) == 0;
  if (int rv = nng_rep0_open(&sock_); rv != 0) return NngStatus(rv, "open socket");
  open_ = true;
  // What a peer can make the server buffer before its key is read: one
  // frame per connection and per context.
  nng_socket_set_size(sock_, NNG_OPT_RECVMAXSZ, o_.max_frame_bytes);
  nng_pipe_notify(sock_, NNG_PIPE_EV_ADD_PRE, &ListenerImpl::OnPipe, this);
  nng_pipe_notify(sock_, NNG_PIPE_EV_REM_POST, &ListenerImpl::OnPipe, this);
  if (int rv = nng_listener_create(&listener_, sock_, url.c_str()); rv != 0) {
    return NngStatus(rv, "listen on " + url);
  }
  if (tls) {
    ORMDB_ASSIGN_OR_RETURN(std::string cert, ReadFile(o_.tls_cert_file));
    ORMDB_ASSIGN_OR_RETURN(std::string key, ReadFile(o_.tls_key_file));
    nng_tls_config* cfg = nullptr;
    int rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER);
    if (rv == 0) rv = nng_tls_config_own_cert(cfg, cert.c_str(), key.c_str(), nullptr);
    if (rv == 0) rv = nng_listener_set_ptr(listener_, NNG_OPT_TLS_CONFIG, cfg);
    if (cfg) nng_tls_config_free(cfg);
    if (rv != 0) return NngStatus(rv, "TLS certificate " + o_.tls_cert_file);
  }
  if (int rv = nng_listener_start(listener_, 0); rv != 0) {
    if (rv == NNG_EADDRINUSE) {
      return Unavailable("cannot listen on " + url +
                         ": the address is in use (is another server running there?)");
    }
    return NngStatus(rv, "listen on " + url);
  }
  url_ = url;
  if (url.rfind("ipc", 0) != 0 && url.rfind("inproc", 0) != 0) {
    int port = 0;
    if (nng_listener_get_int(listener_, NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
      url_ = url.substr(0, url.rfind(':') + 1) + std::to_string(port);
    }
  }
  for (size_t i = 0; i < o_.contexts; ++i) {
    ORMDB_ASSIGN_OR_RETURN(NngExchange * ex, NewExchange());
    fresh_.push_back(ex);
  }
  return Status::Ok();
}

void ListenerImpl::Begin() {
  for (NngExchange* ex : fresh_) Receive(ex);
  fresh_.clear();
}

Result<NngExchange*> ListenerImpl::NewExchange() {
  auto ex = std::make_unique<NngExchange>(this);
  ex->listener = this;
  if (int rv = nng_ctx_open(&ex->ctx, sock_); rv != 0) return NngStatus(rv, "context");
  if (int rv = nng_aio_alloc(&ex->aio, &ListenerImpl::OnAio, ex.get()); rv != 0) {
    nng_ctx_close(ex->ctx);
    return NngStatus(rv, "aio");
  }
  MutexLock lock(&ex_mu_);
  exchanges_.push_back(std::move(ex));
  return exchanges_.back().get();
}

void ListenerImpl::Receive(NngExchange* ex) {
  ex->sending = false;
  receiving_.fetch_add(1, std::memory_order_relaxed);
  nng_ctx_recv(ex->ctx, ex->aio);
}

void ListenerImpl::Completed(NngExchange* ex) {
  int rv = nng_aio_result(ex->aio);
  if (ex->sending) {
    if (rv != 0) nng_msg_free(nng_aio_get_msg(ex->aio));  // the peer left: drop the reply
    if (cb_.on_sent) cb_.on_sent();
    if (ex->retire) return Retire(ex);
    if (!quiesced_) Receive(ex);
    return;
  }
  receiving_.fetch_sub(1, std::memory_order_relaxed);
  if (rv != 0) {
    if (rv != NNG_ECLOSED && rv != NNG_ECANCELED && !quiesced_) Receive(ex);
    return;
  }
  nng_msg* msg = nng_aio_get_msg(ex->aio);
  const uint32_t pipe = static_cast<uint32_t>(nng_pipe_id(nng_msg_get_pipe(msg)));
  cb_.on_request(ex, Message(msg), pipe);
}

void ListenerImpl::Reply(Exchange* exchange, Message reply) {
  auto* ex = static_cast<NngExchange*>(exchange);
  if (reply.empty()) {
    // Nothing can be sent: drop the request (the client times out).
    if (cb_.on_sent) cb_.on_sent();
    if (ex->retire) return Retire(ex);
    if (!quiesced_) Receive(ex);
    return;
  }
  ex->sending = true;
  nng_aio_set_msg(ex->aio, reply.release());
  nng_ctx_send(ex->ctx, ex->aio);
}

Status ListenerImpl::Detach(Exchange* exchange) {
  auto* ex = static_cast<NngExchange*>(exchange);
  ORMDB_ASSIGN_OR_RETURN(NngExchange * fresh, NewExchange());
  ex->retire = true;
  Receive(fresh);
  return Status::Ok();
}

void ListenerImpl::Drop(Exchange* ex) { Retire(static_cast<NngExchange*>(ex)); }

void ListenerImpl::Retire(NngExchange* ex) {
  // Freed by Reap, outside of any callback of its own aio.
  MutexLock lock(&ex_mu_);
  retired_.push_back(ex);
}

void ListenerImpl::Reap() {
  std::vector<NngExchange*> retired;
  {
    MutexLock lock(&ex_mu_);
    retired.swap(retired_);
  }
  for (NngExchange* ex : retired) {
    nng_ctx_close(ex->ctx);
    nng_aio_free(ex->aio);  // waits for its callback to return
    MutexLock lock(&ex_mu_);
    for (auto it = exchanges_.begin(); it != exchanges_.end(); ++it) {
      if (it->get() == ex) {
        exchanges_.erase(it);
        break;
      }
    }
  }
}

void ListenerImpl::PipeEvent(nng_pipe p, nng_pipe_ev ev) {
  const uint32_t id = static_cast<uint32_t>(nng_pipe_id(p));
  if (ev == NNG_PIPE_EV_ADD_PRE) {
    MutexLock lock(&pipes_mu_);
    if (pipes_.size() >= o_.max_connections) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      nng_pipe_close(p);
      return;
    }
    pipes_.insert(id);
    return;
  }
  if (ev != NNG_PIPE_EV_REM_POST) return;
  {
    MutexLock lock(&pipes_mu_);
    if (pipes_.erase(id) == 0) return;  // refused at ADD_PRE: held nothing
  }
  if (cb_.on_closed) cb_.on_closed(id);
}

void ListenerImpl::Quiesce() {
  // No new connections, every context's operation stopped and the context
  // closed: closing a socket with live context operations can wedge nng
  // 1.5.2's pipe reaper (nng issues #1543, #1813).
  if (quiesced_.exchange(true)) return;
  if (open_) nng_listener_close(listener_);
  std::vector<NngExchange*> all;
  {
    MutexLock lock(&ex_mu_);
    for (auto& ex : exchanges_) all.push_back(ex.get());
    retired_.clear();
  }
  for (NngExchange* ex : all) nng_aio_stop(ex->aio);
  for (NngExchange* ex : all) nng_ctx_close(ex->ctx);
}

bool ListenerImpl::Close(std::chrono::milliseconds timeout) {
  if (!open_ || closed_) return true;
  closed_ = true;
  if (!CloseSocket(sock_, timeout)) {
    // nng's reaper is wedged: leave the socket, and what its callbacks
    // point at, to it.
    MutexLock lock(&ex_mu_);
    KeepUntilExit(
        std::make_shared<std::vector<std::unique_ptr<NngExchange>>>(std::move(exchanges_)));
    return false;
  }
  MutexLock lock(&ex_mu_);
  for (auto& ex : exchanges_) nng_aio_free(ex->aio);
  exchanges_.clear();
  return true;
}

// ---- Connection ----

namespace {

// Where Debian's ca-certificates keeps the system's trusted authorities.
constexpr char kSystemCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

class ConnectionImpl final : public Connection {
 public:
  explicit ConnectionImpl(ConnectionOptions o) : o_(std::move(o)) {}
  ~ConnectionImpl() override {
    for (Slot& s : slots_) {
      nng_aio_free(s.aio);
      nng_ctx_close(s.ctx);
    }
    if (open_) CloseSocket(sock_, std::chrono::seconds(5));
  }

  Status Dial() {
    const std::string& url = o_.url;
    if (int rv = nng_req0_open(&sock_); rv != 0) return NngStatus(rv, "open socket");
    open_ = true;
    nng_socket_set_size(sock_, NNG_OPT_RECVMAXSZ, o_.max_reply_bytes);
    nng_dialer dialer;
    if (int rv = nng_dialer_create(&dialer, sock_, url.c_str()); rv != 0) {
      return NngStatus(rv, "connect to " + url);
    }
    if (url.rfind("tls+", 0) == 0) {
      // The server is always verified: against the CA file given, else
      // against the system's trusted authorities. A server whose certificate
      // no trusted authority signed is refused, never talked to unverified.
      std::string ca_file = o_.tls_ca_file;
      if (ca_file.empty()) {
        ca_file = kSystemCaBundle;
        if (access(ca_file.c_str(), R_OK) != 0) {
          return InvalidArgument("TLS to " + url +
                                 ": no CA file given (tls_ca_file, ORMDB_TLS_CA) " +
                                 "and no system CA bundle at " + ca_file +
                                 " (Debian: ca-certificates): the server cannot be verified");
        }
      }
      nng_tls_config* cfg = nullptr;
      int rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT);
      if (rv == 0) rv = nng_tls_config_ca_file(cfg, ca_file.c_str());
      verified_against_ = ca_file;
      if (rv == 0) rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
      if (rv == 0 && !o_.tls_server_name.empty()) {
        rv = nng_tls_config_server_name(cfg, o_.tls_server_name.c_str());
      }
      if (rv == 0) rv = nng_dialer_set_ptr(dialer, NNG_OPT_TLS_CONFIG, cfg);
      if (cfg) nng_tls_config_free(cfg);
      if (rv != 0) return NngStatus(rv, "TLS setup for " + url);
    }
    // A synchronous first dial: a refused connection is reported now.
    if (int rv = nng_dialer_start(dialer, 0); rv != 0) {
      if (!verified_against_.empty() && (rv == NNG_ECRYPTO || rv == NNG_EPEERAUTH)) {
        return Unavailable("connect to " + url + ": TLS handshake failed (" + nng_strerror(rv) +
                           "): is the server's certificate signed by an authority in " +
                           verified_against_ + " and issued for the host it is reached by?");
      }
      return NngStatus(rv, "connect to " + url);
    }
    return Status::Ok();
  }

  Result<Message> RoundTrip(Message request, std::chrono::milliseconds timeout) override {
    ORMDB_ASSIGN_OR_RETURN(Slot slot, TakeSlot());
    nng_aio* aio = slot.aio;
    nng_aio_set_timeout(aio, static_cast<nng_duration>(timeout.count()));
    nng_msg* msg = request.release();
    nng_aio_set_msg(aio, msg);
    nng_ctx_send(slot.ctx, aio);
    nng_aio_wait(aio);
    int rv = nng_aio_result(aio);
    nng_msg* reply = nullptr;
    if (rv != 0) {
      nng_msg_free(msg);
    } else {
      nng_ctx_recv(slot.ctx, aio);
      nng_aio_wait(aio);
      rv = nng_aio_result(aio);
      if (rv == 0) reply = nng_aio_get_msg(aio);
    }
    // A context whose request timed out may still get its late reply:
    // close it rather than reuse it.
    ReturnSlot(slot, rv == 0);
    if (rv == NNG_ETIMEDOUT) {
      return Unavailable("no reply from " + o_.url + " within " + std::to_string(timeout.count()) +
                         " ms");
    }
    if (rv != 0) return NngStatus(rv, "request to " + o_.url);
    return Message(reply);
  }

 private:
  // An nng context and its aio, reused across calls (opening them costs
  // more than a round trip's own work).
  struct Slot {
    nng_ctx ctx;
    nng_aio* aio;
  };
  Result<Slot> TakeSlot() {
    {
      MutexLock lock(&slots_mu_);
      if (!slots_.empty()) {
        Slot s = slots_.back();
        slots_.pop_back();
        return s;
      }
    }
    Slot s{};
    if (int rv = nng_ctx_open(&s.ctx, sock_); rv != 0) return NngStatus(rv, "request to " + o_.url);
    if (int rv = nng_aio_alloc(&s.aio, nullptr, nullptr); rv != 0) {
      nng_ctx_close(s.ctx);
      return NngStatus(rv, "request to " + o_.url);
    }
    return s;
  }
  void ReturnSlot(Slot s, bool healthy) {
    if (healthy) {
      MutexLock lock(&slots_mu_);
      if (slots_.size() < 64) {
        slots_.push_back(s);
        return;
      }
    }
    nng_aio_free(s.aio);
    nng_ctx_close(s.ctx);
  }

  ConnectionOptions o_;
  std::string verified_against_;  // the CA file a tls+tcp:// server is verified against
  nng_socket sock_ = NNG_SOCKET_INITIALIZER;
  bool open_ = false;
  Mutex slots_mu_;
  std::vector<Slot> slots_ GUARDED_BY(slots_mu_);
};

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Dial(const ConnectionOptions& options) {
  if (IsDirectUrl(options.url)) return DialDirect(options);
  auto c = std::make_unique<ConnectionImpl>(options);
  ORMDB_RETURN_IF_ERROR(c->Dial());
  return std::unique_ptr<Connection>(std::move(c));
}

}  // namespace ormdb::protocol
