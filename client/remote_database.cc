// The remote implementation of ormdb::Database: every call is one request
// to an `ormdb serve` over nng REQ/REP (protocol/ormdb.capnp), with the
// same results and errors as the embedded database.
#include <capnp/message.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <sstream>

#include "client/wire_result.h"
#include "ormdb/database.h"
#include "protocol/frame.h"
#include "protocol/ormdb.capnp.h"
#include "protocol/result_wire.h"

namespace ormdb {
namespace {

using protocol::Frame;

// Replies are trusted but not unbounded.
constexpr size_t kMaxReplyBytes = size_t{1} << 30;
constexpr std::chrono::milliseconds kHelloTimeout{10000};

std::string_view View(capnp::Text::Reader t) { return std::string_view(t.begin(), t.size()); }

Status FromWire(wire::Error::Reader e) {
  auto code = static_cast<ErrorCode>(e.getCode());
  std::string message(View(e.getMessage()));
  if (e.getCode() == 0 || e.getCode() > static_cast<uint16_t>(ErrorCode::kInternal)) {
    return Internal("server error code " + std::to_string(e.getCode()) + ": " + message);
  }
  return Status(code, std::move(message));
}

class RemoteDatabase final : public Database {
 public:
  RemoteDatabase(std::string url, ConnectOptions o) : url_(std::move(url)), o_(std::move(o)) {
    std::random_device rd;
    client_ = (uint64_t{rd()} << 32) ^ rd() ^
              static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  ~RemoteDatabase() override {
    for (Slot& s : slots_) {
      nng_aio_free(s.aio);
      nng_ctx_close(s.ctx);
    }
    if (open_) protocol::CloseSocket(sock_, std::chrono::seconds(5));
  }

  Status Connect() {
    if (url_.find("://") == std::string::npos) {
      return InvalidArgument(
          "server URL '" + url_ +
          "' needs a scheme: tcp://HOST:PORT, ipc:///path or tls+tcp://HOST:PORT");
    }
    if (int rv = nng_req0_open(&sock_); rv != 0) return protocol::NngStatus(rv, "open socket");
    open_ = true;
    nng_socket_set_size(sock_, NNG_OPT_RECVMAXSZ, kMaxReplyBytes);
    nng_dialer dialer;
    if (int rv = nng_dialer_create(&dialer, sock_, url_.c_str()); rv != 0) {
      return protocol::NngStatus(rv, "connect to " + url_);
    }
    if (url_.rfind("tls+", 0) == 0) {
      nng_tls_config* cfg = nullptr;
      int rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT);
      if (rv == 0 && !o_.tls_ca_file.empty()) {
        rv = nng_tls_config_ca_file(cfg, o_.tls_ca_file.c_str());
        if (rv == 0) rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
      } else if (rv == 0) {
        rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_NONE);
      }
      if (rv == 0 && !o_.tls_server_name.empty()) {
        rv = nng_tls_config_server_name(cfg, o_.tls_server_name.c_str());
      }
      if (rv == 0) rv = nng_dialer_set_ptr(dialer, NNG_OPT_TLS_CONFIG, cfg);
      if (cfg) nng_tls_config_free(cfg);
      if (rv != 0) return protocol::NngStatus(rv, "TLS setup for " + url_);
    }
    // A synchronous first dial: a refused connection is reported now; later
    // losses are redialed in the background and requests resent.
    if (int rv = nng_dialer_start(dialer, 0); rv != 0) {
      return protocol::NngStatus(rv, "connect to " + url_);
    }
    capnp::MallocMessageBuilder b;
    auto h = Init(b).initHello();
    h.setMinVersion(protocol::kProtocolVersion);
    h.setMaxVersion(protocol::kProtocolVersion);
    h.setClientName("ormdb client");
    ORMDB_ASSIGN_OR_RETURN(auto frame, Call(b, kHelloTimeout));
    auto hello = Reply(*frame).getHello();
    max_request_bytes_ = hello.getMaxRequestBytes();
    return Status::Ok();
  }

  Result<MigrationReport> ApplySchema(std::string_view text,
                                      const ApplySchemaOptions& options) override {
    capnp::MallocMessageBuilder b;
    auto a = Init(b).initSchemaApply();
    a.setText(Text(text));
    a.setDryRun(options.dry_run);
    a.setAllowDestructive(options.allow_destructive);
    a.setFileName(options.file_name);
    ORMDB_ASSIGN_OR_RETURN(auto frame, Call(b));
    auto m = Reply(*frame).getMigration();
    MigrationReport r;
    r.grade = static_cast<char>(m.getGrade());
    for (auto c : m.getChanges()) {
      r.changes.push_back(
          SchemaChange{static_cast<char>(c.getGrade()), std::string(View(c.getDescription()))});
    }
    r.applied = m.getApplied();
    r.schema_version = m.getSchemaVersion();
    r.commit_version = m.getCommitVersion();
    r.indexes_built = m.getIndexesBuilt();
    r.rows_indexed = m.getRowsIndexed();
    return r;
  }

