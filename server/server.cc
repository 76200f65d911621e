#include "server/server.h"

#include <capnp/serialize.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <list>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "common/json.h"
#include "protocol/frame.h"
#include "protocol/ormdb.capnp.h"
#include "server/handler.h"
#include "server/parked.h"
#include "server/thread_pool.h"

namespace ormdb::server {
namespace {

using protocol::Frame;

constexpr const char* kServerName = "ormdb 0.5";
// An application's request key, and a principal's name: together with the
// server's prefix they stay under the storage's 400-byte request keys.
constexpr size_t kMaxRequestKeyBytes = 256;
// Room for a chunk reply's own fields beside its data.
constexpr size_t kChunkOverhead = 256;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Constant-time comparison: a key's prefix must not be guessable by timing.
bool SameKey(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool HasRole(const ApiKey& key, Access need) {
  for (const std::string& r : key.roles) {
    if (r == "admin") return true;
    if (r == "write" && need != Access::kAdmin) return true;
    if (r == "read" && (need == Access::kRead || need == Access::kNone)) return true;
  }
  return need == Access::kNone;
}

// Reads whose cost is bounded by the fetch budget or smaller: answered on
// the nng thread that received them unless ServerOptions::inline_reads is
// off. Scans of a whole entity (export) and of the store (check) go to the
// read pool.
bool ShortRead(wire::Request::Which w) {
  return w != wire::Request::EXPORT_ROWS && w != wire::Request::CHECK;
}

bool Idempotent(wire::Request::Which w) {
  return w != wire::Request::MUTATE && w != wire::Request::IMPORT_ROWS &&
         w != wire::Request::SCHEMA_APPLY && w != wire::Request::VACUUM;
}

// The authenticated sender of a request.
struct Principal {
  std::string name;             // "" for the anonymous principal of a keyless server
  const ApiKey* key = nullptr;  // nullptr when the server has no keys
};

class ServerImpl final : public Server {
 public:
  ServerImpl(std::unique_ptr<db::Engine> db, const ServerOptions& o)
      : db_(std::move(db)),
        o_(o),
        continuations_(Continuations::Limits{o.max_continuations,
                                             o.max_continuations_per_principal,
                                             o.max_continuation_bytes,
                                             std::chrono::milliseconds(o.continuation_idle_ms)}),
        uploads_(Uploads::Limits{o.max_request_bytes, o.max_upload_bytes,
                                 std::chrono::milliseconds(o.continuation_idle_ms)}) {}
  ~ServerImpl() override { Stop(); }

  Status Listen();
  void Stop() override;
  const std::string& url() const override { return url_; }
  ServerStats stats() const override {
    ServerStats s;
    s.requests = requests_.load();
    s.errors = errors_.load();
    s.frames = frames_.frames.load();
    s.unaligned_copies = frames_.unaligned_copies.load();
    s.resends_answered = resends_.load();
    s.chunked_replies = chunked_.load();
    s.open_continuations = continuations_.count();
    s.continuation_bytes = continuations_.bytes();
    s.continuations_evicted = continuations_.evicted();
    s.open_uploads = uploads_.count();
    s.upload_bytes = uploads_.bytes();
    {
      std::lock_guard<std::mutex> lock(watch_mu_);
      s.waiting_watches = parked_.size();
    }
    {
      std::lock_guard<std::mutex> lock(pipes_mu_);
      s.connections = pipes_.size();
    }
    s.connections_refused = refused_.load();
    s.receiving_contexts = receiving_.load();
    return s;
  }

 private:
  struct Context {
    ServerImpl* server = nullptr;
    nng_ctx ctx = NNG_CTX_INITIALIZER;
    nng_aio* aio = nullptr;
    bool sending = false;
    // Taken out of the receiving set (its request is a parked watch):
    // closed once its reply is sent instead of receiving again.
    bool retire = false;
  };
  // A request being answered: where to reply and who asked.
  struct Call {
    Context* c = nullptr;
    std::unique_ptr<Frame> frame;
    Principal who;
    uint32_t pipe = 0;
  };
  // A long-poll watch with nothing to deliver yet.
  struct ParkedWatch {
    Call call;
    WatchOptions options;  // options.from: the token to continue from
    Clock::time_point deadline;
  };
  // A write request seen before: its reply once done, and the contexts of
  // resends waiting for it meanwhile.
  struct Written {
    bool done = false;
    std::string frame;
    std::vector<Context*> waiting;
  };

  static void OnAio(void* arg) {
    auto* c = static_cast<Context*>(arg);
    c->server->Completed(c);
  }
  static void OnPipe(nng_pipe p, nng_pipe_ev ev, void* arg) {
    static_cast<ServerImpl*>(arg)->PipeEvent(p, ev);
  }
  void PipeEvent(nng_pipe p, nng_pipe_ev ev);
  Result<Context*> NewContext();
  void Completed(Context* c);
  void Receive(Context* c);
  void Process(Context* c, nng_msg* msg);
  // Authenticates and dispatches a decoded request.
  void Dispatch(Call call);
  void Run(Call call);
  void RunWrite(Call call, std::string key);
  // Builds the answer to a request (every kind but more, upload, watch).
  void Answer(wire::Request::Reader req, wire::Reply::Builder reply);
  Result<Principal> Authenticate(wire::Request::Reader req);
  void AnswerMore(const Principal& who, wire::Request::Reader req, wire::Reply::Builder reply);
  void Upload(Call call);
  // Watches: the first pull, parking, the watcher thread.
  void StartWatch(Call call);
  void PullWatch(ParkedWatch w);
  void Park(ParkedWatch w);
  void Watcher();
  void AnswerWatch(ParkedWatch& w, const Result<WatchBatch>& batch);
  void DropContext(Context* c);
  // Encodes `reply`; a reply larger than a frame becomes a continuation.
  nng_msg* Encode(capnp::MessageBuilder& reply, uint64_t id, const Call& call);
  nng_msg* EncodeError(uint64_t id, const Status& s);
  void Send(Context* c, nng_msg* msg);
  void Reaper();

  std::unique_ptr<db::Engine> db_;
  ServerOptions o_;
  std::string url_;
  nng_socket sock_ = NNG_SOCKET_INITIALIZER;
  nng_listener listener_ = NNG_LISTENER_INITIALIZER;
  bool open_ = false;
  std::unique_ptr<ThreadPool> reads_, writes_;

  // Every context ever opened (receiving, parked or retired); retired ones
  // are closed and freed by the reaper.
  std::mutex ctx_mu_;
  std::vector<std::unique_ptr<Context>> contexts_;  // GUARDED_BY(ctx_mu_)
  std::vector<Context*> retired_;                   // GUARDED_BY(ctx_mu_)
  std::atomic<uint64_t> receiving_{0};

  std::atomic<bool> stopping_{false};
  std::mutex flight_mu_;
  std::condition_variable flight_cv_;
  size_t in_flight_ = 0;  // GUARDED_BY(flight_mu_) requests being answered (not parked)

  Continuations continuations_;
  Uploads uploads_;

  std::mutex ids_mu_;
  std::unordered_map<std::string, Written> written_;  // GUARDED_BY(ids_mu_)
  std::deque<std::string> written_order_;             // GUARDED_BY(ids_mu_)

  mutable std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  std::list<ParkedWatch> parked_;                        // GUARDED_BY(watch_mu_)
  std::map<std::string, size_t> parked_per_principal_;   // GUARDED_BY(watch_mu_) (parked or pulling)
  std::map<uint32_t, Clock::time_point> closed_pipes_;  // GUARDED_BY(watch_mu_) recently closed
  std::thread watcher_;

  mutable std::mutex pipes_mu_;
  std::set<uint32_t> pipes_;  // GUARDED_BY(pipes_mu_) open connections
  std::atomic<uint64_t> refused_{0};

  std::mutex reaper_mu_;
  std::condition_variable reaper_cv_;
  std::thread reaper_;

  protocol::FrameCounters frames_;
  std::atomic<uint64_t> requests_{0}, errors_{0}, resends_{0}, chunked_{0};
};

Status ServerImpl::Listen() {
  const std::string& url = o_.listen;
  if (url.find("://") == std::string::npos) {
    return InvalidArgument("listen URL '" + url +
                           "' needs a scheme: tcp://HOST:PORT, ipc:///path or tls+tcp://HOST:PORT");
  }
  if (o_.keys.empty() && !IsLocalUrl(url)) {
    return InvalidArgument("refusing to listen on " + url +
                           " without API keys: only loopback addresses (127.0.0.1, ::1, "
                           "localhost) and ipc:// are served without keys; configure \"keys\" "
                           "in the config file");
  }
  if (o_.max_frame_bytes < 4096) {
    return InvalidArgument("max_frame_bytes must be at least 4096, not " +
                           std::to_string(o_.max_frame_bytes));
  }
  if (o_.max_request_frame_bytes < 4096) {
    return InvalidArgument("max_request_frame_bytes must be at least 4096, not " +
                           std::to_string(o_.max_request_frame_bytes));
  }
  bool tls = url.rfind("tls+", 0) == 0;
  if (tls && (o_.tls_cert_file.empty() || o_.tls_key_file.empty())) {
    return InvalidArgument(
        "tls+tcp:// needs \"tls\": {\"cert\": FILE, \"key\": FILE} in the config");
  }
  if (int rv = nng_rep0_open(&sock_); rv != 0) return protocol::NngStatus(rv, "open socket");
  open_ = true;
  // What a peer can make the server buffer before its key is read: one
  // frame per connection and per context.
  nng_socket_set_size(sock_, NNG_OPT_RECVMAXSZ,
                      std::min(o_.max_request_frame_bytes, o_.max_request_bytes) +
                          protocol::kHeaderBytes);
  nng_pipe_notify(sock_, NNG_PIPE_EV_ADD_PRE, &ServerImpl::OnPipe, this);
  nng_pipe_notify(sock_, NNG_PIPE_EV_REM_POST, &ServerImpl::OnPipe, this);
  nng_listener& listener = listener_;
  if (int rv = nng_listener_create(&listener, sock_, url.c_str()); rv != 0) {
    return protocol::NngStatus(rv, "listen on " + url);
  }
  if (tls) {
    ORMDB_ASSIGN_OR_RETURN(std::string cert, ReadFile(o_.tls_cert_file));
    ORMDB_ASSIGN_OR_RETURN(std::string key, ReadFile(o_.tls_key_file));
    nng_tls_config* cfg = nullptr;
    int rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER);
    if (rv == 0) rv = nng_tls_config_own_cert(cfg, cert.c_str(), key.c_str(), nullptr);
    if (rv == 0) rv = nng_listener_set_ptr(listener, NNG_OPT_TLS_CONFIG, cfg);
    if (cfg) nng_tls_config_free(cfg);
    if (rv != 0) return protocol::NngStatus(rv, "TLS certificate " + o_.tls_cert_file);
  }
  if (int rv = nng_listener_start(listener, 0); rv != 0) {
    if (rv == NNG_EADDRINUSE) {
      return Unavailable("cannot listen on " + url +
                         ": the address is in use (is another server running there?)");
    }
    return protocol::NngStatus(rv, "listen on " + url);
  }
  url_ = url;
  if (url.rfind("ipc", 0) != 0 && url.rfind("inproc", 0) != 0) {
    int port = 0;
    if (nng_listener_get_int(listener, NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
      url_ = url.substr(0, url.rfind(':') + 1) + std::to_string(port);
    }
  }

  size_t cores = std::max(1u, std::thread::hardware_concurrency());
  reads_ = std::make_unique<ThreadPool>(o_.read_threads ? o_.read_threads
                                                        : std::max<size_t>(4, 2 * cores));
  writes_ = std::make_unique<ThreadPool>(o_.contexts);
  reaper_ = std::thread([this] { Reaper(); });
  watcher_ = std::thread([this] { Watcher(); });
  std::vector<Context*> fresh;
  for (size_t i = 0; i < o_.contexts; ++i) {
    ORMDB_ASSIGN_OR_RETURN(Context * c, NewContext());
    fresh.push_back(c);
  }
  for (Context* c : fresh) Receive(c);
  return Status::Ok();
}

Result<ServerImpl::Context*> ServerImpl::NewContext() {
  auto c = std::make_unique<Context>();
  c->server = this;
  if (int rv = nng_ctx_open(&c->ctx, sock_); rv != 0) return protocol::NngStatus(rv, "context");
  if (int rv = nng_aio_alloc(&c->aio, &ServerImpl::OnAio, c.get()); rv != 0) {
    nng_ctx_close(c->ctx);
    return protocol::NngStatus(rv, "aio");
  }
  std::lock_guard<std::mutex> lock(ctx_mu_);
  contexts_.push_back(std::move(c));
  return contexts_.back().get();
}

void ServerImpl::PipeEvent(nng_pipe p, nng_pipe_ev ev) {
  const uint32_t id = static_cast<uint32_t>(nng_pipe_id(p));
  if (ev == NNG_PIPE_EV_ADD_PRE) {
    std::lock_guard<std::mutex> lock(pipes_mu_);
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
    std::lock_guard<std::mutex> lock(pipes_mu_);
    if (pipes_.erase(id) == 0) return;  // refused at ADD_PRE: held nothing
  }
  // The client is gone: what it held goes now, not when it would expire.
  continuations_.DropPipe(id);
  uploads_.DropPipe(id);
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    closed_pipes_[id] = Clock::now();
  }
  watch_cv_.notify_all();
}

void ServerImpl::Receive(Context* c) {
  c->sending = false;
  receiving_.fetch_add(1, std::memory_order_relaxed);
  nng_ctx_recv(c->ctx, c->aio);
}

void ServerImpl::DropContext(Context* c) {
  // Its request is abandoned (the client left): the context is closed
  // without a reply. The reaper frees it outside of any callback.
  std::lock_guard<std::mutex> lock(ctx_mu_);
  retired_.push_back(c);
}

void ServerImpl::Completed(Context* c) {
  int rv = nng_aio_result(c->aio);
  if (c->sending) {
    if (rv != 0) nng_msg_free(nng_aio_get_msg(c->aio));  // the peer left: drop the reply
    {
      std::lock_guard<std::mutex> lock(flight_mu_);
      --in_flight_;
    }
    flight_cv_.notify_all();
    if (c->retire) return DropContext(c);
    if (!stopping_) Receive(c);
    return;
  }
  receiving_.fetch_sub(1, std::memory_order_relaxed);
  if (rv != 0) {
    if (rv != NNG_ECLOSED && rv != NNG_ECANCELED && !stopping_) Receive(c);
    return;
  }
  nng_msg* msg = nng_aio_get_msg(c->aio);
  {
    std::lock_guard<std::mutex> lock(flight_mu_);
    ++in_flight_;
  }
  if (stopping_) {
    // Not started: say so at once rather than let the client time out.
    nng_msg_free(msg);
    return Send(c, EncodeError(0, Unavailable("the server is shutting down; retry later")));
  }
  Process(c, msg);  // checks and classifies the frame; hands long work to a pool
}

void ServerImpl::Send(Context* c, nng_msg* msg) {
  if (msg == nullptr) msg = EncodeError(0, ResourceExhausted("out of memory for the reply"));
  if (msg == nullptr) {
    // Nothing can be sent: drop the request (the client times out).
    {
      std::lock_guard<std::mutex> lock(flight_mu_);
      --in_flight_;
    }
    flight_cv_.notify_all();
    if (c->retire) return DropContext(c);
    if (!stopping_) Receive(c);
    return;
  }
  c->sending = true;
  nng_aio_set_msg(c->aio, msg);
  nng_ctx_send(c->ctx, c->aio);
}

nng_msg* ServerImpl::EncodeError(uint64_t id, const Status& s) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  capnp::MallocMessageBuilder b(64);
  auto reply = b.initRoot<wire::Reply>();
  reply.setId(id);
  SetError(reply, s);
  auto msg = protocol::EncodeFrame(b);
  return msg.ok() ? *msg : nullptr;
}

void ServerImpl::Process(Context* c, nng_msg* msg) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  const uint32_t pipe = static_cast<uint32_t>(nng_pipe_id(nng_msg_get_pipe(msg)));
  auto frame = Frame::Open(msg, o_.max_request_frame_bytes + protocol::kHeaderBytes, &frames_);
  if (!frame.ok()) return Send(c, EncodeError(0, frame.status()));
  if ((*frame)->version() != protocol::kProtocolVersion) {
    return Send(
        c,
        EncodeError(0, InvalidArgument("protocol version " + std::to_string((*frame)->version()) +
                                       " is not spoken by this server (it speaks version " +
                                       std::to_string(protocol::kProtocolVersion) + ")")));
  }
  Dispatch(Call{c, std::move(*frame), Principal{}, pipe});
}

