// The select executor (query/select_plan.h): runs the fetch, then joins,
// groups, filters, sorts and pages its rows.
#include <algorithm>
#include <chrono>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "common/value_compare.h"
#include "query/cursor.h"
#include "query/select_plan.h"
#include "storage/key_encoding.h"

namespace ormdb::query::select_plan {
namespace {

using Clock = std::chrono::steady_clock;

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// A row of the select before grouping: a root row of the fetch and, when
// the select expands a to-many relation, one of its children (none: the
// root row has no child, and the relation's columns are null).
struct JoinedRow {
  uint32_t root = 0;
  std::optional<uint32_t> child;
};

// Reads the values of the select's columns out of the fetch's blocks.
class RowReader {
 public:
  RowReader(const Plan& plan, const ResultBlocks& blocks) : plan_(plan), b_(blocks) {
    const query::Plan& fp = *blocks.plan;
    for (int n = plan.many_node; n > 0; n = fp.nodes[n].parent) many_chain_.push_back(n);
    std::reverse(many_chain_.begin(), many_chain_.end());
  }

  std::vector<uint32_t> RootRows() const {
    std::vector<uint32_t> out;
    const NodeBlock& root = b_.nodes[0];
    std::optional<uint32_t> slot = root.SlotOf(0);
    if (!slot) return out;
    for (uint32_t k = root.slot_begin[*slot]; k < root.slot_end[*slot]; ++k) {
      out.push_back(root.children[k]);
    }
    return out;
  }

  // Appends the joined rows of one root row.
  void Join(uint32_t root, std::vector<JoinedRow>* out) const {
    if (plan_.many_node < 0) {
      out->push_back(JoinedRow{root, std::nullopt});
      return;
    }
    std::optional<uint32_t> row = root;
    for (size_t i = 0; i + 1 < many_chain_.size() && row; ++i) row = Down(many_chain_[i], *row);
    const NodeBlock& nb = b_.nodes[plan_.many_node];
    size_t before = out->size();
    if (row && nb.processed) {
      if (std::optional<uint32_t> slot = nb.SlotOf(*row)) {
        for (uint32_t k = nb.slot_begin[*slot]; k < nb.slot_end[*slot]; ++k) {
          out->push_back(JoinedRow{root, nb.children[k]});
        }
      }
    }
    if (out->size() == before) out->push_back(JoinedRow{root, std::nullopt});
  }

  Value Cell(int column, const JoinedRow& r) const {
    const Column& c = plan_.columns[column];
    uint32_t row = r.root;
    int node = 0;
    for (int n : c.nodes) {
      if (n == plan_.many_node) {
        if (!r.child) return Value();
        row = *r.child;
      } else {
        std::optional<uint32_t> down = Down(n, row);
        if (!down) return Value();
        row = *down;
      }
      node = n;
    }
    const NodeBlock& nb = b_.nodes[node];
    const EntityBlock& eb = b_.entities[nb.block];
    if (c.is_id) return eb.ids[row];
    const int col = nb.item_columns[c.item];
    return col < 0 ? Value() : eb.values[col][row];
  }

  Value RootId(const JoinedRow& r) const { return b_.entities[b_.nodes[0].block].ids[r.root]; }
  Value ChildId(const JoinedRow& r) const {
    if (!r.child) return Value();
    return b_.entities[b_.nodes[plan_.many_node].block].ids[*r.child];
  }

 private:
  // The row a to-one node reaches from a row of its parent's block.
  std::optional<uint32_t> Down(int node, uint32_t row) const {
    const NodeBlock& nb = b_.nodes[node];
    if (!nb.processed) return std::nullopt;
    std::optional<uint32_t> slot = nb.SlotOf(row);
    if (!slot || nb.slot_begin[*slot] == nb.slot_end[*slot]) return std::nullopt;
    return nb.children[nb.slot_begin[*slot]];
  }