  Result<std::string> SchemaText() override { return SchemaShow(false); }
  Result<std::string> SchemaJson() override { return SchemaShow(true); }

  Result<std::vector<SchemaVersionInfo>> SchemaHistory() override {
    capnp::MallocMessageBuilder b;
    Init(b).setSchemaHistory();
    ORMDB_ASSIGN_OR_RETURN(auto frame, Call(b));
    std::vector<SchemaVersionInfo> out;
    for (auto v : Reply(*frame).getHistory()) {
      out.push_back(SchemaVersionInfo{v.getSchemaVersion(), v.getCommitVersion(), v.getTimeMicros(),
                                      static_cast<char>(v.getGrade()),
                                      std::string(View(v.getSummary()))});
    }
    return out;
  }

  Result<MutationResult> Mutate(std::string_view batch_json) override {
    capnp::MallocMessageBuilder b;
    Init(b).setMutate(Text(batch_json));
    ORMDB_ASSIGN_OR_RETURN(auto frame, Call(b));
    auto m = Reply(*frame).getMutate();
    return MutationResult{m.getVersion(), std::string(View(m.getJson()))};
  }

  Result<std::optional<std::string>> Get(std::string_view entity, std::string_view id) override {
    capnp::MallocMessageBuilder b;
    auto g = Init(b).initGet();
    g.setEntity(Text(entity));
    g.setId(Text(id));
    ORMDB_ASSIGN_OR_RETURN(auto frame, Call(b));
    auto r = Reply(*frame).getGet();
    if (!r.getFound()) return std::optional<std::string>();
    return std::optional<std::string>(std::string(View(r.getJson())));
  }

  Status Export(std::string_view what,
                const std::function<Status(std::string_view line)>& sink) override {
    capnp::MallocMessageBuilder b;
    Init(b).setExportRows(Text(what));
    ORMDB_ASSIGN_OR_RETURN(auto frame, Call(b));
    for (auto line : Reply(*frame).getExportRows()) ORMDB_RETURN_IF_ERROR(sink(View(line)));
    return Status::Ok();
  }

