#include "protocol/codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstring>

#include "protocol/frame.h"
#include "protocol/ormdb.capnp.h"
#include "protocol/result_wire.h"
#include "protocol/wire_result.h"

namespace ormdb::protocol {
namespace {

std::string Str(capnp::Text::Reader t) { return std::string(t.begin(), t.size()); }
std::string Str(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}
capnp::Text::Reader AsText(std::string_view s) { return {s.data(), s.size()}; }
capnp::Data::Reader Data(std::string_view s) {
  return {reinterpret_cast<const capnp::byte*>(s.data()), s.size()};
}

Status Malformed(const kj::Exception& e) {
  return InvalidArgument(std::string("malformed request: ") + e.getDescription().cStr());
}

Result<Request> Read(wire::Request::Reader r) {
  Request q;
  q.client = r.getClient();
  q.id = r.getId();
  q.key = Str(r.getKey());
  q.request_key = Str(r.getRequestKey());
  q.token = Str(r.getToken());
  q.act_as = Str(r.getActAs());
  q.wire_kind = static_cast<unsigned>(r.which());
  switch (r.which()) {
    case wire::Request::HELLO: {
      auto h = r.getHello();
      q.kind = RequestKind::kHello;
      q.min_version = h.getMinVersion();
      q.max_version = h.getMaxVersion();
      q.client_name = Str(h.getClientName());
      break;
    }
    case wire::Request::FETCH: {
      auto f = r.getFetch();
      q.kind = RequestKind::kFetch;
      q.query = Str(f.getQuery());
      q.params = f.hasParams() ? Str(f.getParams()) : "{}";
      q.explain.fetch = FetchOptionsFromWire(f.getOptions());
      break;
    }
    case wire::Request::MORE:
      q.kind = RequestKind::kMore;
      q.handle = r.getMore().getHandle();
      q.offset = r.getMore().getOffset();
      break;
    case wire::Request::MUTATE:
      q.kind = RequestKind::kMutate;
      q.text = Str(r.getMutate());
      break;
    case wire::Request::SCHEMA_APPLY: {
      auto a = r.getSchemaApply();
      q.kind = RequestKind::kSchemaApply;
      q.text = Str(a.getText());
      q.schema.dry_run = a.getDryRun();
      q.schema.allow_destructive = a.getAllowDestructive();
      if (a.hasFileName()) q.schema.file_name = Str(a.getFileName());
      break;
    }
    case wire::Request::SCHEMA_SHOW:
      q.kind = RequestKind::kSchemaShow;
      q.json = r.getSchemaShow().getJson();
      break;
    case wire::Request::SCHEMA_HISTORY:
      q.kind = RequestKind::kSchemaHistory;
      break;
    case wire::Request::EXPLAIN: {
      auto e = r.getExplain();
      q.kind = RequestKind::kExplain;
      q.query = Str(e.getQuery());
      q.params = e.hasParams() ? Str(e.getParams()) : "{}";
      q.explain.analyze = e.getAnalyze();
      q.explain.json = e.getJson();
      q.explain.fetch = FetchOptionsFromWire(e.getOptions());
      q.select = e.getSelect();
      q.explain.select = SelectOptionsFromWire(e.getSelectOptions());
      break;
    }
    case wire::Request::SELECT: {
      auto f = r.getSelect();
      q.kind = RequestKind::kSelect;
      q.query = Str(f.getText());
      q.params = f.hasParams() ? Str(f.getParams()) : "{}";
      q.explain.select = SelectOptionsFromWire(f.getOptions());
      break;
    }
    case wire::Request::WATCH: {
      auto w = r.getWatch();
      q.kind = RequestKind::kWatch;
      for (auto e : w.getEntities()) q.watch.entities.push_back(Str(e));
      if (w.getHasFrom()) q.watch.from = w.getFrom();
      q.watch.wait = std::chrono::milliseconds(w.getWaitMillis());
      if (w.getMaxEvents() > 0) q.watch.max_events = w.getMaxEvents();
      q.watch.subscriber = Str(w.getSubscriber());
      break;
    }
    case wire::Request::STATS:
      q.kind = RequestKind::kStats;
      break;
    case wire::Request::GET:
      q.kind = RequestKind::kGet;
      q.entity = Str(r.getGet().getEntity());
      q.row_id = Str(r.getGet().getId());
      break;
    case wire::Request::EXPORT_ROWS:
      q.kind = RequestKind::kExportRows;
      q.text = Str(r.getExportRows());
      break;
    case wire::Request::IMPORT_ROWS: {
      auto i = r.getImportRows();
      q.kind = RequestKind::kImportRows;
      q.text = Str(i.getWhat());
      q.csv = i.getCsv();
      q.data = Str(i.getData());
      break;
    }
    case wire::Request::VACUUM:
      q.kind = RequestKind::kVacuum;
      break;
    case wire::Request::CHECK:
      q.kind = RequestKind::kCheck;
      break;
    case wire::Request::CURRENT_VERSION:
      q.kind = RequestKind::kCurrentVersion;
      break;
    case wire::Request::UPLOAD: {
      auto u = r.getUpload();
      q.kind = RequestKind::kUpload;
      q.handle = u.getHandle();
      q.offset = u.getOffset();
      q.total = u.getTotal();
      q.data = Str(u.getData());
      break;
    }
    default:
      q.kind = RequestKind::kUnknown;
      break;
  }
  return q;
}

Result<Request> ReadFrame(Frame& frame) {
  try {
    return Read(frame.reader().getRoot<wire::Request>());
  } catch (const kj::Exception& e) {
    return Malformed(e);
  }
}

void Write(const Request& q, wire::Request::Builder r) {
  r.setClient(q.client);
  r.setId(q.id);
  if (!q.key.empty()) r.setKey(AsText(q.key));
  if (!q.request_key.empty()) r.setRequestKey(AsText(q.request_key));
  if (!q.token.empty()) r.setToken(AsText(q.token));
  if (!q.act_as.empty()) r.setActAs(AsText(q.act_as));
  switch (q.kind) {
    case RequestKind::kHello: {
      auto h = r.initHello();
      h.setMinVersion(q.min_version);
      h.setMaxVersion(q.max_version);
      h.setClientName(AsText(q.client_name));
      break;
    }
    case RequestKind::kFetch: {
      auto f = r.initFetch();
      f.setQuery(AsText(q.query));
      f.setParams(AsText(q.params));
      FetchOptionsToWire(q.explain.fetch, f.initOptions());
      break;
    }
    case RequestKind::kMore: {
      auto m = r.initMore();
      m.setHandle(q.handle);
      m.setOffset(q.offset);
      break;
    }
    case RequestKind::kMutate:
      r.setMutate(AsText(q.text));
      break;
    case RequestKind::kSchemaApply: {
      auto a = r.initSchemaApply();
      a.setText(AsText(q.text));
      a.setDryRun(q.schema.dry_run);
      a.setAllowDestructive(q.schema.allow_destructive);
      a.setFileName(AsText(q.schema.file_name));
      break;
    }
    case RequestKind::kSchemaShow:
      r.initSchemaShow().setJson(q.json);
      break;
    case RequestKind::kSchemaHistory:
      r.setSchemaHistory();
      break;
    case RequestKind::kExplain: {
      auto e = r.initExplain();
      e.setQuery(AsText(q.query));
      e.setParams(AsText(q.params));
      e.setAnalyze(q.explain.analyze);
      e.setJson(q.explain.json);
      FetchOptionsToWire(q.explain.fetch, e.initOptions());
      e.setSelect(q.select);
      SelectOptionsToWire(q.explain.select, e.initSelectOptions());
      break;
    }
    case RequestKind::kSelect: {
      auto f = r.initSelect();
      f.setText(AsText(q.query));
      f.setParams(AsText(q.params));
      SelectOptionsToWire(q.explain.select, f.initOptions());
      break;
    }
    case RequestKind::kWatch: {
      auto w = r.initWatch();
      auto entities = w.initEntities(static_cast<unsigned>(q.watch.entities.size()));
      for (size_t i = 0; i < q.watch.entities.size(); ++i) {
        entities.set(static_cast<unsigned>(i), AsText(q.watch.entities[i]));
      }
      if (q.watch.from) {
        w.setFrom(*q.watch.from);
        w.setHasFrom(true);
      }
      w.setWaitMillis(static_cast<uint32_t>(
          std::min<int64_t>(q.watch.wait.count(), std::numeric_limits<uint32_t>::max())));
      w.setMaxEvents(static_cast<uint32_t>(
          std::min<size_t>(q.watch.max_events, std::numeric_limits<uint32_t>::max())));
      w.setSubscriber(AsText(q.watch.subscriber));
      break;
    }
    case RequestKind::kStats:
      r.setStats();
      break;
    case RequestKind::kGet: {
      auto g = r.initGet();
      g.setEntity(AsText(q.entity));
      g.setId(AsText(q.row_id));
      break;
    }
    case RequestKind::kExportRows:
      r.setExportRows(AsText(q.text));
      break;
    case RequestKind::kImportRows: {
      auto i = r.initImportRows();
      i.setWhat(AsText(q.text));
      i.setCsv(q.csv);
      i.setData(Data(q.data));
      break;
    }
    case RequestKind::kVacuum:
      r.setVacuum();
      break;
    case RequestKind::kCheck:
      r.setCheck();
      break;
    case RequestKind::kCurrentVersion:
      r.setCurrentVersion();
      break;
    case RequestKind::kUpload: {
      auto u = r.initUpload();
      u.setHandle(q.handle);
      u.setOffset(q.offset);
      u.setTotal(q.total);
      u.setData(Data(q.data));
      break;
    }
    case RequestKind::kUnknown:
      break;
  }
}

}  // namespace

Result<Request> DecodeRequest(Message msg, size_t max_bytes, FrameCounters* counters) {
  ORMDB_ASSIGN_OR_RETURN(auto frame, Frame::Open(std::move(msg), max_bytes, counters));
  if (frame->version() != kProtocolVersion) {
    return InvalidArgument("protocol version " + std::to_string(frame->version()) +
                           " is not spoken by this server (it speaks version " +
                           std::to_string(kProtocolVersion) + ")");
  }
  return ReadFrame(*frame);
}

Result<Request> DecodeRequestWords(Words words) {
  ORMDB_ASSIGN_OR_RETURN(auto frame, Frame::FromWords(std::move(words), false));
  return ReadFrame(*frame);
}

Result<Message> EncodeRequest(const Request& request) {
  capnp::MallocMessageBuilder b;
  Write(request, b.initRoot<wire::Request>());
  return EncodeFrame(b);
}

Words FlattenRequest(const Request& request) {
  capnp::MallocMessageBuilder b;
  Write(request, b.initRoot<wire::Request>());
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(b);
  Words out(flat.size());
  std::memcpy(out.data(), flat.begin(), flat.asBytes().size());
  return out;
}

size_t RequestFrameBytes(const Request& request) {
  capnp::MallocMessageBuilder b;
  Write(request, b.initRoot<wire::Request>());
  return capnp::computeSerializedSizeInWords(b) * sizeof(capnp::word) + kHeaderBytes;
}

// ---- Replies ----

struct ReplyWriter::Impl {
  capnp::MallocMessageBuilder builder;
  wire::Reply::Builder reply = builder.initRoot<wire::Reply>();
  size_t words = 0;  // the serialized size, once computed
};

ReplyWriter::ReplyWriter(uint64_t id) : impl_(std::make_unique<Impl>()) { impl_->reply.setId(id); }
ReplyWriter::~ReplyWriter() = default;

void ReplyWriter::Error(const Status& status) {
  auto e = impl_->reply.initError();
  e.setCode(static_cast<uint16_t>(status.code()));
  e.setMessage(status.message());
}

void ReplyWriter::Hello(uint16_t version, std::string_view server, uint64_t current_version,
                        uint64_t max_request_bytes, uint64_t max_frame_bytes, bool principals) {
  auto h = impl_->reply.initHello();
  h.setVersion(version);
  h.setServer(AsText(server));
  h.setCurrentVersion(current_version);
  h.setMaxRequestBytes(max_request_bytes);
  h.setMaxFrameBytes(max_frame_bytes);
  h.setPrincipals(principals);
}

void ReplyWriter::Fetch(const query::ResultBlocks& blocks) {
  BuildResultBlocks(blocks, impl_->reply.initFetch());
}

void ReplyWriter::Select(const query::SelectBlock& block) {
  BuildSelectBlock(block, impl_->reply.initSelect());
}

void ReplyWriter::Text(std::string_view text) { impl_->reply.setText(AsText(text)); }

void ReplyWriter::Mutate(const MutationResult& result) {
  auto m = impl_->reply.initMutate();
  m.setVersion(result.version);
  m.setJson(AsText(result.json));
}

void ReplyWriter::Migration(const MigrationReport& r) {
  auto m = impl_->reply.initMigration();
  m.setGrade(static_cast<uint8_t>(r.grade));
  auto changes = m.initChanges(static_cast<unsigned>(r.changes.size()));
  for (size_t i = 0; i < r.changes.size(); ++i) {
    changes[static_cast<unsigned>(i)].setGrade(static_cast<uint8_t>(r.changes[i].grade));
    changes[static_cast<unsigned>(i)].setDescription(r.changes[i].description);
  }
  m.setApplied(r.applied);
  m.setSchemaVersion(r.schema_version);
  m.setCommitVersion(r.commit_version);
  m.setIndexesBuilt(r.indexes_built);
  m.setRowsIndexed(r.rows_indexed);
}

void ReplyWriter::History(const std::vector<SchemaVersionInfo>& history) {
  auto list = impl_->reply.initHistory(static_cast<unsigned>(history.size()));
  for (size_t i = 0; i < history.size(); ++i) {
    const SchemaVersionInfo& v = history[i];
    auto w = list[static_cast<unsigned>(i)];
    w.setSchemaVersion(v.schema_version);
    w.setCommitVersion(v.commit_version);
    w.setTimeMicros(v.time_micros);
    w.setGrade(static_cast<uint8_t>(v.grade));
    w.setSummary(v.summary);
  }
}

void ReplyWriter::Watch(const WatchBatch& batch) {
  auto w = impl_->reply.initWatch();
  auto events = w.initEvents(static_cast<unsigned>(batch.events.size()));
  for (size_t i = 0; i < batch.events.size(); ++i) {
    events.set(static_cast<unsigned>(i), batch.events[i]);
  }
  w.setToken(batch.token);
}

void ReplyWriter::Get(const std::optional<std::string>& row) {
  auto g = impl_->reply.initGet();
  g.setFound(row.has_value());
  if (row) g.setJson(*row);
}

void ReplyWriter::ExportRows(const std::vector<std::string>& lines) {
  auto list = impl_->reply.initExportRows(static_cast<unsigned>(lines.size()));
  for (size_t i = 0; i < lines.size(); ++i) list.set(static_cast<unsigned>(i), lines[i]);
}

void ReplyWriter::ImportRows(const ImportReport& report) {
  auto out = impl_->reply.initImportRows();
  out.setRows(report.rows);
  out.setVersion(report.version);
}

void ReplyWriter::Check(const CheckResult& result) {
  auto c = impl_->reply.initCheck();
  auto problems = c.initProblems(static_cast<unsigned>(result.problems.size()));
  for (size_t i = 0; i < result.problems.size(); ++i) {
    problems.set(static_cast<unsigned>(i), result.problems[i]);
  }
  c.setSummary(result.summary);
}

void ReplyWriter::Version(uint64_t version) { impl_->reply.setVersion(version); }
void ReplyWriter::Uploaded(uint64_t bytes) { impl_->reply.setUploaded(bytes); }

bool ReplyWriter::is_error() const { return impl_->reply.isError(); }

ErrorCode ReplyWriter::error_code() const {
  if (!impl_->reply.isError()) return ErrorCode::kOk;
  return static_cast<ErrorCode>(impl_->reply.getError().getCode());
}

size_t ReplyWriter::FrameBytes() {
  impl_->words = capnp::computeSerializedSizeInWords(impl_->builder);
  return impl_->words * sizeof(capnp::word) + kHeaderBytes;
}

Result<Message> ReplyWriter::ToFrame() { return EncodeFrame(impl_->builder, impl_->words); }

Words ReplyWriter::ToWords() {
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(impl_->builder);
  Words out(flat.size());
  std::memcpy(out.data(), flat.begin(), flat.asBytes().size());
  return out;
}

Result<Message> ErrorFrame(uint64_t id, const Status& status) {
  ReplyWriter w(id);
  w.Error(status);
  return w.ToFrame();
}

Result<Message> ChunkFrame(uint64_t id, uint64_t handle, uint64_t offset, uint64_t total,
                           std::span<const uint8_t> data) {
  capnp::MallocMessageBuilder b;
  auto reply = b.initRoot<wire::Reply>();
  reply.setId(id);
  auto chunk = reply.initChunk();
  chunk.setHandle(handle);
  chunk.setOffset(offset);
  chunk.setTotal(total);
  chunk.setData(capnp::Data::Reader(data.data(), data.size()));
  return EncodeFrame(b);
}

// ---- Reading replies (client) ----

Result<std::unique_ptr<Frame>> OpenReplyFrame(Message msg, size_t max_bytes,
                                              FrameCounters* counters) {
  return Frame::Open(std::move(msg), max_bytes, counters, true);
}

Result<std::unique_ptr<Frame>> OpenReplyWords(Words words) {
  return Frame::FromWords(std::move(words), true);
}

Result<Reply> ReceiveReply(Message msg, size_t max_bytes, FrameCounters* counters,
                           std::string_view from) {
  ORMDB_ASSIGN_OR_RETURN(auto frame, OpenReplyFrame(std::move(msg), max_bytes, counters));
  if (frame->version() != kProtocolVersion) {
    return InvalidArgument("the server at " + std::string(from) + " speaks protocol version " +
                           std::to_string(frame->version()) + "; this client speaks " +
                           std::to_string(kProtocolVersion));
  }
  return DecodeReply(std::move(frame), from);
}

Result<Reply> DecodeReplyWords(Words words, std::string_view from) {
  ORMDB_ASSIGN_OR_RETURN(auto frame, OpenReplyWords(std::move(words)));
  return DecodeReply(std::move(frame), from);
}

Result<Reply> DecodeReply(std::unique_ptr<Frame> frame, std::string_view from) {
  Reply out;
  try {
    auto r = frame->reader().getRoot<wire::Reply>();
    out.id = r.getId();
    switch (r.which()) {
      case wire::Reply::ERROR: {
        out.kind = ReplyKind::kError;
        auto e = r.getError();
        std::string message = Str(e.getMessage());
        if (e.getCode() == 0 || e.getCode() > static_cast<uint16_t>(ErrorCode::kInternal)) {
          out.error = Internal("server error code " + std::to_string(e.getCode()) + ": " + message);
        } else {
          out.error = Status(static_cast<ErrorCode>(e.getCode()), std::move(message));
        }
        break;
      }
      case wire::Reply::HELLO: {
        auto h = r.getHello();
        out.kind = ReplyKind::kHello;
        out.hello_version = h.getVersion();
        out.current_version = h.getCurrentVersion();
        out.max_request_bytes = h.getMaxRequestBytes();
        out.max_frame_bytes = h.getMaxFrameBytes();
        out.principals = h.getPrincipals();
        break;
      }
      case wire::Reply::FETCH:
        out.kind = ReplyKind::kFetch;
        out.fetch = MakeWireResult(std::move(frame));
        return out;
      case wire::Reply::SELECT:
        out.kind = ReplyKind::kSelect;
        out.select = MakeWireSelectResult(std::move(frame));
        return out;
      case wire::Reply::CHUNK: {
        auto c = r.getChunk();
        out.kind = ReplyKind::kChunk;
        out.handle = c.getHandle();
        out.offset = c.getOffset();
        out.total = c.getTotal();
        out.data = Str(c.getData());
        break;
      }
      case wire::Reply::TEXT:
        out.kind = ReplyKind::kText;
        out.text = Str(r.getText());
        break;
      case wire::Reply::MUTATE:
        out.kind = ReplyKind::kMutate;
        out.mutate.version = r.getMutate().getVersion();
        out.mutate.json = Str(r.getMutate().getJson());
        break;
      case wire::Reply::MIGRATION: {
        auto m = r.getMigration();
        out.kind = ReplyKind::kMigration;
        out.migration.grade = static_cast<char>(m.getGrade());
        for (auto c : m.getChanges()) {
          out.migration.changes.push_back(
              SchemaChange{static_cast<char>(c.getGrade()), Str(c.getDescription())});
        }
        out.migration.applied = m.getApplied();
        out.migration.schema_version = m.getSchemaVersion();
        out.migration.commit_version = m.getCommitVersion();
        out.migration.indexes_built = m.getIndexesBuilt();
        out.migration.rows_indexed = m.getRowsIndexed();
        break;
      }
      case wire::Reply::HISTORY:
        out.kind = ReplyKind::kHistory;
        for (auto v : r.getHistory()) {
          out.history.push_back(
              SchemaVersionInfo{v.getSchemaVersion(), v.getCommitVersion(), v.getTimeMicros(),
                                static_cast<char>(v.getGrade()), Str(v.getSummary())});
        }
        break;
      case wire::Reply::WATCH:
        out.kind = ReplyKind::kWatch;
        for (auto e : r.getWatch().getEvents()) out.watch.events.push_back(Str(e));
        out.watch.token = r.getWatch().getToken();
        break;
      case wire::Reply::GET:
        out.kind = ReplyKind::kGet;
        if (r.getGet().getFound()) out.row = Str(r.getGet().getJson());
        break;
      case wire::Reply::EXPORT_ROWS:
        out.kind = ReplyKind::kExportRows;
        for (auto line : r.getExportRows()) out.lines.push_back(Str(line));
        break;
      case wire::Reply::IMPORT_ROWS:
        out.kind = ReplyKind::kImportRows;
        out.import.rows = r.getImportRows().getRows();
        out.import.version = r.getImportRows().getVersion();
        break;
      case wire::Reply::CHECK:
        out.kind = ReplyKind::kCheck;
        for (auto p : r.getCheck().getProblems()) out.check.problems.push_back(Str(p));
        out.check.summary = Str(r.getCheck().getSummary());
        break;
      case wire::Reply::VERSION:
        out.kind = ReplyKind::kVersion;
        out.version = r.getVersion();
        break;
      case wire::Reply::UPLOADED:
        out.kind = ReplyKind::kUploaded;
        out.uploaded = r.getUploaded();
        break;
      default:
        out.kind = ReplyKind::kUnknown;
        break;
    }
  } catch (const kj::Exception& e) {
    return Internal("malformed reply from " + std::string(from) + ": " + e.getDescription().cStr());
  }
  return out;
}

}  // namespace ormdb::protocol
