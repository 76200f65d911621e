#include "server/server.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "audit/audit_log.h"
#include "common/json.h"
#include "common/keep_alive.h"
#include "common/mutex.h"
#include "observability/log.h"
#include "protocol/codec.h"
#include "protocol/http.h"
#include "protocol/transport.h"
#include "query/parser.h"
#include "server/console.h"
#include "server/handler.h"
#include "server/parked.h"
#include "server/server_metrics.h"
#include "server/thread_pool.h"

namespace ormdb::server {
namespace {

using protocol::Message;
using protocol::Request;
using protocol::RequestKind;
using Exchange = protocol::Listener::Exchange;
using observability::Log;
using observability::LogLevel;

constexpr const char* kServerName = "ormdb 0.6";
// An application's request key, and a principal's name: together with the
// server's prefix they stay under the storage's 400-byte request keys.
constexpr size_t kMaxRequestKeyBytes = 256;
// Room for a chunk reply's own fields beside its data.
constexpr size_t kChunkOverhead = 256;

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
bool ShortRead(RequestKind k) { return k != RequestKind::kExportRows && k != RequestKind::kCheck; }

bool Idempotent(RequestKind k) {
  return k != RequestKind::kMutate && k != RequestKind::kImportRows &&
         k != RequestKind::kSchemaApply && k != RequestKind::kVacuum;
}

// The first `hex_digits` hex digits of the SHA-256 of `bytes`.
std::string ShortHash(std::string_view bytes, size_t hex_digits) {
  return audit::Sha256Hex(bytes).substr(0, hex_digits);
}

// The authenticated sender of a request, and who it acts for.
struct Sender {
  // The key's name; "" for the owner on a keyless server; "jwt:ID" for a
  // request authenticated by its token alone. In logs and errors.
  std::string name;
  const ApiKey* key = nullptr;  // nullptr when the request carries no (checked) key
  // The principal the request acts for in the access policies (the key's
  // acts_as, the token's, or the request's actAs); nullopt: the owner,
  // for whom no rule applies.
  std::optional<ormdb::Principal> acting;
  std::string acting_json;  // acting->ToJson(), or empty
  // When the request named `acting` itself (actAs): who named it, for the
  // audit line: {"key":NAME} for a key, {"token":PRINCIPAL} for a token's
  // principal without a key, {"owner":true} on a keyless server. Else empty.
  std::string impersonator_json;
  // Who owns what the request leaves on the server (continuations,
  // uploads, remembered write outcomes, watch counts): `name` for the
  // owner (as before principals existed, so recorded request keys stay
  // valid), else a hash of name and acting principal, so two principals
  // of one key never share any of it.
  std::string owner;
};

class ServerImpl final : public Server {
 public:
  ServerImpl(std::unique_ptr<db::Engine> db, const ServerOptions& o)
      : db_(std::move(db)),
        o_(o),
        continuations_(Continuations::Limits{o.max_continuations, o.max_continuations_per_principal,
                                             o.max_continuation_bytes,
                                             std::chrono::milliseconds(o.continuation_idle_ms)}),
        uploads_(Uploads::Limits{o.max_request_bytes, o.max_upload_bytes,
                                 std::chrono::milliseconds(o.continuation_idle_ms)}) {}
  ~ServerImpl() override { Stop(); }

  Status Listen();
  void Stop() override;
  const std::string& url() const override { return listener_ ? listener_->url() : o_.listen; }
  const std::string& direct_url() const override {
    return listener_ ? listener_->direct_url() : o_.listen_direct;
  }
  const std::string& http_url() const override { return http_url_; }
  std::string MetricsText() override {
    return RenderMetrics(metrics_, stats(), db_->Metrics(), audit_ ? &audit_->metrics() : nullptr);
  }
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
      MutexLock lock(&watch_mu_);
      s.waiting_watches = parked_.size();
    }
    if (listener_) {
      protocol::ListenerStats ls = listener_->stats();
      s.connections = ls.connections;
      s.connections_refused = ls.connections_refused;
      s.receiving_contexts = ls.receiving;
    }
    return s;
  }

 private:
  // A request being answered: where to reply and who asked.
  struct Call {
    Exchange* ex = nullptr;
    Request req;
    Sender who;
    uint32_t pipe = 0;
    uint64_t number = 0;  // the server's request number, in log lines
    Clock::time_point received;
    // The engine acting for who.acting; null: the owner's (db_).
    std::shared_ptr<db::Engine> view;
  };
  // A long-poll watch with nothing to deliver yet.
  struct ParkedWatch {
    Call call;
    WatchOptions options;  // options.from: the token to continue from
    Clock::time_point deadline;
  };
  // A write request seen before: its reply once done, and the exchanges
  // of resends waiting for it meanwhile.
  struct Written {
    bool done = false;
    std::string frame;
    ErrorCode outcome = ErrorCode::kOk;
    std::vector<Call> waiting;  // their requests are not kept (req is empty)
  };

