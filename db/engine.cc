// The embedded implementation of ormdb::Database (db::Engine): the storage
// engine, the catalog and the query layer in the application's process.
#include "db/engine.h"

#include <chrono>
#include <optional>

#include "catalog/catalog.h"
#include "catalog/maintained.h"
#include "catalog/schema_json.h"
#include "common/json.h"
#include "db/change_stream.h"
#include "observability/metrics.h"
#include "ormdb/database.h"
#include "query/fetch_engine.h"
#include "query/import.h"
#include "query/json_values.h"
#include "query/mutation.h"
#include "query/policy.h"
#include "query/result_blocks.h"
#include "query/select_engine.h"
#include "storage/store.h"

namespace ormdb {
namespace {

// Rows per short read transaction when exporting.
constexpr size_t kExportChunk = 1000;

MigrationReport ToReport(const catalog::ApplyResult& r) {
  MigrationReport out;
  out.grade = static_cast<char>(r.plan.grade);
  for (const catalog::MigrationChange& c : r.plan.changes) {
    out.changes.push_back(SchemaChange{static_cast<char>(c.grade), c.description});
  }
  out.applied = r.applied;
  out.schema_version = r.number;
  out.commit_version = r.commit_version;
  out.indexes_built = r.indexes_built;
  out.rows_indexed = r.rows_indexed;
  return out;
}

// What every handle on one open database shares: the owner's and the views
// acting for principals (Database::As). Torn down when the last goes.
struct EngineCore {
  EngineCore(std::unique_ptr<storage::Store> s, std::unique_ptr<catalog::Catalog> c,
             const OpenOptions& options)
      : store(std::move(s)),
        catalog(std::move(c)),
        fetch(std::make_unique<query::FetchEngine>(store.get(), catalog.get(), options.budget,
                                                   options.plan_cache_entries)),
        select(std::make_unique<query::SelectEngine>(fetch.get(), store->database_id())),
        streams(std::make_unique<ChangeStreams>(store.get(), catalog.get(),
                                                options.subscriber_max_lag_versions,
                                                options.subscriber_idle_seconds)) {}
  ~EngineCore() {
    streams.reset();
    select.reset();
    fetch.reset();
    catalog.reset();
    store.reset();
  }

  // What the fetches returned and read, updated together once per fetch.
  enum FetchCounter : size_t {
    kFetches,
    kEntities,
    kEdges,
    kBytes,
    kScanned,
    kReads,
    kTruncated,
    kFetchCounters
  };
  observability::CounterSet<kFetchCounters> fetch_counters;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<query::FetchEngine> fetch;
  std::unique_ptr<query::SelectEngine> select;
  std::unique_ptr<ChangeStreams> streams;
};

// The embedded database: the owner's handle (no principal: every rule is
// bypassed) or a view acting for a principal (docs/reference/policies.md).
class EmbeddedDatabase final : public db::Engine {
 public:
  EmbeddedDatabase(std::shared_ptr<EngineCore> core, std::optional<Principal> principal)
      : core_(std::move(core)),
        principal_(std::move(principal)),
        fetch_counters_(core_->fetch_counters),
        store_(core_->store.get()),
        catalog_(core_->catalog.get()),
        fetch_(core_->fetch.get()),
        select_(core_->select.get()),
        streams_(core_->streams.get()) {}

  Result<std::unique_ptr<Database>> As(const Principal& principal) override {
    ORMDB_RETURN_IF_ERROR(CheckCanActAs());
    return std::unique_ptr<Database>(new EmbeddedDatabase(core_, principal));
  }

  Result<std::unique_ptr<db::Engine>> AsEngine(const Principal& principal) override {
    ORMDB_RETURN_IF_ERROR(CheckCanActAs());
    return std::unique_ptr<db::Engine>(new EmbeddedDatabase(core_, principal));
  }

  // The principal the policies apply for: nullptr for the owner and for an
  // admin (both bypass them).
  const Principal* Who() const {
    if (!principal_ || principal_->HasRole("admin")) return nullptr;
    return &*principal_;
  }