void ServerImpl::Dispatch(Call call) {
  wire::Request::Which which;
  uint64_t id = 0;
  std::string key;
  try {
    auto req = call.frame->reader().getRoot<wire::Request>();
    which = req.which();
    id = req.getId();
    // Nothing is looked up for a request before its key is checked.
    auto who = Authenticate(req);
    if (!who.ok()) return Send(call.c, EncodeError(id, who.status()));
    call.who = std::move(*who);
    if (call.who.key != nullptr && !HasRole(*call.who.key, RequiredAccess(which))) {
      return Send(call.c, EncodeError(id, Status(ErrorCode::kPermissionDenied,
                                                 "principal '" + call.who.name +
                                                     "' may not do this (roles needed: " +
                                                     (RequiredAccess(which) == Access::kAdmin
                                                          ? "admin"
                                                          : "write") +
                                                     ")")));
    }
    if (!Idempotent(which)) {
      // Resends are recognized per principal, so one principal can neither
      // read nor spoil another's outcome.
      std::string_view rk(req.getRequestKey().begin(), req.getRequestKey().size());
      if (rk.size() > kMaxRequestKeyBytes) {
        return Send(call.c, EncodeError(id, InvalidArgument(
                                                "a request key is at most " +
                                                std::to_string(kMaxRequestKeyBytes) +
                                                " bytes, not " + std::to_string(rk.size()))));
      }
      if (!rk.empty()) {
        key = "k" + call.who.name + '\0' + std::string(rk);
      } else if (id != 0) {
        key = "r" + call.who.name + '\0';
        char buf[16];
        uint64_t client = req.getClient();
        std::memcpy(buf, &client, 8);
        std::memcpy(buf + 8, &id, 8);
        key.append(buf, 16);
      }
    }
  } catch (const kj::Exception& e) {
    return Send(call.c, EncodeError(id, InvalidArgument(std::string("malformed request: ") +
                                                        e.getDescription().cStr())));
  }
  if (which == wire::Request::UPLOAD) return Upload(std::move(call));
  if (which == wire::Request::WATCH) {
    auto shared = std::make_shared<Call>(std::move(call));
    reads_->Post([this, shared] { StartWatch(std::move(*shared)); });
    return;
  }
  if (!Idempotent(which)) {
    auto shared = std::make_shared<Call>(std::move(call));
    writes_->Post([this, shared, key = std::move(key)]() mutable {
      if (key.empty()) return Run(std::move(*shared));
      RunWrite(std::move(*shared), std::move(key));
    });
    return;
  }
  if (!o_.inline_reads || !ShortRead(which)) {
    auto shared = std::make_shared<Call>(std::move(call));
    reads_->Post([this, shared] { Run(std::move(*shared)); });
    return;
  }
  Run(std::move(call));
}

