#include "db/change_stream.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/json.h"
#include "query/json_values.h"
#include "query/mutation.h"
#include "storage/row_codec.h"

namespace ormdb {
namespace {

using catalog::CompiledSchema;
using catalog::DecodedRow;
using catalog::EntityInfo;

// Change sets copied out of one log read (one short read transaction).
constexpr size_t kChangeSetsPerRead = 64;
// The longest long-poll (a longer WatchOptions::wait is cut to it).
constexpr std::chrono::milliseconds kMaxWait = std::chrono::hours(24);

// The catalog annotates a schema change "schema N" (any annotation that
// starts with the word "schema" is one).
bool IsSchemaAnnotation(std::string_view data) {
  constexpr std::string_view kWord = "schema";
  return data.substr(0, kWord.size()) == kWord &&
         (data.size() == kWord.size() || data[kWord.size()] == ' ');
}

// The schema a change set is rendered with: the one in force at its version.
// The catalog records a schema's commit version only after the commit is
// acknowledged, so a transaction in the same group commit as a schema change
// can be read before SchemaAt knows it; the row images name the schema they
// were written under, and none is newer than the one in force.
Result<std::shared_ptr<const CompiledSchema>> SchemaOf(const storage::ChangeSet& changes,
                                                       const catalog::Catalog& catalog) {
  uint32_t newest = 0;
  for (const storage::ChangeRecord& rec : changes.records) {
    const auto* d = std::get_if<storage::RowDelta>(&rec);
    if (!d) continue;
    for (const std::optional<std::string>* image : {&d->before, &d->after}) {
      if (!*image) continue;
      ORMDB_ASSIGN_OR_RETURN(uint32_t n, storage::PeekRowSchemaVersion(**image));
      newest = std::max(newest, n);
    }
  }
  auto at = catalog.SchemaAt(changes.version);
  if (at.ok() && (*at)->number() >= newest) return *at;
  if (newest > 0) {
    if (auto s = catalog.VersionByNumber(newest)) return s;
    return Internal("schema version " + std::to_string(newest) + " is not loaded");
  }
  if (auto cur = catalog.current()) return cur;  // see above: a schema not yet recorded
  return at.status();
}

// Renders one change set; see RenderChangeSet.
class ChangeSetRenderer {
 public:
  ChangeSetRenderer(const storage::ChangeSet& changes, const catalog::Catalog& catalog,
                    storage::Store& store, const std::vector<std::string>& entities,
                    const StreamViewer* viewer)
      : changes_(changes),
        catalog_(catalog),
        store_(store),
        entities_(entities),
        viewer_(viewer),
        layouts_(catalog.layouts()) {}

  Result<std::vector<std::string>> Render() {
    std::vector<std::string> events;
    for (const storage::ChangeRecord& rec : changes_.records) {
      std::optional<Json> event;
      if (const auto* d = std::get_if<storage::RowDelta>(&rec)) {
        ORMDB_ASSIGN_OR_RETURN(event, RowEvent(*d));
      } else if (const auto* e = std::get_if<storage::EdgeDelta>(&rec)) {
        ORMDB_ASSIGN_OR_RETURN(event, EdgeEvent(*e));
      } else if (const auto* a = std::get_if<storage::Annotation>(&rec);
                 a && IsSchemaAnnotation(a->data)) {
        event = Header("schema");
      }  // Other annotations and request records (exactly-once bookkeeping) are not events.
      if (event) events.push_back(ToJson(*event));
    }
    return events;
  }

 private:
  Json Header(const char* op) const {
    Json ev = Json::Object();
    ev.Set("version", static_cast<int64_t>(changes_.version));
    ev.Set("op", op);
    return ev;
  }

  bool Selected(const std::string& entity) const {
    return entities_.empty() ||
           std::find(entities_.begin(), entities_.end(), entity) != entities_.end();
  }

  Result<const CompiledSchema*> Schema() {
    if (!schema_) {
      ORMDB_ASSIGN_OR_RETURN(schema_, SchemaOf(changes_, catalog_));
    }
    return schema_.get();
  }

  // A read transaction at the change set's version, opened on first use.
  Result<storage::TxnReader*> Txn() {
    if (!txn_) {
      ORMDB_ASSIGN_OR_RETURN(txn_, store_.BeginRead(changes_.version));
    }
    return txn_.get();
  }