  // PERMISSION_DENIED unless the handle may do what only an administrator
  // may (schema changes, export, import, vacuum, check).
  Status RequireAdmin(std::string_view what) const {
    if (Who() == nullptr) return Status::Ok();
    return Status(ErrorCode::kPermissionDenied,
                  "permission denied: " + std::string(what) + " needs the admin role");
  }

  Status CheckCanActAs() const {
    if (Who() == nullptr || principal_->HasRole("impersonate")) return Status::Ok();
    return Status(ErrorCode::kPermissionDenied,
                  "permission denied: acting for another principal needs the admin or "
                  "impersonate role");
  }

  Result<MigrationReport> ApplySchema(std::string_view text,
                                      const ApplySchemaOptions& options) override {
    ORMDB_RETURN_IF_ERROR(RequireAdmin("schema apply"));
    catalog::ApplyOptions o;
    o.dry_run = options.dry_run;
    o.allow_destructive = options.allow_destructive;
    o.file_name = options.file_name;
    o.progress = options.progress;
    const std::string file_name = options.file_name;
    o.validate = [file_name](const catalog::CompiledSchema& next) -> Status {
      // The rules' conditions, checked against the new schema. The set is
      // built again (and cached) when the schema is first read.
      std::shared_ptr<const catalog::CompiledSchema> alias(
          std::shared_ptr<const catalog::CompiledSchema>(), &next);
      return query::PolicySet::Build(alias, file_name).status();
    };
    ORMDB_ASSIGN_OR_RETURN(catalog::ApplyResult r, catalog_->Apply(text, o));
    return ToReport(r);
  }

  Result<std::string> SchemaText() override {
    if (!catalog_->current()) return NotFound("no schema has been applied");
    return catalog_->CurrentText();
  }

  Result<std::string> SchemaJson() override {
    auto s = catalog_->current();
    if (!s) return NotFound("no schema has been applied");
    return ToJson(catalog::SchemaToJson(*s));
  }

  Result<std::vector<SchemaVersionInfo>> SchemaHistory() override {
    std::vector<SchemaVersionInfo> out;
    for (const catalog::SchemaHistoryEntry& e : catalog_->History()) {
      out.push_back(SchemaVersionInfo{e.number, e.commit_version, e.time_micros,
                                      static_cast<char>(e.grade), e.summary});
    }
    return out;
  }

  Result<MutationResult> Mutate(std::string_view batch_json, const WriteOptions& options) override {
    ORMDB_RETURN_IF_ERROR(CheckRequestKey(options.request_key));
    if (auto done = FindOutcome(options.request_key)) return *done;
    ORMDB_ASSIGN_OR_RETURN(query::MutationBatch batch, query::ParseMutationBatch(batch_json));
    return Run(batch, options.request_key);
  }

  // A write with a request key records its outcome in its own transaction;
  // a write whose key is already recorded (a resend that raced the first
  // into the same or a later group) is not applied: it fails with this
  // marker and returns the recorded outcome.
  static constexpr std::string_view kAlreadyApplied = "request already applied";

  Status CheckRequestKey(const std::string& key) {
    if (key.size() > storage::kMaxRequestKeyBytes) {
      return InvalidArgument("a request key is at most " +
                             std::to_string(storage::kMaxRequestKeyBytes) + " bytes, not " +
                             std::to_string(key.size()));
    }
    return Status::Ok();
  }

  // The outcome recorded for `key`, if any (nullopt also for an empty key).
  std::optional<Result<MutationResult>> FindOutcome(const std::string& key) {
    if (key.empty()) return std::nullopt;
    auto txn = store_->BeginRead();
    if (!txn.ok()) return Result<MutationResult>(txn.status());
    auto found = (*txn)->FindRequest(key);
    if (!found.ok()) return Result<MutationResult>(found.status());
    if (!found->has_value()) return std::nullopt;
    return Result<MutationResult>(MutationResult{(*found)->version, (*found)->outcome});
  }

