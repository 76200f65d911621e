#include "server/handler.h"

#include <sstream>
#include <string>

#include "protocol/result_wire.h"

namespace ormdb::server {
namespace {

std::string_view View(capnp::Text::Reader t) { return std::string_view(t.begin(), t.size()); }

void SetMigration(const MigrationReport& r, wire::Migration::Builder m) {
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

void SetText(wire::Reply::Builder reply, const Result<std::string>& r) {
  if (!r.ok()) return SetError(reply, r.status());
  reply.setText(*r);
}

void SetFetch(wire::Reply::Builder reply,
              const Result<std::shared_ptr<const query::ResultBlocks>>& r) {
  if (!r.ok()) return SetError(reply, r.status());
  protocol::BuildResultBlocks(**r, reply.initFetch());
}

void SetWatch(wire::Reply::Builder reply, const Result<WatchBatch>& r) {
  if (!r.ok()) return SetError(reply, r.status());
  auto w = reply.initWatch();
  auto events = w.initEvents(static_cast<unsigned>(r->events.size()));
  for (size_t i = 0; i < r->events.size(); ++i) events.set(static_cast<unsigned>(i), r->events[i]);
  w.setToken(r->token);
}

}  // namespace

Access RequiredAccess(wire::Request::Which which) {
  switch (which) {
    case wire::Request::HELLO:
      return Access::kNone;
    case wire::Request::MUTATE:
    case wire::Request::IMPORT_ROWS:
      return Access::kWrite;
    case wire::Request::SCHEMA_APPLY:
    case wire::Request::VACUUM:
      return Access::kAdmin;
    default:
      return Access::kRead;
  }
}

void SetError(wire::Reply::Builder reply, const Status& status) {
  auto e = reply.initError();
  e.setCode(static_cast<uint16_t>(status.code()));
  e.setMessage(status.message());
}

void Handle(db::Engine& db, wire::Request::Reader request, wire::Reply::Builder reply,
            std::chrono::milliseconds max_watch_wait, std::string_view request_key) {
  switch (request.which()) {
    case wire::Request::FETCH: {
      auto f = request.getFetch();
      return SetFetch(reply,
                      db.FetchBlocks(View(f.getQuery()), f.hasParams() ? View(f.getParams()) : "{}",
                               protocol::FetchOptionsFromWire(f.getOptions())));
    }
    case wire::Request::EXPLAIN: {
      auto e = request.getExplain();
      ExplainOptions o;
      o.analyze = e.getAnalyze();
      o.json = e.getJson();
      o.fetch = protocol::FetchOptionsFromWire(e.getOptions());
      return SetText(reply,
                     db.Explain(View(e.getQuery()), e.hasParams() ? View(e.getParams()) : "{}", o));
    }
    case wire::Request::MUTATE: {
      WriteOptions wo;
      wo.request_key = std::string(request_key);
      auto r = db.Mutate(View(request.getMutate()), wo);
      if (!r.ok()) return SetError(reply, r.status());
      auto m = reply.initMutate();
      m.setVersion(r->version);
      m.setJson(r->json);
      return;
    }
    case wire::Request::SCHEMA_APPLY: {
      auto a = request.getSchemaApply();
      ApplySchemaOptions o;
      o.dry_run = a.getDryRun();
      o.allow_destructive = a.getAllowDestructive();
      if (a.hasFileName()) o.file_name = std::string(View(a.getFileName()));
      auto r = db.ApplySchema(View(a.getText()), o);
      if (!r.ok()) return SetError(reply, r.status());
      return SetMigration(*r, reply.initMigration());
    }
    case wire::Request::SCHEMA_SHOW:
      return SetText(reply, request.getSchemaShow().getJson() ? db.SchemaJson() : db.SchemaText());
    case wire::Request::SCHEMA_HISTORY: {
      auto r = db.SchemaHistory();
      if (!r.ok()) return SetError(reply, r.status());
      auto list = reply.initHistory(static_cast<unsigned>(r->size()));
      for (size_t i = 0; i < r->size(); ++i) {
        const SchemaVersionInfo& v = (*r)[i];
        auto w = list[static_cast<unsigned>(i)];
        w.setSchemaVersion(v.schema_version);
        w.setCommitVersion(v.commit_version);
        w.setTimeMicros(v.time_micros);
        w.setGrade(static_cast<uint8_t>(v.grade));
        w.setSummary(v.summary);
      }
      return;
    }
    case wire::Request::WATCH: {
      auto w = request.getWatch();
      WatchOptions o;
      for (auto e : w.getEntities()) o.entities.emplace_back(View(e));
      if (w.getHasFrom()) o.from = w.getFrom();
      o.wait = std::min(std::chrono::milliseconds(w.getWaitMillis()), max_watch_wait);
      if (w.getMaxEvents() > 0) o.max_events = w.getMaxEvents();
      o.subscriber = std::string(View(w.getSubscriber()));
      return SetWatch(reply, db.Watch(o));
    }
    case wire::Request::STATS:
      return SetText(reply, db.Stats());
    case wire::Request::GET: {
      auto g = request.getGet();
      auto r = db.Get(View(g.getEntity()), View(g.getId()));
      if (!r.ok()) return SetError(reply, r.status());
      auto out = reply.initGet();
      out.setFound(r->has_value());
      if (*r) out.setJson(**r);
      return;
    }
    case wire::Request::EXPORT_ROWS: {
      std::vector<std::string> lines;
      Status st = db.Export(View(request.getExportRows()), [&](std::string_view line) {
        lines.emplace_back(line);
        return Status::Ok();
      });
      if (!st.ok()) return SetError(reply, st);
      auto list = reply.initExportRows(static_cast<unsigned>(lines.size()));
      for (size_t i = 0; i < lines.size(); ++i) list.set(static_cast<unsigned>(i), lines[i]);
      return;
    }
    case wire::Request::IMPORT_ROWS: {
      auto imp = request.getImportRows();
      auto data = imp.getData();
      std::istringstream in(std::string(reinterpret_cast<const char*>(data.begin()), data.size()));
      ImportOptions o;
      o.format = imp.getCsv() ? ImportOptions::Format::kCsv : ImportOptions::Format::kJsonLines;
      o.request_key = std::string(request_key);
      auto r = db.Import(View(imp.getWhat()), in, o);
      if (!r.ok()) return SetError(reply, r.status());
      auto out = reply.initImportRows();
      out.setRows(r->rows);
      out.setVersion(r->version);
      return;
    }
    case wire::Request::VACUUM:
      return SetText(reply, db.Vacuum());
    case wire::Request::CHECK: {
      auto r = db.Check();
      if (!r.ok()) return SetError(reply, r.status());
      auto c = reply.initCheck();
      auto problems = c.initProblems(static_cast<unsigned>(r->problems.size()));
      for (size_t i = 0; i < r->problems.size(); ++i) {
        problems.set(static_cast<unsigned>(i), r->problems[i]);
      }
      c.setSummary(r->summary);
      return;
    }
    case wire::Request::CURRENT_VERSION:
      reply.setVersion(db.CurrentVersion());
      return;
    case wire::Request::HELLO:
    case wire::Request::MORE:
    case wire::Request::UPLOAD:
      return SetError(reply, Internal("hello, more and upload are answered by the server"));
  }
  SetError(reply, InvalidArgument("unknown request kind " +
                                  std::to_string(static_cast<int>(request.which())) +
                                  " (a newer client?)"));
}

}  // namespace ormdb::server
