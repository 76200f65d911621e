// The select compiler (query/select_plan.h): from the parsed statement to
// the fetch that reads its rows, then every name resolved against that
// fetch's plan, the grouping rules checked and the having's values bound.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "query/compiler.h"
#include "query/cursor.h"
#include "query/parse_rules.h"
#include "query/read_checks.h"
#include "query/select_parser.h"
#include "query/select_plan.h"
#include "query/select_result.h"

namespace ormdb::query::select_plan {
namespace {

using parse_rules::AggregateFnName;
using parse_rules::JoinPath;

std::string At(const QueryPos& pos) {
  if (pos.line <= 0) return "";
  return "query:" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": ";
}

Domain DomainOf(ValueType t) {
  switch (t) {
    case ValueType::kBool:
      return Domain::kBool;
    case ValueType::kString:
      return Domain::kString;
    case ValueType::kBytes:
      return Domain::kBytes;
    case ValueType::kTimestamp:
      return Domain::kTimestamp;
    case ValueType::kUuid:
      return Domain::kUuid;
    case ValueType::kJson:
      return Domain::kJson;
    default:
      return Domain::kNumber;
  }
}

bool IsNumber(ValueType t) {
  return t == ValueType::kInt32 || t == ValueType::kInt64 || t == ValueType::kFloat64;
}

// The parameters an expression names.
void ParamsOf(const Expr& e, std::vector<std::string>* out) {
  if (e.kind == Expr::Kind::kParam) out->push_back(e.name);
  for (const Json& el : e.list) {
    if (el.is_object()) {
      if (const Json* name = el.Find("$param"); name != nullptr && name->is_string()) {
        out->push_back(name->as_string());
      }
    }
  }
  for (const auto& child : e.children) ParamsOf(*child, out);
}

// A trie of the paths the fetch must read: an include per relation, a
// field per path end.
struct PathTrie {
  std::map<std::string, PathTrie> children;  // ordered: the fetch IR is deterministic
  bool leaf = false;
  QueryPos pos;
};

Status AddToSelection(const PathTrie& trie, Selection* sel) {
  for (const auto& [name, child] : trie.children) {
    Selection item;
    item.name = name;
    item.pos = child.pos;
    if (!child.children.empty()) {
      // A relation that is also a value (`author` beside `author.name`):
      // its value is the related row's id, read from the include.
      item.is_include = true;
      ORMDB_RETURN_IF_ERROR(AddToSelection(child, &item));
    }
    sel->children.push_back(std::move(item));
  }
  return Status::Ok();
}

class SelectCompiler {
 public:
  SelectCompiler(FetchEngine& fetch, std::string_view secret, const SelectOptions& options,
                 const Principal* principal)
      : fetch_(fetch), secret_(secret), options_(options), principal_(principal) {}

  Result<std::unique_ptr<Plan>> Run(std::string_view text, std::string_view params_json);

  // Sets plan_->maintained when the records of a @maintain relation answer
  // the streamed select whose root is `root` (see Plan::maintained).
  void ChooseMaintained(const query::Node& root) {
    Plan& p = *plan_;
    if (p.group_columns.size() != 1 || root.has_where) return;
    const Column& g = p.columns[p.group_columns[0]];
    if (g.item < 0 || root.items[g.item].kind != OutputItem::Kind::kField) return;
    const size_t ref = root.items[g.item].field;
    const catalog::FieldInfo& rf = root.entity->fields[ref];
    if (rf.type != catalog::FieldType::kRef || rf.optional) return;  // no null group
    const catalog::MaintainedInfo* m = root.entity->MaintainedBy(ref);
    if (m == nullptr) return;
    std::vector<int> slots;
    for (const AggregateTerm& a : p.aggregates) {
      if (a.column < 0) {
        if (a.fn != Aggregate::Fn::kCount) return;
        slots.push_back(-1);
        continue;
      }
      const Column& c = p.columns[a.column];
      if (c.item < 0 || root.items[c.item].kind != OutputItem::Kind::kField) return;
      auto at = std::find(m->fields.begin(), m->fields.end(), root.items[c.item].field);
      const bool answers = a.fn == Aggregate::Fn::kCount || a.fn == Aggregate::Fn::kSum ||
                           a.fn == Aggregate::Fn::kAvg;
      if (at == m->fields.end() || !answers) return;
      slots.push_back(static_cast<int>(at - m->fields.begin()));
    }
    p.maintained = m;
    p.maintained_slots = std::move(slots);
  }