  Result<MutationResult> Run(const query::MutationBatch& batch, const std::string& request_key) {
    query::MutationResult result;
    catalog::LayoutLookup layouts = catalog_->layouts();
    auto version = store_->Commit([&](storage::WriteTxn& txn) -> Status {
      if (!request_key.empty()) {
        ORMDB_ASSIGN_OR_RETURN(auto earlier, txn.FindRequest(request_key));
        if (earlier) return Status(ErrorCode::kConflict, std::string(kAlreadyApplied));
      }
      result = query::MutationResult();
      ORMDB_ASSIGN_OR_RETURN(auto schema, catalog_->SchemaIn(txn));
      // Who wrote it, in the write's own transaction (not a change event).
      if (principal_) txn.Annotate("principal " + principal_->ToJson());
      query::WritePolicy policy;
      std::shared_ptr<const query::PolicySet> rules;
      if (const Principal* who = Who()) {
        ORMDB_ASSIGN_OR_RETURN(rules, fetch_->Policies(schema));
        policy.set = rules.get();
        policy.principal = who;
      }
      ORMDB_RETURN_IF_ERROR(query::ApplyMutations(txn, *schema, layouts, batch, &result,
                                                  policy.set ? &policy : nullptr));
      if (request_key.empty()) return Status::Ok();
      result.version = txn.version();
      return txn.RecordRequest(request_key, result.ToJsonText());
    });
    if (!version.ok()) {
      if (version.status().code() == ErrorCode::kConflict &&
          version.status().message() == kAlreadyApplied) {
        if (auto done = FindOutcome(request_key)) return *done;
        return Internal("request outcome vanished after it was found");
      }
      return version.status();
    }
    result.version = *version;
    return MutationResult{*version, result.ToJsonText()};
  }

  Result<std::optional<std::string>> Get(std::string_view entity, std::string_view id) override {
    auto schema = catalog_->current();
    if (!schema) return SchemaError("no schema has been applied");
    ORMDB_ASSIGN_OR_RETURN(const catalog::EntityInfo* e, schema->RequireEntity(entity));
    Json idj;
    auto parsed = ParseJson(id);
    idj = parsed.ok() ? std::move(*parsed) : Json(std::string(id));
    ORMDB_ASSIGN_OR_RETURN(auto txn, store_->BeginRead());
    auto rid = query::ResolveExternalId(*txn, *e, idj);
    if (!rid.ok()) {
      if (rid.status().code() == ErrorCode::kNotFound) return std::optional<std::string>();
      return rid.status();
    }
    ORMDB_ASSIGN_OR_RETURN(auto rec, txn->Get(e->id, *rid));
    if (!rec) return std::optional<std::string>();
    catalog::LayoutLookup layouts = catalog_->layouts();
    ORMDB_ASSIGN_OR_RETURN(
        catalog::DecodedRow row,
        catalog::DecodeEntityRow(rec->bytes_in_txn, *e, schema->number(), layouts));
    ORMDB_ASSIGN_OR_RETURN(Json obj, query::RowToJson(*txn, *schema, layouts, *e, *rid, row));
    if (const Principal* who = Who()) {
      // A row the principal may not read is absent for it; fields it may
      // not read are null.
      ORMDB_ASSIGN_OR_RETURN(std::shared_ptr<const query::PolicySet> rules,
                             fetch_->Policies(schema));
      query::RowLookup lookup = query::StoredRowLookup(*txn, *schema, layouts, *e, *rid, row);
      ORMDB_ASSIGN_OR_RETURN(bool readable, query::RowReadable(*rules, *who, *e, lookup));
      if (!readable) return std::optional<std::string>();
      for (size_t i = 0; i < e->fields.size(); ++i) {
        ORMDB_ASSIGN_OR_RETURN(bool ok, query::FieldReadable(*rules, *who, *e, i, lookup));
        if (!ok) obj.Set(e->fields[i].name, Json());
      }
    }
    return std::optional<std::string>(ToJson(obj));
  }