  void OnRequest(Exchange* ex, Message msg, uint32_t pipe);
  void OnSent();
  void OnClosed(uint32_t pipe);
  // Authenticates and dispatches a decoded request.
  void Dispatch(Call call);
  void Run(Call call);
  void RunWrite(Call call, std::string key);
  // Builds the answer to a request (every kind but more, upload, watch).
  void Answer(const Call& call, protocol::ReplyWriter& reply, HandleInfo* info);
  // Fills *who as far as it gets (what a failure's audit line names).
  Status Authenticate(const Request& req, Sender* who);
  // The engine a request is served with: its principal's view, or db_.
  db::Engine& Db(const Call& call) { return call.view ? *call.view : *db_; }
  // Appends the request's audit line (when the audit log is on). A write's
  // line is synced; the status is the append's (a read's failure is only
  // logged by the caller).
  Status Audit(const Call& call, ErrorCode outcome, const HandleInfo& info);
  // Audit for a read: a failed append is logged, the read still answered.
  void AuditRead(const Call& call, ErrorCode outcome, const HandleInfo& info);
  void Upload(Call call);
  // Watches: the first pull, parking, the watcher thread.
  void StartWatch(Call call);
  void PullWatch(ParkedWatch w);
  void Park(ParkedWatch w);
  void Watcher();
  void AnswerWatch(ParkedWatch& w, const Result<WatchBatch>& batch);
  // Encodes a reply; one larger than a frame becomes a continuation.
  Message Encode(protocol::ReplyWriter& reply, const Call& call);
  Message EncodeError(uint64_t id, const Status& s);
  void Send(Exchange* ex, Message msg);
  // Counts the request in the metrics, logs it, and sends its reply.
  void Finish(const Call& call, Message msg, ErrorCode outcome);
  void Fail(const Call& call, const Status& s);
  // The slow-query log: the fetch's EXPLAIN ANALYZE on its snapshot.
  void LogSlowFetch(const Call& call, uint64_t micros, uint64_t version);
  Status StartHttp();
  // Whether an HTTP request may read: always without keys; with keys, it
  // carries "Authorization: Bearer KEY" of a key with a role.
  // `as_owner`: the request reads data as the owner (the console's API),
  // which a key that acts for a principal of its own may not.
  bool HttpAllowed(const protocol::HttpRequest& r, bool as_owner = false) const;
  void Reaper();

  std::unique_ptr<db::Engine> db_;
  ServerOptions o_;
  std::optional<auth::JwtVerifier> jwt_;    // set when o_.jwt is enabled
  std::unique_ptr<audit::AuditLog> audit_;  // set when o_.audit
  std::unique_ptr<protocol::Listener> listener_;
  std::unique_ptr<ThreadPool> reads_, writes_;

  std::atomic<bool> stopping_{false};
  Mutex flight_mu_;
  CondVar flight_cv_;
  size_t in_flight_ GUARDED_BY(flight_mu_) = 0;  // requests being answered (not parked)

  Continuations continuations_;
  Uploads uploads_;

  Mutex ids_mu_;
  std::unordered_map<std::string, Written> written_ GUARDED_BY(ids_mu_);
  std::deque<std::string> written_order_ GUARDED_BY(ids_mu_);

  mutable Mutex watch_mu_;
  CondVar watch_cv_;
  std::list<ParkedWatch> parked_ GUARDED_BY(watch_mu_);
  std::map<std::string, size_t> parked_per_principal_ GUARDED_BY(watch_mu_);  // (parked or pulling)
  std::map<uint32_t, Clock::time_point> closed_pipes_ GUARDED_BY(watch_mu_);  // recently closed
  std::thread watcher_;

  Mutex reaper_mu_;
  CondVar reaper_cv_;
  std::thread reaper_;

  protocol::FrameCounters frames_;
  std::atomic<uint64_t> requests_{0}, errors_{0}, resends_{0}, chunked_{0};
  std::atomic<uint64_t> request_numbers_{0};
  RequestMetrics metrics_;
  std::unique_ptr<protocol::HttpServer> http_;
  std::string http_url_;
};

Status ServerImpl::Listen() {
  const std::string& url = o_.listen;
  if (url.find("://") == std::string::npos) {
    return InvalidArgument("listen URL '" + url +
                           "' needs a scheme: tcp://HOST:PORT, ipc:///path, tls+tcp://HOST:PORT "
                           "or ormdb://HOST:PORT");
  }
  for (const std::string& u : {url, o_.listen_direct}) {
    if (!u.empty() && o_.keys.empty() && !IsLocalUrl(u)) {
      return InvalidArgument("refusing to listen on " + u +
                             " without API keys: only loopback addresses (127.0.0.1, ::1, "
                             "localhost) and ipc:// are served without keys; configure \"keys\" "
                             "in the config file");
    }
  }
  if (!o_.listen_direct.empty() && o_.listen_direct.rfind("ormdb://", 0) != 0) {
    return InvalidArgument("listen_direct '" + o_.listen_direct +
                           "' needs the direct transport's scheme: ormdb://HOST:PORT");
  }
  if (o_.max_frame_bytes < 4096) {
    return InvalidArgument("max_frame_bytes must be at least 4096, not " +
                           std::to_string(o_.max_frame_bytes));
  }
  if (o_.max_request_frame_bytes < 4096) {
    return InvalidArgument("max_request_frame_bytes must be at least 4096, not " +
                           std::to_string(o_.max_request_frame_bytes));
  }
  if (url.rfind("tls+", 0) == 0 && (o_.tls_cert_file.empty() || o_.tls_key_file.empty())) {
    return InvalidArgument(
        "tls+tcp:// needs \"tls\": {\"cert\": FILE, \"key\": FILE} in the config");
  }
  if (o_.jwt.enabled()) {
    auto v = auth::JwtVerifier::Create(o_.jwt);
    if (!v.ok()) return v.status().WithContext("jwt");
    jwt_.emplace(std::move(*v));
  }
  if (o_.audit) {
    if (o_.audit_dir.empty()) {
      return InvalidArgument(
          "audit is on but audit_dir is empty (ormdb serve uses audit/ in the "
          "data directory)");
    }
    ORMDB_ASSIGN_OR_RETURN(audit_, audit::AuditLog::Open(o_.audit_dir));
  }
  ORMDB_RETURN_IF_ERROR(StartHttp());
  size_t cores = std::max(1u, std::thread::hardware_concurrency());
  reads_ = std::make_unique<ThreadPool>(o_.read_threads ? o_.read_threads
                                                        : std::max<size_t>(4, 2 * cores));
  writes_ = std::make_unique<ThreadPool>(o_.contexts);
  protocol::ListenerOptions lo;
  lo.url = url;
  lo.direct_url = o_.listen_direct;
  lo.tls_cert_file = o_.tls_cert_file;
  lo.tls_key_file = o_.tls_key_file;
  lo.contexts = o_.contexts;
  lo.max_frame_bytes =
      std::min(o_.max_request_frame_bytes, o_.max_request_bytes) + protocol::kHeaderBytes;
  lo.max_connections = o_.max_connections;
  protocol::Listener::Callbacks cb;
  cb.on_request = [this](Exchange* ex, Message msg, uint32_t pipe) {
    OnRequest(ex, std::move(msg), pipe);
  };
  cb.on_sent = [this] { OnSent(); };
  cb.on_closed = [this](uint32_t pipe) { OnClosed(pipe); };
  ORMDB_ASSIGN_OR_RETURN(listener_, protocol::Listener::Start(lo, std::move(cb)));
  listener_->Begin();  // requests reply through listener_, so it is set first
  reaper_ = std::thread([this] { Reaper(); });
  watcher_ = std::thread([this] { Watcher(); });
  return Status::Ok();
}

