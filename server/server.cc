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
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "common/json.h"
#include "protocol/frame.h"
#include "protocol/ormdb.capnp.h"
#include "server/handler.h"
#include "server/thread_pool.h"

namespace ormdb::server {
namespace {

using Clock = std::chrono::steady_clock;
using protocol::Frame;

constexpr const char* kServerName = "ormdb 0.5";
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

bool WaitsMostly(wire::Request::Which w) {
  return w == wire::Request::MUTATE || w == wire::Request::IMPORT_ROWS ||
         w == wire::Request::SCHEMA_APPLY || w == wire::Request::VACUUM ||
         w == wire::Request::WATCH;
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

class ServerImpl final : public Server {
 public:
  ServerImpl(std::unique_ptr<Database> db, const ServerOptions& o) : db_(std::move(db)), o_(o) {}
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
    std::lock_guard<std::mutex> lock(cont_mu_);
    s.open_continuations = continuations_.size();
    return s;
  }

 private:
  struct Context {
    ServerImpl* server = nullptr;
    nng_ctx ctx = NNG_CTX_INITIALIZER;
    nng_aio* aio = nullptr;
    bool sending = false;
  };
  struct Continuation {
    kj::Array<capnp::word> bytes;
    Clock::time_point last_used;
  };
  // A write request seen before: its reply once done, and the contexts of
  // resends waiting for it meanwhile.
  struct Written {
    bool done = false;
    std::string frame;
    std::vector<Context*> waiting;
  };
  struct RequestKey {
    uint64_t client, id;
    bool operator==(const RequestKey&) const = default;
  };
  struct KeyHash {
    size_t operator()(const RequestKey& k) const { return k.client * 0x9e3779b97f4a7c15ULL ^ k.id; }
  };

  static void OnAio(void* arg) {
    auto* c = static_cast<Context*>(arg);
    c->server->Completed(c);
  }
  void Completed(Context* c);
  void Receive(Context* c);
  void Process(Context* c, nng_msg* msg);
  void Run(Context* c, std::unique_ptr<Frame> frame);
  void RunWrite(Context* c, std::unique_ptr<Frame> frame, RequestKey key);
  // Builds the answer to a request (every kind but `more`).
  void Answer(wire::Request::Reader req, wire::Reply::Builder reply);
  Status Authorize(wire::Request::Reader req);
  void AnswerMore(wire::Request::Reader req, wire::Reply::Builder reply);
  // Encodes `reply`; a reply larger than a frame becomes a continuation.
  nng_msg* Encode(capnp::MessageBuilder& reply, uint64_t id);
  nng_msg* EncodeError(uint64_t id, const Status& s);
  void Send(Context* c, nng_msg* msg);
  void Reaper();

  std::unique_ptr<Database> db_;
  ServerOptions o_;
  std::string url_;
  nng_socket sock_ = NNG_SOCKET_INITIALIZER;
  nng_listener listener_ = NNG_LISTENER_INITIALIZER;
  bool open_ = false;
  std::vector<std::unique_ptr<Context>> contexts_;
  std::unique_ptr<ThreadPool> reads_, waits_;

  std::atomic<bool> stopping_{false};
  std::mutex flight_mu_;
  std::condition_variable flight_cv_;
  size_t in_flight_ = 0;  // GUARDED_BY(flight_mu_)

  mutable std::mutex cont_mu_;
  std::map<uint64_t, Continuation> continuations_;      // GUARDED_BY(cont_mu_)
  std::mt19937_64 handle_rng_{std::random_device{}()};  // GUARDED_BY(cont_mu_)

  std::mutex ids_mu_;
  std::unordered_map<RequestKey, Written, KeyHash> written_;  // GUARDED_BY(ids_mu_)
  std::deque<RequestKey> written_order_;                      // GUARDED_BY(ids_mu_)

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
  bool tls = url.rfind("tls+", 0) == 0;
  if (tls && (o_.tls_cert_file.empty() || o_.tls_key_file.empty())) {
    return InvalidArgument(
        "tls+tcp:// needs \"tls\": {\"cert\": FILE, \"key\": FILE} in the config");
  }
  if (int rv = nng_rep0_open(&sock_); rv != 0) return protocol::NngStatus(rv, "open socket");
  open_ = true;
  nng_socket_set_size(sock_, NNG_OPT_RECVMAXSZ, o_.max_request_bytes + protocol::kHeaderBytes);
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
  waits_ = std::make_unique<ThreadPool>(o_.contexts);
  reaper_ = std::thread([this] { Reaper(); });
  for (size_t i = 0; i < o_.contexts; ++i) {
    auto c = std::make_unique<Context>();
    c->server = this;
    if (int rv = nng_ctx_open(&c->ctx, sock_); rv != 0) return protocol::NngStatus(rv, "context");
    if (int rv = nng_aio_alloc(&c->aio, &ServerImpl::OnAio, c.get()); rv != 0) {
      nng_ctx_close(c->ctx);
      return protocol::NngStatus(rv, "aio");
    }
    contexts_.push_back(std::move(c));
  }
  for (auto& c : contexts_) Receive(c.get());
  return Status::Ok();
}

void ServerImpl::Receive(Context* c) {
  c->sending = false;
  nng_ctx_recv(c->ctx, c->aio);
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
    if (!stopping_) Receive(c);
    return;
  }
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
  auto frame = Frame::Open(msg, o_.max_request_bytes + protocol::kHeaderBytes, &frames_);
  if (!frame.ok()) return Send(c, EncodeError(0, frame.status()));
  if ((*frame)->version() != protocol::kProtocolVersion) {
    return Send(
        c,
        EncodeError(0, InvalidArgument("protocol version " + std::to_string((*frame)->version()) +
                                       " is not spoken by this server (it speaks version " +
                                       std::to_string(protocol::kProtocolVersion) + ")")));
  }
  wire::Request::Which which;
  RequestKey key{0, 0};
  try {
    auto req = (*frame)->reader().getRoot<wire::Request>();
    which = req.which();
    key = RequestKey{req.getClient(), req.getId()};
  } catch (const kj::Exception& e) {
    return Send(c, EncodeError(0, InvalidArgument(std::string("malformed request: ") +
                                                  e.getDescription().cStr())));
  }
  if (!Idempotent(which) && key.id != 0) {
    auto f = std::make_shared<std::unique_ptr<Frame>>(std::move(*frame));
    waits_->Post([this, c, f, key] { RunWrite(c, std::move(*f), key); });
    return;
  }
  if (WaitsMostly(which) || !o_.inline_reads || !ShortRead(which)) {
    ThreadPool* pool = WaitsMostly(which) ? waits_.get() : reads_.get();
    auto f = std::make_shared<std::unique_ptr<Frame>>(std::move(*frame));
    pool->Post([this, c, f] { Run(c, std::move(*f)); });
    return;
  }
  Run(c, std::move(*frame));
}

void ServerImpl::Answer(wire::Request::Reader req, wire::Reply::Builder reply) {
  if (Status auth = Authorize(req); !auth.ok()) return SetError(reply, auth);
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
    return;
  }
  if (req.isMore()) return AnswerMore(req, reply);
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
    j->Set("server", std::move(srv));
    reply.setText(ToJson(*j));
    return;
  }
  Handle(*db_, req, reply, std::chrono::milliseconds(o_.max_watch_wait_ms));
}