  Status Export(std::string_view what,
                const std::function<Status(std::string_view line)>& sink) override {
    ORMDB_RETURN_IF_ERROR(RequireAdmin("export"));
    auto schema = catalog_->current();
    if (!schema) return SchemaError("no schema has been applied");
    Version at = store_->current_version();
    ORMDB_ASSIGN_OR_RETURN(storage::SnapshotPin pin, store_->Pin(at));
    if (what.find('.') != std::string_view::npos) return ExportRelation(*schema, what, at, sink);
    ORMDB_ASSIGN_OR_RETURN(const catalog::EntityInfo* e, schema->RequireEntity(what));
    catalog::LayoutLookup layouts = catalog_->layouts();
    RowId start = 0;
    bool more = true;
    while (more) {
      more = false;
      std::vector<std::string> lines;
      {
        ORMDB_ASSIGN_OR_RETURN(auto txn, store_->BeginRead(at));
        Status st;
        ORMDB_RETURN_IF_ERROR(txn->ScanRows(
            e->id, start, storage::ScanDirection::kForward,
            [&](RowId id, const storage::RowRecord& rec) {
              if (lines.size() == kExportChunk) {
                more = true;
                start = id;
                return false;
              }
              auto row = catalog::DecodeEntityRow(rec.bytes_in_txn, *e, schema->number(), layouts);
              if (!row.ok()) {
                st = row.status();
                return false;
              }
              auto obj = query::RowToJson(*txn, *schema, layouts, *e, id, *row);
              if (!obj.ok()) {
                st = obj.status();
                return false;
              }
              lines.push_back(ToJson(*obj));
              return true;
            }));
        ORMDB_RETURN_IF_ERROR(st);
      }
      for (const std::string& l : lines) ORMDB_RETURN_IF_ERROR(sink(l));
    }
    return Status::Ok();
  }

  Status ExportRelation(const catalog::CompiledSchema& schema, std::string_view what, Version at,
                        const std::function<Status(std::string_view line)>& sink) {
    ORMDB_ASSIGN_OR_RETURN(auto rel, schema.FindRelation(what));
    auto [edge, forward] = rel;
    const catalog::EntityInfo* from_e = schema.EntityById(forward ? edge->from : edge->to);
    const catalog::EntityInfo* to_e = schema.EntityById(forward ? edge->to : edge->from);
    catalog::LayoutLookup layouts = catalog_->layouts();
    auto external = [&](storage::TxnReader& txn, const catalog::EntityInfo& e,
                        RowId id) -> Result<Json> {
      if (!e.uuid_id) return Json(static_cast<int64_t>(id));
      ORMDB_ASSIGN_OR_RETURN(auto rec, txn.Get(e.id, id));
      if (!rec) return Json();
      ORMDB_ASSIGN_OR_RETURN(
          catalog::DecodedRow row,
          catalog::DecodeEntityRow(rec->bytes_in_txn, e, schema.number(), layouts));
      return query::ValueToJson(row.uuid);
    };
    RowId start = 0;
    bool more = true;
    while (more) {
      more = false;
      std::vector<std::string> lines;
      {
        ORMDB_ASSIGN_OR_RETURN(auto txn, store_->BeginRead(at));
        std::vector<RowId> froms;
        ORMDB_RETURN_IF_ERROR(txn->ScanRows(from_e->id, start, storage::ScanDirection::kForward,
                                            [&](RowId id, const storage::RowRecord&) {
                                              if (froms.size() == kExportChunk) {
                                                more = true;
                                                start = id;
                                                return false;
                                              }
                                              froms.push_back(id);
                                              return true;
                                            }));
        for (RowId from : froms) {
          std::vector<RowId> tos;
          ORMDB_RETURN_IF_ERROR(txn->ScanEdges(
              edge->id,
              forward ? storage::EdgeDirection::kForward : storage::EdgeDirection::kBackward, from,
              [&](RowId to) {
                tos.push_back(to);
                return true;
              }));
          for (RowId to : tos) {
            Json line = Json::Object();
            ORMDB_ASSIGN_OR_RETURN(Json fj, external(*txn, *from_e, from));
            ORMDB_ASSIGN_OR_RETURN(Json tj, external(*txn, *to_e, to));
            line.Set("from", std::move(fj));
            line.Set("to", std::move(tj));
            lines.push_back(ToJson(line));
          }
        }
      }
      for (const std::string& l : lines) ORMDB_RETURN_IF_ERROR(sink(l));
    }
    return Status::Ok();
  }

