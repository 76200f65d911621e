#include "catalog/compiled_schema.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "catalog/maintained.h"
#include "common/json.h"
#include "common/suggest.h"
#include "common/timestamp.h"
#include "common/uuid.h"

namespace ormdb::catalog {
namespace {

std::string Where(std::string_view file_name, SourcePos pos) {
  if (pos.line == 0) return std::string(file_name.empty() ? "schema" : file_name);
  return std::string(file_name.empty() ? "schema" : file_name) + ":" + std::to_string(pos.line) +
         ":" + std::to_string(pos.column);
}

std::string IndexDisplayName(const Entity& e, const Index& ix) {
  std::string s = e.name + "(";
  for (size_t i = 0; i < ix.fields.size(); ++i) s += (i ? ", " : "") + ix.fields[i];
  return s + ")";
}

// Whether the fields of `ix` are stored with the same types in both
// declarations. A widening type change (int32 to int64) changes how an
// index encodes the field: the index is then a new one, built online.
bool SameKeyTypes(const Entity& old_e, const Entity& e, const Index& ix) {
  for (const std::string& name : ix.fields) {
    const Field* of = old_e.FindField(name);
    const Field* nf = e.FindField(name);
    if (of == nullptr && nf == nullptr) continue;  // not a declared field
    if (of == nullptr || nf == nullptr || PhysicalType(of->type) != PhysicalType(nf->type)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string IndexIdentity(const Entity& e, const Index& ix) {
  std::string s = IndexDisplayName(e, ix);
  if (ix.unique) s += " unique";
  return s;
}

std::string NearestName(std::string_view name, const std::vector<std::string>& candidates) {
  return ormdb::NearestName(name, candidates);
}

ValueType PhysicalType(FieldType t) {
  switch (t) {
    case FieldType::kBool:
      return ValueType::kBool;
    case FieldType::kInt32:
      return ValueType::kInt32;
    case FieldType::kInt64:
      return ValueType::kInt64;
    case FieldType::kFloat64:
      return ValueType::kFloat64;
    case FieldType::kString:
      return ValueType::kString;
    case FieldType::kBytes:
      return ValueType::kBytes;
    case FieldType::kTimestamp:
      return ValueType::kTimestamp;
    case FieldType::kUuid:
      return ValueType::kUuid;
    case FieldType::kJson:
      return ValueType::kJson;
    case FieldType::kEnum:
      return ValueType::kString;
    case FieldType::kRef:
      return ValueType::kInt64;
  }
  return ValueType::kNull;
}

std::string FieldTypeName(const Field& f) {
  if (f.type == FieldType::kEnum) return f.enum_name;
  if (f.type == FieldType::kRef) return f.target;
  return std::string(ValueTypeName(PhysicalType(f.type)));
}

Result<Value> ConvertDefault(const Field& f, const Enum* enum_def) {
  const DefaultSpec& d = f.default_value;
  auto bad = [&](std::string why) { return SchemaError("@default of " + f.name + ": " + why); };
  switch (d.kind) {
    case DefaultSpec::Kind::kNone:
    case DefaultSpec::Kind::kNow:
    case DefaultSpec::Kind::kUuid:
      return Value();
    case DefaultSpec::Kind::kNull:
      if (!f.optional) return bad("null on a required field");
      return Value();
    case DefaultSpec::Kind::kBool:
      if (f.type != FieldType::kBool) return bad("a bool does not fit " + FieldTypeName(f));
      return Value::Bool(d.text == "true");
    case DefaultSpec::Kind::kInt: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(d.text.data(), d.text.data() + d.text.size(), v);
      if (ec != std::errc() || p != d.text.data() + d.text.size()) {
        return bad("integer " + d.text + " is out of range");
      }
      switch (f.type) {
        case FieldType::kInt32:
          if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
            return bad(d.text + " is out of range for int32");
          }
          return Value::Int32(static_cast<int32_t>(v));
        case FieldType::kInt64:
          return Value::Int64(v);
        case FieldType::kFloat64:
          return Value::Float64(static_cast<double>(v));
        case FieldType::kTimestamp:
          return Value::Timestamp(v);
        default:
          return bad("an integer does not fit " + FieldTypeName(f));
      }
    }
    case DefaultSpec::Kind::kFloat: {
      if (f.type != FieldType::kFloat64) return bad("a number does not fit " + FieldTypeName(f));
      double v = 0;
      auto [p, ec] = std::from_chars(d.text.data(), d.text.data() + d.text.size(), v);
      if (ec != std::errc() || !std::isfinite(v)) return bad("bad number " + d.text);
      return Value::Float64(v);
    }
    case DefaultSpec::Kind::kString:
      switch (f.type) {
        case FieldType::kString:
          return Value::String(d.text);
        case FieldType::kBytes:
          return Value::Bytes(d.text);
        case FieldType::kJson: {
          auto j = ParseJson(d.text);
          if (!j.ok()) return bad("not JSON: " + j.status().message());
          return Value::Json(ToJson(*j));
        }
        case FieldType::kTimestamp: {
          auto t = ParseTimestamp(d.text);
          if (!t.ok()) return bad(t.status().message());
          return Value::Timestamp(*t);
        }
        case FieldType::kUuid: {
          auto u = ParseUuid(d.text);
          if (!u.ok()) return bad(u.status().message());
          return Value::MakeUuid(*u);
        }
        case FieldType::kEnum:
          if (enum_def && std::find(enum_def->values.begin(), enum_def->values.end(), d.text) !=
                              enum_def->values.end()) {
            return Value::String(d.text);
          }
          return bad("'" + d.text + "' is not a value of " + f.enum_name);
        default:
          return bad("a string does not fit " + FieldTypeName(f));
      }
    case DefaultSpec::Kind::kIdent:
      if (f.type != FieldType::kEnum || !enum_def) {
        return bad("'" + d.text + "' does not fit " + FieldTypeName(f));
      }
      if (std::find(enum_def->values.begin(), enum_def->values.end(), d.text) ==
          enum_def->values.end()) {
        std::string hint = NearestName(d.text, enum_def->values);
        return bad("'" + d.text + "' is not a value of " + f.enum_name +
                   (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
      return Value::String(d.text);
  }
  return bad("unsupported literal");
}

const MaintainedInfo* EntityInfo::MaintainedBy(size_t ref_field) const {
  for (const MaintainedInfo& m : maintained) {
    if (m.ref_field == ref_field) return &m;
  }
  return nullptr;
}

int EntityInfo::FieldIndex(std::string_view n) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == n) return static_cast<int>(i);
  }
  return -1;
}

const EntityInfo* CompiledSchema::FindEntity(std::string_view name) const {
  auto it = entity_by_name_.find(std::string(name));
  return it == entity_by_name_.end() ? nullptr : &entities_[it->second];
}

const EntityInfo* CompiledSchema::EntityById(EntityTypeId id) const {
  auto it = entity_by_id_.find(id.value);
  return it == entity_by_id_.end() ? nullptr : &entities_[it->second];
}

const EdgeInfo* CompiledSchema::EdgeById(RelationId id) const {
  for (const EdgeInfo& e : edges_) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

Result<const EntityInfo*> CompiledSchema::RequireEntity(std::string_view name) const {
  if (const EntityInfo* e = FindEntity(name)) return e;
  std::vector<std::string> names;
  for (const EntityInfo& e : entities_) names.push_back(e.name);
  std::string hint = NearestName(name, names);
  return SchemaError("unknown entity '" + std::string(name) + "'" +
                     (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

Result<std::pair<const EdgeInfo*, bool>> CompiledSchema::FindRelation(
    std::string_view qualified) const {
  std::vector<std::string> names;
  for (const EdgeInfo& e : edges_) {
    std::string fwd = e.from_entity + "." + e.from_collection;
    std::string back = e.to_entity + "." + e.to_collection;
    if (qualified == fwd) return std::make_pair(&e, true);
    if (qualified == back) return std::make_pair(&e, false);
    names.push_back(fwd);
    names.push_back(back);
  }
  std::string hint = NearestName(qualified, names);
  return SchemaError("unknown many-to-many relation '" + std::string(qualified) + "'" +
                     (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

std::vector<IndexId> CompiledSchema::building_indexes() const { return building_; }

Result<std::shared_ptr<CompiledSchema>> CompiledSchema::Build(Schema schema,
                                                              const CompiledSchema* previous,
                                                              uint32_t number,
                                                              int64_t commit_time_micros,
                                                              std::string_view file_name) {
  auto out = std::make_shared<CompiledSchema>();
  out->number_ = number;
  IdCounters c = previous ? previous->counters_ : IdCounters{};
  std::set<uint32_t> previously_building;
  if (previous) {
    for (IndexId id : previous->building_) previously_building.insert(id.value);
  }

  for (Entity& e : schema.entities) {
    const Entity* old_e = previous ? previous->schema_.FindEntity(e.name) : nullptr;
    e.id = old_e ? old_e->id : EntityTypeId(c.next_entity++);
    std::vector<Column> cols;
    if (old_e) cols = previous->columns_.at(e.name);
    // A uuid entity stores its id in a column of its own, with a unique index.
    if (e.uuid_id) {
      auto old_idf = previous && old_e && old_e->uuid_id
                         ? previous->id_fields_.find(e.name)
                         : std::map<std::string, FieldId>::const_iterator();
      FieldId idf;
      if (previous && old_e && old_e->uuid_id && old_idf != previous->id_fields_.end()) {
        idf = old_idf->second;
      } else {
        idf = FieldId(c.next_field++);
        cols.push_back(Column{idf, ValueType::kUuid, number, commit_time_micros});
      }
      out->id_fields_[e.name] = idf;
      Index id_ix;
      id_ix.fields = {"id"};
      id_ix.unique = true;
      id_ix.automatic = true;
      e.indexes.insert(e.indexes.begin(), id_ix);
    }
    // Columns of fields that no longer exist become always-null.
    std::set<uint32_t> live;
    for (Field& f : e.fields) {
      const Field* old_f = old_e ? old_e->FindField(f.name) : nullptr;
      // A field that changes between scalar and reference is a new field.
      bool same = old_f && (old_f->type == FieldType::kRef) == (f.type == FieldType::kRef);
      f.id = same ? old_f->id : FieldId(c.next_field++);
      live.insert(f.id.value);
      ValueType t = PhysicalType(f.type);
      auto col =
          std::find_if(cols.begin(), cols.end(), [&](const Column& x) { return x.field == f.id; });
      if (col == cols.end()) {
        cols.push_back(Column{f.id, t, number, commit_time_micros});
      } else {
        col->type = t;
      }
    }
    if (e.uuid_id) live.insert(out->id_fields_[e.name].value);
    for (Column& col : cols) {
      if (col.field.value != 0 && !live.count(col.field.value)) {
        col.field = FieldId(0);
        col.type = ValueType::kNull;
      }
    }
    out->columns_[e.name] = std::move(cols);
    for (Index& ix : e.indexes) {
      const Index* old_ix = nullptr;
      if (old_e) {
        for (const Index& o : old_e->indexes) {
          if (IndexIdentity(*old_e, o) == IndexIdentity(e, ix) && SameKeyTypes(*old_e, e, ix)) {
            old_ix = &o;
          }
        }
      }
      if (old_ix) {
        ix.id = old_ix->id;
        if (previously_building.count(ix.id.value)) out->building_.push_back(ix.id);
        auto ready = previous->ready_at_.find(ix.id.value);
        if (ready != previous->ready_at_.end()) out->ready_at_[ix.id.value] = ready->second;
      } else {
        ix.id = IndexId(c.next_index++);
        // An index of a new entity starts empty and complete: every row it
        // will ever hold is written after this version and indexed then.
        if (old_e) out->building_.push_back(ix.id);
      }
    }
  }
  for (EdgeRelation& r : schema.edges) {
    const EdgeRelation* old_r = previous ? previous->schema_.FindEdge(r.name) : nullptr;
    bool same = old_r && old_r->from_entity == r.from_entity && old_r->to_entity == r.to_entity;
    r.id = same ? old_r->id : RelationId(c.next_relation++);
  }
  out->counters_ = c;
  out->schema_ = std::move(schema);
  ORMDB_RETURN_IF_ERROR(out->Derive(file_name));
  return out;
}

Result<std::shared_ptr<CompiledSchema>> CompiledSchema::Restore(
    Schema schema, uint32_t number, IdCounters counters,
    std::map<std::string, std::vector<Column>> columns, std::map<std::string, FieldId> id_fields,
    std::vector<IndexId> building) {
  auto out = std::make_shared<CompiledSchema>();
  out->number_ = number;
  out->schema_ = std::move(schema);
  out->counters_ = counters;
  out->columns_ = std::move(columns);
  out->id_fields_ = std::move(id_fields);
  out->building_ = std::move(building);
  for (const Entity& e : out->schema_.entities) {
    if (!out->columns_.count(e.name)) return Internal("stored schema: no columns for " + e.name);
  }
  ORMDB_RETURN_IF_ERROR(out->Derive(""));
  return out;
}

std::shared_ptr<CompiledSchema> CompiledSchema::WithIndexReady(IndexId id) const {
  auto copy = std::make_shared<CompiledSchema>(*this);
  copy->building_.erase(std::remove(copy->building_.begin(), copy->building_.end(), id),
                        copy->building_.end());
  // Derive again so the pointers into schema_ (enum_def) point into the copy.
  Status st = copy->Derive("");
  assert(st.ok());
  (void)st;
  return copy;
}

void CompiledSchema::SetReadyAt(IndexId id, Version version) {
  ready_at_[id.value] = version;
  for (EntityInfo& e : entities_) {
    for (IndexInfo& ix : e.indexes) {
      if (ix.id == id) ix.ready_at = version;
    }
  }
}

Status CompiledSchema::Derive(std::string_view file_name) {
  entities_.clear();
  edges_.clear();
  entity_by_name_.clear();
  entity_by_id_.clear();
  std::set<uint32_t> building([&] {
    std::set<uint32_t> s;
    for (IndexId id : building_) s.insert(id.value);
    return s;
  }());
  for (const Entity& e : schema_.entities) {
    EntityInfo info;
    info.id = e.id;
    info.name = e.name;
    info.uuid_id = e.uuid_id;
    info.columns = columns_.at(e.name);
    for (const Column& col : info.columns) info.layout.push_back(col.type);
    auto column_of = [&](FieldId id) -> size_t {
      for (size_t i = 0; i < info.columns.size(); ++i) {
        if (info.columns[i].field == id) return i;
      }
      return SIZE_MAX;
    };
    if (e.uuid_id) {
      info.id_field = id_fields_.at(e.name);
      info.id_column = column_of(info.id_field);
      if (info.id_column == SIZE_MAX) return Internal("no column for the id of " + e.name);
    }
    for (const Field& f : e.fields) {
      FieldInfo fi;
      fi.id = f.id;
      fi.name = f.name;
      fi.type = f.type;
      fi.physical = PhysicalType(f.type);
      fi.column = column_of(f.id);
      if (fi.column == SIZE_MAX) return Internal("no column for field " + e.name + "." + f.name);
      fi.optional = f.optional;
      fi.default_kind = f.default_value.kind;
      if (f.type == FieldType::kEnum) {
        fi.enum_def = schema_.FindEnum(f.enum_name);
        if (!fi.enum_def) return SchemaError("unknown enum " + f.enum_name);
      }
      auto dv = ConvertDefault(f, fi.enum_def);
      if (!dv.ok()) return dv.status().WithContext(Where(file_name, f.default_value.pos));
      fi.default_value = *dv;
      fi.backfill_value = fi.default_value;
      if (f.default_value.kind == DefaultSpec::Kind::kNow) {
        fi.backfill_value = Value::Timestamp(info.columns[fi.column].added_at_micros);
      }
      if (f.type == FieldType::kRef) {
        fi.ref_target_name = f.target;
        const Entity* t = schema_.FindEntity(f.target);
        if (!t) return SchemaError("unknown entity " + f.target);
        fi.ref_target = t->id;
        fi.on_delete = f.on_delete;
      }
      if (!f.check.empty()) {
        auto expr = ParseCheckExpr(f.check);
        if (!expr.ok()) {
          return SchemaError(Where(file_name, f.check_pos) + ": @check of " + e.name + "." +
                             f.name + ": " + expr.status().message());
        }
        fi.check = std::shared_ptr<const CheckExpr>(std::move(*expr));
        fi.check_text = f.check;
      }
      info.fields.push_back(std::move(fi));
    }
    // Checks may name any field of the entity.
    auto verify_names = [&](const CheckExpr& expr, SourcePos pos, std::string_view what) -> Status {
      std::vector<std::string> names{"id"};
      for (const Field& f : e.fields) names.push_back(f.name);
      for (const std::string& n : expr.FieldNames()) {
        if (std::find(names.begin(), names.end(), n) != names.end()) continue;
        std::string hint = NearestName(n, names);
        return SchemaError(Where(file_name, pos) + ": " + std::string(what) + ": entity " + e.name +
                           " has no field '" + n + "'" +
                           (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
      return Status::Ok();
    };
    for (size_t i = 0; i < e.fields.size(); ++i) {
      if (info.fields[i].check) {
        ORMDB_RETURN_IF_ERROR(verify_names(*info.fields[i].check, e.fields[i].check_pos,
                                           "@check of " + e.name + "." + e.fields[i].name));
      }
    }
    for (size_t i = 0; i < e.checks.size(); ++i) {
      SourcePos pos = i < e.check_positions.size() ? e.check_positions[i] : SourcePos{};
      auto expr = ParseCheckExpr(e.checks[i]);
      if (!expr.ok()) {
        return SchemaError(Where(file_name, pos) + ": @@check of " + e.name + ": " +
                           expr.status().message());
      }
      ORMDB_RETURN_IF_ERROR(verify_names(**expr, pos, "@@check of " + e.name));
      info.checks.push_back(std::shared_ptr<const CheckExpr>(std::move(*expr)));
      info.check_texts.push_back(e.checks[i]);
    }
    for (const Index& ix : e.indexes) {
      IndexInfo ii;
      ii.id = ix.id;
      ii.name = IndexDisplayName(e, ix);
      ii.unique = ix.unique;
      ii.automatic = ix.automatic;
      ii.ready = !building.count(ix.id.value);
      if (auto it = ready_at_.find(ix.id.value); it != ready_at_.end()) ii.ready_at = it->second;
      if (e.uuid_id && ix.fields.size() == 1 && ix.fields[0] == "id") {
        ii.id_index = true;
      } else {
        for (const std::string& n : ix.fields) {
          int pos = info.FieldIndex(n);
          if (pos < 0) return SchemaError("index " + ii.name + ": no field " + n);
          ii.fields.push_back(static_cast<size_t>(pos));
        }
      }
      info.indexes.push_back(std::move(ii));
    }
    entity_by_name_[e.name] = entities_.size();
    entity_by_id_[e.id.value] = entities_.size();
    entities_.push_back(std::move(info));
  }
  for (EntityInfo& target : entities_) {
    for (const EntityInfo& src : entities_) {
      for (size_t i = 0; i < src.fields.size(); ++i) {
        if (src.fields[i].type == FieldType::kRef && src.fields[i].ref_target == target.id) {
          target.referenced_by.push_back(ReferenceIn{src.id, i});
        }
      }
    }
  }
  for (const Entity& e : schema_.entities) {
    for (const Collection& c : e.collections) {
      if (!c.maintained) continue;
      EntityInfo& child = entities_[entity_by_name_.at(c.target)];
      MaintainedInfo m;
      m.parent = FindEntity(e.name)->id;
      m.collection = e.name + "." + c.name;
      int ref = child.FieldIndex(c.inverse_field);
      if (ref < 0)
        return SchemaError("@maintain " + m.collection + ": no field " + c.inverse_field);
      m.ref_field = static_cast<size_t>(ref);
      m.record_type = MaintainedRecordType(child.fields[m.ref_field].id);
      for (const std::string& name : c.maintained_fields) {
        int pos = child.FieldIndex(name);
        if (pos < 0) return SchemaError("@maintain " + m.collection + ": no field " + name);
        m.fields.push_back(static_cast<size_t>(pos));
      }
      m.definition = MaintainedDefinition(child, m.fields);
      child.maintained.push_back(std::move(m));
    }
  }
  for (const EdgeRelation& r : schema_.edges) {
    EdgeInfo ei;
    ei.id = r.id;
    ei.name = r.name;
    ei.from_entity = r.from_entity;
    ei.from_collection = r.from_collection;
    ei.to_entity = r.to_entity;
    ei.to_collection = r.to_collection;
    const EntityInfo* from = FindEntity(r.from_entity);
    const EntityInfo* to = FindEntity(r.to_entity);
    if (!from || !to) return SchemaError("relation " + r.name + ": unknown entity");
    ei.from = from->id;
    ei.to = to->id;
    entities_[entity_by_name_[r.from_entity]].edges.push_back(EdgeEnd{r.id, true});
    if (r.to_entity != r.from_entity) {
      entities_[entity_by_name_[r.to_entity]].edges.push_back(EdgeEnd{r.id, false});
    } else {
      entities_[entity_by_name_[r.to_entity]].edges.push_back(EdgeEnd{r.id, false});
    }
    edges_.push_back(std::move(ei));
  }
  return Status::Ok();
}

}  // namespace ormdb::catalog