  Result<DecodedRow> Decode(std::string_view bytes, const EntityInfo& e) {
    ORMDB_ASSIGN_OR_RETURN(const CompiledSchema* schema, Schema());
    return catalog::DecodeEntityRow(bytes, e, schema->number(), layouts_);
  }

  // The uuid of a row of a uuid entity that this change set wrote or
  // deleted, from its own images (a deleted row is gone at the version);
  // nullopt when the change set did not touch it.
  Result<std::optional<Json>> LocalUuid(const EntityInfo& e, RowId id) {
    if (!local_index_built_) {
      local_index_built_ = true;
      for (const storage::ChangeRecord& rec : changes_.records) {
        if (const auto* d = std::get_if<storage::RowDelta>(&rec)) {
          local_rows_.emplace(std::make_pair(d->type.value, d->id), d);
        }
      }
    }
    auto it = local_rows_.find({e.id.value, id});
    if (it == local_rows_.end()) return std::optional<Json>();
    const storage::RowDelta& d = *it->second;
    ORMDB_ASSIGN_OR_RETURN(DecodedRow row, Decode(d.after ? *d.after : *d.before, e));
    return std::optional<Json>(query::ValueToJson(row.uuid));
  }

  // The external id of row `id` of `e`: the integer, or the uuid (null if
  // the row cannot be found, which a consistent log never asks for).
  Result<Json> ExternalId(const EntityInfo& e, RowId id) {
    if (!e.uuid_id) return Json(static_cast<int64_t>(id));
    ORMDB_ASSIGN_OR_RETURN(std::optional<Json> local, LocalUuid(e, id));
    if (local) return std::move(*local);
    // Untouched by this transaction: the same at the version as before it.
    ORMDB_ASSIGN_OR_RETURN(storage::TxnReader * txn, Txn());
    ORMDB_ASSIGN_OR_RETURN(auto rec, txn->Get(e.id, id));
    if (!rec) return Json();
    ORMDB_ASSIGN_OR_RETURN(DecodedRow row, Decode(rec->bytes_in_txn, e));
    return query::ValueToJson(row.uuid);
  }

  // The row as `export` writes it. RowToJson reads references to uuid rows
  // at the version, where a row this transaction deleted is absent: those
  // take the uuid from the change set.
  Result<Json> Image(const CompiledSchema& schema, const EntityInfo& e, RowId id,
                     const DecodedRow& row) {
    ORMDB_ASSIGN_OR_RETURN(storage::TxnReader * txn, Txn());
    ORMDB_ASSIGN_OR_RETURN(Json obj, query::RowToJson(*txn, schema, layouts_, e, id, row));
    for (size_t i = 0; i < e.fields.size(); ++i) {
      const catalog::FieldInfo& f = e.fields[i];
      if (f.type != catalog::FieldType::kRef || row.fields[i].is_null()) continue;
      const EntityInfo* target = schema.EntityById(f.ref_target);
      if (!target || !target->uuid_id) continue;
      ORMDB_ASSIGN_OR_RETURN(std::optional<Json> uuid,
                             LocalUuid(*target, static_cast<RowId>(row.fields[i].as_int64())));
      if (uuid) obj.Set(f.name, std::move(*uuid));
    }
    return obj;
  }

  // The viewer's rules under the change set's schema; nullptr when none
  // apply (no viewer, an admin, or no rules).
  Result<const query::PolicySet*> Policies() {
    if (viewer_ == nullptr || viewer_->principal == nullptr ||
        viewer_->principal->HasRole("admin")) {
      return static_cast<const query::PolicySet*>(nullptr);
    }
    if (!policies_) {
      ORMDB_ASSIGN_OR_RETURN(const CompiledSchema* schema, Schema());
      (void)schema;
      ORMDB_ASSIGN_OR_RETURN(policies_, viewer_->policies(schema_));
    }
    return policies_->empty() ? nullptr : policies_.get();
  }

  // Whether the viewer may read `row` (row `id` of `e`).
  Result<bool> Readable(const query::PolicySet& set, const EntityInfo& e, RowId id,
                        const DecodedRow& row) {
    ORMDB_ASSIGN_OR_RETURN(storage::TxnReader * txn, Txn());
    ORMDB_ASSIGN_OR_RETURN(const CompiledSchema* schema, Schema());
    return query::RowReadable(set, *viewer_->principal, e,
                              query::StoredRowLookup(*txn, *schema, layouts_, e, id, row));
  }

