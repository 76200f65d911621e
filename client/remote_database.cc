// The remote implementation of ormdb::Database: every call is one request
// to an `ormdb serve` over nng REQ/REP (protocol/ormdb.capnp), with the
// same results and errors as the embedded database.
#include <sys/random.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <sstream>
#include <vector>

#include "ormdb/database.h"
#include "protocol/codec.h"
#include "protocol/transport.h"

namespace ormdb {
namespace {

using protocol::Message;
using protocol::Reply;
using protocol::ReplyKind;
using protocol::Request;
using protocol::RequestKind;

// Replies are trusted but not unbounded.
constexpr size_t kMaxReplyBytes = size_t{1} << 30;
constexpr std::chrono::milliseconds kHelloTimeout{10000};

uint64_t Random64() {
  uint64_t v = 0;
  if (getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) {
    std::random_device rd;
    v = (uint64_t{rd()} << 32) ^ rd();
  }
  return v;
}

Status Unexpected(const Reply& r, std::string_view what) {
  return Internal("the server answered " + std::string(what) + " with reply kind " +
                  std::to_string(static_cast<int>(r.kind)));
}

class RemoteDatabase final : public Database {
 public:
  RemoteDatabase(std::string url, ConnectOptions o)
      : url_(std::move(url)),
        o_(std::move(o)),
        client_(Random64()),
        next_id_(std::make_shared<std::atomic<uint64_t>>(1)),
        counters_(std::make_shared<protocol::FrameCounters>()) {}

  // A handle on the connection of `from` whose requests name `principal`
  // (Request::act_as). Shares the request numbering, so ids stay unique.
  RemoteDatabase(const RemoteDatabase& from, std::string act_as_json)
      : url_(from.url_),
        o_(from.o_),
        conn_(from.conn_),
        client_(from.client_),
        next_id_(from.next_id_),
        max_request_bytes_(from.max_request_bytes_),
        max_frame_bytes_(from.max_frame_bytes_),
        principals_(from.principals_),
        act_as_(std::move(act_as_json)),
        counters_(from.counters_) {}

  Status Connect() {
    if (url_.find("://") == std::string::npos) {
      return InvalidArgument(
          "server URL '" + url_ +
          "' needs a scheme: tcp://HOST:PORT, ipc:///path or tls+tcp://HOST:PORT");
    }
    protocol::ConnectionOptions co;
    co.url = url_;
    co.tls_ca_file = o_.tls_ca_file;
    co.tls_server_name = o_.tls_server_name;
    co.max_reply_bytes = kMaxReplyBytes;
    ORMDB_ASSIGN_OR_RETURN(conn_, protocol::Connection::Dial(co));
    Request q = New(RequestKind::kHello);
    q.min_version = protocol::kProtocolVersion;
    q.max_version = protocol::kProtocolVersion;
    q.client_name = "ormdb client";
    ORMDB_ASSIGN_OR_RETURN(Reply r, Call(q, kHelloTimeout));
    if (r.kind != ReplyKind::kHello) return Unexpected(r, "hello");
    max_request_bytes_ = r.max_request_bytes;
    max_frame_bytes_ = r.max_frame_bytes;
    principals_ = r.principals;
    if (!o_.token.empty() && !principals_) {
      return InvalidArgument("the server at " + url_ +
                             " predates tokens (it would ignore the token); upgrade it");
    }
    return Status::Ok();
  }

  Result<MigrationReport> ApplySchema(std::string_view text,
                                      const ApplySchemaOptions& options) override {
    Request q = New(RequestKind::kSchemaApply);
    q.text = std::string(text);
    q.schema.dry_run = options.dry_run;
    q.schema.allow_destructive = options.allow_destructive;
    q.schema.file_name = options.file_name;
    ORMDB_ASSIGN_OR_RETURN(Reply r, Call(q));
    if (r.kind != ReplyKind::kMigration) return Unexpected(r, "schema apply");
    return std::move(r.migration);
  }

  Result<std::string> SchemaText() override { return SchemaShow(false); }
  Result<std::string> SchemaJson() override { return SchemaShow(true); }

  Result<std::vector<SchemaVersionInfo>> SchemaHistory() override {
    ORMDB_ASSIGN_OR_RETURN(Reply r, Call(New(RequestKind::kSchemaHistory)));
    if (r.kind != ReplyKind::kHistory) return Unexpected(r, "schema history");
    return std::move(r.history);
  }