  const Plan& plan_;
  const ResultBlocks& b_;
  std::vector<int> many_chain_;  // fetch nodes from below the root to the to-many node
};

// One aggregate's running state over a group.
struct Accumulator {
  int64_t count = 0;
  __int128 wide_sum = 0;  // sum and avg of integers
  double float_sum = 0;
  Value best;  // min, max
  std::unordered_set<std::string> distinct;
};

struct Group {
  std::vector<Value> key;  // the group by values
  std::vector<Accumulator> acc;
};

Status Accumulate(const AggregateTerm& a, const Value& v, Accumulator* acc) {
  if (a.column >= 0 && v.is_null()) return Status::Ok();  // SQL: nulls are ignored
  switch (a.fn) {
    case Aggregate::Fn::kCount:
      ++acc->count;
      return Status::Ok();
    case Aggregate::Fn::kCountDistinct: {
      std::string key;
      storage::AppendKey(&key, v);
      acc->distinct.insert(std::move(key));
      return Status::Ok();
    }
    case Aggregate::Fn::kSum:
    case Aggregate::Fn::kAvg: {
      ++acc->count;
      if (v.type() == ValueType::kFloat64) {
        acc->float_sum += v.as_float64();
        return Status::Ok();
      }
      // 128 bits hold the sum of far more int64 values than a budget lets
      // a select read, so only the total has to fit.
      acc->wide_sum += v.type() == ValueType::kInt32 ? v.as_int32() : v.as_int64();
      return Status::Ok();
    }
    case Aggregate::Fn::kMin:
    case Aggregate::Fn::kMax: {
      const int c = acc->best.is_null() ? 0 : storage::CompareValues(v, acc->best);
      if (acc->best.is_null() || (a.fn == Aggregate::Fn::kMin ? c < 0 : c > 0)) acc->best = v;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Result<Value> Finish(const AggregateTerm& a, const Accumulator& acc) {
  switch (a.fn) {
    case Aggregate::Fn::kCount:
      return Value::Int64(acc.count);
    case Aggregate::Fn::kCountDistinct:
      return Value::Int64(static_cast<int64_t>(acc.distinct.size()));
    case Aggregate::Fn::kSum:
      if (acc.count == 0) return Value();
      if (a.float_input) return Value::Float64(acc.float_sum);
      if (acc.wide_sum > INT64_MAX || acc.wide_sum < INT64_MIN) {
        return InvalidArgument(a.text + " overflows int64: the sum of the integers is outside " +
                               "-9223372036854775808..9223372036854775807 (narrow the where)");
      }
      return Value::Int64(static_cast<int64_t>(acc.wide_sum));
    case Aggregate::Fn::kAvg:
      if (acc.count == 0) return Value();
      if (a.float_input) return Value::Float64(acc.float_sum / static_cast<double>(acc.count));
      return Value::Float64(static_cast<double>(static_cast<long double>(acc.wide_sum) /
                                                static_cast<long double>(acc.count)));
    case Aggregate::Fn::kMin:
    case Aggregate::Fn::kMax:
      return acc.best;
  }
  return Value();
}

enum class Truth : uint8_t { kFalse, kTrue, kUnknown };

Truth Evaluate(const HavingExpr& h, const std::function<Value(const Ref&)>& get) {
  auto operand = [&](const HavingExpr& o) {
    return o.kind == HavingExpr::Kind::kRef ? get(o.ref) : o.value;
  };
  switch (h.kind) {
    case HavingExpr::Kind::kCompare: {
      const Value a = operand(h.children[0]), b = operand(h.children[1]);
      if (a.is_null() || b.is_null()) return Truth::kUnknown;
      return Satisfies(CompareForPredicate(a, b), h.op) ? Truth::kTrue : Truth::kFalse;
    }
    case HavingExpr::Kind::kIn: {
      const Value v = operand(h.children[0]);
      if (v.is_null()) return Truth::kUnknown;
      bool found = false;
      for (const Value& el : h.list) found |= CompareForPredicate(v, el) == ValueOrder::kEqual;
      return found != h.negated ? Truth::kTrue : Truth::kFalse;
    }
    case HavingExpr::Kind::kLike: {
      const Value v = operand(h.children[0]);
      if (v.is_null()) return Truth::kUnknown;
      return h.pattern->Matches(v.as_string()) ? Truth::kTrue : Truth::kFalse;
    }
    case HavingExpr::Kind::kIsNull:
      return operand(h.children[0]).is_null() != h.negated ? Truth::kTrue : Truth::kFalse;
    case HavingExpr::Kind::kAnd:
    case HavingExpr::Kind::kOr: {
      const bool is_and = h.kind == HavingExpr::Kind::kAnd;
      Truth out = is_and ? Truth::kTrue : Truth::kFalse;
      for (const HavingExpr& c : h.children) {
        const Truth t = Evaluate(c, get);
        if (t == (is_and ? Truth::kFalse : Truth::kTrue)) return t;
        if (t == Truth::kUnknown) out = Truth::kUnknown;
      }
      return out;
    }
    case HavingExpr::Kind::kNot: {
      const Truth t = Evaluate(h.children[0], get);
      if (t == Truth::kUnknown) return t;
      return t == Truth::kTrue ? Truth::kFalse : Truth::kTrue;
    }
    case HavingExpr::Kind::kRef:
    case HavingExpr::Kind::kValue:
      break;
  }
  return Truth::kUnknown;
}

// An output row: the items' values, then the sort key (the order keys'
// values, then the tie-break that makes it unique).
struct OutRow {
  std::vector<Value> items;
  std::vector<Value> sort;
};

Status BudgetRows(const Plan& p, size_t rows) {
  if (rows <= p.max_rows) return Status::Ok();
  return BudgetExceeded("budget exceeded: the select returns " + std::to_string(rows) +
                        " rows, more than its rows limit of " + std::to_string(p.max_rows) +
                        " (add a limit and page with after, or a larger budget)");
}

// Groups rows as they come: the group by values of a row (read by `cell`,
// by column) find its group in a hash table, and its aggregates add to the
// group's accumulators.
class Grouper {
 public:
  explicit Grouper(const Plan& p) : p_(p) {
    if (p.group_columns.empty()) NewGroup({});
  }

  Status Add(const std::function<Value(int column)>& cell) {
    size_t g = 0;
    if (!p_.group_columns.empty()) {
      key_.clear();
      for (int c : p_.group_columns) key_.push_back(cell(c));
      // Rows often come grouped (an index led by the group by fields): a
      // row of the last row's group skips the hash table.
      if (!groups_.empty() && SameKey(groups_[last_].key, key_)) {
        g = last_;
      } else {
        encoded_.clear();
        for (const Value& v : key_) storage::AppendKey(&encoded_, v);
        auto [it, added] = group_of_.try_emplace(encoded_, groups_.size());
        if (added) NewGroup(key_);
        g = last_ = it->second;
      }
    }
    for (size_t a = 0; a < p_.aggregates.size(); ++a) {
      const AggregateTerm& agg = p_.aggregates[a];
      ORMDB_RETURN_IF_ERROR(
          Accumulate(agg, agg.column >= 0 ? cell(agg.column) : Value(), &groups_[g].acc[a]));
    }
    return Status::Ok();
  }

  // A group whose aggregates were computed elsewhere (a @maintain record).
  void AddGroup(std::vector<Value> key, std::vector<Accumulator> acc) {
    groups_.push_back(Group{std::move(key), std::move(acc)});
  }

  // The groups that pass the having, as output rows (items, then the sort
  // key: the order keys and the group by values).
  Result<std::vector<OutRow>> Rows(RunStats* st) const {
    st->groups = groups_.size();
    std::vector<OutRow> rows;
    for (const Group& group : groups_) {
      std::vector<Value> finished;
      for (size_t a = 0; a < p_.aggregates.size(); ++a) {
        ORMDB_ASSIGN_OR_RETURN(Value v, Finish(p_.aggregates[a], group.acc[a]));
        finished.push_back(std::move(v));
      }
      auto get = [&](const Ref& r) -> Value {
        if (r.aggregate) return finished[r.index];
        const auto& gc = p_.group_columns;
        return group.key[std::find(gc.begin(), gc.end(), r.index) - gc.begin()];
      };
      if (p_.has_having && Evaluate(p_.having, get) != Truth::kTrue) continue;
      OutRow r;
      for (const Ref& ref : p_.items) r.items.push_back(get(ref));
      for (const OrderKey& k : p_.order) r.sort.push_back(get(k.ref));
      for (const Value& v : group.key) r.sort.push_back(v);
      rows.push_back(std::move(r));
    }
    st->kept = rows.size();
    return rows;
  }

 private:
  // The same group by values, as the hash table's encoded keys compare them.
  static bool SameKey(const std::vector<Value>& a, const std::vector<Value>& b) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].type() != b[i].type() || storage::CompareValues(a[i], b[i]) != 0) return false;
    }
    return true;
  }