Status ServerImpl::Authorize(wire::Request::Reader req) {
  if (o_.keys.empty()) return Status::Ok();
  std::string_view given(req.getKey().begin(), req.getKey().size());
  if (given.empty()) return Status(ErrorCode::kUnauthenticated, "this server requires an API key");
  const ApiKey* match = nullptr;
  for (const ApiKey& k : o_.keys) {
    if (SameKey(k.key, given)) match = &k;
  }
  if (match == nullptr) return Status(ErrorCode::kUnauthenticated, "the API key is not valid");
  if (!HasRole(*match, RequiredAccess(req.which()))) {
    return Status(ErrorCode::kPermissionDenied,
                  "principal '" + match->principal + "' may not do this (roles needed: " +
                      (RequiredAccess(req.which()) == Access::kAdmin ? "admin" : "write") + ")");
  }
  return Status::Ok();
}

void ServerImpl::Run(Context* c, std::unique_ptr<Frame> frame) {
  capnp::MallocMessageBuilder b;
  uint64_t id = 0;
  try {
    auto req = frame->reader().getRoot<wire::Request>();
    id = req.getId();
    auto reply = b.initRoot<wire::Reply>();
    reply.setId(id);
    Answer(req, reply);
  } catch (const kj::Exception& e) {
    return Send(c, EncodeError(id, InvalidArgument(std::string("malformed request: ") +
                                                   e.getDescription().cStr())));
  }
  if (b.getRoot<wire::Reply>().isError()) errors_.fetch_add(1, std::memory_order_relaxed);
  Send(c, Encode(b, id));
}

