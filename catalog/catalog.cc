#include "catalog/catalog.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <unordered_map>

#include "catalog/maintained.h"
#include "catalog/sdl_parser.h"
#include "catalog/sdl_printer.h"
#include "common/json.h"
#include "storage/key_encoding.h"

namespace ormdb::catalog {
namespace {

constexpr std::string_view kCurrentKey = "catalog/current";
// Offending rows listed in an error message; the count is always given.
constexpr size_t kMaxListed = 10;
// Rows per short read transaction when validating at a snapshot.
constexpr size_t kScanChunk = 1000;

std::string VersionKey(uint32_t number) {
  char buf[32];
  snprintf(buf, sizeof buf, "catalog/version/%010u", number);
  return buf;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status MigrationRefused(std::string m) {
  return Status(ErrorCode::kMigrationRefused, std::move(m));
}

// The stored record of one schema version: its history entry, canonical text
// and the ids, columns and counters that text alone does not carry.
std::string EncodeRecord(const CompiledSchema& s, const SchemaHistoryEntry& h,
                         const std::string& text) {
  Json r = Json::Object();
  r.Set("number", Json(static_cast<int64_t>(h.number)));
  r.Set("commit_version", Json(static_cast<int64_t>(h.commit_version)));
  r.Set("time", Json(h.time_micros));
  r.Set("grade", Json(std::string(1, static_cast<char>(h.grade))));
  r.Set("summary", Json(h.summary));
  r.Set("text", Json(text));
  Json entities = Json::Object(), fields = Json::Object(), indexes = Json::Object(),
       edges = Json::Object(), columns = Json::Object(), id_fields = Json::Object();
  for (const Entity& e : s.schema().entities) {
    entities.Set(e.name, Json(static_cast<int64_t>(e.id.value)));
    for (const Field& f : e.fields) {
      fields.Set(e.name + "." + f.name, Json(static_cast<int64_t>(f.id.value)));
    }
    for (const Index& ix : e.indexes) {
      indexes.Set(IndexIdentity(e, ix), Json(static_cast<int64_t>(ix.id.value)));
    }
    Json cols = Json::Array();
    for (const Column& c : s.columns_by_entity().at(e.name)) {
      Json col = Json::Array();
      col.Push(Json(static_cast<int64_t>(c.field.value)));
      col.Push(Json(static_cast<int64_t>(c.type)));
      col.Push(Json(static_cast<int64_t>(c.added_in)));
      col.Push(Json(c.added_at_micros));
      cols.Push(std::move(col));
    }
    columns.Set(e.name, std::move(cols));
  }
  for (const auto& [name, id] : s.id_fields()) {
    id_fields.Set(name, Json(static_cast<int64_t>(id.value)));
  }
  for (const EdgeRelation& er : s.schema().edges) {
    edges.Set(er.name, Json(static_cast<int64_t>(er.id.value)));
  }
  Json ids = Json::Object();
  ids.Set("entities", std::move(entities));
  ids.Set("fields", std::move(fields));
  ids.Set("indexes", std::move(indexes));
  ids.Set("edges", std::move(edges));
  r.Set("ids", std::move(ids));
  r.Set("columns", std::move(columns));
  r.Set("id_fields", std::move(id_fields));
  Json counters = Json::Array();
  counters.Push(Json(static_cast<int64_t>(s.counters().next_entity)));
  counters.Push(Json(static_cast<int64_t>(s.counters().next_field)));
  counters.Push(Json(static_cast<int64_t>(s.counters().next_index)));
  counters.Push(Json(static_cast<int64_t>(s.counters().next_relation)));
  r.Set("counters", std::move(counters));
  Json building = Json::Array();
  for (IndexId id : s.building_indexes()) building.Push(Json(static_cast<int64_t>(id.value)));
  r.Set("building", std::move(building));
  if (!s.ready_versions().empty()) {
    Json ready = Json::Array();
    for (auto [id, v] : s.ready_versions()) {
      Json pair = Json::Array();
      pair.Push(Json(static_cast<int64_t>(id)));
      pair.Push(Json(static_cast<int64_t>(v)));
      ready.Push(std::move(pair));
    }
    r.Set("ready_at", std::move(ready));
  }
  return ToJson(r);
}

struct DecodedRecord {
  SchemaHistoryEntry entry;
  std::string text;
  std::shared_ptr<CompiledSchema> schema;
};

Result<DecodedRecord> DecodeRecord(std::string_view bytes) {
  auto corrupt = [](std::string what) { return Internal("corrupted catalog record: " + what); };
  auto parsed = ParseJson(bytes);
  if (!parsed.ok()) return corrupt(parsed.status().message());
  const Json& r = *parsed;
  auto num = [&](const Json& obj, std::string_view key) -> std::optional<int64_t> {
    const Json* v = obj.is_object() ? obj.Find(key) : nullptr;
    if (!v || !v->is_int()) return std::nullopt;
    return v->as_int();
  };
  auto str = [&](const Json& obj, std::string_view key) -> std::optional<std::string> {
    const Json* v = obj.is_object() ? obj.Find(key) : nullptr;
    if (!v || !v->is_string()) return std::nullopt;
    return v->as_string();
  };
  DecodedRecord out;
  auto number = num(r, "number");
  auto commit = num(r, "commit_version");
  auto time = num(r, "time");
  auto grade = str(r, "grade");
  auto summary = str(r, "summary");
  auto text = str(r, "text");
  if (!number || !commit || !time || !grade || grade->size() != 1 || !summary || !text) {
    return corrupt("missing fields");
  }
  out.entry = SchemaHistoryEntry{static_cast<uint32_t>(*number), static_cast<Version>(*commit),
                                 *time, static_cast<Grade>((*grade)[0]), *summary};
  out.text = *text;
  auto schema = ParseSchema(out.text, "stored schema");
  if (!schema.ok()) return corrupt(schema.status().message());
  const Json* ids = r.Find("ids");
  const Json* columns = r.Find("columns");
  const Json* id_fields = r.Find("id_fields");
  const Json* counters = r.Find("counters");
  const Json* building = r.Find("building");
  if (!ids || !ids->is_object() || !columns || !columns->is_object() || !id_fields ||
      !id_fields->is_object() || !counters || !counters->is_array() ||
      counters->as_array().size() != 4 || !building || !building->is_array()) {
    return corrupt("missing ids");
  }
  const Json* eids = ids->Find("entities");
  const Json* fids = ids->Find("fields");
  const Json* iids = ids->Find("indexes");
  const Json* rids = ids->Find("edges");
  if (!eids || !fids || !iids || !rids) return corrupt("missing ids");
  std::map<std::string, std::vector<Column>> cols;
  std::map<std::string, FieldId> idf;
  for (Entity& e : schema->entities) {
    auto id = num(*eids, e.name);
    if (!id) return corrupt("no id for entity " + e.name);
    e.id = EntityTypeId(static_cast<uint32_t>(*id));
    for (Field& f : e.fields) {
      auto fid = num(*fids, e.name + "." + f.name);
      if (!fid) return corrupt("no id for field " + e.name + "." + f.name);
      f.id = FieldId(static_cast<uint32_t>(*fid));
    }
    if (e.uuid_id) {
      Index id_ix;
      id_ix.fields = {"id"};
      id_ix.unique = true;
      id_ix.automatic = true;
      e.indexes.insert(e.indexes.begin(), id_ix);
      auto f = num(*id_fields, e.name);
      if (!f) return corrupt("no id column for " + e.name);
      idf[e.name] = FieldId(static_cast<uint32_t>(*f));
    }
    for (Index& ix : e.indexes) {
      auto iid = num(*iids, IndexIdentity(e, ix));
      if (!iid) return corrupt("no id for index " + IndexIdentity(e, ix));
      ix.id = IndexId(static_cast<uint32_t>(*iid));
    }
    const Json* ec = columns->Find(e.name);
    if (!ec || !ec->is_array()) return corrupt("no columns for " + e.name);
    for (const Json& c : ec->as_array()) {
      if (!c.is_array() || c.as_array().size() != 4) return corrupt("bad column");
      const auto& a = c.as_array();
      for (const Json& x : a) {
        if (!x.is_int()) return corrupt("bad column");
      }
      cols[e.name].push_back(Column{FieldId(static_cast<uint32_t>(a[0].as_int())),
                                    static_cast<ValueType>(a[1].as_int()),
                                    static_cast<uint32_t>(a[2].as_int()), a[3].as_int()});
    }
  }
  for (EdgeRelation& er : schema->edges) {
    auto id = num(*rids, er.name);
    if (!id) return corrupt("no id for relation " + er.name);
    er.id = RelationId(static_cast<uint32_t>(*id));
  }
  const auto& c = counters->as_array();
  for (const Json& x : c) {
    if (!x.is_int()) return corrupt("bad counters");
  }
  IdCounters counts{static_cast<uint32_t>(c[0].as_int()), static_cast<uint32_t>(c[1].as_int()),
                    static_cast<uint32_t>(c[2].as_int()), static_cast<uint32_t>(c[3].as_int())};
  std::vector<IndexId> build;
  for (const Json& x : building->as_array()) {
    if (!x.is_int()) return corrupt("bad building list");
    build.push_back(IndexId(static_cast<uint32_t>(x.as_int())));
  }
  auto restored = CompiledSchema::Restore(std::move(*schema), out.entry.number, counts,
                                          std::move(cols), std::move(idf), std::move(build));
  if (!restored.ok()) return corrupt(restored.status().message());
  out.schema = *restored;
  if (const Json* ready = r.Find("ready_at")) {
    if (!ready->is_array()) return corrupt("bad ready_at");
    for (const Json& pair : ready->as_array()) {
      if (!pair.is_array() || pair.size() != 2 || !pair.as_array()[0].is_int() ||
          !pair.as_array()[1].is_int()) {
        return corrupt("bad ready_at");
      }
      out.schema->SetReadyAt(IndexId(static_cast<uint32_t>(pair.as_array()[0].as_int())),
                             static_cast<Version>(pair.as_array()[1].as_int()));
    }
  }
  return out;
}

Value ExternalId(const EntityInfo& e, RowId id, const DecodedRow& row) {
  if (e.uuid_id) return row.uuid;
  return Value::Int64(static_cast<int64_t>(id));
}

// Collects offending rows for an error message.
class Offenders {
 public:
  explicit Offenders(std::string what) : what_(std::move(what)) {}
  void Add(std::string line) {
    if (lines_.size() < kMaxListed) lines_.push_back(std::move(line));
    ++count_;
  }
  bool empty() const { return count_ == 0; }
  Status ToStatus() const {
    std::string m = std::to_string(count_) + (count_ == 1 ? " row violates " : " rows violate ") +
                    what_ + "; nothing was changed:";
    for (const std::string& l : lines_) m += "\n  " + l;
    if (count_ > lines_.size())
      m += "\n  ... and " + std::to_string(count_ - lines_.size()) + " more";
    return ConstraintViolation(m);
  }

 private:
  std::string what_;
  std::vector<std::string> lines_;
  size_t count_ = 0;
};

std::set<std::string> EntitiesToValidate(const MigrationPlan& plan) {
  std::set<std::string> out;
  for (const MigrationChange& c : plan.changes) {
    if (c.validates_rows && !c.entity.empty()) out.insert(c.entity);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Catalog>> Catalog::Open(storage::Store* store) {
  std::unique_ptr<Catalog> c(new Catalog(store));
  ORMDB_RETURN_IF_ERROR(c->Load());
  auto cur = c->current();
  if (cur && !cur->building_indexes().empty()) {
    MutexLock apply_lock(&c->apply_mu_);
    ApplyResult ignored;
    Status st = c->BuildIndexes(cur->number(), ApplyOptions{}, &ignored);
    // A unique index that data written during its build violates has been
    // dropped again (a new schema version says so in the history): the
    // database opens on that schema.
    if (!st.ok() && st.code() != ErrorCode::kConstraintViolation) return st;
  }
  return c;
}

Status Catalog::Load() {
  ORMDB_ASSIGN_OR_RETURN(auto txn, store_->BeginRead());
  ORMDB_ASSIGN_OR_RETURN(std::optional<std::string> cur, txn->GetMeta(kCurrentKey));
  if (!cur) return Status::Ok();
  uint32_t current = static_cast<uint32_t>(std::strtoul(cur->c_str(), nullptr, 10));
  MutexLock lock(&mu_);
  for (uint32_t n = 1; n <= current; ++n) {
    ORMDB_ASSIGN_OR_RETURN(std::optional<std::string> rec, txn->GetMeta(VersionKey(n)));
    if (!rec) continue;  // a version whose commit failed leaves no record
    ORMDB_ASSIGN_OR_RETURN(DecodedRecord d, DecodeRecord(*rec));
    versions_[n] = d.schema;
    history_[n] = d.entry;
    texts_[n] = d.text;
  }
  if (!versions_.count(current)) return Internal("catalog: the current schema record is missing");
  current_ = current;
  return Status::Ok();
}

std::shared_ptr<const CompiledSchema> Catalog::current() const {
  MutexLock lock(&mu_);
  auto it = versions_.find(current_);
  return it == versions_.end() ? nullptr : it->second;
}

std::shared_ptr<const CompiledSchema> Catalog::VersionByNumber(uint32_t number) const {
  MutexLock lock(&mu_);
  auto it = versions_.find(number);
  return it == versions_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<const CompiledSchema>> Catalog::SchemaAt(Version version) const {
  MutexLock lock(&mu_);
  uint32_t best = 0;
  Version best_commit = 0;
  for (const auto& [n, e] : history_) {
    if (e.commit_version <= version && e.commit_version >= best_commit) {
      best = n;
      best_commit = e.commit_version;
    }
  }
  if (best == 0) {
    return SchemaError("no schema had been applied at version " + std::to_string(version));
  }
  auto it = versions_.find(best);
  if (it == versions_.end()) {
    return Internal("catalog: schema version " + std::to_string(best) + " is not loaded");
  }
  return it->second;
}

Result<std::shared_ptr<const CompiledSchema>> Catalog::SchemaIn(storage::TxnReader& txn) const {
  ORMDB_ASSIGN_OR_RETURN(std::optional<std::string> cur, txn.GetMeta(kCurrentKey));
  if (!cur) return SchemaError("no schema has been applied (run `ormdb schema apply FILE`)");
  uint32_t n = static_cast<uint32_t>(std::strtoul(cur->c_str(), nullptr, 10));
  auto s = VersionByNumber(n);
  if (!s) return Internal("catalog: schema version " + std::to_string(n) + " is not loaded");
  return s;
}

LayoutLookup Catalog::layouts() const {
  return [this](uint32_t number, EntityTypeId id) -> const EntityInfo* {
    auto s = VersionByNumber(number);
    // Versions are never unloaded, so the pointer outlives this call.
    return s ? s->EntityById(id) : nullptr;
  };
}

std::vector<SchemaHistoryEntry> Catalog::History() const {
  MutexLock lock(&mu_);
  std::vector<SchemaHistoryEntry> out;
  for (const auto& [n, e] : history_) out.push_back(e);
  return out;
}

std::string Catalog::CurrentText() const {
  MutexLock lock(&mu_);
  auto it = texts_.find(current_);
  return it == texts_.end() ? "" : it->second;
}

void Catalog::Install(std::shared_ptr<const CompiledSchema> s) {
  MutexLock lock(&mu_);
  versions_[s->number()] = std::move(s);
}

Status Catalog::ValidateExisting(const CompiledSchema& next, const MigrationPlan& plan,
                                 const ApplyOptions& options, Version* snapshot) {
  *snapshot = store_->current_version();
  auto prev = current();
  if (!prev) return Status::Ok();
  std::set<std::string> validate = EntitiesToValidate(plan);
  LayoutLookup layouts = this->layouts();
  ORMDB_ASSIGN_OR_RETURN(storage::SnapshotPin pin, store_->Pin(*snapshot));
  for (const EntityInfo& e : next.entities()) {
    const EntityInfo* old = prev->EntityById(e.id);
    if (!old) continue;
    std::vector<const IndexInfo*> new_unique;
    for (const IndexInfo& ix : e.indexes) {
      bool existed = std::any_of(old->indexes.begin(), old->indexes.end(),
                                 [&](const IndexInfo& o) { return o.id == ix.id; });
      if (ix.unique && !existed) new_unique.push_back(&ix);
    }
    bool check_rows = validate.count(e.name) > 0;
    if (!check_rows && new_unique.empty()) continue;
    Offenders offenders(check_rows ? "the new schema of " + e.name
                                   : "a new unique index of " + e.name);
    std::vector<std::unordered_map<std::string, RowId>> seen(new_unique.size());
    RowId start = 0;
    uint64_t done = 0;
    bool more = true;
    while (more) {
      more = false;
      ORMDB_ASSIGN_OR_RETURN(auto txn, store_->BeginRead(*snapshot));
      size_t n = 0;
      Status st;
      ORMDB_RETURN_IF_ERROR(
          txn->ScanRows(e.id, start, storage::ScanDirection::kForward,
                        [&](RowId id, const storage::RowRecord& rec) {
                          if (n == kScanChunk) {
                            more = true;
                            start = id;
                            return false;
                          }
                          ++n;
                          auto row = DecodeEntityRow(rec.bytes_in_txn, e, next.number(), layouts);
                          if (!row.ok()) {
                            st = row.status();
                            return false;
                          }
                          Value ext = ExternalId(e, id, *row);
                          if (check_rows) {
                            Status c = CheckRowConstraints(e, *row, ext);
                            if (!c.ok())
                              offenders.Add(e.name + " " + ext.DebugString() + ": " + c.message());
                          }
                          for (size_t i = 0; i < new_unique.size(); ++i) {
                            bool any_null = false;
                            std::string key = IndexKeyValues(*new_unique[i], *row, &any_null);
                            if (any_null) continue;
                            auto [it, inserted] = seen[i].emplace(std::move(key), id);
                            if (!inserted) {
                              offenders.Add("unique " + new_unique[i]->name + ": " + e.name +
                                            " ids " + std::to_string(it->second) + " and " +
                                            std::to_string(id) + " hold the same value");
                            }
                          }
                          return true;
                        }));
      ORMDB_RETURN_IF_ERROR(st);
      done += n;
      if (options.progress) options.progress("validate " + e.name, done, done);
    }
    if (!offenders.empty()) return offenders.ToStatus();
  }
  return Status::Ok();
}

Status Catalog::RecheckChanged(storage::WriteTxn& txn, const CompiledSchema& next,
                               const MigrationPlan& plan, Version since) {
  std::set<std::string> validate = EntitiesToValidate(plan);
  if (validate.empty()) return Status::Ok();
  std::set<std::pair<uint32_t, RowId>> changed;
  ORMDB_RETURN_IF_ERROR(txn.ChangesBetween(since, [&](const storage::ChangeSet& cs) {
    for (const auto& rec : cs.records) {
      if (const auto* d = std::get_if<storage::RowDelta>(&rec); d && d->after) {
        changed.insert({d->type.value, d->id});
      }
    }
    return true;
  }));
  LayoutLookup layouts = this->layouts();
  Offenders offenders("the new schema (changed during validation)");
  for (const auto& [type, id] : changed) {
    const EntityInfo* e = next.EntityById(EntityTypeId(type));
    if (!e || !validate.count(e->name)) continue;
    ORMDB_ASSIGN_OR_RETURN(auto rec, txn.Get(e->id, id));
    if (!rec) continue;
    ORMDB_ASSIGN_OR_RETURN(DecodedRow row,
                           DecodeEntityRow(rec->bytes_in_txn, *e, next.number(), layouts));
    Value ext = ExternalId(*e, id, row);
    Status c = CheckRowConstraints(*e, row, ext);
    if (!c.ok()) offenders.Add(e->name + " " + ext.DebugString() + ": " + c.message());
  }
  return offenders.empty() ? Status::Ok() : offenders.ToStatus();
}

Result<ApplyResult> Catalog::Apply(std::string_view text, const ApplyOptions& options) {
  MutexLock apply_lock(&apply_mu_);
  return ApplyLocked(text, options);
}

Result<ApplyResult> Catalog::ApplyLocked(std::string_view text, const ApplyOptions& options) {
  ORMDB_ASSIGN_OR_RETURN(Schema parsed, ParseSchema(text, options.file_name));
  std::shared_ptr<const CompiledSchema> prev = current();
  uint32_t number = prev ? prev->number() + 1 : 1;
  ORMDB_ASSIGN_OR_RETURN(
      std::shared_ptr<CompiledSchema> next,
      CompiledSchema::Build(std::move(parsed), prev.get(), number, NowMicros(), options.file_name));
  if (options.validate) ORMDB_RETURN_IF_ERROR(options.validate(*next));
  ApplyResult result;
  result.plan = DiffSchemas(prev.get(), *next);
  result.number = prev ? prev->number() : 0;
  if (options.dry_run || (prev && result.plan.empty())) return result;
  if (result.plan.grade == Grade::kD && !options.allow_destructive) {
    std::string m = "the plan is destructive (grade D); rerun with --allow-destructive:";
    for (const MigrationChange& c : result.plan.changes) {
      if (c.grade == Grade::kD) m += "\n  [D] " + c.description;
    }
    return MigrationRefused(m);
  }
  Version snapshot = 0;
  ORMDB_RETURN_IF_ERROR(ValidateExisting(*next, result.plan, options, &snapshot));

  std::string canonical = PrintSchema(next->schema());
  SchemaHistoryEntry entry;
  // Registered before the commit so that mutations in the same group commit,
  // which read the current number in their own transaction, find it.
  Install(next);
  auto committed = store_->Commit([&](storage::WriteTxn& txn) -> Status {
    ORMDB_RETURN_IF_ERROR(RecheckChanged(txn, *next, result.plan, snapshot));
    ORMDB_RETURN_IF_ERROR(UpdateMaintained(txn, prev.get(), *next, layouts()));
    entry = SchemaHistoryEntry{number, txn.version(), txn.commit_time_micros(), result.plan.grade,
                               result.plan.Summary()};
    ORMDB_RETURN_IF_ERROR(txn.PutMeta(VersionKey(number), EncodeRecord(*next, entry, canonical)));
    ORMDB_RETURN_IF_ERROR(txn.PutMeta(kCurrentKey, std::to_string(number)));
    txn.Annotate("schema " + std::to_string(number));
    return Status::Ok();
  });
  if (!committed.ok()) {
    MutexLock lock(&mu_);
    versions_.erase(number);
    return committed.status();
  }
  {
    MutexLock lock(&mu_);
    current_ = number;
    history_[number] = entry;
    texts_[number] = canonical;
  }
  result.applied = true;
  result.number = number;
  result.commit_version = *committed;
  ORMDB_RETURN_IF_ERROR(BuildIndexes(number, options, &result));
  return result;
}

Status Catalog::BuildIndexes(uint32_t number, const ApplyOptions& options, ApplyResult* result) {
  auto s = VersionByNumber(number);
  for (IndexId id : s->building_indexes()) {
    std::string entity;
    for (const EntityInfo& e : s->entities()) {
      for (const IndexInfo& ix : e.indexes) {
        if (ix.id == id) entity = e.name;
      }
    }
    uint64_t rows = 0;
    Status st = BuildIndex(entity, id, options, &rows);
    if (!st.ok()) {
      if (st.code() != ErrorCode::kConstraintViolation) return st;
      // Existing data or a concurrent write violates the new unique index:
      // return to the previous schema (the index is dropped again).
      // (A build only runs for an entity that existed before, so there is
      // a previous version.)
      auto prev = VersionByNumber(number - 1);
      if (!prev) return st;
      ApplyOptions revert;
      revert.file_name = "revert";
      revert.allow_destructive = true;
      auto reverted = ApplyLocked(PrintSchema(prev->schema()), revert);
      if (!reverted.ok()) return reverted.status().WithContext(st.message());
      return st.WithContext("the index build failed and the schema was reverted");
    }
    result->indexes_built++;
    result->rows_indexed += rows;
    // Mark it ready in the stored record and in memory.
    auto cur = VersionByNumber(number);
    std::shared_ptr<CompiledSchema> ready;
    std::string text;
    SchemaHistoryEntry entry;
    {
      MutexLock lock(&mu_);
      text = texts_[number];
      entry = history_[number];
    }
    auto committed = store_->Commit([&](storage::WriteTxn& txn) -> Status {
      ready = cur->WithIndexReady(id);
      ready->SetReadyAt(id, txn.version());
      // Every commit is in the change log, so change streams see no holes.
      txn.Annotate("schema " + std::to_string(number) + " index ready");
      return txn.PutMeta(VersionKey(number), EncodeRecord(*ready, entry, text));
    });
    if (!committed.ok()) return committed.status();
    Install(ready);
  }
  return Status::Ok();
}

Status Catalog::BuildIndex(const std::string& entity, IndexId index, const ApplyOptions& options,
                           uint64_t* rows) {
  LayoutLookup layouts = this->layouts();
  RowId start = 0;
  bool more = true;
  uint64_t total = 0;
  while (more) {
    size_t n = 0;
    auto committed = store_->Commit([&](storage::WriteTxn& txn) -> Status {
      more = false;
      n = 0;
      txn.Annotate("schema index build");
      ORMDB_ASSIGN_OR_RETURN(auto schema, SchemaIn(txn));
      const EntityInfo* e = schema->FindEntity(entity);
      const IndexInfo* ix = nullptr;
      if (e) {
        for (const IndexInfo& i : e->indexes) {
          if (i.id == index) ix = &i;
        }
      }
      if (!ix) return Status::Ok();  // dropped meanwhile: nothing left to build
      Status st;
      RowId next_start = start;
      ORMDB_RETURN_IF_ERROR(txn.ScanRows(
          e->id, start, storage::ScanDirection::kForward,
          [&](RowId id, const storage::RowRecord& rec) {
            if (n == options.build_batch) {
              more = true;
              next_start = id;
              return false;
            }
            ++n;
            auto row = DecodeEntityRow(rec.bytes_in_txn, *e, schema->number(), layouts);
            if (!row.ok()) {
              st = row.status();
              return false;
            }
            bool any_null = false;
            std::string key = IndexKeyValues(*ix, *row, &any_null);
            auto has = txn.IndexHasCurrent(index, key, id);
            if (!has.ok()) {
              st = has.status();
              return false;
            }
            if (*has) return true;  // a write after the schema change indexed it
            RowId clash = 0;
            st = txn.IndexInsert(index, key, id, ix->unique && !any_null, &clash);
            if (!st.ok() && st.code() == ErrorCode::kConstraintViolation) {
              st = ConstraintViolation("unique " + ix->name + ": " + entity + " ids " +
                                       std::to_string(clash) + " and " + std::to_string(id) +
                                       " hold the same value");
            }
            return st.ok();
          }));
      ORMDB_RETURN_IF_ERROR(st);
      start = next_start;
      return Status::Ok();
    });
    if (!committed.ok()) return committed.status();
    total += n;
    if (options.progress) options.progress("build index " + entity, total, total);
    if (more && options.interrupt_build_after_rows && total >= options.interrupt_build_after_rows) {
      return Unavailable("index build of " + entity + " interrupted after " +
                         std::to_string(total) + " rows (it resumes at the next open)");
    }
  }
  *rows = total;
  return Status::Ok();
}

}  // namespace ormdb::catalog