  void NewGroup(std::vector<Value> key) {
    groups_.push_back(Group{std::move(key), std::vector<Accumulator>(p_.aggregates.size())});
  }

  const Plan& p_;
  std::vector<Group> groups_;
  std::unordered_map<std::string, size_t> group_of_;
  size_t last_ = 0;         // the group of the last row
  std::vector<Value> key_;  // scratch
  std::string encoded_;
};

// Sorts the output rows and cuts the page at the cursor and the limit.
// `id_types`: the types of the tie-break ids of ungrouped rows (the root's,
// then the child's when rows expand a to-many relation).
Result<std::shared_ptr<SelectBlock>> Page(const Plan& p, Version version,
                                          const std::vector<ValueType>& id_types,
                                          std::vector<OutRow> rows, RunStats& st,
                                          Clock::time_point start) {
  auto out = std::make_shared<SelectBlock>();
  out->version = version;
  out->columns = p.names;
  out->values.resize(p.items.size());
  // The sort key's layout and directions: the order keys, then the
  // tie-break (the group by values, or the root's and the child's ids).
  std::vector<bool> descending;
  std::vector<ValueType> key_types;
  for (const OrderKey& k : p.order) {
    descending.push_back(k.descending);
    key_types.push_back(k.ref.aggregate ? p.aggregates[k.ref.index].result
                                        : p.columns[k.ref.index].type);
  }
  if (p.grouped) {
    for (int g : p.group_columns) {
      descending.push_back(false);
      key_types.push_back(p.columns[g].type);
    }
  } else {
    for (ValueType t : id_types) {
      descending.push_back(false);
      key_types.push_back(t);
    }
  }
  auto less = [&](const std::vector<Value>& a, const std::vector<Value>& b) {
    for (size_t i = 0; i < a.size(); ++i) {
      int c = storage::CompareValues(a[i], b[i]);
      if (descending[i]) c = -c;
      if (c != 0) return c < 0;
    }
    return false;
  };
  std::sort(rows.begin(), rows.end(),
            [&](const OutRow& a, const OutRow& b) { return less(a.sort, b.sort); });

  // The cursor: the sort key of the last row returned. Its id is the root's
  // id for rows, 0 for groups.
  const bool id_in_key = !p.grouped;
  const size_t id_at = p.order.size();
  auto encode = [&](const std::vector<Value>* key) {
    CursorPosition pos;
    pos.version = version;
    pos.shape = p.cursor_shape;
    pos.start = key == nullptr;
    pos.id = Value::Int64(0);
    if (key != nullptr) {
      pos.key = *key;
      if (id_in_key) {
        pos.id = pos.key[id_at];
        pos.key.erase(pos.key.begin() + static_cast<std::ptrdiff_t>(id_at));
      }
    }
    return EncodeCursor(p.secret, pos);
  };
  size_t first = 0;
  if (p.after) {
    std::vector<ValueType> types = key_types;
    ValueType id_type = ValueType::kInt64;
    if (id_in_key) {
      id_type = types[id_at];
      types.erase(types.begin() + static_cast<std::ptrdiff_t>(id_at));
    }
    ORMDB_ASSIGN_OR_RETURN(CursorPosition pos,
                           DecodeCursor(p.secret, *p.after, true, p.cursor_shape, types, id_type));
    if (!pos.start) {
      std::vector<Value> key = std::move(pos.key);
      if (id_in_key) key.insert(key.begin() + static_cast<std::ptrdiff_t>(id_at), pos.id);
      first = std::upper_bound(
                  rows.begin(), rows.end(), key,
                  [&](const std::vector<Value>& k, const OutRow& r) { return less(k, r.sort); }) -
              rows.begin();
    }
  }
  size_t end = rows.size();
  if (p.limit && static_cast<uint64_t>(*p.limit) < end - first) {
    end = first + static_cast<size_t>(*p.limit);
    if (end == first) {
      out->next = first == 0 ? encode(nullptr) : encode(&rows[first - 1].sort);
    } else {
      out->next = encode(&rows[end - 1].sort);
    }
  }
  ORMDB_RETURN_IF_ERROR(BudgetRows(p, end - first));
  for (size_t i = first; i < end; ++i) {
    for (size_t c = 0; c < rows[i].items.size(); ++c) {
      out->values[c].push_back(std::move(rows[i].items[c]));
    }
    ++out->rows;
  }
  st.returned = out->rows;
  out->scanned = st.scanned;
  st.total_micros = MicrosSince(start);
  return out;
}

}  // namespace