  Result<MutationResult> Mutate(std::string_view batch_json, const WriteOptions& options) override {
    Request q = New(RequestKind::kMutate);
    q.text = std::string(batch_json);
    q.request_key = options.request_key;
    ORMDB_ASSIGN_OR_RETURN(Reply r, Call(q));
    if (r.kind != ReplyKind::kMutate) return Unexpected(r, "mutate");
    return std::move(r.mutate);
  }

  Result<std::optional<std::string>> Get(std::string_view entity, std::string_view id) override {
    Request q = New(RequestKind::kGet);
    q.entity = std::string(entity);
    q.row_id = std::string(id);
    ORMDB_ASSIGN_OR_RETURN(Reply r, Call(q));
    if (r.kind != ReplyKind::kGet) return Unexpected(r, "get");
    return std::move(r.row);
  }

  Status Export(std::string_view what,
                const std::function<Status(std::string_view line)>& sink) override {
    Request q = New(RequestKind::kExportRows);
    q.text = std::string(what);
    ORMDB_ASSIGN_OR_RETURN(Reply r, Call(q));
    if (r.kind != ReplyKind::kExportRows) return Unexpected(r, "export");
    for (const std::string& line : r.lines) ORMDB_RETURN_IF_ERROR(sink(line));
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
      return ResourceExhausted(
          "an import of " + size + " bytes exceeds the server's request limit of " +
          std::to_string(max_request_bytes_) + " bytes; split the file or raise max_request_bytes");
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
    Request q = New(RequestKind::kImportRows);
    q.text = std::string(what);
    q.csv = options.format == ImportOptions::Format::kCsv;
    q.data = std::move(data);
    q.request_key = options.request_key;
    ORMDB_ASSIGN_OR_RETURN(Reply r, Call(q));
    if (r.kind != ReplyKind::kImportRows) return Unexpected(r, "import");
    return r.import;
  }

  Result<std::unique_ptr<FetchResult>> Fetch(std::string_view query, std::string_view params_json,
                                             const FetchOptions& options) override {
    Request q = New(RequestKind::kFetch);
    q.query = std::string(query);
    q.params = std::string(params_json);
    q.explain.fetch = options;
    ORMDB_ASSIGN_OR_RETURN(Reply r, Call(q));
    if (r.kind != ReplyKind::kFetch) return Unexpected(r, "a fetch");
    return std::move(r.fetch);
  }

  Result<std::string> Explain(std::string_view query, std::string_view params_json,
                              const ExplainOptions& options) override {
    Request q = New(RequestKind::kExplain);
    q.query = std::string(query);
    q.params = std::string(params_json);
    q.explain = options;
    return TextCall(q);
  }

  Result<std::unique_ptr<SelectResult>> Select(std::string_view text, std::string_view params_json,
                                               const SelectOptions& options) override {
    Request q = New(RequestKind::kSelect);
    q.query = std::string(text);
    q.params = std::string(params_json);
    q.explain.select = options;
    ORMDB_ASSIGN_OR_RETURN(Reply r, Call(q));
    if (r.kind != ReplyKind::kSelect) return Unexpected(r, "a select");
    return std::move(r.select);
  }

  Result<std::string> ExplainSelect(std::string_view text, std::string_view params_json,
                                    const ExplainOptions& options) override {
    Request q = New(RequestKind::kExplain);
    q.query = std::string(text);
    q.params = std::string(params_json);
    q.explain = options;
    q.select = true;
    return TextCall(q);
  }

  Result<WatchBatch> Watch(const WatchOptions& options) override {
    Request q = New(RequestKind::kWatch);
    q.watch = options;
    q.watch.wait = std::min(options.wait, std::chrono::milliseconds(UINT32_MAX));
    ORMDB_ASSIGN_OR_RETURN(Reply r, Call(q, o_.request_timeout + options.wait));
    if (r.kind != ReplyKind::kWatch) return Unexpected(r, "watch");
    return std::move(r.watch);
  }

  Result<std::string> Stats() override { return TextCall(New(RequestKind::kStats)); }
  Result<std::string> Vacuum() override { return TextCall(New(RequestKind::kVacuum)); }