  // Nulls the fields of `image` the viewer may not read; marks them in
  // *hidden.
  Status MaskImage(const query::PolicySet& set, const EntityInfo& e, RowId id,
                   const DecodedRow& row, Json* image, std::vector<bool>* hidden) {
    const query::EntityPolicy* ep = set.For(e.id);
    if (ep == nullptr || !ep->any_field_rules) return Status::Ok();
    ORMDB_ASSIGN_OR_RETURN(storage::TxnReader * txn, Txn());
    ORMDB_ASSIGN_OR_RETURN(const CompiledSchema* schema, Schema());
    query::RowLookup lookup = query::StoredRowLookup(*txn, *schema, layouts_, e, id, row);
    for (size_t i = 0; i < e.fields.size(); ++i) {
      ORMDB_ASSIGN_OR_RETURN(bool ok, query::FieldReadable(set, *viewer_->principal, e, i, lookup));
      if (ok) continue;
      image->Set(e.fields[i].name, Json());
      (*hidden)[i] = true;
    }
    return Status::Ok();
  }

  // An edge end as the viewer sees it: the row at the version, or the
  // image this change set deleted.
  Result<bool> EndReadable(const query::PolicySet& set, const EntityInfo& e, RowId id) {
    const query::EntityPolicy* ep = set.For(e.id);
    if (ep == nullptr || (ep->ruled_ops & catalog::kPolicyRead) == 0) return true;
    ORMDB_ASSIGN_OR_RETURN(storage::TxnReader * txn, Txn());
    ORMDB_ASSIGN_OR_RETURN(auto rec, txn->Get(e.id, id));
    std::optional<DecodedRow> row;
    if (rec) {
      ORMDB_ASSIGN_OR_RETURN(row, Decode(rec->bytes_in_txn, e));
    } else {
      for (const storage::ChangeRecord& r : changes_.records) {
        const auto* d = std::get_if<storage::RowDelta>(&r);
        if (d && d->type == e.id && d->id == id && d->before) {
          ORMDB_ASSIGN_OR_RETURN(row, Decode(*d->before, e));
        }
      }
    }
    if (!row) return false;
    return Readable(set, e, id, *row);
  }

  Result<std::optional<Json>> RowEvent(const storage::RowDelta& d) {
    ORMDB_ASSIGN_OR_RETURN(const CompiledSchema* schema, Schema());
    const EntityInfo* e = schema->EntityById(d.type);
    if (!e) {
      return Internal("change log version " + std::to_string(changes_.version) +
                      ": a row of entity type " + std::to_string(d.type.value) + ", which schema " +
                      std::to_string(schema->number()) + " does not have");
    }
    if (!Selected(e->name)) return std::optional<Json>();
    if (!d.before && !d.after) {
      return Internal("change log version " + std::to_string(changes_.version) +
                      ": a row delta without images");
    }
    std::optional<DecodedRow> before, after;
    if (d.before) {
      ORMDB_ASSIGN_OR_RETURN(before, Decode(*d.before, *e));
    }
    if (d.after) {
      ORMDB_ASSIGN_OR_RETURN(after, Decode(*d.after, *e));
    }
    Json ev = Header(!before ? "insert" : !after ? "delete" : "update");
    ev.Set("entity", e->name);
    const DecodedRow& any = after ? *after : *before;
    ev.Set("id", e->uuid_id ? query::ValueToJson(any.uuid) : Json(static_cast<int64_t>(d.id)));
    ORMDB_ASSIGN_OR_RETURN(const query::PolicySet* policies, Policies());
    bool show_before = before.has_value(), show_after = after.has_value();
    if (policies != nullptr) {
      if (show_before) {
        ORMDB_ASSIGN_OR_RETURN(show_before, Readable(*policies, *e, d.id, *before));
      }
      if (show_after) {
        ORMDB_ASSIGN_OR_RETURN(show_after, Readable(*policies, *e, d.id, *after));
      }
      // Unreadable in both images: dropped (the token still passes it).
      if (!show_before && !show_after) return std::optional<Json>();
    }
    std::vector<bool> hidden(e->fields.size(), false);
    Json before_json, after_json;
    if (show_before) {
      ORMDB_ASSIGN_OR_RETURN(before_json, Image(*schema, *e, d.id, *before));
      if (policies) {
        ORMDB_RETURN_IF_ERROR(MaskImage(*policies, *e, d.id, *before, &before_json, &hidden));
      }
    }
    if (show_after) {
      ORMDB_ASSIGN_OR_RETURN(after_json, Image(*schema, *e, d.id, *after));
      if (policies) {
        ORMDB_RETURN_IF_ERROR(MaskImage(*policies, *e, d.id, *after, &after_json, &hidden));
      }
    }
    ev.Set("before", std::move(before_json));
    ev.Set("after", std::move(after_json));
    // An absent image counts as all null: an insert lists its set fields,
    // a delete the fields it had.
    static const Value kNull;
    Json changed = Json::Array();
    for (size_t i = 0; i < e->fields.size(); ++i) {
      if (hidden[i]) continue;
      const Value& b = before ? before->fields[i] : kNull;
      const Value& a = after ? after->fields[i] : kNull;
      if (!(a == b)) changed.Push(e->fields[i].name);
    }
    ev.Set("changed", std::move(changed));
    return std::optional<Json>(std::move(ev));
  }