Result<std::shared_ptr<SelectBlock>> Run(FetchEngine& fetch, const Plan& p, RunStats* stats) {
  RunStats local;
  RunStats& st = stats ? *stats : local;
  const auto start = Clock::now();
  auto over_budget = [&] {
    return BudgetExceeded("budget exceeded: the select reads more than " +
                          std::to_string(p.max_scanned_rows) +
                          " rows, its scanned rows limit (a narrower where, or a larger budget)");
  };
  const query::Plan& fp = *p.fetch.plan;

  if (p.maintained != nullptr) {
    // Each group is a parent's record.
    Grouper grouper(p);
    uint64_t read = 0;
    ORMDB_ASSIGN_OR_RETURN(
        bool kept,
        fetch.VisitMaintained(
            p.fetch, *p.maintained,
            [&](RowId parent, const catalog::MaintainedRecord& r) -> Status {
              if (read > p.max_scanned_rows) return over_budget();
              std::vector<Accumulator> acc(p.aggregates.size());
              for (size_t a = 0; a < acc.size(); ++a) {
                const int slot = p.maintained_slots[a];
                const bool rows = slot < 0 || p.aggregates[a].fn == Aggregate::Fn::kCount;
                acc[a].count = slot < 0 ? r.count : r.nonnull[slot];
                if (!rows) acc[a].wide_sum = r.sums[slot];
              }
              grouper.AddGroup({Value::Int64(static_cast<int64_t>(parent))}, std::move(acc));
              return Status::Ok();
            },
            &read));
    if (kept) {
      st.fetch_micros = MicrosSince(start);
      st.scanned = read;
      st.root_rows = st.joined_rows = read;
      ORMDB_ASSIGN_OR_RETURN(std::vector<OutRow> rows, grouper.Rows(&st));
      return Page(p, p.fetch.snapshot, {}, std::move(rows), st, start);
    }
  }

  if (p.streamed) {
    // Grouped straight from the rows the fetch's root reads: no blocks.
    Grouper grouper(p);
    const query::Node& root = fp.nodes[0];
    std::vector<int> field_of(p.columns.size(), -1);  // -1: the row's id
    for (size_t c = 0; c < p.columns.size(); ++c) {
      const Column& col = p.columns[c];
      if (col.item >= 0 && root.items[col.item].kind == OutputItem::Kind::kField) {
        field_of[c] = static_cast<int>(root.items[col.item].field);
      }
    }
    Status visited = fetch.VisitRoots(
        p.fetch, &st.fetch, [&](RowId id, const catalog::DecodedRow& row) -> Status {
          ++st.root_rows;
          return grouper.Add([&](int c) {
            return field_of[c] < 0 ? Value::Int64(static_cast<int64_t>(id))
                                   : row.fields[field_of[c]];
          });
        });
    st.fetch_micros = MicrosSince(start);
    for (const NodeStats& ns : st.fetch) st.scanned += ns.examined;
    if (!visited.ok()) {
      if (visited.code() == ErrorCode::kBudgetExceeded) return over_budget();
      return visited;
    }
    st.joined_rows = st.root_rows;
    ORMDB_ASSIGN_OR_RETURN(std::vector<OutRow> rows, grouper.Rows(&st));
    return Page(p, p.fetch.snapshot, {}, std::move(rows), st, start);
  }

  auto fetched = fetch.Execute(p.fetch, &st.fetch);
  st.fetch_micros = MicrosSince(start);
  if (!fetched.ok()) {
    if (fetched.status().code() != ErrorCode::kBudgetExceeded) return fetched.status();
    return over_budget();
  }
  st.blocks = *fetched;
  const ResultBlocks& b = **fetched;
  for (const NodeStats& ns : st.fetch) st.scanned += ns.examined;
  if (st.scanned > p.max_scanned_rows) {
    return BudgetExceeded("budget exceeded: the select read " + std::to_string(st.scanned) +
                          " rows, more than its scanned rows limit of " +
                          std::to_string(p.max_scanned_rows) +
                          " (a narrower where, or a larger budget)");
  }

  RowReader reader(p, b);
  const std::vector<uint32_t> roots = reader.RootRows();
  st.root_rows = roots.size();

  if (p.pushdown) {
    // The fetch applied the order, the limit and the cursor.
    ORMDB_RETURN_IF_ERROR(BudgetRows(p, roots.size()));
    auto out = std::make_shared<SelectBlock>();
    out->version = b.version;
    out->columns = p.names;
    out->values.resize(p.items.size());
    for (uint32_t root : roots) {
      for (size_t i = 0; i < p.items.size(); ++i) {
        out->values[i].push_back(reader.Cell(p.items[i].index, JoinedRow{root, {}}));
      }
      ++out->rows;
    }
    out->next = b.next;
    st.joined_rows = st.kept = st.returned = roots.size();
    out->scanned = st.scanned;
    st.total_micros = MicrosSince(start);
    return out;
  }

  std::vector<JoinedRow> joined;
  for (uint32_t root : roots) reader.Join(root, &joined);
  st.joined_rows = joined.size();

  std::vector<OutRow> rows;
  if (!p.grouped) {
    for (const JoinedRow& j : joined) {
      OutRow r;
      for (const Ref& ref : p.items) r.items.push_back(reader.Cell(ref.index, j));
      for (const OrderKey& k : p.order) r.sort.push_back(reader.Cell(k.ref.index, j));
      r.sort.push_back(reader.RootId(j));
      if (p.many_node >= 0) r.sort.push_back(reader.ChildId(j));
      rows.push_back(std::move(r));
    }
    st.kept = rows.size();
  } else {
    Grouper grouper(p);
    for (const JoinedRow& j : joined) {
      ORMDB_RETURN_IF_ERROR(grouper.Add([&](int c) { return reader.Cell(c, j); }));
    }
    ORMDB_ASSIGN_OR_RETURN(rows, grouper.Rows(&st));
  }
  auto id_type = [](const query::Node& n) {
    return n.entity->uuid_id ? ValueType::kUuid : ValueType::kInt64;
  };
  std::vector<ValueType> id_types = {id_type(fp.nodes[0])};
  if (p.many_node >= 0) id_types.push_back(id_type(fp.nodes[p.many_node]));
  return Page(p, b.version, id_types, std::move(rows), st, start);
}

}  // namespace ormdb::query::select_plan