 private:
  // ---- before the fetch is planned: names only ----
  int AddColumn(const std::vector<std::string>& path, const QueryPos& pos);
  int AddAggregate(const SelectTerm& term);
  // The item a one-name path names by its `as` name, or -1.
  int ItemByAlias(const std::vector<std::string>& path) const;
  Result<Ref> TermRef(const SelectTerm& term, std::string_view clause);
  Status CollectHaving(const Expr& e);
  Status CheckGrouped(const Ref& ref, const QueryPos& pos, std::string_view text,
                      std::string_view clause) const;
  // Notes that column `column` is aggregated, ordered or grouped by at
  // `pos`: its values must be readable (CheckComputed).
  void NoteComputed(int column, const QueryPos& pos, bool group);

  // ---- against the fetch's plan ----
  Status Locate(Column* c);
  // The fetch compiler's read checks (query/read_checks.h) for each column
  // noted as computed with: PERMISSION_DENIED for a masked field, or a
  // to-one relation on its path whose rows the principal may not all read.
  // A to-many relation on the path is not refused: its expansion joins
  // readable children only, as a fetch's aggregate over it counts them.
  Status CheckComputed() const;
  Status TypeAggregates();
  Result<HavingExpr> BindHaving(const Expr& e);
  Result<Ref> HavingRef(const Expr& e);
  ValueType RefType(const Ref& r) const;
  const catalog::Enum* RefEnum(const Ref& r) const;
  std::string RefText(const Ref& r) const;
  Result<Value> BindValue(const Expr& e, const Ref& against);
  Result<Value> BindJson(const Json& v, const QueryPos& pos, const std::string& param,
                         const Ref& against);
  Result<const Json*> Param(const std::string& name, const QueryPos& pos);