Status ServerImpl::StartHttp() {
  if (o_.http_listen.empty()) return Status::Ok();
  using protocol::HttpRequest;
  using protocol::HttpResponse;
  if (o_.keys.empty() && !IsLocalUrl(o_.http_listen)) {
    return InvalidArgument("refusing to serve HTTP on " + o_.http_listen +
                           " without API keys: only loopback addresses are served without keys; "
                           "configure \"keys\" in the config file");
  }
  const HttpResponse unauthorized{401, "text/plain; charset=utf-8",
                                  "this server requires an API key with a role: "
                                  "Authorization: Bearer KEY\n"};
  std::vector<protocol::HttpRoute> routes;
  routes.push_back({"GET", "/health", false, [this](const HttpRequest&) {
                      if (stopping_) return HttpResponse{503, "text/plain", "stopping\n"};
                      return HttpResponse{200, "text/plain", "ok\n"};
                    }});
  routes.push_back(
      {"GET", "/metrics", false, [this, unauthorized](const HttpRequest& r) {
         if (!HttpAllowed(r)) return unauthorized;
         return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", MetricsText()};
       }});
  for (protocol::HttpRoute& r :
       ConsoleRoutes(*db_, [this](const HttpRequest& r) { return HttpAllowed(r, true); })) {
    routes.push_back(std::move(r));
  }
  auto http = protocol::HttpServer::Start(o_.http_listen, std::move(routes));
  if (!http.ok()) {
    if (!o_.http_optional) return http.status();
    Json f = Json::Object();
    f.Set("http_listen", o_.http_listen);
    f.Set("error", http.status().ToString());
    Log(LogLevel::kWarn, "serving without HTTP (metrics, console)", f);
    return Status::Ok();
  }
  http_ = std::move(*http);
  http_url_ = http_->url();
  return Status::Ok();
}

bool ServerImpl::HttpAllowed(const protocol::HttpRequest& r, bool as_owner) const {
  if (o_.keys.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view auth = r.authorization;
  if (auth.substr(0, kBearer.size()) != kBearer) return false;
  auth.remove_prefix(kBearer.size());
  for (const ApiKey& k : o_.keys) {
    if (SameKey(k.key, auth)) return HasRole(k, Access::kRead) && !(as_owner && k.acts_as);
  }
  return false;
}

void ServerImpl::OnClosed(uint32_t pipe) {
  // The client is gone: what it held goes now, not when it would expire.
  continuations_.DropPipe(pipe);
  uploads_.DropPipe(pipe);
  {
    MutexLock lock(&watch_mu_);
    closed_pipes_[pipe] = Clock::now();
  }
  watch_cv_.SignalAll();
}

void ServerImpl::OnSent() {
  {
    MutexLock lock(&flight_mu_);
    --in_flight_;
  }
  flight_cv_.SignalAll();
}

void ServerImpl::OnRequest(Exchange* ex, Message msg, uint32_t pipe) {
  {
    MutexLock lock(&flight_mu_);
    ++in_flight_;
  }
  if (stopping_) {
    // Not started: say so at once rather than let the client time out.
    return Send(ex, EncodeError(0, Unavailable("the server is shutting down; retry later")));
  }
  requests_.fetch_add(1, std::memory_order_relaxed);
  Call call;
  call.ex = ex;
  call.pipe = pipe;
  call.number = request_numbers_.fetch_add(1, std::memory_order_relaxed) + 1;
  call.received = Clock::now();
  auto req = protocol::DecodeRequest(std::move(msg),
                                     o_.max_request_frame_bytes + protocol::kHeaderBytes, &frames_);
  if (!req.ok()) {
    call.req.kind = RequestKind::kUnknown;
    call.req.wire_kind = UINT16_MAX;  // marks a frame that did not decode
    return Fail(call, req.status());
  }
  call.req = std::move(*req);
  Dispatch(std::move(call));
}

void ServerImpl::Finish(const Call& call, Message msg, ErrorCode outcome) {
  const bool undecoded = call.req.kind == RequestKind::kUnknown && call.req.wire_kind == UINT16_MAX;
  uint64_t micros = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - call.received).count());
  metrics_.Record(undecoded ? std::nullopt : std::optional<RequestKind>(call.req.kind), outcome,
                  micros);
  if (observability::LogEnabled(LogLevel::kDebug)) {
    Json f = Json::Object();
    f.Set("request", call.number);
    f.Set("kind", undecoded ? std::string("invalid") : std::string(RequestKindName(call.req.kind)));
    f.Set("outcome", OutcomeName(outcome));
    f.Set("micros", micros);
    if (!call.who.name.empty()) f.Set("principal", call.who.name);
    Log(LogLevel::kDebug, "request", f);
  }
  Send(call.ex, std::move(msg));
}