Result<Principal> ServerImpl::Authenticate(wire::Request::Reader req) {
  if (o_.keys.empty()) return Principal{};
  std::string_view given(req.getKey().begin(), req.getKey().size());
  if (given.empty()) return Status(ErrorCode::kUnauthenticated, "this server requires an API key");
  const ApiKey* match = nullptr;
  for (const ApiKey& k : o_.keys) {
    if (SameKey(k.key, given)) match = &k;
  }
  if (match == nullptr) return Status(ErrorCode::kUnauthenticated, "the API key is not valid");
  return Principal{match->principal, match};
}

void ServerImpl::Upload(Call call) {
  uint64_t id = 0;
  Result<std::optional<kj::Array<capnp::word>>> whole{std::optional<kj::Array<capnp::word>>()};
  try {
    auto req = call.frame->reader().getRoot<wire::Request>();
    id = req.getId();
    auto up = req.getUpload();
    auto data = up.getData();
    whole = uploads_.Add(Owner{call.who.name, call.pipe}, req.getClient(), up.getHandle(),
                         up.getOffset(), up.getTotal(),
                         std::span<const capnp::byte>(data.begin(), data.size()));
  } catch (const kj::Exception& e) {
    return Send(call.c, EncodeError(id, InvalidArgument(std::string("malformed request: ") +
                                                        e.getDescription().cStr())));
  }
  if (!whole.ok()) return Send(call.c, EncodeError(id, whole.status()));
  if (!whole->has_value()) {
    capnp::MallocMessageBuilder b(64);
    auto reply = b.initRoot<wire::Reply>();
    reply.setId(id);
    reply.setUploaded(0);
    try {
      auto up = call.frame->reader().getRoot<wire::Request>().getUpload();
      reply.setUploaded(up.getOffset() + up.getData().size());
    } catch (const kj::Exception&) {
    }
    auto msg = protocol::EncodeFrame(b);
    return Send(call.c, msg.ok() ? *msg : nullptr);
  }
  // The whole request is in: it is answered as if it had come in one frame
  // (authenticated again by its own key, which must be the uploader's).
  auto inner = Frame::FromWords(std::move(**whole), false);
  if (!inner.ok()) return Send(call.c, EncodeError(id, inner.status()));
  try {
    auto req = (*inner)->reader().getRoot<wire::Request>();
    if (req.isUpload() || req.isMore()) {
      return Send(call.c, EncodeError(id, InvalidArgument("an upload cannot carry " +
                                                          std::string(req.isUpload() ? "an upload"
                                                                                     : "a more"))));
    }
    auto who = Authenticate(req);
    if (who.ok() && who->name != call.who.name) {
      return Send(call.c, EncodeError(id, Status(ErrorCode::kUnauthenticated,
                                                 "an upload's request carries another key")));
    }
  } catch (const kj::Exception& e) {
    return Send(call.c, EncodeError(id, InvalidArgument(std::string("malformed request: ") +
                                                        e.getDescription().cStr())));
  }
  call.frame = std::move(*inner);
  Dispatch(std::move(call));
}

