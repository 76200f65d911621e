#include "catalog/migration.h"

#include <algorithm>
#include <set>

#include "common/json.h"

namespace ormdb::catalog {
namespace {

class PlanBuilder {
 public:
  void Add(Grade g, std::string what, std::string entity = "", bool validates = false) {
    plan_.changes.push_back(MigrationChange{g, std::move(what), std::move(entity), validates});
    if (static_cast<char>(g) > static_cast<char>(plan_.grade)) plan_.grade = g;
  }
  MigrationPlan Take() { return std::move(plan_); }

 private:
  MigrationPlan plan_;
};

// Type changes: B when every old value converts losslessly, C when values
// must be checked, D when values would be lost or reinterpreted.
Grade TypeChangeGrade(const Field& from, const Field& to) {
  auto is = [](const Field& f, FieldType t) { return f.type == t; };
  if (is(from, FieldType::kInt32) && (is(to, FieldType::kInt64) || is(to, FieldType::kFloat64))) {
    return Grade::kB;
  }
  if (is(from, FieldType::kEnum) && is(to, FieldType::kString)) return Grade::kB;
  if (is(from, FieldType::kString) && is(to, FieldType::kBytes)) return Grade::kB;
  if (is(from, FieldType::kInt64) && (is(to, FieldType::kInt32) || is(to, FieldType::kFloat64))) {
    return Grade::kC;
  }
  if (is(from, FieldType::kFloat64) && (is(to, FieldType::kInt32) || is(to, FieldType::kInt64))) {
    return Grade::kC;
  }
  if (is(from, FieldType::kString) && is(to, FieldType::kEnum)) return Grade::kC;
  if (is(from, FieldType::kEnum) && is(to, FieldType::kEnum)) return Grade::kC;  // another enum
  return Grade::kD;
}

std::string IndexWhat(const IndexInfo& ix) {
  return std::string(ix.unique ? "unique " : "") + "index " + ix.name;
}

// Access rules (docs/reference/policies.md): an added deny only narrows
// access (A); an added allow narrows too when the operation had no rule
// before (it was open; now only the allowed rows are), else it widens (B).
// A dropped allow narrows (A) unless it leaves the operation without rules
// (open again: B); a dropped deny widens (B). `field` is empty for the
// entity's own rules.
void GradeRules(const std::vector<PolicyRule>& before, const std::vector<PolicyRule>& after,
                const std::string& en, const std::string& field, PlanBuilder* b) {
  const bool entity_level = field.empty();
  const std::string where = entity_level ? en : en + "." + field;
  auto same = [](const PolicyRule& x, const PolicyRule& y) {
    return x.allow == y.allow && x.ops == y.ops && x.condition == y.condition;
  };
  auto contains = [&](const std::vector<PolicyRule>& rules, const PolicyRule& r) {
    return std::any_of(rules.begin(), rules.end(), [&](const PolicyRule& x) { return same(x, r); });
  };
  auto ops_with_rules = [](const std::vector<PolicyRule>& rules) {
    uint8_t ops = 0;
    for (const PolicyRule& r : rules) ops |= r.ops;
    return ops;
  };
  const uint8_t had = ops_with_rules(before);
  const uint8_t has = ops_with_rules(after);
  for (const PolicyRule& r : after) {
    if (contains(before, r)) continue;
    const bool widens = r.allow && (had & r.ops) != 0;
    b->Add(widens ? Grade::kB : Grade::kA,
           "add rule " + where + " " + r.Text(entity_level) +
               (widens ? " (widens access)" : " (narrows access)"),
           en);
  }
  for (const PolicyRule& r : before) {
    if (contains(after, r)) continue;
    const bool widens = !r.allow || (has & r.ops) != r.ops;
    b->Add(widens ? Grade::kB : Grade::kA,
           "drop rule " + where + " " + r.Text(entity_level) +
               (widens ? " (widens access)" : " (narrows access)"),
           en);
  }
}

void DiffEntity(const EntityInfo& old_e, const Entity& old_decl, const EntityInfo& new_e,
                const Entity& new_decl, const CompiledSchema* previous, const CompiledSchema& next,
                PlanBuilder* b) {
  const std::string& en = new_e.name;
  if (old_e.uuid_id != new_e.uuid_id) {
    b->Add(Grade::kD, "change the id of " + en + " to " + (new_e.uuid_id ? "uuid" : "id"), en);
  }
  for (const Field& of : old_decl.fields) {
    bool kept = std::any_of(new_decl.fields.begin(), new_decl.fields.end(),
                            [&](const Field& nf) { return nf.id == of.id; });
    if (!kept) b->Add(Grade::kD, "drop field " + en + "." + of.name + " (its data is lost)", en);
  }
  for (const Field& nf : new_decl.fields) {
    const Field* of = nullptr;
    for (const Field& f : old_decl.fields) {
      if (f.id == nf.id) of = &f;
    }
    std::string fname = en + "." + nf.name;
    if (!of) {
      if (nf.optional) {
        b->Add(Grade::kA, "add field " + fname + " (optional)", en);
      } else if (nf.default_value.kind != DefaultSpec::Kind::kNone &&
                 nf.default_value.kind != DefaultSpec::Kind::kUuid) {
        b->Add(Grade::kB, "add field " + fname + " (required, existing rows read its default)", en);
      } else {
        b->Add(Grade::kC,
               "add field " + fname + " (required, no default: existing rows must not exist)", en,
               true);
      }
      continue;
    }
    bool type_changed = of->type != nf.type ||
                        (nf.type == FieldType::kEnum && of->enum_name != nf.enum_name) ||
                        (nf.type == FieldType::kRef && of->target != nf.target);
    if (type_changed) {
      Grade g = TypeChangeGrade(*of, nf);
      b->Add(g,
             "change type of " + fname + " from " + FieldTypeName(*of) + " to " +
                 FieldTypeName(nf) +
                 (g == Grade::kB   ? " (widening)"
                  : g == Grade::kC ? " (values are checked)"
                                   : " (lossy)"),
             en, g == Grade::kC);
    }
    if (of->optional && !nf.optional) {
      b->Add(Grade::kC, "make " + fname + " required (existing nulls are refused)", en, true);
    } else if (!of->optional && nf.optional) {
      b->Add(Grade::kA, "make " + fname + " optional", en);
    }
    if (of->check != nf.check) {
      if (nf.check.empty()) {
        b->Add(Grade::kA, "drop check on " + fname, en);
      } else {
        b->Add(Grade::kC, "check " + fname + ": " + nf.check, en, true);
      }
    }
    if (of->default_value.kind != nf.default_value.kind ||
        of->default_value.text != nf.default_value.text) {
      b->Add(Grade::kA, "change default of " + fname, en);
    }
    if (nf.type == FieldType::kRef && of->type == FieldType::kRef &&
        of->on_delete != nf.on_delete) {
      b->Add(Grade::kA, "change on_delete of " + fname, en);
    }
  }
  // Enum values that disappeared from a field's enum must not be held by rows.
  for (const Field& nf : new_decl.fields) {
    if (nf.type != FieldType::kEnum) continue;
    const Enum* ne = next.schema().FindEnum(nf.enum_name);
    const Enum* oe = previous->schema().FindEnum(nf.enum_name);
    if (!ne || !oe) continue;
    for (const std::string& v : oe->values) {
      if (std::find(ne->values.begin(), ne->values.end(), v) == ne->values.end()) {
        b->Add(Grade::kC,
               "remove value " + v + " of " + nf.enum_name + " from " + en + "." + nf.name, en,
               true);
      }
    }
  }
  for (const IndexInfo& oi : old_e.indexes) {
    bool kept = std::any_of(new_e.indexes.begin(), new_e.indexes.end(),
                            [&](const IndexInfo& ni) { return ni.id == oi.id; });
    if (!kept) b->Add(Grade::kA, "drop " + IndexWhat(oi), en);
  }
  for (const IndexInfo& ni : new_e.indexes) {
    bool existed = std::any_of(old_e.indexes.begin(), old_e.indexes.end(),
                               [&](const IndexInfo& oi) { return oi.id == ni.id; });
    if (!existed) {
      b->Add(Grade::kB,
             "add " + IndexWhat(ni) +
                 (ni.unique ? " (existing rows validated, built online)" : " (built online)"),
             en);
    }
  }
  GradeRules(old_decl.rules, new_decl.rules, en, "", b);
  for (const Field& nf : new_decl.fields) {
    for (const Field& of : old_decl.fields) {
      if (of.id == nf.id) GradeRules(of.rules, nf.rules, en, nf.name, b);
    }
  }
  std::set<std::string> old_checks(old_decl.checks.begin(), old_decl.checks.end());
  std::set<std::string> new_checks(new_decl.checks.begin(), new_decl.checks.end());
  for (const std::string& c : new_checks) {
    if (!old_checks.count(c)) b->Add(Grade::kC, "check " + en + ": " + c, en, true);
  }
  for (const std::string& c : old_checks) {
    if (!new_checks.count(c)) b->Add(Grade::kA, "drop check " + en + ": " + c, en);
  }
  for (const Collection& nc : new_decl.collections) {
    if (nc.kind == Collection::Kind::kInverse && !old_decl.FindCollection(nc.name)) {
      b->Add(Grade::kA,
             "add relation " + en + "." + nc.name + " (inverse of " + nc.target + "." +
                 nc.inverse_field + ")",
             en);
    }
  }
  for (const Collection& nc : new_decl.collections) {
    const Collection* oc = old_decl.FindCollection(nc.name);
    const bool was = oc && oc->maintained && oc->kind == nc.kind &&
                     oc->inverse_field == nc.inverse_field && oc->target == nc.target;
    const std::string what = en + "." + nc.name;
    if (nc.maintained && (!was || oc->maintained_fields != nc.maintained_fields)) {
      std::string fields = "count";
      for (const std::string& f : nc.maintained_fields) fields += ", " + f;
      b->Add(Grade::kB,
             "maintain " + what + " (" + fields + "): a record per " + en +
                 " is built in the schema's transaction",
             en);
    } else if (!nc.maintained && was) {
      b->Add(Grade::kA, "stop maintaining " + what + " (its records are dropped)", en);
    }
  }
  for (const Collection& oc : old_decl.collections) {
    if (oc.kind == Collection::Kind::kInverse && !new_decl.FindCollection(oc.name)) {
      // An inverse stores nothing: dropping it loses no data.
      b->Add(Grade::kA, "drop relation " + en + "." + oc.name + " (an inverse; no data stored)",
             en);
    }
  }
}

}  // namespace

MigrationPlan DiffSchemas(const CompiledSchema* previous, const CompiledSchema& next) {
  PlanBuilder b;
  const Schema* old_s = previous ? &previous->schema() : nullptr;
  for (const Enum& ne : next.schema().enums) {
    const Enum* oe = old_s ? old_s->FindEnum(ne.name) : nullptr;
    if (!oe) {
      b.Add(Grade::kA, "add enum " + ne.name);
      continue;
    }
    for (const std::string& v : ne.values) {
      if (std::find(oe->values.begin(), oe->values.end(), v) == oe->values.end()) {
        b.Add(Grade::kA, "add value " + v + " to enum " + ne.name);
      }
    }
  }
  if (old_s) {
    for (const Enum& oe : old_s->enums) {
      if (!next.schema().FindEnum(oe.name)) b.Add(Grade::kA, "drop enum " + oe.name);
    }
  }
  for (const EntityInfo& ne : next.entities()) {
    const EntityInfo* oe = previous ? previous->EntityById(ne.id) : nullptr;
    const Entity* new_decl = next.schema().FindEntity(ne.name);
    if (!oe) {
      b.Add(Grade::kA, "add entity " + ne.name, ne.name);
      continue;
    }
    DiffEntity(*oe, *old_s->FindEntity(oe->name), ne, *new_decl, previous, next, &b);
  }
  if (previous) {
    for (const EntityInfo& oe : previous->entities()) {
      if (!next.EntityById(oe.id)) {
        b.Add(Grade::kD, "drop entity " + oe.name + " (all its rows are lost)", oe.name);
      }
    }
  }
  for (const EdgeInfo& ne : next.edges()) {
    if (!previous || !previous->EdgeById(ne.id)) {
      b.Add(Grade::kA, "add relation " + ne.from_entity + "." + ne.from_collection + " <-> " +
                           ne.to_entity + "." + ne.to_collection + " (" + ne.name + ")");
    }
  }
  if (previous) {
    for (const EdgeInfo& oe : previous->edges()) {
      if (!next.EdgeById(oe.id)) {
        b.Add(Grade::kD, "drop relation " + oe.from_entity + "." + oe.from_collection + " <-> " +
                             oe.to_entity + "." + oe.to_collection + " (its links are lost)");
      }
    }
  }
  return b.Take();
}

std::string MigrationPlan::ToText() const {
  std::string out = "grade: ";
  out += static_cast<char>(grade);
  out += "\n";
  for (const MigrationChange& c : changes) {
    out += "[";
    out += static_cast<char>(c.grade);
    out += "] " + c.description + "\n";
  }
  if (changes.empty()) out += "no changes\n";
  return out;
}

std::string MigrationPlan::ToJsonText() const {
  Json root = Json::Object();
  root.Set("grade", Json(std::string(1, static_cast<char>(grade))));
  Json list = Json::Array();
  for (const MigrationChange& c : changes) {
    Json item = Json::Object();
    item.Set("grade", Json(std::string(1, static_cast<char>(c.grade))));
    item.Set("change", Json(c.description));
    list.Push(std::move(item));
  }
  root.Set("changes", std::move(list));
  return ToJson(root);
}

std::string MigrationPlan::Summary() const {
  if (changes.empty()) return "no changes";
  std::string s =
      std::to_string(changes.size()) + (changes.size() == 1 ? " change: " : " changes: ");
  for (size_t i = 0; i < changes.size() && i < 3; ++i) {
    s += (i ? ", " : "") + changes[i].description;
  }
  if (changes.size() > 3) s += ", ...";
  return s;
}

}  // namespace ormdb::catalog
