#include "query/compiler.h"

#include <algorithm>
#include <cmath>

#include "common/suggest.h"
#include "common/timestamp.h"
#include "common/utf8.h"
#include "common/uuid.h"
#include "observability/number_format.h"
#include "query/json_values.h"

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

namespace {

using catalog::EntityInfo;
using catalog::FieldInfo;
using catalog::FieldType;
using catalog::IndexInfo;
using observability::FormatEstimate;

constexpr double kSeek = 2.0;
constexpr double kAdvance = 0.2;
constexpr double kFetch = 1.0;
constexpr double kScanRow = 0.6;
constexpr double kAssumedLimit = 20;

std::string TypeNameOf(const FieldInfo& f) {
  if (f.type == FieldType::kEnum && f.enum_def != nullptr) return f.enum_def->name;
  if (f.type == FieldType::kRef) return f.ref_target_name;
  return std::string(ValueTypeName(f.physical));
}

std::string At(const QueryPos& pos) {
  if (pos.line <= 0) return "";
  return "query:" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": ";
}

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

std::string KindPhrase(const Json& v) {
  if (v.is_int()) return "an integer";
  if (v.is_double()) return "a float";
  if (v.is_string()) return "a string";
  if (v.is_bool()) return "a boolean";
  return "a " + std::string(v.TypeName());
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

struct Conjunct {
  const CExpr* expr = nullptr;
  int path = -1;  // a direct field or id of the node's entity
  enum class Op : uint8_t { kEq, kLt, kLe, kGt, kGe, kIn, kLike, kOther } op = Op::kOther;
  int slot = -1;
};

class Compiler {
 public:
  Compiler(std::shared_ptr<const catalog::CompiledSchema> schema, Statistics* stats,
           Version snapshot)
      : schema_(std::move(schema)), stats_(stats), snapshot_(snapshot) {}

  Result<std::shared_ptr<Plan>> Run(const FetchQuery& query) {
    plan_ = std::make_shared<Plan>();
    plan_->schema = schema_;
    ORMDB_ASSIGN_OR_RETURN(const EntityInfo* root, schema_->RequireEntity(query.root.name));
    if (!root) return SchemaError("unknown entity");
    Node node;
    node.kind = Node::Kind::kRoot;
    node.entity = root;
    node.path = root->name;
    plan_->nodes.push_back(std::move(node));
    ORMDB_RETURN_IF_ERROR(CompileNode(query.root, 0));
    ORMDB_RETURN_IF_ERROR(ChooseAccess());
    return plan_;
  }

 private:
  Node& N(int i) { return plan_->nodes[i]; }

  int NewSlot(Slot s) {
    plan_->slots.push_back(std::move(s));
    return static_cast<int>(plan_->slots.size()) - 1;
  }

  Status CompileNode(const Selection& sel, int idx) {
    if (sel.where) {
      ORMDB_ASSIGN_OR_RETURN(CExpr w, CompileExpr(*sel.where, idx));
      N(idx).where = std::move(w);
      N(idx).has_where = true;
    }
    for (const OrderKey& k : sel.order) {
      ORMDB_ASSIGN_OR_RETURN(int p, ResolvePath(idx, k.path, k.pos));
      if (N(idx).paths[p].domain == Domain::kJson) {
        return InvalidArgument(At(k.pos) + "cannot order by " + N(idx).paths[p].text +
                               ": json values have no order");
      }
      N(idx).order.push_back(OrderPlan{p, k.descending});
      if (N(idx).paths[p].terminal != BoundPath::Terminal::kId) N(idx).order_is_id_only = false;
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
      } else {
        ORMDB_RETURN_IF_ERROR(CompileField(item, idx));
      }
    }
    return Status::Ok();
  }

  const catalog::Entity* SchemaEntity(const EntityInfo* e) {
    for (const catalog::Entity& se : schema_->schema().entities) {
      if (se.name == e->name) return &se;
    }
    return nullptr;
  }

  std::vector<std::string> RelationNames(const EntityInfo* e) {
    std::vector<std::string> names;
    for (const FieldInfo& f : e->fields) {
      if (f.type == FieldType::kRef) names.push_back(f.name);
    }
    if (const catalog::Entity* se = SchemaEntity(e)) {
      for (const catalog::Collection& c : se->collections) names.push_back(c.name);
    }
    return names;
  }

  Status CompileField(const Selection& item, int idx) {
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

  Status CompileInclude(const Selection& item, int idx) {
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
      const catalog::Entity* se = SchemaEntity(e);
      const catalog::Collection* coll = nullptr;
      if (se != nullptr) {
        for (const catalog::Collection& c : se->collections) {
          if (c.name == item.name) coll = &c;
        }
      }
      if (coll == nullptr) {
        std::string hint = NearestName(item.name, RelationNames(e));
        return SchemaError(At(item.pos) + "unknown relation '" + item.name + "' of " + e->name +
                           (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
      child.entity = schema_->FindEntity(coll->target);
      if (coll->kind == catalog::Collection::Kind::kInverse) {
        child.kind = Node::Kind::kInverse;
        child.ref_field = static_cast<size_t>(child.entity->FieldIndex(coll->inverse_field));
      } else {
        child.kind = Node::Kind::kMany;
        for (const catalog::EdgeInfo& edge : schema_->edges()) {
          if (edge.from_entity == e->name && edge.from_collection == coll->name) {
            child.edge = edge.id;
            child.edge_forward = true;
          } else if (edge.to_entity == e->name && edge.to_collection == coll->name) {
            child.edge = edge.id;
            child.edge_forward = false;
          }
        }
        if (child.edge.value == 0) return Internal("relation " + child.path + " has no edge");
      }
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

  // Resolves a path from node `idx`'s entity; returns its index in paths.
  Result<int> ResolvePath(int idx, const std::vector<std::string>& names, const QueryPos& pos) {
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
    N(idx).paths.push_back(std::move(p));
    return static_cast<int>(N(idx).paths.size()) - 1;
  }

  std::string Subject(int idx, int path) {
    const BoundPath& p = N(idx).paths[path];
    return p.entities[0]->name + "." + p.text;
  }

  std::string Describe(int idx, int path) {
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

  // An operand: a path, or a literal / parameter slot whose domain is set
  // later (`ordinal` is the literal's number, taken in query order).
  struct Operand {
    const Expr* expr = nullptr;
    int path = -1;
    int ordinal = -1;
  };

  Result<Operand> StartOperand(const Expr& e, int idx) {
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

  // The slot of a literal or parameter operand compared with path `path`.
  Result<CExpr> FinishOperand(const Operand& o, int idx, int against, Slot::Kind kind) {
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

  Status TypeError(const QueryPos& pos, int idx, int path, const Json& literal) {
    if (N(idx).paths[path].domain == Domain::kJson) {
      return InvalidArgument(At(pos) + "cannot compare " + Describe(idx, path) +
                             ": a json field can only be tested with is null / is not null");
    }
    return InvalidArgument(At(pos) + "cannot compare " + Describe(idx, path) + " with " +
                           KindPhrase(literal) + " (" + ToJson(literal) + ")");
  }

  // A slot whose value is compared with path `path` of node `idx`.
  Slot SlotAgainst(int idx, int path, Slot::Kind kind, const QueryPos& pos) {
    const BoundPath& p = N(idx).paths[path];
    Slot s;
    s.kind = kind;
    s.domain = p.domain;
    s.enum_def = p.enum_def;
    s.subject = Subject(idx, path);
    s.pos = pos;
    return s;
  }

  static CExpr PathExpr(int path) {
    CExpr c;
    c.kind = CExpr::Kind::kPath;
    c.path = path;
    return c;
  }

  // An operand that must be a field path (`what` names it in the error).
  Result<int> FieldOperand(const Expr& e, int idx, std::string_view what) {
    if (e.kind != Expr::Kind::kPath) {
      return InvalidArgument(At(e.pos) + std::string(what) + " must be a field");
    }
    return ResolvePath(idx, e.path, e.pos);
  }

  Result<CExpr> CompileExpr(const Expr& e, int idx) {
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
            return InvalidArgument(At(e.pos) + "cannot compare " + Describe(idx, a.path) +
                                   " with " + Describe(idx, b.path));
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
        s.literal = literal_count_++;
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
      default:
        return InvalidArgument(At(e.pos) + "expected a predicate, found a lone operand");
    }
  }

  // ---- access paths ----

  std::vector<Conjunct> Conjuncts(const Node& n) {
    std::vector<Conjunct> out;
    if (!n.has_where) return out;
    std::vector<const CExpr*> list;
    if (n.where.kind == CExpr::Kind::kAnd) {
      for (const CExpr& c : n.where.children) list.push_back(&c);
    } else {
      list.push_back(&n.where);
    }
    for (const CExpr* c : list) {
      Conjunct cj;
      cj.expr = c;
      auto direct = [&](const CExpr& x) {
        return x.kind == CExpr::Kind::kPath && n.paths[x.path].hops.empty() &&
               n.paths[x.path].terminal != BoundPath::Terminal::kVersion;
      };
      if (c->kind == CExpr::Kind::kCompare && c->op != Expr::CompareOp::kNe) {
        const CExpr& a = c->children[0];
        const CExpr& b = c->children[1];
        bool flipped = false;
        const CExpr* path = nullptr;
        const CExpr* slot = nullptr;
        if (direct(a) && b.kind == CExpr::Kind::kSlot) {
          path = &a;
          slot = &b;
        } else if (direct(b) && a.kind == CExpr::Kind::kSlot) {
          path = &b;
          slot = &a;
          flipped = true;
        }
        if (path != nullptr) {
          cj.path = path->path;
          cj.slot = slot->slot;
          using Op = Conjunct::Op;
          switch (c->op) {
            case Expr::CompareOp::kEq:
              cj.op = Op::kEq;
              break;
            case Expr::CompareOp::kLt:
              cj.op = flipped ? Op::kGt : Op::kLt;
              break;
            case Expr::CompareOp::kLe:
              cj.op = flipped ? Op::kGe : Op::kLe;
              break;
            case Expr::CompareOp::kGt:
              cj.op = flipped ? Op::kLt : Op::kGt;
              break;
            case Expr::CompareOp::kGe:
              cj.op = flipped ? Op::kLe : Op::kGe;
              break;
            default:
              break;
          }
        }
      } else if (c->kind == CExpr::Kind::kIn && !c->negated && direct(c->children[0])) {
        cj.path = c->children[0].path;
        cj.slot = c->slot;
        cj.op = Conjunct::Op::kIn;
      } else if (c->kind == CExpr::Kind::kLike && direct(c->children[0])) {
        cj.path = c->children[0].path;
        cj.slot = c->slot;
        cj.op = Conjunct::Op::kLike;
      }
      out.push_back(cj);
    }
    return out;
  }

  // Whether path `p` of node `n` is index field `field` of its entity.
  static bool IsField(const Node& n, int p, size_t field) {
    const BoundPath& bp = n.paths[p];
    return bp.hops.empty() && bp.terminal == BoundPath::Terminal::kField && bp.field == field;
  }

  // Order keys of `n` provided by scanning `ix` from field `from` on;
  // *backward receives the direction.
  static size_t OrderCovered(const Node& n, const IndexInfo& ix, size_t from, bool* backward) {
    size_t covered = 0;
    *backward = false;
    for (size_t k = 0; k < n.order.size() && from + k < ix.fields.size(); ++k) {
      if (!IsField(n, n.order[k].path, ix.fields[from + k])) break;
      if (k == 0) *backward = n.order[k].descending;
      if (n.order[k].descending != *backward) break;
      ++covered;
    }
    return covered;
  }

  // Complete at the snapshot the plan reads.
  bool Usable(const IndexInfo& ix) const { return ix.ready && ix.ready_at <= snapshot_; }

  double SortCost(double rows) const { return rows > 1 ? 0.05 * rows * std::log2(rows) : 0; }

  Status ChooseAccess() {
    for (size_t i = 0; i < plan_->nodes.size(); ++i) {
      Node& n = plan_->nodes[i];
      ORMDB_ASSIGN_OR_RETURN(uint64_t rows, stats_->Rows(n.entity->id));
      plan_->assumed_rows.emplace_back(n.entity->id, rows);
      std::vector<Conjunct> cj = Conjuncts(n);
      double other_sel = 1;
      for (const Conjunct& c : cj) {
        (void)c;
        other_sel *= 0.5;
      }
      double limit = n.limit_slot >= 0 ? kAssumedLimit : -1;
      if (n.kind == Node::Kind::kRoot) {
        ORMDB_RETURN_IF_ERROR(ChooseRoot(n, rows, cj, limit));
      } else {
        ORMDB_RETURN_IF_ERROR(ChooseInclude(n, rows, cj, other_sel, limit));
      }
      if (n.kind == Node::Kind::kRoot) {
        plan_->est_entities += n.est_rows;
      } else {
        plan_->est_entities += n.est_rows;
        plan_->est_edges += n.est_rows;
      }
    }
    return Status::Ok();
  }

  Status ChooseRoot(Node& n, uint64_t rows_u, const std::vector<Conjunct>& cj, double limit) {
    double rows = static_cast<double>(rows_u);
    double best = -1;
    bool index_considered = false;
    auto consider = [&](double cost, auto apply) {
      if (best < 0 || cost < best) {
        best = cost;
        apply();
      }
    };
    // Selectivity of the conjuncts an access path does not use.
    auto rest_sel = [&](size_t used) {
      double s = 1;
      for (size_t k = used; k < cj.size(); ++k) s *= 0.5;
      return s;
    };
    for (size_t k = 0; k < cj.size(); ++k) {
      const Conjunct& c = cj[k];
      if (c.path < 0 || n.paths[c.path].terminal != BoundPath::Terminal::kId) continue;
      if (c.op != Conjunct::Op::kEq && c.op != Conjunct::Op::kIn) continue;
      double ids = c.op == Conjunct::Op::kEq ? 1 : 10;
      // An id or unique lookup reads at most a row per value: preferred to
      // any range or scan, however small the table.
      consider(0.5 * ids * kSeek * (n.entity->uuid_id ? 2 : 1), [&] {
        n.access = Access::kIdLookup;
        n.id_slots = {c.slot};
        n.est_rows_per_parent = std::min(rows, ids) * rest_sel(1);
        n.est_examined = ids;
        n.reason = c.op == Conjunct::Op::kEq ? "the predicate fixes the id"
                                             : "the predicate lists the ids";
      });
    }
    for (const IndexInfo& ix : n.entity->indexes) {
      if (!Usable(ix) || ix.id_index) continue;
      IndexRangePlan r;
      r.index = &ix;
      double sel = 1;
      size_t used = 0;
      std::vector<bool> taken(cj.size(), false);
      for (size_t f = 0; f < ix.fields.size(); ++f) {
        int found = -1;
        for (size_t k = 0; k < cj.size(); ++k) {
          if (!taken[k] && cj[k].op == Conjunct::Op::kEq && cj[k].path >= 0 &&
              IsField(n, cj[k].path, ix.fields[f])) {
            found = static_cast<int>(k);
            break;
          }
        }
        if (found < 0) break;
        taken[found] = true;
        ++used;
        r.eq_slots.push_back(cj[found].slot);
        if (f == 0) {
          ORMDB_ASSIGN_OR_RETURN(uint64_t distinct, stats_->Distinct(*n.entity, ix));
          sel /= static_cast<double>(std::max<uint64_t>(1, distinct));
        } else {
          sel *= 0.1;
        }
      }
      size_t next = r.eq_slots.size();
      if (next < ix.fields.size()) {
        for (size_t k = 0; k < cj.size(); ++k) {
          if (taken[k] || cj[k].path < 0 || !IsField(n, cj[k].path, ix.fields[next])) continue;
          switch (cj[k].op) {
            case Conjunct::Op::kLt:
            case Conjunct::Op::kLe:
              if (r.upper_slot >= 0 || r.like_slot >= 0) continue;
              r.upper_slot = cj[k].slot;
              r.upper_inclusive = cj[k].op == Conjunct::Op::kLe;
              break;
            case Conjunct::Op::kGt:
            case Conjunct::Op::kGe:
              if (r.lower_slot >= 0 || r.like_slot >= 0) continue;
              r.lower_slot = cj[k].slot;
              r.lower_inclusive = cj[k].op == Conjunct::Op::kGe;
              break;
            case Conjunct::Op::kLike:
              if (r.lower_slot >= 0 || r.upper_slot >= 0 || r.like_slot >= 0) continue;
              r.like_slot = cj[k].slot;
              break;
            default:
              continue;
          }
          taken[k] = true;
          ++used;
        }
        if (r.like_slot >= 0) sel *= 0.1;
        if (r.lower_slot >= 0 || r.upper_slot >= 0) sel *= 0.3;
      }
      r.order_covered = OrderCovered(n, ix, next, &r.backward);
      bool full_order = r.order_covered == n.order.size() && !n.order.empty();
      if (used == 0 && r.order_covered == 0) continue;
      index_considered = true;
      double in_range = rows * sel;
      double matched = in_range * rest_sel(used);
      double examined = in_range;
      if (r.order_covered > 0 && limit > 0 && matched > 0) {
        examined = std::min(in_range, (limit + 1) * in_range / std::max(1.0, matched));
      }
      bool unique = ix.unique && r.eq_slots.size() == ix.fields.size();
      double cost = kSeek + examined * (kAdvance + kFetch) + (full_order ? 0 : SortCost(matched));
      if (unique) cost = 0.5 * kSeek;
      consider(cost, [&] {
        n.access = unique ? Access::kUniqueLookup : Access::kIndexRange;
        n.range = r;
        n.est_rows_per_parent = unique ? std::min(1.0, matched) : matched;
        n.est_examined = examined;
        std::string why;
        if (unique) {
          why = "equality on every field of unique index " + ix.name;
        } else {
          if (!r.eq_slots.empty()) {
            why = "equality on the first " + std::to_string(r.eq_slots.size()) + " field" +
                  (r.eq_slots.size() > 1 ? "s" : "") + " of " + ix.name;
          }
          if (r.like_slot >= 0 || r.lower_slot >= 0 || r.upper_slot >= 0) {
            why += std::string(why.empty() ? "" : ", ") +
                   (r.like_slot >= 0 ? "a like prefix" : "a range") + " on " +
                   n.entity->fields[ix.fields[next]].name;
          }
          if (r.order_covered > 0) {
            why += std::string(why.empty() ? "" : "; ") + "the index gives the order of " +
                   std::to_string(r.order_covered) + " order key" +
                   (r.order_covered > 1 ? "s" : "");
            if (limit > 0) why += ", so the scan stops after the limit";
          }
        }
        n.reason = why;
      });
    }
    // A full scan in id order.
    {
      bool id_order = n.order_is_id_only;
      double matched = rows * rest_sel(0);
      double examined = rows;
      if (id_order && limit > 0 && matched > 0) {
        examined = std::min(rows, (limit + 1) * rows / std::max(1.0, matched));
      }
      double cost = kSeek + examined * kScanRow + (id_order ? 0 : SortCost(matched));
      consider(cost, [&] {
        n.access = Access::kScan;
        n.range = IndexRangePlan{};
        n.range.backward = !n.order.empty() && n.order[0].descending;
        n.est_rows_per_parent = matched;
        n.est_examined = examined;
        n.reason = index_considered
                       ? "a scan of " + std::to_string(rows_u) +
                             " rows costs less than any index range (" + FormatEstimate(cost) + ")"
                   : cj.empty() ? "no predicate to narrow the rows"
                                : "no index matches the predicate's fields";
        if (id_order && limit > 0) n.reason += "; id order, stops after the limit";
      });
    }
    n.est_cost = best;
    n.est_rows = limit > 0 ? std::min(limit, n.est_rows_per_parent) : n.est_rows_per_parent;
    return Status::Ok();
  }

  Status ChooseInclude(Node& n, uint64_t rows_u, const std::vector<Conjunct>& cj, double sel,
                       double limit) {
    double rows = static_cast<double>(rows_u);
    const Node& parent = plan_->nodes[n.parent];
    double parents = std::max(1.0, parent.est_rows);
    switch (n.kind) {
      case Node::Kind::kToOne: {
        n.access = Access::kRefLookup;
        n.est_rows_per_parent = 1;
        n.est_examined = parents;
        n.est_cost = parents * kSeek;
        n.reason = "to-one: the parents' distinct references, looked up in id order in one batch";
        break;
      }
      case Node::Kind::kInverse: {
        const EntityInfo* child = n.entity;
        ORMDB_ASSIGN_OR_RETURN(Fanout fo,
                               stats_->ReferenceFanout(child->id, child->fields[n.ref_field].id,
                                                       plan_->nodes[n.parent].entity->id));
        double fanout = fo.average;
        double matched = fanout * sel;
        // Per-parent range of the best index led by the reference.
        const IndexInfo* best_ix = nullptr;
        IndexRangePlan best_r;
        for (const IndexInfo& ix : child->indexes) {
          if (!Usable(ix) || ix.fields.empty() || ix.fields[0] != n.ref_field) continue;
          IndexRangePlan r;
          r.index = &ix;
          r.eq_slots = {-1};
          r.order_covered = OrderCovered(n, ix, 1, &r.backward);
          if (best_ix == nullptr || r.order_covered > best_r.order_covered) {
            best_ix = &ix;
            best_r = r;
          }
        }
        double scan_cost = kSeek + rows * kScanRow + parents * SortCost(matched);
        if (best_ix != nullptr) {
          double examined = fanout;
          if (best_r.order_covered > 0 && limit > 0 && matched > 0) {
            examined = std::min(fanout, (limit + 1) * fanout / std::max(1.0, matched));
          }
          bool full = best_r.order_covered == n.order.size();
          double cost =
              parents * (kSeek + examined * (kAdvance + kFetch) + (full ? 0 : SortCost(matched)));
          // A scan must win clearly: it decodes every row of the child entity.
          if (cost <= 2 * scan_cost) {
            n.access = Access::kChildIndex;
            n.range = best_r;
            n.est_examined = parents * examined;
            n.est_cost = cost;
            n.reason = "per parent, a range of " + best_ix->name + " (" + FormatEstimate(fanout) +
                       " children per parent on average, max " + std::to_string(fo.max) + ")";
            if (best_r.order_covered > 0) {
              n.reason += "; the index gives the order";
              if (limit > 0) n.reason += ", so each range stops after the limit";
            }
            n.reason += "; cost " + FormatEstimate(cost) + " against " + FormatEstimate(scan_cost) +
                        " for one scan of all " + std::to_string(rows_u) +
                        " rows (a scan must win by half: it decodes every row)";
            break;
          }
        }
        n.access = Access::kChildScanHash;
        n.est_examined = rows;
        n.est_cost = scan_cost;
        n.reason = "the parents cover most of " + child->name + " (" + FormatEstimate(parents) +
                   " parents x " + FormatEstimate(fanout) + " children of " +
                   std::to_string(rows_u) + " rows): one scan hashed by parent costs " +
                   FormatEstimate(scan_cost) + ", under half of a range per parent";
        n.est_rows_per_parent = matched;
        break;
      }
      case Node::Kind::kMany: {
        ORMDB_ASSIGN_OR_RETURN(Fanout fo, stats_->EdgeFanout(n.edge, n.edge_forward,
                                                             plan_->nodes[n.parent].entity->id));
        n.access = Access::kEdgeRange;
        double examined = fo.average;
        if (n.order_is_id_only && limit > 0 && fo.average * sel > 0) {
          examined = std::min(fo.average, (limit + 1) * fo.average / (fo.average * sel));
        }
        n.est_examined = parents * examined;
        n.est_cost = parents * (kSeek + examined * (kAdvance + kFetch));
        n.reason = "many-to-many: per parent, the edge range (" + FormatEstimate(fo.average) +
                   " linked per parent on average, max " + std::to_string(fo.max) +
                   "), then the distinct linked rows looked up in id order in one batch";
        if (n.order_is_id_only && limit > 0)
          n.reason += "; edges are in id order, so each range stops after the limit";
        break;
      }
      case Node::Kind::kRoot:
        break;
    }
    if (n.kind == Node::Kind::kInverse) {
      ORMDB_ASSIGN_OR_RETURN(Fanout fo,
                             stats_->ReferenceFanout(n.entity->id, n.entity->fields[n.ref_field].id,
                                                     plan_->nodes[n.parent].entity->id));
      n.est_rows_per_parent = fo.average * sel;
    } else if (n.kind == Node::Kind::kMany) {
      ORMDB_ASSIGN_OR_RETURN(
          Fanout fo, stats_->EdgeFanout(n.edge, n.edge_forward, plan_->nodes[n.parent].entity->id));
      n.est_rows_per_parent = fo.average * sel;
    }
    double per = limit > 0 ? std::min(limit, n.est_rows_per_parent) : n.est_rows_per_parent;
    n.est_rows = parents * per;
    (void)cj;
    return Status::Ok();
  }

  std::shared_ptr<const catalog::CompiledSchema> schema_;
  Statistics* stats_;
  Version snapshot_;
  std::shared_ptr<Plan> plan_;
  int literal_count_ = 0;
};

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
  }
}

}  // namespace

Result<std::shared_ptr<Plan>> CompileFetch(const FetchQuery& query,
                                           std::shared_ptr<const catalog::CompiledSchema> schema,
                                           Statistics* stats, Version snapshot) {
  Compiler c(std::move(schema), stats, snapshot);
  return c.Run(query);
}

std::vector<LiteralRef> CollectLiterals(const FetchQuery& query) {
  std::vector<LiteralRef> out;
  CollectFromSelection(query.root, &out);
  return out;
}

Result<Value> ConvertForDomain(const Json& v, Domain domain, const catalog::Enum* enum_def,
                               std::string_view subject) {
  auto mismatch = [&]() {
    return InvalidArgument("cannot compare " + std::string(subject) + " (" +
                           std::string(DomainName(domain)) + ") with " + KindPhrase(v) + " (" +
                           ToJson(v) + ")");
  };
  auto malformed = [&](std::string_view what) {
    return InvalidArgument(std::string(subject) + ": " + QuoteForMessage(v.as_string()) +
                           " is not " + std::string(what));
  };
  switch (domain) {
    case Domain::kNumber:
      if (v.is_int()) return Value::Int64(v.as_int());
      if (v.is_double()) return Value::Float64(v.as_double());
      return mismatch();
    case Domain::kString:
      if (!v.is_string()) return mismatch();
      if (enum_def != nullptr && std::find(enum_def->values.begin(), enum_def->values.end(),
                                           v.as_string()) == enum_def->values.end()) {
        std::string hint = NearestName(v.as_string(), enum_def->values);
        return InvalidArgument(std::string(subject) + ": " + enum_def->name + " has no value " +
                               QuoteForMessage(v.as_string()) +
                               (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
      return Value::String(v.as_string());
    case Domain::kBool:
      if (!v.is_bool()) return mismatch();
      return Value::Bool(v.as_bool());
    case Domain::kTimestamp: {
      if (v.is_int()) return Value::Timestamp(v.as_int());
      if (!v.is_string()) return mismatch();
      auto t = ParseTimestamp(v.as_string());
      if (!t.ok()) return malformed("an RFC 3339 timestamp");
      return Value::Timestamp(*t);
    }
    case Domain::kUuid: {
      if (!v.is_string()) return mismatch();
      auto u = ParseUuid(v.as_string());
      if (!u.ok()) return malformed("a uuid");
      return Value::MakeUuid(*u);
    }
    case Domain::kBytes: {
      if (!v.is_string()) return mismatch();
      auto b = Base64Decode(v.as_string());
      if (!b.ok()) return malformed("base64");
      return Value::Bytes(std::move(*b));
    }
    case Domain::kJson:
      return mismatch();
  }
  return mismatch();
}

Result<std::vector<BoundSlot>> BindSlots(const Plan& plan, const FetchQuery& query,
                                         const Json& params) {
  if (!params.is_object()) return InvalidArgument("parameters must be a JSON object");
  std::vector<LiteralRef> lits = CollectLiterals(query);
  std::vector<std::string> used;
  auto param = [&](const std::string& name, const QueryPos& pos) -> Result<const Json*> {
    const Json* v = params.Find(name);
    if (v == nullptr) {
      return InvalidArgument(At(pos) + "missing parameter $" + name + " (bind it with --param " +
                             name + "=VALUE)");
    }
    used.push_back(name);
    return v;
  };
  std::vector<BoundSlot> out(plan.slots.size());
  for (size_t i = 0; i < plan.slots.size(); ++i) {
    const Slot& s = plan.slots[i];
    BoundSlot& b = out[i];
    const LiteralRef* lit = nullptr;
    if (s.literal >= 0) {
      if (static_cast<size_t>(s.literal) >= lits.size()) return Internal("plan and query differ");
      lit = &lits[s.literal];
    }
    auto located = [&](Status st) {
      if (st.message().starts_with("query:")) return st;
      return Status(st.code(), At(s.pos) + st.message());
    };
    // A value that came from a parameter: the message names it.
    auto named = [](Status st, const std::string& param) {
      if (param.empty()) return st;
      return Status(st.code(), "parameter $" + param + ": " + st.message());
    };
    switch (s.kind) {
      case Slot::Kind::kValue: {
        const Json* v = lit ? lit->value : nullptr;
        if (!s.param.empty()) {
          ORMDB_ASSIGN_OR_RETURN(v, param(s.param, s.pos));
        }
        if (v == nullptr) return Internal("plan and query differ");
        if (v->is_null()) {
          return InvalidArgument(At(s.pos) + "$" + s.param + " is null: a comparison with null " +
                                 "matches nothing (use is null)");
        }
        auto cv = ConvertForDomain(*v, s.domain, s.enum_def, s.subject);
        if (!cv.ok()) return located(named(cv.status(), s.param));
        b.value = std::move(*cv);
        break;
      }
      case Slot::Kind::kList: {
        if (lit == nullptr || lit->list == nullptr) return Internal("plan and query differ");
        for (const Json& el : *lit->list) {
          const Json* v = &el;
          std::string param_name;
          if (el.is_object()) {
            const Json* name = el.Find("$param");
            if (name == nullptr || !name->is_string()) return Internal("bad list parameter");
            ORMDB_ASSIGN_OR_RETURN(v, param(name->as_string(), s.pos));
            param_name = name->as_string();
            if (v->is_null()) {
              return InvalidArgument(At(s.pos) + "$" + name->as_string() +
                                     " is null: null cannot be in an in-list");
            }
          }
          auto cv = ConvertForDomain(*v, s.domain, s.enum_def, s.subject);
          if (!cv.ok()) return located(named(cv.status(), param_name));
          b.list.push_back(std::move(*cv));
        }
        break;
      }
      case Slot::Kind::kPattern: {
        const Json* v = lit ? lit->value : nullptr;
        if (!s.param.empty()) {
          ORMDB_ASSIGN_OR_RETURN(v, param(s.param, s.pos));
        }
        if (v == nullptr) return Internal("plan and query differ");
        if (!v->is_string()) {
          return InvalidArgument(At(s.pos) + "a like pattern must be a string, found " +
                                 KindPhrase(*v));
        }
        const std::string& p = v->as_string();
        size_t trailing = 0;
        for (size_t k = p.size(); k > 0 && p[k - 1] == '\\'; --k) ++trailing;
        if (trailing % 2 == 1) {
          return InvalidArgument(At(s.pos) + "like pattern " + QuoteForMessage(p) +
                                 " ends in a lone backslash");
        }
        b.pattern = std::make_shared<LikePattern>(p);
        break;
      }
      case Slot::Kind::kLimit:
        if (lit == nullptr || lit->limit < 0) return Internal("plan and query differ");
        b.limit = lit->limit;
        break;
      case Slot::Kind::kAfter:
        if (lit == nullptr || lit->after == nullptr) return Internal("plan and query differ");
        b.after = *lit->after;
        break;
    }
  }
  for (const auto& [name, value] : params.as_object()) {
    if (std::find(used.begin(), used.end(), name) == used.end()) {
      return InvalidArgument("parameter $" + name + " is not used by the query");
    }
  }
  return out;
}

}  // namespace ormdb::query
