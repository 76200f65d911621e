// The fetch compiler: CompileFetch and the names and validation of a
// query (entities, fields, relations, paths, typed predicates, literals
// lifted into slots); access paths are chosen in compiler_access.cc, slots
// bound in compiler_bind.cc.
#include "query/compiler.h"

#include <algorithm>

#include "common/suggest.h"
#include "query/compiler_internal.h"
#include "query/parse_rules.h"
#include "query/read_checks.h"

namespace ormdb::query {

std::string_view DomainName(Domain d) {
  switch (d) {
    case Domain::kNumber:
      return "number";
    case Domain::kString:
      return "string";
    case Domain::kBool:
      return "bool";
    case Domain::kTimestamp:
      return "timestamp";
    case Domain::kUuid:
      return "uuid";
    case Domain::kBytes:
      return "bytes";
    case Domain::kJson:
      return "json";
  }
  return "?";
}

std::string_view AccessName(Access a) {
  switch (a) {
    case Access::kIdLookup:
      return "id lookup";
    case Access::kUniqueLookup:
      return "unique lookup";
    case Access::kIndexRange:
      return "index range";
    case Access::kScan:
      return "scan";
    case Access::kRefLookup:
      return "batched primary lookup";
    case Access::kChildIndex:
      return "per-parent index range";
    case Access::kChildScanHash:
      return "scan + hash by parent";
    case Access::kEdgeRange:
      return "edge range + batched lookup";
  }
  return "?";
}

namespace compiler_internal {

std::string TypeNameOf(const FieldInfo& f) {
  if (f.type == FieldType::kEnum && f.enum_def != nullptr) return f.enum_def->name;
  if (f.type == FieldType::kRef) return f.ref_target_name;
  return std::string(ValueTypeName(f.physical));
}

namespace {

Domain FieldDomain(const FieldInfo& f) {
  switch (f.type) {
    case FieldType::kBool:
      return Domain::kBool;
    case FieldType::kInt32:
    case FieldType::kInt64:
    case FieldType::kFloat64:
    case FieldType::kRef:
      return Domain::kNumber;
    case FieldType::kString:
    case FieldType::kEnum:
      return Domain::kString;
    case FieldType::kBytes:
      return Domain::kBytes;
    case FieldType::kTimestamp:
      return Domain::kTimestamp;
    case FieldType::kUuid:
      return Domain::kUuid;
    case FieldType::kJson:
      return Domain::kJson;
  }
  return Domain::kJson;
}

// The type sort keys of a domain are kept in (numbers from int fields as int64).
ValueType KeyType(const BoundPath& p) {
  if (p.terminal == BoundPath::Terminal::kId) {
    return p.entities.back()->uuid_id ? ValueType::kUuid : ValueType::kInt64;
  }
  if (p.terminal == BoundPath::Terminal::kVersion) return ValueType::kInt64;
  const FieldInfo& f = p.entities.back()->fields[p.field];
  if (f.physical == ValueType::kInt32) return ValueType::kInt64;
  return f.physical;
}

bool LiteralFits(const Json& v, Domain d) {
  switch (d) {
    case Domain::kNumber:
      return v.is_number();
    case Domain::kString:
    case Domain::kUuid:
    case Domain::kBytes:
      return v.is_string();
    case Domain::kBool:
      return v.is_bool();
    case Domain::kTimestamp:
      return v.is_string() || v.is_int();
    case Domain::kJson:
      return false;
  }
  return false;
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

Status Compiler::CompileNames(const FetchQuery& query) {
  plan_ = std::make_shared<Plan>();
  plan_->schema = schema_;
  ORMDB_ASSIGN_OR_RETURN(const EntityInfo* root, schema_->RequireEntity(query.root.name));
  if (!root) return SchemaError("unknown entity");
  Node node;
  node.kind = Node::Kind::kRoot;
  node.entity = root;
  node.path = root->name;
  plan_->nodes.push_back(std::move(node));
  return CompileNode(query.root, 0);
}

Result<std::shared_ptr<Plan>> Compiler::Run(const FetchQuery& query) {
  ORMDB_RETURN_IF_ERROR(CompileNames(query));
  ORMDB_RETURN_IF_ERROR(ChooseAccess());
  ORMDB_RETURN_IF_ERROR(ChooseAggregates());
  ORMDB_RETURN_IF_ERROR(EstimateSemiJoins());
  CollectDecodeFields();
  ChooseIndexOnly();
  return plan_;
}

Status Compiler::AddPolicyFilter(int idx) {
  if (policy_ == nullptr) return Status::Ok();
  const EntityRead* er = policy_->For(N(idx).entity->id);
  if (er == nullptr || !er->filter) return Status::Ok();
  compiling_policy_ = true;
  Result<CExpr> w = CompileExpr(*er->filter, idx);
  compiling_policy_ = false;
  ORMDB_RETURN_IF_ERROR(w.status());
  if (N(idx).has_where) {
    CExpr both;
    both.kind = CExpr::Kind::kAnd;
    both.children.push_back(std::move(N(idx).where));
    both.children.push_back(std::move(*w));
    N(idx).where = std::move(both);
  } else {
    N(idx).where = std::move(*w);
    N(idx).has_where = true;
  }
  N(idx).policy = parse_rules::ExprToText(*er->filter);
  return Status::Ok();
}

Status Compiler::AddFieldMask(const EntityInfo* e, size_t field) {
  if (policy_ == nullptr) return Status::Ok();
  const EntityRead* er = policy_->For(e->id);
  if (er == nullptr || field >= er->masks.size() || !er->masks[field]) return Status::Ok();
  auto m = std::find_if(plan_->masks.begin(), plan_->masks.end(),
                        [&](const EntityMasks& x) { return x.entity == e->id; });
  if (m == plan_->masks.end()) {
    EntityMasks em;
    em.entity = e->id;
    em.node.kind = Node::Kind::kRoot;
    em.node.entity = e;
    em.node.path = e->name + " (field masks)";
    plan_->masks.push_back(std::move(em));
    m = plan_->masks.end() - 1;
  }
  for (const auto& [f, cond] : m->fields) {
    if (f == field) return Status::Ok();
  }
  // Compiled in place as the last node so that paths resolve against it.
  const int midx = static_cast<int>(plan_->nodes.size());
  plan_->nodes.push_back(std::move(m->node));
  compiling_policy_ = true;
  Result<CExpr> c = CompileExpr(*er->masks[field], midx);
  compiling_policy_ = false;
  m->node = std::move(plan_->nodes.back());
  plan_->nodes.pop_back();
  ORMDB_RETURN_IF_ERROR(c.status());
  m->fields.emplace_back(field, std::move(*c));
  return Status::Ok();
}

namespace {

std::unique_ptr<Expr> CloneExpr(const Expr& e) {
  auto c = std::make_unique<Expr>();
  c->kind = e.kind;
  c->op = e.op;
  c->negated = e.negated;
  c->literal = e.literal;
  c->name = e.name;
  c->path = e.path;
  c->call = e.call;
  c->list = e.list;
  c->pos = e.pos;
  for (const auto& child : e.children) c->children.push_back(CloneExpr(*child));
  return c;
}

// `e` with `prefix` put before every path.
std::unique_ptr<Expr> Prefixed(const Expr& e, const std::vector<std::string>& prefix) {
  auto c = CloneExpr(e);
  std::vector<Expr*> stack = {c.get()};
  while (!stack.empty()) {
    Expr* x = stack.back();
    stack.pop_back();
    if (x->kind == Expr::Kind::kPath || x->kind == Expr::Kind::kExists) {
      x->path.insert(x->path.begin(), prefix.begin(), prefix.end());
    }
    // The condition of an exists(...) is over the related rows: unchanged.
    if (x->kind == Expr::Kind::kExists) continue;
    for (auto& child : x->children) stack.push_back(child.get());
  }
  return c;
}

}  // namespace

void Compiler::HopFilters(const EntityInfo* e, const std::vector<std::string>& names,
                          std::vector<std::unique_ptr<Expr>>* out) const {
  const EntityInfo* at = e;
  for (size_t i = 0; i + 1 < names.size(); ++i) {
    int f = at->FieldIndex(names[i]);
    if (f < 0 || at->fields[f].type != FieldType::kRef) return;
    at = schema_->EntityById(at->fields[f].ref_target);
    if (at == nullptr) return;
    const EntityRead* er = policy_->For(at->id);
    if (er == nullptr || !er->filter) continue;
    out->push_back(
        Prefixed(*er->filter, std::vector<std::string>(names.begin(), names.begin() + i + 1)));
  }
}

Result<std::unique_ptr<Expr>> Compiler::GuardHops(const Expr& w, const EntityInfo* e, bool neg) {
  auto guarded = [&](std::unique_ptr<Expr> atom) -> std::unique_ptr<Expr> {
    std::vector<std::unique_ptr<Expr>> filters;
    for (const auto& child : atom->children) {
      if (child->kind == Expr::Kind::kPath) HopFilters(e, child->path, &filters);
    }
    if (filters.empty()) return atom;
    auto all = std::make_unique<Expr>();
    all->kind = Expr::Kind::kAnd;
    all->pos = atom->pos;
    all->children.push_back(std::move(atom));
    for (auto& f : filters) all->children.push_back(std::move(f));
    return all;
  };
  switch (w.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      auto out = std::make_unique<Expr>();
      out->kind = (w.kind == Expr::Kind::kAnd) != neg ? Expr::Kind::kAnd : Expr::Kind::kOr;
      out->pos = w.pos;
      for (const auto& child : w.children) {
        ORMDB_ASSIGN_OR_RETURN(auto c, GuardHops(*child, e, neg));
        out->children.push_back(std::move(c));
      }
      return out;
    }
    case Expr::Kind::kNot:
      return GuardHops(*w.children[0], e, !neg);
    case Expr::Kind::kCompare: {
      auto c = CloneExpr(w);
      if (neg) c->op = parse_rules::NegatedCompare(c->op);
      return guarded(std::move(c));
    }
    case Expr::Kind::kIn: {
      auto c = CloneExpr(w);
      c->negated = c->negated != neg;
      return guarded(std::move(c));
    }
    case Expr::Kind::kIsNull: {
      auto c = CloneExpr(w);
      c->negated = c->negated != neg;
      std::vector<std::unique_ptr<Expr>> filters;
      if (c->children[0]->kind == Expr::Kind::kPath) HopFilters(e, c->children[0]->path, &filters);
      if (!filters.empty() && !c->negated) {
        return Status(ErrorCode::kPermissionDenied,
                      At(w.pos) +
                          "permission denied: " + parse_rules::JoinPath(c->children[0]->path) +
                          " is null cannot be tested through a relation whose rows this principal "
                          "may not all read (test the relation itself, or is not null)");
      }
      return guarded(std::move(c));
    }
    case Expr::Kind::kLike:
    case Expr::Kind::kLiteral:
    case Expr::Kind::kParam:
    case Expr::Kind::kPath:
    case Expr::Kind::kExists: {
      auto c = guarded(CloneExpr(w));
      if (!neg) return c;
      if (c->kind == Expr::Kind::kAnd) {
        // not (like and readable): (not like) and readable, in a monotone
        // context where an unreadable target must not match either way.
        auto inner = std::make_unique<Expr>();
        inner->kind = Expr::Kind::kNot;
        inner->pos = w.pos;
        inner->children.push_back(std::move(c->children[0]));
        c->children[0] = std::move(inner);
        return c;
      }
      auto n = std::make_unique<Expr>();
      n->kind = Expr::Kind::kNot;
      n->pos = w.pos;
      n->children.push_back(std::move(c));
      return n;
    }
  }
  return Internal("unknown predicate node");
}

Status Compiler::CheckReadable(const BoundPath& p, const QueryPos& pos) const {
  if (policy_ == nullptr || compiling_policy_) return Status::Ok();
  if (user_order_) {
    for (size_t i = 0; i < p.hops.size(); ++i) {
      ORMDB_RETURN_IF_ERROR(CheckThroughReadable(*policy_, *p.entities[i + 1], p.text, pos));
    }
  }
  for (size_t i = 0; i < p.hops.size(); ++i) {
    ORMDB_RETURN_IF_ERROR(CheckFieldReadable(*policy_, *p.entities[i], p.hops[i], pos));
  }
  if (p.terminal == BoundPath::Terminal::kField) {
    return CheckFieldReadable(*policy_, *p.entities.back(), p.field, pos);
  }
  return Status::Ok();
}

int Compiler::NewSlot(Slot s) {
  plan_->slots.push_back(std::move(s));
  return static_cast<int>(plan_->slots.size()) - 1;
}

Status Compiler::CompileNode(const Selection& sel, int idx) {
  if (sel.where) {
    std::unique_ptr<Expr> guarded;
    if (policy_ != nullptr) {
      ORMDB_ASSIGN_OR_RETURN(guarded, GuardHops(*sel.where, N(idx).entity, false));
    }
    ORMDB_ASSIGN_OR_RETURN(CExpr w, CompileExpr(guarded ? *guarded : *sel.where, idx));
    N(idx).where = std::move(w);
    N(idx).has_where = true;
  }
  ORMDB_RETURN_IF_ERROR(AddPolicyFilter(idx));
  // Order keys may name an aggregate of this selection; it is compiled with
  // the items, so its path is completed after them.
  std::vector<std::pair<int, std::string>> aggregate_keys;
  for (const OrderKey& k : sel.order) {
    if (k.path.size() == 1) {
      const auto named =
          std::find_if(sel.children.begin(), sel.children.end(),
                       [&](const Selection& c) { return c.aggregate && c.name == k.path[0]; });
      if (named != sel.children.end()) {
        BoundPath p;
        p.entities.push_back(N(idx).entity);
        p.terminal = BoundPath::Terminal::kAggregate;
        p.text = k.path[0];
        N(idx).paths.push_back(std::move(p));
        const int path = static_cast<int>(N(idx).paths.size()) - 1;
        aggregate_keys.emplace_back(path, k.path[0]);
        N(idx).order.push_back(OrderPlan{path, k.descending});
        N(idx).order_is_id_only = false;
        continue;
      }
    }
    user_order_ = true;
    Result<int> resolved = ResolvePath(idx, k.path, k.pos);
    user_order_ = false;
    ORMDB_ASSIGN_OR_RETURN(int p, std::move(resolved));
    if (N(idx).paths[p].domain == Domain::kJson) {
      return InvalidArgument(At(k.pos) + "cannot order by " + N(idx).paths[p].text +
                             ": json values have no order");
    }
    N(idx).order.push_back(OrderPlan{p, k.descending});
    if (N(idx).paths[p].terminal != BoundPath::Terminal::kId) N(idx).order_is_id_only = false;
  }
  if (sel.limit) {
    Slot s;
    s.kind = Slot::Kind::kLimit;
    s.literal = literal_count_++;
    N(idx).limit_slot = NewSlot(std::move(s));
  }
  if (sel.after) {
    Slot s;
    s.kind = Slot::Kind::kAfter;
    s.literal = literal_count_++;
    N(idx).after_slot = NewSlot(std::move(s));
  }
  std::vector<std::string> seen;
  for (const Selection& item : sel.children) {
    if (std::find(seen.begin(), seen.end(), item.name) != seen.end()) {
      return InvalidArgument(At(item.pos) + "'" + item.name + "' is selected twice");
    }
    seen.push_back(item.name);
    if (item.is_include) {
      ORMDB_RETURN_IF_ERROR(CompileInclude(item, idx));
    } else if (item.aggregate) {
      ORMDB_RETURN_IF_ERROR(CompileAggregate(item, idx));
    } else {
      ORMDB_RETURN_IF_ERROR(CompileField(item, idx));
    }
  }
  for (const auto& [path, name] : aggregate_keys) {
    for (size_t a = 0; a < plan_->aggregates.size(); ++a) {
      const AggregatePlan& ap = plan_->aggregates[a];
      if (ap.holder != idx || ap.name != name) continue;
      BoundPath& p = N(idx).paths[path];
      p.field = a;
      p.key_type = ap.result;
      p.domain = ap.result == ValueType::kString      ? Domain::kString
                 : ap.result == ValueType::kTimestamp ? Domain::kTimestamp
                                                      : Domain::kNumber;
    }
  }
  {
    // The cursor shape: entity, include path and order.
    std::string shape = N(idx).entity->name + "|" + N(idx).path + "|";
    for (const OrderPlan& o : N(idx).order) {
      shape += N(idx).paths[o.path].text + (o.descending ? " desc," : " asc,");
      N(idx).cursor_key_types.push_back(N(idx).paths[o.path].key_type);
    }
    N(idx).cursor_shape = Fnv1a(shape);
  }
  return Status::Ok();
}

const catalog::Entity* Compiler::SchemaEntity(const EntityInfo* e) {
  for (const catalog::Entity& se : schema_->schema().entities) {
    if (se.name == e->name) return &se;
  }
  return nullptr;
}

std::vector<std::string> Compiler::RelationNames(const EntityInfo* e) {
  std::vector<std::string> names;
  for (const FieldInfo& f : e->fields) {
    if (f.type == FieldType::kRef) names.push_back(f.name);
  }
  if (const catalog::Entity* se = SchemaEntity(e)) {
    for (const catalog::Collection& c : se->collections) names.push_back(c.name);
  }
  return names;
}

Status Compiler::CompileField(const Selection& item, int idx) {
  const EntityInfo* e = N(idx).entity;
  OutputItem out;
  out.name = item.name;
  if (item.name == "id") {
    return Status::Ok();  // always rendered first
  } else if (item.name == "_version") {
    out.kind = OutputItem::Kind::kVersion;
  } else if (int f = e->FieldIndex(item.name); f >= 0) {
    out.kind = OutputItem::Kind::kField;
    out.field = static_cast<size_t>(f);
    ORMDB_RETURN_IF_ERROR(AddFieldMask(e, out.field));
  } else {
    const catalog::Entity* se = SchemaEntity(e);
    if (se != nullptr) {
      for (const catalog::Collection& c : se->collections) {
        if (c.name == item.name) {
          return InvalidArgument(At(item.pos) + item.name + " is a relation of " + e->name +
                                 ": select it with braces, " + item.name + " { ... }");
        }
      }
    }
    std::vector<std::string> names = {"id", "_version"};
    for (const FieldInfo& fi : e->fields) names.push_back(fi.name);
    for (const std::string& r : RelationNames(e)) names.push_back(r);
    std::string hint = NearestName(item.name, names);
    return SchemaError(At(item.pos) + "unknown field '" + item.name + "' of " + e->name +
                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  N(idx).items.push_back(std::move(out));
  return Status::Ok();
}

Status Compiler::CompileInclude(const Selection& item, int idx) {
  const EntityInfo* e = N(idx).entity;
  Node child;
  child.parent = idx;
  child.depth = N(idx).depth + 1;
  child.path = N(idx).path + "." + item.name;
  child.relation = item.name;
  int f = e->FieldIndex(item.name);
  if (f >= 0 && e->fields[f].type == FieldType::kRef) {
    if (item.where || !item.order.empty() || item.limit || item.after) {
      return InvalidArgument(At(item.pos) + item.name + " is a to-one relation of " + e->name +
                             ": it takes no where, order, limit or after");
    }
    child.kind = Node::Kind::kToOne;
    child.ref_field = static_cast<size_t>(f);
    child.entity = schema_->EntityById(e->fields[f].ref_target);
  } else if (f >= 0) {
    return InvalidArgument(At(item.pos) + item.name + " is a field of " + e->name +
                           ", not a relation: select it without braces");
  } else {
    ORMDB_ASSIGN_OR_RETURN(Node many, RelationSource(idx, item.name, item.pos));
    child.kind = many.kind;
    child.entity = many.entity;
    child.ref_field = many.ref_field;
    child.edge = many.edge;
    child.edge_forward = many.edge_forward;
  }
  if (child.entity == nullptr) return Internal("include " + child.path + " has no entity");
  int child_idx = static_cast<int>(plan_->nodes.size());
  plan_->nodes.push_back(std::move(child));
  plan_->max_depth = std::max(plan_->max_depth, N(child_idx).depth);
  N(idx).children.push_back(child_idx);
  OutputItem out;
  out.kind = OutputItem::Kind::kInclude;
  out.name = item.name;
  out.child = child_idx;
  N(idx).items.push_back(std::move(out));
  return CompileNode(item, child_idx);
}

Result<Node> Compiler::RelationSource(int idx, const std::string& relation, const QueryPos& pos,
                                      const EntityInfo* of) {
  const EntityInfo* e = of != nullptr ? of : N(idx).entity;
  const catalog::Entity* se = SchemaEntity(e);
  const catalog::Collection* coll = nullptr;
  if (se != nullptr) {
    for (const catalog::Collection& c : se->collections) {
      if (c.name == relation) coll = &c;
    }
  }
  if (coll == nullptr) {
    std::string hint = NearestName(relation, RelationNames(e));
    return SchemaError(At(pos) + "unknown relation '" + relation + "' of " + e->name +
                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  Node n;
  n.parent = idx;
  n.depth = N(idx).depth + 1;
  n.relation = relation;
  n.entity = schema_->FindEntity(coll->target);
  if (n.entity == nullptr) return Internal("relation " + relation + " has no entity");
  if (coll->kind == catalog::Collection::Kind::kInverse) {
    n.kind = Node::Kind::kInverse;
    n.ref_field = static_cast<size_t>(n.entity->FieldIndex(coll->inverse_field));
    return n;
  }
  n.kind = Node::Kind::kMany;
  for (const catalog::EdgeInfo& edge : schema_->edges()) {
    if (edge.from_entity == e->name && edge.from_collection == coll->name) {
      n.edge = edge.id;
      n.edge_forward = true;
    } else if (edge.to_entity == e->name && edge.to_collection == coll->name) {
      n.edge = edge.id;
      n.edge_forward = false;
    }
  }
  if (n.edge.value == 0) return Internal("relation " + relation + " has no edge");
  return n;
}

Result<int> Compiler::ResolvePath(int idx, const std::vector<std::string>& names,
                                  const QueryPos& pos) {
  BoundPath p;
  const EntityInfo* e = N(idx).entity;
  p.entities.push_back(e);
  for (size_t i = 0; i < names.size(); ++i) {
    p.text += (i ? "." : "") + names[i];
    const std::string& name = names[i];
    bool last = i + 1 == names.size();
    if (name == "id" || name == "_version") {
      if (!last) {
        return InvalidArgument(At(pos) + p.text + " is not a relation: a path continues only " +
                               "through to-one relations");
      }
      p.terminal = name == "id" ? BoundPath::Terminal::kId : BoundPath::Terminal::kVersion;
      p.domain = name == "id" && e->uuid_id ? Domain::kUuid : Domain::kNumber;
      break;
    }
    int f = e->FieldIndex(name);
    if (f < 0) {
      const catalog::Entity* se = SchemaEntity(e);
      if (se != nullptr) {
        for (const catalog::Collection& c : se->collections) {
          if (c.name == name) {
            return InvalidArgument(At(pos) + p.text + " is a to-many relation of " + e->name +
                                   ": paths go through to-one relations only");
          }
        }
      }
      std::vector<std::string> cands = {"id", "_version"};
      for (const FieldInfo& fi : e->fields) cands.push_back(fi.name);
      std::string hint = NearestName(name, cands);
      return SchemaError(At(pos) + "unknown field '" + name + "' of " + e->name +
                         (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    const FieldInfo& fi = e->fields[f];
    if (!last) {
      if (fi.type != FieldType::kRef) {
        return InvalidArgument(At(pos) + p.text + " is a " + TypeNameOf(fi) + " field of " +
                               e->name + ", not a relation");
      }
      p.hops.push_back(static_cast<size_t>(f));
      e = schema_->EntityById(fi.ref_target);
      p.entities.push_back(e);
      continue;
    }
    p.terminal = BoundPath::Terminal::kField;
    p.field = static_cast<size_t>(f);
    p.domain = FieldDomain(fi);
    if (fi.type == FieldType::kEnum) p.enum_def = fi.enum_def;
    if (fi.type == FieldType::kRef) {
      const EntityInfo* target = schema_->EntityById(fi.ref_target);
      if (target->uuid_id) {
        // A reference to a uuid entity compares as the referenced uuid.
        p.hops.push_back(static_cast<size_t>(f));
        p.entities.push_back(target);
        p.terminal = BoundPath::Terminal::kId;
        p.domain = Domain::kUuid;
      }
    }
  }
  p.key_type = KeyType(p);
  ORMDB_RETURN_IF_ERROR(CheckReadable(p, pos));
  N(idx).paths.push_back(std::move(p));
  return static_cast<int>(N(idx).paths.size()) - 1;
}

std::string Compiler::Subject(int idx, int path) {
  const BoundPath& p = N(idx).paths[path];
  return p.entities[0]->name + "." + p.text;
}

std::string Compiler::Describe(int idx, int path) {
  const BoundPath& p = N(idx).paths[path];
  std::string type;
  if (p.terminal == BoundPath::Terminal::kField) {
    type = TypeNameOf(p.entities.back()->fields[p.field]);
  } else {
    type = std::string(DomainName(p.domain));
    if (type == "number") type = "int64";
  }
  return Subject(idx, path) + " (" + type + ")";
}

Result<Operand> Compiler::StartOperand(const Expr& e, int idx) {
  Operand o;
  o.expr = &e;
  if (e.kind == Expr::Kind::kPath) {
    ORMDB_ASSIGN_OR_RETURN(o.path, ResolvePath(idx, e.path, e.pos));
  } else if (e.kind == Expr::Kind::kLiteral) {
    o.ordinal = literal_count_++;
  } else if (e.kind != Expr::Kind::kParam) {
    return InvalidArgument(At(e.pos) + "expected a field, a literal or a parameter");
  }
  return o;
}

Result<CExpr> Compiler::FinishOperand(const Operand& o, int idx, int against, Slot::Kind kind) {
  CExpr c;
  if (o.path >= 0) {
    c.kind = CExpr::Kind::kPath;
    c.path = o.path;
    return c;
  }
  const BoundPath& p = N(idx).paths[against];
  Slot s = SlotAgainst(idx, against, kind, o.expr->pos);
  s.literal = o.ordinal;
  if (o.expr->kind == Expr::Kind::kParam) s.param = o.expr->name;
  if (o.expr->kind == Expr::Kind::kLiteral && kind == Slot::Kind::kValue &&
      !LiteralFits(o.expr->literal, p.domain)) {
    return TypeError(o.expr->pos, idx, against, o.expr->literal);
  }
  c.kind = CExpr::Kind::kSlot;
  c.slot = NewSlot(std::move(s));
  return c;
}

Status Compiler::TypeError(const QueryPos& pos, int idx, int path, const Json& literal) {
  if (N(idx).paths[path].domain == Domain::kJson) {
    return InvalidArgument(At(pos) + "cannot compare " + Describe(idx, path) +
                           ": a json field can only be tested with is null / is not null");
  }
  return InvalidArgument(At(pos) + "cannot compare " + Describe(idx, path) + " with " +
                         KindPhrase(literal) + " (" + ToJson(literal) + ")");
}

Slot Compiler::SlotAgainst(int idx, int path, Slot::Kind kind, const QueryPos& pos) {
  const BoundPath& p = N(idx).paths[path];
  Slot s;
  s.kind = kind;
  s.domain = p.domain;
  s.enum_def = p.enum_def;
  s.subject = Subject(idx, path);
  s.pos = pos;
  return s;
}

CExpr Compiler::PathExpr(int path) {
  CExpr c;
  c.kind = CExpr::Kind::kPath;
  c.path = path;
  return c;
}

Result<int> Compiler::FieldOperand(const Expr& e, int idx, std::string_view what) {
  if (e.kind != Expr::Kind::kPath) {
    return InvalidArgument(At(e.pos) + std::string(what) + " must be a field");
  }
  return ResolvePath(idx, e.path, e.pos);
}

Result<CExpr> Compiler::CompileExpr(const Expr& e, int idx) {
  CExpr c;
  switch (e.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr:
    case Expr::Kind::kNot: {
      c.kind = e.kind == Expr::Kind::kAnd  ? CExpr::Kind::kAnd
               : e.kind == Expr::Kind::kOr ? CExpr::Kind::kOr
                                           : CExpr::Kind::kNot;
      for (const auto& child : e.children) {
        ORMDB_ASSIGN_OR_RETURN(CExpr cc, CompileExpr(*child, idx));
        c.children.push_back(std::move(cc));
      }
      return c;
    }
    case Expr::Kind::kCompare: {
      ORMDB_ASSIGN_OR_RETURN(Operand a, StartOperand(*e.children[0], idx));
      ORMDB_ASSIGN_OR_RETURN(Operand b, StartOperand(*e.children[1], idx));
      c.kind = CExpr::Kind::kCompare;
      c.op = e.op;
      if (a.path < 0 && b.path < 0) {
        return InvalidArgument(At(e.pos) + "a comparison needs a field on one side");
      }
      if (a.path >= 0 && b.path >= 0) {
        Domain da = N(idx).paths[a.path].domain, db = N(idx).paths[b.path].domain;
        if (da != db || da == Domain::kJson) {
          return InvalidArgument(At(e.pos) + "cannot compare " + Describe(idx, a.path) + " with " +
                                 Describe(idx, b.path));
        }
      }
      if (a.path >= 0 && N(idx).paths[a.path].domain == Domain::kJson) {
        return TypeError(e.pos, idx, a.path, b.expr->literal);
      }
      if (b.path >= 0 && N(idx).paths[b.path].domain == Domain::kJson) {
        return TypeError(e.pos, idx, b.path, a.expr->literal);
      }
      ORMDB_ASSIGN_OR_RETURN(
          CExpr ca, FinishOperand(a, idx, a.path >= 0 ? a.path : b.path, Slot::Kind::kValue));
      ORMDB_ASSIGN_OR_RETURN(
          CExpr cb, FinishOperand(b, idx, b.path >= 0 ? b.path : a.path, Slot::Kind::kValue));
      c.children.push_back(std::move(ca));
      c.children.push_back(std::move(cb));
      return c;
    }
    case Expr::Kind::kIn: {
      ORMDB_ASSIGN_OR_RETURN(int p, FieldOperand(*e.children[0], idx, "the left side of in"));
      const BoundPath& bp = N(idx).paths[p];
      if (bp.domain == Domain::kJson) return TypeError(e.pos, idx, p, Json(1));
      for (const Json& el : e.list) {
        if (el.is_object()) continue;  // a parameter, checked when bound
        if (!LiteralFits(el, bp.domain)) return TypeError(e.pos, idx, p, el);
      }
      Slot s = SlotAgainst(idx, p, Slot::Kind::kList, e.pos);
      if (compiling_policy_) {
        s.list = e.list;  // a rule's list is not among the query's literals
      } else {
        s.literal = literal_count_++;
      }
      c.kind = CExpr::Kind::kIn;
      c.negated = e.negated;
      c.slot = NewSlot(std::move(s));
      c.children.push_back(PathExpr(p));
      return c;
    }
    case Expr::Kind::kLike: {
      ORMDB_ASSIGN_OR_RETURN(int p, FieldOperand(*e.children[0], idx, "the left side of like"));
      if (N(idx).paths[p].domain != Domain::kString) {
        return InvalidArgument(At(e.pos) + "like applies to string and enum fields, not " +
                               Describe(idx, p));
      }
      const Expr& pat = *e.children[1];
      Slot s = SlotAgainst(idx, p, Slot::Kind::kPattern, pat.pos);
      s.enum_def = nullptr;  // a pattern, not a value of the enum
      if (pat.kind == Expr::Kind::kParam) {
        s.param = pat.name;
      } else {
        s.literal = literal_count_++;
      }
      c.kind = CExpr::Kind::kLike;
      c.slot = NewSlot(std::move(s));
      c.children.push_back(PathExpr(p));
      return c;
    }
    case Expr::Kind::kIsNull: {
      ORMDB_ASSIGN_OR_RETURN(int p, FieldOperand(*e.children[0], idx, "the operand of is null"));
      c.kind = CExpr::Kind::kIsNull;
      c.negated = e.negated;
      c.children.push_back(PathExpr(p));
      return c;
    }
    case Expr::Kind::kExists:
      return CompileExists(e, idx);
    default:
      return InvalidArgument(At(e.pos) + "expected a predicate, found a lone operand");
  }
}

Status Compiler::EstimateSemiJoins() {
  for (SemiJoinPlan& sj : plan_->semijoins) {
    const Node& n = sj.source;
    Fanout fo;
    if (n.kind == Node::Kind::kInverse) {
      ORMDB_ASSIGN_OR_RETURN(fo, stats_->ReferenceFanout(
                                     n.entity->id, n.entity->fields[n.ref_field].id, sj.owner->id));
    } else {
      ORMDB_ASSIGN_OR_RETURN(fo, stats_->EdgeFanout(n.edge, n.edge_forward, sj.owner->id));
    }
    sj.est_fanout = fo.average;
    if (n.access == Access::kChildScanHash) {
      ORMDB_ASSIGN_OR_RETURN(uint64_t rows, stats_->Rows(n.entity->id));
      sj.est_cost_per_row = kSeek + static_cast<double>(rows) * kScanRow;
    } else {
      sj.est_cost_per_row = kSeek + fo.average * (kAdvance + kFetch);
    }
  }
  return Status::Ok();
}

Result<CExpr> Compiler::CompileExists(const Expr& e, int idx) {
  CExpr c;
  c.kind = CExpr::Kind::kExists;
  const EntityInfo* owner = N(idx).entity;
  if (e.path.size() > 1) {
    // Seen through to-one hops: the relation of the row they reach.
    std::vector<std::string> hops(e.path.begin(), e.path.end() - 1);
    hops.push_back("id");
    ORMDB_ASSIGN_OR_RETURN(c.path, ResolvePath(idx, hops, e.pos));
    owner = N(idx).paths[c.path].entities.back();
  }
  const std::string& relation = e.path.back();
  if (int f = owner->FieldIndex(relation); f >= 0) {
    const bool to_one = owner->fields[f].type == FieldType::kRef;
    return InvalidArgument(
        At(e.pos) + relation + " is " + (to_one ? "a to-one relation" : "a field") + " of " +
        owner->name + ": exists(...) reads a to-many relation" +
        (to_one ? " (test the related row's fields through a path: " + relation + ".<field>)"
                : ""));
  }
  ORMDB_ASSIGN_OR_RETURN(Node source, RelationSource(idx, relation, e.pos, owner));
  source.parent = -1;
  source.path = owner->name + "." + relation + " (exists)";
  if (source.kind == Node::Kind::kInverse) {
    source.access = Access::kChildScanHash;
    for (const IndexInfo& ix : source.entity->indexes) {
      if (!Usable(ix) || ix.fields.empty() || ix.fields[0] != source.ref_field) continue;
      if (source.range.index == nullptr || ix.fields.size() < source.range.index->fields.size()) {
        source.access = Access::kChildIndex;
        source.range = IndexRangePlan{};
        source.range.index = &ix;
        source.range.eq_slots = {-1};
      }
    }
    source.reason =
        source.access == Access::kChildIndex
            ? "per row, a range of " + source.range.index->name + " until a related row passes"
            : "no complete index led by " + source.entity->fields[source.ref_field].name +
                  ": per row, a scan of " + source.entity->name;
  } else {
    source.access = Access::kEdgeRange;
    source.reason = "per row, the edge range until a linked row passes";
  }
  // Compiled in place as the last node so that paths and slots resolve
  // against it, then moved out: it is never run as a node. The related
  // rows' own rules do not apply (rules are the schema owner's; applying
  // them here could recurse without end).
  const int sidx = static_cast<int>(plan_->nodes.size());
  plan_->nodes.push_back(std::move(source));
  Status st;
  if (!e.children.empty()) {
    Result<CExpr> w = CompileExpr(*e.children[0], sidx);
    if (w.ok()) {
      N(sidx).where = std::move(*w);
      N(sidx).has_where = true;
    } else {
      st = w.status();
    }
  }
  SemiJoinPlan sj;
  sj.source = std::move(plan_->nodes.back());
  plan_->nodes.pop_back();
  ORMDB_RETURN_IF_ERROR(st);
  sj.holder = N(idx).entity->name;
  sj.owner = owner;
  sj.text = parse_rules::ExprToText(e);
  c.semijoin = static_cast<int>(plan_->semijoins.size());
  N(idx).semijoins.push_back(c.semijoin);
  plan_->semijoins.push_back(std::move(sj));
  return c;
}

}  // namespace compiler_internal

namespace {

void CollectFromExpr(const Expr& e, std::vector<LiteralRef>* out) {
  switch (e.kind) {
    case Expr::Kind::kLiteral:
      out->push_back(LiteralRef{&e.literal, nullptr, -1, nullptr});
      return;
    case Expr::Kind::kIn:
      for (const auto& c : e.children) CollectFromExpr(*c, out);
      out->push_back(LiteralRef{nullptr, &e.list, -1, nullptr});
      return;
    default:
      for (const auto& c : e.children) CollectFromExpr(*c, out);
  }
}

void CollectFromSelection(const Selection& s, std::vector<LiteralRef>* out) {
  if (s.where) CollectFromExpr(*s.where, out);
  if (s.limit) out->push_back(LiteralRef{nullptr, nullptr, *s.limit, nullptr});
  if (s.after) out->push_back(LiteralRef{nullptr, nullptr, -1, &*s.after});
  for (const Selection& c : s.children) {
    if (c.is_include) CollectFromSelection(c, out);
    if (c.aggregate && c.aggregate->where) CollectFromExpr(*c.aggregate->where, out);
  }
}

}  // namespace

Result<std::shared_ptr<Plan>> CompileFetch(const FetchQuery& query,
                                           std::shared_ptr<const catalog::CompiledSchema> schema,
                                           Statistics* stats, Version snapshot,
                                           const ReadPolicy* policy) {
  compiler_internal::Compiler c(std::move(schema), stats, snapshot, policy);
  return c.Run(query);
}

Status CheckFetchNames(const FetchQuery& query,
                       std::shared_ptr<const catalog::CompiledSchema> schema) {
  compiler_internal::Compiler c(std::move(schema), nullptr, 0);
  return c.CompileNames(query);
}

std::vector<LiteralRef> CollectLiterals(const FetchQuery& query) {
  std::vector<LiteralRef> out;
  CollectFromSelection(query.root, &out);
  return out;
}

}  // namespace ormdb::query