void ServerImpl::Fail(const Call& call, const Status& s) {
  const bool undecoded = call.req.kind == RequestKind::kUnknown && call.req.wire_kind == UINT16_MAX;
  if (undecoded || s.code() == ErrorCode::kUnauthenticated || s.code() == ErrorCode::kInternal) {
    // What an operator should see: garbage on the port, a wrong key, our bug.
    Json f = Json::Object();
    f.Set("request", call.number);
    if (!undecoded) {
      f.Set("kind", std::string(RequestKindName(call.req.kind)));
      f.Set("client_request", call.req.id);
    }
    f.Set("pipe", static_cast<uint64_t>(call.pipe));
    f.Set("error", s.ToString());
    Log(s.code() == ErrorCode::kInternal ? LogLevel::kError : LogLevel::kWarn,
        undecoded                                 ? "malformed request"
        : s.code() == ErrorCode::kUnauthenticated ? "authentication failed"
                                                  : "request failed",
        f);
  }
  if (!undecoded) (void)Audit(call, s.code(), HandleInfo{});
  Finish(call, EncodeError(call.req.id, s), s.code());
}

// What a write whose audit line could not be written answers.
Status AuditFailed(const Status& append) {
  return Unavailable(append.message() +
                     "; the write was not acknowledged and may have been applied: resend it with "
                     "the same request key (its recorded outcome is returned)");
}

void ServerImpl::AuditRead(const Call& call, ErrorCode outcome, const HandleInfo& info) {
  Status st = Audit(call, outcome, info);
  if (st.ok()) return;
  Json f = Json::Object();
  f.Set("request", call.number);
  f.Set("error", st.ToString());
  Log(LogLevel::kError, "audit log append failed (a read was answered unaudited)", f);
}

Status ServerImpl::Audit(const Call& call, ErrorCode outcome, const HandleInfo& info) {
  const RequestKind kind = call.req.kind;
  // Hello, a continuation's pieces and an upload's pieces are not requests
  // of their own: the request they carry or continue has its line.
  if (!audit_ || kind == RequestKind::kHello || kind == RequestKind::kMore ||
      kind == RequestKind::kUpload) {
    return Status::Ok();
  }
  const Request& req = call.req;
  audit::AuditRecord r;
  if (call.who.acting) {
    r.principal_json =
        call.who.acting_json.empty() ? call.who.acting->ToJson() : call.who.acting_json;
  } else if (call.who.key != nullptr || !call.who.name.empty()) {
    // The owner (no rule applies), by the key that acted as it.
    Json owner = Json::Object();
    owner.Set("owner", true);
    owner.Set("key", call.who.name);
    r.principal_json = ToJson(owner);
  } else if (outcome == ErrorCode::kUnauthenticated) {
    r.principal_json = "null";  // nobody we know
  } else {
    r.principal_json = R"({"owner":true})";
  }
  r.impersonator_json = call.who.impersonator_json;
  r.operation = kind == RequestKind::kUnknown ? "unknown" : std::string(RequestKindName(kind));
  r.entities = info.entities;
  r.fields = info.fields;
  r.rows = info.rows;
  r.version = info.version;
  if ((kind == RequestKind::kFetch || kind == RequestKind::kExplain ||
       kind == RequestKind::kSelect) &&
      !req.query.empty()) {
    if (kind == RequestKind::kFetch || (kind == RequestKind::kExplain && !req.select)) {
      // The plan cache's shape (literals lifted), hashed: queries that
      // differ only in values share it, and no value reaches the log.
      auto q = req.query.front() == '{' ? [&]() -> Result<query::FetchQuery> {
        ORMDB_ASSIGN_OR_RETURN(Json ir, ParseJson(req.query));
        return query::ParseFetchJson(ir);
      }()
          : query::ParseFetchText(req.query);
      if (q.ok()) r.shape = ShortHash(query::ShapeKey(*q), 16);
    }
    if (auto params = ParseJson(req.params.empty() ? "{}" : req.params);
        params.ok() && params->is_object()) {
      for (const auto& [name, value] : params->as_object()) r.params.push_back(name);
    }
  }
  r.outcome = outcome == ErrorCode::kOk ? "ok"
              : outcome == ErrorCode::kPermissionDenied || outcome == ErrorCode::kUnauthenticated
                  ? "denied"
                  : "error";
  r.sync = !Idempotent(kind);
  return audit_->Append(r);
}

void ServerImpl::Send(Exchange* ex, Message msg) {
  if (msg.empty()) {
    auto err = protocol::ErrorFrame(0, ResourceExhausted("out of memory for the reply"));
    if (err.ok()) msg = std::move(*err);
  }
  listener_->Reply(ex, std::move(msg));  // an empty one drops the request
}

