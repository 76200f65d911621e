#include "catalog/schema.h"

#include <algorithm>

namespace ormdb::catalog {
namespace {

// Linear lookups: schemas are small and these run at schema-apply or
// plan-compile time, not per row.
template <typename T>
const T* FindByName(const std::vector<T>& items, std::string_view name) {
  for (const T& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

template <typename T, typename Same>
bool SameVectors(const std::vector<T>& a, const std::vector<T>& b, Same same) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), same);
}

bool SameDefault(const DefaultSpec& a, const DefaultSpec& b) {
  return a.kind == b.kind && a.text == b.text;
}

bool SameRule(const PolicyRule& a, const PolicyRule& b) {
  return a.allow == b.allow && a.ops == b.ops && a.condition == b.condition;
}

bool SameField(const Field& a, const Field& b) {
  return a.id == b.id && a.name == b.name && a.type == b.type && a.enum_name == b.enum_name &&
         a.target == b.target && a.optional == b.optional && a.unique == b.unique &&
         a.indexed == b.indexed && SameDefault(a.default_value, b.default_value) &&
         a.check == b.check && a.on_delete == b.on_delete &&
         a.on_delete_declared == b.on_delete_declared && SameVectors(a.rules, b.rules, SameRule);
}

bool SameCollection(const Collection& a, const Collection& b) {
  return a.name == b.name && a.target == b.target && a.kind == b.kind &&
         a.inverse_field == b.inverse_field && a.edge == b.edge;
}

bool SameIndex(const Index& a, const Index& b) {
  return a.id == b.id && a.fields == b.fields && a.unique == b.unique && a.automatic == b.automatic;
}

bool SameEntity(const Entity& a, const Entity& b) {
  return a.id == b.id && a.name == b.name && a.uuid_id == b.uuid_id &&
         SameVectors(a.fields, b.fields, SameField) &&
         SameVectors(a.collections, b.collections, SameCollection) &&
         SameVectors(a.indexes, b.indexes, SameIndex) && a.checks == b.checks &&
         SameVectors(a.rules, b.rules, SameRule);
}

bool SameEnum(const Enum& a, const Enum& b) { return a.name == b.name && a.values == b.values; }

bool SameEdge(const EdgeRelation& a, const EdgeRelation& b) {
  return a.id == b.id && a.name == b.name && a.from_entity == b.from_entity &&
         a.from_collection == b.from_collection && a.to_entity == b.to_entity &&
         a.to_collection == b.to_collection;
}

}  // namespace

std::string PolicyRule::Text(bool entity_level) const {
  static constexpr std::pair<uint8_t, const char*> kNames[] = {{kPolicyRead, "read"},
                                                               {kPolicyCreate, "create"},
                                                               {kPolicyUpdate, "update"},
                                                               {kPolicyDelete, "delete"}};
  std::string out = entity_level ? "@@" : "@";
  out += allow ? "allow(" : "deny(";
  if (ops == kPolicyAll) {
    out += "all";
  } else {
    std::vector<const char*> names;
    for (const auto& [bit, name] : kNames) {
      if (ops & bit) names.push_back(name);
    }
    if (names.size() != 1) out += '[';
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0) out += ", ";
      out += names[i];
    }
    if (names.size() != 1) out += ']';
  }
  out += ", " + condition + ")";
  return out;
}

const Field* Entity::FindField(std::string_view name) const { return FindByName(fields, name); }

const Collection* Entity::FindCollection(std::string_view name) const {
  return FindByName(collections, name);
}

const Entity* Schema::FindEntity(std::string_view name) const { return FindByName(entities, name); }

const Enum* Schema::FindEnum(std::string_view name) const { return FindByName(enums, name); }

const EdgeRelation* Schema::FindEdge(std::string_view name) const {
  return FindByName(edges, name);
}

bool SameDefinition(const Schema& a, const Schema& b) {
  return SameVectors(a.enums, b.enums, SameEnum) &&
         SameVectors(a.entities, b.entities, SameEntity) && SameVectors(a.edges, b.edges, SameEdge);
}

}  // namespace ormdb::catalog