void ServerImpl::Answer(wire::Request::Reader req, wire::Reply::Builder reply) {
  if (req.isHello()) {
    auto h = req.getHello();
    if (h.getMinVersion() > protocol::kProtocolVersion ||
        h.getMaxVersion() < protocol::kProtocolVersion) {
      return SetError(reply, InvalidArgument("the client speaks protocol versions " +
                                             std::to_string(h.getMinVersion()) + " to " +
                                             std::to_string(h.getMaxVersion()) +
                                             "; this server speaks version " +
                                             std::to_string(protocol::kProtocolVersion)));
    }
    auto out = reply.initHello();
    out.setVersion(protocol::kProtocolVersion);
    out.setServer(kServerName);
    out.setCurrentVersion(db_->CurrentVersion());
    out.setMaxRequestBytes(o_.max_request_bytes);
    out.setMaxFrameBytes(std::min(o_.max_request_frame_bytes, o_.max_request_bytes));
    return;
  }
  if (req.isStats()) {
    // The database's numbers and the server's own.
    auto db_stats = db_->Stats();
    if (!db_stats.ok()) return SetError(reply, db_stats.status());
    auto j = ParseJson(*db_stats);
    if (!j.ok()) return SetError(reply, Internal("stats: " + j.status().message()));
    ServerStats st = stats();
    Json srv = Json::Object();
    srv.Set("url", url_);
    srv.Set("requests", st.requests);
    srv.Set("errors", st.errors);
    srv.Set("frames", st.frames);
    srv.Set("unaligned_copies", st.unaligned_copies);
    srv.Set("resends_answered", st.resends_answered);
    srv.Set("chunked_replies", st.chunked_replies);
    srv.Set("open_continuations", st.open_continuations);
    srv.Set("continuation_bytes", st.continuation_bytes);
    srv.Set("continuations_evicted", st.continuations_evicted);
    srv.Set("open_uploads", st.open_uploads);
    srv.Set("upload_bytes", st.upload_bytes);
    srv.Set("waiting_watches", st.waiting_watches);
    srv.Set("connections", st.connections);
    srv.Set("connections_refused", st.connections_refused);
    srv.Set("receiving_contexts", st.receiving_contexts);
    j->Set("server", std::move(srv));
    reply.setText(ToJson(*j));
    return;
  }
  Handle(*db_, req, reply, std::chrono::milliseconds(0));
}

