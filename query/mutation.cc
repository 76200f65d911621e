#include "query/mutation.h"

#include <concepts>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "catalog/maintained.h"
#include "common/uuid.h"
#include "query/json_values.h"
#include "storage/key_encoding.h"
#include "storage/keys.h"

namespace ormdb::query {
namespace {

using catalog::CompiledSchema;
using catalog::DecodedRow;
using catalog::EntityInfo;
using catalog::FieldInfo;
using catalog::FieldType;
using catalog::IndexInfo;

struct OpShape {
  std::string_view name;
  std::vector<std::string_view> required;
  std::vector<std::string_view> optional;
};

const std::vector<OpShape>& OpShapes() {
  static const std::vector<OpShape> shapes = {
      {"insert", {"entity", "values"}, {"as"}},
      {"update", {"entity", "id", "set"}, {"if_version"}},
      {"upsert", {"entity", "key", "values"}, {"as"}},
      {"delete", {"entity", "id"}, {"if_version"}},
      {"link", {"relation", "from", "to"}, {}},
      {"unlink", {"relation", "from", "to"}, {}},
  };
  return shapes;
}

std::string OpLabel(size_t i) { return "ops[" + std::to_string(i) + "]"; }

Status CheckOpShape(size_t i, const Json& op) {
  if (!op.is_object()) return InvalidArgument(OpLabel(i) + ": an op must be an object");
  const Json* kind = op.Find("op");
  if (!kind || !kind->is_string()) {
    return InvalidArgument(OpLabel(i) +
                           ": missing \"op\" (insert, update, upsert, delete, link, unlink)");
  }
  const OpShape* shape = nullptr;
  for (const OpShape& s : OpShapes()) {
    if (s.name == kind->as_string()) shape = &s;
  }
  if (!shape) {
    std::vector<std::string> names;
    for (const OpShape& s : OpShapes()) names.emplace_back(s.name);
    std::string hint = catalog::NearestName(kind->as_string(), names);
    return InvalidArgument(OpLabel(i) + ": unknown op \"" + kind->as_string() + "\"" +
                           (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
  }
  for (std::string_view key : shape->required) {
    if (!op.Find(key)) {
      return InvalidArgument(OpLabel(i) + " (" + std::string(shape->name) + "): missing \"" +
                             std::string(key) + "\"");
    }
  }
  for (const auto& [key, value] : op.as_object()) {
    if (key == "op") continue;
    bool known =
        std::find(shape->required.begin(), shape->required.end(), key) != shape->required.end() ||
        std::find(shape->optional.begin(), shape->optional.end(), key) != shape->optional.end();
    if (!known) {
      return InvalidArgument(OpLabel(i) + " (" + std::string(shape->name) + "): unknown key \"" +
                             key + "\"");
    }
    bool ok = true;
    if (key == "entity" || key == "relation" || key == "as") ok = value.is_string();
    if (key == "values" || key == "set" || key == "key") ok = value.is_object();
    if (key == "if_version") ok = value.is_int() && value.as_int() >= 0;
    if (!ok) {
      std::string expected = key == "if_version" ? "a non-negative integer"
                             : key == "entity" || key == "relation" || key == "as" ? "a string"
                                                                                   : "an object";
      return InvalidArgument(OpLabel(i) + " (" + std::string(shape->name) + "): \"" + key +
                             "\" must be " + expected);
    }
  }
  return Status::Ok();
}

class Executor {
 public:
  Executor(storage::WriteTxn& txn, const CompiledSchema& schema,
           const catalog::LayoutLookup& layouts, MutationResult* result, const WritePolicy* policy)
      : txn_(txn), schema_(schema), layouts_(layouts), result_(result), policy_(policy) {}

  RowLookup LookupFor(const EntityInfo& e, RowId id, const DecodedRow& row) {
    return StoredRowLookup(txn_, schema_, layouts_, e, id, row);
  }

  // The access rules for one write (WritePolicy in mutation.h).
  Status CheckWrite(const EntityInfo& e, uint8_t op, RowId id, const DecodedRow* before,
                    const DecodedRow* after) {
    if (policy_ == nullptr) return Status::Ok();
    const PolicySet& set = *policy_->set;
    const Principal& who = *policy_->principal;
    RowLookup none;
    if (before != nullptr) {
      RowLookup b = LookupFor(e, id, *before);
      ORMDB_RETURN_IF_ERROR(CheckRowAccess(set, who, e, catalog::kPolicyRead, b, none));
      ORMDB_RETURN_IF_ERROR(CheckRowAccess(set, who, e, op, b, b));
    }
    if (after != nullptr) {
      RowLookup a = LookupFor(e, id, *after);
      RowLookup b = before ? LookupFor(e, id, *before) : none;
      if (op != catalog::kPolicyUpdate || before == nullptr) {
        ORMDB_RETURN_IF_ERROR(CheckRowAccess(set, who, e, op, a, b));
      } else {
        ORMDB_RETURN_IF_ERROR(CheckRowAccess(set, who, e, op, a, b));
        for (size_t f = 0; f < e.fields.size(); ++f) {
          if (before->fields[f] == after->fields[f]) continue;
          ORMDB_RETURN_IF_ERROR(CheckFieldAccess(set, who, e, f, catalog::kPolicyUpdate, a, b));
        }
      }
    }
    return Status::Ok();
  }

  Status FlushMaintained() { return maintained_.Flush(txn_); }

  Status Run(const Json& ops, const std::vector<std::string>& labels) {
    for (size_t i = 0; i < ops.as_array().size(); ++i) {
      const Json& op = ops.as_array()[i];
      const std::string& kind = op.Find("op")->as_string();
      Json out = Json::Object();
      Status st;
      if (kind == "insert")
        st = Insert(op, &out);
      else if (kind == "update")
        st = Update(op, &out);
      else if (kind == "upsert")
        st = Upsert(op, &out);
      else if (kind == "delete")
        st = Delete(op, &out);
      else
        st = LinkOp(op, kind == "link", &out);
      if (!st.ok()) {
        std::string label = (i < labels.size() ? labels[i] : OpLabel(i)) + " (" + kind;
        if (const Json* e = op.Find("entity")) label += " " + e->as_string();
        if (const Json* r = op.Find("relation")) label += " " + r->as_string();
        return st.WithContext(label + ")");
      }
      result_->results.Push(std::move(out));
    }
    return Status::Ok();
  }

 private:
  struct Ref {
    EntityTypeId entity;
    RowId id = 0;
    Json external;
  };

  Result<const EntityInfo*> EntityOf(const Json& op) {
    return schema_.RequireEntity(op.Find("entity")->as_string());
  }

  Json ExternalId(const EntityInfo& e, RowId id, const DecodedRow& row) {
    if (e.uuid_id) return ValueToJson(row.uuid);
    return Json(static_cast<int64_t>(id));
  }

  // An id given in the request: an external id or {"ref": name}. `what`
  // names it in errors (built only for one).
  Result<RowId> ResolveId(const EntityInfo& e, const Json& j, std::string_view what) {
    return ResolveId(e, j, [what] { return std::string(what); });
  }
  template <std::invocable What>
  Result<RowId> ResolveId(const EntityInfo& e, const Json& j, const What& what) {
    if (j.is_object()) {
      const Json* name = j.Find("ref");
      if (!name || !name->is_string() || j.size() != 1) {
        return InvalidArgument(what() + ": expected an id or {\"ref\": name}");
      }
      auto it = refs_.find(name->as_string());
      if (it == refs_.end()) {
        return InvalidArgument(what() + ": unknown ref \"" + name->as_string() +
                               "\" (refs name earlier inserts of the batch)");
      }
      if (it->second.entity != e.id) {
        const EntityInfo* other = schema_.EntityById(it->second.entity);
        return InvalidArgument(what() + ": ref \"" + name->as_string() + "\" is a " +
                               (other ? other->name : "?") + ", expected a " + e.name);
      }
      return it->second.id;
    }
    auto id = ResolveExternalId(txn_, e, j);
    if (!id.ok()) return id.status().WithContext(what());
    return id;
  }

  Result<std::optional<DecodedRow>> Load(const EntityInfo& e, RowId id) {
    ORMDB_ASSIGN_OR_RETURN(auto rec, txn_.Get(e.id, id));
    if (!rec) return std::optional<DecodedRow>();
    ORMDB_ASSIGN_OR_RETURN(
        DecodedRow row, catalog::DecodeEntityRow(rec->bytes_in_txn, e, schema_.number(), layouts_));
    return std::optional<DecodedRow>(std::move(row));
  }

  Result<DecodedRow> Require(const EntityInfo& e, RowId id, const Json& shown) {
    ORMDB_ASSIGN_OR_RETURN(auto row, Load(e, id));
    if (!row) return NotFound(e.name + " " + ToJson(shown) + " does not exist");
    return std::move(*row);
  }

  // NOT_FOUND (with the message `missing` builds) unless row `id` of
  // `target` is live in this transaction. Only that it exists: the row is not
  // decoded. A row found once is remembered until a delete of this batch (a
  // bulk insert names the same rows again and again).
  template <typename Message>
  Status RequireLive(const EntityInfo& target, RowId id, const Message& missing) {
    std::unordered_set<RowId>& known = known_live_[target.id.value];
    if (known.count(id)) return Status::Ok();
    ORMDB_ASSIGN_OR_RETURN(auto row, txn_.Get(target.id, id));
    if (!row) return NotFound(missing());
    known.insert(id);
    return Status::Ok();
  }

  // Sets the fields named in `values` on *row (insert: every field).
  Status AssignFields(const EntityInfo& e, const Json& values, DecodedRow* row,
                      std::set<size_t>* assigned) {
    for (const auto& [name, j] : values.as_object()) {
      if (name == "id") continue;  // handled by the caller
      int pos = e.FieldIndex(name);
      if (pos < 0) {
        const catalog::Entity* decl = schema_.schema().FindEntity(e.name);
        if (decl && decl->FindCollection(name)) {
          return SchemaError(e.name + "." + name +
                             " is a to-many relation and stores nothing in the row; use link "
                             "(many-to-many) or set the reference on the other side");
        }
        std::vector<std::string> names{"id"};
        for (const FieldInfo& f : e.fields) names.push_back(f.name);
        std::string hint = catalog::NearestName(name, names);
        return SchemaError("entity " + e.name + " has no field '" + name + "'" +
                           (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
      const FieldInfo& f = e.fields[pos];
      Value v;
      if (f.type == FieldType::kRef) {
        if (!j.is_null()) {
          const EntityInfo* target = schema_.EntityById(f.ref_target);
          const Json& given = j;  // a structured binding cannot be captured (C++17)
          auto what = [&] { return "field " + e.name + "." + f.name; };
          ORMDB_ASSIGN_OR_RETURN(RowId tid, ResolveId(*target, given, what));
          ORMDB_RETURN_IF_ERROR(RequireLive(*target, tid, [&] {
            return what() + ": " + target->name + " " + ToJson(given) + " does not exist";
          }));
          v = Value::Int64(static_cast<int64_t>(tid));
        }
      } else {
        ORMDB_ASSIGN_OR_RETURN(v, FieldValueFromJson(e.name, f, j));
      }
      row->fields[pos] = std::move(v);
      row->unconvertible.erase(
          std::remove(row->unconvertible.begin(), row->unconvertible.end(), size_t(pos)),
          row->unconvertible.end());
      if (assigned) assigned->insert(pos);
    }
    return Status::Ok();
  }

  Value ExternalIdValue(const EntityInfo& e, RowId id, const DecodedRow& row) {
    return e.uuid_id ? row.uuid : Value::Int64(static_cast<int64_t>(id));
  }

  // Writes `after` as the new state of row `id`, maintaining every index.
  // A null `before` is an insert of an id that holds no live row.
  Status WriteRow(const EntityInfo& e, RowId id, const DecodedRow* before,
                  const DecodedRow& after) {
    ORMDB_RETURN_IF_ERROR(catalog::CheckRowConstraints(e, after, ExternalIdValue(e, id, after)));
    ORMDB_ASSIGN_OR_RETURN(std::string bytes,
                           catalog::EncodeEntityRow(e, schema_.number(), after.fields, after.uuid));
    // Without a row before, the caller made sure the id holds no live row.
    ORMDB_RETURN_IF_ERROR(before ? txn_.PutRow(e.id, id, bytes) : txn_.InsertRow(e.id, id, bytes));
    if (!e.maintained.empty()) maintained_.Note(e, before, &after);
    for (const IndexInfo& ix : e.indexes) {
      bool null_after = false;
      std::string key_after = catalog::IndexKeyValues(ix, after, &null_after);
      if (before) {
        bool null_before = false;
        std::string key_before = catalog::IndexKeyValues(ix, *before, &null_before);
        if (key_before == key_after) continue;
        Status st = txn_.IndexRemove(ix.id, key_before, id);
        // A building index may not have reached this row yet.
        if (!st.ok() && !(st.code() == ErrorCode::kNotFound && !ix.ready)) return st;
      }
      RowId clash = 0;
      Status st = txn_.IndexInsert(ix.id, key_after, id, ix.unique && !null_after, &clash);
      if (st.code() == ErrorCode::kConstraintViolation) {
        std::string what;
        if (ix.id_index) {
          what = "id " + after.uuid.DebugString();
        } else {
          for (size_t k = 0; k < ix.fields.size(); ++k) {
            what += (k ? ", " : "") +
                    catalog::DescribeField(e, ix.fields[k], after.fields[ix.fields[k]]);
          }
        }
        return ConstraintViolation("unique " + ix.name + ": " + what + " is already held by " +
                                   e.name + " " + std::to_string(clash));
      }
      ORMDB_RETURN_IF_ERROR(st);
    }
    return Status::Ok();
  }

  void SetDefaults(const EntityInfo& e, DecodedRow* row) {
    for (size_t i = 0; i < e.fields.size(); ++i) {
      const FieldInfo& f = e.fields[i];
      switch (f.default_kind) {
        case catalog::DefaultSpec::Kind::kNow:
          row->fields[i] = Value::Timestamp(txn_.commit_time_micros());
          break;
        case catalog::DefaultSpec::Kind::kUuid:
          row->fields[i] = Value::MakeUuid(RandomUuidV4());
          break;
        default:
          row->fields[i] = f.default_value;
      }
    }
  }

  Status Insert(const Json& op, Json* out) {
    ORMDB_ASSIGN_OR_RETURN(const EntityInfo* e, EntityOf(op));
    RowId id = 0;
    ORMDB_ASSIGN_OR_RETURN(id, InsertRow(*e, *op.Find("values")));
    return Finish(op, *e, id, out);
  }

  Result<RowId> InsertRow(const EntityInfo& e, const Json& values) {
    DecodedRow row;
    row.fields.resize(e.fields.size());
    SetDefaults(e, &row);
    ORMDB_RETURN_IF_ERROR(AssignFields(e, values, &row, nullptr));
    RowId id = 0;
    const Json* given = values.Find("id");
    if (e.uuid_id) {
      if (given && !given->is_null()) {
        auto u =
            given->is_string() ? ParseUuid(given->as_string()) : Result<Uuid>(InvalidArgument(""));
        if (!u.ok())
          return InvalidArgument("id of " + e.name + " must be a uuid string, not " +
                                 ToJson(*given));
        row.uuid = Value::MakeUuid(*u);
      } else {
        row.uuid = Value::MakeUuid(RandomUuidV4());
      }
      ORMDB_ASSIGN_OR_RETURN(id, txn_.AllocateId(e.id));
    } else if (given && !given->is_null()) {
      if (!given->is_int() || given->as_int() <= 0) {
        return InvalidArgument("id of " + e.name + " must be a positive integer, not " +
                               ToJson(*given));
      }
      id = static_cast<RowId>(given->as_int());
      ORMDB_ASSIGN_OR_RETURN(auto existing, txn_.Get(e.id, id));
      if (existing) {
        return ConstraintViolation(e.name + " " + std::to_string(id) + " already exists");
      }
      ORMDB_RETURN_IF_ERROR(txn_.NoteId(e.id, id));
    } else {
      ORMDB_ASSIGN_OR_RETURN(id, txn_.AllocateId(e.id));
    }
    ORMDB_RETURN_IF_ERROR(CheckWrite(e, catalog::kPolicyCreate, id, nullptr, &row));
    ORMDB_RETURN_IF_ERROR(WriteRow(e, id, nullptr, row));
    return id;
  }

  // Records the result (and the ref) of an op that wrote row `id`.
  Status Finish(const Json& op, const EntityInfo& e, RowId id, Json* out) {
    Json ext(static_cast<int64_t>(id));
    if (e.uuid_id) {  // the uuid lives in the row
      ORMDB_ASSIGN_OR_RETURN(auto row, Load(e, id));
      if (row) ext = ExternalId(e, id, *row);
    }
    out->Set("id", ext);
    if (const Json* as = op.Find("as")) {
      const std::string& name = as->as_string();
      if (refs_.count(name)) return InvalidArgument("ref \"" + name + "\" is defined twice");
      refs_[name] = Ref{e.id, id, ext};
      result_->refs.Set(name, ext);
    }
    return Status::Ok();
  }

  // The existing row an update or delete names by "id", after its
  // "if_version" check.
  Result<RowId> Target(const EntityInfo& e, const Json& op, DecodedRow* row) {
    const Json& idj = *op.Find("id");
    ORMDB_ASSIGN_OR_RETURN(RowId id, ResolveId(e, idj, "id"));
    ORMDB_ASSIGN_OR_RETURN(*row, Require(e, id, idj));
    if (const Json* v = op.Find("if_version")) {
      ORMDB_RETURN_IF_ERROR(
          txn_.CheckRowUnchangedSince(e.id, id, static_cast<Version>(v->as_int())));
    }
    return id;
  }

  Status Update(const Json& op, Json* out) {
    ORMDB_ASSIGN_OR_RETURN(const EntityInfo* e, EntityOf(op));
    DecodedRow before;
    ORMDB_ASSIGN_OR_RETURN(RowId id, Target(*e, op, &before));
    const Json& set = *op.Find("set");
    if (set.Find("id")) return InvalidArgument("\"set\" cannot change the id");
    DecodedRow after = before;
    ORMDB_RETURN_IF_ERROR(AssignFields(*e, set, &after, nullptr));
    ORMDB_RETURN_IF_ERROR(CheckWrite(*e, catalog::kPolicyUpdate, id, &before, &after));
    ORMDB_RETURN_IF_ERROR(WriteRow(*e, id, &before, after));
    out->Set("id", ExternalId(*e, id, after));
    return Status::Ok();
  }

  // The row holding exactly `key` in a unique index, by index lookup (or a
  // scan while the index is still being built).
  Result<std::optional<RowId>> FindByKey(const EntityInfo& e, const IndexInfo& ix,
                                         const DecodedRow& probe) {
    bool any_null = false;
    std::string encoded = catalog::IndexKeyValues(ix, probe, &any_null);
    if (any_null) return std::optional<RowId>();  // a null matches nothing
    std::optional<RowId> found;
    Status st;
    auto matches = [&](RowId id) -> Result<bool> {
      ORMDB_ASSIGN_OR_RETURN(auto row, Load(e, id));
      if (!row) return false;
      bool n = false;
      return catalog::IndexKeyValues(ix, *row, &n) == encoded;
    };
    if (ix.ready) {
      std::string part = storage::IndexValuePart(encoded, nullptr, txn_.max_index_value_bytes());
      ORMDB_RETURN_IF_ERROR(txn_.ScanIndex(ix.id, part, storage::PrefixSuccessor(part),
                                           storage::ScanDirection::kForward,
                                           [&](const storage::IndexEntry& entry) {
                                             if (entry.value_part_in_txn != part) return true;
                                             auto m = matches(entry.id);
                                             if (!m.ok())
                                               st = m.status();
                                             else if (*m)
                                               found = entry.id;
                                             return st.ok() && !found;
                                           }));
    } else {
      ORMDB_RETURN_IF_ERROR(txn_.ScanRows(e.id, 0, storage::ScanDirection::kForward,
                                          [&](RowId id, const storage::RowRecord&) {
                                            auto m = matches(id);
                                            if (!m.ok())
                                              st = m.status();
                                            else if (*m)
                                              found = id;
                                            return st.ok() && !found;
                                          }));
    }
    ORMDB_RETURN_IF_ERROR(st);
    return found;
  }

  Status Upsert(const Json& op, Json* out) {
    ORMDB_ASSIGN_OR_RETURN(const EntityInfo* e, EntityOf(op));
    const Json& key = *op.Find("key");
    const Json& values = *op.Find("values");
    std::set<size_t> key_fields;
    DecodedRow probe;
    probe.fields.resize(e->fields.size());
    ORMDB_RETURN_IF_ERROR(AssignFields(*e, key, &probe, &key_fields));
    const IndexInfo* unique = nullptr;
    for (const IndexInfo& ix : e->indexes) {
      if (ix.unique && !ix.id_index &&
          std::set<size_t>(ix.fields.begin(), ix.fields.end()) == key_fields) {
        unique = &ix;
      }
    }
    if (!unique || key.Find("id")) {
      std::string declared;
      for (const IndexInfo& ix : e->indexes) {
        if (ix.unique && !ix.id_index) declared += (declared.empty() ? "" : ", ") + ix.name;
      }
      return InvalidArgument("upsert needs \"key\" to be exactly the fields of a unique index of " +
                             e->name + " (declared: " + (declared.empty() ? "none" : declared) +
                             ")");
    }
    ORMDB_ASSIGN_OR_RETURN(std::optional<RowId> match, FindByKey(*e, *unique, probe));
    RowId id = 0;
    if (match) {
      id = *match;
      ORMDB_ASSIGN_OR_RETURN(DecodedRow before, Require(*e, id, Json(static_cast<int64_t>(id))));
      DecodedRow after = before;
      ORMDB_RETURN_IF_ERROR(AssignFields(*e, values, &after, nullptr));
      ORMDB_RETURN_IF_ERROR(CheckWrite(*e, catalog::kPolicyUpdate, id, &before, &after));
      ORMDB_RETURN_IF_ERROR(WriteRow(*e, id, &before, after));
    } else {
      Json merged = key;
      for (const auto& [k, v] : values.as_object()) merged.Set(k, v);
      ORMDB_ASSIGN_OR_RETURN(id, InsertRow(*e, merged));
    }
    ORMDB_RETURN_IF_ERROR(Finish(op, *e, id, out));
    out->Set("inserted", !match.has_value());
    return Status::Ok();
  }

  Status Delete(const Json& op, Json* out) {
    ORMDB_ASSIGN_OR_RETURN(const EntityInfo* e, EntityOf(op));
    DecodedRow row;
    ORMDB_ASSIGN_OR_RETURN(RowId id, Target(*e, op, &row));
    ORMDB_RETURN_IF_ERROR(CheckWrite(*e, catalog::kPolicyDelete, id, &row, nullptr));
    out->Set("id", ExternalId(*e, id, row));
    deleting_.clear();
    uint64_t cascaded = 0;
    ORMDB_RETURN_IF_ERROR(DeleteRow(*e, id, &cascaded));
    if (cascaded) out->Set("cascaded", static_cast<int64_t>(cascaded));
    return Status::Ok();
  }

  // Rows of `e` whose field `pos` equals `v` (a reference), in id order.
  Result<std::vector<RowId>> RowsReferencing(const EntityInfo& e, size_t pos, const Value& v) {
    std::vector<RowId> out;
    const IndexInfo* by = nullptr;
    for (const IndexInfo& ix : e.indexes) {
      if (ix.ready && !ix.fields.empty() && ix.fields[0] == pos) {
        by = &ix;
        break;
      }
    }
    if (by) {
      std::string prefix;
      storage::AppendKey(&prefix, v);
      // Multi-field keys are longer than the prefix; single-field keys equal it.
      ORMDB_RETURN_IF_ERROR(txn_.ScanIndex(by->id, prefix, storage::PrefixSuccessor(prefix),
                                           storage::ScanDirection::kForward,
                                           [&](const storage::IndexEntry& entry) {
                                             out.push_back(entry.id);
                                             return true;
                                           }));
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
      return out;
    }
    Status st;
    ORMDB_RETURN_IF_ERROR(txn_.ScanRows(
        e.id, 0, storage::ScanDirection::kForward, [&](RowId id, const storage::RowRecord& rec) {
          auto row = catalog::DecodeEntityRow(rec.bytes_in_txn, e, schema_.number(), layouts_);
          if (!row.ok()) {
            st = row.status();
            return false;
          }
          if (row->fields[pos] == v) out.push_back(id);
          return true;
        }));
    ORMDB_RETURN_IF_ERROR(st);
    return out;
  }

  // Deletes a row after applying the on_delete rule of every reference to it
  // (recursively; a row already being deleted is skipped, so cycles end).
  Status DeleteRow(const EntityInfo& e, RowId id, uint64_t* cascaded) {
    if (!deleting_.insert({e.id.value, id}).second) return Status::Ok();
    known_live_.clear();
    ORMDB_ASSIGN_OR_RETURN(auto current, Load(e, id));
    if (!current) return Status::Ok();  // already gone in this batch
    Value self = Value::Int64(static_cast<int64_t>(id));
    for (const catalog::ReferenceIn& ref : e.referenced_by) {
      const EntityInfo* src = schema_.EntityById(ref.from_entity);
      const FieldInfo& f = src->fields[ref.field];
      ORMDB_ASSIGN_OR_RETURN(std::vector<RowId> rows, RowsReferencing(*src, ref.field, self));
      for (RowId rid : rows) {
        if (deleting_.count({src->id.value, rid})) continue;
        switch (f.on_delete) {
          case catalog::OnDelete::kRestrict:
            return ConstraintViolation("cannot delete " + e.name + " " +
                                       ExternalIdText(e, id, *current) + ": " + src->name + " " +
                                       std::to_string(rid) + " references it through " + src->name +
                                       "." + f.name + " (on_delete restrict)");
          case catalog::OnDelete::kCascade:
            ++*cascaded;
            ORMDB_RETURN_IF_ERROR(DeleteRow(*src, rid, cascaded));
            break;
          case catalog::OnDelete::kSetNull: {
            ORMDB_ASSIGN_OR_RETURN(auto before, Load(*src, rid));
            if (!before) break;
            DecodedRow after = *before;
            after.fields[ref.field] = Value();
            ORMDB_RETURN_IF_ERROR(WriteRow(*src, rid, &*before, after));
            break;
          }
        }
      }
    }
    // Edges go with the row.
    for (const catalog::EdgeEnd& end : e.edges) {
      std::vector<RowId> others;
      ORMDB_RETURN_IF_ERROR(txn_.ScanEdges(
          end.relation,
          end.forward ? storage::EdgeDirection::kForward : storage::EdgeDirection::kBackward, id,
          [&](RowId to) {
            others.push_back(to);
            return true;
          }));
      for (RowId other : others) {
        ORMDB_RETURN_IF_ERROR(end.forward ? txn_.Unlink(end.relation, id, other).status()
                                          : txn_.Unlink(end.relation, other, id).status());
      }
    }
    for (const IndexInfo& ix : e.indexes) {
      bool any_null = false;
      Status st = txn_.IndexRemove(ix.id, catalog::IndexKeyValues(ix, *current, &any_null), id);
      if (!st.ok() && !(st.code() == ErrorCode::kNotFound && !ix.ready)) return st;
    }
    if (!e.maintained.empty()) maintained_.Note(e, &*current, nullptr);
    return txn_.DeleteRow(e.id, id);
  }

  std::string ExternalIdText(const EntityInfo& e, RowId id, const DecodedRow& row) {
    return ToJson(ExternalId(e, id, row));
  }

  Status LinkOp(const Json& op, bool link, Json* out) {
    ORMDB_ASSIGN_OR_RETURN(auto rel, schema_.FindRelation(op.Find("relation")->as_string()));
    auto [edge, forward] = rel;
    const EntityInfo* from_e = schema_.EntityById(forward ? edge->from : edge->to);
    const EntityInfo* to_e = schema_.EntityById(forward ? edge->to : edge->from);
    ORMDB_ASSIGN_OR_RETURN(RowId from, ResolveId(*from_e, *op.Find("from"), "from"));
    ORMDB_ASSIGN_OR_RETURN(RowId to, ResolveId(*to_e, *op.Find("to"), "to"));
    ORMDB_ASSIGN_OR_RETURN(DecodedRow from_row, Require(*from_e, from, *op.Find("from")));
    ORMDB_ASSIGN_OR_RETURN(DecodedRow to_row, Require(*to_e, to, *op.Find("to")));
    // Linking changes both ends' relations: an update of each.
    ORMDB_RETURN_IF_ERROR(CheckWrite(*from_e, catalog::kPolicyUpdate, from, &from_row, &from_row));
    ORMDB_RETURN_IF_ERROR(CheckWrite(*to_e, catalog::kPolicyUpdate, to, &to_row, &to_row));
    RowId a = forward ? from : to, b = forward ? to : from;
    bool changed = false;
    if (link) {
      ORMDB_ASSIGN_OR_RETURN(changed, txn_.Link(edge->id, a, b));
    } else {
      ORMDB_ASSIGN_OR_RETURN(changed, txn_.Unlink(edge->id, a, b));
    }
    out->Set("changed", changed);
    return Status::Ok();
  }

  storage::WriteTxn& txn_;
  const CompiledSchema& schema_;
  const catalog::LayoutLookup& layouts_;
  MutationResult* result_;
  const WritePolicy* policy_;
  std::unordered_map<std::string, Ref> refs_;
  // Rows found live by RequireLive, by entity type; cleared by every delete.
  std::unordered_map<uint32_t, std::unordered_set<RowId>> known_live_;
  std::set<std::pair<uint32_t, RowId>> deleting_;
  // The changes of this batch to the records of @maintain collections.
  catalog::MaintainedChanges maintained_;
};

}  // namespace

Result<MutationBatch> MutationBatchFromJson(Json doc) {
  if (!doc.is_object())
    return InvalidArgument("a mutation batch must be an object {\"ops\": [...]}");
  for (const auto& [key, v] : doc.as_object()) {
    if (key != "ops")
      return InvalidArgument("unknown key \"" + key + "\" in the batch (expected \"ops\")");
  }
  Json* ops = doc.Find("ops");
  if (!ops || !ops->is_array()) return InvalidArgument("a mutation batch needs \"ops\": [...]");
  if (ops->as_array().empty()) return InvalidArgument("\"ops\" is empty");
  for (size_t i = 0; i < ops->as_array().size(); ++i) {
    ORMDB_RETURN_IF_ERROR(CheckOpShape(i, ops->as_array()[i]));
  }
  MutationBatch batch;
  batch.ops = std::move(*ops);
  return batch;
}

Result<MutationBatch> ParseMutationBatch(std::string_view text) {
  ORMDB_ASSIGN_OR_RETURN(Json doc, ParseJson(text));
  return MutationBatchFromJson(std::move(doc));
}

std::string MutationResult::ToJsonText() const {
  Json r = Json::Object();
  r.Set("version", static_cast<int64_t>(version));
  r.Set("refs", refs);
  r.Set("results", results);
  return ToJson(r);
}

Status ApplyMutations(storage::WriteTxn& txn, const CompiledSchema& schema,
                      const catalog::LayoutLookup& layouts, const MutationBatch& batch,
                      MutationResult* result, const WritePolicy* policy) {
  *result = MutationResult();
  Executor ex(txn, schema, layouts, result, policy);
  ORMDB_RETURN_IF_ERROR(ex.Run(batch.ops, batch.labels));
  return ex.FlushMaintained();
}

Result<RowId> ResolveExternalId(storage::TxnReader& txn, const EntityInfo& e, const Json& id) {
  if (!e.uuid_id) {
    if (!id.is_int() || id.as_int() <= 0) {
      return InvalidArgument(e.name + " ids are positive integers, not " + ToJson(id));
    }
    return static_cast<RowId>(id.as_int());
  }
  auto u = id.is_string() ? ParseUuid(id.as_string()) : Result<Uuid>(InvalidArgument(""));
  if (!u.ok()) return InvalidArgument(e.name + " ids are uuid strings, not " + ToJson(id));
  const IndexInfo* ix = nullptr;
  for (const IndexInfo& i : e.indexes) {
    if (i.id_index) ix = &i;
  }
  if (!ix) return Internal("no id index for " + e.name);
  std::string encoded;
  storage::AppendKey(&encoded, Value::MakeUuid(*u));
  std::string part = storage::IndexValuePart(encoded, nullptr, txn.max_index_value_bytes());
  std::optional<RowId> found;
  ORMDB_RETURN_IF_ERROR(txn.ScanIndex(ix->id, part, storage::PrefixSuccessor(part),
                                      storage::ScanDirection::kForward,
                                      [&](const storage::IndexEntry& entry) {
                                        if (entry.value_part_in_txn == part) found = entry.id;
                                        return !found;
                                      }));
  if (!found) return NotFound(e.name + " " + ToJson(id) + " does not exist");
  return *found;
}

Result<Json> RowToJson(storage::TxnReader& txn, const CompiledSchema& schema,
                       const catalog::LayoutLookup& layouts, const EntityInfo& e, RowId id,
                       const DecodedRow& row) {
  Json obj = Json::Object();
  obj.Set("id", e.uuid_id ? ValueToJson(row.uuid) : Json(static_cast<int64_t>(id)));
  for (size_t i = 0; i < e.fields.size(); ++i) {
    const FieldInfo& f = e.fields[i];
    const Value& v = row.fields[i];
    if (f.type != FieldType::kRef || v.is_null()) {
      obj.Set(f.name, ValueToJson(v));
      continue;
    }
    const EntityInfo* target = schema.EntityById(f.ref_target);
    if (!target->uuid_id) {
      obj.Set(f.name, Json(v.as_int64()));
      continue;
    }
    // A uuid entity is referenced by its uuid.
    ORMDB_ASSIGN_OR_RETURN(auto rec, txn.Get(target->id, static_cast<RowId>(v.as_int64())));
    if (!rec) {
      obj.Set(f.name, Json());
      continue;
    }
    ORMDB_ASSIGN_OR_RETURN(DecodedRow trow, catalog::DecodeEntityRow(rec->bytes_in_txn, *target,
                                                                     schema.number(), layouts));
    obj.Set(f.name, ValueToJson(trow.uuid));
  }
  return obj;
}

}  // namespace ormdb::query
