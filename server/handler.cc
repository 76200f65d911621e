#include "server/handler.h"

#include <algorithm>
#include <sstream>
#include <string>

#include "common/json.h"

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

void AddOnce(std::vector<std::string>& list, std::string_view name) {
  if (std::find(list.begin(), list.end(), name) == list.end()) list.emplace_back(name);
}

// The entity types a mutation batch names: ops[].entity, and the entity
// of ops[].relation ("Post.tags" -> Post); returns the number of
// operations. A batch that does not parse names none (the write failed on
// it anyway).
size_t DescribeBatch(std::string_view batch, HandleInfo* info) {
  auto j = ParseJson(batch);
  if (!j.ok() || !j->is_object()) return 0;
  const Json* ops = j->Find("ops");
  if (ops == nullptr || !ops->is_array()) return 0;
  for (const Json& op : ops->as_array()) {
    if (!op.is_object()) continue;
    if (const Json* e = op.Find("entity"); e != nullptr && e->is_string()) {
      AddOnce(info->entities, e->as_string());
    } else if (const Json* r = op.Find("relation"); r != nullptr && r->is_string()) {
      const std::string& rel = r->as_string();
      AddOnce(info->entities, std::string_view(rel).substr(0, rel.find('.')));
    }
  }
  return ops->size();
}

}  // namespace

void DescribeFetch(const query::ResultBlocks& blocks, HandleInfo* info) {
  info->rows = blocks.counters.entities;
  info->version = blocks.version;
  for (const query::EntityBlock& b : blocks.entities) {
    if (b.entity == nullptr) continue;
    AddOnce(info->entities, b.entity->name);
    for (const std::string& c : b.columns) AddOnce(info->fields, b.entity->name + "." + c);
  }
}

void Handle(db::Engine& db, const protocol::Request& q, protocol::ReplyWriter& reply,
            std::string_view request_key, HandleInfo* info) {
  HandleInfo ignored;
  HandleInfo& in = info != nullptr ? *info : ignored;
  switch (q.kind) {
    case RequestKind::kFetch:
      return Set(reply, db.FetchBlocks(q.query, q.params, q.explain.fetch),
                 [&](const auto& blocks) {
                   if (info) DescribeFetch(*blocks, info);
                   reply.Fetch(*blocks);
                 });
    case RequestKind::kExplain:
      return Set(reply,
                 q.select ? db.ExplainSelect(q.query, q.params, q.explain)
                          : db.Explain(q.query, q.params, q.explain),
                 [&](const std::string& text) { reply.Text(text); });
    case RequestKind::kSelect:
      return Set(reply, db.SelectBlock(q.query, q.params, q.explain.select),
                 [&](const auto& block) {
                   in.rows = block->rows;
                   in.version = block->version;
                   reply.Select(*block);
                 });
    case RequestKind::kMutate: {
      WriteOptions wo;
      wo.request_key = std::string(request_key);
      const size_t ops = info ? DescribeBatch(q.text, info) : 0;
      return Set(reply, db.Mutate(q.text, wo), [&](const MutationResult& m) {
        in.version = m.version;
        in.rows = ops;  // written only when the batch applied
        reply.Mutate(m);
      });
    }
    case RequestKind::kSchemaApply:
      return Set(reply, db.ApplySchema(q.text, q.schema), [&](const MigrationReport& m) {
        in.version = m.commit_version;
        reply.Migration(m);
      });
    case RequestKind::kSchemaShow:
      return Set(reply, q.json ? db.SchemaJson() : db.SchemaText(),
                 [&](const std::string& text) { reply.Text(text); });
    case RequestKind::kSchemaHistory:
      return Set(reply, db.SchemaHistory(), [&](const auto& h) { reply.History(h); });
    case RequestKind::kWatch: {
      WatchOptions o = q.watch;
      o.wait = std::chrono::milliseconds(0);
      return Set(reply, db.Watch(o), [&](const WatchBatch& b) {
        in.rows = b.events.size();
        in.version = b.token;
        reply.Watch(b);
      });
    }
    case RequestKind::kStats:
      return Set(reply, db.Stats(), [&](const std::string& text) { reply.Text(text); });
    case RequestKind::kGet:
      AddOnce(in.entities, q.entity);
      return Set(reply, db.Get(q.entity, q.row_id), [&](const auto& row) {
        in.rows = row.has_value() ? 1 : 0;
        reply.Get(row);
      });
    case RequestKind::kExportRows: {
      std::vector<std::string> lines;
      Status st = db.Export(q.text, [&](std::string_view line) {
        lines.emplace_back(line);
        return Status::Ok();
      });
      if (!st.ok()) return reply.Error(st);
      AddOnce(in.entities, std::string_view(q.text).substr(0, q.text.find('.')));
      in.rows = lines.size();
      return reply.ExportRows(lines);
    }
    case RequestKind::kImportRows: {
      std::istringstream data(q.data);
      ImportOptions o;
      o.format = q.csv ? ImportOptions::Format::kCsv : ImportOptions::Format::kJsonLines;
      o.request_key = std::string(request_key);
      AddOnce(in.entities, std::string_view(q.text).substr(0, q.text.find('.')));
      return Set(reply, db.Import(q.text, data, o), [&](const ImportReport& r) {
        in.rows = r.rows;
        in.version = r.version;
        reply.ImportRows(r);
      });
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