  Result<ImportReport> Import(std::string_view what, std::istream& in,
                              const ImportOptions& options) override {
    ORMDB_RETURN_IF_ERROR(RequireAdmin("import"));
    ORMDB_RETURN_IF_ERROR(CheckRequestKey(options.request_key));
    if (auto done = FindOutcome(options.request_key)) {
      if (!done->ok()) return done->status();
      return ImportFromOutcome(**done);
    }
    auto schema = catalog_->current();
    if (!schema) return SchemaError("no schema has been applied");
    std::function<void(uint64_t)> progress;
    if (options.progress) {
      progress = [&](uint64_t lines) { options.progress("read", lines, 0); };
    }
    ORMDB_ASSIGN_OR_RETURN(query::MutationBatch batch,
                           query::ReadImport(*schema, what,
                                             options.format == ImportOptions::Format::kCsv
                                                 ? query::ImportFormat::kCsv
                                                 : query::ImportFormat::kJsonLines,
                                             in, progress));
    ImportReport report;
    report.rows = batch.ops.size();
    if (report.rows == 0) {
      report.version = store_->current_version();
      return report;
    }
    if (options.progress) options.progress("write", 0, report.rows);
    ORMDB_ASSIGN_OR_RETURN(MutationResult r, Run(batch, options.request_key));
    if (!options.request_key.empty()) return ImportFromOutcome(r);
    if (options.progress) options.progress("write", report.rows, report.rows);
    report.version = r.version;
    return report;
  }

  Result<std::unique_ptr<FetchResult>> Fetch(std::string_view query, std::string_view params_json,
                                             const FetchOptions& options) override {
    ORMDB_ASSIGN_OR_RETURN(auto blocks, fetch_->Fetch(query, params_json, options, Who()));
    CountFetch(blocks->counters);
    return query::MakeFetchResult(query::ReadBlocks(std::move(blocks)));
  }

  Result<std::shared_ptr<const query::ResultBlocks>> FetchBlocks(
      std::string_view query, std::string_view params_json, const FetchOptions& options) override {
    ORMDB_ASSIGN_OR_RETURN(auto blocks, fetch_->Fetch(query, params_json, options, Who()));
    CountFetch(blocks->counters);
    return std::shared_ptr<const query::ResultBlocks>(std::move(blocks));
  }

  db::EngineMetrics Metrics() override {
    db::EngineMetrics m;
    m.store = store_->stats();
    m.fetches = fetch_counters_.value(EngineCore::kFetches);
    m.fetch_entities = fetch_counters_.value(EngineCore::kEntities);
    m.fetch_edges = fetch_counters_.value(EngineCore::kEdges);
    m.fetch_bytes = fetch_counters_.value(EngineCore::kBytes);
    m.fetch_scanned_rows = fetch_counters_.value(EngineCore::kScanned);
    m.fetch_reads = fetch_counters_.value(EngineCore::kReads);
    m.fetches_truncated = fetch_counters_.value(EngineCore::kTruncated);
    query::PlanCacheStats cache = fetch_->cache_stats();
    m.plan_cache_hits = cache.hits;
    m.plan_cache_misses = cache.misses;
    m.plan_cache_entries = cache.entries;
    ChangeStreams::SubscriberStats subs = streams_->subscriber_stats();
    m.subscribers = subs.subscribers;
    if (subs.subscribers > 0 && m.store.current_version > subs.oldest_token) {
      m.subscriber_max_lag = m.store.current_version - subs.oldest_token;
    }
    return m;
  }

  Result<std::string> Explain(std::string_view query, std::string_view params_json,
                              const ExplainOptions& options) override {
    return fetch_->Explain(query, params_json, options.fetch, options.analyze, options.json, Who());
  }

  Result<std::unique_ptr<SelectResult>> Select(std::string_view text, std::string_view params_json,
                                               const SelectOptions& options) override {
    ORMDB_ASSIGN_OR_RETURN(auto block, select_->Select(text, params_json, options, Who()));
    return query::MakeSelectResult(std::move(block));
  }