void ServerImpl::Run(Call call) {
  capnp::MallocMessageBuilder b;
  uint64_t id = 0;
  try {
    auto req = call.frame->reader().getRoot<wire::Request>();
    id = req.getId();
    auto reply = b.initRoot<wire::Reply>();
    reply.setId(id);
    if (req.isMore()) {
      AnswerMore(call.who, req, reply);
    } else {
      Answer(req, reply);
    }
  } catch (const kj::Exception& e) {
    return Send(call.c, EncodeError(id, InvalidArgument(std::string("malformed request: ") +
                                                        e.getDescription().cStr())));
  }
  if (b.getRoot<wire::Reply>().isError()) errors_.fetch_add(1, std::memory_order_relaxed);
  Send(call.c, Encode(b, id, call));
}

void ServerImpl::RunWrite(Call call, std::string key) {
  Context* c = call.c;
  {
    std::lock_guard<std::mutex> lock(ids_mu_);
    auto [it, fresh] = written_.try_emplace(key);
    if (!fresh) {
      resends_.fetch_add(1, std::memory_order_relaxed);
      if (!it->second.done) {
        it->second.waiting.push_back(c);  // answered when the first one finishes
        return;
      }
      auto msg = protocol::FrameFromBytes(it->second.frame.data(), it->second.frame.size());
      Send(c, msg.ok() ? *msg : nullptr);
      return;
    }
    written_order_.push_back(key);
  }
  capnp::MallocMessageBuilder b;
  nng_msg* out = nullptr;
  uint64_t id = 0;
  try {
    auto req = call.frame->reader().getRoot<wire::Request>();
    id = req.getId();
    auto reply = b.initRoot<wire::Reply>();
    reply.setId(id);
    // The key goes into the write's own transaction, so a resend that
    // reaches a restarted server finds the outcome there.
    Handle(*db_, req, reply, std::chrono::milliseconds(0), key);
    if (reply.isError()) errors_.fetch_add(1, std::memory_order_relaxed);
    out = Encode(b, id, call);
  } catch (const kj::Exception& e) {
    out = EncodeError(id,
                      InvalidArgument(std::string("malformed request: ") + e.getDescription().cStr()));
  }
  std::vector<Context*> waiting;
  {
    std::lock_guard<std::mutex> lock(ids_mu_);
    Written& w = written_[key];
    w.done = true;
    if (out) w.frame.assign(static_cast<const char*>(nng_msg_body(out)), nng_msg_len(out));
    waiting.swap(w.waiting);
    // Forget the oldest finished writes; one still running keeps its place
    // (its resends are waiting on it) and is looked at again later.
    for (size_t n = written_order_.size(); n > 0 && written_order_.size() > o_.request_id_cache;
         --n) {
      std::string oldest = std::move(written_order_.front());
      written_order_.pop_front();
      auto old = written_.find(oldest);
      if (old != written_.end() && !old->second.done) {
        written_order_.push_back(std::move(oldest));
      } else if (old != written_.end()) {
        written_.erase(old);
      }
    }
  }
  for (Context* other : waiting) {
    nng_msg* copy = nullptr;
    if (out) {
      auto m = protocol::FrameFromBytes(nng_msg_body(out), nng_msg_len(out));
      if (m.ok()) copy = *m;
    }
    Send(other, copy);
  }
  Send(c, out);
}