  FetchEngine& fetch_;
  std::string secret_;
  const SelectOptions& options_;
  const Principal* principal_ = nullptr;
  SelectQuery q_;
  Json params_ = Json::Object();
  std::vector<std::string> used_params_;
  std::unique_ptr<Plan> plan_;
  std::vector<Ref> order_refs_;
  // The principal's read policy at the fetch's snapshot (null: none applies).
  std::shared_ptr<const ReadPolicy> read_policy_;
  struct ComputedUse {
    int column = -1;
    QueryPos pos;
    bool group = false;
  };
  std::vector<ComputedUse> computed_;
};

int SelectCompiler::AddColumn(const std::vector<std::string>& path, const QueryPos& pos) {
  const std::string text = JoinPath(path);
  for (size_t i = 0; i < plan_->columns.size(); ++i) {
    if (plan_->columns[i].text == text) return static_cast<int>(i);
  }
  Column c;
  c.path = path;
  c.text = text;
  c.pos = pos;
  plan_->columns.push_back(std::move(c));
  return static_cast<int>(plan_->columns.size() - 1);
}

int SelectCompiler::AddAggregate(const SelectTerm& term) {
  for (size_t i = 0; i < plan_->aggregates.size(); ++i) {
    if (plan_->aggregates[i].text == term.text) return static_cast<int>(i);
  }
  AggregateTerm a;
  a.fn = term.fn;
  a.text = term.text;
  if (!term.path.empty()) {
    a.column = AddColumn(term.path, term.pos);
    NoteComputed(a.column, term.pos, false);
  }
  plan_->aggregates.push_back(std::move(a));
  return static_cast<int>(plan_->aggregates.size() - 1);
}

void SelectCompiler::NoteComputed(int column, const QueryPos& pos, bool group) {
  computed_.push_back(ComputedUse{column, pos, group});
}

int SelectCompiler::ItemByAlias(const std::vector<std::string>& path) const {
  if (path.size() != 1) return -1;
  for (size_t i = 0; i < q_.items.size(); ++i) {
    if (q_.items[i].alias == path[0]) return static_cast<int>(i);
  }
  return -1;
}

Status SelectCompiler::CheckGrouped(const Ref& ref, const QueryPos& pos, std::string_view text,
                                    std::string_view clause) const {
  if (!plan_->grouped || ref.aggregate) return Status::Ok();
  const auto& g = plan_->group_columns;
  if (std::find(g.begin(), g.end(), ref.index) != g.end()) return Status::Ok();
  return InvalidArgument(At(pos) + std::string(clause) + " '" + std::string(text) +
                         "' is neither in group by nor an aggregate: add it to group by, or "
                         "aggregate it (count, count_distinct, sum, avg, min, max)");
}

// An order key or group by term: an item's `as` name, a path, or an
// aggregate call.
Result<Ref> SelectCompiler::TermRef(const SelectTerm& term, std::string_view clause) {
  if (!term.is_aggregate) {
    Ref ref{false, -1};
    if (int item = ItemByAlias(term.path); item >= 0) {
      ref = plan_->items[item];
    } else {
      ref.index = AddColumn(term.path, term.pos);
    }
    if (!ref.aggregate) NoteComputed(ref.index, term.pos, false);
    return ref;
  }
  if (clause == "group by") return InvalidArgument(At(term.pos) + "cannot group by an aggregate");
  return Ref{true, AddAggregate(term)};
}

Status SelectCompiler::CollectHaving(const Expr& e) {
  if (e.kind == Expr::Kind::kPath) {
    if (e.call >= 0) {
      SelectTerm t;
      t.is_aggregate = true;
      t.fn = static_cast<Aggregate::Fn>(e.call);
      t.path = e.path;
      t.pos = e.pos;
      t.text = TermText(true, t.fn, t.path);
      AddAggregate(t);
    } else if (ItemByAlias(e.path) < 0) {
      AddColumn(e.path, e.pos);
    }
  }
  for (const auto& child : e.children) ORMDB_RETURN_IF_ERROR(CollectHaving(*child));
  return Status::Ok();
}

Status SelectCompiler::Locate(Column* c) {
  const Plan& p = *plan_;
  const query::Plan& fp = *p.fetch.plan;
  int node = 0;
  for (size_t i = 0; i + 1 < c->path.size(); ++i) {
    int next = -1;
    for (const OutputItem& item : fp.nodes[node].items) {
      if (item.kind == OutputItem::Kind::kInclude && item.name == c->path[i]) next = item.child;
    }
    if (next < 0) return Internal("select: the fetch has no include for " + c->text);
    node = next;
    c->nodes.push_back(node);
  }
  const query::Node& holder = fp.nodes[node];
  for (size_t k = 0; k < holder.items.size(); ++k) {
    const OutputItem& item = holder.items[k];
    if (item.name != c->path.back() || item.kind == OutputItem::Kind::kInclude ||
        item.kind == OutputItem::Kind::kAggregate) {
      continue;
    }
    c->item = static_cast<int>(k);
    switch (item.kind) {
      case OutputItem::Kind::kId:
        c->is_id = true;
        c->type = holder.entity->uuid_id ? ValueType::kUuid : ValueType::kInt64;
        break;
      case OutputItem::Kind::kVersion:
        c->type = ValueType::kInt64;
        break;
      default: {
        const catalog::FieldInfo& f = holder.entity->fields[item.field];
        c->type = f.physical;
        c->enum_def = f.enum_def;
        c->is_reference = f.type == catalog::FieldType::kRef;
        break;
      }
    }
  }
  if (c->item < 0) {
    for (const OutputItem& item : holder.items) {
      if (item.kind != OutputItem::Kind::kInclude || item.name != c->path.back()) continue;
      // A to-one reference also walked through: the related row's id.
      const query::Node& related = fp.nodes[item.child];
      c->nodes.push_back(item.child);
      c->is_id = c->is_reference = true;
      c->item = 0;
      c->type = related.entity->uuid_id ? ValueType::kUuid : ValueType::kInt64;
    }
  }
  if (c->item < 0 && c->path.back() == "id") {
    // Every row carries its id; the fetch keeps no item for it.
    c->is_id = true;
    c->type = holder.entity->uuid_id ? ValueType::kUuid : ValueType::kInt64;
  } else if (c->item < 0) {
    return Internal("select: the fetch has no field for " + c->text);
  }
  std::vector<int> many;
  for (int n : c->nodes) {
    const auto kind = fp.nodes[n].kind;
    if (kind == query::Node::Kind::kInverse || kind == query::Node::Kind::kMany) many.push_back(n);
  }
  auto relation_path = [&](int n) {
    const std::string& path = fp.nodes[n].path;  // "Post.tags"
    return path.substr(path.find('.') + 1);
  };
  if (many.size() > 1) {
    return InvalidArgument(At(c->pos) + "'" + c->text + "' goes through two to-many relations (" +
                           relation_path(many[0]) + ", " + relation_path(many[1]) +
                           "); a select expands at most one");
  }
  if (many.size() == 1) {
    if (plan_->many_node >= 0 && plan_->many_node != many[0]) {
      return InvalidArgument(At(c->pos) + "'" + c->text + "' expands the to-many relation " +
                             relation_path(many[0]) + ", but the select already expands " +
                             plan_->many_path + "; a select expands at most one");
    }
    plan_->many_node = many[0];
    plan_->many_path = relation_path(many[0]);
    c->expands = true;
  }
  return Status::Ok();
}

Status SelectCompiler::CheckComputed() const {
  if (read_policy_ == nullptr) return Status::Ok();
  const ReadPolicy& policy = *read_policy_;
  const query::Plan& fp = *plan_->fetch.plan;
  for (const ComputedUse& use : computed_) {
    const Column& c = plan_->columns[use.column];
    const std::string_view field_uses = use.group ? kGroupFieldUses : kFieldUses;
    const std::string_view through_uses = use.group ? kGroupThroughUses : kThroughUses;
    // In the fetch compiler's order: the relations the path reads through,
    // the references it follows, then the field at its end.
    for (int n : c.nodes) {
      const query::Node& node = fp.nodes[n];
      if (node.kind != query::Node::Kind::kToOne) continue;
      ORMDB_RETURN_IF_ERROR(
          CheckThroughReadable(policy, *node.entity, c.text, use.pos, through_uses));
    }
    for (int n : c.nodes) {
      const query::Node& node = fp.nodes[n];
      if (node.kind != query::Node::Kind::kToOne) continue;
      ORMDB_RETURN_IF_ERROR(CheckFieldReadable(policy, *fp.nodes[node.parent].entity,
                                               node.ref_field, use.pos, field_uses));
    }
    // The node that holds the path's last name (a reference read as the
    // related row's id adds that row's node after it).
    const int holder = c.path.size() >= 2 ? c.nodes[c.path.size() - 2] : 0;
    const catalog::EntityInfo& e = *fp.nodes[holder].entity;
    const int f = e.FieldIndex(c.path.back());
    if (f < 0) continue;  // the id
    const catalog::FieldInfo& field = e.fields[f];
    if (field.type == catalog::FieldType::kRef) {
      // A reference to a uuid entity reads the referenced row's uuid.
      const catalog::EntityInfo* target = fp.schema->EntityById(field.ref_target);
      if (target->uuid_id) {
        ORMDB_RETURN_IF_ERROR(CheckThroughReadable(policy, *target, c.text, use.pos, through_uses));
      }
    }
    ORMDB_RETURN_IF_ERROR(CheckFieldReadable(policy, e, f, use.pos, field_uses));
  }
  return Status::Ok();
}

Status SelectCompiler::TypeAggregates() {
  for (AggregateTerm& a : plan_->aggregates) {
    if (a.column < 0) continue;
    const Column& c = plan_->columns[a.column];
    switch (a.fn) {
      case Aggregate::Fn::kCount:
      case Aggregate::Fn::kCountDistinct:
        a.result = ValueType::kInt64;
        break;
      case Aggregate::Fn::kSum:
      case Aggregate::Fn::kAvg:
        if (!IsNumber(c.type) || c.is_id || c.is_reference || c.enum_def != nullptr) {
          const std::string what = c.is_reference ? "a reference"
                                   : c.is_id      ? "an id"
                                   : c.enum_def   ? "an enum"
                                                  : std::string(ValueTypeName(c.type));
          return InvalidArgument(At(c.pos) + a.text + " needs a number: " + c.text + " is " + what);
        }
        a.float_input = c.type == ValueType::kFloat64;
        a.result =
            a.fn == Aggregate::Fn::kAvg || a.float_input ? ValueType::kFloat64 : ValueType::kInt64;
        break;
      case Aggregate::Fn::kMin:
      case Aggregate::Fn::kMax:
        if (c.type == ValueType::kJson) {
          return InvalidArgument(At(c.pos) + a.text + ": json values have no order");
        }
        a.result = c.type;
        break;
    }
  }
  return Status::Ok();
}

ValueType SelectCompiler::RefType(const Ref& r) const {
  return r.aggregate ? plan_->aggregates[r.index].result : plan_->columns[r.index].type;
}

const catalog::Enum* SelectCompiler::RefEnum(const Ref& r) const {
  if (!r.aggregate) return plan_->columns[r.index].enum_def;
  const AggregateTerm& a = plan_->aggregates[r.index];
  if ((a.fn == Aggregate::Fn::kMin || a.fn == Aggregate::Fn::kMax) && a.column >= 0) {
    return plan_->columns[a.column].enum_def;
  }
  return nullptr;
}

std::string SelectCompiler::RefText(const Ref& r) const {
  return r.aggregate ? plan_->aggregates[r.index].text : plan_->columns[r.index].text;
}

Result<const Json*> SelectCompiler::Param(const std::string& name, const QueryPos& pos) {
  const Json* v = params_.Find(name);
  if (v == nullptr) {
    return InvalidArgument(At(pos) + "missing parameter $" + name + " (bind it with --param " +
                           name + "=VALUE)");
  }
  used_params_.push_back(name);
  return v;
}

Result<Value> SelectCompiler::BindJson(const Json& v, const QueryPos& pos, const std::string& param,
                                       const Ref& against) {
  if (v.is_null()) {
    return InvalidArgument(At(pos) + "$" + param +
                           " is null: a comparison with null matches nothing (use is null)");
  }
  auto cv = ConvertForDomain(v, DomainOf(RefType(against)), RefEnum(against), RefText(against));
  if (!cv.ok()) {
    std::string message = cv.status().message();
    if (!param.empty()) message = "parameter $" + param + ": " + message;
    return Status(cv.status().code(), At(pos) + message);
  }
  return std::move(*cv);
}

Result<Value> SelectCompiler::BindValue(const Expr& e, const Ref& against) {
  if (e.kind == Expr::Kind::kParam) {
    ORMDB_ASSIGN_OR_RETURN(const Json* v, Param(e.name, e.pos));
    return BindJson(*v, e.pos, e.name, against);
  }
  return BindJson(e.literal, e.pos, "", against);
}

Result<Ref> SelectCompiler::HavingRef(const Expr& e) {
  if (e.kind != Expr::Kind::kPath) {
    return InvalidArgument(At(e.pos) + "expected an item, a grouped path or an aggregate here");
  }
  if (e.call >= 0) {
    const std::string text = TermText(true, static_cast<Aggregate::Fn>(e.call), e.path);
    for (size_t i = 0; i < plan_->aggregates.size(); ++i) {
      if (plan_->aggregates[i].text == text) return Ref{true, static_cast<int>(i)};
    }
    return Internal("select: having aggregate not collected");
  }
  if (int item = ItemByAlias(e.path); item >= 0) return plan_->items[item];
  const std::string text = JoinPath(e.path);
  for (size_t i = 0; i < plan_->columns.size(); ++i) {
    if (plan_->columns[i].text == text) {
      Ref r{false, static_cast<int>(i)};
      ORMDB_RETURN_IF_ERROR(CheckGrouped(r, e.pos, text, "having:"));
      return r;
    }
  }
  return Internal("select: having path not collected");
}

Result<HavingExpr> SelectCompiler::BindHaving(const Expr& e) {
  HavingExpr h;
  h.negated = e.negated;
  h.op = e.op;
  auto operand_ref = [&](const Expr& x) { return x.kind == Expr::Kind::kPath; };
  switch (e.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr:
    case Expr::Kind::kNot:
      h.kind = e.kind == Expr::Kind::kAnd  ? HavingExpr::Kind::kAnd
               : e.kind == Expr::Kind::kOr ? HavingExpr::Kind::kOr
                                           : HavingExpr::Kind::kNot;
      for (const auto& child : e.children) {
        ORMDB_ASSIGN_OR_RETURN(HavingExpr c, BindHaving(*child));
        h.children.push_back(std::move(c));
      }
      return h;
    case Expr::Kind::kCompare: {
      h.kind = HavingExpr::Kind::kCompare;
      const Expr& l = *e.children[0];
      const Expr& r = *e.children[1];
      if (!operand_ref(l) && !operand_ref(r)) {
        return InvalidArgument(At(e.pos) +
                               "a comparison in having needs an item, a grouped path "
                               "or an aggregate on one side");
      }
      for (const Expr* side : {&l, &r}) {
        HavingExpr operand;
        if (operand_ref(*side)) {
          operand.kind = HavingExpr::Kind::kRef;
          ORMDB_ASSIGN_OR_RETURN(operand.ref, HavingRef(*side));
        } else {
          operand.kind = HavingExpr::Kind::kValue;
          const Expr& other = side == &l ? r : l;
          ORMDB_ASSIGN_OR_RETURN(Ref against, HavingRef(other));
          ORMDB_ASSIGN_OR_RETURN(operand.value, BindValue(*side, against));
        }
        h.children.push_back(std::move(operand));
      }
      if (h.children[0].kind == HavingExpr::Kind::kRef &&
          h.children[1].kind == HavingExpr::Kind::kRef) {
        const Ref a = h.children[0].ref, b = h.children[1].ref;
        if (DomainOf(RefType(a)) != DomainOf(RefType(b))) {
          return InvalidArgument(At(e.pos) + "cannot compare " + RefText(a) + " (" +
                                 std::string(DomainName(DomainOf(RefType(a)))) + ") with " +
                                 RefText(b) + " (" + std::string(DomainName(DomainOf(RefType(b)))) +
                                 ")");
        }
      }
      return h;
    }
    case Expr::Kind::kIn: {
      h.kind = HavingExpr::Kind::kIn;
      HavingExpr operand;
      operand.kind = HavingExpr::Kind::kRef;
      ORMDB_ASSIGN_OR_RETURN(operand.ref, HavingRef(*e.children[0]));
      for (const Json& el : e.list) {
        std::string param;
        const Json* v = &el;
        if (el.is_object()) {
          param = el.Find("$param")->as_string();
          ORMDB_ASSIGN_OR_RETURN(v, Param(param, e.pos));
        }
        ORMDB_ASSIGN_OR_RETURN(Value bound, BindJson(*v, e.pos, param, operand.ref));
        h.list.push_back(std::move(bound));
      }
      h.children.push_back(std::move(operand));
      return h;
    }
    case Expr::Kind::kLike: {
      h.kind = HavingExpr::Kind::kLike;
      HavingExpr operand;
      operand.kind = HavingExpr::Kind::kRef;
      ORMDB_ASSIGN_OR_RETURN(operand.ref, HavingRef(*e.children[0]));
      if (DomainOf(RefType(operand.ref)) != Domain::kString) {
        return InvalidArgument(At(e.pos) + "like needs a string: " + RefText(operand.ref) + " is " +
                               std::string(DomainName(DomainOf(RefType(operand.ref)))));
      }
      const Expr& pattern = *e.children[1];
      std::string text;
      if (pattern.kind == Expr::Kind::kParam) {
        ORMDB_ASSIGN_OR_RETURN(const Json* v, Param(pattern.name, pattern.pos));
        if (!v->is_string()) {
          return InvalidArgument(At(pattern.pos) + "parameter $" + pattern.name +
                                 ": a like pattern must be a string");
        }
        text = v->as_string();
        if (LikePattern::EndsInLoneEscape(text)) {
          return InvalidArgument(At(pattern.pos) + "parameter $" + pattern.name + ": " +
                                 std::string(parse_rules::kLoneEscapeMessage));
        }
      } else {
        text = pattern.literal.as_string();
      }
      h.pattern = std::make_shared<LikePattern>(text);
      h.children.push_back(std::move(operand));
      return h;
    }
    case Expr::Kind::kIsNull: {
      h.kind = HavingExpr::Kind::kIsNull;
      HavingExpr operand;
      operand.kind = HavingExpr::Kind::kRef;
      ORMDB_ASSIGN_OR_RETURN(operand.ref, HavingRef(*e.children[0]));
      h.children.push_back(std::move(operand));
      return h;
    }
    default:
      return InvalidArgument(At(e.pos) + "expected a condition");
  }
}

Result<std::unique_ptr<Plan>> SelectCompiler::Run(std::string_view text,
                                                  std::string_view params_json) {
  ORMDB_ASSIGN_OR_RETURN(q_, ParseSelectText(text));
  if (!params_json.empty()) {
    auto parsed = ParseJson(params_json);
    if (!parsed.ok()) return InvalidArgument("parameters: " + parsed.status().message());
    if (!parsed->is_object()) return InvalidArgument("parameters must be a JSON object");
    params_ = std::move(*parsed);
  }
  plan_ = std::make_unique<Plan>();
  Plan& p = *plan_;
  p.entity = q_.entity;
  p.secret = secret_;
  p.limit = q_.limit;
  p.after = q_.after;

  // Budgets: the database's, lowered by the options.
  const FetchBudget& db = fetch_.budget();
  auto lower = [](std::string_view name, const std::optional<uint64_t>& asked, uint64_t limit,
                  uint64_t* out) -> Status {
    *out = limit;
    if (!asked) return Status::Ok();
    if (*asked > limit) {
      return InvalidArgument("budget " + std::string(name) + " " + std::to_string(*asked) +
                             " is above the database's limit of " + std::to_string(limit) +
                             ": a select may only lower its budget");
    }
    *out = *asked;
    return Status::Ok();
  };
  ORMDB_RETURN_IF_ERROR(
      lower("scanned rows", options_.max_scanned_rows, db.max_scanned_rows, &p.max_scanned_rows));
  ORMDB_RETURN_IF_ERROR(lower("rows", options_.max_rows, db.max_entities, &p.max_rows));

  // Items, then whether the select groups.
  for (const SelectItem& item : q_.items) {
    p.names.push_back(item.name());
    if (item.term.is_aggregate) {
      p.grouped = true;
      p.items.push_back(Ref{true, AddAggregate(item.term)});
    } else {
      p.items.push_back(Ref{false, AddColumn(item.term.path, item.term.pos)});
    }
  }
  for (const SelectOrderKey& key : q_.order) p.grouped |= key.term.is_aggregate;
  if (!q_.group_by.empty()) p.grouped = true;
  if (q_.having) {
    ORMDB_RETURN_IF_ERROR(CollectHaving(*q_.having));
    p.grouped |= !p.aggregates.empty();
    if (!p.grouped) {
      return InvalidArgument(At(q_.having->pos) +
                             "having filters groups: the select needs group by or an aggregate "
                             "(filter rows with where)");
    }
    p.has_having = true;
    p.having_text = parse_rules::ExprToText(*q_.having);
  }
  for (const SelectTerm& term : q_.group_by) {
    if (int item = ItemByAlias(term.path); item >= 0) {
      if (p.items[item].aggregate) {
        return InvalidArgument(At(term.pos) + "cannot group by '" + term.text +
                               "': it names an aggregate");
      }
      p.group_columns.push_back(p.items[item].index);
    } else {
      p.group_columns.push_back(AddColumn(term.path, term.pos));
    }
    NoteComputed(p.group_columns.back(), term.pos, true);
  }
  for (size_t i = 0; i < q_.items.size(); ++i) {
    ORMDB_RETURN_IF_ERROR(
        CheckGrouped(p.items[i], q_.items[i].term.pos, q_.items[i].term.text, "item"));
  }
  for (const SelectOrderKey& key : q_.order) {
    ORMDB_ASSIGN_OR_RETURN(Ref ref, TermRef(key.term, "order by"));
    ORMDB_RETURN_IF_ERROR(CheckGrouped(ref, key.term.pos, key.term.text, "order by"));
    p.order.push_back(
        OrderKey{ref, key.descending, key.term.text + (key.descending ? " desc" : " asc")});
  }

  // The fetch that reads the rows.
  FetchQuery fq;
  fq.root.name = q_.entity;
  fq.root.pos = q_.entity_pos;
  PathTrie trie;
  for (const Column& c : p.columns) {
    PathTrie* t = &trie;
    for (const std::string& name : c.path) {
      t = &t->children[name];
      if (t->pos.line == 0) t->pos = c.pos;
    }
    t->leaf = true;
  }
  // A select of aggregates over the rows alone reads no field.
  if (trie.children.empty()) trie.children["id"].pos = q_.entity_pos;
  ORMDB_RETURN_IF_ERROR(AddToSelection(trie, &fq.root));
  std::vector<std::string> where_params;
  if (q_.where) {
    p.where_text = parse_rules::ExprToText(*q_.where);
    ParamsOf(*q_.where, &where_params);
    fq.root.where = std::move(q_.where);
  }
  Json fetch_params = Json::Object();
  for (const std::string& name : where_params) {
    if (const Json* v = params_.Find(name)) fetch_params.Set(name, *v);
    used_params_.push_back(name);
  }

  // The snapshot: the cursor's, or as_of, or the current version. A cursor
  // pushed down to the fetch is checked there.
  std::optional<uint64_t> as_of = options_.as_of;
  if (q_.after) {
    ORMDB_ASSIGN_OR_RETURN(Version v, PeekCursorVersion(secret_, *q_.after));
    if (as_of && *as_of != v) {
      return InvalidArgument("invalid cursor: it reads version " + std::to_string(v) +
                             " but as_of asks for " + std::to_string(*as_of));
    }
    as_of = v;
  }
  FetchBudget budget = db;
  budget.max_entities = p.max_scanned_rows;
  budget.max_edges = p.max_scanned_rows;
  budget.max_bytes = std::max<uint64_t>(db.max_bytes, uint64_t{1} << 40);  // rows bound it
  budget.max_scanned_rows = p.max_scanned_rows;
  budget.on_exceed = OnExceed::kError;
  ORMDB_ASSIGN_OR_RETURN(
      p.fetch, fetch_.PrepareParsed(std::move(fq), fetch_params, as_of, budget, principal_));

  for (Column& c : p.columns) ORMDB_RETURN_IF_ERROR(Locate(&c));
  ORMDB_ASSIGN_OR_RETURN(read_policy_, fetch_.ReadPolicyFor(p.fetch.plan->schema, principal_));
  ORMDB_RETURN_IF_ERROR(CheckComputed());
  ORMDB_RETURN_IF_ERROR(TypeAggregates());
  if (q_.having) {
    ORMDB_ASSIGN_OR_RETURN(p.having, BindHaving(*q_.having));
  }
  for (const auto& [name, value] : params_.as_object()) {
    if (std::find(used_params_.begin(), used_params_.end(), name) == used_params_.end()) {
      return InvalidArgument("parameter $" + name + " is not used by the query");
    }
  }

  // Rows straight from the fetch: hand it the order, limit and cursor too.
  if (!p.grouped && p.many_node < 0 && (!p.order.empty() || p.limit || p.after)) {
    // The fetch's query was built above and handed to PrepareParsed, which
    // made it a non-const object owned by p.fetch alone: take it back.
    std::shared_ptr<const FetchQuery> built = std::move(p.fetch.query);
    if (built.use_count() != 1) return Internal("select: the fetch's query is shared");
    FetchQuery pushed = std::move(const_cast<FetchQuery&>(*built));
    for (size_t i = 0; i < p.order.size(); ++i) {
      query::OrderKey key;
      key.path = p.columns[p.order[i].ref.index].path;
      key.descending = p.order[i].descending;
      key.pos = p.columns[p.order[i].ref.index].pos;
      pushed.root.order.push_back(std::move(key));
    }
    pushed.root.limit = p.limit;
    pushed.root.after = p.after;
    ORMDB_ASSIGN_OR_RETURN(
        p.fetch, fetch_.PrepareParsed(std::move(pushed), fetch_params, as_of, budget, principal_));
    for (Column& c : p.columns) {
      c.nodes.clear();
      c.item = -1;
      ORMDB_RETURN_IF_ERROR(Locate(&c));
    }
    p.pushdown = true;
  }

  // A grouped select over the root's own fields streams its rows.
  {
    const query::Plan& fp = *p.fetch.plan;
    const query::Node& root = fp.nodes[0];
    auto own = [&](const Column& c) {
      if (!c.nodes.empty()) return false;
      if (c.is_id && (c.item < 0 || root.items[c.item].kind == OutputItem::Kind::kId)) {
        return !root.entity->uuid_id;
      }
      if (c.item < 0 || root.items[c.item].kind != OutputItem::Kind::kField) return false;
      const catalog::FieldInfo& f = root.entity->fields[root.items[c.item].field];
      return f.type != catalog::FieldType::kRef || !fp.schema->EntityById(f.ref_target)->uuid_id;
    };
    p.streamed = p.grouped && p.many_node < 0 && fp.nodes.size() == 1 && fp.aggregates.empty() &&
                 fp.masks.empty() && std::all_of(p.columns.begin(), p.columns.end(), own);
    if (p.streamed) ChooseMaintained(root);
  }

  // What a cursor of this select is bound to.
  std::string shape = "select\n" + p.entity + "\n" + p.many_path + "\n";
  for (int g : p.group_columns) shape += p.columns[g].text + ",";
  shape += "\n";
  for (const OrderKey& k : p.order) shape += k.text + ",";
  p.cursor_shape = SipHash24("ormdb select", shape);
  return std::move(plan_);
}

}  // namespace

Result<std::unique_ptr<Plan>> Compile(FetchEngine& fetch, std::string_view secret,
                                      std::string_view text, std::string_view params_json,
                                      const SelectOptions& options, const Principal* principal) {
  SelectCompiler compiler(fetch, secret, options, principal);
  return compiler.Run(text, params_json);
}

}  // namespace ormdb::query::select_plan