  Result<CheckResult> Check() override {
    ORMDB_ASSIGN_OR_RETURN(Reply r, Call(New(RequestKind::kCheck)));
    if (r.kind != ReplyKind::kCheck) return Unexpected(r, "check");
    return std::move(r.check);
  }

  // The server decides: its key must have the server role impersonate (or
  // admin), else every request of the handle is PERMISSION_DENIED.
  Result<std::unique_ptr<Database>> As(const Principal& principal) override {
    if (!principals_) {
      return Status(ErrorCode::kPermissionDenied,
                    "permission denied: the server at " + url_ +
                        " predates acting for a principal (it would ignore it); upgrade it");
    }
    return std::unique_ptr<Database>(new RemoteDatabase(*this, principal.ToJson()));
  }

  uint64_t CurrentVersion() override {
    auto r = Call(New(RequestKind::kCurrentVersion));
    return r.ok() && r->kind == ReplyKind::kVersion ? r->version : 0;
  }

  uint64_t WaitForVersionAfter(uint64_t version, std::chrono::milliseconds timeout) override {
    // A watch of every event after `version` returns at the first commit;
    // its token is then the newest version it saw.
    WatchOptions o;
    o.from = version;
    o.wait = timeout;
    o.max_events = 1;
    auto batch = Watch(o);
    if (!batch.ok()) return 0;
    return std::max(batch->token, version);
  }

 private:
  Request New(RequestKind kind) {
    Request q;
    q.kind = kind;
    q.client = client_;
    q.id = next_id_->fetch_add(1, std::memory_order_relaxed);
    q.key = o_.key;
    q.token = o_.token;
    q.act_as = act_as_;
    return q;
  }

  Result<std::string> SchemaShow(bool json) {
    Request q = New(RequestKind::kSchemaShow);
    q.json = json;
    return TextCall(q);
  }

  Result<std::string> TextCall(const Request& q) {
    ORMDB_ASSIGN_OR_RETURN(Reply r, Call(q));
    if (r.kind != ReplyKind::kText) return Unexpected(r, "a request for text");
    return std::move(r.text);
  }

  // One frame there and back; the reply decoded. An error reply is
  // returned as a Reply of kind kError.
  Result<Reply> RoundTrip(Message m, std::chrono::milliseconds deadline) {
    ORMDB_ASSIGN_OR_RETURN(Message raw, conn_->RoundTrip(std::move(m), deadline));
    return protocol::ReceiveReply(std::move(raw), kMaxReplyBytes, counters_.get(), url_);
  }

  // Sends a request; returns its reply (reassembled when it came in
  // chunks) or the error it carries. A request larger than the server's
  // frame limit goes as an upload in pieces. A large reply whose
  // continuation the server dropped (its connection was lost meanwhile) is
  // asked for again once: reads are idempotent, and a write is answered
  // from its recorded outcome.
  Result<Reply> Call(const Request& q, std::optional<std::chrono::milliseconds> timeout = {}) {
    auto deadline = timeout.value_or(o_.request_timeout);
    const size_t bytes = protocol::RequestFrameBytes(q) - protocol::kHeaderBytes;
    if (max_request_bytes_ != 0 && bytes > max_request_bytes_) {
      return ResourceExhausted("a request of " + std::to_string(bytes) +
                               " bytes exceeds the server's limit of " +
                               std::to_string(max_request_bytes_) +
                               " bytes (max_request_bytes); split it or raise the limit");
    }
    Status last;
    for (int attempt = 0; attempt < 2; ++attempt) {
      Result<Reply> first = Status(ErrorCode::kInternal, "not sent");
      if (max_frame_bytes_ != 0 && bytes > max_frame_bytes_) {
        first = Upload(q, deadline);
      } else {
        ORMDB_ASSIGN_OR_RETURN(Message m, protocol::EncodeRequest(q));
        first = RoundTrip(std::move(m), deadline);
      }
      if (!first.ok()) return first.status();
      bool lost = false;
      auto r = Pull(std::move(*first), deadline, &lost);
      if (r.ok() || !lost) return r;
      last = r.status();
    }
    return last;
  }

