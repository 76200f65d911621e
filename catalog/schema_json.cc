#include "catalog/schema_json.h"

namespace ormdb::catalog {
namespace {

std::string_view OnDeleteName(OnDelete d) {
  switch (d) {
    case OnDelete::kCascade:
      return "cascade";
    case OnDelete::kSetNull:
      return "set_null";
    case OnDelete::kRestrict:
      return "restrict";
  }
  return "restrict";
}

Json DefaultToJson(const DefaultSpec& d) {
  switch (d.kind) {
    case DefaultSpec::Kind::kNone:
      return Json();
    case DefaultSpec::Kind::kNow:
      return Json("now");
    case DefaultSpec::Kind::kUuid:
      return Json("uuid");
    default: {
      Json lit = Json::Object();
      lit.Set("literal", Json(d.text));
      return lit;
    }
  }
}

}  // namespace

namespace {

// [{"allow": true, "operations": ["read"], "condition": "..."}]
Json RulesToJson(const std::vector<PolicyRule>& rules) {
  static constexpr std::pair<uint8_t, const char*> kNames[] = {{kPolicyRead, "read"},
                                                               {kPolicyCreate, "create"},
                                                               {kPolicyUpdate, "update"},
                                                               {kPolicyDelete, "delete"}};
  Json out = Json::Array();
  for (const PolicyRule& r : rules) {
    Json jr = Json::Object();
    jr.Set("allow", r.allow);
    Json ops = Json::Array();
    for (const auto& [bit, name] : kNames) {
      if (r.ops & bit) ops.Push(std::string(name));
    }
    jr.Set("operations", std::move(ops));
    jr.Set("condition", r.condition);
    out.Push(std::move(jr));
  }
  return out;
}

}  // namespace

Json SchemaToJson(const CompiledSchema& s) {
  Json root = Json::Object();
  root.Set("version", static_cast<int64_t>(s.number()));
  Json enums = Json::Array();
  for (const Enum& e : s.schema().enums) {
    Json je = Json::Object();
    je.Set("name", e.name);
    Json values = Json::Array();
    for (const std::string& v : e.values) values.Push(v);
    je.Set("values", std::move(values));
    enums.Push(std::move(je));
  }
  root.Set("enums", std::move(enums));
  Json entities = Json::Array();
  for (const Entity& e : s.schema().entities) {
    Json je = Json::Object();
    je.Set("name", e.name);
    je.Set("id", e.uuid_id ? "uuid" : "id");
    Json fields = Json::Array();
    for (const Field& f : e.fields) {
      Json jf = Json::Object();
      jf.Set("name", f.name);
      jf.Set("type", FieldTypeName(f));
      jf.Set("kind", f.type == FieldType::kRef    ? "reference"
                     : f.type == FieldType::kEnum ? "enum"
                                                  : "scalar");
      jf.Set("optional", f.optional);
      if (f.unique) jf.Set("unique", true);
      if (f.indexed) jf.Set("index", true);
      if (f.default_value.kind != DefaultSpec::Kind::kNone) {
        jf.Set("default", DefaultToJson(f.default_value));
      }
      if (!f.check.empty()) jf.Set("check", f.check);
      if (f.type == FieldType::kRef) jf.Set("on_delete", OnDeleteName(f.on_delete));
      if (!f.rules.empty()) jf.Set("rules", RulesToJson(f.rules));
      fields.Push(std::move(jf));
    }
    je.Set("fields", std::move(fields));
    Json rels = Json::Array();
    for (const Collection& c : e.collections) {
      Json jc = Json::Object();
      jc.Set("name", c.name);
      jc.Set("target", c.target);
      if (c.kind == Collection::Kind::kInverse) {
        jc.Set("kind", "inverse");
        jc.Set("inverse", c.inverse_field);
        if (c.maintained) {
          Json fs = Json::Array();
          for (const std::string& f : c.maintained_fields) fs.Push(f);
          jc.Set("maintain", std::move(fs));
        }
      } else {
        jc.Set("kind", "many");
        jc.Set("edge", c.edge);
      }
      rels.Push(std::move(jc));
    }
    je.Set("relations", std::move(rels));
    Json indexes = Json::Array();
    for (const Index& ix : e.indexes) {
      Json ji = Json::Object();
      Json fs = Json::Array();
      for (const std::string& f : ix.fields) fs.Push(f);
      ji.Set("fields", std::move(fs));
      ji.Set("unique", ix.unique);
      ji.Set("automatic", ix.automatic);
      indexes.Push(std::move(ji));
    }
    je.Set("indexes", std::move(indexes));
    Json checks = Json::Array();
    for (const std::string& c : e.checks) checks.Push(c);
    je.Set("checks", std::move(checks));
    if (!e.rules.empty()) je.Set("rules", RulesToJson(e.rules));
    entities.Push(std::move(je));
  }
  root.Set("entities", std::move(entities));
  Json edges = Json::Array();
  for (const EdgeRelation& r : s.schema().edges) {
    Json jr = Json::Object();
    jr.Set("name", r.name);
    jr.Set("from", r.from_entity + "." + r.from_collection);
    jr.Set("to", r.to_entity + "." + r.to_collection);
    edges.Push(std::move(jr));
  }
  root.Set("relations", std::move(edges));
  return root;
}

}  // namespace ormdb::catalog