Message ServerImpl::EncodeError(uint64_t id, const Status& s) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  auto msg = protocol::ErrorFrame(id, s);
  return msg.ok() ? std::move(*msg) : Message();
}

void ServerImpl::Dispatch(Call call) {
  const Request& req = call.req;
  const uint64_t id = req.id;
  // Nothing is looked up for a request before its key is checked.
  if (Status st = Authenticate(req, &call.who); !st.ok()) return Fail(call, st);
  if (call.who.acting) {
    // Served by a view that applies the schema's rules for the principal
    // (a small object sharing the engine's core).
    auto view = db_->AsEngine(*call.who.acting);
    if (!view.ok()) return Fail(call, view.status());
    call.view = std::shared_ptr<db::Engine>(std::move(*view));
  }
  if (call.who.key != nullptr && !HasRole(*call.who.key, RequiredAccess(req.kind))) {
    return Fail(call,
                Status(ErrorCode::kPermissionDenied,
                       "principal '" + call.who.name + "' may not do this (roles needed: " +
                           (RequiredAccess(req.kind) == Access::kAdmin ? "admin" : "write") + ")"));
  }
  std::string key;
  if (!Idempotent(req.kind)) {
    // Resends are recognized per principal, so one principal can neither
    // read nor spoil another's outcome.
    if (req.request_key.size() > kMaxRequestKeyBytes) {
      return Fail(
          call, InvalidArgument("a request key is at most " + std::to_string(kMaxRequestKeyBytes) +
                                " bytes, not " + std::to_string(req.request_key.size())));
    }
    if (!req.request_key.empty()) {
      key = "k" + call.who.owner + '\0' + req.request_key;
    } else if (id != 0) {
      key = "r" + call.who.owner + '\0';
      char buf[16];
      std::memcpy(buf, &req.client, 8);
      std::memcpy(buf + 8, &id, 8);
      key.append(buf, 16);
    }
  }
  if (req.kind == RequestKind::kUpload) return Upload(std::move(call));
  if (req.kind == RequestKind::kWatch) {
    auto shared = std::make_shared<Call>(std::move(call));
    reads_->Post([this, shared] { StartWatch(std::move(*shared)); });
    return;
  }
  if (!Idempotent(req.kind)) {
    auto shared = std::make_shared<Call>(std::move(call));
    writes_->Post([this, shared, key = std::move(key)]() mutable {
      if (key.empty()) return Run(std::move(*shared));
      RunWrite(std::move(*shared), std::move(key));
    });
    return;
  }
  if (!o_.inline_reads || !ShortRead(req.kind)) {
    auto shared = std::make_shared<Call>(std::move(call));
    reads_->Post([this, shared] { Run(std::move(*shared)); });
    return;
  }
  Run(std::move(call));
}

Status ServerImpl::Authenticate(const Request& req, Sender* out) {
  *out = Sender();
  Sender& who = *out;
  if (!o_.keys.empty()) {
    if (req.key.empty() && (req.token.empty() || !jwt_)) {
      return Status(ErrorCode::kUnauthenticated, jwt_ ? "this server requires an API key or a token"
                                                      : "this server requires an API key");
    }
    if (!req.key.empty()) {
      const ApiKey* match = nullptr;
      for (const ApiKey& k : o_.keys) {
        if (SameKey(k.key, req.key)) match = &k;
      }
      if (match == nullptr) return Status(ErrorCode::kUnauthenticated, "the API key is not valid");
      who.name = match->principal;
      who.key = match;
    }
  }
  if (who.key != nullptr && who.key->acts_as) {
    if (!req.token.empty()) {
      return InvalidArgument("principal '" + who.name +
                             "': the key names the principal it acts for; a request with it "
                             "carries no token");
    }
    who.acting = *who.key->acts_as;
  } else if (!req.token.empty()) {
    if (!jwt_) {
      return Status(ErrorCode::kUnauthenticated,
                    "this server takes no tokens (no \"jwt\" section in its config)");
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto verified = jwt_->Verify(req.token, now);
    if (!verified.ok()) return verified.status();
    who.acting = std::move(*verified);
    if (who.key == nullptr) who.name = "jwt:" + who.acting->id_json;
  }
  if (!req.act_as.empty()) {
    // A trusted backend names the principal: its key needs the server role
    // impersonate (or admin); a token's principal needs the policy role
    // admin or impersonate; the owner of a keyless server may.
    bool may = false;
    if (who.key != nullptr) {
      for (const std::string& r : who.key->roles) may |= r == "impersonate" || r == "admin";
    } else if (who.acting) {
      may = who.acting->HasRole("admin") || who.acting->HasRole("impersonate");
    } else {
      may = true;
    }
    if (!may) {
      return Status(ErrorCode::kPermissionDenied,
                    "principal '" + who.name +
                        "' may not act for another principal (its key needs the server role "
                        "impersonate)");
    }
    auto named = ormdb::Principal::FromJson(req.act_as);
    if (!named.ok()) return named.status().WithContext("the request's principal (as)");
    Json by = Json::Object();
    if (who.key != nullptr) {
      by.Set("key", who.name);
    } else if (who.acting) {
      auto token = ParseJson(who.acting->ToJson());
      by.Set("token", token.ok() ? std::move(*token) : Json(who.name));
    } else {
      by.Set("owner", true);
    }
    who.impersonator_json = ToJson(by);
    who.acting = std::move(*named);
  }
  if (who.acting) {
    who.acting_json = who.acting->ToJson();
    who.owner = "\x1f" + ShortHash(who.name + '\0' + who.acting_json, 32);
  } else {
    who.owner = who.name;
  }
  return Status::Ok();
}

void ServerImpl::Upload(Call call) {
  const Request& req = call.req;
  auto whole = uploads_.Add(
      Owner{call.who.owner, call.pipe}, req.client, req.handle, req.offset, req.total,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(req.data.data()), req.data.size()));
  if (!whole.ok()) return Fail(call, whole.status());
  if (!whole->has_value()) {
    protocol::ReplyWriter reply(req.id);
    reply.Uploaded(req.offset + req.data.size());
    reply.FrameBytes();
    auto msg = reply.ToFrame();
    return Finish(call, msg.ok() ? std::move(*msg) : Message(), ErrorCode::kOk);
  }
  // The whole request is in: it is answered as if it had come in one frame
  // (authenticated again by its own key, which must be the uploader's).
  auto inner = protocol::DecodeRequestWords(std::move(**whole));
  if (!inner.ok()) return Fail(call, inner.status());
  if (inner->kind == RequestKind::kUpload || inner->kind == RequestKind::kMore) {
    return Fail(call, InvalidArgument("an upload cannot carry an upload or a more"));
  }
  Sender who;
  if (Authenticate(*inner, &who).ok() && who.owner != call.who.owner) {
    return Fail(call,
                Status(ErrorCode::kUnauthenticated, "an upload's request carries another key"));
  }
  call.req = std::move(*inner);
  Dispatch(std::move(call));
}