  // Sends the request in pieces of at most the server's frame limit. A
  // server that lost the upload (it restarted, or the connection dropped)
  // says NOT_FOUND; the upload then starts over once.
  Result<Reply> Upload(const Request& q, std::chrono::milliseconds deadline) {
    protocol::Words whole = protocol::FlattenRequest(q);
    auto bytes = whole.bytes();
    const size_t piece = max_frame_bytes_ > 1024 ? max_frame_bytes_ - 512 : 512;
    for (int attempt = 0;; ++attempt) {
      uint64_t handle = Random64();
      for (uint64_t offset = 0; offset < bytes.size();) {
        size_t n = std::min<size_t>(piece, bytes.size() - offset);
        Request up = New(RequestKind::kUpload);
        up.handle = handle;
        up.offset = offset;
        up.total = bytes.size();
        up.data.assign(reinterpret_cast<const char*>(bytes.data()) + offset, n);
        ORMDB_ASSIGN_OR_RETURN(Message m, protocol::EncodeRequest(up));
        ORMDB_ASSIGN_OR_RETURN(Reply reply, RoundTrip(std::move(m), deadline));
        offset += n;
        if (offset == bytes.size()) return reply;  // the whole request's reply
        if (reply.kind == ReplyKind::kError) {
          if (reply.error.code() == ErrorCode::kNotFound && attempt == 0) break;  // start over
          return reply.error;
        }
        if (reply.kind != ReplyKind::kUploaded) return Unexpected(reply, "an upload piece");
      }
      if (attempt > 0) return Unavailable("the server lost the upload twice");
    }
  }

  // Reads a reply: an error, a whole reply, or the first chunk of one,
  // whose rest it pulls and reassembles. Sets *lost when the continuation
  // vanished midway.
  Result<Reply> Pull(Reply first, std::chrono::milliseconds deadline, bool* lost) {
    if (first.kind == ReplyKind::kError) return first.error;
    if (first.kind != ReplyKind::kChunk) return first;
    // A large reply: pull the rest, then read the whole in place.
    const uint64_t handle = first.handle, total = first.total;
    if (total % sizeof(uint64_t) != 0 || total > kMaxReplyBytes) {
      return Internal("the server sent a malformed chunked reply");
    }
    protocol::Words words(total / sizeof(uint64_t));
    uint64_t have = 0;
    Reply chunk = std::move(first);
    for (;;) {
      if (chunk.offset != have || have + chunk.data.size() > total || chunk.data.empty()) {
        return Internal("the server sent a chunk out of order");
      }
      std::memcpy(words.byte_data() + have, chunk.data.data(), chunk.data.size());
      have += chunk.data.size();
      if (have == total) break;
      Request more = New(RequestKind::kMore);
      more.handle = handle;
      more.offset = have;
      ORMDB_ASSIGN_OR_RETURN(Message m, protocol::EncodeRequest(more));
      ORMDB_ASSIGN_OR_RETURN(chunk, RoundTrip(std::move(m), deadline));
      if (chunk.kind == ReplyKind::kError) {
        *lost = chunk.error.code() == ErrorCode::kNotFound;
        return chunk.error;
      }
      if (chunk.kind != ReplyKind::kChunk) return Internal("the server broke off a chunked reply");
    }
    ORMDB_ASSIGN_OR_RETURN(Reply inner, protocol::DecodeReplyWords(std::move(words), url_));
    if (inner.kind == ReplyKind::kError) return inner.error;
    return inner;
  }

  std::string url_;
  ConnectOptions o_;
  // Shared by the handles As returns (a connection is thread-safe).
  std::shared_ptr<protocol::Connection> conn_;
  const uint64_t client_;
  std::shared_ptr<std::atomic<uint64_t>> next_id_;
  uint64_t max_request_bytes_ = 0;
  uint64_t max_frame_bytes_ = 0;  // 0: the server takes any frame up to max_request_bytes_
  bool principals_ = false;       // the server honours token and act_as
  std::string act_as_;            // the principal's JSON every request names ("": none)
  std::shared_ptr<protocol::FrameCounters> counters_;
};

}  // namespace

Result<std::unique_ptr<Database>> Database::Connect(const std::string& url,
                                                    const ConnectOptions& options) {
  auto db = std::make_unique<RemoteDatabase>(url, options);
  ORMDB_RETURN_IF_ERROR(db->Connect());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace ormdb