void ServerImpl::RunWrite(Context* c, std::unique_ptr<Frame> frame, RequestKey key) {
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
  try {
    auto req = frame->reader().getRoot<wire::Request>();
    auto reply = b.initRoot<wire::Reply>();
    reply.setId(key.id);
    Answer(req, reply);
    if (reply.isError()) errors_.fetch_add(1, std::memory_order_relaxed);
    out = Encode(b, key.id);
  } catch (const kj::Exception& e) {
    out = EncodeError(
        key.id, InvalidArgument(std::string("malformed request: ") + e.getDescription().cStr()));
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
      RequestKey oldest = written_order_.front();
      written_order_.pop_front();
      auto old = written_.find(oldest);
      if (old != written_.end() && !old->second.done) {
        written_order_.push_back(oldest);
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

nng_msg* ServerImpl::Encode(capnp::MessageBuilder& reply, uint64_t id) {
  const size_t words = capnp::computeSerializedSizeInWords(reply);
  if (words * sizeof(capnp::word) + protocol::kHeaderBytes <= o_.max_frame_bytes) {
    auto msg = protocol::EncodeFrame(reply, words);
    return msg.ok() ? *msg : EncodeError(id, msg.status());
  }
  // Too large for one frame: keep it and send the first chunk.
  uint64_t handle;
  {
    std::lock_guard<std::mutex> lock(cont_mu_);
    if (continuations_.size() >= o_.max_continuations) {
      return EncodeError(id,
                         ResourceExhausted("too many large results are being read (" +
                                           std::to_string(o_.max_continuations) +
                                           "); read them to the end, or retry when they expire"));
    }
    // Unguessable: a handle is a capability to read someone's result.
    do {
      handle = handle_rng_();
    } while (handle == 0 || continuations_.count(handle));
    continuations_[handle] = Continuation{capnp::messageToFlatArray(reply), Clock::now()};
  }
  chunked_.fetch_add(1, std::memory_order_relaxed);
  capnp::MallocMessageBuilder b;
  auto out = b.initRoot<wire::Reply>();
  out.setId(id);
  capnp::MallocMessageBuilder req_b;
  auto more = req_b.initRoot<wire::Request>().initMore();
  more.setHandle(handle);
  more.setOffset(0);
  AnswerMore(req_b.getRoot<wire::Request>().asReader(), out);
  auto msg = protocol::EncodeFrame(b);
  return msg.ok() ? *msg : EncodeError(id, msg.status());
}

void ServerImpl::AnswerMore(wire::Request::Reader req, wire::Reply::Builder reply) {
  auto more = req.getMore();
  std::lock_guard<std::mutex> lock(cont_mu_);
  auto it = continuations_.find(more.getHandle());
  if (it == continuations_.end()) {
    return SetError(reply, NotFound("result continuation " + std::to_string(more.getHandle()) +
                                    " is unknown or expired (idle more than " +
                                    std::to_string(o_.continuation_idle_ms) + " ms)"));
  }
  auto bytes = it->second.bytes.asBytes();
  uint64_t offset = more.getOffset();
  if (offset >= bytes.size()) {
    return SetError(
        reply, InvalidArgument("continuation offset " + std::to_string(offset) +
                               " is past the result's " + std::to_string(bytes.size()) + " bytes"));
  }
  size_t n = std::min<size_t>(bytes.size() - offset, o_.max_frame_bytes - kChunkOverhead);
  auto chunk = reply.initChunk();
  chunk.setHandle(more.getHandle());
  chunk.setOffset(offset);
  chunk.setTotal(bytes.size());
  chunk.setData(capnp::Data::Reader(bytes.begin() + offset, n));
  if (offset + n == bytes.size()) {
    continuations_.erase(it);
  } else {
    it->second.last_used = Clock::now();
  }
}

void ServerImpl::Reaper() {
  std::unique_lock<std::mutex> lock(reaper_mu_);
  while (!stopping_) {
    reaper_cv_.wait_for(lock, std::chrono::milliseconds(500));
    auto limit = Clock::now() - std::chrono::milliseconds(o_.continuation_idle_ms);
    std::lock_guard<std::mutex> cl(cont_mu_);
    for (auto it = continuations_.begin(); it != continuations_.end();) {
      it = it->second.last_used < limit ? continuations_.erase(it) : std::next(it);
    }
  }
}

void ServerImpl::Stop() {
  if (stopping_.exchange(true)) return;
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
  for (auto& c : contexts_) nng_aio_stop(c->aio);
  for (auto& c : contexts_) nng_ctx_close(c->ctx);
  if (reads_) reads_->Shutdown();
  if (waits_) waits_->Shutdown();
  db_.reset();  // finishes every queued commit
  if (open_ && !protocol::CloseSocket(sock_, std::chrono::seconds(5))) {
    // nng's reaper is wedged: leave the socket, and what its callbacks
    // point at, to it. The data is already closed.
    std::fprintf(stderr, "ormdb: nng did not close the server socket within 5 s; leaving it\n");
    new std::vector<std::unique_ptr<Context>>(std::move(contexts_));  // deliberately leaked
    return;
  }
  for (auto& c : contexts_) nng_aio_free(c->aio);
  contexts_.clear();
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(std::unique_ptr<Database> db,
                                              const ServerOptions& options) {
  auto server = std::make_unique<ServerImpl>(std::move(db), options);
  Status st = server->Listen();
  if (!st.ok()) return st;
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace ormdb::server