  Result<ImportReport> Import(std::string_view what, std::istream& in,
                              const ImportOptions& options) override {
    // The import goes in one request, which must fit the server's limit
    // (from its hello) with room for the rest of the frame. A seekable input
    // (a file) is measured before any of it is read; any other is read no
    // further than the limit.
    constexpr uint64_t kFrameRoom = 4096;
    const uint64_t limit = max_request_bytes_ > kFrameRoom ? max_request_bytes_ - kFrameRoom : 0;
    auto too_big = [&](const std::string& size) {
      return ResourceExhausted("an import of " + size +
                               " bytes exceeds the server's request limit of " +
                               std::to_string(max_request_bytes_) +
                               " bytes; split the file or raise max_request_bytes");
    };
    std::string data;
    if (std::streampos start = in.tellg(); start != std::streampos(-1)) {
      if (in.seekg(0, std::ios::end)) {
        std::streampos end = in.tellg();
        in.seekg(start);
        if (end != std::streampos(-1) && end >= start) {
          const uint64_t size = static_cast<uint64_t>(end - start);
          if (size > limit) return too_big(std::to_string(size));
          data.reserve(size);
        }
      }
      in.clear();
    }
    std::vector<char> chunk(size_t{64} << 10);
    while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
      data.append(chunk.data(), static_cast<size_t>(in.gcount()));
      if (data.size() > limit) return too_big("more than " + std::to_string(limit));
    }
    if (in.bad()) return InvalidArgument("import: read error");
    capnp::MallocMessageBuilder b;
    auto imp = Init(b).initImportRows();
    imp.setWhat(Text(what));
    imp.setCsv(options.format == ImportOptions::Format::kCsv);
    imp.setData(
        capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(data.data()), data.size()));
    ORMDB_ASSIGN_OR_RETURN(auto frame, Call(b));
    auto r = Reply(*frame).getImportRows();
    return ImportReport{r.getRows(), r.getVersion()};
  }

  Result<std::unique_ptr<FetchResult>> Fetch(std::string_view query, std::string_view params_json,
                                             const FetchOptions& options) override {
    capnp::MallocMessageBuilder b;
    auto f = Init(b).initFetch();
    f.setQuery(Text(query));
    f.setParams(Text(params_json));
    protocol::FetchOptionsToWire(options, f.initOptions());
    ORMDB_ASSIGN_OR_RETURN(auto frame, Call(b));
    if (!Reply(*frame).isFetch()) return Internal("the server answered a fetch with another reply");
    return MakeWireResult(std::move(frame));
  }

  Result<std::string> Explain(std::string_view query, std::string_view params_json,
                              const ExplainOptions& options) override {
    capnp::MallocMessageBuilder b;
    auto e = Init(b).initExplain();
    e.setQuery(Text(query));
    e.setParams(Text(params_json));
    e.setAnalyze(options.analyze);
    e.setJson(options.json);
    protocol::FetchOptionsToWire(options.fetch, e.initOptions());
    return TextCall(b);
  }

  Result<WatchBatch> Watch(const WatchOptions& options) override {
    capnp::MallocMessageBuilder b;
    auto w = Init(b).initWatch();
    auto entities = w.initEntities(static_cast<unsigned>(options.entities.size()));
    for (size_t i = 0; i < options.entities.size(); ++i) {
      entities.set(static_cast<unsigned>(i), Text(options.entities[i]));
    }
    if (options.from) {
      w.setFrom(*options.from);
      w.setHasFrom(true);
    }
    w.setWaitMillis(static_cast<uint32_t>(
        std::min<int64_t>(options.wait.count(), std::numeric_limits<uint32_t>::max())));
    w.setMaxEvents(static_cast<uint32_t>(
        std::min<size_t>(options.max_events, std::numeric_limits<uint32_t>::max())));
    w.setSubscriber(options.subscriber);
    ORMDB_ASSIGN_OR_RETURN(auto frame, Call(b, o_.request_timeout + options.wait));
    auto r = Reply(*frame).getWatch();
    WatchBatch out;
    for (auto e : r.getEvents()) out.events.emplace_back(View(e));
    out.token = r.getToken();
    return out;
  }

  Result<std::string> Stats() override {
    capnp::MallocMessageBuilder b;
    Init(b).setStats();
    return TextCall(b);
  }

  Result<std::string> Vacuum() override {
    capnp::MallocMessageBuilder b;
    Init(b).setVacuum();
    return TextCall(b);
  }

  Result<CheckResult> Check() override {
    capnp::MallocMessageBuilder b;
    Init(b).setCheck();
    ORMDB_ASSIGN_OR_RETURN(auto frame, Call(b));
    auto c = Reply(*frame).getCheck();
    CheckResult out;
    for (auto p : c.getProblems()) out.problems.emplace_back(View(p));
    out.summary = std::string(View(c.getSummary()));
    return out;
  }

  uint64_t CurrentVersion() override {
    capnp::MallocMessageBuilder b;
    Init(b).setCurrentVersion();
    auto frame = Call(b);
    return frame.ok() ? Reply(**frame).getVersion() : 0;
  }

 private:
  static capnp::Text::Reader Text(std::string_view s) { return {s.data(), s.size()}; }
  static wire::Reply::Reader Reply(Frame& f) { return f.reader().getRoot<wire::Reply>(); }

  wire::Request::Builder Init(capnp::MessageBuilder& b) {
    auto req = b.initRoot<wire::Request>();
    req.setClient(client_);
    req.setId(next_id_.fetch_add(1, std::memory_order_relaxed));
    if (!o_.key.empty()) req.setKey(o_.key);
    return req;
  }

  Result<std::string> SchemaShow(bool json) {
    capnp::MallocMessageBuilder b;
    Init(b).initSchemaShow().setJson(json);
    return TextCall(b);
  }

  Result<std::string> TextCall(capnp::MessageBuilder& b) {
    ORMDB_ASSIGN_OR_RETURN(auto frame, Call(b));
    return std::string(View(Reply(*frame).getText()));
  }

  // An nng context and its aio, reused across calls (opening them costs
  // more than a round trip's own work).
  struct Slot {
    nng_ctx ctx;
    nng_aio* aio;
  };
  Result<Slot> TakeSlot() {
    {
      std::lock_guard<std::mutex> lock(slots_mu_);
      if (!slots_.empty()) {
        Slot s = slots_.back();
        slots_.pop_back();
        return s;
      }
    }
    Slot s{};
    if (int rv = nng_ctx_open(&s.ctx, sock_); rv != 0) {
      return protocol::NngStatus(rv, "request to " + url_);
    }
    if (int rv = nng_aio_alloc(&s.aio, nullptr, nullptr); rv != 0) {
      nng_ctx_close(s.ctx);
      return protocol::NngStatus(rv, "request to " + url_);
    }
    return s;
  }
  void ReturnSlot(Slot s, bool healthy) {
    if (healthy) {
      std::lock_guard<std::mutex> lock(slots_mu_);
      if (slots_.size() < 64) {
        slots_.push_back(s);
        return;
      }
    }
    nng_aio_free(s.aio);
    nng_ctx_close(s.ctx);
  }

  // Sends one frame and waits for its reply, on a context of its own.
  Result<std::unique_ptr<Frame>> RoundTrip(nng_msg* msg, std::chrono::milliseconds timeout) {
    auto slot = TakeSlot();
    if (!slot.ok()) {
      nng_msg_free(msg);
      return slot.status();
    }
    nng_aio* aio = slot->aio;
    nng_aio_set_timeout(aio, static_cast<nng_duration>(timeout.count()));
    nng_aio_set_msg(aio, msg);
    nng_ctx_send(slot->ctx, aio);
    nng_aio_wait(aio);
    int rv = nng_aio_result(aio);
    nng_msg* reply = nullptr;
    if (rv != 0) {
      nng_msg_free(msg);
    } else {
      nng_ctx_recv(slot->ctx, aio);
      nng_aio_wait(aio);
      rv = nng_aio_result(aio);
      if (rv == 0) reply = nng_aio_get_msg(aio);
    }
    // A context whose request timed out may still get its late reply:
    // close it rather than reuse it.
    ReturnSlot(*slot, rv == 0);
    if (rv == NNG_ETIMEDOUT) {
      return Unavailable("no reply from " + url_ + " within " + std::to_string(timeout.count()) +
                         " ms");
    }
    if (rv != 0) return protocol::NngStatus(rv, "request to " + url_);
    ORMDB_ASSIGN_OR_RETURN(auto frame, Frame::Open(reply, kMaxReplyBytes, &counters_, true));
    if (frame->version() != protocol::kProtocolVersion) {
      return InvalidArgument("the server at " + url_ + " speaks protocol version " +
                             std::to_string(frame->version()) + "; this client speaks " +
                             std::to_string(protocol::kProtocolVersion));
    }
    return frame;
  }

  // Sends a request; returns the reply frame (reassembled when it came in
  // chunks) or the error it carries.
  Result<std::unique_ptr<Frame>> Call(capnp::MessageBuilder& b,
                                      std::optional<std::chrono::milliseconds> timeout = {}) {
    auto deadline = timeout.value_or(o_.request_timeout);
    ORMDB_ASSIGN_OR_RETURN(nng_msg * msg, protocol::EncodeFrame(b));
    ORMDB_ASSIGN_OR_RETURN(auto frame, RoundTrip(msg, deadline));
    try {
      auto reply = Reply(*frame);
      if (reply.isError()) return FromWire(reply.getError());
      if (!reply.isChunk()) return frame;
      // A large reply: pull the rest, then read the whole in place.
      auto first = reply.getChunk();
      const uint64_t handle = first.getHandle(), total = first.getTotal();
      if (total % sizeof(capnp::word) != 0 || total > kMaxReplyBytes) {
        return Internal("the server sent a malformed chunked reply");
      }
      kj::Array<capnp::word> words = kj::heapArray<capnp::word>(total / sizeof(capnp::word));
      auto* dest = reinterpret_cast<capnp::byte*>(words.begin());
      uint64_t have = 0;
      for (;;) {
        auto chunk = Reply(*frame).getChunk();
        auto data = chunk.getData();
        if (chunk.getOffset() != have || have + data.size() > total || data.size() == 0) {
          return Internal("the server sent a chunk out of order");
        }
        std::memcpy(dest + have, data.begin(), data.size());
        have += data.size();
        if (have == total) break;
        capnp::MallocMessageBuilder mb;
        auto more = Init(mb).initMore();
        more.setHandle(handle);
        more.setOffset(have);
        ORMDB_ASSIGN_OR_RETURN(nng_msg * m, protocol::EncodeFrame(mb));
        ORMDB_ASSIGN_OR_RETURN(frame, RoundTrip(m, deadline));
        auto r = Reply(*frame);
        if (r.isError()) return FromWire(r.getError());
        if (!r.isChunk()) return Internal("the server broke off a chunked reply");
      }
      ORMDB_ASSIGN_OR_RETURN(auto whole, Frame::FromWords(std::move(words), true));
      auto inner = Reply(*whole);
      if (inner.isError()) return FromWire(inner.getError());
      return whole;
    } catch (const kj::Exception& e) {
      return Internal(std::string("malformed reply from ") + url_ + ": " +
                      e.getDescription().cStr());
    }
  }

  std::string url_;
  ConnectOptions o_;
  nng_socket sock_ = NNG_SOCKET_INITIALIZER;
  bool open_ = false;
  uint64_t client_ = 0;
  std::atomic<uint64_t> next_id_{1};
  uint64_t max_request_bytes_ = 0;
  protocol::FrameCounters counters_;
  std::mutex slots_mu_;
  std::vector<Slot> slots_;  // GUARDED_BY(slots_mu_)
};

}  // namespace

Result<std::unique_ptr<Database>> Database::Connect(const std::string& url,
                                                    const ConnectOptions& options) {
  auto db = std::make_unique<RemoteDatabase>(url, options);
  ORMDB_RETURN_IF_ERROR(db->Connect());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace ormdb