// ---- Watches ----

void ServerImpl::StartWatch(Call call) {
  ParkedWatch w;
  uint64_t id = 0;
  try {
    auto req = call.frame->reader().getRoot<wire::Request>();
    id = req.getId();
    auto wr = req.getWatch();
    for (auto e : wr.getEntities()) w.options.entities.emplace_back(e.begin(), e.size());
    if (wr.getHasFrom()) w.options.from = wr.getFrom();
    if (wr.getMaxEvents() > 0) w.options.max_events = wr.getMaxEvents();
    w.options.subscriber = std::string(wr.getSubscriber().begin(), wr.getSubscriber().size());
    auto wait = std::min<int64_t>(wr.getWaitMillis(), o_.max_watch_wait_ms);
    w.deadline = Clock::now() + std::chrono::milliseconds(wait);
  } catch (const kj::Exception& e) {
    return Send(call.c, EncodeError(id, InvalidArgument(std::string("malformed request: ") +
                                                        e.getDescription().cStr())));
  }
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    size_t& mine = parked_per_principal_[call.who.name];
    size_t all = 0;
    for (const auto& [name, n] : parked_per_principal_) all += n;
    if (mine >= o_.max_watches_per_principal || all >= o_.max_watches) {
      if (mine == 0) parked_per_principal_.erase(call.who.name);
      return Send(call.c,
                  EncodeError(id, ResourceExhausted(
                                      "too many watches are waiting (" + std::to_string(mine) +
                                      " of this principal, " + std::to_string(all) +
                                      " in all); poll less often or share a subscription")));
    }
    ++mine;
  }
  w.call = std::move(call);
  PullWatch(std::move(w));
}

