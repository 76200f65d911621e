#include "server/handler.h"

#include <sstream>
#include <string>

namespace ormdb::server {

using protocol::RequestKind;

Access RequiredAccess(RequestKind kind) {
  switch (kind) {
    case RequestKind::kHello:
      return Access::kNone;
    case RequestKind::kMutate:
    case RequestKind::kImportRows:
      return Access::kWrite;
    case RequestKind::kSchemaApply:
    case RequestKind::kVacuum:
      return Access::kAdmin;
    default:
      return Access::kRead;
  }
}

namespace {

template <typename T, typename Fn>
void Set(protocol::ReplyWriter& reply, const Result<T>& r, Fn&& set) {
  if (!r.ok()) return reply.Error(r.status());
  set(*r);
}

}  // namespace

void Handle(db::Engine& db, const protocol::Request& q, protocol::ReplyWriter& reply,
            std::string_view request_key) {
  switch (q.kind) {
    case RequestKind::kFetch:
      return Set(reply, db.FetchBlocks(q.query, q.params, q.explain.fetch),
                 [&](const auto& blocks) { reply.Fetch(*blocks); });
    case RequestKind::kExplain:
      return Set(reply,
                 q.select ? db.ExplainSelect(q.query, q.params, q.explain)
                          : db.Explain(q.query, q.params, q.explain),
                 [&](const std::string& text) { reply.Text(text); });
    case RequestKind::kSelect:
      return Set(reply, db.SelectBlock(q.query, q.params, q.explain.select),
                 [&](const auto& block) { reply.Select(*block); });
    case RequestKind::kMutate: {
      WriteOptions wo;
      wo.request_key = std::string(request_key);
      return Set(reply, db.Mutate(q.text, wo), [&](const MutationResult& m) { reply.Mutate(m); });
    }
    case RequestKind::kSchemaApply:
      return Set(reply, db.ApplySchema(q.text, q.schema),
                 [&](const MigrationReport& m) { reply.Migration(m); });
    case RequestKind::kSchemaShow:
      return Set(reply, q.json ? db.SchemaJson() : db.SchemaText(),
                 [&](const std::string& text) { reply.Text(text); });
    case RequestKind::kSchemaHistory:
      return Set(reply, db.SchemaHistory(), [&](const auto& h) { reply.History(h); });
    case RequestKind::kWatch: {
      WatchOptions o = q.watch;
      o.wait = std::chrono::milliseconds(0);
      return Set(reply, db.Watch(o), [&](const WatchBatch& b) { reply.Watch(b); });
    }
    case RequestKind::kStats:
      return Set(reply, db.Stats(), [&](const std::string& text) { reply.Text(text); });
    case RequestKind::kGet:
      return Set(reply, db.Get(q.entity, q.row_id), [&](const auto& row) { reply.Get(row); });
    case RequestKind::kExportRows: {
      std::vector<std::string> lines;
      Status st = db.Export(q.text, [&](std::string_view line) {
        lines.emplace_back(line);
        return Status::Ok();
      });
      if (!st.ok()) return reply.Error(st);
      return reply.ExportRows(lines);
    }
    case RequestKind::kImportRows: {
      std::istringstream in(q.data);
      ImportOptions o;
      o.format = q.csv ? ImportOptions::Format::kCsv : ImportOptions::Format::kJsonLines;
      o.request_key = std::string(request_key);
      return Set(reply, db.Import(q.text, in, o),
                 [&](const ImportReport& r) { reply.ImportRows(r); });
    }
    case RequestKind::kVacuum:
      return Set(reply, db.Vacuum(), [&](const std::string& text) { reply.Text(text); });
    case RequestKind::kCheck:
      return Set(reply, db.Check(), [&](const CheckResult& c) { reply.Check(c); });
    case RequestKind::kCurrentVersion:
      return reply.Version(db.CurrentVersion());
    case RequestKind::kHello:
    case RequestKind::kMore:
    case RequestKind::kUpload:
      return reply.Error(Internal("hello, more and upload are answered by the server"));
    case RequestKind::kUnknown:
      break;
  }
  reply.Error(InvalidArgument("unknown request kind " + std::to_string(q.wire_kind) +
                              " (a newer client?)"));
}

}  // namespace ormdb::server