  Result<std::shared_ptr<const query::SelectBlock>> SelectBlock(
      std::string_view text, std::string_view params_json, const SelectOptions& options) override {
    ORMDB_ASSIGN_OR_RETURN(auto block, select_->Select(text, params_json, options, Who()));
    return std::shared_ptr<const query::SelectBlock>(std::move(block));
  }

  Result<std::string> ExplainSelect(std::string_view text, std::string_view params_json,
                                    const ExplainOptions& options) override {
    return select_->Explain(text, params_json, options.select, options.analyze, options.json,
                            Who());
  }

  // An import's outcome is its batch's: one result per row written.
  static Result<ImportReport> ImportFromOutcome(const MutationResult& r) {
    ORMDB_ASSIGN_OR_RETURN(Json j, ParseJson(r.json));
    ImportReport report;
    report.version = r.version;
    if (const Json* results = j.Find("results"); results && results->is_array()) {
      report.rows = results->as_array().size();
    }
    return report;
  }

  Result<WatchBatch> Watch(const WatchOptions& options) override {
    if (Who() == nullptr) return streams_->Pull(options);
    StreamViewer viewer;
    viewer.principal = Who();
    viewer.policies = [this](const std::shared_ptr<const catalog::CompiledSchema>& schema) {
      return fetch_->Policies(schema);
    };
    return streams_->Pull(options, &viewer);
  }

  uint64_t WaitForVersionAfter(uint64_t version, std::chrono::milliseconds timeout) override {
    return store_->WaitForVersionAfter(version, timeout);
  }

  Result<std::string> Stats() override {
    storage::StoreStats st = store_->stats();
    ORMDB_ASSIGN_OR_RETURN(storage::TableSizes sizes, store_->table_sizes());
    Json out = Json::Object();
    out.Set("data", store_->dir());
    out.Set("current_version", static_cast<int64_t>(st.current_version));
    out.Set("oldest_readable_version", static_cast<int64_t>(st.oldest_readable_version));
    out.Set("row_versions", static_cast<int64_t>(sizes.row_versions));
    out.Set("index_entries", static_cast<int64_t>(sizes.index_entries));
    out.Set("edge_entries", static_cast<int64_t>(sizes.edge_entries));
    out.Set("log_entries", static_cast<int64_t>(sizes.log_entries));
    out.Set("request_entries", static_cast<int64_t>(sizes.request_entries));
    out.Set("map_size", static_cast<int64_t>(st.map_size));
    out.Set("transactions_committed", static_cast<int64_t>(st.transactions_committed));
    out.Set("group_commits", static_cast<int64_t>(st.group_commits));
    out.Set("pinned_versions", static_cast<int64_t>(st.pinned_versions));
    // Live rows per entity of the current schema, in declaration order, from
    // the store's counters (no scan).
    ORMDB_ASSIGN_OR_RETURN(std::vector<storage::RowCount> counts, store_->RowCounts());
    Json rows = Json::Object();
    if (auto schema = catalog_->current()) {
      for (const catalog::EntityInfo& e : schema->entities()) {
        uint64_t n = 0;
        for (const storage::RowCount& c : counts) {
          if (c.type == e.id) n = c.rows;
        }
        rows.Set(e.name, static_cast<int64_t>(n));
      }
    }
    out.Set("rows", std::move(rows));
    return ToJson(out);
  }

  Result<std::string> Vacuum() override {
    ORMDB_RETURN_IF_ERROR(RequireAdmin("vacuum"));
    streams_->ExpirePins();
    ORMDB_ASSIGN_OR_RETURN(storage::VacuumStats r, store_->Vacuum());
    Json out = Json::Object();
    out.Set("horizon", static_cast<int64_t>(r.horizon));
    out.Set("row_versions_removed", static_cast<int64_t>(r.row_versions_removed));
    out.Set("index_entries_removed", static_cast<int64_t>(r.index_entries_removed));
    out.Set("edges_removed", static_cast<int64_t>(r.edges_removed));
    out.Set("log_entries_removed", static_cast<int64_t>(r.log_entries_removed));
    out.Set("steps", static_cast<int64_t>(r.steps));
    return ToJson(out);
  }