void ServerImpl::AnswerWatch(ParkedWatch& w, const Result<WatchBatch>& batch) {
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    auto it = parked_per_principal_.find(w.call.who.name);
    if (it != parked_per_principal_.end() && --it->second == 0) parked_per_principal_.erase(it);
  }
  capnp::MallocMessageBuilder b;
  uint64_t id = 0;
  try {
    id = w.call.frame->reader().getRoot<wire::Request>().getId();
  } catch (const kj::Exception&) {
  }
  auto reply = b.initRoot<wire::Reply>();
  reply.setId(id);
  if (!batch.ok()) {
    SetError(reply, batch.status());
    errors_.fetch_add(1, std::memory_order_relaxed);
  } else {
    auto out = reply.initWatch();
    auto events = out.initEvents(static_cast<unsigned>(batch->events.size()));
    for (size_t i = 0; i < batch->events.size(); ++i) {
      events.set(static_cast<unsigned>(i), batch->events[i]);
    }
    out.setToken(batch->token);
  }
  Send(w.call.c, Encode(b, id, w.call));
}

// Pulls what is there now; parks the watch when there is nothing and time
// is left.
void ServerImpl::PullWatch(ParkedWatch w) {
  WatchOptions o = w.options;
  o.wait = std::chrono::milliseconds(0);
  auto batch = db_->Watch(o);
  if (!batch.ok() || !batch->events.empty() || Clock::now() >= w.deadline || stopping_) {
    return AnswerWatch(w, batch);
  }
  w.options.from = batch->token;
  Park(std::move(w));
}

void ServerImpl::Park(ParkedWatch w) {
  const uint64_t token = w.options.from.value_or(0);
  if (stopping_) return AnswerWatch(w, WatchBatch{{}, token});
  // Its context leaves the receiving set; a fresh one takes its place, so
  // waiting watches never starve other requests of contexts.
  auto fresh = NewContext();
  if (!fresh.ok()) return AnswerWatch(w, WatchBatch{{}, token});
  w.call.c->retire = true;
  Receive(*fresh);
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    if (stopping_) {
      // The watcher may be gone already: answer here.
    } else {
      parked_.push_back(std::move(w));
      {
        std::lock_guard<std::mutex> fl(flight_mu_);
        --in_flight_;  // parked: Stop answers it rather than waiting for it
      }
      flight_cv_.notify_all();
      watch_cv_.notify_all();
      return;
    }
  }
  AnswerWatch(w, WatchBatch{{}, token});
}

