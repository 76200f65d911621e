// The executor's output: entity blocks and their columns, the budgets
// (entities, edges, bytes) counted as rows are admitted, and emitting one
// parent's ordered children with its @next cursor.
#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "query/executor_internal.h"
#include "query/limit_math.h"

namespace ormdb::query::executor_internal {
namespace {

uint64_t ValueBytes(const Value& v) {
  switch (v.type()) {
    case ValueType::kNull:
    case ValueType::kBool:
      return 1;
    case ValueType::kString:
    case ValueType::kBytes:
    case ValueType::kJson:
      return v.as_string().size();
    case ValueType::kUuid:
      return 16;
    default:
      return 8;
  }
}

}  // namespace

const RunLayout& Executor::LayoutOf(const Plan& p) {
  std::call_once(p.run_layout_once, [&p] { p.run_layout = BuildLayout(p); });
  return *p.run_layout;
}

std::shared_ptr<const RunLayout> Executor::BuildLayout(const Plan& p) {
  auto layout = std::make_shared<RunLayout>();
  std::unordered_map<uint32_t, int> block_of;
  for (const Node& n : p.nodes) {
    auto [it, inserted] = block_of.emplace(n.entity->id.value, 0);
    if (inserted) {
      it->second = static_cast<int>(layout->blocks.size());
      layout->blocks.push_back(RunLayout::Block{n.entity, {}, {}, {}});
    }
    RunLayout::Block& b = layout->blocks[it->second];
    layout->node_block.push_back(it->second);
    std::vector<int>& item_columns = layout->item_columns.emplace_back();
    for (const OutputItem& item : n.items) {
      int col = -1;
      if (item.kind == OutputItem::Kind::kField || item.kind == OutputItem::Kind::kVersion) {
        auto f = std::find(b.columns.begin(), b.columns.end(), item.name);
        col = static_cast<int>(f - b.columns.begin());
        if (f == b.columns.end()) {
          b.columns.push_back(item.name);
          b.column_aggregate.push_back(-1);
        }
      } else if (item.kind == OutputItem::Kind::kAggregate) {
        // A column of its own; its name is the item's, made unique within
        // the block when another node's aggregate has taken it.
        std::string name = item.name;
        if (std::find(b.columns.begin(), b.columns.end(), name) != b.columns.end()) {
          name += "@" + n.path;
        }
        col = static_cast<int>(b.columns.size());
        b.columns.push_back(std::move(name));
        b.column_aggregate.push_back(item.aggregate);
      }
      item_columns.push_back(col);
    }
    layout->wanted.push_back(FilterFields(n));
    layout->quick.push_back(MakeQuickPlan(n));
  }
  // Each column's field, found by name once rather than for every row.
  for (RunLayout::Block& b : layout->blocks) {
    for (size_t c = 0; c < b.columns.size(); ++c) {
      int f = kVersionColumn;
      if (b.column_aggregate[c] >= 0) {
        f = kAggregateColumn;
      } else if (b.columns[c] != "_version") {
        f = b.entity->FieldIndex(b.columns[c]);
        if (f < 0) layout->status = Internal("column " + b.columns[c] + " names no field");
      }
      b.column_field.push_back(f);
    }
  }
  for (const AggregatePlan& a : p.aggregates) layout->agg_wanted.push_back(AggregateFields(a));
  for (const auto& [entity, fields] : p.decode_fields) {
    if (layout->decode_fields.size() <= entity.value) {
      layout->decode_fields.resize(entity.value + 1, nullptr);
    }
    layout->decode_fields[entity.value] = &fields;
  }
  return layout;
}

Status Executor::SetUpBlocks() {
  out_->entities.reserve(run_->blocks.size());
  for (const RunLayout::Block& lb : run_->blocks) {
    EntityBlock& b = out_->entities.emplace_back();
    b.entity = lb.entity;
    b.columns = lb.columns;
    b.values.resize(lb.columns.size());
  }
  for (size_t i = 0; i < out_->nodes.size(); ++i) {
    out_->nodes[i].block = run_->node_block[i];
    out_->nodes[i].item_columns = run_->item_columns[i];
  }
  return Status::Ok();
}

std::pair<const Node*, const CExpr*> Executor::ColumnMask(const EntityBlock& b, size_t c) const {
  if (plan_->masks.empty()) return {nullptr, nullptr};
  int f = b.entity->FieldIndex(b.columns[c]);
  if (f < 0) return {nullptr, nullptr};
  for (const EntityMasks& m : plan_->masks) {
    if (m.entity != b.entity->id) continue;
    for (const auto& [field, cond] : m.fields) {
      if (field == static_cast<size_t>(f)) return {&m.node, &cond};
    }
  }
  return {nullptr, nullptr};
}

Result<Value> Executor::ColumnValue(const EntityBlock& b, size_t c, const RowData& row) {
  const int f = run_->blocks[&b - out_->entities.data()].column_field[c];
  if (f == kVersionColumn) return Value::Int64(static_cast<int64_t>(row.version));
  const catalog::FieldInfo& fi = b.entity->fields[f];
  const Value& v = row.row.fields[f];
  if (fi.type == FieldType::kRef && !v.is_null()) {
    const EntityInfo* target = plan_->schema->EntityById(fi.ref_target);
    if (target->uuid_id) {
      ORMDB_ASSIGN_OR_RETURN(const RowData* t, GetRow(*target, static_cast<RowId>(v.as_int64())));
      return t ? t->row.uuid : Value();
    }
  }
  return v;
}

uint64_t Executor::RowBytes(const EntityBlock& b, const RowData& row) {
  uint64_t n = b.entity->uuid_id ? 16 : 8;
  for (const int f : run_->blocks[&b - out_->entities.data()].column_field) {
    if (f < 0) {  // _version or an aggregate: 8 bytes
      n += 8;
      continue;
    }
    const catalog::FieldInfo& fi = b.entity->fields[f];
    const Value& v = row.row.fields[f];
    if (fi.type == FieldType::kRef && !v.is_null()) {
      n += plan_->schema->EntityById(fi.ref_target)->uuid_id ? 16 : 8;
    } else {
      n += ValueBytes(v);
    }
  }
  return n;
}

void Executor::MarkTruncated(const std::string& path) {
  if (!out_->counters.truncated) {
    out_->counters.truncated = true;
    out_->counters.truncated_at = path;
  }
}

Result<bool> Executor::Admit(int idx, const Candidate& c, uint64_t occ, bool is_edge,
                             uint32_t* row_out) {
  const Node& n = plan_->nodes[idx];
  NodeBlock& nb = out_->nodes[idx];
  EntityBlock& b = out_->entities[nb.block];
  // The counters after this row (not a copy of FetchCounters: its
  // truncated_at is a string).
  struct {
    uint64_t entities, edges, bytes;
  } next{out_->counters.entities, out_->counters.edges, out_->counters.bytes};
  const uint32_t* known = b.row_of.Find(0, c.id);
  if (known == nullptr) {
    next.entities += 1;
    next.bytes += RowBytes(b, *c.row);
  }
  if (is_edge) next.edges = SaturatingAdd(next.edges, occ);
  const FetchBudget& bud = opt_.budget;
  const char* what = nullptr;
  uint64_t count = 0, limit = 0;
  if (next.entities > bud.max_entities) {
    what = "entities", count = next.entities, limit = bud.max_entities;
  } else if (next.edges > bud.max_edges) {
    what = "edges", count = next.edges, limit = bud.max_edges;
  } else if (next.bytes > bud.max_bytes) {
    what = "bytes", count = next.bytes, limit = bud.max_bytes;
  }
  if (what != nullptr) {
    if (bud.on_exceed == OnExceed::kError) {
      return BudgetExceeded("budget exceeded: " + std::to_string(count) + " " + what +
                            " is over the limit of " + std::to_string(limit) + " at " + n.path);
    }
    MarkTruncated(n.path);
    stopped_ = true;
    return false;
  }
  out_->counters.entities = next.entities;
  out_->counters.edges = next.edges;
  out_->counters.bytes = next.bytes;
  if (known == nullptr) {
    uint32_t row = static_cast<uint32_t>(b.rows.size());
    b.rows.push_back(c.id);
    b.ids.push_back(c.ext_id);
    b.row_of.Emplace(0, c.id, row);
    lists_.block_rows.push_back({nb.block, c.row});
    *row_out = row;
  } else {
    *row_out = *known;
  }
  return true;
}

Status Executor::FillColumns() {
  std::vector<const RowData*> data;  // one block's rows, in order
  data.reserve(lists_.block_rows.size());
  for (size_t b = 0; b < out_->entities.size(); ++b) {
    EntityBlock& eb = out_->entities[b];
    data.clear();
    for (const auto& [block, row] : lists_.block_rows) {
      if (block == static_cast<int>(b)) data.push_back(row);
    }
    for (size_t c = 0; c < eb.columns.size(); ++c) {
      eb.values[c].reserve(data.size());
      if (const int a = run_->blocks[b].column_aggregate[c]; a >= 0) {
        // Computed for the holder's rows; null for rows of the block that
        // only other nodes hold (they do not render it).
        const auto& values = agg_values_[a];
        for (RowId id : eb.rows) {
          auto it = values.find(id);
          eb.values[c].push_back(it == values.end() ? Value() : it->second);
        }
        continue;
      }
      const std::pair<const Node*, const CExpr*> mask = ColumnMask(eb, c);
      // Without masks no column reads another's field, and this is the
      // rows' last use: a plain field's value moves into the block.
      const int f = run_->blocks[b].column_field[c];
      if (plan_->masks.empty() && f >= 0 && eb.entity->fields[f].type != FieldType::kRef) {
        for (const RowData* row : data) {
          eb.values[c].push_back(std::move(const_cast<RowData*>(row)->row.fields[f]));
        }
        continue;
      }
      for (size_t r = 0; r < data.size(); ++r) {
        const RowData* row = data[r];
        if (mask.second != nullptr) {
          ORMDB_ASSIGN_OR_RETURN(Tri t, Eval(*mask.first, *mask.second, eb.rows[r], *row));
          if (t != Tri::kTrue) {
            eb.values[c].push_back(Value());
            continue;
          }
        }
        ORMDB_ASSIGN_OR_RETURN(Value v, ColumnValue(eb, c, *row));
        eb.values[c].push_back(std::move(v));
      }
    }
  }
  return Status::Ok();
}

size_t Executor::ChildrenToEmit(int idx, const std::vector<std::vector<Candidate>>& lists) const {
  const int64_t limit = Limit(plan_->nodes[idx]);
  size_t children = 0;
  for (const std::vector<Candidate>& list : lists) {
    children += limit >= 0 ? std::min(list.size(), static_cast<size_t>(limit)) : list.size();
  }
  return children;
}

void Executor::ReserveOutput(int idx, size_t parents, size_t parent_rows, size_t children) {
  NodeBlock& nb = out_->nodes[idx];
  // Every parent row has its entry (0: no slot), so SetSlot never grows it.
  if (nb.slot_of_row.size() < parent_rows) nb.slot_of_row.resize(parent_rows, 0);
  for (auto* v : {&nb.slot_parent, &nb.slot_begin, &nb.slot_end}) v->reserve(v->size() + parents);
  nb.slot_partial.reserve(nb.slot_partial.size() + parents);
  nb.slot_next.reserve(nb.slot_next.size() + parents);
  nb.children.reserve(nb.children.size() + children);
  lists_.dist_rows[idx].reserve(lists_.dist_rows[idx].size() + children);
  lists_.dist_occ[idx].reserve(lists_.dist_occ[idx].size() + children);
  EntityBlock& b = out_->entities[nb.block];
  b.rows.reserve(b.rows.size() + children);
  b.row_of.Reserve(b.rows.size() + children);
  b.ids.reserve(b.ids.size() + children);
  lists_.block_rows.reserve(lists_.block_rows.size() + children);
  lists_.dist_of_row[idx].reserve(b.rows.size() + children);
}

Status Executor::Emit(int idx, uint32_t parent_row, RowId parent_id, uint64_t occ,
                      std::vector<Candidate>& list, const std::optional<CursorPosition>& cursor) {
  const Node& n = plan_->nodes[idx];
  NodeBlock& nb = out_->nodes[idx];
  int64_t limit = Limit(n);
  bool more = limit >= 0 && static_cast<int64_t>(list.size()) > limit;
  size_t take = more ? static_cast<size_t>(limit) : list.size();
  uint32_t slot = static_cast<uint32_t>(nb.slot_begin.size());
  nb.SetSlot(parent_row, slot);
  nb.slot_parent.push_back(parent_row);
  nb.slot_begin.push_back(static_cast<uint32_t>(nb.children.size()));
  nb.slot_partial.push_back(0);
  bool is_root = n.kind == Node::Kind::kRoot;
  const Candidate* last = nullptr;
  size_t added = 0;
  for (size_t i = 0; i < take; ++i) {
    uint32_t row = 0;
    ORMDB_ASSIGN_OR_RETURN(bool ok, Admit(idx, list[i], occ, !is_root, &row));
    if (!ok) {
      nb.slot_partial.back() = 1;
      more = true;
      break;
    }
    nb.children.push_back(row);
    last = &list[i];
    ++added;
    if (stats_) ++(*stats_)[idx].rows;
    if (!is_root) {
      // The block's rows are dense: the node's distinct rows are found by
      // row number.
      std::vector<uint32_t>& dist_of = lists_.dist_of_row[idx];
      if (row >= dist_of.size()) {
        // Up to what ReserveOutput made room for, so that the rows that
        // follow find their entry without growing it again.
        dist_of.resize(std::max(out_->entities[nb.block].rows.size(), dist_of.capacity()), 0);
      }
      if (dist_of[row] == 0) {
        lists_.dist_rows[idx].push_back(row);
        lists_.dist_occ[idx].push_back(occ);
        dist_of[row] = static_cast<uint32_t>(lists_.dist_rows[idx].size());
      } else {
        uint64_t& o = lists_.dist_occ[idx][dist_of[row] - 1];
        o = SaturatingAdd(o, occ);
      }
    } else {
      lists_.dist_rows[idx].push_back(row);
      lists_.dist_occ[idx].push_back(1);
    }
  }
  nb.slot_end.push_back(static_cast<uint32_t>(nb.children.size()));
  std::optional<std::string> next;
  if (more && (limit >= 0 || nb.slot_partial.back())) {
    const std::optional<CursorPosition>& from =
        cursor && (is_root || cursor->parent == parent_id) ? cursor : std::nullopt;
    next = CursorAfter(n, parent_id, last, from);
  }
  if (is_root) {
    out_->next = next;
  }
  nb.slot_next.push_back(limit >= 0 || nb.slot_partial.back() ? next : std::nullopt);
  (void)added;
  return Status::Ok();
}

}  // namespace ormdb::query::executor_internal