  Result<std::optional<Json>> EdgeEvent(const storage::EdgeDelta& d) {
    ORMDB_ASSIGN_OR_RETURN(const CompiledSchema* schema, Schema());
    const catalog::EdgeInfo* edge = schema->EdgeById(d.relation);
    if (!edge) {
      // A relation new in a schema SchemaAt does not know yet (see SchemaOf).
      if (auto cur = catalog_.current(); cur && cur->EdgeById(d.relation)) {
        schema_ = cur;
        schema = cur.get();
        edge = cur->EdgeById(d.relation);
      }
    }
    const EntityInfo* from = edge ? schema->EntityById(edge->from) : nullptr;
    const EntityInfo* to = edge ? schema->EntityById(edge->to) : nullptr;
    if (!from || !to) {
      return Internal("change log version " + std::to_string(changes_.version) +
                      ": an edge of relation " + std::to_string(d.relation.value) +
                      ", which schema " + std::to_string(schema->number()) + " does not have");
    }
    if (!Selected(from->name) && !Selected(to->name)) return std::optional<Json>();
    ORMDB_ASSIGN_OR_RETURN(const query::PolicySet* policies, Policies());
    if (policies != nullptr) {
      ORMDB_ASSIGN_OR_RETURN(bool from_ok, EndReadable(*policies, *from, d.from));
      ORMDB_ASSIGN_OR_RETURN(bool to_ok, EndReadable(*policies, *to, d.to));
      if (!from_ok || !to_ok) return std::optional<Json>();
    }
    Json ev = Header(d.linked ? "link" : "unlink");
    ev.Set("relation", edge->from_entity + "." + edge->from_collection);
    ORMDB_ASSIGN_OR_RETURN(Json from_id, ExternalId(*from, d.from));
    ORMDB_ASSIGN_OR_RETURN(Json to_id, ExternalId(*to, d.to));
    ev.Set("from", std::move(from_id));
    ev.Set("to", std::move(to_id));
    return std::optional<Json>(std::move(ev));
  }