void ServerImpl::Watcher() {
  constexpr auto kTick = std::chrono::milliseconds(50);
  uint64_t seen = 0;
  for (;;) {
    std::optional<uint64_t> lowest;
    {
      std::unique_lock<std::mutex> lock(watch_mu_);
      if (parked_.empty() && !stopping_) watch_cv_.wait_for(lock, std::chrono::milliseconds(500));
      for (const ParkedWatch& w : parked_) {
        uint64_t from = w.options.from.value_or(0);
        if (!lowest || from < *lowest) lowest = from;
      }
    }
    const bool stopping = stopping_.load();
    if (lowest && !stopping) {
      // Wakes at a commit after the lowest token (or after a tick, to see
      // deadlines and closed connections).
      seen = db_->WaitForVersionAfter(*lowest, kTick);
    } else if (!stopping) {
      continue;
    }
    std::vector<ParkedWatch> ready;
    std::vector<Context*> dropped;
    {
      std::lock_guard<std::mutex> lock(watch_mu_);
      auto now = Clock::now();
      for (auto it = closed_pipes_.begin(); it != closed_pipes_.end();) {
        it = now - it->second > std::chrono::milliseconds(2 * o_.max_watch_wait_ms + 1000)
                 ? closed_pipes_.erase(it)
                 : std::next(it);
      }
      for (auto it = parked_.begin(); it != parked_.end();) {
        if (closed_pipes_.count(it->call.pipe)) {
          // Its client is gone: nobody to answer.
          auto p = parked_per_principal_.find(it->call.who.name);
          if (p != parked_per_principal_.end() && --p->second == 0) parked_per_principal_.erase(p);
          dropped.push_back(it->call.c);
          it = parked_.erase(it);
        } else if (stopping || it->options.from.value_or(0) < seen || now >= it->deadline) {
          ready.push_back(std::move(*it));
          it = parked_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (Context* c : dropped) DropContext(c);
    for (ParkedWatch& w : ready) {
      {
        std::lock_guard<std::mutex> lock(flight_mu_);
        ++in_flight_;
      }
      if (stopping) {
        // Shutting down: the watch ends with what it has (nothing); the
        // client's next poll learns the server is going.
        AnswerWatch(w, WatchBatch{{}, w.options.from.value_or(0)});
        continue;
      }
      auto shared = std::make_shared<ParkedWatch>(std::move(w));
      reads_->Post([this, shared] { PullWatch(std::move(*shared)); });
    }
    if (stopping) return;
  }
}

// ---- Large replies ----

nng_msg* ServerImpl::Encode(capnp::MessageBuilder& reply, uint64_t id, const Call& call) {
  const size_t words = capnp::computeSerializedSizeInWords(reply);
  if (words * sizeof(capnp::word) + protocol::kHeaderBytes <= o_.max_frame_bytes) {
    auto msg = protocol::EncodeFrame(reply, words);
    return msg.ok() ? *msg : EncodeError(id, msg.status());
  }
  // Too large for one frame: park it and send the first chunk.
  auto handle = continuations_.Park(Owner{call.who.name, call.pipe}, capnp::messageToFlatArray(reply));
  if (!handle.ok()) return EncodeError(id, handle.status());
  chunked_.fetch_add(1, std::memory_order_relaxed);
  capnp::MallocMessageBuilder b;
  auto out = b.initRoot<wire::Reply>();
  out.setId(id);
  capnp::MallocMessageBuilder req_b;
  auto more = req_b.initRoot<wire::Request>().initMore();
  more.setHandle(*handle);
  more.setOffset(0);
  AnswerMore(call.who, req_b.getRoot<wire::Request>().asReader(), out);
  auto msg = protocol::EncodeFrame(b);
  return msg.ok() ? *msg : EncodeError(id, msg.status());
}

void ServerImpl::AnswerMore(const Principal& who, wire::Request::Reader req,
                            wire::Reply::Builder reply) {
  auto more = req.getMore();
  Status st = continuations_.Read(
      who.name, more.getHandle(), more.getOffset(), o_.max_frame_bytes - kChunkOverhead,
      [&](std::span<const capnp::byte> data, uint64_t total) {
        auto chunk = reply.initChunk();
        chunk.setHandle(more.getHandle());
        chunk.setOffset(more.getOffset());
        chunk.setTotal(total);
        chunk.setData(capnp::Data::Reader(data.data(), data.size()));
      });
  if (!st.ok()) SetError(reply, st);
}

void ServerImpl::Reaper() {
  std::unique_lock<std::mutex> lock(reaper_mu_);
  while (!stopping_) {
    reaper_cv_.wait_for(lock, std::chrono::milliseconds(500));
    auto now = Clock::now();
    continuations_.Expire(now);
    uploads_.Expire(now);
    std::vector<Context*> retired;
    {
      std::lock_guard<std::mutex> cl(ctx_mu_);
      retired.swap(retired_);
    }
    for (Context* c : retired) {
      nng_ctx_close(c->ctx);
      nng_aio_free(c->aio);  // waits for its callback to return
      std::lock_guard<std::mutex> cl(ctx_mu_);
      for (auto it = contexts_.begin(); it != contexts_.end(); ++it) {
        if (it->get() == c) {
          contexts_.erase(it);
          break;
        }
      }
    }
  }
}

void ServerImpl::Stop() {
  if (stopping_.exchange(true)) return;
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();  // answers every parked watch
  {
    // In-flight requests finish and their replies go out (a commit that was
    // queued is acknowledged).
    std::unique_lock<std::mutex> lock(flight_mu_);
    flight_cv_.wait_for(lock, std::chrono::milliseconds(o_.shutdown_grace_ms),
                        [&] { return in_flight_ == 0; });
  }
  { std::lock_guard<std::mutex> lock(reaper_mu_); }
  reaper_cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  // Quiesce nng before closing the socket: no new connections, every
  // context's operation stopped and the context closed. Closing a socket
  // with live context operations can wedge nng 1.5.2's pipe reaper
  // (nng issues #1543, #1813).
  if (open_) nng_listener_close(listener_);
  std::vector<std::unique_ptr<Context>> contexts;
  {
    std::lock_guard<std::mutex> lock(ctx_mu_);
    contexts.swap(contexts_);
    retired_.clear();
  }
  for (auto& c : contexts) nng_aio_stop(c->aio);
  for (auto& c : contexts) nng_ctx_close(c->ctx);
  if (reads_) reads_->Shutdown();
  if (writes_) writes_->Shutdown();
  db_.reset();  // finishes every queued commit
  if (open_ && !protocol::CloseSocket(sock_, std::chrono::seconds(5))) {
    // nng's reaper is wedged: leave the socket, and what its callbacks
    // point at, to it. The data is already closed.
    std::fprintf(stderr, "ormdb: nng did not close the server socket within 5 s; leaving it\n");
    new std::vector<std::unique_ptr<Context>>(std::move(contexts));  // deliberately leaked
    return;
  }
  for (auto& c : contexts) nng_aio_free(c->aio);
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(std::unique_ptr<db::Engine> db,
                                              const ServerOptions& options) {
  auto server = std::make_unique<ServerImpl>(std::move(db), options);
  Status st = server->Listen();
  if (!st.ok()) return st;
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace ormdb::server
