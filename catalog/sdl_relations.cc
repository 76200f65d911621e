// The schema language's resolver, second half: collections (@inverse,
// @many), indexes (@unique, @index, @@index, @@unique and the automatic
// ones on references), and the relations between entities.
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "catalog/sdl_resolver.h"

namespace ormdb::catalog::sdl {

Status Resolver::ResolveCollection(const EntityDecl& entity, const MemberDecl& member,
                                   Collection* out, SourcePos* arg_pos) {
  const std::string qualified = Qualified(entity.name.text, member.name.text);
  out->name = member.name.text;
  out->pos = member.name.pos;
  const Name& target = member.type.name;
  if (entities_.count(target.text) == 0) {
    if (FindBuiltin(target.text) != nullptr || target.text == kIdType) {
      return diag_.At(target.pos,
                      "a collection holds entities; " + Quote(target.text) + " is a builtin type");
    }
    if (enums_.count(target.text) != 0) {
      return diag_.At(target.pos,
                      "a collection holds entities; " + Quote(target.text) + " is an enum");
    }
    return diag_.At(target.pos, "unknown entity " + Quote(target.text) +
                                    DidYouMean(target.text, EntityNames()));
  }
  out->target = target.text;
  if (member.type.optional) {
    return diag_.At(member.type.optional_pos, "collection " + qualified +
                                                  " cannot be optional: an empty collection "
                                                  "already means none");
  }
  const FieldAttr* relation = nullptr;
  const FieldAttr* maintain = nullptr;
  for (const FieldAttr& attr : member.attrs) {
    switch (attr.spec->kind) {
      case AttrKind::kMaintain:  // the parser refuses a second one
        maintain = &attr;
        break;
      case AttrKind::kInverse:
      case AttrKind::kMany:
        if (relation != nullptr) {
          return diag_.At(attr.pos, "collection " + qualified + " has both " + relation->Written() +
                                        " and " + attr.Written() + "; it takes one of them");
        }
        relation = &attr;
        break;
      case AttrKind::kOnDelete:
        return diag_.At(attr.pos, "@on_delete applies to reference fields only; " + qualified +
                                      " is a collection");
      case AttrKind::kAllow:
      case AttrKind::kDeny:
        return diag_.At(attr.pos, attr.Written() + " does not apply to collection " + qualified +
                                      ": the rules of " + target.text + " (@@allow, @@deny) " +
                                      "decide which of its rows are seen");
      default:
        return diag_.At(attr.pos, attr.Written() + " does not apply to collection " + qualified +
                                      ": a collection stores nothing");
    }
  }
  if (relation == nullptr) {
    return diag_.At(member.name.pos,
                    "collection " + qualified + " needs @inverse(field) or @many(relation)");
  }
  if (relation->spec->kind == AttrKind::kInverse) {
    out->kind = Collection::Kind::kInverse;
    out->inverse_field = relation->arg.text;
  } else {
    out->kind = Collection::Kind::kMany;
    out->edge = relation->arg.text;
    if (maintain != nullptr) {
      return diag_.At(maintain->pos, "@maintain applies to @inverse collections; " + qualified +
                                         " is a many-to-many relation (its counts are computed "
                                         "from the edges)");
    }
  }
  if (maintain != nullptr) {
    out->maintained = true;
    for (const Name& n : maintain->names) {
      out->maintained_fields.push_back(n.text);
      out->maintained_pos.push_back(n.pos);
    }
  }
  *arg_pos = relation->arg.pos;
  return Status::Ok();
}

Status Resolver::ResolveIndexFields(const EntityDecl& decl, const EntityAttrDecl& attr,
                                    const Entity& entity, std::vector<std::string>* fields) {
  const std::string written = "@@" + std::string(attr.spec->name);
  const MemberIndex& index = members_[&decl - decl_.entities.data()];
  std::unordered_set<std::string_view> listed;
  for (const Name& n : attr.fields) {
    if (n.text == kIdMember) {
      return diag_.At(n.pos, written + " cannot list 'id': every index already ends with the id");
    }
    if (index.collections.count(n.text) != 0) {
      return diag_.At(n.pos, written + " cannot list collection " + Qualified(entity.name, n.text) +
                                 ": a collection stores nothing");
    }
    if (index.fields.count(n.text) == 0) {
      return diag_.At(n.pos, "entity " + entity.name + " has no field " + Quote(n.text) +
                                 DidYouMean(n.text, FieldNames(decl)));
    }
    if (!listed.insert(n.text).second) {
      return diag_.At(n.pos, "field " + Quote(n.text) + " appears twice in " + written + "(...)");
    }
    fields->push_back(n.text);
  }
  return Status::Ok();
}

Status Resolver::BuildIndexes(const EntityDecl& decl, const std::vector<SourcePos>& field_index_pos,
                              Entity* out) {
  // Uniqueness and field list, as one string key.
  std::unordered_map<std::string, SourcePos> defined;
  auto add = [&](Index index, std::string_view written) -> Status {
    std::string key(index.unique ? "u" : "i");
    for (const std::string& f : index.fields) key += '\0' + f;
    auto [it, inserted] = defined.emplace(std::move(key), index.pos);
    if (!inserted) {
      return diag_.At(index.pos, "duplicate index: " + std::string(written) +
                                     " repeats the index declared at " + FormatPos(it->second));
    }
    out->indexes.push_back(std::move(index));
    return Status::Ok();
  };
  for (size_t i = 0; i < out->fields.size(); ++i) {
    const Field& f = out->fields[i];
    if (!f.unique && !f.indexed) continue;
    Index index;
    index.fields = {f.name};
    index.unique = f.unique;
    index.pos = field_index_pos[i];
    ORMDB_RETURN_IF_ERROR(add(std::move(index), f.unique ? "@unique" : "@index"));
  }
  for (const EntityAttrDecl& attr : decl.attrs) {
    if (attr.spec->kind != AttrKind::kEntityIndex && attr.spec->kind != AttrKind::kEntityUnique) {
      continue;  // @@check, @@allow, @@deny
    }
    Index index;
    ORMDB_RETURN_IF_ERROR(ResolveIndexFields(decl, attr, *out, &index.fields));
    index.unique = attr.spec->kind == AttrKind::kEntityUnique;
    index.pos = attr.pos;
    const std::string written =
        "@@" + std::string(attr.spec->name) + "(" + JoinNames(index.fields) + ")";
    ORMDB_RETURN_IF_ERROR(add(std::move(index), written));
  }
  // Parent -> children is an index range on the reference (DESIGN.md §2);
  // an index that starts with the reference already serves it.
  std::unordered_set<std::string_view> leading;
  for (const Index& index : out->indexes) leading.insert(index.fields.front());
  std::vector<Index> automatic;
  for (const Field& f : out->fields) {
    if (f.type != FieldType::kRef || leading.count(f.name) != 0) continue;
    Index index;
    index.fields = {f.name};
    index.automatic = true;
    index.pos = f.pos;
    automatic.push_back(std::move(index));
  }
  for (Index& index : automatic) out->indexes.push_back(std::move(index));
  return Status::Ok();
}

Status Resolver::CheckInverses(const Schema& schema) {
  // "Entity.field" of a reference -> the collection that is its inverse.
  std::unordered_map<std::string, std::pair<std::string, SourcePos>> inverse_of;
  for (size_t e = 0; e < schema.entities.size(); ++e) {
    const Entity& entity = schema.entities[e];
    for (size_t c = 0; c < entity.collections.size(); ++c) {
      const Collection& coll = entity.collections[c];
      if (coll.kind != Collection::Kind::kInverse) continue;
      const SourcePos at = members_[e].relation_arg_pos[c];
      const size_t t = entities_.at(coll.target);
      const Entity& target = schema.entities[t];
      const MemberIndex& target_members = members_[t];
      const std::string written = "@inverse(" + coll.inverse_field + ")";
      auto field_it = target_members.fields.find(coll.inverse_field);
      if (field_it == target_members.fields.end()) {
        if (target_members.collections.count(coll.inverse_field) != 0) {
          return diag_.At(at, written + " must name a reference field of " + target.name + "; " +
                                  Qualified(target.name, coll.inverse_field) + " is a collection");
        }
        return diag_.At(at, "entity " + target.name + " has no field " + Quote(coll.inverse_field) +
                                DidYouMean(coll.inverse_field, FieldNames(decl_.entities[t])));
      }
      const Field& field = target.fields[field_it->second];
      if (field.type != FieldType::kRef || field.target != entity.name) {
        return diag_.At(at, written + " must name a reference to " + entity.name + "; " +
                                FieldIsA(target.name, field));
      }
      const std::string qualified = Qualified(entity.name, coll.name);
      ORMDB_RETURN_IF_ERROR(CheckMaintained(entity, coll, target, target_members, t));
      auto [it, inserted] =
          inverse_of.emplace(Qualified(target.name, field.name), std::pair(qualified, coll.pos));
      if (!inserted) {
        return diag_.At(at, written + ": " + Qualified(target.name, field.name) +
                                " already has the inverse collection " + it->second.first +
                                " (declared at " + FormatPos(it->second.second) + ")");
      }
    }
  }
  return Status::Ok();
}

Status Resolver::CheckMaintained(const Entity& entity, const Collection& coll, const Entity& target,
                                 const MemberIndex& target_members, size_t target_index) {
  const std::string qualified = Qualified(entity.name, coll.name);
  std::unordered_set<std::string_view> listed;
  for (size_t i = 0; i < coll.maintained_fields.size(); ++i) {
    const std::string& name = coll.maintained_fields[i];
    const SourcePos at = coll.maintained_pos[i];
    auto it = target_members.fields.find(name);
    if (it == target_members.fields.end()) {
      return diag_.At(at, "entity " + target.name + " has no field " + Quote(name) +
                              DidYouMean(name, FieldNames(decl_.entities[target_index])));
    }
    const Field& f = target.fields[it->second];
    if (f.type != FieldType::kInt32 && f.type != FieldType::kInt64) {
      return diag_.At(at, "@maintain on " + qualified +
                              " keeps sums of int32 and int64 fields only (exact under updates "
                              "and deletes); " +
                              FieldIsA(target.name, f));
    }
    if (!listed.insert(name).second) {
      return diag_.At(at, "field " + Quote(name) + " appears twice in @maintain(...)");
    }
  }
  return Status::Ok();
}

Status Resolver::BuildEdges(Schema* schema) {
  struct Side {
    size_t entity;
    size_t collection;
  };
  // Relations in order of first appearance; the first side is the forward one.
  std::vector<std::vector<Side>> relations;
  std::unordered_map<std::string_view, size_t> relation_of;  // views into *schema's collections
  auto describe = [&](const Side& s) {
    const Entity& e = schema->entities[s.entity];
    const Collection& c = e.collections[s.collection];
    return Qualified(e.name, c.name) + " (" + FormatPos(c.pos) + ")";
  };
  for (size_t e = 0; e < schema->entities.size(); ++e) {
    const std::vector<Collection>& collections = schema->entities[e].collections;
    for (size_t c = 0; c < collections.size(); ++c) {
      if (collections[c].kind != Collection::Kind::kMany) continue;
      auto [it, inserted] = relation_of.emplace(collections[c].edge, relations.size());
      if (inserted) relations.emplace_back();
      std::vector<Side>& sides = relations[it->second];
      if (sides.size() == 2) {
        return diag_.At(members_[e].relation_arg_pos[c],
                        "@many(" + collections[c].edge + ") already joins " + describe(sides[0]) +
                            " and " + describe(sides[1]) +
                            "; a relation joins exactly two collections");
      }
      sides.push_back({e, c});
    }
  }
  for (const std::vector<Side>& sides : relations) {
    const Entity& from = schema->entities[sides[0].entity];
    const Collection& forward = from.collections[sides[0].collection];
    if (sides.size() == 1) {
      return diag_.At(members_[sides[0].entity].relation_arg_pos[sides[0].collection],
                      "@many(" + forward.edge + ") on " + Qualified(from.name, forward.name) +
                          " has no other side: entity " + forward.target +
                          " needs a collection '[" + from.name + "] @many(" + forward.edge + ")'");
    }
    const Entity& to = schema->entities[sides[1].entity];
    const Collection& backward = to.collections[sides[1].collection];
    if (forward.target != to.name || backward.target != from.name) {
      return diag_.At(members_[sides[1].entity].relation_arg_pos[sides[1].collection],
                      "@many(" + forward.edge + ") joins collections that do not point at each " +
                          "other: " + describe(sides[0]) + " is [" + forward.target + "] in " +
                          from.name + ", " + Qualified(to.name, backward.name) + " is [" +
                          backward.target + "] in " + to.name);
    }
    EdgeRelation edge;
    edge.name = forward.edge;
    edge.from_entity = from.name;
    edge.from_collection = forward.name;
    edge.to_entity = to.name;
    edge.to_collection = backward.name;
    schema->edges.push_back(std::move(edge));
  }
  return Status::Ok();
}

}  // namespace ormdb::catalog::sdl