void ServerImpl::Answer(const Call& call, protocol::ReplyWriter& reply, HandleInfo* info) {
  const Request& req = call.req;
  if (req.kind == RequestKind::kHello) {
    if (req.min_version > protocol::kProtocolVersion ||
        req.max_version < protocol::kProtocolVersion) {
      return reply.Error(InvalidArgument(
          "the client speaks protocol versions " + std::to_string(req.min_version) + " to " +
          std::to_string(req.max_version) + "; this server speaks version " +
          std::to_string(protocol::kProtocolVersion)));
    }
    return reply.Hello(protocol::kProtocolVersion, kServerName, db_->CurrentVersion(),
                       o_.max_request_bytes,
                       std::min(o_.max_request_frame_bytes, o_.max_request_bytes),
                       /*principals=*/true);
  }
  if (req.kind == RequestKind::kMore) {
    // Answered by Run from the continuation itself.
    return reply.Error(Internal("more is answered from the continuation"));
  }
  if (req.kind == RequestKind::kStats) {
    // The database's numbers and the server's own.
    auto db_stats = Db(call).Stats();
    if (!db_stats.ok()) return reply.Error(db_stats.status());
    auto j = ParseJson(*db_stats);
    if (!j.ok()) return reply.Error(Internal("stats: " + j.status().message()));
    ServerStats st = stats();
    Json srv = Json::Object();
    srv.Set("url", url());
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
    return reply.Text(ToJson(*j));
  }
  Handle(Db(call), req, reply, {}, info);
}

// A piece of a parked reply, or the error why not.
Message MoreFrame(Continuations& continuations, const std::string& principal, uint64_t id,
                  uint64_t handle, uint64_t offset, size_t max_chunk,
                  ErrorCode* outcome = nullptr) {
  Result<Message> out = Message();
  Status st = continuations.Read(principal, handle, offset, max_chunk,
                                 [&](std::span<const uint8_t> data, uint64_t total) {
                                   out = protocol::ChunkFrame(id, handle, offset, total, data);
                                 });
  if (!st.ok()) out = protocol::ErrorFrame(id, st);
  if (outcome) *outcome = st.code();
  return out.ok() ? std::move(*out) : Message();
}

void ServerImpl::Run(Call call) {
  const Request& req = call.req;
  if (req.kind == RequestKind::kMore) {
    ErrorCode outcome = ErrorCode::kOk;
    Message m = MoreFrame(continuations_, call.who.owner, req.id, req.handle, req.offset,
                          o_.max_frame_bytes - kChunkOverhead, &outcome);
    if (outcome != ErrorCode::kOk) errors_.fetch_add(1, std::memory_order_relaxed);
    return Finish(call, std::move(m), outcome);
  }
  protocol::ReplyWriter reply(req.id);
  if (req.kind == RequestKind::kFetch) {
    // Answered here rather than by Handle: the slow-query log needs the
    // fetch's time and snapshot.
    auto started = Clock::now();
    auto blocks = Db(call).FetchBlocks(req.query, req.params, req.explain.fetch);
    uint64_t micros = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count());
    HandleInfo info;
    if (!blocks.ok()) {
      reply.Error(blocks.status());
    } else {
      if (audit_) DescribeFetch(**blocks, &info);
      reply.Fetch(**blocks);
    }
    AuditRead(call, reply.error_code(), info);
    const bool slow = blocks.ok() && o_.slow_query_ms >= 0 &&
                      micros >= static_cast<uint64_t>(o_.slow_query_ms) * 1000;
    if (!slow) return Finish(call, Encode(reply, call), reply.error_code());
    {
      // Held in flight until the log line is written: Stop closes the
      // database only after.
      MutexLock lock(&flight_mu_);
      ++in_flight_;
    }
    const uint64_t version = (*blocks)->version;
    Finish(call, Encode(reply, call), ErrorCode::kOk);
    LogSlowFetch(call, micros, version);
    return OnSent();
  }
  HandleInfo info;
  Answer(call, reply, audit_ ? &info : nullptr);
  if (!Idempotent(req.kind)) {
    // A write without a request id (id 0): no line, no acknowledgement.
    if (Status st = Audit(call, reply.error_code(), info); !st.ok()) {
      const Status failed = AuditFailed(st);
      return Finish(call, EncodeError(req.id, failed), failed.code());
    }
  } else {
    AuditRead(call, reply.error_code(), info);
  }
  if (reply.is_error()) errors_.fetch_add(1, std::memory_order_relaxed);
  Finish(call, Encode(reply, call), reply.error_code());
}