  const storage::ChangeSet& changes_;
  const catalog::Catalog& catalog_;
  storage::Store& store_;
  const std::vector<std::string>& entities_;
  const StreamViewer* viewer_;
  catalog::LayoutLookup layouts_;
  std::shared_ptr<const query::PolicySet> policies_;
  std::shared_ptr<const CompiledSchema> schema_;
  std::unique_ptr<storage::ReadTxn> txn_;
  bool local_index_built_ = false;
  std::map<std::pair<uint32_t, RowId>, const storage::RowDelta*> local_rows_;
};

}  // namespace

Result<std::vector<std::string>> RenderChangeSet(const storage::ChangeSet& changes,
                                                 const catalog::Catalog& catalog,
                                                 storage::Store& store,
                                                 const std::vector<std::string>& entities,
                                                 const StreamViewer* viewer) {
  ChangeSetRenderer renderer(changes, catalog, store, entities, viewer);
  auto events = renderer.Render();
  if (!events.ok()) {
    return events.status().WithContext("change events of version " +
                                       std::to_string(changes.version));
  }
  return events;
}

Status ChangeStreams::CheckEntities(const std::vector<std::string>& entities) const {
  if (entities.empty()) return Status::Ok();
  std::shared_ptr<const CompiledSchema> schema = catalog_->current();
  for (const std::string& name : entities) {
    if (!schema) return SchemaError("unknown entity '" + name + "': no schema has been applied");
    ORMDB_RETURN_IF_ERROR(schema->RequireEntity(name).status());
  }
  return Status::Ok();
}

Status ChangeStreams::Scan(const std::vector<std::string>& entities, size_t max_events,
                           uint64_t* token, size_t* examined, std::vector<std::string>* events,
                           const StreamViewer* viewer) {
  while (*examined < kMaxChangeSetsPerPull) {
    // Copied out first: rendering may open a read transaction of its own,
    // and ReadChanges holds one while it visits.
    std::vector<storage::ChangeSet> sets;
    size_t want = std::min(kChangeSetsPerRead, kMaxChangeSetsPerPull - *examined);
    ORMDB_RETURN_IF_ERROR(store_->ReadChanges(*token, [&](const storage::ChangeSet& cs) {
      sets.push_back(cs);
      return sets.size() < want;
    }));
    for (const storage::ChangeSet& cs : sets) {
      ORMDB_ASSIGN_OR_RETURN(std::vector<std::string> rendered,
                             RenderChangeSet(cs, *catalog_, *store_, entities, viewer));
      for (std::string& ev : rendered) events->push_back(std::move(ev));
      *token = cs.version;
      ++*examined;
      if (events->size() >= max_events) return Status::Ok();
    }
    if (sets.size() < want) return Status::Ok();  // the end of the log
  }
  return Status::Ok();
}

Result<WatchBatch> ChangeStreams::Pull(const WatchOptions& options, const StreamViewer* viewer) {
  const auto wait = std::clamp<std::chrono::milliseconds>(options.wait, {}, kMaxWait);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  ExpirePins();
  ORMDB_RETURN_IF_ERROR(CheckEntities(options.entities));
  const uint64_t current = store_->current_version();
  const uint64_t from = options.from.value_or(current);
  if (from > current) {
    return InvalidArgument("watch: resume token " + std::to_string(from) +
                           " is beyond the current version " + std::to_string(current));
  }
  // Held for the whole pull: vacuum keeps everything after `from`.
  auto held = store_->Pin(from);
  if (!held.ok()) {
    if (held.status().code() != ErrorCode::kHistoryLost) return held.status();
    return HistoryLost("watch: the change log after resume token " + std::to_string(from) +
                       " is gone (vacuumed); the oldest readable version is " +
                       std::to_string(store_->oldest_readable_version()));
  }
  WatchBatch batch;
  batch.token = from;
  const size_t max_events = std::max<size_t>(options.max_events, 1);
  while (true) {
    size_t examined = 0;
    ORMDB_RETURN_IF_ERROR(
        Scan(options.entities, max_events, &batch.token, &examined, &batch.events, viewer));
    if (!batch.events.empty() || wait.count() == 0) break;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    if (examined == kMaxChangeSetsPerPull) continue;  // more log to read first
    store_->WaitForVersionAfter(batch.token,
                                std::chrono::ceil<std::chrono::milliseconds>(deadline - now));
  }
  if (!options.subscriber.empty()) {
    ORMDB_ASSIGN_OR_RETURN(storage::SnapshotPin pin, store_->Pin(batch.token));
    MutexLock lock(&mu_);
    // A principal's subscribers are its own: the name is scoped by it.
    std::string name = options.subscriber;
    if (viewer != nullptr && viewer->principal != nullptr) {
      name = viewer->principal->ToJson() + "\n" + name;
    }
    Subscriber& sub = subscribers_[name];
    sub.pin = std::move(pin);  // releases the previous one
    sub.last_poll = std::chrono::steady_clock::now();
  }
  return batch;
}

void ChangeStreams::ExpirePins() {
  const auto now = std::chrono::steady_clock::now();
  const uint64_t current = store_->current_version();
  MutexLock lock(&mu_);
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    const Subscriber& sub = it->second;
    bool idle = now - sub.last_poll > std::chrono::seconds(idle_seconds_);
    bool lagging = current - sub.pin.version() > max_lag_;
    if (idle || lagging) {
      it = subscribers_.erase(it);  // the pin goes with it
    } else {
      ++it;
    }
  }
}

ChangeStreams::SubscriberStats ChangeStreams::subscriber_stats() {
  MutexLock lock(&mu_);
  SubscriberStats out;
  for (const auto& [name, sub] : subscribers_) {
    if (!sub.pin.active()) continue;
    ++out.subscribers;
    if (out.oldest_token == 0 || sub.pin.version() < out.oldest_token) {
      out.oldest_token = sub.pin.version();
    }
  }
  return out;
}

}  // namespace ormdb