  Result<CheckResult> Check() override {
    ORMDB_RETURN_IF_ERROR(RequireAdmin("check"));
    ORMDB_ASSIGN_OR_RETURN(storage::CheckReport r, store_->Check());
    CheckResult out;
    out.problems = r.problems;
    if (auto schema = catalog_->current()) {
      ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<storage::ReadTxn> txn, store_->BeginRead());
      ORMDB_RETURN_IF_ERROR(
          catalog::CheckMaintained(*txn, *schema, catalog_->layouts(), &out.problems));
    }
    out.summary =
        "ok: version " + std::to_string(r.current_version) + ", " + std::to_string(r.row_versions) +
        " row versions, " + std::to_string(r.index_entries) + " index entries, " +
        std::to_string(r.edge_entries) + " edge entries, " + std::to_string(r.log_entries) +
        " log entries, " + std::to_string(r.live_rows) + " live rows";
    return out;
  }

  uint64_t CurrentVersion() override { return store_->current_version(); }

 private:
  void CountFetch(const query::FetchCounters& c) {
    fetch_counters_.Add(EngineCore::kFetches);
    fetch_counters_.Add(EngineCore::kEntities, c.entities);
    fetch_counters_.Add(EngineCore::kEdges, c.edges);
    fetch_counters_.Add(EngineCore::kBytes, c.bytes);
    if (c.scanned != 0) fetch_counters_.Add(EngineCore::kScanned, c.scanned);
    fetch_counters_.Add(EngineCore::kReads, c.reads);
    if (c.truncated) fetch_counters_.Add(EngineCore::kTruncated);
  }

  std::shared_ptr<EngineCore> core_;
  std::optional<Principal> principal_;
  observability::CounterSet<EngineCore::kFetchCounters>& fetch_counters_;
  storage::Store* store_;
  catalog::Catalog* catalog_;
  query::FetchEngine* fetch_;
  query::SelectEngine* select_;
  ChangeStreams* streams_;
};

}  // namespace

std::string MigrationReport::ToText() const {
  std::string out = "grade: ";
  out += grade;
  out += "\n";
  for (const SchemaChange& c : changes) {
    out += "[";
    out += c.grade;
    out += "] " + c.description + "\n";
  }
  if (changes.empty()) out += "no changes\n";
  return out;
}

std::string MigrationReport::ToJson() const {
  Json root = Json::Object();
  root.Set("grade", std::string(1, grade));
  Json list = Json::Array();
  for (const SchemaChange& c : changes) {
    Json item = Json::Object();
    item.Set("grade", std::string(1, c.grade));
    item.Set("change", c.description);
    list.Push(std::move(item));
  }
  root.Set("changes", std::move(list));
  root.Set("applied", applied);
  root.Set("schema_version", static_cast<int64_t>(schema_version));
  root.Set("commit_version", static_cast<int64_t>(commit_version));
  return ormdb::ToJson(root);
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& dir,
                                                 const OpenOptions& options) {
  ORMDB_ASSIGN_OR_RETURN(auto engine, db::Engine::Open(dir, options));
  return std::unique_ptr<Database>(std::move(engine));
}

Result<std::unique_ptr<db::Engine>> db::Engine::Open(const std::string& dir,
                                                     const OpenOptions& options) {
  storage::StoreOptions so;
  so.initial_map_size = options.initial_map_size;
  so.max_map_size = options.max_map_size;
  so.retention_versions = options.retention_versions;
  so.retention_seconds = options.retention_seconds;
  so.row_cache_bytes = options.row_cache_bytes;
  ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store,
                         storage::Store::Open(dir, so, options.create_if_missing));
  ORMDB_ASSIGN_OR_RETURN(std::unique_ptr<catalog::Catalog> catalog,
                         catalog::Catalog::Open(store.get()));
  auto core = std::make_shared<EngineCore>(std::move(store), std::move(catalog), options);
  return std::unique_ptr<db::Engine>(new EmbeddedDatabase(std::move(core), std::nullopt));
}

}  // namespace ormdb