void ServerImpl::LogSlowFetch(const Call& call, uint64_t micros, uint64_t version) {
  metrics_.RecordSlowQuery();
  ExplainOptions eo;
  eo.analyze = true;
  eo.json = true;
  eo.fetch = call.req.explain.fetch;
  eo.fetch.as_of = version;  // the snapshot the fetch read
  Json f = Json::Object();
  f.Set("request", call.number);
  f.Set("micros", micros);
  f.Set("threshold_ms", o_.slow_query_ms);
  f.Set("version", version);
  if (!call.who.name.empty()) f.Set("principal", call.who.name);
  f.Set("query", call.req.query);
  if (!call.req.params.empty() && call.req.params != "{}") f.Set("params", call.req.params);
  auto explain = Db(call).Explain(call.req.query, call.req.params, eo);
  if (!explain.ok()) {
    f.Set("explain_error", explain.status().ToString());
  } else if (auto j = ParseJson(*explain); j.ok()) {
    f.Set("explain", std::move(*j));
  } else {
    f.Set("explain", *explain);
  }
  Log(LogLevel::kWarn, "slow query", f);
}

void ServerImpl::RunWrite(Call call, std::string key) {
  {
    MutexLock lock(&ids_mu_);
    auto [it, fresh] = written_.try_emplace(key);
    if (!fresh) {
      resends_.fetch_add(1, std::memory_order_relaxed);
      if (!it->second.done) {
        // Answered when the first one finishes.
        Call waiting{call.ex, Request(), call.who, call.pipe, call.number, call.received, nullptr};
        waiting.req.kind = call.req.kind;
        it->second.waiting.push_back(std::move(waiting));
        return;
      }
      auto msg = Message::Copy(std::span<const uint8_t>(
          reinterpret_cast<const uint8_t*>(it->second.frame.data()), it->second.frame.size()));
      Finish(call, msg.ok() ? std::move(*msg) : Message(), it->second.outcome);
      return;
    }
    written_order_.push_back(key);
  }
  protocol::ReplyWriter reply(call.req.id);
  // The key goes into the write's own transaction, so a resend that reaches
  // a restarted server finds the outcome there.
  HandleInfo info;
  Handle(Db(call), call.req, reply, key, audit_ ? &info : nullptr);
  Message out;
  ErrorCode outcome = reply.error_code();
  // The audit line is synced before the reply goes out; when it cannot be
  // written the write is not acknowledged (it may have committed: a resend
  // with the same key is answered from its recorded outcome, and audited
  // then), and its outcome is not remembered here.
  Status audited = Audit(call, outcome, info);
  if (!audited.ok()) {
    const Status st = AuditFailed(audited);
    out = EncodeError(call.req.id, st);
    outcome = st.code();
  } else {
    if (reply.is_error()) errors_.fetch_add(1, std::memory_order_relaxed);
    out = Encode(reply, call);
  }
  std::vector<Call> waiting;
  {
    MutexLock lock(&ids_mu_);
    if (!audited.ok()) {
      auto it = written_.find(key);
      waiting.swap(it->second.waiting);
      written_.erase(it);  // written_order_ skips a key it no longer finds
    }
  }
  if (!audited.ok()) {
    for (const Call& other : waiting) {
      auto copy = Message::Copy(out.bytes());
      Finish(other, copy.ok() ? std::move(*copy) : Message(), outcome);
    }
    return Finish(call, std::move(out), outcome);
  }
  {
    MutexLock lock(&ids_mu_);
    Written& w = written_[key];
    w.done = true;
    w.outcome = outcome;
    auto bytes = out.bytes();
    w.frame.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
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
  for (const Call& other : waiting) {
    auto copy = Message::Copy(out.bytes());
    Finish(other, copy.ok() ? std::move(*copy) : Message(), outcome);
  }
  Finish(call, std::move(out), outcome);
}

// ---- Watches ----

void ServerImpl::StartWatch(Call call) {
  ParkedWatch w;
  w.options = call.req.watch;
  auto wait = std::min<int64_t>(w.options.wait.count(), o_.max_watch_wait_ms);
  w.options.wait = std::chrono::milliseconds(0);
  w.deadline = Clock::now() + std::chrono::milliseconds(wait);
  {
    MutexLock lock(&watch_mu_);
    size_t& mine = parked_per_principal_[call.who.owner];
    size_t all = 0;
    for (const auto& [name, n] : parked_per_principal_) all += n;
    if (mine >= o_.max_watches_per_principal || all >= o_.max_watches) {
      if (mine == 0) parked_per_principal_.erase(call.who.owner);
      return Fail(call, ResourceExhausted("too many watches are waiting (" + std::to_string(mine) +
                                          " of this principal, " + std::to_string(all) +
                                          " in all); poll less often or share a subscription"));
    }
    ++mine;
  }
  w.call = std::move(call);
  PullWatch(std::move(w));
}

void ServerImpl::AnswerWatch(ParkedWatch& w, const Result<WatchBatch>& batch) {
  {
    MutexLock lock(&watch_mu_);
    auto it = parked_per_principal_.find(w.call.who.owner);
    if (it != parked_per_principal_.end() && --it->second == 0) parked_per_principal_.erase(it);
  }
  protocol::ReplyWriter reply(w.call.req.id);
  HandleInfo info;
  if (!batch.ok()) {
    reply.Error(batch.status());
    errors_.fetch_add(1, std::memory_order_relaxed);
  } else {
    info.rows = batch->events.size();
    info.version = batch->token;
    reply.Watch(*batch);
  }
  AuditRead(w.call, reply.error_code(), info);
  Finish(w.call, Encode(reply, w.call), batch.ok() ? ErrorCode::kOk : batch.status().code());
}

// Pulls what is there now; parks the watch when there is nothing and time
// is left.
void ServerImpl::PullWatch(ParkedWatch w) {
  auto batch = Db(w.call).Watch(w.options);
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
  if (!listener_->Detach(w.call.ex).ok()) return AnswerWatch(w, WatchBatch{{}, token});
  {
    MutexLock lock(&watch_mu_);
    if (!stopping_) {
      parked_.push_back(std::move(w));
      {
        MutexLock fl(&flight_mu_);
        --in_flight_;  // parked: Stop answers it rather than waiting for it
      }
      flight_cv_.SignalAll();
      watch_cv_.SignalAll();
      return;
    }
  }
  // The watcher may be gone already: answer here.
  AnswerWatch(w, WatchBatch{{}, token});
}

void ServerImpl::Watcher() {
  constexpr auto kTick = std::chrono::milliseconds(50);
  uint64_t seen = 0;
  for (;;) {
    std::optional<uint64_t> lowest;
    {
      MutexLock lock(&watch_mu_);
      if (parked_.empty() && !stopping_) {
        watch_cv_.WaitUntil(&watch_mu_, Clock::now() + std::chrono::milliseconds(500));
      }
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
    std::vector<Exchange*> dropped;
    {
      MutexLock lock(&watch_mu_);
      auto now = Clock::now();
      for (auto it = closed_pipes_.begin(); it != closed_pipes_.end();) {
        it = now - it->second > std::chrono::milliseconds(2 * o_.max_watch_wait_ms + 1000)
                 ? closed_pipes_.erase(it)
                 : std::next(it);
      }
      for (auto it = parked_.begin(); it != parked_.end();) {
        if (closed_pipes_.count(it->call.pipe)) {
          // Its client is gone: nobody to answer.
          auto p = parked_per_principal_.find(it->call.who.owner);
          if (p != parked_per_principal_.end() && --p->second == 0) parked_per_principal_.erase(p);
          dropped.push_back(it->call.ex);
          it = parked_.erase(it);
        } else if (stopping || it->options.from.value_or(0) < seen || now >= it->deadline) {
          ready.push_back(std::move(*it));
          it = parked_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (Exchange* ex : dropped) listener_->Drop(ex);
    for (ParkedWatch& w : ready) {
      {
        MutexLock lock(&flight_mu_);
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

Message ServerImpl::Encode(protocol::ReplyWriter& reply, const Call& call) {
  const uint64_t id = call.req.id;
  if (reply.FrameBytes() <= o_.max_frame_bytes) {
    auto msg = reply.ToFrame();
    return msg.ok() ? std::move(*msg) : EncodeError(id, msg.status());
  }
  // Too large for one frame: park it and send the first chunk.
  auto handle = continuations_.Park(Owner{call.who.owner, call.pipe}, reply.ToWords());
  if (!handle.ok()) return EncodeError(id, handle.status());
  chunked_.fetch_add(1, std::memory_order_relaxed);
  return MoreFrame(continuations_, call.who.owner, id, *handle, 0,
                   o_.max_frame_bytes - kChunkOverhead);
}

void ServerImpl::Reaper() {
  MutexLock lock(&reaper_mu_);
  while (!stopping_) {
    reaper_cv_.WaitUntil(&reaper_mu_, Clock::now() + std::chrono::milliseconds(500));
    auto now = Clock::now();
    continuations_.Expire(now);
    uploads_.Expire(now);
    if (listener_) listener_->Reap();
  }
}

void ServerImpl::Stop() {
  if (stopping_.exchange(true)) return;
  if (http_) http_->Stop();  // its handlers read the database
  watch_cv_.SignalAll();
  if (watcher_.joinable()) watcher_.join();  // answers every parked watch
  {
    // In-flight requests finish and their replies go out (a commit that was
    // queued is acknowledged).
    MutexLock lock(&flight_mu_);
    auto deadline = Clock::now() + std::chrono::milliseconds(o_.shutdown_grace_ms);
    while (in_flight_ != 0 && flight_cv_.WaitUntil(&flight_mu_, deadline)) {
    }
  }
  { MutexLock lock(&reaper_mu_); }
  reaper_cv_.SignalAll();
  if (reaper_.joinable()) reaper_.join();
  if (listener_) listener_->Quiesce();
  if (reads_) reads_->Shutdown();
  if (writes_) writes_->Shutdown();
  db_.reset();  // finishes every queued commit
  if (listener_ && !listener_->Close(std::chrono::seconds(5))) {
    // nng's reaper is wedged: the socket is left to it. The data is
    // already closed.
    Log(LogLevel::kWarn, "nng did not close the server socket within 5 s; leaving it");
    KeepUntilExit(std::move(listener_));  // nng's callbacks point into it
  }
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
